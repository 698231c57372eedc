package httpapi

import (
	"net/http"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

// The sharing routes (issue 7): grants between organisations, camera groups, the terms owners
// agree to, and the owner's view of every access to its cameras by other organisations. The
// workflows (validation, policy, trail, write, ending live views) are the sharing service's;
// these handlers decode, call it and encode.
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
		{"PATCH", "/api/v1/groups/{id}", managers, s.updateGroup},
		{"DELETE", "/api/v1/groups/{id}", managers, s.deleteGroup},
		{"GET", "/api/v1/sharing/terms", managers, s.sharingTerms},
		{"GET", "/api/v1/sharing/cameras", managers, s.sharedCameras},
		{"GET", "/api/v1/sharing/notifications", managers, s.sharingNotifications},
	}
}

func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	var in sharing.GrantInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.sharing.CreateGrant(r.Context(), auth.UserFrom(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": g.ID, "grant": g})
	return nil
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.sharing.Grants(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	return writePage(w, r, "grants", gs, 1, func(g *sharing.Grant) []string { return []string{g.ID} }, false)
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request) error {
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	g, err := s.sharing.Grant(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// revokeGrant ends a grant at once (sharing.Service.RevokeGrant ends the grantee's live views
// too). A trail that cannot take the revocation is answered 503, though the revocation stands.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	g, err := s.sharing.RevokeGrant(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// grantAccesses is the owner's view of its cameras' use by other organisations:
// ?format=json (default) or csv; admins name the owner with ?organisation_id=.
func (s *Server) grantAccesses(w http.ResponseWriter, r *http.Request) error {
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
	as, err := s.sharing.Accesses(r.Context(), u, org)
	if err != nil {
		return err
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
	var in sharing.GroupInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.sharing.CreateGroup(r.Context(), auth.UserFrom(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.sharing.Groups(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	return writePage(w, r, "groups", gs, 2, func(g *sharing.Group) []string { return []string{g.Name, g.ID} }, false)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	g, err := s.sharing.Group(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// updateGroup renames a group or changes its criterion or cameras.
func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request) error {
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	var ch sharing.GroupChange
	if err := decodeJSON(w, r, &ch); err != nil {
		return err
	}
	g, err := s.sharing.UpdateGroup(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// deleteGroup deletes a group no grant in force shares.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if !registry.ValidID(r.PathValue("id")) {
		return errNotFound
	}
	if err := s.sharing.DeleteGroup(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sharedCameras lists other organisations' cameras shared with the caller's organisation now,
// with the scopes and the grants (or the pack's defaults) that share them.
func (s *Server) sharedCameras(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.sharing.SharedCameras(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	return writePage(w, r, "cameras", cs, 1, func(c sharing.SharedCamera) []string { return []string{c.Camera.ID} }, false)
}

func (s *Server) sharingTerms(w http.ResponseWriter, r *http.Request) error {
	t, err := s.sharing.Terms(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// sharingNotifications lists the emergency uses of the caller's organisation's cameras; admins
// name the organisation with ?organisation_id=.
func (s *Server) sharingNotifications(w http.ResponseWriter, r *http.Request) error {
	u := auth.UserFrom(r.Context())
	org := u.OrganisationID
	if u.Role == auth.RoleAdmin {
		org = r.URL.Query().Get("organisation_id")
	}
	ns, err := s.sharing.Notifications(r.Context(), u, org)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []*sharing.Notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": ns})
	return nil
}
