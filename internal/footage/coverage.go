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
	"civicam/internal/sharing"
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
	return s.CoverageUnder(ctx, u, cameraID, start, end, "")
}

// CoverageUnder is Coverage for a reviewer's lost-person application (applicationID; "" for
// everyone else): the review-by-time timeline of a camera the reviewer may see only under it.
func (s *Service) CoverageUnder(ctx context.Context, u *auth.User, cameraID string, start, end time.Time, applicationID string) (timespan.Coverage, error) {
	if !registry.ValidID(cameraID) {
		return timespan.Coverage{}, fmt.Errorf("camera %q: %w", cameraID, fault.ErrNotFound)
	}
	cam, err := s.d.Cameras.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return timespan.Coverage{}, err
	}
	if err := s.d.Access.Check(ctx, u, cam, access.Playback, start, end, applicationID); err != nil {
		return timespan.Coverage{}, err
	}
	return s.Recorded(ctx, cameraID, start, end)
}

// RecordedFor is Recorded for the user asking through the API, who already reaches the camera
// in the registry. A reviewer reaches every camera there, but knows when a private camera
// recorded only where it may see that camera's footage under an application (REG-4): its
// owner's grant, an approved footage request or emergency use under a case. Otherwise the
// refusal is traced and the camera answered as not found.
func (s *Service) RecordedFor(ctx context.Context, u *auth.User, cam *registry.Camera, start, end time.Time, applicationID, caseRef string) (timespan.Coverage, error) {
	if u != nil && u.Role == auth.RoleReviewer && cam.Investment != registry.InvestmentGovernment {
		cctx := ctx
		if caseRef != "" {
			cctx = sharing.WithCaseRef(ctx, caseRef)
		}
		if err := s.d.Access.Check(cctx, u, cam, access.Playback, start, end, applicationID); err != nil {
			if terr := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionRecordingsRead, CameraIDs: []string{cam.ID},
				From: start, To: end, Reference: applicationID, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
				return timespan.Coverage{}, terr
			}
			return timespan.Coverage{}, ErrHidden
		}
	}
	return s.Recorded(ctx, cam.ID, start, end)
}
