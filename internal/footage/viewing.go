package footage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// A viewing is one look at the recordings of up to MaxViewingCameras cameras over an extent of
// time, as a reviewing operator makes it: a purpose stated once, then a timeline clicked and
// players seeking back and forth, in sync. Tracing each seek would bury the one look under
// dozens of entries that say nothing more, so the viewing is decided and traced once, for its
// whole extent and all its cameras, before it is kept; the ranges its players ask for inside the
// extent are then served without an entry of their own and kept with the viewing (its seeks).
// Every range is still checked against the access rule as it is asked, and a refusal is traced.

// MaxViewingCameras is how many cameras one viewing plays in sync.
const MaxViewingCameras = 4

// maxSeeks bounds the seeks kept with one viewing; past it the page opens another (traced).
const maxSeeks = 5000

// Viewing is an open look at recordings, held by the page that opened it.
type Viewing struct {
	ID            string    `json:"id"`
	UserID        string    `json:"user_id"`
	CameraIDs     []string  `json:"camera_ids"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Purpose       string    `json:"purpose"`
	ApplicationID string    `json:"application_id,omitempty"`
	CaseRef       string    `json:"case_ref,omitempty"`
	OpenedAt      time.Time `json:"opened_at"`
	LastAt        time.Time `json:"last_at"`
	Seeks         int       `json:"seeks"`
}

// ViewingSeek is one range a viewing's player asked for.
type ViewingSeek struct {
	CameraID string    `json:"camera_id"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	At       time.Time `json:"at"`
}

// Viewings keeps viewings and their seeks; *store.DB implements it. A missing viewing is
// fault.ErrNotFound. AddViewingSeek keeps a range once however often it is asked (a browser
// asks for the same MP4 in several byte ranges) and moves the viewing's LastAt on.
type Viewings interface {
	CreateViewing(ctx context.Context, v *Viewing) error
	Viewing(ctx context.Context, id string) (*Viewing, error)
	AddViewingSeek(ctx context.Context, viewingID string, s ViewingSeek) error
	ViewingSeeks(ctx context.Context, viewingID string) ([]ViewingSeek, error)
}

// ViewingRequest opens a viewing.
type ViewingRequest struct {
	CameraIDs     []string
	Start, End    time.Time // the extent: what the viewing may play
	Purpose       string
	ApplicationID string
	CaseRef       string
}

var (
	errNoViewings = &fault.Error{Kind: fault.Unavailable, Code: "viewings_unavailable", Message: "this server keeps no viewings"}
	// errNoViewing is a viewing the caller does not hold: another user's is not theirs to know of.
	errNoViewing = &fault.Error{Kind: fault.NotFound, Code: "no_viewing", Message: "no such viewing", Traced: true}
	// errViewingUnknown answers a read of a viewing the caller may not read; the face traces it.
	errViewingUnknown = &fault.Error{Kind: fault.NotFound, Code: "not_found", Message: "no such viewing"}
	errViewingEnded   = &fault.Error{Kind: fault.Conflict, Code: "viewing_ended", Traced: true,
		Message: "the viewing has ended; open another (its purpose is asked again)"}
	errViewingFull = &fault.Error{Kind: fault.Conflict, Code: "viewing_full", Traced: true,
		Message: "the viewing holds as many seeks as it may; open another"}
)

// viewingIdle is how long a viewing stays open without a request: an operator pausing to
// think keeps it, one who walked away does not.
const viewingIdle = 30 * time.Minute

// maxViewingExtent is the longest extent of one viewing: the timeline's widest zoom.
const maxViewingExtent = 7 * 24 * time.Hour

// OpenViewing decides a viewing for u: every camera under the footage rule for playback over the
// whole extent (a refusal traced as any look's is, and nothing opened), then one trail entry for
// all of it, then the viewing kept.
func (s *Service) OpenViewing(ctx context.Context, u *auth.User, req ViewingRequest) (*Viewing, error) {
	if s.d.Viewings == nil {
		return nil, errNoViewings
	}
	if u == nil {
		return nil, denied("not logged in")
	}
	ids := slices.Clone(req.CameraIDs)
	first := ""
	if len(ids) > 0 {
		first = ids[0]
	}
	bad := func(err error) (*Viewing, error) {
		s.Malformed(ctx, access.Playback, Request{CameraID: first, Start: req.Start, End: req.End, Purpose: req.Purpose}, err)
		return nil, err
	}
	switch {
	case len(ids) == 0:
		return bad(fault.InvalidField("camera_ids", "name at least one camera"))
	case len(ids) > MaxViewingCameras:
		return bad(fault.InvalidField("camera_ids", "at most %d cameras play together", MaxViewingCameras))
	}
	for i, id := range ids {
		if !registry.ValidID(id) {
			return bad(fault.InvalidField("camera_ids", "%q is not a camera id", id))
		}
		if slices.Contains(ids[:i], id) {
			return bad(fault.InvalidField("camera_ids", "camera %s is named twice", id))
		}
	}
	if !req.Start.IsZero() && req.End.Sub(req.Start) > maxViewingExtent {
		return bad(fault.InvalidField("end", "a viewing spans at most %s", maxViewingExtent))
	}
	var bases []string
	var ref string
	purpose := strings.TrimSpace(req.Purpose)
	for _, id := range ids {
		l, err := s.Decide(ctx, u, access.Playback, Request{CameraID: id, Start: req.Start, End: req.End,
			Purpose: req.Purpose, ApplicationID: req.ApplicationID, CaseRef: req.CaseRef})
		if err != nil {
			return nil, err // traced by Decide
		}
		ref, purpose = l.reference(), l.Purpose
		if l.basis != "" {
			bases = append(bases, "camera "+id+" "+l.basis)
		}
	}
	now := s.d.Now().UTC()
	v := &Viewing{ID: registry.NewID(), UserID: u.ID, CameraIDs: ids, Start: req.Start.UTC(), End: req.End.UTC(),
		Purpose: purpose, ApplicationID: req.ApplicationID, CaseRef: strings.TrimSpace(req.CaseRef), OpenedAt: now, LastAt: now}
	reason := fmt.Sprintf("viewing %s opened over %d camera(s); the ranges its players ask for inside this extent are kept with it, not traced one by one", v.ID, len(ids))
	if len(bases) > 0 {
		reason += "; " + strings.Join(bases, "; ")
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionPlayback, CameraIDs: ids, From: v.Start, To: v.End,
		Reference: ref, Purpose: v.Purpose, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.d.Viewings.CreateViewing(ctx, v); err != nil {
		return nil, fmt.Errorf("open viewing: %w", err)
	}
	return v, nil
}

// DecideInViewing checks one range asked for inside u's viewing: the viewing is u's and still
// open, the camera is one of it, the range lies inside its extent, and the footage rule still
// lets u see it (a grant revoked since the viewing opened ends it). The look carries the
// viewing's purpose; Played then keeps the range with the viewing instead of tracing it. Each
// refusal is traced.
func (s *Service) DecideInViewing(ctx context.Context, u *auth.User, viewingID string, req Request) (*Look, error) {
	if s.d.Viewings == nil {
		return nil, errNoViewings
	}
	refuse := func(err error) (*Look, error) {
		s.Malformed(ctx, access.Playback, req, err)
		return nil, err
	}
	if u == nil {
		return refuse(denied("not logged in"))
	}
	if !registry.ValidID(viewingID) {
		return refuse(errNoViewing)
	}
	v, err := s.d.Viewings.Viewing(ctx, viewingID)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return refuse(errNoViewing)
	case err != nil:
		return nil, err
	case v.UserID != u.ID:
		return refuse(errNoViewing)
	case s.d.Now().Sub(v.LastAt) > viewingIdle:
		return refuse(errViewingEnded)
	case v.Seeks >= maxSeeks:
		return refuse(errViewingFull)
	case !slices.Contains(v.CameraIDs, req.CameraID):
		return refuse(fault.InvalidField("camera", "camera %s is not one of viewing %s", req.CameraID, v.ID))
	case req.Start.IsZero() || req.End.IsZero() || req.Start.Before(v.Start) || req.End.After(v.End):
		return refuse(fault.InvalidField("start", "the range must lie inside the viewing's extent, %s to %s",
			v.Start.Format(time.RFC3339), v.End.Format(time.RFC3339)))
	}
	l, err := s.Decide(ctx, u, access.Playback, Request{CameraID: req.CameraID, Start: req.Start, End: req.End,
		Purpose: v.Purpose, ApplicationID: v.ApplicationID, CaseRef: v.CaseRef})
	if err != nil {
		return nil, err
	}
	l.viewing = v.ID
	return l, nil
}

// Viewing is u's own viewing with its seeks; an auditor may read anyone's.
func (s *Service) Viewing(ctx context.Context, u *auth.User, id string) (*Viewing, []ViewingSeek, error) {
	if s.d.Viewings == nil {
		return nil, nil, errNoViewings
	}
	if u == nil || !registry.ValidID(id) {
		return nil, nil, errViewingUnknown
	}
	v, err := s.d.Viewings.Viewing(ctx, id)
	if errors.Is(err, fault.ErrNotFound) || err == nil && v.UserID != u.ID && u.Role != auth.RoleAuditor {
		return nil, nil, errViewingUnknown
	}
	if err != nil {
		return nil, nil, err
	}
	seeks, err := s.d.Viewings.ViewingSeeks(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return v, seeks, nil
}

// keepSeek records a range played inside a viewing, which its opening already traced.
func (s *Service) keepSeek(ctx context.Context, l *Look) error {
	if err := s.d.Viewings.AddViewingSeek(ctx, l.viewing, ViewingSeek{CameraID: l.Camera.ID, Start: l.Start.UTC(), End: l.End.UTC(),
		At: s.d.Now().UTC()}); err != nil {
		return fmt.Errorf("viewing %s: keep seek: %w", l.viewing, err)
	}
	return nil
}
