package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Hold is a legal hold: while it is active (not released), no segment of its cameras that
// overlaps [Start, End) may be deleted.
type Hold struct {
	ID        string
	CameraIDs []string // sorted
	Start     time.Time
	End       time.Time
	Reference string // the case or application the footage is kept for
	Reason    string
	// CreatedBy is the user id of whoever placed the hold, CreatedByName their username.
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
	// ReleasedAt is zero while the hold is active.
	ReleasedAt     time.Time
	ReleasedBy     string
	ReleasedByName string
	ReleaseReason  string
}

// Active reports whether the hold still blocks deletion.
func (h *Hold) Active() bool { return h.ReleasedAt.IsZero() }

// HoldFilter narrows a listing of holds.
type HoldFilter struct {
	ActiveOnly bool
	CameraID   string // only holds covering this camera
	// After is the keyset cursor: holds after this one in the list's order (newest first, then
	// by id); nil from the start. Limit bounds the rows read; 0 reads all.
	After *HoldKey
	Limit int
}

// HoldKey is a hold's place in the list: newest first, then by id.
type HoldKey struct {
	CreatedAt time.Time
	ID        string
}

// HoldStore keeps the holds; *store.DB implements it. ReleaseHold of a hold already released
// is fault.ErrConflict; a missing hold is fault.ErrNotFound.
type HoldStore interface {
	CreateHold(ctx context.Context, h *Hold) error
	Hold(ctx context.Context, id string) (*Hold, error)
	Holds(ctx context.Context, f HoldFilter) ([]*Hold, error)
	ReleaseHold(ctx context.Context, id, byUserID, byUsername string, at time.Time, reason string) error
}

// Bounds on a hold's fields.
const (
	MaxHoldCameras   = 1000
	MaxHoldReference = 200
	MaxHoldReason    = 2000
)

// HoldsDeps are what the holds desk works with.
type HoldsDeps struct {
	Store    HoldStore
	Registry Registry
	Tracer   trace.Tracer
	Logger   *slog.Logger
	Now      func() time.Time
}

// Holds places, lists and releases legal holds: the one workflow the API, the web UI and the
// command line share. Every placement and release is traced before it is stored.
type Holds struct {
	d HoldsDeps
}

// NewHolds returns the holds desk.
func NewHolds(d HoldsDeps) *Holds {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Holds{d: d}
}

// HoldInput is a request to place a hold.
type HoldInput struct {
	CameraIDs []string
	Start     time.Time
	End       time.Time
	Reference string
	Reason    string
}

var (
	errHoldNotYours = &fault.Error{Kind: fault.Forbidden, Code: "forbidden",
		Message: "only an admin, a reviewer or whoever placed this hold may release it"}
	errHoldReleased = &fault.Error{Kind: fault.Conflict, Code: "conflict", Message: "the hold is already released"}
)

// Place puts a hold on cameras in the user's scope (another organisation's camera is not found,
// as everywhere).
func (h *Holds) Place(ctx context.Context, u *auth.User, in HoldInput) (*Hold, error) {
	switch {
	case len(in.CameraIDs) == 0:
		return nil, fault.InvalidField("camera_ids", "name at least one camera")
	case len(in.CameraIDs) > MaxHoldCameras:
		return nil, fault.InvalidField("camera_ids", "at most %d cameras", MaxHoldCameras)
	case in.Start.IsZero():
		return nil, fault.InvalidField("start", "is required (RFC 3339)")
	case in.End.IsZero():
		return nil, fault.InvalidField("end", "is required (RFC 3339)")
	case !in.End.After(in.Start):
		return nil, fault.InvalidField("end", "must be after start")
	}
	in.Reference, in.Reason = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Reason)
	if err := checkText("reference", in.Reference, MaxHoldReference, true); err != nil {
		return nil, err
	}
	if err := checkText("reason", in.Reason, MaxHoldReason, false); err != nil {
		return nil, err
	}
	ids := slices.Clone(in.CameraIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if !registry.ValidID(id) {
			return nil, fault.InvalidField("camera_ids", "%q is not a valid camera id", id)
		}
	}
	if err := h.inScope(ctx, u, ids); err != nil {
		return nil, err
	}
	hd := &Hold{ID: registry.NewID(), CameraIDs: ids, Start: in.Start.UTC(), End: in.End.UTC(),
		Reference: in.Reference, Reason: in.Reason, CreatedBy: u.ID, CreatedByName: u.Username, CreatedAt: h.d.Now().UTC()}
	rec := trace.Record{Action: trace.ActionHoldCreate, CameraIDs: ids, From: hd.Start, To: hd.End, Reference: hd.Reference,
		Outcome: trace.Allowed, Reason: "legal hold " + hd.ID + ": " + hd.Reason}
	if err := h.d.Tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	if err := h.d.Store.CreateHold(ctx, hd); err != nil {
		h.notStored(ctx, rec, err)
		return nil, err
	}
	return hd, nil
}

// notStored traces that a write the trail already announced did not happen. The write's own
// failure is the answer, so a trail failure here is only logged.
func (h *Holds) notStored(ctx context.Context, rec trace.Record, err error) {
	rec.Outcome, rec.Reason = trace.Denied, "not stored: "+err.Error()
	if terr := h.d.Tracer.Record(ctx, rec); terr != nil {
		h.d.Logger.Error("trace hold not stored", "reference", rec.Reference, "err", terr)
	}
}

func checkText(field, v string, maxLen int, required bool) error {
	switch {
	case required && v == "":
		return fault.InvalidField(field, "is required")
	case !utf8.ValidString(v):
		return fault.InvalidField(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > maxLen:
		return fault.InvalidField(field, "at most %d characters", maxLen)
	}
	return nil
}

// inScope checks that every id names a camera the user's scope reaches.
func (h *Holds) inScope(ctx context.Context, u *auth.User, ids []string) error {
	cams, err := h.d.Registry.Cameras(ctx, access.ScopeOf(u), registry.CameraFilter{IDs: ids})
	if err != nil {
		return err
	}
	if len(cams) != len(ids) {
		return fmt.Errorf("hold cameras: %w", fault.ErrNotFound)
	}
	return nil
}

// List lists the holds on the cameras in the user's scope, newest first, each showing only the
// cameras the user may see; a hold with none of them is left out.
// Page is List a page at a time: at most f.Limit (≥ 1) holds after f.After, and the key the
// next page starts after (nil on the last page). A page may hold fewer than f.Limit when some
// of the holds read cover none of the caller's cameras.
func (h *Holds) Page(ctx context.Context, u *auth.User, f HoldFilter) ([]*Hold, *HoldKey, error) {
	limit := f.Limit
	f.Limit = limit + 1
	hs, read, err := h.list(ctx, u, f)
	if err != nil {
		return nil, nil, err
	}
	if len(read) <= limit {
		return hs, nil, nil
	}
	last := read[limit-1]
	hs = slices.DeleteFunc(hs, func(x *Hold) bool {
		return x.CreatedAt.Before(last.CreatedAt) || (x.CreatedAt.Equal(last.CreatedAt) && x.ID > last.ID)
	})
	return hs, &HoldKey{CreatedAt: last.CreatedAt, ID: last.ID}, nil
}

func (h *Holds) List(ctx context.Context, u *auth.User, f HoldFilter) ([]*Hold, error) {
	hs, _, err := h.list(ctx, u, f)
	return hs, err
}

// list is List, and the holds as read before the caller's scope trimmed them (their keys).
func (h *Holds) list(ctx context.Context, u *auth.User, f HoldFilter) ([]*Hold, []HoldKey, error) {
	if f.CameraID != "" && !registry.ValidID(f.CameraID) {
		return nil, nil, fault.InvalidField("camera_id", "is not a valid id")
	}
	var mine map[string]bool
	if scope := access.ScopeOf(u); !scope.All {
		cams, err := h.d.Registry.Cameras(ctx, scope, registry.CameraFilter{})
		if err != nil {
			return nil, nil, err
		}
		mine = make(map[string]bool, len(cams))
		for _, c := range cams {
			mine[c.ID] = true
		}
	}
	hs, err := h.d.Store.Holds(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	read := make([]HoldKey, len(hs))
	for i, hd := range hs {
		read[i] = HoldKey{CreatedAt: hd.CreatedAt, ID: hd.ID}
	}
	out := hs[:0]
	for _, hd := range hs {
		if mine != nil {
			hd.CameraIDs = slices.DeleteFunc(hd.CameraIDs, func(id string) bool { return !mine[id] })
		}
		if len(hd.CameraIDs) > 0 {
			out = append(out, hd)
		}
	}
	return out, read, nil
}

// Release ends a hold. Admins and reviewers may release any hold; operators and owners only the
// holds they placed themselves on their own organisation's cameras, so that a camera's owner
// cannot undo a hold the police placed on its footage.
func (h *Holds) Release(ctx context.Context, u *auth.User, id, reason string) (*Hold, error) {
	if !registry.ValidID(id) {
		return nil, fmt.Errorf("hold %q: %w", id, fault.ErrNotFound)
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, MaxHoldReason, true); err != nil {
		return nil, err
	}
	hd, err := h.d.Store.Hold(ctx, id)
	if err != nil {
		return nil, err
	}
	rec := trace.Record{Action: trace.ActionHoldRelease, CameraIDs: hd.CameraIDs, From: hd.Start, To: hd.End,
		Reference: hd.Reference, Outcome: trace.Allowed, Reason: "legal hold " + hd.ID + " released: " + reason}
	if u.Role != auth.RoleAdmin && u.Role != auth.RoleReviewer {
		if err := h.inScope(ctx, u, hd.CameraIDs); err != nil {
			return nil, err
		}
		if hd.CreatedBy != u.ID {
			rec.Outcome, rec.Reason = trace.Denied, "legal hold "+hd.ID+": placed by another user"
			if err := h.d.Tracer.Record(ctx, rec); err != nil {
				return nil, err
			}
			return nil, errHoldNotYours
		}
	}
	if !hd.Active() {
		return nil, errHoldReleased
	}
	if err := h.d.Tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	now := h.d.Now().UTC()
	if err := h.d.Store.ReleaseHold(ctx, id, u.ID, u.Username, now, reason); err != nil {
		h.notStored(ctx, rec, err)
		if errors.Is(err, fault.ErrConflict) {
			return nil, errHoldReleased
		}
		return nil, err
	}
	hd.ReleasedAt, hd.ReleasedBy, hd.ReleasedByName, hd.ReleaseReason = now, u.ID, u.Username, reason
	return hd, nil
}
