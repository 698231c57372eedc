package httpapi

import (
	"net/http"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

type organisationRequest struct {
	Name              string `json:"name"`
	Kind              string `json:"kind"`
	DepartmentType    string `json:"department_type"`
	EstablishmentType string `json:"establishment_type"`
}

func (s *Server) createOrganisation(w http.ResponseWriter, r *http.Request) error {
	var req organisationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o := &registry.Organisation{Name: req.Name, Kind: req.Kind, DepartmentType: req.DepartmentType, EstablishmentType: req.EstablishmentType}
	if err := s.reg.CreateOrganisation(r.Context(), o); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) listOrganisations(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.reg.OrganisationsSeen(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())))
	if err != nil {
		return err
	}
	return writePage(w, r, "organisations", orgs, 2, func(o *registry.Organisation) []string { return []string{o.Name, o.ID} }, false)
}

func (s *Server) getOrganisation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	o, err := s.reg.OrganisationSeen(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
