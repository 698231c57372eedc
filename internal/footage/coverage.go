package footage

import (
	"context"
	"fmt"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Recorded is what was recorded of a camera in [start, end), as ranges and gaps, including the
// segment being written now: it is not in the index until sealed, and the recorder's status
// supplies it, so the last minute is not shown as a gap. It says when, not what, but when a
// camera saw and when it did not is footage metadata: the read is traced before it is
// answered, and a trail that cannot take it refuses it. The caller decides who may know it.
func (s *Service) Recorded(ctx context.Context, cameraID string, start, end time.Time) (timespan.Coverage, error) {
	var live recorder.StatusReader
	if s.d.Recorder != nil {
		live = s.d.Recorder
	}
	cov, err := recorder.Coverage(ctx, s.ranges, live, cameraID, timespan.Range{Start: start, End: end})
	if err != nil {
		return timespan.Coverage{}, err
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionRecordingsRead, CameraIDs: []string{cameraID},
		From: start, To: end, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%d recorded stretch(es), %d gap(s)", len(cov.Ranges), len(cov.Gaps))}); err != nil {
		return timespan.Coverage{}, err
	}
	return cov, nil
}

// Coverage is Recorded for a user who may play the camera back (the footage access check; a
// refusal is the web UI's to show, the read is traced as Recorded's). The web UI draws its
// timeline from it.
func (s *Service) Coverage(ctx context.Context, u *auth.User, cameraID string, start, end time.Time) (timespan.Coverage, error) {
	if !registry.ValidID(cameraID) {
		return timespan.Coverage{}, fmt.Errorf("camera %q: %w", cameraID, fault.ErrNotFound)
	}
	cam, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return timespan.Coverage{}, err
	}
	if err := s.d.Access.Check(ctx, u, cam, access.Playback, start, end, ""); err != nil {
		return timespan.Coverage{}, err
	}
	return s.Recorded(ctx, cameraID, start, end)
}
