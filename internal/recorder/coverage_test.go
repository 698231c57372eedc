package recorder_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
)

// statuses is a recorder's status as Coverage reads it.
type statuses map[string]recorder.Status

func (s statuses) Status(id string) (recorder.Status, bool) {
	st, ok := s[id]
	return st, ok
}

// TestCoverage: the index's sealed segments with the one being written merged in by the
// index's rule, clipped to the window; without a recorder, or without an open segment with a
// part written, the index's answer as it is.
func TestCoverage(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	tr := func(a, b float64) timespan.Range { return timespan.Range{Start: at(a), End: at(b)} }
	// cam1 recorded 0–60 and 100–160.
	for i, r := range []timespan.Range{tr(0, 60), tr(100, 160)} {
		path := fmt.Sprintf("cam1/%d.mp4", i)
		if err := db.SegmentStarted(ctx, "cam1", path, r.Start); err != nil {
			t.Fatal(err)
		}
		if err := db.SegmentSealed(ctx, segment.Record{CameraID: "cam1", Path: path, Start: r.Start, End: r.End, Sealed: true}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(from, to float64) statuses {
		return statuses{"cam1": {SegmentStart: at(from), LastPart: at(to)}}
	}
	tests := []struct {
		name         string
		live         recorder.StatusReader
		window       timespan.Range
		ranges, gaps []timespan.Range
	}{
		{"no recorder", nil, tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160)}, []timespan.Range{tr(60, 100), tr(160, 200)}},
		{"camera not recorded here", statuses{}, tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160)}, []timespan.Range{tr(60, 100), tr(160, 200)}},
		{"no segment open", statuses{"cam1": {LastPart: at(170)}}, tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160)}, []timespan.Range{tr(60, 100), tr(160, 200)}},
		{"no part written yet", open(160, 160), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160)}, []timespan.Range{tr(60, 100), tr(160, 200)}},
		{"open after the last sealed", open(160, 190), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 190)}, []timespan.Range{tr(60, 100), tr(190, 200)}},
		{"open within the merge gap", open(161.4, 190), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 190)}, []timespan.Range{tr(60, 100), tr(190, 200)}},
		{"open after a reconnect", open(170, 190), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160), tr(170, 190)}, []timespan.Range{tr(60, 100), tr(160, 170), tr(190, 200)}},
		{"open past the window", open(160, 300), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 200)}, []timespan.Range{tr(60, 100)}},
		{"open after the window", open(250, 300), tr(0, 200), []timespan.Range{tr(0, 60), tr(100, 160)}, []timespan.Range{tr(60, 100), tr(160, 200)}},
		{"only the open segment", open(160, 190), tr(170, 180), []timespan.Range{tr(170, 180)}, nil},
		{"bridging two ranges", open(60, 100), tr(0, 200), []timespan.Range{tr(0, 160)}, []timespan.Range{tr(160, 200)}},
	}
	same := func(a, b []timespan.Range) bool {
		return slices.EqualFunc(a, b, func(x, y timespan.Range) bool { return x.Start.Equal(y.Start) && x.End.Equal(y.End) })
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cov, err := recorder.Coverage(ctx, db, tc.live, "cam1", tc.window)
			if err != nil {
				t.Fatalf("Coverage = %v", err)
			}
			if !same(cov.Ranges, tc.ranges) || !same(cov.Gaps, tc.gaps) {
				t.Errorf("Coverage(%v) = ranges %v gaps %v; want ranges %v gaps %v", tc.window, cov.Ranges, cov.Gaps, tc.ranges, tc.gaps)
			}
		})
	}
}
