package recorder

import (
	"context"
	"slices"
	"time"

	"civicam/internal/segment"
	"civicam/internal/timespan"
)

// RangeIndex is what Coverage reads of the recordings index; *store.DB is one.
type RangeIndex interface {
	// RecordingRanges reports the merged stretches of a camera's sealed segments within
	// [start, end), clipped to it, and the gaps left.
	RecordingRanges(ctx context.Context, cameraID string, start, end time.Time) (timespan.Coverage, error)
}

// StatusReader tells how a camera's recording stands in this process; *Recorder is one.
type StatusReader interface {
	Status(cameraID string) (Status, bool)
}

// Open is the stretch of the segment being written that is already on disk, from its start to
// the end of its last part; false when no segment is open or none of it is written yet.
func (s Status) Open() (timespan.Range, bool) {
	if s.SegmentStart.IsZero() {
		return timespan.Range{}, false
	}
	r := timespan.Range{Start: s.SegmentStart, End: s.LastPart}
	return r, !r.Empty()
}

// Coverage is what was recorded of a camera within w: the index's sealed segments and, when
// live records the camera, the segment it is writing, which the index holds without an end
// until it is sealed; merged by segment.MergeGap, so that the last minute is not shown as a
// gap. live may be nil (this process records nothing). The recordings API, the web UI's
// timeline and whatever else shows coverage take it from here.
func Coverage(ctx context.Context, idx RangeIndex, live StatusReader, cameraID string, w timespan.Range) (timespan.Coverage, error) {
	cov, err := idx.RecordingRanges(ctx, cameraID, w.Start, w.End)
	if err != nil || live == nil {
		return cov, err
	}
	st, ok := live.Status(cameraID)
	if !ok {
		return cov, nil
	}
	open, ok := st.Open()
	if !ok {
		return cov, nil
	}
	return withOpen(cov, w, open), nil
}

// withOpen adds the open segment to a coverage of w.
func withOpen(cov timespan.Coverage, w, open timespan.Range) timespan.Coverage {
	open, ok := open.Clip(w)
	if !ok {
		return cov
	}
	return timespan.Cover(append(slices.Clone(cov.Ranges), open), segment.MergeGap, w)
}
