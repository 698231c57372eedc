package trace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"civicam/internal/auth"
)

// Record is what a caller knows of an access or change; the Recorder adds who made it (the
// context's actor) and when.
type Record struct {
	Action    Action
	CameraIDs []string
	From, To  time.Time // the footage asked for, when any
	Reference string    // the application, grant, hold or case
	Purpose   string    // as the user stated it
	Outcome   Outcome
	Reason    string
}

// Tracer records an access or change in the trail before it happens. An error refuses what was
// being traced (fail closed); it wraps ErrUnavailable, or ErrInvalid for a record the trail
// cannot take (a caller's mistake, not an outage). Every service takes one; Recorder is the
// real one.
type Tracer interface {
	Record(ctx context.Context, r Record) error
}

// ErrUnavailable marks a failure to write the trail: the access or change it would have
// recorded is refused, so nothing happens untraced.
var ErrUnavailable = errors.New("access trail unavailable")

// Recorder records accesses and changes in the log as the context's actor. Record returns once
// the entry is durable.
type Recorder struct{ Log *Log }

// Record appends one entry for the actor attached to ctx (auth.WithActor).
func (r Recorder) Record(ctx context.Context, rec Record) error {
	a, _ := auth.ActorFrom(ctx)
	_, err := r.Log.Append(ctx, Entry{
		Actor: Actor{UserID: a.UserID, Username: a.Username, Role: string(a.Role),
			OrganisationID: a.OrganisationID, ClientAddr: a.ClientAddr},
		Action:    rec.Action,
		CameraIDs: rec.CameraIDs,
		From:      rec.From,
		To:        rec.To,
		Reference: rec.Reference,
		Purpose:   rec.Purpose,
		Outcome:   rec.Outcome,
		Reason:    rec.Reason,
	})
	switch {
	case errors.Is(err, ErrInvalid):
		return err
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
