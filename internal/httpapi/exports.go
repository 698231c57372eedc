package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/registry"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

type exportInput struct {
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Purpose       string    `json:"purpose"`
	CaseRef       string    `json:"case_ref"`
	ApplicationID string    `json:"application_id"`
}

// exportResult is what creating an export answers.
type exportResult struct {
	ID       string              `json:"id"`
	Download string              `json:"download"`
	TraceSeq int64               `json:"trace_seq"`
	Size     int64               `json:"size"`
	Covered  timespan.Range      `json:"covered"`
	Gaps     []map[string]string `json:"gaps"`
	Manifest *export.Manifest    `json:"-"`
}

// createExport makes an export (see package export): POST {"start","end","purpose","case_ref"}
// → 201 {"id","download"}. The export is traced before anything is written; the trail entry's
// sequence number goes into the signed manifest.
func (s *Server) createExport(w http.ResponseWriter, r *http.Request) error {
	var in exportInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.makeExport(r, in.Start, in.End, in.Purpose, in.CaseRef, in.ApplicationID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// makeExport makes an export of the camera named in r's path for the user behind r. (The web
// UI's export form posts to the API route itself.)
func (s *Server) makeExport(r *http.Request, start, end time.Time, purpose, caseRef, applicationID string) (*exportResult, error) {
	fr := footageRequest{start: start, end: end, purpose: strings.TrimSpace(purpose), applicationID: applicationID}
	switch {
	case start.IsZero():
		return nil, badRequest("start", "required (RFC 3339)")
	case end.IsZero():
		return nil, badRequest("end", "required (RFC 3339)")
	case !end.After(start):
		return nil, badRequest("end", "must be after start")
	}
	if err := checkPurpose(&fr); err != nil {
		return nil, err
	}
	caseRef = strings.TrimSpace(caseRef)
	if caseRef == "" {
		return nil, badRequest("case_ref", "give the case (or application) this export is for")
	}
	if len(caseRef) > 200 {
		return nil, badRequest("case_ref", "at most 200 bytes")
	}
	fr.caseRef = caseRef
	if err := s.lookupFootage(r, trace.ActionExport, access.Export, &fr); err != nil {
		return nil, err
	}
	plan, err := s.planFootage(r.Context(), &fr)
	if err != nil {
		return nil, err
	}
	defer plan.Close()
	if s.footage.exports == nil || !s.footage.signing {
		return nil, errNoExportKey
	}
	ctx := r.Context()
	u := auth.UserFrom(ctx)
	id := registry.NewID()
	reason := "export " + id
	if fr.applicationID != "" {
		reason += " under application " + fr.applicationID
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionExport, CameraIDs: []string{fr.cam.ID},
		From: fr.start, To: fr.end, Reference: caseRef, Purpose: fr.purpose, Outcome: trace.Allowed, Reason: fr.traceReason(reason)}); err != nil {
		return nil, err
	}
	seq := s.traceSeqOf(ctx, fr.cam.ID, reason)
	m, err := s.footage.exports.Create(ctx, plan, export.Manifest{ID: id, CameraID: fr.cam.ID, Camera: fr.cam.Name,
		Exporter: export.Exporter{UserID: u.ID, Username: u.Username, Role: string(u.Role), OrganisationID: u.OrganisationID},
		Purpose:  fr.purpose, CaseRef: caseRef, ApplicationID: fr.applicationID, CreatedAt: s.now().UTC(), TraceSeq: seq})
	if err != nil {
		return nil, err
	}
	res := &exportResult{ID: id, Download: "/api/v1/exports/" + id, TraceSeq: seq, Size: m.Video.Size, Manifest: m,
		Covered: m.Covered, Gaps: []map[string]string{}}
	for _, g := range m.Gaps {
		res.Gaps = append(res.Gaps, map[string]string{"start": g.Start.Format(time.RFC3339Nano), "end": g.End.Format(time.RFC3339Nano)})
	}
	return res, nil
}

// traceSeqOf finds the sequence number of the export entry just recorded, by its reason (which
// names the new export's id, so no other entry matches). -1 when the trail cannot be read.
func (s *Server) traceSeqOf(ctx context.Context, cameraID, reason string) int64 {
	if s.trail == nil {
		return -1
	}
	es, _, err := s.trail.Query(ctx, trace.Filter{CameraID: cameraID, Action: trace.ActionExport, Limit: 50})
	if err != nil {
		s.log.Error("find export trail entry", "err", err)
		return -1
	}
	for _, e := range es {
		if e.Reason == reason {
			return e.Seq
		}
	}
	return -1
}

// downloadExport serves an export's zip to its exporter or an admin, traced as a download.
// Anyone else is answered 404, as if there were no such export.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	meta, f, err := s.footage.exports.Open(id)
	if errors.Is(err, export.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	u := auth.UserFrom(r.Context())
	rec := trace.Record{Action: trace.ActionExport, CameraIDs: []string{meta.CameraID},
		Reference: id, Purpose: "download of export " + id, Outcome: trace.Allowed, Reason: "download of export " + id}
	if u.Role != auth.RoleAdmin && u.ID != meta.Exporter.UserID {
		rec.Outcome, rec.Reason = "denied", "download of export "+id+" by someone other than its exporter"
		if err := s.tracer.Record(r.Context(), rec); err != nil {
			s.log.Error("trace export download denial", "err", err)
		}
		return errFootageHidden
	}
	if err := s.tracer.Record(r.Context(), rec); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="civicam-export-`+id+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", meta.CreatedAt, f)
	return nil
}
