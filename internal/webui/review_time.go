package webui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/footage"
	"civicam/internal/registry"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Review by time (issue 16, point 4): a timeline of a camera's recordings that zooms and drags,
// a click that plays from that moment, players that show the local wall-clock time of what they
// play, and up to four cameras played in sync. review.js does the drawing and the playing; the
// server decides who may see what (footage.Service, as the API) and opens the viewings, each
// traced once.

func (u *UI) reviewRoutes() []*page {
	return []*page{
		{Pattern: "GET /timeline", APIRoute: "POST /api/v1/viewings", Handler: u.timelinePage},
		{Pattern: "GET /cameras/{id}/recorded", APIRoute: "GET /api/v1/cameras/{id}/recordings", Handler: u.recordedJSON},
	}
}

type reviewCamera struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// reviewData is what the page hands review.js.
type reviewData struct {
	Cameras []reviewCamera
	// Start and End are the window first shown; Coverage what each camera recorded in it.
	Start, End, Now time.Time
	Coverage        [][][2]time.Time
	// BoundStart and BoundEnd, when set, are as far as the user may look (a reviewer's
	// application window): the timeline does not leave them.
	BoundStart, BoundEnd time.Time
	ApplicationID        string
	Viewing              *footage.Viewing // opened by the server for the form's range
	// At is the moment the players start from (the review page's one time).
	At time.Time
}

// attr is the JSON of the data attribute review.js reads.
func (d reviewData) attr(m Messages, now func() time.Time) string {
	type viewing struct {
		ID      string    `json:"id"`
		Start   time.Time `json:"start"`
		End     time.Time `json:"end"`
		Cameras []string  `json:"cameras"`
		Purpose string    `json:"purpose"`
	}
	out := map[string]any{
		"cameras": d.Cameras, "start": d.Start.UTC(), "end": d.End.UTC(), "now": now().UTC(),
		"coverage": d.Coverage, "zone": m.Zone(), "lang": m.HTMLLang(), "application_id": d.ApplicationID,
		"maxCameras": footage.MaxViewingCameras,
		"msg": map[string]string{
			"gap":              m.T("review_time.gap"),
			"no_recording":     m.T("review_time.no_recording"),
			"purpose_required": m.T("camera.purpose_required"),
			"opening":          m.T("review_time.opening"),
			"failed":           m.T("review_time.failed"),
			"drag":             m.T("review_time.drag_hint"),
			"play":             m.T("review_time.play"),
			"pause":            m.T("review_time.pause"),
		},
	}
	if !d.BoundStart.IsZero() {
		out["bound_start"], out["bound_end"] = d.BoundStart.UTC(), d.BoundEnd.UTC()
	}
	if !d.At.IsZero() {
		out["at"] = d.At.UTC()
	}
	if v := d.Viewing; v != nil {
		out["viewing"] = viewing{ID: v.ID, Start: v.Start, End: v.End, Cameras: v.CameraIDs, Purpose: v.Purpose}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// spans are a coverage's recorded ranges as [start, end] pairs for review.js.
func spans(cov timespan.Coverage) [][2]time.Time {
	out := [][2]time.Time{}
	for _, r := range cov.Ranges {
		out = append(out, [2]time.Time{r.Start.UTC(), r.End.UTC()})
	}
	return out
}

// viewingRefusal words why a viewing was not opened, in the reader's language where the
// refusal is the page's to word.
func (u *UI) viewingRefusal(m Messages, err error) string {
	fe, ok := fault.As(err)
	switch {
	case errors.Is(err, trace.ErrUnavailable):
		return m.T("error.trail")
	case ok && fe.Kind == fault.Forbidden:
		return m.T("camera.footage_denied", fe.Message)
	case errors.Is(err, fault.ErrNotFound):
		return m.T("review_time.not_visible")
	case ok && fe.Kind == fault.Invalid:
		return fieldMessage(m, fe.Field, fe.Message)
	}
	u.log.Error("open viewing", "err", err)
	return m.T("error.internal")
}

// maxRecordedWindow bounds one read of the timeline: a week, the widest zoom.
const maxRecordedWindow = 7*24*time.Hour + time.Hour

// recordedJSON answers review.js's read of what cameras recorded in a window, for a user who may
// play them back (the footage rule; a reviewer under its application). Each read is traced as
// the camera page's timeline is; a camera the user may not see is not found.
func (u *UI) recordedJSON(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	q := r.URL.Query()
	start, err1 := m.ParseTime(q.Get("start"))
	end, err2 := m.ParseTime(q.Get("end"))
	if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > maxRecordedWindow {
		return writeJSONError(w, http.StatusBadRequest, m.T("camera.bad_range"))
	}
	cov, err := u.footage.CoverageUnder(r.Context(), userOf(r), r.PathValue("id"), start, end, q.Get("application_id"))
	var denial *access.Denial
	switch {
	case errors.As(err, &denial) && denial.NotVisible, errors.Is(err, fault.ErrNotFound):
		return errNotFound
	case errors.As(err, &denial):
		u.deny(r.Context(), r, denial.Reason)
		return writeJSONError(w, http.StatusForbidden, m.T("camera.footage_denied", denial.Reason))
	case err != nil:
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(map[string]any{"start": start.UTC(), "end": end.UTC(), "ranges": spans(cov)})
}

func writeJSONError(w http.ResponseWriter, status int, msg string) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg}})
}

// timelinePageData is the review page: the form, and once it is filled in, the players.
type timelinePageData struct {
	Choices       []option // the cameras the user may pick
	Picked        []reviewCamera
	At            string // datetime-local
	Purpose       string
	ApplicationID string
	Reviewer      bool
	Error         string
	Review        string // review.js's data, once the viewing is open
	Zone          string
}

// reviewHalf is half the extent of the review page's first viewing: the hour around the moment.
const reviewHalf = 30 * time.Minute

// timelinePage is review by time over up to four cameras: the user picks the cameras it may
// see and one moment, states the purpose once, and the players start there together. The
// viewing is opened (and traced) here, once, for the hour around the moment; review.js opens
// another only when the user leaves that hour.
func (u *UI) timelinePage(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	q := r.URL.Query()
	d := timelinePageData{Purpose: q.Get("purpose"), ApplicationID: strings.TrimSpace(q.Get("application_id")),
		Reviewer: usr.Role == auth.RoleReviewer, Zone: m.Zone() + " (" + zoneLabel(u.now().In(m.location())) + ")"}
	picked := q["camera"]
	names := map[string]string{}
	cams, err := u.reg.Cameras(ctx, access.ScopeOf(usr), registry.CameraFilter{Status: registry.StatusActive, Limit: u.cfg.CameraPageSize})
	if err != nil {
		return err
	}
	for _, c := range cams {
		names[c.ID] = c.Name
	}
	if u.sharing != nil && usr.OrganisationID != "" {
		shared, err := u.sharing.SharedCameras(ctx, usr)
		if err != nil {
			return err
		}
		for _, sc := range shared {
			if slices.Contains(sc.Scopes, string(access.Playback)) {
				names[sc.Camera.ID] = sc.Camera.Name + " · " + m.T("review_time.shared")
				cams = append(cams, &sc.Camera)
			}
		}
	}
	for _, c := range cams {
		d.Choices = append(d.Choices, option{Value: c.ID, Label: names[c.ID], Selected: slices.Contains(picked, c.ID)})
	}
	at := u.now().Add(-10 * time.Minute)
	if s := q.Get("at"); s != "" {
		if t, err := m.ParseTime(s); err != nil {
			d.Error = m.T("camera.bad_range")
		} else {
			at = t
		}
	}
	d.At = m.InputTime(at.Truncate(time.Second), false)
	status := http.StatusOK
	if !q.Has("go") || d.Error != "" {
		if d.Error != "" {
			status = http.StatusBadRequest
		}
		u.render(w, r, status, "timeline", "review_time.title", d)
		return nil
	}
	switch {
	case len(picked) == 0:
		d.Error = m.T("review_time.pick")
	case len(picked) > footage.MaxViewingCameras:
		d.Error = m.T("review_time.too_many", footage.MaxViewingCameras)
	case strings.TrimSpace(d.Purpose) == "":
		d.Error = m.T("camera.purpose_required")
	}
	if d.Error != "" {
		u.render(w, r, http.StatusBadRequest, "timeline", "review_time.title", d)
		return nil
	}
	now := u.now().UTC()
	from, to := at.Add(-reviewHalf), at.Add(reviewHalf)
	if to.After(now) {
		from, to = now.Add(-2*reviewHalf), now
	}
	vw, err := u.footage.OpenViewing(ctx, usr, footage.ViewingRequest{CameraIDs: picked, Start: from, End: to,
		Purpose: d.Purpose, ApplicationID: d.ApplicationID})
	if err != nil {
		d.Error = u.viewingRefusal(m, err)
		u.render(w, r, http.StatusForbidden, "timeline", "review_time.title", d)
		return nil
	}
	rd := reviewData{Start: from, End: to, Now: now, Viewing: vw, At: at, ApplicationID: d.ApplicationID}
	for _, id := range picked {
		name := names[id]
		if name == "" {
			name = id // a reviewer's camera outside the list, seen under its application
		}
		rd.Cameras = append(rd.Cameras, reviewCamera{ID: id, Name: name})
		cov, err := u.footage.CoverageUnder(ctx, usr, id, from, to, d.ApplicationID)
		if err != nil {
			u.log.Error("review timeline", "camera", id, "err", err) // the players still play; the bars are missing
		}
		rd.Coverage = append(rd.Coverage, spans(cov))
	}
	d.Picked = rd.Cameras
	d.Review = rd.attr(m, u.now)
	u.render(w, r, http.StatusOK, "timeline", "review_time.title", d)
	return nil
}
