package recorder

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/segment"
)

// memIndex is a recordings index in memory. This test lives inside the package (it drives the
// assembler and writer directly), and an in-package test cannot open the real store: the store
// imports the domain types of retention, which imports this package.
type memIndex struct {
	mu   sync.Mutex
	segs []segment.Record
}

func (x *memIndex) StartSegment(_ context.Context, rec segment.Record) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec.End = rec.Start
	x.segs = append(x.segs, rec)
	return nil
}

func (x *memIndex) SegmentSealed(_ context.Context, rec segment.Record) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	rec.Sealed = true
	for i, r := range x.segs {
		if r.Path == rec.Path {
			x.segs[i] = rec
			return nil
		}
	}
	x.segs = append(x.segs, rec)
	return nil
}

func (x *memIndex) UnsealedSegments(_ context.Context, cameraID string) ([]segment.Record, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []segment.Record
	for _, r := range x.segs {
		if !r.Sealed && (cameraID == "" || r.CameraID == cameraID) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (x *memIndex) DeleteSegment(_ context.Context, path string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.segs = slices.DeleteFunc(x.segs, func(r segment.Record) bool { return r.Path == path })
	return nil
}

// RecordingSegments lists a camera's sealed segments overlapping [start, end), as the store does.
func (x *memIndex) RecordingSegments(_ context.Context, cameraID string, start, end time.Time) ([]segment.Record, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []segment.Record
	for _, r := range x.segs {
		if r.CameraID == cameraID && r.Sealed && r.Start.Before(end) && r.End.After(start) {
			out = append(out, r)
		}
	}
	return out, nil
}

// TestPartNotHeldInMemory runs the assembler and the segment writer as a session does, with a
// part length of an hour, on 320 s of video (about 22 MB) whose every access unit is a fresh copy
// the test drops at once. The heap must not grow with the part: the recorder keeps a sample only
// until the writer has put it in the file (a batch at a time), and with no live viewer the
// fan-out keeps the current group of pictures at most (the clip's is far under the 1 MiB bound).
func TestPartNotHeldInMemory(t *testing.T) {
	aus := clipAUs(t)
	d := segment.NewDisk(t.TempDir())
	db := &memIndex{}
	r := New(Config{PartLength: time.Hour, SegmentLength: time.Hour}, Deps{Store: d, Index: db})
	s := newSupervisor(r, Camera{ID: "cam1"})
	a := newTestAssembler(t, clocktest.New(time.Now()))
	a.partLen, a.segLen = durTicks(time.Hour), durTicks(time.Hour)
	w := newSegWriter(s, context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run()
	}()
	a.out, a.quit = w.in, w.failed
	a.live = r.live.publisher("cam1")

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	const frames = 80 * 100 // the 4 s clip, 80 times over
	before := heap()
	var peak, fed uint64
	for i := range frames {
		src := aus[i%len(aus)]
		au := make([][]byte, len(src))
		for j, n := range src {
			au[j] = bytes.Clone(n)
			fed += uint64(len(n))
		}
		a.accessUnit(au, int64(i)*3600)
		if i%500 == 499 {
			peak = max(peak, heap())
		}
	}
	a.finish()
	close(w.in)
	<-done
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
	// The test feeds faster than a camera sends, so the writer's queue may be full at a check
	// point: writeQueue batches, with one more in the assembler and one in the writer; 1 MiB is
	// for noise. Holding the part would show as up to the whole of fed.
	const bound = (writeQueue+2)*sendBatch + 1<<20
	if peak > before && peak-before > bound {
		t.Errorf("heap grew by %d bytes while recording a part of %d bytes; want at most %d", peak-before, fed, bound)
	}
	st := s.status()
	if st.Segments != 1 || uint64(st.BytesWritten) < fed {
		t.Errorf("status = %d segments, %d bytes; want 1, at least %d", st.Segments, st.BytesWritten, fed)
	}
	segs, err := db.RecordingSegments(context.Background(), "cam1", time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(segs) != 1 {
		t.Fatalf("RecordingSegments = %d, %v; want 1 segment", len(segs), err)
	}
	in, err := d.Scan(segs[0].Path)
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	if err := in.Complete(); err != nil {
		t.Errorf("Complete() = %v", err)
	}
	var samples int
	for _, p := range in.Parts {
		samples += p.Samples
	}
	// The sample table a part reserves ends the hour-long part early, more than once.
	if samples != frames || int64(len(in.Parts)) != st.Parts || in.Size != segs[0].Bytes || in.SHA256 != segs[0].SHA256 {
		t.Errorf("segment = %d samples in %d parts, %d bytes, sha %s; want %d, %d (status), %d, %s (index)",
			samples, len(in.Parts), in.Size, in.SHA256, frames, st.Parts, segs[0].Bytes, segs[0].SHA256)
	}
}
