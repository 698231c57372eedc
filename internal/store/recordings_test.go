package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func seal(t *testing.T, db *store.DB, cam, path string, start, end time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := db.SegmentStarted(ctx, cam, path, start); err != nil {
		t.Fatalf("SegmentStarted(%s) = %v", path, err)
	}
	rec := segment.Record{CameraID: cam, Path: path, Start: start, End: end, Bytes: 1000, SHA256: "ab", Sealed: true}
	if err := db.SegmentSealed(ctx, rec); err != nil {
		t.Fatalf("SegmentSealed(%s) = %v", path, err)
	}
}

func TestSegmentLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.SegmentStarted(ctx, "cam1", "cam1/a.mp4", at(0)); err != nil {
			t.Fatalf("SegmentStarted = %v", err)
		}
		if err := db.SegmentStarted(ctx, "cam1", "cam1/a.mp4", at(0)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("SegmentStarted(duplicate) = %v; want ErrConflict", err)
		}
		if err := db.SegmentStarted(ctx, "cam2", "cam2/b.mp4", at(5)); err != nil {
			t.Fatalf("SegmentStarted = %v", err)
		}
		if un, err := db.UnsealedSegments(ctx, "cam2"); err != nil || len(un) != 1 || un[0].Path != "cam2/b.mp4" {
			t.Errorf("UnsealedSegments(cam2) = %+v, %v; want cam2/b.mp4 only", un, err)
		}
		un, err := db.UnsealedSegments(ctx, "")
		if err != nil {
			t.Fatalf("UnsealedSegments = %v", err)
		}
		if len(un) != 2 || un[0].Path != "cam1/a.mp4" || un[1].Path != "cam2/b.mp4" || un[0].Sealed || !un[0].Start.Equal(at(0)) {
			t.Fatalf("UnsealedSegments = %+v; want cam1/a.mp4 then cam2/b.mp4, unsealed", un)
		}
		// Unsealed segments are not yet recordings anyone can play.
		if segs, _ := db.RecordingSegments(ctx, "cam1", at(-10), at(100)); len(segs) != 0 {
			t.Errorf("RecordingSegments before seal = %+v; want none", segs)
		}
		want := segment.Record{CameraID: "cam1", Path: "cam1/a.mp4", Start: at(0), End: at(60.04), Bytes: 123456,
			SHA256: "00ff", Sealed: true}
		if err := db.SegmentSealed(ctx, want); err != nil {
			t.Fatalf("SegmentSealed = %v", err)
		}
		got, err := db.RecordingSegment(ctx, "cam1/a.mp4")
		if err != nil {
			t.Fatalf("RecordingSegment = %v", err)
		}
		want.ID = got.ID
		want.Location = segment.LocationLocal // where every sealed segment is until uploaded
		if got != want {
			t.Errorf("RecordingSegment = %+v; want %+v", got, want)
		}
		un, _ = db.UnsealedSegments(ctx, "")
		if len(un) != 1 || un[0].Path != "cam2/b.mp4" {
			t.Errorf("UnsealedSegments after seal = %+v; want only cam2/b.mp4", un)
		}
		// A seal whose start was never indexed still lands in the index.
		orphan := segment.Record{CameraID: "cam3", Path: "cam3/c.mp4", Start: at(0), End: at(1), Bytes: 1, SHA256: "aa", Sealed: true}
		if err := db.SegmentSealed(ctx, orphan); err != nil {
			t.Fatalf("SegmentSealed(never started) = %v", err)
		}
		if segs, _ := db.RecordingSegments(ctx, "cam3", at(0), at(1)); len(segs) != 1 {
			t.Errorf("RecordingSegments(cam3) = %+v; want the orphan seal", segs)
		}
		if old, err := db.SegmentsEndedBefore(ctx, "cam1", at(61), 10); err != nil || len(old) != 1 {
			t.Errorf("SegmentsEndedBefore(61s) = %+v, %v; want cam1/a.mp4", old, err)
		}
		if old, _ := db.SegmentsEndedBefore(ctx, "cam1", at(60), 10); len(old) != 0 {
			t.Errorf("SegmentsEndedBefore(60s) = %+v; want none (it ends at 60.04s)", old)
		}
		for range 2 { // deleting twice is fine
			if err := db.DeleteSegment(ctx, "cam1/a.mp4"); err != nil {
				t.Fatalf("DeleteSegment = %v", err)
			}
		}
		if _, err := db.RecordingSegment(ctx, "cam1/a.mp4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordingSegment(deleted) = %v; want ErrNotFound", err)
		}
	})
}

func TestRecordingRanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// 0–60 and 60–120 abut; 120.5–180 is a quick reconnect (merged); 200–260 follows a real
		// 20 s gap. Another camera's segment must not show.
		seal(t, db, "cam1", "cam1/1.mp4", at(0), at(60))
		seal(t, db, "cam1", "cam1/2.mp4", at(60), at(120))
		seal(t, db, "cam1", "cam1/3.mp4", at(120.5), at(180))
		seal(t, db, "cam1", "cam1/4.mp4", at(200), at(260))
		seal(t, db, "cam2", "cam2/1.mp4", at(180), at(200))
		if err := db.SegmentStarted(ctx, "cam1", "cam1/5.mp4", at(260)); err != nil { // still recording
			t.Fatalf("SegmentStarted = %v", err)
		}
		tr := func(a, b float64) timespan.Range { return timespan.Range{Start: at(a), End: at(b)} }
		tests := []struct {
			name        string
			start, end  float64
			ranges, gap []timespan.Range
		}{
			{"all", -10, 300, []timespan.Range{tr(0, 180), tr(200, 260)}, []timespan.Range{tr(-10, 0), tr(180, 200), tr(260, 300)}},
			{"inside one range", 30, 90, []timespan.Range{tr(30, 90)}, nil},
			{"straddling the gap", 170, 210, []timespan.Range{tr(170, 180), tr(200, 210)}, []timespan.Range{tr(180, 200)}},
			{"only the gap", 185, 195, nil, []timespan.Range{tr(185, 195)}},
			{"before anything", -100, -50, nil, []timespan.Range{tr(-100, -50)}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cov, err := db.RecordingRanges(ctx, "cam1", at(tc.start), at(tc.end))
				if err != nil {
					t.Fatalf("RecordingRanges = %v", err)
				}
				if !sameRanges(cov.Ranges, tc.ranges) || !sameRanges(cov.Gaps, tc.gap) {
					t.Errorf("RecordingRanges(%v, %v) = ranges %v gaps %v; want ranges %v gaps %v",
						tc.start, tc.end, cov.Ranges, cov.Gaps, tc.ranges, tc.gap)
				}
			})
		}
	})
}

func sameRanges(a, b []timespan.Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}
