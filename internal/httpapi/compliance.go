package httpapi

import (
	"net/http"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

// compliance reports policy findings for the caller's scope, as JSON or (?format=csv) CSV.
func (s *Server) compliance(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	scope := access.ScopeOf(auth.UserFrom(r.Context()))
	findings, err := s.reg.Compliance(r.Context(), scope, q.Get("organisation_id"), q.Get("camera_id"))
	if err != nil {
		return err
	}
	// Storage that cannot hold the retention floor is a finding on every camera it records.
	more, err := s.storage.ComplianceFindings(r.Context(), scope, q.Get("organisation_id"), q.Get("camera_id"))
	if err != nil {
		return err
	}
	findings = append(findings, more...)
	switch q.Get("format") {
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{"findings": findings, "policy_version": s.reg.Pack().Version()})
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="compliance.csv"`)
		return registry.WriteFindingsCSV(w, findings)
	default:
		return badRequest("format", "must be json or csv")
	}
	return nil
}
