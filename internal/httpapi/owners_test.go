package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// ownersFixture is a lost-person review near a hotel (REG-4): the police's reviewer, an accepted
// application, a government camera and private hotel cameras beside the last-seen place, each
// recorded for the last three hours.
type ownersFixture struct {
	*stack
	svc                *lostperson.Service
	adminTok, revTok   string
	hotelTok           string
	psb, hotel         string
	gov, lobby, lobby2 string
	app                string
	from, to           time.Time
	revID              string
}

// recorderStatus is the recorder's report of the segments being written, for the candidate
// search: the open segment of each camera.
type recorderStatus map[string]recorder.Status

func (r recorderStatus) Status(id string) (recorder.Status, bool) {
	st, ok := r[id]
	return st, ok
}

// newOwnersStack is newAppStack with the desk wired as the app wires it: the owners' grants
// and the recorder's open segments.
func newOwnersStack(t *testing.T, db *store.DB, rec lostperson.Recorder) (*stack, *lostperson.Service) {
	t.Helper()
	st := apitest.New(t, db)
	svc, err := lostperson.New(lostperson.Config{DataDir: t.TempDir(), RegistrationsPerAddress: 1000}, lostperson.Deps{Repo: st.DB,
		Recordings: st.DB, Cameras: st.Registry, Sharing: st.Sharing, Recorder: rec, Pack: st.Registry.Pack(), Tracer: st.Tracer, Hasher: st.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	st.API = st.NewAPI(t, apitest.Parts{Requests: svc})
	srv := httptest.NewServer(st.API.Handler())
	t.Cleanup(srv.Close)
	return &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: st.API, srv: srv}, svc
}

func privateCameraJSON(org, name string) string {
	return strings.Replace(cameraJSON(org, name, "hotel_lobby"), `"investment":"government"`, `"investment":"private"`, 1)
}

func newOwnersFixture(t *testing.T, db *store.DB, rec recorderStatus) *ownersFixture {
	t.Helper()
	s, svc := newOwnersStack(t, db, rec)
	f := &ownersFixture{stack: s, svc: svc}
	_, f.adminTok = s.addUser("admin1", auth.RoleAdmin, "")
	f.psb = mustCreate(t, s.do("POST", "/api/v1/organisations", f.adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	f.hotel = mustCreate(t, s.do("POST", "/api/v1/organisations", f.adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	f.revID, f.revTok = s.addUser("officer-li", auth.RoleReviewer, f.psb)
	_, f.hotelTok = s.addUser("hotel-op", auth.RoleOperator, f.hotel)
	f.gov = mustCreate(t, s.do("POST", "/api/v1/cameras", f.adminTok, "", cameraJSON(f.psb, "Park gate", "public_square")))
	f.lobby = mustCreate(t, s.do("POST", "/api/v1/cameras", f.adminTok, "", privateCameraJSON(f.hotel, "Hotel lobby")))
	f.lobby2 = mustCreate(t, s.do("POST", "/api/v1/cameras", f.adminTok, "", privateCameraJSON(f.hotel, "Hotel side door")))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	for _, cam := range []string{f.gov, f.lobby, f.lobby2} {
		for m := 180; m > 0; m-- {
			st := now.Add(-time.Duration(m) * time.Minute)
			if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: fmt.Sprintf("%s/%d.mp4", cam, st.Unix()),
				Start: st, End: st.Add(time.Minute), Bytes: 1, SHA256: "00"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, appTok := s.addUser("mother1", auth.RoleApplicant, "")
	f.app = mustCreate(t, s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("elderly")))
	for _, kind := range []string{"identity", "relationship"} { // the pack's documents, seen at the desk
		if r := s.do("POST", "/api/v1/applications/"+f.app+"/documents/shown", f.revTok, "", `{"kind":"`+kind+`","note":"at the desk"}`); r.status != 201 {
			t.Fatalf("documents shown = %d %s", r.status, r.body)
		}
	}
	if r := s.do("POST", "/api/v1/applications/"+f.app+"/decision", f.revTok, "", `{"accept":true,"reason":"identity checked"}`); r.status != 200 {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}
	return f
}

type ownersCandidate struct {
	CameraID string `json:"camera_id"`
	Basis    string `json:"basis"`
	GrantID  string `json:"grant_id"`
	Request  *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"footage_request"`
}

// candidates runs the search and returns the cameras by id.
func (f *ownersFixture) candidates() map[string]ownersCandidate {
	f.t.Helper()
	r := f.do("GET", "/api/v1/applications/"+f.app+"/candidates", f.revTok, "", "")
	if r.status != 200 {
		f.t.Fatalf("candidates = %d %s", r.status, r.body)
	}
	var c struct {
		From, To time.Time
		Cameras  []ownersCandidate
	}
	if err := json.Unmarshal(r.body, &c); err != nil {
		f.t.Fatal(err)
	}
	f.from, f.to = c.From, c.To
	out := map[string]ownersCandidate{}
	for _, cam := range c.Cameras {
		out[cam.CameraID] = cam
	}
	return out
}

func (f *ownersFixture) window(extra url.Values) string {
	q := url.Values{"application_id": {f.app}, "start": {f.from.Format(time.RFC3339)}, "end": {f.to.Format(time.RFC3339)},
		"purpose": {"lost-person application"}}
	for k, v := range extra {
		q[k] = v
	}
	return q.Encode()
}

// look asks for a camera's playback, export and recordings under the application and returns
// the statuses and error codes with the trail entries each left.
type lookResult struct {
	status  int
	code    string
	entries []trace.Entry
}

func (f *ownersFixture) look(method, cam, what string, extra url.Values) lookResult {
	f.t.Helper()
	before := f.size()
	var r response
	switch what {
	case "playback":
		r = f.do(method, "/api/v1/cameras/"+cam+"/playback.mp4?"+f.window(extra), f.revTok, "", "")
	case "recordings":
		r = f.do(method, "/api/v1/cameras/"+cam+"/recordings?"+f.window(extra), f.revTok, "", "")
	case "export":
		body := fmt.Sprintf(`{"start":%q,"end":%q,"purpose":"lost-person application","case_ref":%q,"application_id":%q}`,
			f.from.Format(time.RFC3339), f.to.Format(time.RFC3339), "app "+f.app, f.app)
		r = f.do(method, "/api/v1/cameras/"+cam+"/exports", f.revTok, "", body)
	}
	return lookResult{status: r.status, code: r.errorCode(), entries: f.entriesSince(before)}
}

// hidden checks that a look was answered 404 as if the camera did not exist, and traced as a
// refusal under its action.
func (f *ownersFixture) hidden(what string, got lookResult, action trace.Action) {
	f.t.Helper()
	if got.status != http.StatusNotFound || (got.code != "not_found" && got.code != "") { // HEAD: no body
		f.t.Errorf("%s = %d %s; want 404 not_found", what, got.status, got.code)
	}
	for _, e := range got.entries {
		if e.Action == action && e.Outcome == trace.Denied {
			return
		}
	}
	f.t.Errorf("%s traced %v; want a %s refusal", what, actionsOf(got.entries), action)
}

func actionsOf(es []trace.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.Action)+":"+string(e.Outcome)+" "+e.Reason)
	}
	return out
}

// allowedPlayback checks a playback the access check let through: this stack holds no files,
// so it is "nothing recorded" (404 no_footage), traced as an allowed look with its basis.
func (f *ownersFixture) allowedPlayback(what string, got lookResult, basis string) {
	f.t.Helper()
	if got.status != http.StatusNotFound || got.code != "no_footage" {
		f.t.Errorf("%s = %d %s; want the look allowed (404 no_footage on a stack without files)", what, got.status, got.code)
	}
	for _, e := range got.entries {
		if e.Action == trace.ActionPlayback && e.Outcome == trace.Allowed && strings.Contains(e.Reason, basis) {
			return
		}
	}
	f.t.Errorf("%s traced %v; want an allowed playback naming %q", what, actionsOf(got.entries), basis)
}

// TestReviewRespectsOwner is the story of issue 13: a hotel granted the police live view only,
// then revoked it; the candidate search still lists its private lobby camera, marked as closed,
// and the reviewer's playback, export and recordings of it are 404, each refusal traced. The
// government camera beside it stays open by the pack's default.
func TestReviewRespectsOwner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newOwnersFixture(t, db, nil)
		live := strings.Replace(grantJSON(f.lobby, f.psb), `["live","playback"]`, `["live"]`, 1)
		grant := mustCreate(t, f.do("POST", "/api/v1/grants", f.hotelTok, "", live))

		c := f.candidates()
		if c[f.gov].Basis != lostperson.BasisPolicy || c[f.lobby].Basis != lostperson.BasisNone {
			t.Fatalf("candidates under a live-only grant = %+v; want the government camera by the pack's default, the lobby closed", c)
		}
		f.hidden("playback under a live-only grant", f.look("GET", f.lobby, "playback", nil), trace.ActionPlayback)

		if r := f.do("DELETE", "/api/v1/grants/"+grant, f.hotelTok, "", ""); r.status != 200 {
			t.Fatalf("revoke = %d %s", r.status, r.body)
		}
		c = f.candidates()
		if got := c[f.lobby]; got.CameraID != f.lobby || got.Basis != lostperson.BasisNone {
			t.Fatalf("candidates after the revocation: lobby = %+v; want it listed, basis none", got)
		}
		f.hidden("playback after the revocation", f.look("GET", f.lobby, "playback", nil), trace.ActionPlayback)
		f.hidden("playback headers after the revocation", f.look("HEAD", f.lobby, "playback", nil), trace.ActionPlayback)
		f.hidden("export after the revocation", f.look("POST", f.lobby, "export", nil), trace.ActionExport)
		f.hidden("recordings after the revocation", f.look("GET", f.lobby, "recordings", nil), trace.ActionRecordingsRead)

		// The government camera beside it: shared by the pack's default, open under the application.
		if got := f.look("GET", f.gov, "recordings", nil); got.status != 200 {
			t.Errorf("recordings of the government camera = %d; want 200", got.status)
		}
		f.allowedPlayback("playback of the government camera", f.look("GET", f.gov, "playback", nil), "")

		// A playback grant in force opens it; naming the grant in the trail.
		pb := mustCreate(t, f.do("POST", "/api/v1/grants", f.hotelTok, "", grantJSON(f.lobby, f.psb)))
		if got := f.candidates()[f.lobby]; got.Basis != lostperson.BasisGrant || got.GrantID != pb {
			t.Fatalf("candidates under a playback grant: lobby = %+v; want basis grant %s", got, pb)
		}
		f.allowedPlayback("playback under a playback grant", f.look("GET", f.lobby, "playback", nil), "under grant "+pb)
	})
}

// TestFootageRequestApproved: the reviewer asks the hotel for the lobby's footage; the hotel
// sees the camera, the window and the reason, nothing of the application, and approves; then the
// lobby is open to the reviewer for that window. Both sides are traced.
func TestFootageRequestApproved(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newOwnersFixture(t, db, nil)
		f.candidates()
		if r := f.do("POST", "/api/v1/applications/"+f.app+"/footage-requests", f.revTok, "", fmt.Sprintf(`{"camera_id":%q,"reason":"x"}`, f.gov)); r.status != http.StatusConflict {
			t.Errorf("request for a government camera = %d %s; want 409", r.status, r.body)
		}
		before := f.size()
		r := f.do("POST", "/api/v1/applications/"+f.app+"/footage-requests", f.revTok, "",
			fmt.Sprintf(`{"camera_id":%q,"reason":"a missing elderly person was last seen near the hotel"}`, f.lobby))
		if r.status != http.StatusCreated || r.json(t)["status"] != "pending" {
			t.Fatalf("footage request = %d %s; want 201 pending", r.status, r.body)
		}
		req := r.json(t)["id"].(string)
		es := f.entriesSince(before)
		if len(es) != 1 || es[0].Action != trace.ActionFootageRequest || es[0].Reference != f.app || es[0].Actor.UserID != f.revID {
			t.Fatalf("request traced %v; want one footage_request by the reviewer for the application", actionsOf(es))
		}
		if r := f.do("POST", "/api/v1/applications/"+f.app+"/footage-requests", f.revTok, "", fmt.Sprintf(`{"camera_id":%q,"reason":"again"}`, f.lobby)); r.status != http.StatusConflict {
			t.Errorf("second request while pending = %d; want 409", r.status)
		}
		f.hidden("playback while the request is pending", f.look("GET", f.lobby, "playback", nil), trace.ActionPlayback)

		// The owner's view: the camera and the window, never the applicant's data.
		r = f.do("GET", "/api/v1/footage-requests", f.hotelTok, "", "")
		if r.status != 200 || !strings.Contains(string(r.body), req) || !strings.Contains(string(r.body), f.lobby) {
			t.Fatalf("owner's requests = %d %s; want the request for the lobby", r.status, r.body)
		}
		for _, leak := range []string{f.app, "grey coat", "Shennong", "guardian", "daughter", f.revID, "mother1"} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("owner's requests contain %q: %s", leak, r.body)
			}
		}
		// Another organisation neither sees nor decides it.
		other := mustCreate(t, f.do("POST", "/api/v1/organisations", f.adminTok, "", `{"name":"Mall","kind":"enterprise"}`))
		_, otherTok := f.addUser("mall-op", auth.RoleOperator, other)
		before = f.size()
		if r := f.do("POST", "/api/v1/footage-requests/"+req+"/decision", otherTok, "", `{"approve":true}`); r.status != http.StatusNotFound {
			t.Errorf("decision by another organisation = %d; want 404", r.status)
		}
		if es := f.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionFootageRequestDecision || es[0].Outcome != trace.Denied {
			t.Errorf("decision by another organisation traced %v; want one footage_request_decision refused", actionsOf(es))
		}
		before = f.size()
		r = f.do("POST", "/api/v1/footage-requests/"+req+"/decision", f.hotelTok, "", `{"approve":true,"note":"lobby only"}`)
		if r.status != 200 || r.json(t)["status"] != "approved" {
			t.Fatalf("approve = %d %s; want 200 approved", r.status, r.body)
		}
		es = f.entriesSince(before)
		if len(es) != 1 || es[0].Action != trace.ActionFootageRequestDecision || es[0].Reference != req || es[0].Actor.OrganisationID != f.hotel {
			t.Fatalf("approval traced %v; want one footage_request_decision by the hotel", actionsOf(es))
		}
		if r := f.do("POST", "/api/v1/footage-requests/"+req+"/decision", f.hotelTok, "", `{"approve":false}`); r.status != http.StatusConflict {
			t.Errorf("second decision = %d; want 409", r.status)
		}

		if got := f.candidates()[f.lobby]; got.Basis != lostperson.BasisRequestApproved || got.Request == nil || got.Request.ID != req {
			t.Fatalf("candidates after approval: lobby = %+v; want basis %s with the request", got, lostperson.BasisRequestApproved)
		}
		// The approval covers the window asked for, which ended when the request was sent.
		var approved struct{ From, To time.Time }
		json.Unmarshal(r.body, &approved)
		f.from, f.to = approved.From, approved.To
		if got := f.look("GET", f.lobby, "recordings", nil); got.status != 200 {
			t.Errorf("recordings after approval = %d; want 200", got.status)
		}
		f.allowedPlayback("playback after approval", f.look("GET", f.lobby, "playback", nil), "footage request approved")
		// The approval is for this camera only.
		f.hidden("playback of the other hotel camera", f.look("GET", f.lobby2, "playback", nil), trace.ActionPlayback)
	})
}

// TestFootageRequestDeclined: a declined request keeps the camera closed.
func TestFootageRequestDeclined(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newOwnersFixture(t, db, nil)
		f.candidates()
		req := mustCreate(t, f.do("POST", "/api/v1/applications/"+f.app+"/footage-requests", f.revTok, "",
			fmt.Sprintf(`{"camera_id":%q,"reason":"missing person near the hotel"}`, f.lobby)))
		before := f.size()
		if r := f.do("POST", "/api/v1/footage-requests/"+req+"/decision", f.hotelTok, "", `{"approve":false,"note":"ask the court"}`); r.status != 200 || r.json(t)["status"] != "declined" {
			t.Fatalf("decline = %d %s; want 200 declined", r.status, r.body)
		}
		if es := f.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionFootageRequestDecision || !strings.Contains(es[0].Reason, "declined") {
			t.Fatalf("decline traced %v; want one footage_request_decision naming the decline", actionsOf(es))
		}
		got := f.candidates()[f.lobby]
		if got.Basis != lostperson.BasisNone || got.Request == nil || got.Request.Status != "declined" {
			t.Fatalf("candidates after decline: lobby = %+v; want basis none with the declined request", got)
		}
		f.hidden("playback after decline", f.look("GET", f.lobby, "playback", nil), trace.ActionPlayback)
		f.hidden("recordings after decline", f.look("GET", f.lobby, "recordings", nil), trace.ActionRecordingsRead)
		r := f.do("GET", "/api/v1/applications/"+f.app+"/footage-requests", f.revTok, "", "")
		if r.status != 200 || !strings.Contains(string(r.body), `"declined"`) || !strings.Contains(string(r.body), "ask the court") {
			t.Errorf("application's footage requests = %d %s; want the declined request with the owner's note", r.status, r.body)
		}
	})
}

// TestEmergencyReview: under the hotel's emergency grant to the police the lobby is marked
// emergency; a look needs a case reference, notifies the hotel at once, and is flagged in the
// owner's view and the trail the auditors read.
func TestEmergencyReview(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newOwnersFixture(t, db, nil)
		em := mustCreate(t, f.do("POST", "/api/v1/grants", f.hotelTok, "",
			strings.Replace(grantJSON(f.lobby, f.psb), `["live","playback"]`, `["emergency"]`, 1)))
		if got := f.candidates()[f.lobby]; got.Basis != lostperson.BasisEmergency || got.GrantID != em {
			t.Fatalf("candidates under an emergency grant: lobby = %+v; want basis emergency, grant %s", got, em)
		}
		f.hidden("emergency playback without a case", f.look("GET", f.lobby, "playback", nil), trace.ActionPlayback)
		r := f.do("GET", "/api/v1/sharing/notifications?organisation_id="+f.hotel, f.hotelTok, "", "")
		if r.status != 200 || strings.Contains(string(r.body), f.lobby) {
			t.Fatalf("notifications before any emergency look = %d %s; want none", r.status, r.body)
		}

		f.allowedPlayback("emergency playback with a case", f.look("GET", f.lobby, "playback", url.Values{"case_ref": {"JZ-2026-0117"}}), "EMERGENCY use under grant "+em)
		r = f.do("GET", "/api/v1/sharing/notifications?organisation_id="+f.hotel, f.hotelTok, "", "")
		if r.status != 200 || !strings.Contains(string(r.body), f.lobby) || !strings.Contains(string(r.body), "JZ-2026-0117") {
			t.Fatalf("notifications = %d %s; want the emergency use of the lobby for the case", r.status, r.body)
		}
		r = f.do("GET", "/api/v1/grants/accesses?organisation_id="+f.hotel, f.hotelTok, "", "")
		if r.status != 200 || !strings.Contains(string(r.body), em) {
			t.Errorf("owner's accesses = %d %s; want the look under emergency grant %s", r.status, r.body, em)
		}
		_, audTok := f.addUser("aud1", auth.RoleAuditor, "")
		r = f.do("GET", "/api/v1/trace?camera_id="+f.lobby, audTok, "", "")
		if r.status != 200 || !strings.Contains(string(r.body), "EMERGENCY") {
			t.Errorf("auditor's trail of the lobby = %d %s; want the look flagged EMERGENCY", r.status, r.body)
		}
	})
}

// TestCandidateOpenSegment (point 11): a camera whose only footage in the window is the segment
// still being written is a candidate, with that stretch as its range.
func TestCandidateOpenSegment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		rec := recorderStatus{}
		f := newOwnersFixture(t, db, rec)
		fresh := mustCreate(t, f.do("POST", "/api/v1/cameras", f.adminTok, "", cameraJSON(f.psb, "New gate", "public_square")))
		now := time.Now().UTC()
		rec[fresh] = recorder.Status{State: "recording", SegmentStart: now.Add(-2 * time.Minute), LastPart: now.Add(-time.Second)}
		if err := db.SegmentStarted(context.Background(), fresh, fresh+"/open.mp4", now.Add(-2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		r := f.do("GET", "/api/v1/applications/"+f.app+"/candidates", f.revTok, "", "")
		var c struct {
			Cameras []struct {
				CameraID        string  `json:"camera_id"`
				RecordedSeconds float64 `json:"recorded_seconds"`
			}
		}
		json.Unmarshal(r.body, &c)
		for _, cam := range c.Cameras {
			if cam.CameraID == fresh {
				if cam.RecordedSeconds < 100 {
					t.Errorf("open-segment candidate recorded %.0f s; want the open segment's ~119 s", cam.RecordedSeconds)
				}
				return
			}
		}
		t.Errorf("candidates = %d %s; want camera %s, recording its first segment", r.status, r.body, fresh)
	})
}
