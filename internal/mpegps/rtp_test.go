package mpegps

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/pion/rtp"
)

// recorder is a Sink that keeps what it is given.
type recorder struct {
	data []byte
	gaps int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.data = append(r.data, p...)
	return len(p), nil
}
func (r *recorder) Discontinuity() { r.gaps++ }

func TestDepacketizer(t *testing.T) {
	pkt := func(seq uint16, ssrc uint32, payload string) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: PayloadType, SequenceNumber: seq, SSRC: ssrc},
			Payload: []byte(payload)}
	}
	cases := []struct {
		name     string
		pkts     []*rtp.Packet
		wantData string
		wantGaps int
		want     DepacketizerStats
	}{
		{"in order across the sequence wrap", []*rtp.Packet{pkt(65534, 1, "a"), pkt(65535, 1, "b"), pkt(0, 1, "c")},
			"abc", 0, DepacketizerStats{Packets: 3}},
		{"a gap is told", []*rtp.Packet{pkt(10, 1, "a"), pkt(13, 1, "d")}, "ad", 1, DepacketizerStats{Packets: 2, Lost: 2}},
		{"late and duplicate packets dropped", []*rtp.Packet{pkt(10, 1, "a"), pkt(11, 1, "b"), pkt(10, 1, "a"), pkt(11, 1, "b"), pkt(12, 1, "c")},
			"abc", 0, DepacketizerStats{Packets: 3, Late: 2}},
		{"ssrc 0 is a stream like any", []*rtp.Packet{pkt(1, 0, "a"), pkt(2, 0, "b")}, "ab", 0, DepacketizerStats{Packets: 2}},
		{"a new ssrc restarts", []*rtp.Packet{pkt(1, 5, "a"), pkt(900, 6, "b"), pkt(901, 6, "c")}, "abc", 1,
			DepacketizerStats{Packets: 3, Resets: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			d := NewDepacketizer(&r)
			for _, p := range tc.pkts {
				if err := d.Push(p); err != nil {
					t.Fatal(err)
				}
			}
			if string(r.data) != tc.wantData || r.gaps != tc.wantGaps || d.Stats() != tc.want {
				t.Errorf("Push(...) gave %q, %d gaps, %+v; want %q, %d gaps, %+v", r.data, r.gaps, d.Stats(), tc.wantData, tc.wantGaps, tc.want)
			}
		})
	}
	t.Run("not rtp", func(t *testing.T) {
		d := NewDepacketizer(&recorder{})
		if err := d.PushRaw([]byte{0x80}); err == nil {
			t.Errorf("PushRaw(1 byte) = nil; want an error")
		}
	})
}

// TestRTPPath muxes access units, packetizes them, loses one packet, and demuxes: every
// access unit but the ones the loss touches comes through.
func TestRTPPath(t *testing.T) {
	video := testVideo(CodecH264, 30, 10, 5000, 0, false)
	m := NewMuxer(MuxerConfig{Video: CodecH264})
	p := NewPacketizer(0x1234, 1400, 65500)
	var pkts []*rtp.Packet
	for _, au := range video {
		ps, err := m.AppendVideo(nil, au)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Packetize(ps, uint32(au.PTS))
		if !got[len(got)-1].Marker || got[0].Timestamp != uint32(au.PTS) {
			t.Fatalf("Packetize: marker %v, timestamp %d; want the marker on the last, timestamp %d", got[len(got)-1].Marker, got[0].Timestamp, au.PTS)
		}
		pkts = append(pkts, got...)
	}
	for _, lost := range []int{-1, len(pkts) / 2} {
		var aus []*AccessUnit
		d := New(Config{}, func(au *AccessUnit) error { aus = append(aus, au); return nil })
		dp := NewDepacketizer(d)
		for i, pkt := range pkts {
			if i == lost {
				continue
			}
			b, err := pkt.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := dp.PushRaw(b); err != nil {
				t.Fatal(err)
			}
		}
		d.Flush()
		if lost < 0 {
			sameUnits(t, aus, video)
			continue
		}
		if dp.Stats().Lost != 1 {
			t.Errorf("Stats().Lost = %d; want 1", dp.Stats().Lost)
		}
		// At most the unit hit and the one before it (not known to be complete) are lost.
		if len(aus) < len(video)-2 {
			t.Errorf("%d access units after one lost packet; want at least %d", len(aus), len(video)-2)
		}
		byPTS := map[int64]*AccessUnit{}
		for _, au := range video {
			byPTS[au.PTS] = au
		}
		for _, au := range aus {
			sameUnits(t, []*AccessUnit{au}, []*AccessUnit{byPTS[au.PTS]})
		}
	}
}

func TestRFC4571(t *testing.T) {
	frames := [][]byte{[]byte("one"), {}, bytes.Repeat([]byte{7}, 0xFFFF), []byte("last")}
	a, b := net.Pipe()
	go func() {
		w := NewFrameWriter(a)
		for _, f := range frames {
			if err := w.WriteFrame(f); err != nil {
				break
			}
		}
		a.Close()
	}()
	r := NewFrameReader(b)
	for i, want := range frames {
		got, err := r.ReadFrame()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFrame() %d = %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
	}
	if _, err := r.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Errorf("ReadFrame() at the end = %v; want io.EOF", err)
	}
	if _, err := NewFrameReader(bytes.NewReader([]byte{0, 5, 1, 2})).ReadFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadFrame() of a cut frame = %v; want io.ErrUnexpectedEOF", err)
	}
	if err := NewFrameWriter(io.Discard).WriteFrame(make([]byte, 0x10000)); err == nil {
		t.Errorf("WriteFrame(65536 bytes) = nil; want an error")
	}
}
