package recorder_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
)

// fullDisk is the real disk store, except that while full is set every write fails as a full
// disk's would, after writing half of what it was given.
type fullDisk struct {
	*segment.Disk
	full atomic.Bool
}

func (d *fullDisk) Create(key string) (segment.File, error) {
	f, err := d.Disk.Create(key)
	if err != nil {
		return nil, err
	}
	return &fullFile{File: f, d: d}, nil
}

type fullFile struct {
	segment.File
	d *fullDisk
}

func (f *fullFile) Write(b []byte) (int, error) {
	if f.d.full.Load() {
		n, _ := f.File.Write(b[:len(b)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(b)
}

func TestDiskFullAndBack(t *testing.T) {
	t.Parallel()
	cam, _ := startSimcam(t, simcam.H264, 1)
	d := &fullDisk{Disk: segment.NewDisk(t.TempDir())}
	db := storetest.SQLite(t)
	rec := recorder.New(recorder.Config{SegmentLength: time.Hour, BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond},
		recorder.Deps{Store: d, Index: db})
	rec.Sync([]recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1), Transport: recorder.TransportTCP}})
	r := &running{rec: rec, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- rec.Run(ctx) }()
	status := func() recorder.Status { st, _ := rec.Status("cam1"); return st }

	waitFor(t, "two parts", func() bool { return status().Parts >= 2 })
	d.full.Store(true)
	waitFor(t, "the error state", func() bool { return status().State == recorder.StateError })
	if st := status(); !strings.Contains(st.Reason, "no space left") {
		t.Errorf("Status.Reason = %q; want it to name the full disk", st.Reason)
	}
	// Nothing is left half-written while the disk is full: the segment was cut back and sealed.
	if un, err := db.UnsealedSegments(ctx, ""); err != nil || len(un) != 0 {
		t.Errorf("UnsealedSegments while full = %+v, %v; want none", un, err)
	}
	d.full.Store(false)
	parts := status().Parts
	waitFor(t, "recording again", func() bool {
		st := status()
		return st.State == recorder.StateRecording && st.Parts >= parts+2
	})
	r.stop(t)
	if segs := checkSegments(t, d.Disk, db, "cam1"); len(segs) < 2 {
		t.Errorf("indexed %d segments; want the one cut short by the full disk and the one after", len(segs))
	}
}

// TestBadSourceURLKeepsItsCredentials: a source URL the RTSP client cannot parse was quoted
// whole, password included, in the camera's status (which the API serves) and the log.
func TestBadSourceURLKeepsItsCredentials(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(b) }), nil))
	rec := recorder.New(recorder.Config{BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond},
		recorder.Deps{Store: segment.NewDisk(t.TempDir()), Index: storetest.SQLite(t), Logger: log})
	rec.Sync([]recorder.Camera{{ID: "cam1", SourceURL: "rtsp://admin:hunter2@10.0.0.1:port/cam/1", Transport: recorder.TransportTCP}})
	r := &running{rec: rec, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- rec.Run(ctx) }()
	status := func() recorder.Status { st, _ := rec.Status("cam1"); return st }
	waitFor(t, "the error state", func() bool { return status().State == recorder.StateError })
	st := status()
	r.stop(t)
	if strings.Contains(st.Reason, "hunter2") || !strings.Contains(st.Reason, "source url") {
		t.Errorf("Status.Reason = %q; want the source URL's fault without its password", st.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the log holds the stream password: %s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
