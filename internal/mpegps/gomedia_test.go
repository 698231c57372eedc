package mpegps

import (
	"bytes"
	"testing"

	mpeg2 "github.com/yapingcat/gomedia/go-mpeg2"
)

// gomedia's go-mpeg2 is an independent PS implementation (MIT), the oracle both ways: what it
// muxes we must demux, and what we mux it must demux. Its timestamps are in milliseconds, so
// the test units are on whole milliseconds (multiples of 90 ticks).

// isAUD reports whether a NAL unit is an access unit delimiter, which gomedia adds.
func isAUD(c Codec, n []byte) bool {
	if c == CodecH265 {
		return len(n) > 0 && (n[0]>>1)&0x3F == 35
	}
	return len(n) > 0 && n[0]&0x1F == 9
}

func withoutAUD(aus []*AccessUnit) []*AccessUnit {
	var out []*AccessUnit
	for _, au := range aus {
		c := *au
		c.NALUs = nil
		for _, n := range au.NALUs {
			if !isAUD(au.Codec, n) {
				c.NALUs = append(c.NALUs, n)
			}
		}
		out = append(out, &c)
	}
	return out
}

func annexB(nalus [][]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

func TestGomediaMuxesWeDemux(t *testing.T) {
	for _, c := range []Codec{CodecH264, CodecH265} {
		t.Run(c.String(), func(t *testing.T) {
			video := testVideo(c, 50, 25, 4000, 90000, false)
			audio := testAAC(0, 0)
			var ps []byte
			m := mpeg2.NewPsMuxer()
			m.OnPacket = func(pkg []byte) { ps = append(ps, pkg...) }
			vid := m.AddStream(mpeg2.PS_STREAM_TYPE(c))
			var aid uint8
			if c == CodecH264 {
				aid = m.AddStream(mpeg2.PS_STREAM_AAC)
				audio = testAAC(100, 90000)
				for _, au := range audio { // on whole milliseconds
					au.PTS = 90000 + (au.PTS-90000)/90*90
					au.DTS = au.PTS
				}
			}
			vi, ai := 0, 0
			for vi < len(video) || ai < len(audio) {
				if ai == len(audio) || vi < len(video) && video[vi].DTS <= audio[ai].DTS {
					au := video[vi]
					if err := m.Write(vid, annexB(au.NALUs), uint64(au.PTS/90), uint64(au.DTS/90)); err != nil {
						t.Fatal(err)
					}
					vi++
				} else {
					au := audio[ai]
					frame, err := adts(au)
					if err != nil {
						t.Fatal(err)
					}
					if err := m.Write(aid, frame, uint64(au.PTS/90), uint64(au.DTS/90)); err != nil {
						t.Fatal(err)
					}
					ai++
				}
			}
			for _, chunk := range []int{len(ps), 1400, 5} {
				aus, st := demuxAll(t, ps, chunk, uint64(chunk))
				if st.Resyncs != 0 {
					t.Errorf("Stats.Resyncs = %d; want 0", st.Resyncs)
				}
				var v, a []*AccessUnit
				for _, au := range aus {
					if au.Codec.IsVideo() {
						v = append(v, au)
					} else {
						a = append(a, au)
					}
				}
				sameUnits(t, withoutAUD(v), video)
				sameUnits(t, a, audio)
			}
		})
	}
}

// gomediaFrame is one frame as gomedia's demuxer reports it: a NAL unit, or an audio PES payload.
type gomediaFrame struct {
	cid      mpeg2.PS_STREAM_TYPE
	pts, dts uint64
	data     []byte
}

func TestWeMuxGomediaDemuxes(t *testing.T) {
	for _, c := range []Codec{CodecH264, CodecH265} {
		t.Run(c.String(), func(t *testing.T) {
			video := testVideo(c, 50, 25, 90_000, 9000, c == CodecH264) // frames over one PES
			var audio []*AccessUnit
			cfg := MuxerConfig{Video: c}
			if c == CodecH264 {
				cfg.Audio = CodecAAC
				audio = testAAC(100, 9000)
				for _, au := range audio {
					au.PTS = 9000 + (au.PTS-9000)/90*90
					au.DTS = au.PTS
				}
			}
			ps := mux(t, cfg, video, audio)

			var gv, ga []gomediaFrame
			d := mpeg2.NewPSDemuxer()
			d.OnFrame = func(frame []byte, cid mpeg2.PS_STREAM_TYPE, pts, dts uint64) {
				f := gomediaFrame{cid: cid, pts: pts, dts: dts, data: append([]byte(nil), frame...)}
				if cid == mpeg2.PS_STREAM_AAC {
					ga = append(ga, f)
					return
				}
				f.data = trimZeros(bytes.TrimLeft(f.data, "\x00")[1:]) // drop the start code
				gv = append(gv, f)
			}
			for p := ps; len(p) > 0; {
				n := min(len(p), 1400)
				_ = d.Input(p[:n]) // a packet cut by the chunk is reported, kept and completed later
				p = p[n:]
			}
			d.Flush()

			// gomedia reports NAL by NAL, and stamps the NAL units that open a PES packet with
			// the previous packet's time; the slice that ends each frame carries the frame's.
			var want []gomediaFrame
			for _, au := range video {
				for _, n := range au.NALUs {
					want = append(want, gomediaFrame{cid: mpeg2.PS_STREAM_TYPE(c), pts: uint64(au.PTS / 90), dts: uint64(au.DTS / 90), data: n})
				}
			}
			if len(gv) != len(want) || len(ga) != len(audio) {
				t.Fatalf("gomedia demuxed %d NAL units, %d audio frames; want %d, %d", len(gv), len(ga), len(want), len(audio))
			}
			for i, w := range want {
				g := gv[i]
				if g.cid != w.cid || !bytes.Equal(g.data, w.data) {
					t.Fatalf("gomedia NAL %d = %v %d bytes; want %v %d bytes", i, g.cid, len(g.data), w.cid, len(w.data))
				}
				if last := i+1 == len(want) || want[i+1].pts != w.pts; last && (g.pts != w.pts || g.dts != w.dts) {
					t.Errorf("gomedia NAL %d (a frame's last) pts %d dts %d; want %d, %d", i, g.pts, g.dts, w.pts, w.dts)
				}
			}
			for i, w := range audio {
				g := ga[i]
				want, _ := adts(w)
				if int64(g.pts) != w.PTS/90 || !bytes.Equal(g.data, want) {
					t.Fatalf("gomedia audio frame %d: pts %d, %d bytes; want pts %d, %d bytes", i, g.pts, len(g.data), w.PTS/90, len(want))
				}
			}
		})
	}
}
