package mpegps

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// nal returns a NAL unit with the given header bytes and n payload bytes that contain no zero,
// so no start code can appear inside it.
func nal(r *rand.Rand, n int, hdr ...byte) []byte {
	b := append([]byte(nil), hdr...)
	for range n {
		b = append(b, byte(1+r.IntN(255)))
	}
	return b
}

// testVideo makes count access units of codec c: a keyframe with parameter sets every gop
// units, and slices of the given size. With bframes the PTS is ahead of the DTS.
func testVideo(c Codec, count, gop, size int, start int64, bframes bool) []*AccessUnit {
	r := rand.New(rand.NewPCG(uint64(c), uint64(count)))
	var aus []*AccessUnit
	for i := range count {
		au := &AccessUnit{StreamID: VideoStreamID, Codec: c, DTS: start + int64(i)*3600, Keyframe: i%gop == 0}
		au.PTS = au.DTS
		if bframes {
			au.PTS += 7200
		}
		switch {
		case c == CodecH264 && au.Keyframe:
			au.NALUs = [][]byte{nal(r, 20, 0x67), nal(r, 4, 0x68), nal(r, size, 0x65, 0x88)}
		case c == CodecH264:
			au.NALUs = [][]byte{nal(r, size/2, 0x41, 0x9A), nal(r, size/2, 0x41, 0x1A)} // two slices
		case au.Keyframe:
			au.NALUs = [][]byte{nal(r, 20, 0x40, 0x01), nal(r, 30, 0x42, 0x01), nal(r, 4, 0x44, 0x01),
				nal(r, size, 0x26, 0x01, 0xAF)}
		default:
			au.NALUs = [][]byte{nal(r, size, 0x02, 0x01, 0xD0)}
		}
		aus = append(aus, au)
	}
	return aus
}

// testAAC makes count raw AAC frames at 48 kHz, stereo.
func testAAC(count int, start int64) []*AccessUnit {
	r := rand.New(rand.NewPCG(7, uint64(count)))
	var aus []*AccessUnit
	for i := range count {
		aus = append(aus, &AccessUnit{StreamID: AudioStreamID, Codec: CodecAAC, PTS: start + int64(i)*1920,
			DTS: start + int64(i)*1920, Keyframe: true, Data: nal(r, 100+r.IntN(300)), SampleRate: 48000, Channels: 2})
	}
	return aus
}

// testG711 makes count 20 ms G.711 frames.
func testG711(c Codec, count int, start int64) []*AccessUnit {
	r := rand.New(rand.NewPCG(8, uint64(count)))
	var aus []*AccessUnit
	for i := range count {
		pts := start + int64(i)*1800
		aus = append(aus, &AccessUnit{StreamID: AudioStreamID, Codec: c, PTS: pts, DTS: pts, Keyframe: true,
			Data: nal(r, 160), SampleRate: 8000, Channels: 1})
	}
	return aus
}

// mux writes video and audio interleaved by DTS.
func mux(t *testing.T, cfg MuxerConfig, video, audio []*AccessUnit) []byte {
	t.Helper()
	m := NewMuxer(cfg)
	var ps []byte
	var err error
	for len(video) > 0 || len(audio) > 0 {
		if len(audio) == 0 || len(video) > 0 && video[0].DTS <= audio[0].DTS {
			ps, err = m.AppendVideo(ps, video[0])
			video = video[1:]
		} else {
			ps, err = m.AppendAudio(ps, audio[0])
			audio = audio[1:]
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// split returns the access units of stream id.
func split(aus []*AccessUnit, id byte) []*AccessUnit {
	var out []*AccessUnit
	for _, au := range aus {
		if au.StreamID == id {
			out = append(out, au)
		}
	}
	return out
}

// sameUnits compares demuxed access units with the muxed ones.
func sameUnits(t *testing.T, got, want []*AccessUnit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d access units; want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Codec != w.Codec || g.PTS != w.PTS || g.DTS != w.DTS || g.Keyframe != w.Keyframe || g.Estimated {
			t.Fatalf("au %d = %v pts %d dts %d key %v est %v; want %v pts %d dts %d key %v",
				i, g.Codec, g.PTS, g.DTS, g.Keyframe, g.Estimated, w.Codec, w.PTS, w.DTS, w.Keyframe)
		}
		if len(g.NALUs) != len(w.NALUs) {
			t.Fatalf("au %d: %d NAL units; want %d", i, len(g.NALUs), len(w.NALUs))
		}
		for j := range w.NALUs {
			if !bytes.Equal(g.NALUs[j], w.NALUs[j]) {
				t.Fatalf("au %d NAL %d differs", i, j)
			}
		}
		if !bytes.Equal(g.Data, w.Data) || g.SampleRate != w.SampleRate || g.Channels != w.Channels {
			t.Fatalf("au %d: data %d bytes %d Hz %d ch; want %d bytes %d Hz %d ch", i, len(g.Data),
				g.SampleRate, g.Channels, len(w.Data), w.SampleRate, w.Channels)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		cfg   MuxerConfig
		video []*AccessUnit
		audio []*AccessUnit
	}{
		{"h264 and aac", MuxerConfig{Video: CodecH264, Audio: CodecAAC}, testVideo(CodecH264, 60, 25, 3000, 90000, false), testAAC(120, 90000)},
		{"h264 b-frames", MuxerConfig{Video: CodecH264}, testVideo(CodecH264, 30, 10, 500, 0, true), nil},
		{"h265", MuxerConfig{Video: CodecH265}, testVideo(CodecH265, 30, 10, 2000, 1<<20, false), nil},
		{"h264 frames over 64 KiB", MuxerConfig{Video: CodecH264}, testVideo(CodecH264, 6, 3, 200_000, 0, false), nil},
		{"h265 and g711a", MuxerConfig{Video: CodecH265, Audio: CodecG711A}, testVideo(CodecH265, 25, 25, 1000, 0, false), testG711(CodecG711A, 50, 0)},
		{"g711u alone", MuxerConfig{Audio: CodecG711U}, nil, testG711(CodecG711U, 20, 1<<33-5*1800)},
		{"across the 33-bit wrap", MuxerConfig{Video: CodecH264, Audio: CodecAAC},
			testVideo(CodecH264, 50, 25, 800, 1<<33-50*1800, false), testAAC(90, 1<<33-50*1800)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := mux(t, tc.cfg, tc.video, tc.audio)
			for _, chunk := range []int{len(ps), 1400, 188, 3} {
				t.Run(fmt.Sprint("chunks of up to ", chunk), func(t *testing.T) {
					aus, st := demuxAll(t, ps, chunk, uint64(chunk))
					if st.Resyncs != 0 || st.DroppedUnits != 0 {
						t.Errorf("Stats = %+v; want no resyncs or drops", st)
					}
					sameUnits(t, split(aus, VideoStreamID), tc.video)
					sameUnits(t, split(aus, AudioStreamID), tc.audio)
				})
			}
		})
	}
}

// packs cuts a program stream at its pack headers.
func packs(ps []byte) [][]byte {
	var out [][]byte
	for len(ps) > 0 {
		i := bytes.Index(ps[4:], []byte{0, 0, 1, 0xBA})
		if i < 0 {
			return append(out, ps)
		}
		out = append(out, ps[:4+i])
		ps = ps[4+i:]
	}
	return out
}

// withoutPSM removes the program stream maps (and system headers) from a muxer's output.
func withoutPSM(ps []byte) []byte {
	var out []byte
	for _, p := range packs(ps) {
		out = append(out, p[:14]...)
		rest := p[14:]
		for len(rest) >= 6 && (rest[3] == 0xBB || rest[3] == 0xBC) {
			rest = rest[6+(int(rest[4])<<8|int(rest[5])):]
		}
		out = append(out, rest...)
	}
	return out
}

// hikPrivate is a Hikvision-style private stream packet (0xBD) of n bytes of payload.
func hikPrivate(n int) []byte {
	b := []byte{0, 0, 1, 0xBD, byte((n + 3) >> 8), byte(n + 3), 0x80, 0, 0}
	// Its payload can look like anything, start codes included.
	for i := range n {
		b = append(b, []byte{0, 0, 1, 0xE0}[i%4])
	}
	return b
}

func TestDemuxQuirks(t *testing.T) {
	video := testVideo(CodecH264, 40, 10, 1500, 3600, false)
	audio := testAAC(80, 3600)
	ps := mux(t, MuxerConfig{Video: CodecH264, Audio: CodecAAC}, video, audio)
	ps265 := mux(t, MuxerConfig{Video: CodecH265}, testVideo(CodecH265, 20, 10, 900, 0, false), nil)
	cases := []struct {
		name        string
		in          []byte
		video       []*AccessUnit // want for stream 0xE0
		audio       []*AccessUnit // want for stream 0xC0
		private     int
		wantResyncs bool
	}{
		{"hikvision private streams skipped", func() []byte {
			var b []byte
			for _, p := range packs(ps) {
				b = append(b, p...)
				b = append(b, hikPrivate(200)...)
			}
			return b
		}(), video, audio, len(packs(ps)), false},
		{"zero stuffing between packs and pack stuffing bytes", func() []byte {
			var b []byte
			for _, p := range packs(ps) {
				q := append([]byte(nil), p[:13]...)
				q = append(q, 0xF8|3, 0xFF, 0xFF, 0xFF) // three stuffing bytes
				q = append(q, p[14:]...)
				b = append(b, q...)
				b = append(b, 0, 0, 0, 0)
			}
			return b
		}(), video, audio, 0, false},
		{"no psm: h264 and aac guessed", withoutPSM(ps), video, audio, 0, false},
		{"no psm: h265 guessed", withoutPSM(ps265), testVideo(CodecH265, 20, 10, 900, 0, false), nil, 0, false},
		{"garbage before the first pack", append(bytes.Repeat([]byte{0xAB, 0, 0, 1, 0x41}, 100), ps...), video, audio, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aus, st := demuxAll(t, tc.in, 1000, 1)
			sameUnits(t, split(aus, VideoStreamID), tc.video)
			sameUnits(t, split(aus, AudioStreamID), tc.audio)
			if st.Private != tc.private {
				t.Errorf("Stats.Private = %d; want %d", st.Private, tc.private)
			}
			if (st.Resyncs > 0) != tc.wantResyncs {
				t.Errorf("Stats.Resyncs = %d; want resyncs %v", st.Resyncs, tc.wantResyncs)
			}
		})
	}
}

// TestResyncAfterLoss cuts bytes out of the middle of a stream: the access units they touch
// are lost, every other one arrives intact.
func TestResyncAfterLoss(t *testing.T) {
	video := testVideo(CodecH264, 40, 10, 3000, 0, false)
	ps := mux(t, MuxerConfig{Video: CodecH264}, video, nil)
	p := packs(ps)
	for _, tc := range []struct {
		name string
		lose func([]byte) []byte // what is left of pack 20
		tell bool                // the demuxer is told of the gap (as the RTP depacketizer does)
	}{
		{"tail of a pack lost, told", func(b []byte) []byte { return b[:len(b)/2] }, true},
		{"head of a pack lost, told", func(b []byte) []byte { return b[len(b)/2:] }, true},
		{"head of a pack lost, not told", func(b []byte) []byte { return b[len(b)/2:] }, false},
		{"pack overwritten by garbage", func(b []byte) []byte { return bytes.Repeat([]byte{0x5A}, len(b)) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var aus []*AccessUnit
			d := New(Config{}, func(au *AccessUnit) error { aus = append(aus, au); return nil })
			for i, b := range p {
				if i == 20 {
					b = tc.lose(b)
				}
				if i == 20 && tc.tell {
					d.Write(b)
					d.Discontinuity()
					continue
				}
				if tc.tell && i == 21 {
					d.Discontinuity()
				}
				d.Write(b)
			}
			d.Flush()
			// Every unit that comes through is intact; all but the one cut and the one before
			// it (which no clean start ended) come through.
			byPTS := map[int64]*AccessUnit{}
			for _, au := range video {
				byPTS[au.PTS] = au
			}
			seen := map[int64]bool{}
			for _, au := range aus {
				sameUnits(t, []*AccessUnit{au}, []*AccessUnit{byPTS[au.PTS]})
				seen[au.PTS] = true
			}
			for i, au := range video {
				if i != 19 && i != 20 && !seen[au.PTS] {
					t.Errorf("access unit %d lost; want only 19 and 20 at risk", i)
				}
			}
		})
	}
}

// TestSeveralFramesInOnePES gives one PES packet two frames: the first takes its PTS, the
// second is extrapolated by the frame step learnt before, and marked so.
func TestSeveralFramesInOnePES(t *testing.T) {
	video := testVideo(CodecH264, 6, 10, 300, 0, false)
	es := func(aus ...*AccessUnit) []byte {
		var b []byte
		for _, au := range aus {
			b = append(b, annexB(au.NALUs)...)
		}
		return b
	}
	var ps []byte
	ps = appendPack(ps, 0)
	ps = append(ps, NewMuxer(MuxerConfig{Video: CodecH264}).psm...)
	for _, group := range [][]*AccessUnit{video[0:1], video[1:2], video[2:4], video[4:5], video[5:6]} {
		ps = appendPES(ps, VideoStreamID, es(group...), group[0].PTS, group[0].DTS, true)
	}
	aus, _ := demuxAll(t, ps, len(ps), 0)
	want := []*AccessUnit{video[0], video[1], video[2], video[3], video[4], video[5]}
	if len(aus) != len(want) {
		t.Fatalf("%d access units; want %d", len(aus), len(want))
	}
	for i, au := range aus {
		if au.PTS != want[i].PTS || au.DTS != want[i].DTS || au.Estimated != (i == 3) {
			t.Errorf("au %d: PTS %d DTS %d estimated %v; want %d, %d, %v", i, au.PTS, au.DTS, au.Estimated, want[i].PTS, want[i].DTS, i == 3)
		}
	}
}

func TestVideoOnly(t *testing.T) {
	video := testVideo(CodecH264, 10, 5, 500, 0, false)
	ps := mux(t, MuxerConfig{Video: CodecH264, Audio: CodecAAC}, video, testAAC(20, 0))
	var aus []*AccessUnit
	d := New(Config{VideoOnly: true}, func(au *AccessUnit) error { aus = append(aus, au); return nil })
	d.Write(ps)
	d.Flush()
	sameUnits(t, aus, video)
}

func TestEmitErrorStopsWrite(t *testing.T) {
	ps := mux(t, MuxerConfig{Video: CodecH264}, testVideo(CodecH264, 10, 5, 500, 0, false), nil)
	stop := errors.New("writer full")
	n := 0
	d := New(Config{}, func(*AccessUnit) error { n++; return stop })
	if _, err := d.Write(ps); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Write = %v after %d units; want %v after 1", err, n, stop)
	}
}
