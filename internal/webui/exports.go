package webui

import (
	"net/http"

	"civicam/internal/footage"
)

// The exports pages (issue 16): the caller's exports, each downloaded again through the API's
// download (where the footage decision is asked again and the download traced), and the check
// of an export zip someone holds against this platform's key, as `civicam export verify` does.

func (u *UI) exportRoutes() []*page {
	return []*page{
		{Pattern: "GET /exports", APIRoute: "GET /api/v1/exports", Handler: u.exportsPage},
		{Pattern: "POST /exports/verify", APIRoute: "POST /api/v1/exports/verify", Handler: u.verifyExportUpload,
			MaxBody: footage.MaxVerifyBytes + 64<<10},
	}
}

type exportRow struct {
	ID, Camera, CameraID, Range, Case, Exporter, Created, Size, Download string
	TraceSeq                                                             int64
}

type exportCheck struct {
	Verified           bool
	Problems           []string
	ID, Camera, Range  string
	Exporter, Case     string
	TraceSeq, TreeSize int64
	Recorded           bool
}

type exportsData struct {
	Exports []exportRow
	Check   *exportCheck
	Error   string
}

func (u *UI) exportsPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderExports(w, r, http.StatusOK, nil, "")
}

func (u *UI) renderExports(w http.ResponseWriter, r *http.Request, status int, check *exportCheck, errMsg string) error {
	m := u.messages(r)
	metas, err := u.footage.Exports(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	d := exportsData{Check: check, Error: errMsg}
	for _, e := range metas {
		name := e.CameraName
		if name == "" {
			name = e.CameraID
		}
		d.Exports = append(d.Exports, exportRow{ID: e.ID, Camera: name, CameraID: e.CameraID,
			Range: m.Time(e.Requested.Start) + " – " + m.Time(e.Requested.End), Case: e.CaseRef, Exporter: e.Exporter.Username,
			Created: m.Time(e.CreatedAt), Size: bytesText(e.Size), Download: "/api/v1/exports/" + e.ID, TraceSeq: e.TraceSeq})
	}
	u.render(w, r, status, "exports", "exports.title", d)
	return nil
}

// verifyExportUpload checks the uploaded zip (the form's file) against the platform's key and
// shows what was found, beside the list.
func (u *UI) verifyExportUpload(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	f, _, err := r.FormFile("file")
	if err != nil {
		return u.renderExports(w, r, http.StatusBadRequest, nil, m.T("exports.no_file"))
	}
	defer f.Close()
	v, err := u.footage.VerifyExport(r.Context(), f)
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error { return u.renderExports(w, r, status, nil, msg) })
	}
	c := &exportCheck{Verified: len(v.Problems) == 0, Problems: v.Problems}
	if man := v.Manifest; man != nil {
		c.ID, c.Camera, c.Exporter, c.Case, c.TraceSeq = man.ID, man.Camera, man.Exporter.Username, man.CaseRef, man.TraceSeq
		c.Range = m.Time(man.Covered.Start) + " – " + m.Time(man.Covered.End)
		if man.Recorded != nil {
			c.Recorded, c.TreeSize = true, man.Recorded.TreeSize
		}
	}
	return u.renderExports(w, r, http.StatusOK, c, "")
}
