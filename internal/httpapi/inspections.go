package httpapi

import (
	"net/http"
	"strconv"

	"civicam/internal/auth"
	"civicam/internal/inspection"
)

var (
	// inspectionReaders: the public security organ and auditors see every establishment's
	// inspections; owners and operators their own organisation's (the service scopes).
	inspectionReaders = []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleAuditor, auth.RoleOperator, auth.RoleOwner}
	inspectionWriters = []auth.Role{auth.RoleAdmin, auth.RoleOwner}
	reportReaders     = []auth.Role{auth.RoleAdmin, auth.RoleReviewer, auth.RoleAuditor}
	reportHandlers    = []auth.Role{auth.RoleAdmin, auth.RoleReviewer}
)

// maxPhotoBody bounds a JSON body carrying a photo in base64: the pack's largest photo (64 MiB
// at most) is refused by the service with its own limit; this only stops a body without end.
const maxPhotoBody = 12 << 20

func (s *Server) inspectionRoutes() []Route {
	if s.inspections == nil {
		return nil
	}
	return []Route{
		{"GET", "/api/v1/inspections/plans", inspectionReaders, s.inspectionPlans},
		{"PUT", "/api/v1/inspections/plans/{organisation_id}", inspectionWriters, s.setInspectionPlan},
		{"GET", "/api/v1/inspections/records", inspectionReaders, s.inspectionRecords},
		{"POST", "/api/v1/inspections/records", inspectionWriters, s.addInspectionRecord},
		{"GET", "/api/v1/inspections/records/{id}/photo", inspectionReaders, s.inspectionPhoto},
		{"GET", "/api/v1/inspections/overdue", inspectionReaders, s.inspectionsOverdue},
		{"POST", "/api/v1/camera-reports", nil, s.submitCameraReport},
		{"POST", "/api/v1/camera-reports/status", nil, s.cameraReportStatus},
		{"GET", "/api/v1/camera-reports/counts", nil, s.cameraReportCounts},
		{"GET", "/api/v1/camera-reports", reportReaders, s.cameraReports},
		{"GET", "/api/v1/camera-reports/{id}", reportReaders, s.cameraReport},
		{"GET", "/api/v1/camera-reports/{id}/photo", reportReaders, s.cameraReportPhoto},
		{"PATCH", "/api/v1/camera-reports/{id}", reportHandlers, s.handleCameraReport},
	}
}

type planRequest struct {
	RoomGroups []string `json:"room_groups"`
}

func (s *Server) inspectionPlans(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.inspections.Plans(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"plans": ps})
	return nil
}

func (s *Server) setInspectionPlan(w http.ResponseWriter, r *http.Request) error {
	var in planRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.inspections.SetPlan(r.Context(), auth.UserFrom(r.Context()), r.PathValue("organisation_id"), in.RoomGroups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) inspectionRecords(w http.ResponseWriter, r *http.Request) error {
	u := auth.UserFrom(r.Context())
	org := r.URL.Query().Get("organisation_id")
	if org == "" {
		org = u.OrganisationID
	}
	if org == "" {
		return badRequest("organisation_id", "is required")
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit", "must be 1 to 1000")
		}
		limit = n
	}
	rs, err := s.inspections.Records(r.Context(), u, org, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": rs})
	return nil
}

// recordRequest is an inspection record; photo is the picture (JPEG or PNG) in base64.
type recordRequest struct {
	inspection.RecordInput
	Photo []byte `json:"photo"`
}

func (s *Server) addInspectionRecord(w http.ResponseWriter, r *http.Request) error {
	var in recordRequest
	if err := decodeJSONUpTo(w, r, &in, maxPhotoBody); err != nil {
		return err
	}
	rec, err := s.inspections.AddRecord(r.Context(), auth.UserFrom(r.Context()), in.RecordInput, in.Photo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

func (s *Server) inspectionPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := s.inspections.RecordPhoto(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writePhoto(w, p)
	return nil
}

// writePhoto answers a sanitised photo so that no browser runs or sniffs it as anything else.
func writePhoto(w http.ResponseWriter, p *inspection.StoredPhoto) {
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(p.Data)
}

func (s *Server) inspectionsOverdue(w http.ResponseWriter, r *http.Request) error {
	od, err := s.inspections.Overdue(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"overdue": od})
	return nil
}

// reportRequest is the public form; photo is optional, a JPEG or PNG in base64.
type reportRequest struct {
	inspection.ReportInput
	Photo []byte `json:"photo"`
}

func (s *Server) submitCameraReport(w http.ResponseWriter, r *http.Request) error {
	var in reportRequest
	if err := decodeJSONUpTo(w, r, &in, maxPhotoBody); err != nil {
		return err
	}
	rc, err := s.inspections.SubmitReport(r.Context(), in.ReportInput, in.Photo)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rc)
	return nil
}

// cameraReportStatus takes the receipt in the body, not the URL, so that it stays out of logs
// and browser histories.
func (s *Server) cameraReportStatus(w http.ResponseWriter, r *http.Request) error {
	var in receiptRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.inspections.ReportStatus(r.Context(), in.Receipt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) cameraReportCounts(w http.ResponseWriter, r *http.Request) error {
	c, err := s.inspections.ReportCounts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) cameraReports(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.inspections.Reports(r.Context(), auth.UserFrom(r.Context()), inspection.Status(r.URL.Query().Get("status")), 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": rs})
	return nil
}

func (s *Server) cameraReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.inspections.Report(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) cameraReportPhoto(w http.ResponseWriter, r *http.Request) error {
	p, err := s.inspections.ReportPhoto(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writePhoto(w, p)
	return nil
}

func (s *Server) handleCameraReport(w http.ResponseWriter, r *http.Request) error {
	var in inspection.ReportChange
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	rep, err := s.inspections.HandleReport(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
