package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"civicam/internal/auth"
	"civicam/internal/live"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/trace"
)

// The sharing routes (issue 7): grants between organisations, camera groups, the terms owners
// agree to, and the owner's view of every access to its cameras by other organisations.
func (s *Server) grantRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/grants", managers, s.createGrant},
		{"GET", "/api/v1/grants", managers, s.listGrants},
		{"GET", "/api/v1/grants/accesses", managers, s.grantAccesses},
		{"GET", "/api/v1/grants/{id}", managers, s.getGrant},
		{"DELETE", "/api/v1/grants/{id}", managers, s.revokeGrant},
		{"POST", "/api/v1/groups", managers, s.createGroup},
		{"GET", "/api/v1/groups", managers, s.listGroups},
		{"GET", "/api/v1/groups/{id}", managers, s.getGroup},
		{"GET", "/api/v1/sharing/terms", managers, s.sharingTerms},
		{"GET", "/api/v1/sharing/cameras", managers, s.sharedCameras},
		{"GET", "/api/v1/sharing/notifications", managers, s.sharingNotifications},
	}
}

// Sharing is the sharing service the API serves (nil when sharing is not configured), for the
// web UI's pages over the same grants and groups.
func (s *Server) Sharing() *sharing.Service { return s.sharing }

var errSharingOff = &apiError{Status: http.StatusServiceUnavailable, Code: "sharing_unavailable", Message: "sharing is not configured on this server"}

// sharingError maps the sharing service's refusals to the API's answers.
func sharingError(err error) error {
	var inv *sharing.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return badRequest(inv.Field, "%s", inv.Message)
	case errors.Is(err, sharing.ErrTermsChanged):
		return &apiError{Status: http.StatusConflict, Code: "terms_changed", Field: "terms_version", Message: err.Error()}
	case errors.Is(err, sharing.ErrNotFound):
		return errNotFound
	}
	return err
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	var in sharing.GrantInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	g, err := s.sharing.CreateGrant(r.Context(), u, in)
	if err != nil {
		return sharingError(err)
	}
	if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionGrantCreate, CameraIDs: g.CameraIDs,
		From: g.StartsAt, To: g.EndsAt, Reference: g.ID, Purpose: g.Purpose, Outcome: trace.Allowed, Reason: grantSummary(g)}); err != nil {
		// An untraced grant must not stand.
		if _, rerr := s.sharing.RevokeGrant(r.Context(), u, g.ID); rerr != nil {
			s.log.Error("withdraw untraced grant", "grant", g.ID, "err", rerr)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": g.ID, "grant": g})
	return nil
}

// grantSummary is the trail's account of a grant: to whom, what, under which group and terms.
func grantSummary(g *sharing.Grant) string {
	var b strings.Builder
	fmt.Fprintf(&b, "grant %s: organisation %s shares with %s scopes %s", g.ID, g.OwnerOrganisationID, g.GranteeOrganisationID, strings.Join(g.Scopes, ","))
	if g.GroupID != "" {
		fmt.Fprintf(&b, " over group %s", g.GroupID)
	}
	fmt.Fprintf(&b, "; consent under terms version %d", g.TermsVersion)
	return b.String()
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	gs, err := s.sharing.Grants(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return sharingError(err)
	}
	if gs == nil {
		gs = []*sharing.Grant{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": gs})
	return nil
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	g, err := s.sharing.Grant(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return sharingError(err)
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// revokeGrant ends a grant at once: the grantee's live views of the owner's cameras that nothing
// else covers now are closed here; playback streams end at their next re-check (about a second);
// exports already made stay, as the trail recorded them.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	u := auth.UserFrom(r.Context())
	g, err := s.sharing.RevokeGrant(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return sharingError(err)
	}
	ended := 0
	if s.live != nil {
		ctx := r.Context()
		ended = s.live.Revoke(func(ss *live.Session) bool {
			if ss.OrganisationID != g.GranteeOrganisationID {
				return false
			}
			viewer := &auth.User{ID: ss.UserID, Username: ss.Username, Role: ss.Role, OrganisationID: ss.OrganisationID}
			return s.footage.MayStillWatch(ctx, viewer, ss.CameraID) != nil
		}, "sharing grant "+g.ID+" revoked")
	}
	if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionGrantRevoke, CameraIDs: g.CameraIDs,
		Reference: g.ID, Purpose: g.Purpose, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s; revoked, %d live view(s) ended", grantSummary(g), ended)}); err != nil {
		// The revocation stands (the safe direction); the caller learns the trail missed it.
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// grantAccesses is the owner's view of its cameras' use by other organisations:
// ?format=json (default) or csv; admins name the owner with ?organisation_id=.
func (s *Server) grantAccesses(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return badRequest("format", "must be json or csv")
	}
	u := auth.UserFrom(r.Context())
	org := u.OrganisationID
	if u.Role == auth.RoleAdmin {
		org = q.Get("organisation_id")
	}
	if !registry.ValidID(org) {
		return badRequest("organisation_id", "name the organisation whose cameras to show")
	}
	if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionTraceRead, Outcome: trace.Allowed,
		Reason: "accesses to organisation " + org + "'s cameras by other organisations"}); err != nil {
		return err
	}
	as, err := s.sharing.Accesses(r.Context(), u, s.trail, org)
	if err != nil {
		return sharingError(err)
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="accesses.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return sharing.WriteAccessesCSV(w, as)
	}
	if as == nil {
		as = []sharing.Access{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"organisation_id": org, "accesses": as})
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	var in sharing.GroupInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.sharing.CreateGroup(r.Context(), auth.UserFrom(r.Context()), in)
	if err != nil {
		return sharingError(err)
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	gs, err := s.sharing.Groups(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return sharingError(err)
	}
	if gs == nil {
		gs = []*sharing.Group{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": gs})
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	g, err := s.sharing.Group(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return sharingError(err)
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// sharedCameras lists other organisations' cameras shared with the caller's organisation now,
// with the scopes and the grants (or the pack's defaults) that share them.
func (s *Server) sharedCameras(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	cs, err := s.sharing.SharedCameras(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []sharing.SharedCamera{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": cs})
	return nil
}

func (s *Server) sharingTerms(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	t, err := s.sharing.Terms(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// sharingNotifications lists the emergency uses of the caller's organisation's cameras.
func (s *Server) sharingNotifications(w http.ResponseWriter, r *http.Request) error {
	if s.sharing == nil {
		return errSharingOff
	}
	u := auth.UserFrom(r.Context())
	org := u.OrganisationID
	if u.Role == auth.RoleAdmin {
		org = r.URL.Query().Get("organisation_id")
	}
	if !registry.ValidID(org) {
		return badRequest("organisation_id", "name the organisation")
	}
	ns, err := s.db.Notifications(r.Context(), org)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []*sharing.Notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": ns})
	return nil
}
