package sharing

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Trail reads the access trail (*trace.Log implements it).
type Trail interface {
	Query(ctx context.Context, f trace.Filter) ([]trace.Entry, *int64, error)
}

// Access is one trail entry on an owner's camera by someone of another organisation.
type Access struct {
	Seq                 int64     `json:"seq"`
	Time                time.Time `json:"time"`
	Action              string    `json:"action"`
	Outcome             string    `json:"outcome"`
	CameraID            string    `json:"camera_id"`
	UserID              string    `json:"user_id"`
	Username            string    `json:"username"`
	ActorOrganisationID string    `json:"actor_organisation_id"`
	From                time.Time `json:"from,omitzero"`
	To                  time.Time `json:"to,omitzero"`
	Purpose             string    `json:"purpose"`
	Reference           string    `json:"reference"`
	// GrantID is the grant in force at the time that shared the camera with the actor's
	// organisation for the action's scope; "policy" when the pack's defaults did; empty when
	// neither (an admin, or a denied attempt).
	GrantID string `json:"grant_id"`
}

// scopeOfAction is the sharing scope an action of the trail used.
var scopeOfAction = map[trace.Action]string{trace.ActionLiveView: ScopeLive, trace.ActionPlayback: ScopePlayback, trace.ActionExport: ScopeExport}

// Accesses lists, oldest first, every trail entry on organisation org's cameras made by anyone
// not of org, with the grant it was made under. Only org's owners and operators, and admins, ask.
// Reading the trail is itself traced first; when the trail cannot take that, nothing is read.
func (s *Service) Accesses(ctx context.Context, u *auth.User, org string) ([]Access, error) {
	if !registry.ValidID(org) {
		return nil, invalid("organisation_id", "name the organisation whose cameras to show")
	}
	if !mayManage(u, org) {
		return nil, fmt.Errorf("organisation %s: %w", org, fault.ErrNotFound)
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionTraceRead, Outcome: trace.Allowed,
		Reason: "accesses to organisation " + org + "'s cameras by other organisations"}); err != nil {
		return nil, err
	}
	cams, err := s.d.Cameras.Cameras(ctx, registry.Scope{OrganisationID: org}, registry.CameraFilter{})
	if err != nil {
		return nil, fmt.Errorf("owner's cameras: %w", err)
	}
	grants, err := s.d.Store.GrantsBetween(ctx, org, "")
	if err != nil {
		return nil, fmt.Errorf("owner's grants: %w", err)
	}
	seen := map[int64]bool{}
	var out []Access
	for _, cam := range cams {
		f := trace.Filter{CameraID: cam.ID, OldestFirst: true, Limit: trace.MaxLimit}
		for {
			es, next, err := s.d.Trail.Query(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("trail of camera %s: %w", cam.ID, err)
			}
			for _, e := range es {
				if e.Actor.OrganisationID == org || !slices.Contains(e.CameraIDs, cam.ID) {
					continue
				}
				if seen[e.Seq] {
					continue
				}
				seen[e.Seq] = true
				out = append(out, Access{Seq: e.Seq, Time: e.Time, Action: string(e.Action), Outcome: string(e.Outcome),
					CameraID: cam.ID, UserID: e.Actor.UserID, Username: e.Actor.Username, ActorOrganisationID: e.Actor.OrganisationID,
					From: e.From, To: e.To, Purpose: e.Purpose, Reference: e.Reference,
					GrantID: s.grantFor(ctx, grants, cam, e)})
			}
			if next == nil || len(es) == 0 {
				break
			}
			f.Cursor = next
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// grantFor names what shared cam with the entry's actor for the entry's scope when it was made.
// The trail does not carry the grant, but grants are never deleted (revocation only stamps
// them), so the grant in force at the entry's time is found again here.
func (s *Service) grantFor(ctx context.Context, grants []*Grant, cam *registry.Camera, e trace.Entry) string {
	scope, ok := scopeOfAction[e.Action]
	if !ok || e.Outcome != trace.Allowed || e.Actor.OrganisationID == "" {
		return ""
	}
	var emergency string
	for _, g := range grants {
		if g.GranteeOrganisationID != e.Actor.OrganisationID || !g.ActiveAt(e.Time) {
			continue
		}
		if in, err := s.covers(ctx, g, cam); err != nil || !in {
			continue
		}
		if slices.Contains(g.Scopes, scope) {
			return g.ID
		}
		if slices.Contains(g.Scopes, ScopeEmergency) && emergency == "" {
			emergency = g.ID
		}
	}
	if emergency != "" {
		return emergency
	}
	if s.sharedByDefault(cam) {
		if org, err := s.d.Store.Organisation(ctx, e.Actor.OrganisationID); err == nil && slices.Contains(s.policyDefaults(org), scope) {
			return "policy"
		}
	}
	return ""
}

// WriteAccessesCSV writes accesses as CSV with a header row; user-entered text is defused
// against spreadsheet formulas.
func WriteAccessesCSV(w io.Writer, as []Access) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "action", "outcome", "camera_id", "user_id", "username", "actor_organisation_id", "from", "to", "purpose", "reference", "grant_id"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for _, a := range as {
		cw.Write([]string{fmt.Sprint(a.Seq), ts(a.Time), a.Action, a.Outcome, a.CameraID, a.UserID, registry.CSVSafe(a.Username),
			a.ActorOrganisationID, ts(a.From), ts(a.To), registry.CSVSafe(a.Purpose), registry.CSVSafe(a.Reference), a.GrantID})
	}
	cw.Flush()
	return cw.Error()
}
