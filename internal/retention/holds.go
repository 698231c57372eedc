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
	"civicam/internal/timespan"
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
	// Class is HoldImportant or "" for an ordinary hold.
	Class string
	// KeptUntil is when an important hold may be released at the earliest: the end of its
	// footage plus the pack's important_footage_days. Zero for an ordinary hold.
	KeptUntil time.Time
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

// HoldImportant is the class of hold on important public-safety footage, which the pack's
// important_footage_days option keeps at least that long after the footage (Chongqing,
// Xinjiang: two years): it is not released sooner, so the cleaner keeps what it holds.
const HoldImportant = "important"

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
	// Objects, when recordings go to a bucket with Object Lock, carries every placement and
	// release to the legal holds of the held segments' objects; nil otherwise.
	Objects HoldObjects
	Logger  *slog.Logger
	Now     func() time.Time
	// ImportantDays is the pack's important_footage_days in force (0: the pack has no important
	// class); nil is 0.
	ImportantDays func() int
}

// HoldObjects sets the bucket's legal holds; *bucket.LegalHolds implements it.
type HoldObjects interface {
	// SyncLegalHolds sets the legal hold of the object of each of cameraID's segments
	// overlapping r when one of the camera's active holds covers it, and clears it otherwise.
	SyncLegalHolds(ctx context.Context, cameraID string, r timespan.Range) error
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
	Class     string // "" or HoldImportant
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
	var keptUntil time.Time
	switch in.Class = strings.TrimSpace(in.Class); in.Class {
	case "":
	case HoldImportant:
		days := h.importantDays()
		if days <= 0 {
			return nil, fault.InvalidField("class", "the policy pack has no important-footage class (options.important_footage_days)")
		}
		keptUntil = in.End.UTC().AddDate(0, 0, days)
	default:
		return nil, fault.InvalidField("class", "must be empty or %q", HoldImportant)
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
		Reference: in.Reference, Reason: in.Reason, Class: in.Class, KeptUntil: keptUntil,
		CreatedBy: u.ID, CreatedByName: u.Username, CreatedAt: h.d.Now().UTC()}
	what := "legal hold " + hd.ID
	if hd.Class == HoldImportant {
		what += " (important footage, kept until " + keptUntil.Format(time.RFC3339) + ")"
	}
	rec := trace.Record{Action: trace.ActionHoldCreate, CameraIDs: ids, From: hd.Start, To: hd.End, Reference: hd.Reference,
		Outcome: trace.Allowed, Reason: what + ": " + hd.Reason}
	if err := h.d.Tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	if err := h.d.Store.CreateHold(ctx, hd); err != nil {
		h.notStored(ctx, rec, err)
		return nil, err
	}
	h.syncObjects(ctx, hd)
	return hd, nil
}

func (h *Holds) importantDays() int {
	if h.d.ImportantDays == nil {
		return 0
	}
	return h.d.ImportantDays()
}

// syncObjects carries a placed or released hold to the bucket's objects. The hold is stored and
// retention already obeys it; a bucket that cannot be reached now is logged, and the uploader
// gives later uploads the hold anyway.
func (h *Holds) syncObjects(ctx context.Context, hd *Hold) {
	if h.d.Objects == nil {
		return
	}
	for _, cam := range hd.CameraIDs {
		if err := h.d.Objects.SyncLegalHolds(ctx, cam, timespan.Range{Start: hd.Start, End: hd.End}); err != nil {
			h.d.Logger.Error("legal hold: set on bucket objects", "hold", hd.ID, "camera", cam, "err", err)
		}
	}
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
	now := h.d.Now().UTC()
	if now.Before(hd.KeptUntil) {
		rec.Outcome, rec.Reason = trace.Denied, "legal hold "+hd.ID+": important footage, kept until "+hd.KeptUntil.Format(time.RFC3339)
		if err := h.d.Tracer.Record(ctx, rec); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Conflict, Code: "important_footage_kept",
			Message: "this hold keeps important footage until " + hd.KeptUntil.Format(time.RFC3339) + "; it cannot be released sooner"}
	}
	if err := h.d.Tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	if err := h.d.Store.ReleaseHold(ctx, id, u.ID, u.Username, now, reason); err != nil {
		h.notStored(ctx, rec, err)
		if errors.Is(err, fault.ErrConflict) {
			return nil, errHoldReleased
		}
		return nil, err
	}
	hd.ReleasedAt, hd.ReleasedBy, hd.ReleasedByName, hd.ReleaseReason = now, u.ID, u.Username, reason
	h.syncObjects(ctx, hd)
	return hd, nil
}
