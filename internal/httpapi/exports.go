package httpapi

import (
	"net/http"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/footage"
	"civicam/internal/timespan"
)

type exportInput struct {
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Purpose       string    `json:"purpose"`
	CaseRef       string    `json:"case_ref"`
	ApplicationID string    `json:"application_id"`
	// Recipient is where the copy goes: {"organisation","person","case"}.
	Recipient *export.Recipient `json:"recipient"`
}

// exportResult is what creating an export answers.
type exportResult struct {
	ID       string              `json:"id"`
	Download string              `json:"download"`
	TraceSeq int64               `json:"trace_seq"`
	Size     int64               `json:"size"`
	Covered  timespan.Range      `json:"covered"`
	Gaps     []map[string]string `json:"gaps"`
	// Recipient is where the copy went, as the signed manifest records it.
	Recipient *export.Recipient `json:"recipient,omitempty"`
	// ApprovedBy is the second user who approved the export under the two-person rule.
	ApprovedBy *export.Exporter `json:"approved_by,omitempty"`
	Manifest   *export.Manifest `json:"-"`
}

// createExport makes an export (see package footage): POST {"start","end","purpose","case_ref"}
// → 201 {"id","download"}.
func (s *Server) createExport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in exportInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.footage.Malformed(ctx, access.Export, footage.Request{CameraID: r.PathValue("id")}, err)
		return err
	}
	e, pending, err := s.footage.ExportOrRequest(ctx, auth.UserFrom(ctx), footage.Request{CameraID: r.PathValue("id"), Start: in.Start, End: in.End,
		Purpose: in.Purpose, CaseRef: in.CaseRef, ApplicationID: in.ApplicationID, Recipient: in.Recipient})
	if err != nil {
		return err
	}
	if pending != nil {
		// The pack's two-person rule: nothing is exported until a second user approves.
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "awaiting_approval", "approval": pending.Approval,
			"approve": "/api/v1/export-approvals/" + pending.Approval.ID + "/approve"})
		return nil
	}
	writeExport(w, e)
	return nil
}

// listExportApprovals lists the export requests of the caller's organisation that await a
// second user's approval (the pack's two-person rule).
func (s *Server) listExportApprovals(w http.ResponseWriter, r *http.Request) error {
	as, err := s.footage.PendingApprovals(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"approvals": as})
	return nil
}

// approveExport is a second user's approval of an export request: the export is made for its
// requester, naming both → 201 as creating an export answers.
func (s *Server) approveExport(w http.ResponseWriter, r *http.Request) error {
	e, err := s.footage.ApproveExport(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeExport(w, e)
	return nil
}

// writeExport answers a made export: 201 with its id, download link, trail entry and coverage.
func writeExport(w http.ResponseWriter, e *footage.Export) {
	m := e.Manifest
	res := &exportResult{ID: e.ID, Download: "/api/v1/exports/" + e.ID, TraceSeq: e.TraceSeq, Size: m.Video.Size, Manifest: m,
		Covered: m.Covered, Gaps: []map[string]string{}, Recipient: m.Recipient, ApprovedBy: m.ApprovedBy}
	for _, g := range m.Gaps {
		res.Gaps = append(res.Gaps, map[string]string{"start": g.Start.Format(time.RFC3339Nano), "end": g.End.Format(time.RFC3339Nano)})
	}
	writeJSON(w, http.StatusCreated, res)
}

// downloadExport serves an export's zip to its exporter or an admin, while the footage decision
// still lets them see its camera over its range, traced as a download. Anyone else is answered
// 404, as if there were no such export. The web UI's download link is this route.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	meta, f, err := s.footage.OpenExport(r.Context(), auth.UserFrom(r.Context()), id)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="civicam-export-`+id+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	// An export may be gigabytes: the deadline allows for a reader of 64 KiB/s.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(streamStall + time.Duration(meta.Size>>16)*time.Second))
	http.ServeContent(w, r, "", meta.CreatedAt, f)
	return nil
}

// exportItem is one of the caller's exports in the list.
type exportItem struct {
	ID         string         `json:"id"`
	CameraID   string         `json:"camera_id"`
	CameraName string         `json:"camera_name,omitempty"`
	Requested  timespan.Range `json:"requested"`
	CaseRef    string         `json:"case_ref"`
	// ApplicationID is the lost-person application it was made under, if any.
	ApplicationID string    `json:"application_id,omitempty"`
	Exporter      string    `json:"exporter"`
	CreatedAt     time.Time `json:"created_at"`
	Size          int64     `json:"size"`
	TraceSeq      int64     `json:"trace_seq"`
	Download      string    `json:"download"`
}

// listExports is the exports the caller may download again (their own; an admin's, everyone's),
// newest first, paged: GET ?limit=&cursor= → {"exports": [...], "next_cursor"}.
func (s *Server) listExports(w http.ResponseWriter, r *http.Request) error {
	metas, err := s.footage.Exports(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	items := make([]exportItem, 0, len(metas))
	for _, m := range metas {
		items = append(items, exportItem{ID: m.ID, CameraID: m.CameraID, CameraName: m.CameraName, Requested: m.Requested,
			CaseRef: m.CaseRef, ApplicationID: m.ApplicationID, Exporter: m.Exporter.Username, CreatedAt: m.CreatedAt,
			Size: m.Size, TraceSeq: m.TraceSeq, Download: "/api/v1/exports/" + m.ID})
	}
	return writePage(w, r, "exports", items, 2, func(e exportItem) []string {
		return []string{e.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), e.ID}
	}, true)
}

// verifyResult is what checking an uploaded export answers.
type verifyResult struct {
	// Verified is true when the zip is whole as the platform signed it.
	Verified bool     `json:"verified"`
	Problems []string `json:"problems"`
	// Manifest is the export's manifest when it could be read, also when it does not verify.
	Manifest *export.Manifest `json:"manifest,omitempty"`
	// Recorded is the export's trail entry as the zip's receipt proves it, when it carries one.
	Recorded *export.Recorded `json:"recorded,omitempty"`
}

// verifyExport checks an export zip the caller holds against this platform's key: POST the zip
// as the body (application/zip) → 200 {"verified", "problems", "manifest", "recorded"}.
func (s *Server) verifyExport(w http.ResponseWriter, r *http.Request) error {
	v, err := s.footage.VerifyExport(r.Context(), r.Body)
	if err != nil {
		return err
	}
	res := verifyResult{Verified: len(v.Problems) == 0, Problems: v.Problems, Manifest: v.Manifest}
	if v.Manifest != nil {
		res.Recorded = v.Manifest.Recorded
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
