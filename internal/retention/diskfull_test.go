package retention_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/recorder"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
)

// syncBuffer is a log sink safe for the recorder's and the planner's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// smallFS mounts a tmpfs of the given size for the test, or skips it when mounting is not
// permitted here (not root, no mount namespace rights).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs; skipped (not root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test cannot mount a %s tmpfs here: %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// gathered reads one unlabelled metric from a registry.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// waitFor polls cond; the deadline only stops a broken test from hanging, it is not a threshold.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDiskFull records a simulated camera onto a 3 MiB file system until it is full: recording
// stops with "storage full", the planner alerts (error log, metric), retention deletes nothing
// (everything is inside the floor), and recording resumes by itself once space is freed.
func TestDiskFull(t *testing.T) {
	root := smallFS(t, "3m")
	ballast := filepath.Join(root, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	recRoot := filepath.Join(root, "recordings")

	cams := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: 1, Bitrate: 4_000_000}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simDone := make(chan error, 1)
	go func() { simDone <- cams.Run(ctx) }()
	select {
	case <-cams.Ready():
	case err := <-simDone:
		t.Fatalf("simcam Run = %v", err)
	}

	db := storetest.SQLite(t)
	f := newFixture(t, db)
	cam := f.camera(t, "cam", 30)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	disk := segment.NewDisk(recRoot)
	rec := recorder.New(recorder.Config{SegmentLength: 2 * time.Second, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond},
		recorder.Deps{Store: disk, Index: db, Logger: log})
	rec.Sync([]recorder.Camera{{ID: cam, SourceURL: cams.URL(1), Transport: recorder.TransportTCP}})
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Run(recCtx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopRec()
			if err := <-recDone; err != nil {
				t.Errorf("recorder Run = %v", err)
			}
		}
	}
	defer stop()

	metrics := prometheus.NewRegistry()
	planner := retention.NewPlanner(retention.PlannerConfig{Locations: []retention.Location{{Name: "local", Root: root}}},
		retention.PlannerDeps{Index: db, Registry: f.Registry, Recorder: rec, Metrics: metrics, Logger: log})
	status := func() recorder.Status { st, _ := rec.Status(cam); return st }

	waitFor(t, "recording", func() bool { return status().Parts >= 2 })
	waitFor(t, "the storage-full stop", func() bool { return retention.StorageFull(status()) })
	if st := status(); st.State != recorder.StateError || !strings.HasPrefix(st.Reason, "storage full: ") || !strings.Contains(st.Reason, "no space left") {
		t.Errorf("Status = %s %q; want error, \"storage full: … no space left on device\"", st.State, st.Reason)
	}
	if got := planner.Watch(); !slices.Equal(got, []string{cam}) {
		t.Errorf("Watch() = %v; want [%s]", got, cam)
	}
	if got := gathered(t, metrics, "civicam_recording_storage_full_cameras"); got != 1 {
		t.Errorf("storage-full cameras gauge = %v; want 1", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR msg=\"recording stopped: storage full\"") {
		t.Errorf("no error-level alert logged; logs:\n%s", logs.String())
	}

	// Nothing inside the floor is deleted to make room.
	before, err := db.RecordingSummaries(ctx, time.Time{})
	if err != nil || len(before) != 1 || before[0].Segments == 0 {
		t.Fatalf("RecordingSummaries = %+v, %v; want the recordings made before the disk filled", before, err)
	}
	cleaner := retention.New(retention.Config{}, retention.Deps{Index: db, Files: disk, Registry: f.Registry, Tracer: f.Tracer})
	if rep, err := cleaner.RunOnce(ctx); err != nil || rep.Deleted != 0 {
		t.Errorf("RunOnce on a full disk = %+v, %v; want nothing deleted", rep, err)
	}
	fs, err := planner.Forecast(ctx)
	if err != nil || len(fs) != 1 {
		t.Fatalf("Forecast = %+v, %v", fs, err)
	}
	if fs[0].FreeBytes > 256<<10 || !fs[0].BelowFloor {
		t.Errorf("Forecast on a full disk = free %d, below floor %v; want almost nothing free and below the floor", fs[0].FreeBytes, fs[0].BelowFloor)
	}

	// Space returns: recording resumes by itself.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	parts := status().Parts
	waitFor(t, "recording to resume", func() bool {
		st := status()
		return st.State == recorder.StateRecording && st.Parts >= parts+2
	})
	if got := planner.Watch(); len(got) != 0 {
		t.Errorf("Watch() after space returned = %v; want none", got)
	}
	if got := gathered(t, metrics, "civicam_recording_storage_full_cameras"); got != 0 {
		t.Errorf("storage-full cameras gauge after space returned = %v; want 0", got)
	}
	if !strings.Contains(logs.String(), "recording resumed") {
		t.Errorf("no resume logged; logs:\n%s", logs.String())
	}
	stop()
	// Every segment indexed is whole on disk: the one the full disk cut short was cut back to its
	// last complete part and sealed.
	segs, err := db.RecordingSegments(ctx, cam, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		info, err := disk.Scan(s.Path)
		if err != nil || info.Size != s.Bytes {
			t.Errorf("segment %s: Scan = %+v, %v; want a whole segment of %d bytes", s.Path, info, err, s.Bytes)
		}
	}
	if un, err := db.UnsealedSegments(ctx, cam); err != nil || len(un) != 0 {
		t.Errorf("UnsealedSegments = %+v, %v; want none", un, err)
	}
}
