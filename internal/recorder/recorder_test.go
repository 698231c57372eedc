package recorder_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// startSimcam serves count simulated cameras on loopback until stop is called or the test ends.
func startSimcam(t *testing.T, codec simcam.Codec, count int) (srv *simcam.Server, stop func()) {
	t.Helper()
	srv = simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: count, Codec: codec, Bitrate: 1_000_000}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("simcam Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("simcam Run = %v", err)
	}
	return srv, stop
}

type running struct {
	rec    *recorder.Recorder
	cancel context.CancelFunc
	done   chan error
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("recorder Run = %v", err)
	}
}

func startRecorder(t *testing.T, cfg recorder.Config, d *segment.Disk, db *store.DB, cams []recorder.Camera) *running {
	t.Helper()
	rec := recorder.New(cfg, recorder.Deps{Store: d, Index: db})
	rec.Sync(cams)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- rec.Run(ctx) }()
	return r
}

// waitFor polls cond until it holds; the limit only keeps a broken recorder from hanging the
// test, it is not a measure of anything.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSegments verifies every indexed segment of a camera: sealed, file strictly valid and
// continuous inside, size, hash and duration as indexed, and (with ffprobe) decodable.
func checkSegments(t *testing.T, d *segment.Disk, db *store.DB, cam string) []segment.Record {
	t.Helper()
	ctx := context.Background()
	if un, err := db.UnsealedSegments(ctx, ""); err != nil || len(un) != 0 {
		t.Errorf("UnsealedSegments after stop = %v, %v; want none", un, err)
	}
	segs, err := db.RecordingSegments(ctx, cam, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("RecordingSegments = %v", err)
	}
	for _, s := range segs {
		in, err := d.Scan(s.Path)
		if err != nil {
			t.Errorf("Scan(%s) = %v", s.Path, err)
			continue
		}
		if err := in.Complete(); err != nil {
			t.Errorf("segment %s: Complete() = %v", s.Path, err)
		}
		if in.Size != s.Bytes || in.SHA256 != s.SHA256 {
			t.Errorf("segment %s: file %d bytes sha %s; index says %d bytes sha %s", s.Path, in.Size, in.SHA256, s.Bytes, s.SHA256)
		}
		if got, want := in.Duration(), s.End.Sub(s.Start); absDur(got-want) > 2*time.Microsecond {
			t.Errorf("segment %s: file lasts %v; index says %v", s.Path, got, want)
		}
		for i, p := range in.Parts {
			if p.Duration > 2*segment.TimeScale {
				t.Errorf("segment %s part %d lasts %v; want about 1s", s.Path, i, segment.Ticks(p.Duration))
			}
		}
		probe(t, d, s.Path, in.Duration())
	}
	return segs
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// probe checks a segment with Debian's ffprobe and ffmpeg, when installed: the container
// duration matches and every frame decodes without an error.
func probe(t *testing.T, d *segment.Disk, key string, want time.Duration) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Logf("ffprobe not installed (apt-get install ffmpeg): skipping the decode check of %s; the strict parse ran", key)
		return
	}
	p, _ := d.Path(key)
	// The video stream's duration: the container's is the longest stream's end, and audio, kept
	// beside the video, may begin and end a frame apart from it.
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration", "-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Errorf("ffprobe %s: %v: %s", key, err, out)
		return
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Errorf("ffprobe %s duration %q: %v", key, out, err)
		return
	}
	if got := time.Duration(secs * float64(time.Second)); absDur(got-want) > 50*time.Millisecond {
		t.Errorf("ffprobe %s: duration %v; want %v", key, got, want)
	}
	dec, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", p, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(dec))) > 0 {
		t.Errorf("ffmpeg decode of %s: %v: %s", key, err, dec)
	}
}

func TestRecordSimulatedCamera(t *testing.T) {
	tests := []struct {
		codec     simcam.Codec
		transport recorder.Transport
		wantCodec string
	}{
		{simcam.H264, recorder.TransportTCP, "H264"},
		{simcam.H264, recorder.TransportUDP, "H264"},
		{simcam.H265, recorder.TransportTCP, "H265"},
		{simcam.H265, recorder.TransportAuto, "H265"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s", tc.codec, tc.transport), func(t *testing.T) {
			t.Parallel()
			cam, _ := startSimcam(t, tc.codec, 1)
			d := segment.NewDisk(t.TempDir())
			db := storetest.SQLite(t)
			r := startRecorder(t, recorder.Config{SegmentLength: 2 * time.Second}, d, db,
				[]recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1), Transport: tc.transport}})
			waitFor(t, "two sealed segments", func() bool {
				st, ok := r.rec.Status("cam1")
				return ok && st.Segments >= 2
			})
			st, _ := r.rec.Status("cam1")
			r.stop(t)
			if st.LastPart.Before(st.SegmentStart) || st.SegmentStart.IsZero() {
				t.Errorf("Status: open segment from %v, last part ends %v; want a segment open, starting no later than the last part ends", st.SegmentStart, st.LastPart)
			}

			if st.State != recorder.StateRecording || st.Codec != tc.wantCodec || st.Width != 640 || st.Height != 360 {
				t.Errorf("Status = %+v; want recording %s 640x360", st, tc.wantCodec)
			}
			// The simulator pads to 1 Mbit/s; the recorder measures the video it writes.
			if st.Bitrate < 900_000 || st.Bitrate > 1_100_000 {
				t.Errorf("Status.Bitrate = %d; want about 1000000", st.Bitrate)
			}
			segs := checkSegments(t, d, db, "cam1")
			if len(segs) < 3 { // two sealed while running, and the one sealed at stop
				t.Fatalf("indexed %d segments; want at least 3", len(segs))
			}
			var total int64
			for i, s := range segs {
				total += s.Bytes
				if i < len(segs)-1 {
					// Cut on the first keyframe at or after 2 s; the clip has one every second.
					if got := s.End.Sub(s.Start); got != 2*time.Second {
						t.Errorf("segment %d lasts %v; want 2s", i, got)
					}
					if !segs[i+1].Start.Equal(s.End) {
						t.Errorf("segment %d ends %v; segment %d starts %v; want no gap", i, s.End, i+1, segs[i+1].Start)
					}
				}
			}
			// The status was read before the last segment was sealed.
			if total < st.BytesWritten {
				t.Errorf("indexed bytes %d; status had already counted %d written", total, st.BytesWritten)
			}
			cov, err := db.RecordingRanges(context.Background(), "cam1", segs[0].Start, segs[len(segs)-1].End)
			if err != nil || len(cov.Ranges) != 1 || len(cov.Gaps) != 0 {
				t.Errorf("RecordingRanges = %+v, %v; want one range, no gaps", cov, err)
			}
		})
	}
}

// TestFlappingSource counts goroutines, so it must not run in parallel with other tests; those
// that may are marked so and run after it.
func TestFlappingSource(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	db := storetest.SQLite(t)
	before := runtime.NumGoroutine()
	func() {
		cam, stopCam := startSimcam(t, simcam.H264, 1)
		defer stopCam()
		cfg := recorder.Config{SegmentLength: 10 * time.Second, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
		r := startRecorder(t, cfg, d, db, []recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1), Transport: recorder.TransportTCP}})
		status := func() recorder.Status { st, _ := r.rec.Status("cam1"); return st }
		waitFor(t, "recording", func() bool {
			return status().State == recorder.StateRecording && status().Segments == 0 && !status().LastPart.IsZero()
		})
		steady := runtime.NumGoroutine()
		const flaps = 3
		for i := range flaps {
			if err := cam.SetOnline(1, false); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "offline", func() bool { return status().State == recorder.StateOffline })
			reconnects := status().Reconnects
			// Let at least one reconnect fail against the missing stream before it returns.
			waitFor(t, "a failed reconnect", func() bool { return status().Reconnects > reconnects })
			if err := cam.SetOnline(1, true); err != nil {
				t.Fatal(err)
			}
			sealed := int64(i + 1)
			waitFor(t, "recording again", func() bool {
				st := status()
				return st.State == recorder.StateRecording && st.Segments >= sealed
			})
		}
		// The goroutines of dropped sessions are gone once the next session records.
		waitFor(t, "goroutines back to the steady count", func() bool { return runtime.NumGoroutine() <= steady })
		r.stop(t)
		segs := checkSegments(t, d, db, "cam1")
		if len(segs) != flaps+1 {
			t.Errorf("indexed %d segments; want %d (one per connection)", len(segs), flaps+1)
		}
		// Each outage lost time: the next connection's segment starts after the last one ended.
		for i := 1; i < len(segs); i++ {
			if !segs[i].Start.After(segs[i-1].End) {
				t.Errorf("segment %d starts %v, not after segment %d's end %v", i, segs[i].Start, i-1, segs[i-1].End)
			}
		}
	}()
	// Everything the test started (simulator, recorder, their connections) has ended.
	waitFor(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= before })
}

func TestRepairUnsealedAtStartup(t *testing.T) {
	t.Parallel()
	cam, _ := startSimcam(t, simcam.H265, 1)
	root := t.TempDir()
	d := segment.NewDisk(root)
	db := storetest.SQLite(t)
	r := startRecorder(t, recorder.Config{SegmentLength: time.Hour}, d, db,
		[]recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1)}})
	waitFor(t, "four parts", func() bool {
		st, _ := r.rec.Status("cam1")
		return st.Parts >= 4
	})
	r.stop(t)
	ctx := context.Background()
	segs, _ := db.RecordingSegments(ctx, "cam1", time.Unix(0, 0), time.Now().Add(time.Hour))
	if len(segs) != 1 {
		t.Fatalf("indexed %d segments; want 1", len(segs))
	}
	good := segs[0]
	whole, err := d.Scan(good.Path)
	if err != nil || len(whole.Parts) < 3 {
		t.Fatalf("Scan = %v parts, %v; want at least 3", whole, err)
	}

	// Make the state a crash leaves: the segment unsealed in the index and cut inside its last
	// part; beside it a segment that crashed right after its init, and one whose file was never
	// created.
	p, _ := d.Path(good.Path)
	last := whole.Parts[len(whole.Parts)-1]
	if err := os.Truncate(p, last.Offset+last.Size/2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `UPDATE recordings SET sealed = FALSE, end_at = start_at, sha256 = '' WHERE path = $1`, good.Path); err != nil {
		t.Fatal(err)
	}
	initOnly := "cam1/2026-01-01/000000.000000.mp4"
	ip, _ := d.Path(initOnly)
	os.MkdirAll(strings.TrimSuffix(ip, "/000000.000000.mp4"), 0o755)
	if err := os.WriteFile(ip, readPrefix(t, p, whole.InitSize), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{initOnly, "cam1/2026-01-01/000001.000000.mp4"} {
		if err := db.SegmentStarted(ctx, "cam1", k, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}

	// Another camera's open segment, which this recorder does not record: with a shared index it
	// may be another node's, and must be left alone.
	if err := db.SegmentStarted(ctx, "cam2", "cam2/2026-01-01/000000.000000.mp4", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}

	// Start again: the supervisor repairs before it records.
	r = startRecorder(t, recorder.Config{SegmentLength: time.Hour}, d, db,
		[]recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1)}})
	waitFor(t, "recording again", func() bool {
		st, _ := r.rec.Status("cam1")
		return st.Parts >= 1
	})
	r.stop(t)
	if un, _ := db.UnsealedSegments(ctx, ""); len(un) != 1 || un[0].CameraID != "cam2" {
		t.Errorf("UnsealedSegments after restart = %+v; want only cam2's, untouched", un)
	}
	got, err := db.RecordingSegment(ctx, good.Path)
	if err != nil {
		t.Fatalf("RecordingSegment = %v", err)
	}
	after, err := d.Scan(good.Path)
	if err != nil {
		t.Fatalf("Scan after repair = %v", err)
	}
	if err := after.Complete(); err != nil {
		t.Errorf("Complete() after repair = %v", err)
	}
	if len(after.Parts) != len(whole.Parts)-1 || after.Size != last.Offset {
		t.Errorf("repaired segment has %d parts, %d bytes; want %d, %d", len(after.Parts), after.Size, len(whole.Parts)-1, last.Offset)
	}
	if !got.Sealed || got.Bytes != after.Size || got.SHA256 != after.SHA256 || !got.End.Equal(got.Start.Add(after.Duration())) {
		t.Errorf("repaired index entry = %+v; want sealed, %d bytes, sha %s, lasting %v", got, after.Size, after.SHA256, after.Duration())
	}
	probe(t, d, good.Path, after.Duration())
	for _, k := range []string{initOnly, "cam1/2026-01-01/000001.000000.mp4"} {
		if _, err := db.RecordingSegment(ctx, k); err == nil {
			t.Errorf("RecordingSegment(%s) found; an unplayable segment should be unindexed", k)
		}
		if kp, _ := d.Path(k); fileExists(kp) {
			t.Errorf("%s still on disk; want removed", k)
		}
	}
}

func readPrefix(t *testing.T, p string, n int64) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
