package trace

import (
	"context"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// Recorder records accesses and changes in the log as the context's actor: it is the Tracer the
// registry, the API and the web UI are given. Append returns once the entry is durable, and an
// error refuses the access being recorded.
type Recorder struct{ Log *Log }

// Record appends one entry for the actor attached to ctx (auth.WithActor).
func (r Recorder) Record(ctx context.Context, rec registry.TraceRecord) error {
	a, _ := auth.ActorFrom(ctx)
	_, err := r.Log.Append(ctx, Entry{
		Actor: Actor{UserID: a.UserID, Username: a.Username, Role: string(a.Role),
			OrganisationID: a.OrganisationID, ClientAddr: a.ClientAddr},
		Action:    Action(rec.Action),
		CameraIDs: rec.CameraIDs,
		From:      rec.From,
		To:        rec.To,
		Reference: rec.Reference,
		Purpose:   rec.Purpose,
		Outcome:   Outcome(rec.Outcome),
		Reason:    rec.Reason,
	})
	return err
}
