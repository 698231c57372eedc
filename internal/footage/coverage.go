package footage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/segment"
)

// Recorded is what was recorded of a camera in [start, end), as ranges and gaps, including the
// segment being written now: it is not in the index until sealed, and the recorder's status
// supplies it, so the last minute is not shown as a gap. It says when, not what: it is not
// traced, and the caller decides who may know it.
func (s *Service) Recorded(ctx context.Context, cameraID string, start, end time.Time) (segment.Coverage, error) {
	cov, err := s.ranges.RecordingRanges(ctx, cameraID, start, end)
	if err != nil {
		return segment.Coverage{}, err
	}
	if s.d.Recorder != nil {
		if st, ok := s.d.Recorder.Status(cameraID); ok && !st.SegmentStart.IsZero() && st.LastPart.After(st.SegmentStart) {
			cov = withOpenSegment(cov, start, end, st.SegmentStart, st.LastPart)
		}
	}
	return cov, nil
}

// Coverage is Recorded for a user who may play the camera back (the footage access check,
// without tracing). The web UI draws its timeline from it.
func (s *Service) Coverage(ctx context.Context, u *auth.User, cameraID string, start, end time.Time) (segment.Coverage, error) {
	if !registry.ValidID(cameraID) {
		return segment.Coverage{}, fmt.Errorf("camera %q: %w", cameraID, fault.ErrNotFound)
	}
	cam, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return segment.Coverage{}, err
	}
	if err := s.d.Access.Check(ctx, u, cam, access.Playback, start, end, ""); err != nil {
		return segment.Coverage{}, err
	}
	return s.Recorded(ctx, cameraID, start, end)
}

// withOpenSegment adds the recording in progress, [from, to), to a coverage of [start, end).
func withOpenSegment(cov segment.Coverage, start, end, from, to time.Time) segment.Coverage {
	from, to = maxTime(from, start), minTime(to, end)
	if !to.After(from) {
		return cov
	}
	var ranges []segment.TimeRange
	merged := segment.TimeRange{Start: from, End: to}
	for _, rg := range cov.Ranges {
		if rg.End.Add(segment.MergeGap).Before(merged.Start) || merged.End.Add(segment.MergeGap).Before(rg.Start) {
			ranges = append(ranges, rg)
			continue
		}
		merged.Start, merged.End = minTime(merged.Start, rg.Start), maxTime(merged.End, rg.End)
	}
	ranges = append(ranges, merged)
	slices.SortFunc(ranges, func(a, b segment.TimeRange) int { return a.Start.Compare(b.Start) })
	out := segment.Coverage{Ranges: ranges}
	cursor := start
	for _, rg := range ranges {
		if rg.Start.After(cursor) {
			out.Gaps = append(out.Gaps, segment.TimeRange{Start: cursor, End: rg.Start})
		}
		cursor = maxTime(cursor, rg.End)
	}
	if end.After(cursor) {
		out.Gaps = append(out.Gaps, segment.TimeRange{Start: cursor, End: end})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
