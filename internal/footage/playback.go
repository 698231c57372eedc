package footage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/fault"
	"civicam/internal/playback"
	"civicam/internal/trace"
)

// Plan plans the MP4 of a look's range (see package playback). The caller closes it. A range
// the planner refuses is traced as a malformed look; a range with nothing recorded is traced
// as the look it was, before it is answered, for "nothing was recorded then" is itself what
// was recorded when.
func (s *Service) Plan(ctx context.Context, l *Look) (*playback.Plan, error) {
	p, err := s.builder.Plan(ctx, l.Camera.ID, l.Start, l.End)
	switch {
	case errors.Is(err, playback.ErrBadRange):
		bad := &fault.Error{Kind: fault.Invalid, Code: "invalid", Field: "end",
			Message: strings.TrimPrefix(err.Error(), playback.ErrBadRange.Error()+": "), Err: err}
		s.Malformed(ctx, l.use, l.Request, bad)
		return nil, bad
	case errors.Is(err, playback.ErrNoFootage) && l.viewing != "":
		return nil, ErrNoFootage // a seek into a gap of a viewing already traced
	case errors.Is(err, playback.ErrNoFootage):
		if err := s.d.Tracer.Record(ctx, trace.Record{Action: actions[l.use], CameraIDs: []string{l.Camera.ID},
			From: l.Start, To: l.End, Reference: l.reference(), Purpose: l.Purpose, Outcome: trace.Allowed,
			Reason: l.traceReason("nothing was recorded in the range")}); err != nil {
			return nil, err
		}
		return nil, ErrNoFootage
	}
	return p, err
}

// Played traces a playback before any byte of it is sent: what the plan holds and, for a byte
// range, which bytes. A seek inside a viewing is kept with the viewing instead. A request for the headers alone is traced too: they tell when the camera
// recorded and when not. A trail that cannot be written refuses the playback.
func (s *Service) Played(ctx context.Context, l *Look, plan *playback.Plan, off, n int64, partial, headersOnly bool) error {
	if l.viewing != "" {
		return s.keepSeek(ctx, l)
	}
	// The trail's From and To are the range asked for; what was served starts at the keyframe
	// before it, and the reason says so, so that an audit sees every second that was shown.
	reason := fmt.Sprintf("%s recorded in %d stretch(es), %d gap(s); served %s to %s", plan.Duration.Round(time.Millisecond),
		len(plan.Spans), len(plan.Gaps), plan.Covered.Start.UTC().Format(time.RFC3339Nano), plan.Covered.End.UTC().Format(time.RFC3339Nano))
	if headersOnly {
		reason = "headers only (recorded stretches and gaps): " + reason
	} else if partial {
		reason += fmt.Sprintf("; bytes %d-%d of %d", off, off+n-1, plan.Size)
	}
	return s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionPlayback, CameraIDs: []string{l.Camera.ID},
		From: l.Start, To: l.End, Reference: l.reference(), Purpose: l.Purpose, Outcome: trace.Allowed, Reason: l.traceReason(reason)})
}

// CutShort traces a playback stopped because the right to look ended while it streamed. The
// stream is already cut, so a trail failure is only logged.
func (s *Service) CutShort(ctx context.Context, l *Look, d *access.Denial) {
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionPlayback, CameraIDs: []string{l.Camera.ID},
		From: l.Start, To: l.End, Reference: l.ApplicationID, Purpose: l.Purpose, Outcome: trace.Denied,
		Reason: "access ended during playback: " + d.Reason}); err != nil {
		s.d.Logger.Error("trace playback cut", "err", err)
	}
}
