package mpegps

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// probePacket is one packet as ffprobe's -show_packets lists it.
type probePacket struct {
	pts, dts      int64 // -1 when ffprobe has none
	key           bool
	hasPTS, dtsOK bool
}

// ffmpegPS makes a program stream with ffmpeg, or skips the test where ffmpeg is missing.
func ffmpegPS(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffprobePackets lists the video packets of the file with bytes b.
func ffprobePackets(t *testing.T, b []byte) []probePacket {
	t.Helper()
	f := filepath.Join(t.TempDir(), "probe.mpg")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_packets",
		"-show_entries", "packet=pts,dts,flags", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var pkts []probePacket
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, ",")
		if len(fields) < 3 {
			continue
		}
		p := probePacket{pts: -1, dts: -1, key: strings.HasPrefix(fields[2], "K")}
		if v, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			p.pts, p.hasPTS = v, true
		}
		if v, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
			p.dts, p.dtsOK = v, true
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// demuxAll demuxes b written in chunks of random sizes up to maxChunk and returns the access units.
func demuxAll(t *testing.T, b []byte, maxChunk int, seed uint64) ([]*AccessUnit, Stats) {
	t.Helper()
	var aus []*AccessUnit
	d := New(Config{}, func(au *AccessUnit) error { aus = append(aus, au); return nil })
	r := rand.New(rand.NewPCG(seed, 1))
	for len(b) > 0 {
		n := min(len(b), 1+r.IntN(maxChunk))
		if _, err := d.Write(b[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		b = b[n:]
	}
	if err := d.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return aus, d.Stats()
}

func videoOf(aus []*AccessUnit) []*AccessUnit {
	var v []*AccessUnit
	for _, au := range aus {
		if au.Codec.IsVideo() {
			v = append(v, au)
		}
	}
	return v
}

func TestAgainstFFmpeg(t *testing.T) {
	lavfi := []string{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "4"}
	cases := []struct {
		name  string
		codec Codec
		args  []string
	}{
		{"h264 mpeg1 pack no psm with mp2", CodecH264, append(append([]string{}, lavfi...),
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4",
			"-c:v", "libx264", "-bf", "2", "-g", "25", "-c:a", "mp2", "-f", "mpeg")},
		{"h264 mpeg2 pack", CodecH264, append(append([]string{}, lavfi...),
			"-c:v", "libx264", "-bf", "2", "-g", "25", "-f", "vob")},
		{"h265 mpeg2 pack", CodecH265, append(append([]string{}, lavfi...),
			"-c:v", "libx265", "-x265-params", "log-level=error", "-bf", "2", "-g", "25", "-f", "vob")},
		{"h265 mpeg1 pack", CodecH265, append(append([]string{}, lavfi...),
			"-c:v", "libx265", "-x265-params", "log-level=error", "-bf", "2", "-g", "25", "-f", "mpeg")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := ffmpegPS(t, "out.mpg", tc.args...)
			want := ffprobePackets(t, ps)
			for _, chunk := range []int{len(ps), 1400, 7} {
				aus, st := demuxAll(t, ps, chunk, uint64(chunk))
				got := videoOf(aus)
				if len(got) != len(want) {
					t.Fatalf("chunks up to %d: %d video access units; want %d (ffprobe) stats %+v", chunk, len(got), len(want), st)
				}
				if st.Resyncs != 0 {
					t.Errorf("chunks up to %d: Stats.Resyncs = %d; want 0", chunk, st.Resyncs)
				}
				// ffmpeg's parser gives a PES packet's PTS to the frame its first byte falls in,
				// the standard (and we) to the first frame starting in it, which is that frame or
				// the next; frames without one of their own are extrapolated, DTS rising.
				withPTS := 0
				for i, w := range want {
					g := got[i]
					if g.Codec != tc.codec {
						t.Fatalf("au %d: Codec = %v; want %v", i, g.Codec, tc.codec)
					}
					if g.Keyframe != w.key {
						t.Errorf("au %d: Keyframe = %v; want %v", i, g.Keyframe, w.key)
					}
					if len(g.NALUs) == 0 {
						t.Errorf("au %d: no NAL units", i)
					}
					if i > 0 && g.DTS <= got[i-1].DTS {
						t.Errorf("au %d: DTS = %d (estimated %v); want more than the previous %d", i, g.DTS, g.Estimated, got[i-1].DTS)
					}
					if !w.hasPTS {
						continue
					}
					withPTS++
					found := false
					for _, c := range got[i:min(i+2, len(got))] {
						found = found || !c.Estimated && c.PTS == w.pts && (!w.dtsOK || c.DTS == w.dts)
					}
					if !found {
						t.Errorf("au %d: PTS, DTS = %d, %d (estimated %v); want %d, %d here or in the next", i, g.PTS, g.DTS, g.Estimated, w.pts, w.dts)
					}
				}
				if withPTS == 0 {
					t.Fatalf("ffprobe gave no PTS at all")
				}
			}
			if tc.name == "h264 mpeg1 pack no psm with mp2" {
				aus, _ := demuxAll(t, ps, len(ps), 0)
				audio := 0
				for _, au := range aus {
					if au.Codec == CodecMPEGAudio && len(au.Data) > 0 {
						audio++
					}
				}
				if audio == 0 {
					t.Errorf("no MPEG audio access units")
				}
			}
		})
	}
}
