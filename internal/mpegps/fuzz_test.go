package mpegps

import "testing"

// FuzzDemux feeds arbitrary bytes, in pieces and with gaps the first byte chooses, to the
// demuxer: it must not panic, must keep its buffers bounded, and must emit only sane units.
func FuzzDemux(f *testing.F) {
	f.Add([]byte{0x00})
	const maxAU = 256 << 10
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		chunk, gapEvery := 1+int(b[0]&0x3F)*23, int(b[0]>>6)
		b = b[1:]
		d := New(Config{MaxAccessUnit: maxAU}, func(au *AccessUnit) error {
			if au.Codec.IsVideo() {
				if len(au.NALUs) == 0 {
					t.Errorf("video access unit without NAL units")
				}
				for _, n := range au.NALUs {
					if len(n) == 0 {
						t.Errorf("empty NAL unit")
					}
				}
			} else if len(au.Data) == 0 && au.Codec != CodecAAC {
				t.Errorf("empty %v access unit", au.Codec)
			}
			return nil
		})
		for i := 0; len(b) > 0; i++ {
			n := min(chunk, len(b))
			if _, err := d.Write(b[:n]); err != nil {
				t.Fatalf("Write: %v", err)
			}
			b = b[n:]
			if gapEvery > 0 && i%(gapEvery*3) == 2 {
				d.Discontinuity()
			}
			if len(d.buf) > maxPacket {
				t.Fatalf("demuxer holds %d bytes of an incomplete packet; want at most %d", len(d.buf), maxPacket)
			}
			for _, s := range d.streams {
				if s != nil && (len(s.es) > 2*maxAU+maxPacket || len(s.marks) > maxMarks) {
					t.Fatalf("stream %#x holds %d bytes, %d marks", s.id, len(s.es), len(s.marks))
				}
			}
		}
		if err := d.Flush(); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	})
}
