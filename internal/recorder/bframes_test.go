package recorder_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/playback"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// startGstCamera serves a live x264 stream with B-frames from GStreamer's RTSP server (an
// implementation we did not write; testdata/gst-rtsp-server.py), one keyframe every gop frames
// at 25 fps. It skips the test where Debian's GStreamer packages are missing (.ci/run installs
// them through scripts/install-deps.sh).
func startGstCamera(t *testing.T, gop, bframes int) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer").Run(); err != nil {
		t.Skip("GStreamer's RTSP server for Python is not installed (apt-get install python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	script, _ := filepath.Abs("testdata/gst-rtsp-server.py")
	cmd := exec.Command(py, script, fmt.Sprint(port), fmt.Sprint(gop), fmt.Sprint(bframes))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("gst-rtsp-server.py did not start")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gst-rtsp-server.py did not start in 30 s")
	}
	return fmt.Sprintf("rtsp://127.0.0.1:%d/test", port)
}

// TestBFramesPartsStartOnKeyframes: with B-frames (x264 through GStreamer's RTSP server) only 1
// of 62 parts of the first segment began on a keyframe, so playback of 20:58:40 was served from
// 20:57:42. Every part must begin on a keyframe, and over 100 random requests playback must
// start at most one keyframe interval before the requested time, never after it; the MP4s
// decode strictly.
func TestBFramesPartsStartOnKeyframes(t *testing.T) {
	if testing.Short() {
		t.Skip("records 14 s of video")
	}
	const gop = 25 // one keyframe a second at 25 fps
	url := startGstCamera(t, gop, 2)
	d := segment.NewDisk(t.TempDir())
	db := storetest.SQLite(t)
	r := startRecorder(t, recorder.Config{SegmentLength: 6 * time.Second}, d, db,
		[]recorder.Camera{{ID: "cam1", SourceURL: url, Transport: recorder.TransportTCP}})
	waitFor(t, "two sealed segments", func() bool {
		st, ok := r.rec.Status("cam1")
		return ok && st.Segments >= 2
	})
	r.stop(t)

	segs := checkSegments(t, d, db, "cam1")
	parts, offKey := 0, 0
	for _, s := range segs {
		in, err := d.Scan(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range in.Parts {
			parts++
			if !p.Sync {
				offKey++
				t.Errorf("segment %s part %d (of %d samples) does not begin on a keyframe", s.Path, i, p.Samples)
			}
		}
	}
	t.Logf("%d parts in %d segments, %d off a keyframe", parts, len(segs), offKey)

	b := playback.New(playback.Config{}, playback.Deps{Index: db, Files: d})
	first, last := segs[0].Start, segs[len(segs)-1].End
	rng := rand.New(rand.NewPCG(1, 2))
	worst := time.Duration(0)
	interval := time.Duration(gop) * time.Second / 25
	for i := range 100 {
		at := first.Add(time.Duration(rng.Int64N(int64(last.Sub(first) - time.Second))))
		plan, err := b.Plan(context.Background(), "cam1", at, at.Add(time.Second))
		if err != nil {
			t.Fatalf("Plan(%v) = %v", at, err)
		}
		early := at.Sub(plan.Covered.Start)
		worst = max(worst, early)
		if early < 0 || early > interval+40*time.Millisecond {
			t.Errorf("request %d for %v served from %v: %v early; want 0 to one keyframe interval (%v)", i, at, plan.Covered.Start, early, interval)
		}
		if i < 3 {
			decodeStrictly(t, plan)
		}
		plan.Close()
	}
	t.Logf("largest start offset over 100 requests: %v (keyframe interval %v)", worst, interval)
}

// decodeStrictly writes plan's MP4 and decodes it with ffmpeg -xerror, where ffmpeg is installed.
func decodeStrictly(t *testing.T, plan *playback.Plan) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return
	}
	p := filepath.Join(t.TempDir(), "play.mp4")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", p, "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("ffmpeg decode of the playback: %v: %s", err, out)
	}
}
