package httpapi

import (
	"net/http"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

// constructionDeciders may decide on a duplicate camera's construction; the registry narrows
// them to the public security organ (a public-security organisation other than the owner).
var constructionDeciders = []auth.Role{auth.RoleAdmin, auth.RoleReviewer}

// duplicateRoutes are the duplicate-construction check (REG-3) and its decision.
func (s *Server) duplicateRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cameras/{id}/duplicate-check", staff, s.duplicateCheck},
		{"POST", "/api/v1/cameras/{id}/construction-approval", constructionDeciders, s.decideConstruction},
	}
}

// duplicateCheck checks a camera in the caller's scope against every camera's field of view.
func (s *Server) duplicateCheck(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	rep, err := s.reg.DuplicateCheck(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// decideConstruction approves or declines building a camera that duplicates existing ones.
func (s *Server) decideConstruction(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in registry.ConstructionDecision
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.reg.DecideConstruction(r.Context(), auth.UserFrom(r.Context()), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}
