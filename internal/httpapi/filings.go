package httpapi

import (
	"net/http"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

// filingRoutes are system filing (the pack's system_filing): who reads compliance reads the
// filings and the overdue ones; the public security organ's admins record a filing received.
func (s *Server) filingRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/filings", complianceRoles, s.listFilings},
		{"POST", "/api/v1/cameras/{id}/filing", admins, s.recordFiling},
	}
}

func (s *Server) listFilings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	overdue := q.Get("overdue")
	if overdue != "" && overdue != "true" && overdue != "false" {
		return badRequest("overdue", "must be true or false")
	}
	fs, err := s.reg.Filings(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), overdue == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"filings": fs, "policy_version": s.reg.Pack().Version(),
		"filing_days": s.reg.Pack().SystemFiling().Days})
	return nil
}

func (s *Server) recordFiling(w http.ResponseWriter, r *http.Request) error {
	var in registry.FilingInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	f, err := s.reg.RecordFiling(r.Context(), access.ScopeOf(u), r.PathValue("id"), u.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
