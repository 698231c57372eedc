package webui

import (
	"errors"
	"io"
	"net/http"

	"civicam/internal/inspection"
)

// The public's page for reporting a suspected illegal camera (REG-2): the form (place,
// description, optional photo), the receipt it answers, the status by receipt, and the counts.
// It shows only what the API's public answers hold.

// maxReportForm bounds the report form's body: the photo and the fields.
const maxReportForm = 12 << 20

func (u *UI) cameraReportRoutes() []*page {
	if u.inspections == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /report-camera", APIRoute: "POST /api/v1/camera-reports", Public: true, Handler: u.cameraReportForm},
		{Pattern: "POST /report-camera", APIRoute: "POST /api/v1/camera-reports", Public: true, Handler: u.cameraReportSubmit, MaxBody: maxReportForm},
		{Pattern: "POST /report-camera/status", APIRoute: "POST /api/v1/camera-reports/status", Public: true, Handler: u.cameraReportStatus},
	}
}

type cameraReportData struct {
	Error       string
	Place       string
	Description string
	Receipt     *inspection.Receipt
	Status      *inspection.PublicView
	Counts      inspection.Counts
}

func (u *UI) renderCameraReport(w http.ResponseWriter, r *http.Request, status int, d cameraReportData) {
	if c, err := u.inspections.ReportCounts(r.Context()); err == nil {
		d.Counts = c
	}
	u.render(w, r, status, "camera_report", "camera_report.title", d)
}

func (u *UI) cameraReportForm(w http.ResponseWriter, r *http.Request) error {
	u.renderCameraReport(w, r, http.StatusOK, cameraReportData{})
	return nil
}

func (u *UI) cameraReportSubmit(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	d := cameraReportData{Place: r.FormValue("place"), Description: r.FormValue("description")}
	var photo []byte
	if f, _, err := r.FormFile("photo"); err == nil {
		photo, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
	} else if !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart) {
		return err
	}
	rc, err := u.inspections.SubmitReport(r.Context(), inspection.ReportInput{Place: d.Place, Description: d.Description}, photo)
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			d.Error = msg
			u.renderCameraReport(w, r, status, d)
			return nil
		})
	}
	u.renderCameraReport(w, r, http.StatusCreated, cameraReportData{Receipt: rc})
	return nil
}

func (u *UI) cameraReportStatus(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	v, err := u.inspections.ReportStatus(r.Context(), r.PostFormValue("receipt"))
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			u.renderCameraReport(w, r, status, cameraReportData{Error: m.T("camera_report.no_such_receipt")})
			return nil
		})
	}
	u.renderCameraReport(w, r, http.StatusOK, cameraReportData{Status: v})
	return nil
}
