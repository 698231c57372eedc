package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/store"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// holdRoles may place and release legal holds: the platform team, the police, and the camera's
// own organisation (for its own cameras only).
var holdRoles = []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleOperator, auth.RoleOwner}

func (s *Server) retentionRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/holds", holdRoles, s.createHold},
		{"GET", "/api/v1/holds", []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleAuditor, auth.RoleOperator, auth.RoleOwner}, s.listHolds},
		{"DELETE", "/api/v1/holds/{id}", holdRoles, s.releaseHold},
		{"GET", "/api/v1/storage", []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner, auth.RoleAuditor}, s.storageReport},
	}
}

// Bounds on a hold's fields.
const (
	maxHoldCameras   = 1000
	maxHoldReference = 200
	maxHoldReason    = 2000
)

type holdJSON struct {
	ID            string    `json:"id"`
	CameraIDs     []string  `json:"camera_ids"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Reference     string    `json:"reference"`
	Reason        string    `json:"reason"`
	Active        bool      `json:"active"`
	CreatedBy     string    `json:"created_by"`
	CreatedByName string    `json:"created_by_name"`
	CreatedAt     time.Time `json:"created_at"`
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	ReleasedBy    string    `json:"released_by,omitempty"`
	ReleasedName  string    `json:"released_by_name,omitempty"`
	ReleaseReason string    `json:"release_reason,omitempty"`
}

// holdView shows a hold with only the cameras in view (nil: all).
func holdView(h *retention.Hold, inView func(string) bool) holdJSON {
	ids := []string{}
	for _, c := range h.CameraIDs {
		if inView == nil || inView(c) {
			ids = append(ids, c)
		}
	}
	return holdJSON{ID: h.ID, CameraIDs: ids, Start: h.Start.UTC(), End: h.End.UTC(), Reference: h.Reference, Reason: h.Reason,
		Active: h.Active(), CreatedBy: h.CreatedBy, CreatedByName: h.CreatedByName, CreatedAt: h.CreatedAt.UTC(),
		ReleasedAt: h.ReleasedAt, ReleasedBy: h.ReleasedBy, ReleasedName: h.ReleasedByName, ReleaseReason: h.ReleaseReason}
}

// camerasInScope checks that every id names a camera the caller's scope reaches; another
// organisation's camera is not found, as everywhere.
func (s *Server) camerasInScope(ctx context.Context, ids []string) error {
	scope := access.ScopeOf(auth.UserFrom(ctx))
	cams, err := s.reg.Cameras(ctx, scope, registry.CameraFilter{IDs: ids})
	if err != nil {
		return err
	}
	if len(cams) != len(ids) {
		return errNotFound
	}
	return nil
}

func (s *Server) createHold(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CameraIDs []string  `json:"camera_ids"`
		Start     time.Time `json:"start"`
		End       time.Time `json:"end"`
		Reference string    `json:"reference"`
		Reason    string    `json:"reason"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	switch {
	case len(in.CameraIDs) == 0:
		return badRequest("camera_ids", "name at least one camera")
	case len(in.CameraIDs) > maxHoldCameras:
		return badRequest("camera_ids", "at most %d cameras", maxHoldCameras)
	case in.Start.IsZero():
		return badRequest("start", "is required (RFC 3339)")
	case in.End.IsZero():
		return badRequest("end", "is required (RFC 3339)")
	case !in.End.After(in.Start):
		return badRequest("end", "must be after start")
	}
	in.Reference, in.Reason = strings.TrimSpace(in.Reference), strings.TrimSpace(in.Reason)
	if err := checkText("reference", in.Reference, maxHoldReference, true); err != nil {
		return err
	}
	if err := checkText("reason", in.Reason, maxHoldReason, false); err != nil {
		return err
	}
	ids := slices.Clone(in.CameraIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if !registry.ValidID(id) {
			return badRequest("camera_ids", "%q is not a valid camera id", id)
		}
	}
	ctx := r.Context()
	if err := s.camerasInScope(ctx, ids); err != nil {
		return err
	}
	u := auth.UserFrom(ctx)
	h := &retention.Hold{ID: registry.NewID(), CameraIDs: ids, Start: in.Start.UTC(), End: in.End.UTC(),
		Reference: in.Reference, Reason: in.Reason, CreatedBy: u.ID, CreatedByName: u.Username, CreatedAt: s.now().UTC()}
	rec := trace.Record{Action: trace.ActionHoldCreate, CameraIDs: ids, From: h.Start, To: h.End, Reference: h.Reference,
		Outcome: trace.Allowed, Reason: "legal hold " + h.ID + ": " + h.Reason}
	if err := s.tracer.Record(ctx, rec); err != nil {
		return err
	}
	if err := s.db.CreateHold(ctx, h); err != nil {
		rec.Outcome, rec.Reason = "denied", "not stored: "+err.Error()
		if terr := s.tracer.Record(ctx, rec); terr != nil {
			s.log.Error("trace hold not stored", "hold", h.ID, "err", terr)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, holdView(h, nil))
	return nil
}

func checkText(field, v string, maxLen int, required bool) error {
	switch {
	case required && v == "":
		return badRequest(field, "is required")
	case !utf8.ValidString(v):
		return badRequest(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > maxLen:
		return badRequest(field, "at most %d characters", maxLen)
	}
	return nil
}

// scopeFilter reports which cameras the caller's scope reaches (nil: all of them).
func (s *Server) scopeFilter(ctx context.Context) (func(string) bool, error) {
	scope := access.ScopeOf(auth.UserFrom(ctx))
	if scope.All {
		return nil, nil
	}
	cams, err := s.reg.Cameras(ctx, scope, registry.CameraFilter{})
	if err != nil {
		return nil, err
	}
	mine := make(map[string]bool, len(cams))
	for _, c := range cams {
		mine[c.ID] = true
	}
	return func(id string) bool { return mine[id] }, nil
}

// listHolds lists the holds on the cameras in the caller's scope; ?active=true keeps the
// active ones, ?camera_id= one camera's.
func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	var f retention.HoldFilter
	switch q.Get("active") {
	case "", "false":
	case "true":
		f.ActiveOnly = true
	default:
		return badRequest("active", "must be true or false")
	}
	if c := q.Get("camera_id"); c != "" {
		if !registry.ValidID(c) {
			return badRequest("camera_id", "is not a valid id")
		}
		f.CameraID = c
	}
	inView, err := s.scopeFilter(ctx)
	if err != nil {
		return err
	}
	hs, err := s.db.Holds(ctx, f)
	if err != nil {
		return err
	}
	out := []holdJSON{}
	for _, h := range hs {
		v := holdView(h, inView)
		if len(v.CameraIDs) > 0 {
			out = append(out, v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": out})
	return nil
}

var errHoldNotYours = &apiError{Status: http.StatusForbidden, Code: "forbidden",
	Message: "only an admin, a reviewer or whoever placed this hold may release it"}

// releaseHold ends a hold, with the reason in the body ({"reason"}) or the query (?reason=).
// Admins and reviewers may release any hold; operators and owners only the holds they placed
// themselves on their own organisation's cameras, so that a camera's owner cannot undo a hold the
// police placed on its footage.
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	reason := r.URL.Query().Get("reason")
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if in.Reason != "" {
			reason = in.Reason
		}
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, maxHoldReason, true); err != nil {
		return err
	}
	h, err := s.db.Hold(ctx, id)
	if err != nil {
		return err
	}
	u := auth.UserFrom(ctx)
	rec := trace.Record{Action: trace.ActionHoldRelease, CameraIDs: h.CameraIDs, From: h.Start, To: h.End,
		Reference: h.Reference, Outcome: trace.Allowed, Reason: "legal hold " + h.ID + " released: " + reason}
	if u.Role != auth.RoleAdmin && u.Role != auth.RoleReviewer {
		if err := s.camerasInScope(ctx, h.CameraIDs); err != nil {
			return err
		}
		if h.CreatedBy != u.ID {
			rec.Outcome, rec.Reason = "denied", "legal hold "+h.ID+": placed by another user"
			if err := s.tracer.Record(ctx, rec); err != nil {
				return err
			}
			return errHoldNotYours
		}
	}
	if !h.Active() {
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the hold is already released"}
	}
	if err := s.tracer.Record(ctx, rec); err != nil {
		return err
	}
	now := s.now().UTC()
	if err := s.db.ReleaseHold(ctx, id, u.ID, u.Username, now, reason); err != nil {
		rec.Outcome, rec.Reason = "denied", "not stored: "+err.Error()
		if terr := s.tracer.Record(ctx, rec); terr != nil {
			s.log.Error("trace hold release not stored", "hold", h.ID, "err", terr)
		}
		if errors.Is(err, store.ErrConflict) {
			return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the hold is already released"}
		}
		return err
	}
	h.ReleasedAt, h.ReleasedBy, h.ReleasedByName, h.ReleaseReason = now, u.ID, u.Username, reason
	writeJSON(w, http.StatusOK, holdView(h, nil))
	return nil
}

// maxGapsShown bounds the gaps listed per camera; the count and total cover all of them.
const maxGapsShown = 100

type storageCamera struct {
	retention.CameraStorage
	Gaps          []timespan.Range `json:"gaps"`
	GapsTruncated bool             `json:"gaps_truncated"`
}

// planner is the storage planner the server was given, or one over the index alone (no live
// bitrates, the local disk unknown) when it records nothing.
func (s *Server) planner() *retention.Planner {
	if s.storage != nil {
		return s.storage
	}
	return retention.NewPlanner(retention.PlannerConfig{}, retention.PlannerDeps{Index: s.db, Registry: s.reg, Now: s.now})
}

// storageReport shows, per camera in the caller's scope, what is kept (bytes, oldest and newest
// recording, days kept, gaps) and how it records, and the forecast of every storage location.
// Operators and owners see the locations' totals but only their own cameras in them.
func (s *Server) storageReport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	scope := access.ScopeOf(auth.UserFrom(ctx))
	cams, err := s.reg.Cameras(ctx, scope, registry.CameraFilter{})
	if err != nil {
		return err
	}
	p := s.planner()
	st, err := p.Cameras(ctx, cams)
	if err != nil {
		return err
	}
	fs, err := p.Current(ctx)
	if err != nil {
		return err
	}
	mine := make(map[string]bool, len(cams))
	for _, c := range cams {
		mine[c.ID] = true
	}
	for i := range fs {
		if scope.All {
			continue
		}
		var keep []retention.CameraLoad
		for _, c := range fs[i].Cameras {
			if mine[c.CameraID] {
				keep = append(keep, c)
			}
		}
		fs[i].Cameras = keep
	}
	outCams := make([]storageCamera, 0, len(st))
	for _, c := range st {
		sc := storageCamera{CameraStorage: c, Gaps: []timespan.Range{}}
		gaps := c.Gaps
		if len(gaps) > maxGapsShown {
			gaps, sc.GapsTruncated = gaps[len(gaps)-maxGapsShown:], true
		}
		for _, g := range gaps {
			sc.Gaps = append(sc.Gaps, timespan.Range{Start: g.Start.UTC(), End: g.End.UTC()})
		}
		outCams = append(outCams, sc)
	}
	if fs == nil {
		fs = []retention.Forecast{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": fs, "cameras": outCams})
	return nil
}
