package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"civicam/internal/registry"
	"civicam/internal/trace"
)

// tracePageSize is one page of the trace viewer.
const tracePageSize = 50

type traceData struct {
	Actor, CameraID, Since, Until string
	Actions                       []option
	Outcomes                      []option
	Entries                       []traceRow
	Next                          string
	CSV                           string
}

type traceRow struct {
	Seq                                      int64
	Time                                     string
	Username, UserID, Role, Org, ClientAddr  string
	Action, ActionKey, Outcome, OutcomeClass string
	Cameras                                  []string
	Range, Reference, Purpose, Reason        string
}

// The time inputs: a browser's datetime-local value, read as UTC, or RFC 3339.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

func parseTimeInput(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// traceViewer lets auditors and admins (the API's GET /api/v1/trace roles) query the trail.
// Reading the trail is itself traced, and the read is refused if that cannot be written.
func (u *UI) traceViewer(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	q := r.URL.Query()
	f := trace.Filter{Actor: strings.TrimSpace(q.Get("actor")), CameraID: strings.TrimSpace(q.Get("camera_id")),
		Action: trace.Action(q.Get("action")), Outcome: trace.Outcome(q.Get("outcome")), Limit: tracePageSize}
	bad := &errPage{http.StatusBadRequest, "error.bad_filter"}
	if f.CameraID != "" && !registry.ValidID(f.CameraID) {
		return bad
	}
	if f.Outcome != "" && f.Outcome != trace.Allowed && f.Outcome != trace.Denied {
		return bad
	}
	known := f.Action == ""
	for _, a := range trace.Actions {
		known = known || a == f.Action
	}
	if !known {
		return bad
	}
	var ok1, ok2 bool
	f.Since, ok1 = parseTimeInput(q.Get("since"))
	f.Until, ok2 = parseTimeInput(q.Get("until"))
	if !ok1 || !ok2 {
		return bad
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return bad
		}
		f.Cursor = &n
	}
	var ids []string
	if f.CameraID != "" {
		ids = []string{f.CameraID}
	}
	if err := u.tracer.Record(ctx, trace.Record{Action: trace.ActionTraceRead, CameraIDs: ids, Outcome: trace.Allowed,
		From: f.Since, To: f.Until, Reason: "ui query " + r.URL.RawQuery}); err != nil {
		return errTrail
	}
	entries, next, err := u.trail.Query(ctx, f)
	if err != nil {
		return err
	}

	d := traceData{Actor: f.Actor, CameraID: f.CameraID, Since: q.Get("since"), Until: q.Get("until")}
	d.Actions = []option{{Value: "", Label: m.T("filter.all")}}
	for _, a := range trace.Actions {
		d.Actions = append(d.Actions, option{Value: string(a), Label: m.Label("action", string(a)), Selected: a == f.Action})
	}
	d.Outcomes = []option{{Value: "", Label: m.T("filter.all")}}
	for _, o := range []trace.Outcome{trace.Allowed, trace.Denied} {
		d.Outcomes = append(d.Outcomes, option{Value: string(o), Label: m.Label("outcome", string(o)), Selected: o == f.Outcome})
	}
	rfc := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	filterArgs := []string{"actor", f.Actor, "camera_id", f.CameraID, "action", string(f.Action), "outcome", string(f.Outcome)}
	d.CSV = query("/api/v1/trace", append(filterArgs, "since", rfc(f.Since), "until", rfc(f.Until), "limit", strconv.Itoa(trace.MaxLimit), "format", "csv")...)
	if next != nil {
		d.Next = query("/trace", append(filterArgs, "since", d.Since, "until", d.Until, "cursor", strconv.FormatInt(*next, 10))...)
	}
	for _, e := range entries {
		row := traceRow{Seq: e.Seq, Time: m.Time(e.Time), Username: e.Actor.Username, UserID: e.Actor.UserID, Role: e.Actor.Role,
			Org: e.Actor.OrganisationID, ClientAddr: e.Actor.ClientAddr, Action: m.Label("action", string(e.Action)), ActionKey: string(e.Action),
			Outcome: m.Label("outcome", string(e.Outcome)), OutcomeClass: string(e.Outcome), Cameras: e.CameraIDs,
			Reference: e.Reference, Purpose: e.Purpose, Reason: e.Reason}
		if !e.From.IsZero() || !e.To.IsZero() {
			row.Range = m.Time(e.From) + " – " + m.Time(e.To)
		}
		d.Entries = append(d.Entries, row)
	}
	u.render(w, r, http.StatusOK, "trace", "trace.title", d)
	return nil
}
