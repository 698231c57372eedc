//go:build unix

package mpegps

import (
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/rtp"
)

// benchVideo is 20 s of a 2 Mbit/s, 25 fps H.264 stream: a 100 KB keyframe every 2 s and 8 KB
// P-frames, the slice bytes random with emulation prevention, as an encoder's look to a scanner.
func benchVideo() []*AccessUnit {
	r := rand.New(rand.NewPCG(1, 2))
	slice := func(hdr byte, n int) []byte {
		b := []byte{hdr, 0x88}
		zeros := 0
		for range n {
			c := byte(r.UintN(256))
			if zeros >= 2 && c <= 3 {
				b, zeros = append(b, 3), 0
			}
			b = append(b, c)
			if c == 0 {
				zeros++
			} else {
				zeros = 0
			}
		}
		return append(b, 0x80)
	}
	var aus []*AccessUnit
	for i := range 500 {
		au := &AccessUnit{PTS: int64(i) * 3600, DTS: int64(i) * 3600, Keyframe: i%50 == 0}
		if au.Keyframe {
			au.NALUs = [][]byte{{0x67, 0x64, 0x00, 0x28, 0xAC}, {0x68, 0xEE, 0x3C, 0x80}, slice(0x65, 100_000)}
		} else {
			au.NALUs = [][]byte{slice(0x41, 8_000)}
		}
		aus = append(aus, au)
	}
	return aus
}

func esBytes(aus []*AccessUnit) int64 {
	var n int64
	for _, au := range aus {
		for _, u := range au.NALUs {
			n += int64(len(u))
		}
	}
	return n
}

// BenchmarkReceive compares receiving the same access units over the two paths a camera's
// video takes: GB/T 28181 (RTP → PS → access units, this package) and RTSP (RTP → H.264
// access units, gortsplib's depacketizer). Both start from marshalled RTP packets; MB/s is of
// the H.264 bytes, ns/frame the cost of one access unit.
func BenchmarkReceive(b *testing.B) {
	aus := benchVideo()
	b.Run("ps", func(b *testing.B) {
		m := NewMuxer(MuxerConfig{Video: CodecH264})
		p := NewPacketizer(1, 1400, 0)
		var pkts [][]byte
		for _, au := range aus {
			ps, err := m.AppendVideo(nil, au)
			if err != nil {
				b.Fatal(err)
			}
			for _, pkt := range p.Packetize(ps, uint32(au.PTS)) {
				raw, err := pkt.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				pkts = append(pkts, raw)
			}
		}
		b.SetBytes(esBytes(aus))
		b.ReportAllocs()
		frames := 0
		cpu0 := cpu()
		for b.Loop() {
			d := New(Config{}, func(*AccessUnit) error { frames++; return nil })
			dp := NewDepacketizer(d)
			for _, raw := range pkts {
				if err := dp.PushRaw(raw); err != nil {
					b.Fatal(err)
				}
			}
			d.Flush()
		}
		if frames != b.N*len(aus) {
			b.Fatalf("%d frames in %d runs; want %d each", frames, b.N, len(aus))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
		b.ReportMetric(float64(cpu().Nanoseconds()-cpu0.Nanoseconds())/float64(frames), "cpu-ns/frame")
	})
	b.Run("rtsp", func(b *testing.B) {
		e := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: 1400}
		if err := e.Init(); err != nil {
			b.Fatal(err)
		}
		var pkts [][]byte
		for _, au := range aus {
			ps, err := e.Encode(au.NALUs)
			if err != nil {
				b.Fatal(err)
			}
			for _, pkt := range ps {
				pkt.Timestamp = uint32(au.PTS)
				raw, err := pkt.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				pkts = append(pkts, raw)
			}
		}
		b.SetBytes(esBytes(aus))
		b.ReportAllocs()
		frames := 0
		cpu0 := cpu()
		for b.Loop() {
			d := &rtph264.Decoder{PacketizationMode: 1}
			if err := d.Init(); err != nil {
				b.Fatal(err)
			}
			for _, raw := range pkts {
				pkt, err := unmarshal(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Decode(pkt); err == nil {
					frames++
				} else if !errors.Is(err, rtph264.ErrMorePacketsNeeded) {
					b.Fatal(err)
				}
			}
		}
		if frames != b.N*len(aus) {
			b.Fatalf("%d frames in %d runs; want %d each", frames, b.N, len(aus))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
		b.ReportMetric(float64(cpu().Nanoseconds()-cpu0.Nanoseconds())/float64(frames), "cpu-ns/frame")
	})
}

func unmarshal(b []byte) (*rtp.Packet, error) {
	var p rtp.Packet
	return &p, p.Unmarshal(b)
}

// BenchmarkDemux is the demuxer alone, over the program stream in 1400-byte pieces; MB/s is
// of the PS bytes.
func BenchmarkDemux(b *testing.B) {
	aus := benchVideo()
	m := NewMuxer(MuxerConfig{Video: CodecH264})
	var ps []byte
	for _, au := range aus {
		var err error
		if ps, err = m.AppendVideo(ps, au); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(ps)))
	b.ReportAllocs()
	for b.Loop() {
		d := New(Config{}, func(*AccessUnit) error { return nil })
		for p := ps; len(p) > 0; {
			n := min(len(p), 1400)
			d.Write(p[:n])
			p = p[n:]
		}
		d.Flush()
	}
}

// cpu is the process's CPU time so far: on a machine shared with other work the wall time
// per frame measures the neighbours too, the CPU time (GC included) only this.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
