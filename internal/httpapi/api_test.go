package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/httpapi"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// stack is a whole API over a real database and a running trail, on an httptest server.
type stack struct {
	*apitest.Stack
	t     *testing.T
	db    *store.DB
	reg   *registry.Service
	trail *trace.Log
	api   *httpapi.Server
	srv   *httptest.Server
}

func newStack(t *testing.T, db *store.DB) *stack {
	t.Helper()
	st := apitest.New(t, db)
	withRequests(t, st)
	srv := httptest.NewServer(st.API.Handler())
	t.Cleanup(srv.Close)
	return &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: st.API, srv: srv}
}

type response struct {
	status int
	body   []byte
	ctype  string // the Content-Type answered
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.status, err, r.body)
	}
	return m
}

func (r response) errorCode() string {
	var m struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &m)
	return m.Error.Code
}

func (s *stack) do(method, path, token, contentType string, body string) response {
	s.t.Helper()
	return s.doWith(method, path, token, contentType, body, nil)
}

// doHeader is do with a JSON body and further request headers, given as name, value pairs.
func (s *stack) doHeader(method, path, token, body string, kv ...string) response {
	s.t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return s.doWith(method, path, token, "", body, h)
}

func (s *stack) doWith(method, path, token, contentType string, body string, h http.Header) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" && contentType == "" {
		contentType = "application/json"
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, b, res.Header.Get("Content-Type")}
}

// addUser creates a user straight through the shared code path and logs it in.
func (s *stack) addUser(username string, role auth.Role, org string) (id, token string) {
	s.t.Helper()
	id = s.AddUser(s.t, username, role, org)
	return id, s.login(username, apitest.Password)
}

func (s *stack) login(username, password string) string {
	s.t.Helper()
	r := s.do("POST", "/api/v1/sessions", "", "", fmt.Sprintf(`{"username":%q,"password":%q}`, username, password))
	if r.status != http.StatusCreated {
		s.t.Fatalf("login %s = %d %s; want 201", username, r.status, r.body)
	}
	return r.json(s.t)["token"].(string)
}

// entriesSince returns the trail entries appended after the trail had n entries.
func (s *stack) entriesSince(n int64) []trace.Entry { return s.Entries(s.t, n) }

func (s *stack) size() int64 { return s.Size(s.t) }

func mustCreate(t *testing.T, r response) string {
	t.Helper()
	if r.status != http.StatusCreated {
		t.Fatalf("create = %d %s; want 201", r.status, r.body)
	}
	return r.json(t)["id"].(string)
}

func cameraJSON(org, name, category string) string {
	return fmt.Sprintf(`{"name":%q,"organisation_id":%q,"investment":"government","lat":27.83,"lon":113.15,"place_category":%q,"source_url":"rtsp://user:secret@10.0.0.9/stream"}`, name, org, category)
}

const anon = "anonymous"

// holdJSON is a legal hold on one camera over a day.
func holdJSON(cam string) string {
	return fmt.Sprintf(`{"camera_ids":[%q],"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z","reference":"case 1","reason":"test"}`, cam)
}

var everyone = []string{anon, "admin", "operator", "owner", "reviewer", "auditor", "applicant"}

// untraced are the requests that may be answered without a trail entry, each with the reason:
// they change nothing, and read nothing personal and nothing of what was recorded when. A key is
// "METHOD pattern" for every role, or "METHOD pattern as role" for one. Every other request to
// a route of the table — every change, allowed or refused, and every read of personal data or
// footage metadata — must leave an entry; a new route is held to it until its service traces
// it or it is listed here with its reason.
var untraced = map[string]string{
	"GET /api/v1/me":                       "the caller's own account",
	"GET /api/v1/policy":                   "the published policy pack",
	"GET /api/v1/openapi.json":             "the API's description",
	"GET /api/v1/portal":                   "the published conditions and procedures",
	"GET /api/v1/procedures":               "the published procedures",
	"GET /api/v1/consultations":            "the published consultations",
	"GET /api/v1/consultations/{id}":       "a consultation's published record: the opinions carry no personal data",
	"POST /api/v1/consultations/receipt":   "a submitter reading its own opinion and the published answer; the code is the only key",
	"GET /api/v1/organisations":            "the register of organisations: bodies, not people",
	"GET /api/v1/organisations/{id}":       "the register of organisations: bodies, not people",
	"GET /api/v1/cameras":                  "the register of cameras, with secrets masked: where they are, not what they saw",
	"GET /api/v1/cameras/{id}":             "the register of cameras, with secrets masked: where they are, not what they saw",
	"GET /api/v1/cameras/{id}/recording":   "the recorder's health now (state, codec, bitrate), not what was recorded when",
	"GET /api/v1/compliance":               "the register's findings against the policy pack: cameras, not people",
	"GET /api/v1/storage":                  "disk capacity against the retention floor",
	"GET /api/v1/storage/summary":          "disk capacity against the retention floor, the locations alone",
	"GET /api/v1/compliance/summary":       "counts of the register's findings: cameras, not people",
	"GET /api/v1/trace/checkpoint":         "the trail's public signed head",
	"GET /api/v1/trace/key":                "the trail's public verifier key",
	"GET /api/v1/trace/proof/inclusion":    "a public hash path: it names no entry's content",
	"GET /api/v1/trace/proof/consistency":  "a public hash path: it names no entry's content",
	"GET /api/v1/cameras/{id}/sign":        "the register's sign record (installed, dates, the photo's hash); looks at the photo are traced",
	"GET /api/v1/cameras/{id}/maintenance": "a camera's maintenance plan and work orders: equipment upkeep, not people or footage",
	"GET /api/v1/maintenance/orders":       "maintenance work orders: equipment upkeep, not people or footage",
	"GET /api/v1/places":                   "the register of the city's places: squares and roads, not people",
	"GET /api/v1/filings":                  "the register's filing dates against the policy pack: cameras, not people",
	// Signing a checkpoint changes no record: it publishes the trail's head, and the signed
	// checkpoint is itself the trail's record of it (an entry for it would lie outside it).
	"POST /api/v1/trace/checkpoint":    "signs the trail's own head; the checkpoint is its record",
	"GET /api/v1/export-approvals":     "the caller's own organisation's export requests awaiting a second user; each was traced when made",
	"GET /api/v1/exports":              "the caller's own exports (an admin's, everyone's); each was traced when made, and each download is",
	"POST /api/v1/exports/verify":      "checks a file the caller holds against the platform's public key; reads nothing of the platform's",
	"GET /api/v1/holds":                "the legal holds in force: ranges kept for a case, configuration as the trail names it",
	"GET /api/v1/grants":               "the sharing agreements between organisations, configuration as the trail names it",
	"GET /api/v1/grants/{id}":          "a sharing agreement between organisations",
	"GET /api/v1/groups":               "camera groups, configuration",
	"GET /api/v1/groups/{id}":          "a camera group, configuration",
	"GET /api/v1/sharing/terms":        "the published sharing terms",
	"GET /api/v1/sharing/cameras":      "the register of cameras shared with the caller's organisation",
	"GET /api/v1/gb28181/devices":      "the register of GB/T 28181 devices and channels: equipment, not people or footage",
	"GET /api/v1/gb28181/devices/{id}": "the register of GB/T 28181 devices and channels: equipment, not people or footage",
	// WHEP's OPTIONS (a browser's CORS preflight, with no login) names what a URL takes and
	// reads nothing of a camera or a session.
	"OPTIONS /api/v1/cameras/{id}/whep":           "what the WHEP endpoint takes, the same for every camera",
	"OPTIONS /api/v1/cameras/{id}/whep/{session}": "what a WHEP session URL takes, the same for every session",
	// The live grid: a layout of the caller's own is a preference, not a look; each tile's
	// live view and each snapshot is traced when it happens.
	"GET /api/v1/live/cameras":       "the register of cameras the caller may watch live, with secrets masked, as the camera list",
	"GET /api/v1/live/views":         "the caller's own saved grid layouts: names and camera ids, no footage",
	"GET /api/v1/live/views/{id}":    "one of the caller's own saved grid layouts",
	"POST /api/v1/live/views":        "the caller's own layout preference, naming only cameras it may watch; watching any of them is traced",
	"DELETE /api/v1/live/views/{id}": "the caller's own layout preference",
	// An applicant reading what is its own: its applications and their result notice.
	"GET /api/v1/applications as applicant":                 "the applicant's own applications",
	"GET /api/v1/applications/{id} as applicant":            "the applicant's own application",
	"GET /api/v1/applications/{id}/notice.pdf as applicant": "the applicant's own result notice",
	// Footage requests name a camera, a window and the police's reason, nothing of the applicant;
	// sending and deciding one is traced.
	"GET /api/v1/applications/{id}/footage-requests": "the footage requests of an application: cameras, windows, owners' answers",
	"GET /api/v1/footage-requests":                   "the owner's footage requests: its cameras, windows and the police's reasons",
	"GET /api/v1/footage-requests/{id}":              "an owner's footage request: its camera, window and the police's reason",
	// Pending: the staff accounts are personal data; the accounts service (not part of this
	// change) is to trace an admin's reading of them.
	"GET /api/v1/inspections/plans":     "establishments' room groups: configuration, whose every change is traced",
	"GET /api/v1/inspections/overdue":   "which establishments are overdue, as the compliance report: findings, not records",
	"GET /api/v1/camera-reports/counts": "the public portal's counts of reports: figures naming nothing",
	"GET /api/v1/users as admin":        "PENDING: accounts.Users is to trace the read of staff accounts",
}

// mayGoUntraced reports whether a request of role to the route may leave no trail entry.
// consultationJSON is a draft put to the public until deadline.
func consultationJSON(deadline time.Time) string {
	return `{"title":"Lost-person procedure","draft":"1. Apply at a police station.","deadline":"` + deadline.UTC().Format(time.RFC3339) + `"}`
}

func mayGoUntraced(method, pattern, role string) bool {
	_, all := untraced[method+" "+pattern]
	_, one := untraced[method+" "+pattern+" as "+role]
	return all || one
}

// TestRoutesByRole is the authorization table: every route × every role, with the status and
// the trail entries each request must produce. A route missing from the table fails the test.
func TestRoutesByRole(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
		tokens := map[string]string{"admin": adminTok}
		_, tokens["operator"] = s.addUser("op1", auth.RoleOperator, orgA)
		_, tokens["owner"] = s.addUser("owner1", auth.RoleOwner, orgB)
		revID, revTok := s.addUser("rev1", auth.RoleReviewer, "")
		tokens["reviewer"] = revTok
		_, tokens["auditor"] = s.addUser("aud1", auth.RoleAuditor, "")
		_, tokens["applicant"] = s.addUser("app1", auth.RoleApplicant, "")
		camA := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "A1", "public_square")))
		victim, _ := s.addUser("victim", auth.RoleReviewer, "")
		apps := newAppFixtures(t, s, tokens["applicant"], tokens["reviewer"])
		appPath := func(id, tail string) func(string) string {
			return func(string) string { return "/api/v1/applications/" + id + tail }
		}
		upload, uploadType := multipartBody("relationship", "doc.png", "image/png", pngBytes)
		// A private camera of the owner's organisation, a candidate of the reviewer's search, and
		// footage requests pending for the operator's and the owner's organisations.
		camPriv := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", privateCameraJSON(orgB, "Lobby")))
		t0 := time.Now().UTC().Truncate(time.Second)
		if err := db.PutGrants(context.Background(), []lostperson.FootageGrant{{ApplicationID: apps.accepted, ReviewerID: revID,
			CameraID: camPriv, From: t0.Add(-time.Hour), To: t0, CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		// A sign photo to look at, and a work order per role to close.
		if r := s.do("PUT", "/api/v1/cameras/"+camA+"/sign/photo", adminTok, "image/png", tinyPNG(t)); r.status != http.StatusOK {
			t.Fatalf("PUT sign photo = %d %s; want 200", r.status, r.body)
		}
		workOrder := func(string) string {
			return "/api/v1/maintenance/orders/" + mustCreate(t, s.do("POST", "/api/v1/cameras/"+camA+"/maintenance/orders", adminTok, "", `{"detail":"check"}`)) + "/done"
		}
		footageRequest := func(role string) string {
			org, cam := orgA, camA
			if role == "owner" {
				org, cam = orgB, camPriv
			}
			fr := &lostperson.FootageRequest{ID: registry.NewID(), ApplicationID: apps.accepted, ReviewerID: revID, CameraID: cam,
				OwnerOrganisationID: org, From: t0.Add(-time.Hour), To: t0, Reason: "test", Status: lostperson.RequestPending, CreatedAt: t0}
			if err := db.CreateFootageRequest(context.Background(), fr); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/footage-requests/" + fr.ID
		}

		type want struct {
			status  int
			actions []string
		}
		// Actions are written "action" for an allowed entry and "action:denied" for a refusal.
		denied := want{http.StatusForbidden, []string{"access_denied:denied"}}
		unauth := want{http.StatusUnauthorized, []string{"access_denied:denied"}}
		ok := func(status int, actions ...string) want { return want{status, actions} }
		// wall is another organisation's object: not found, and traced as a denied access.
		wall := want{http.StatusNotFound, []string{"access_denied:denied"}}
		allowOnly := func(allowed map[string]want) map[string]want {
			m := map[string]want{anon: unauth}
			for _, r := range everyone[1:] {
				m[r] = denied
			}
			for r, w := range allowed {
				m[r] = w
			}
			return m
		}
		public := func(w want) map[string]want {
			m := map[string]want{}
			for _, r := range everyone {
				m[r] = w
			}
			return m
		}
		anyLoggedIn := func(w want) map[string]want {
			m := public(w)
			m[anon] = unauth
			return m
		}
		camCSV := func(org string) string {
			return "name,organisation_id,investment,lat,lon,place_category\nImported," + org + ",private,27.8,113.1,shopping_mall\n"
		}
		seq := 0
		next := func() string { seq++; return fmt.Sprint(seq) }
		gbPending := gbDevice(t, s.Stack, 2)
		cons, err := s.Consultation.Publish(apitest.SetupCtx, consultation.DraftInput{Title: "Procedure", Draft: "Draft", Deadline: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		receipt, err := s.Consultation.Submit(context.Background(), "192.0.2.8", cons.ID, "an opinion")
		if err != nil {
			t.Fatal(err)
		}
		insp := newInspectionFixtures(t, s, orgB)
		// An active camera of the operator's organisation, for the live grid's saved views.
		camLive := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "Live", "public_square")))
		if r := s.do("PATCH", "/api/v1/cameras/"+camLive, adminTok, "", `{"status":"active"}`); r.status != http.StatusOK {
			t.Fatalf("activate camera = %d %s", r.status, r.body)
		}
		adminView := mustCreate(t, s.do("POST", "/api/v1/live/views", adminTok, "", `{"name":"admin's","layout":4,"camera_ids":["`+camLive+`"]}`))

		rows := []struct {
			method, pattern string
			path            func(role string) string
			body            func(role string) string
			ctype           string
			want            map[string]want
		}{
			{"POST", "/api/v1/sessions", nil,
				func(string) string { return `{"username":"admin1","password":"correct horse battery"}` }, "",
				public(ok(201, "login"))},
			{"GET", "/api/v1/me", nil, nil, "", anyLoggedIn(ok(200))},
			{"GET", "/api/v1/policy", nil, nil, "", anyLoggedIn(ok(200))},
			{"GET", "/api/v1/openapi.json", nil, nil, "", public(ok(200))},
			{"POST", "/api/v1/organisations", nil,
				func(string) string { return `{"name":"Org ` + next() + `","kind":"enterprise"}` }, "",
				allowOnly(map[string]want{"admin": ok(201, "organisation_create")})},
			{"GET", "/api/v1/organisations", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/organisations/{id}", func(string) string { return "/api/v1/organisations/" + orgA }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/users", nil,
				func(string) string {
					return `{"username":"new` + next() + `","password":"another long one","role":"auditor"}`
				}, "",
				allowOnly(map[string]want{"admin": ok(201, "user_create")})},
			{"GET", "/api/v1/users", nil, nil, "", allowOnly(map[string]want{"admin": ok(200)})},
			{"PATCH", "/api/v1/users/{id}", func(string) string { return "/api/v1/users/" + victim }, func(string) string { return `{"role":"auditor"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "user_update")})},
			{"POST", "/api/v1/cameras", nil, func(string) string { return cameraJSON(orgA, "C"+next(), "road_intersection") }, "",
				allowOnly(map[string]want{"admin": ok(201, "camera_create"), "operator": ok(201, "camera_create"), "owner": ok(400, "camera_create:denied")})},
			{"GET", "/api/v1/cameras", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/cameras/import", nil, func(string) string { return camCSV(orgA) }, "text/csv",
				allowOnly(map[string]want{"admin": ok(201, "camera_import"), "operator": ok(201, "camera_import"), "owner": ok(400, "camera_import:denied")})},
			{"GET", "/api/v1/cameras/{id}", func(string) string { return "/api/v1/cameras/" + camA }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": wall, "reviewer": ok(200), "auditor": ok(200)})},
			{"PATCH", "/api/v1/cameras/{id}", func(string) string { return "/api/v1/cameras/" + camA }, func(string) string { return `{"sign_installed":true}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "camera_update"), "operator": ok(200, "camera_update"), "owner": wall})},
			{"DELETE", "/api/v1/cameras/{id}", func(role string) string {
				// each allowed role decommissions a camera of its own
				id := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "D"+next(), "public_square")))
				return "/api/v1/cameras/" + id
			}, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "camera_decommission"), "operator": ok(200, "camera_decommission"), "owner": wall})},
			{"GET", "/api/v1/cameras/{id}/recordings", func(string) string { return "/api/v1/cameras/" + camA + "/recordings" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "recordings_read"), "operator": ok(200, "recordings_read"), "owner": wall,
					"reviewer": ok(200, "recordings_read"), "auditor": ok(200, "recordings_read")})},
			{"GET", "/api/v1/cameras/{id}/recording", func(string) string { return "/api/v1/cameras/" + camA + "/recording" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": wall, "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/cameras/{id}/legal-basis", func(string) string { return "/api/v1/cameras/" + camA + "/legal-basis" },
				func(string) string { return `{"basis_id":"state_secrets","document_ref":"decision ` + next() + `"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "legal_basis_propose"), "operator": ok(200, "legal_basis_propose"), "owner": wall})},
			// The admin belongs to no public-security organisation: refused, and traced.
			{"POST", "/api/v1/cameras/{id}/legal-basis/approve", func(string) string { return "/api/v1/cameras/" + camA + "/legal-basis/approve" }, nil, "",
				allowOnly(map[string]want{"admin": ok(403, "legal_basis_approve:denied")})},
			{"POST", "/api/v1/cameras/{id}/legal-basis/decline", func(string) string { return "/api/v1/cameras/" + camA + "/legal-basis/decline" },
				func(string) string { return `{"note":"no such decision"}` }, "",
				allowOnly(map[string]want{"admin": ok(403, "legal_basis_decline:denied")})},
			{"GET", "/api/v1/cameras/{id}/duplicate-check", func(string) string { return "/api/v1/cameras/" + camA + "/duplicate-check" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "duplicate_check"), "operator": ok(200, "duplicate_check"), "owner": wall,
					"reviewer": ok(200, "duplicate_check"), "auditor": ok(200, "duplicate_check")})},
			// Neither the admin nor the reviewer belongs to a public-security organisation: refused, and traced.
			{"POST", "/api/v1/cameras/{id}/construction-approval", func(string) string { return "/api/v1/cameras/" + camA + "/construction-approval" },
				func(string) string { return `{"decision":"approve"}` }, "",
				allowOnly(map[string]want{"admin": ok(403, "construction_decision:denied"), "reviewer": ok(403, "construction_decision:denied")})},
			{"GET", "/api/v1/cameras/{id}/sign", func(string) string { return "/api/v1/cameras/" + camA + "/sign" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": wall, "reviewer": ok(200), "auditor": ok(200)})},
			{"PUT", "/api/v1/cameras/{id}/sign", func(string) string { return "/api/v1/cameras/" + camA + "/sign" }, func(string) string { return `{"installed":true}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "sign_update"), "operator": ok(200, "sign_update"), "owner": wall})},
			{"PUT", "/api/v1/cameras/{id}/sign/photo", func(string) string { return "/api/v1/cameras/" + camA + "/sign/photo" }, func(string) string { return tinyPNG(t) }, "image/png",
				allowOnly(map[string]want{"admin": ok(200, "sign_update"), "operator": ok(200, "sign_update"), "owner": wall})},
			{"GET", "/api/v1/cameras/{id}/sign/photo", func(string) string { return "/api/v1/cameras/" + camA + "/sign/photo" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "sign_photo_read"), "operator": ok(200, "sign_photo_read"), "owner": wall,
					"reviewer": ok(200, "sign_photo_read"), "auditor": ok(200, "sign_photo_read")})},
			{"GET", "/api/v1/cameras/{id}/maintenance", func(string) string { return "/api/v1/cameras/" + camA + "/maintenance" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": wall, "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/cameras/{id}/maintenance/orders", func(string) string { return "/api/v1/cameras/" + camA + "/maintenance/orders" },
				func(string) string { return `{"detail":"lens"}` }, "",
				allowOnly(map[string]want{"admin": ok(201, "maintenance_open"), "operator": ok(201, "maintenance_open"), "owner": wall})},
			{"GET", "/api/v1/maintenance/orders", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/maintenance/orders/{id}/done", workOrder, func(string) string { return `{"notes":"cleaned"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "maintenance_done"), "operator": ok(200, "maintenance_done"), "owner": wall})},
			{"POST", "/api/v1/places/import", nil, func(string) string {
				return "name,place_category,lat,lon\nSquare " + next() + ",public_square,27.8,113.1\n"
			}, "text/csv",
				allowOnly(map[string]want{"admin": ok(201, "place_import")})},
			{"GET", "/api/v1/places", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/places/coverage", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "coverage_report"), "operator": ok(200, "coverage_report"), "owner": ok(200, "coverage_report"),
					"reviewer": ok(200, "coverage_report"), "auditor": ok(200, "coverage_report")})},
			{"GET", "/api/v1/compliance", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/compliance/summary", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/trace/checkpoint", nil, nil, "", public(ok(200))},
			{"GET", "/api/v1/trace/key", nil, nil, "", public(ok(200))},
			{"GET", "/api/v1/trace/proof/inclusion", func(string) string { return "/api/v1/trace/proof/inclusion?seq=0&tree_size=2" }, nil, "", public(ok(200))},
			{"GET", "/api/v1/trace/proof/consistency", func(string) string { return "/api/v1/trace/proof/consistency?size1=1&size2=3" }, nil, "", public(ok(200))},
			{"POST", "/api/v1/trace/checkpoint", nil, nil, "", allowOnly(map[string]want{"admin": ok(201), "auditor": ok(201)})},
			{"GET", "/api/v1/trace", nil, nil, "", allowOnly(map[string]want{"admin": ok(200, "trace_read"), "auditor": ok(200, "trace_read")})},
			{"GET", "/api/v1/trace/leaves", func(string) string { return "/api/v1/trace/leaves?start=0&limit=5" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "trace_read"), "auditor": ok(200, "trace_read")})},
			{"GET", "/api/v1/portal", nil, nil, "", public(ok(200))},
			{"GET", "/api/v1/filings", func(string) string { return "/api/v1/filings?overdue=false" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "auditor": ok(200)})},
			// camA was registered planned: not accepted, so there is nothing to file yet (409), and
			// the refusal is traced.
			{"POST", "/api/v1/cameras/{id}/filing", func(string) string { return "/api/v1/cameras/" + camA + "/filing" },
				func(string) string { return `{"filed_on":"2026-01-05","reference":"BA-1"}` }, "",
				allowOnly(map[string]want{"admin": ok(409, "system_filing:denied")})},
			{"GET", "/api/v1/consultations", nil, nil, "", public(ok(200))},
			{"POST", "/api/v1/consultations", nil, func(string) string { return consultationJSON(time.Now().Add(time.Hour)) }, "",
				allowOnly(map[string]want{"admin": ok(201, "consultation_publish")})},
			{"GET", "/api/v1/consultations/{id}", func(string) string { return "/api/v1/consultations/" + cons.ID }, nil, "", public(ok(200))},
			{"POST", "/api/v1/consultations/{id}/opinions", func(string) string { return "/api/v1/consultations/" + cons.ID + "/opinions" },
				func(string) string { return `{"text":"opinion ` + next() + `"}` }, "", public(ok(201, "consultation_opinion"))},
			{"POST", "/api/v1/consultations/receipt", nil, func(string) string { return `{"receipt":"` + receipt.Code + `"}` }, "", public(ok(200))},
			{"POST", "/api/v1/consultations/{id}/opinions/{oid}/answer", func(string) string {
				rc, err := s.Consultation.Submit(context.Background(), "192.0.2.9", cons.ID, "to answer "+next())
				if err != nil {
					t.Fatal(err)
				}
				return "/api/v1/consultations/" + cons.ID + "/opinions/" + rc.Opinion.ID + "/answer"
			}, func(string) string { return `{"verdict":"not_adopted","answer":"the pack sets it"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "consultation_answer"),
					"reviewer": ok(200, "consultation_answer")})},
			// Before its deadline a consultation takes opinions, so the final is refused, and traced.
			{"POST", "/api/v1/consultations/{id}/final", func(string) string { return "/api/v1/consultations/" + cons.ID + "/final" },
				func(string) string { return `{"final":"the final text"}` }, "",
				allowOnly(map[string]want{"admin": ok(409, "consultation_final:denied")})},
			{"GET", "/api/v1/procedures", nil, nil, "", public(ok(200))},
			{"POST", "/api/v1/procedures", nil, func(string) string { return procedureJSON() }, "",
				allowOnly(map[string]want{"admin": ok(201, "policy_change")})},
			{"POST", "/api/v1/applicants", nil,
				func(string) string {
					n := next()
					return `{"username":"reg` + n + `","password":"a long enough password","contact":"reg` + n + `@example.cn"}`
				}, "", public(ok(202, "applicant_register"))},
			{"POST", "/api/v1/applicants/verify", nil,
				func(string) string {
					n := next()
					r := s.do("POST", "/api/v1/applicants", "", "", `{"username":"ver`+n+`","password":"a long enough password","contact":"ver`+n+`@example.cn"}`)
					return `{"registration_id":"` + r.json(t)["registration_id"].(string) + `","code":"abcdef"}`
				}, "", public(ok(400, "applicant_register:denied"))},
			{"POST", "/api/v1/applications", nil, func(string) string { return applicationJSON("child") }, "",
				allowOnly(map[string]want{"applicant": ok(201, "application_decision")})},
			{"GET", "/api/v1/applications", nil, nil, "", allowOnly(map[string]want{"applicant": ok(200), "reviewer": ok(200, "application_read")})},
			{"GET", "/api/v1/applications/{id}", appPath(apps.submitted, ""), nil, "",
				allowOnly(map[string]want{"applicant": ok(200), "reviewer": ok(200, "application_read")})},
			{"POST", "/api/v1/applications/{id}/documents", appPath(apps.submitted, "/documents"), func(string) string { return upload }, uploadType,
				allowOnly(map[string]want{"applicant": ok(201, "document_upload")})},
			{"GET", "/api/v1/applications/{id}/documents/{doc}", appPath(apps.submitted, "/documents/"+apps.doc), nil, "",
				allowOnly(map[string]want{"reviewer": ok(200, "document_read")})},
			{"GET", "/api/v1/applications/{id}/notice.pdf", appPath(apps.done, "/notice.pdf"), nil, "",
				allowOnly(map[string]want{"applicant": ok(200)})},
			{"POST", "/api/v1/applications/{id}/decision", func(string) string { return "/api/v1/applications/" + apps.newWithDocs() + "/decision" },
				func(string) string { return `{"accept":true,"reason":"documents in order"}` }, "",
				allowOnly(map[string]want{"reviewer": ok(200, "application_decision")})},
			{"GET", "/api/v1/applications/{id}/candidates", appPath(apps.accepted, "/candidates"), nil, "",
				allowOnly(map[string]want{"reviewer": ok(200, "search")})},
			{"POST", "/api/v1/applications/{id}/findings", appPath(apps.accepted, "/findings"), func(string) string { return `{"body":"checked camera 3"}` }, "",
				allowOnly(map[string]want{"reviewer": ok(201, "application_decision")})},
			{"POST", "/api/v1/applications/{id}/result", func(string) string { return "/api/v1/applications/" + apps.newAccepted() + "/result" },
				func(string) string {
					return `{"outcome":"no_relevant_footage","notice":"No relevant footage was found."}`
				}, "",
				allowOnly(map[string]want{"reviewer": ok(200, "notice_draft", "application_read")})},
			{"POST", "/api/v1/applications/{id}/footage-requests", appPath(apps.accepted, "/footage-requests"),
				func(string) string { return `{"camera_id":"` + camPriv + `","reason":"last seen near the lobby"}` }, "",
				allowOnly(map[string]want{"reviewer": ok(201, "footage_request")})},
			{"GET", "/api/v1/applications/{id}/footage-requests", appPath(apps.accepted, "/footage-requests"), nil, "",
				allowOnly(map[string]want{"reviewer": ok(200)})},
			{"GET", "/api/v1/footage-requests", nil, nil, "", allowOnly(map[string]want{"operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/footage-requests/{id}", footageRequest, nil, "", allowOnly(map[string]want{"operator": ok(200), "owner": ok(200)})},
			{"POST", "/api/v1/footage-requests/{id}/decision", func(role string) string { return footageRequest(role) + "/decision" },
				func(string) string { return `{"approve":true}` }, "",
				allowOnly(map[string]want{"operator": ok(200, "footage_request_decision"), "owner": ok(200, "footage_request_decision")})},
			{"POST", "/api/v1/applications/{id}/documents/shown", appPath(apps.submitted, "/documents/shown"),
				func(string) string { return `{"kind":"identity","note":"identity card seen at the desk"}` }, "",
				allowOnly(map[string]want{"reviewer": ok(201, "document_shown")})},
			// The fixtures' applicants were made by an admin and have no verified contact: the
			// look is traced all the same.
			{"GET", "/api/v1/applications/{id}/contact", appPath(apps.submitted, "/contact"), nil, "",
				allowOnly(map[string]want{"reviewer": ok(404, "contact_read", "access_denied:denied")})},
			{"GET", "/api/v1/applications/{id}/notices", appPath(apps.done, "/notices"), nil, "",
				allowOnly(map[string]want{"reviewer": ok(200, "application_read")})},
			{"POST", "/api/v1/applications/{id}/notices", appPath(apps.accepted, "/notices"),
				func(string) string {
					return `{"outcome":"no_relevant_footage","message":"No relevant footage was found."}`
				}, "",
				allowOnly(map[string]want{"reviewer": ok(201, "notice_draft")})},
			{"POST", "/api/v1/applications/{id}/notices/{nid}/approve", func(role string) string {
				// drafted by the second reviewer, so that the table's reviewer is the second person;
				// the other roles are refused before the path is looked at
				if role != "reviewer" {
					return "/api/v1/applications/" + apps.accepted + "/notices/" + registry.NewID() + "/approve"
				}
				id := apps.newAccepted()
				return "/api/v1/applications/" + id + "/notices/" + apps.draft(id, apps.secondTok, `{"outcome":"found","message":"Found safe."}`) + "/approve"
			}, nil, "",
				allowOnly(map[string]want{"reviewer": ok(200, "notice_approve")})},
			// Footage: this stack records nothing, so those allowed find nothing (404 no_footage,
			// traced: that nothing was recorded then is itself footage metadata); refusals are
			// traced under the attempted action.
			{"GET", "/api/v1/cameras/{id}/playback.mp4", func(string) string {
				return "/api/v1/cameras/" + camA + "/playback.mp4?start=2026-01-01T00:00:00Z&end=2026-01-01T00:01:00Z&purpose=test"
			}, nil, "",
				allowOnly(map[string]want{"admin": ok(404, "playback"), "operator": ok(404, "playback"), "owner": ok(404, "playback:denied"),
					"reviewer": ok(403, "playback:denied"), "auditor": ok(403, "playback:denied")})},
			// A viewing is traced once when it opens, as the playback it allows.
			{"POST", "/api/v1/viewings", nil, func(string) string {
				return `{"camera_ids":["` + camA + `"],"start":"2026-01-01T00:00:00Z","end":"2026-01-01T01:00:00Z","purpose":"test"}`
			}, "",
				allowOnly(map[string]want{"admin": ok(201, "playback"), "operator": ok(201, "playback"), "owner": ok(404, "playback:denied"),
					"reviewer": ok(403, "playback:denied"), "auditor": ok(403, "playback:denied")})},
			{"GET", "/api/v1/viewings/{id}", func(string) string { return "/api/v1/viewings/" + registry.NewID() }, nil, "",
				allowOnly(map[string]want{"admin": wall, "operator": wall, "owner": wall, "reviewer": wall, "auditor": wall})},
			{"POST", "/api/v1/cameras/{id}/exports", func(string) string { return "/api/v1/cameras/" + camA + "/exports" },
				func(string) string {
					return `{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z","purpose":"test","case_ref":"C-1"}`
				}, "",
				allowOnly(map[string]want{"admin": ok(404, "export"), "operator": ok(404, "export"), "owner": ok(404, "export:denied"),
					"reviewer": ok(403, "export:denied"), "auditor": ok(403, "export:denied")})},
			{"GET", "/api/v1/exports", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			// This stack signs no exports, so it has no key to check one against (TestPlaybackAndExport checks real ones).
			{"POST", "/api/v1/exports/verify", nil, func(string) string { return "PK\x05\x06 not a zip" }, "application/zip",
				allowOnly(map[string]want{"admin": ok(503), "operator": ok(503), "owner": ok(503), "reviewer": ok(503), "auditor": ok(503)})},
			{"GET", "/api/v1/exports/{id}", func(string) string { return "/api/v1/exports/" + registry.NewID() }, nil, "",
				allowOnly(map[string]want{"admin": wall, "operator": wall, "owner": wall, "reviewer": wall, "auditor": wall})},
			{"GET", "/api/v1/export-approvals", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/export-approvals/{id}/approve", func(string) string { return "/api/v1/export-approvals/" + registry.NewID() + "/approve" }, nil, "",
				allowOnly(map[string]want{"admin": wall, "operator": wall, "owner": wall, "reviewer": wall, "auditor": wall})},
			// Live view: this stack runs no live service, so those allowed are told it is off (503,
			// traced as a refused live view); refusals are traced as live_view denials, and so is
			// ending a session the caller does not hold.
			{"POST", "/api/v1/cameras/{id}/whep", func(string) string { return "/api/v1/cameras/" + camA + "/whep?purpose=test" },
				func(string) string { return "v=0\r\n" }, "application/sdp",
				allowOnly(map[string]want{"admin": ok(503, "live_view:denied"), "operator": ok(503, "live_view:denied"), "owner": ok(404, "live_view:denied"),
					"reviewer": ok(403, "live_view:denied"), "auditor": ok(403, "live_view:denied")})},
			{"DELETE", "/api/v1/cameras/{id}/whep/{session}", func(string) string { return "/api/v1/cameras/" + camA + "/whep/0123abcd" }, nil, "",
				allowOnly(map[string]want{"admin": ok(404, "live_view:denied"), "operator": ok(404, "live_view:denied"), "owner": ok(404, "live_view:denied"),
					"reviewer": ok(404, "live_view:denied"), "auditor": ok(404, "live_view:denied")})},
			// WHEP's OPTIONS reads nothing (a CORS preflight carries no login); PATCH adds the
			// viewer's network candidates to its own session only, and is refused like DELETE.
			{"OPTIONS", "/api/v1/cameras/{id}/whep", func(string) string { return "/api/v1/cameras/" + camA + "/whep" }, nil, "", public(ok(204))},
			{"OPTIONS", "/api/v1/cameras/{id}/whep/{session}", func(string) string { return "/api/v1/cameras/" + camA + "/whep/0123abcd" }, nil, "", public(ok(204))},
			{"PATCH", "/api/v1/cameras/{id}/whep/{session}", func(string) string { return "/api/v1/cameras/" + camA + "/whep/0123abcd" },
				func(string) string { return "a=end-of-candidates\r\n" }, "application/trickle-ice-sdpfrag",
				allowOnly(map[string]want{"admin": ok(404, "live_view:denied"), "operator": ok(404, "live_view:denied"), "owner": ok(404, "live_view:denied"),
					"reviewer": ok(404, "live_view:denied"), "auditor": ok(404, "live_view:denied")})},
			// The live grid (livegrid.go): the roles that may watch live; a view is its user's
			// own, so another's is not found (traced); a snapshot of a session the caller does
			// not hold is refused and traced.
			{"POST", "/api/v1/cameras/{id}/whep/{session}/snapshot", func(string) string { return "/api/v1/cameras/" + camA + "/whep/0123abcd/snapshot" },
				func(string) string { return "\xff\xd8\xff\xe0 not really a JPEG" }, "image/jpeg",
				allowOnly(map[string]want{"admin": ok(404, "snapshot:denied"), "operator": ok(404, "snapshot:denied"), "owner": ok(404, "snapshot:denied"),
					"reviewer": ok(404, "snapshot:denied"), "auditor": ok(404, "snapshot:denied")})},
			{"GET", "/api/v1/live/cameras", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/live/views", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			// The owner may not watch the operator's organisation's camera: its view is refused.
			{"POST", "/api/v1/live/views", nil, func(string) string { return `{"name":"v` + next() + `","layout":4,"camera_ids":["` + camLive + `"]}` }, "",
				allowOnly(map[string]want{"admin": ok(201), "operator": ok(201), "owner": ok(400)})},
			{"GET", "/api/v1/live/views/{id}", func(string) string { return "/api/v1/live/views/" + adminView }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": wall, "owner": wall})},
			{"DELETE", "/api/v1/live/views/{id}", func(role string) string {
				tok := adminTok
				if role == "operator" {
					tok = tokens["operator"]
				}
				return "/api/v1/live/views/" + mustCreate(t, s.do("POST", "/api/v1/live/views", tok, "", `{"name":"d`+next()+`","layout":1,"camera_ids":["`+camLive+`"]}`))
			}, nil, "",
				allowOnly(map[string]want{"admin": ok(204), "operator": ok(204), "owner": wall})},
			// Legal holds and storage (retention.go). A hold is released by an admin or reviewer, or
			// by the operator who placed it; each role releases a hold of its own making (admin's
			// for the others).
			{"POST", "/api/v1/holds", nil, func(string) string { return holdJSON(camA) }, "",
				allowOnly(map[string]want{"admin": ok(201, "hold_create"), "operator": ok(201, "hold_create"), "owner": wall,
					"reviewer": ok(201, "hold_create")})},
			{"GET", "/api/v1/holds", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "reviewer": ok(200), "auditor": ok(200)})},
			{"DELETE", "/api/v1/holds/{id}", func(role string) string {
				tok := adminTok
				if role == "operator" {
					tok = tokens["operator"]
				}
				return "/api/v1/holds/" + mustCreate(t, s.do("POST", "/api/v1/holds", tok, "", holdJSON(camA))) + "?reason=case+closed"
			}, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "hold_release"), "operator": ok(200, "hold_release"), "owner": wall,
					"reviewer": ok(200, "hold_release")})},
			{"GET", "/api/v1/storage", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/storage/summary", nil, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200), "auditor": ok(200)})},
			// Sharing (grants.go): the cameras' organisation (or an admin) grants and revokes; the
			// grantee sees the grant but cannot revoke it; groups are per organisation.
			{"POST", "/api/v1/grants", nil, func(string) string { return grantJSON(camA, orgB) }, "",
				allowOnly(map[string]want{"admin": ok(201, "grant_create"), "operator": ok(201, "grant_create"), "owner": wall})},
			{"GET", "/api/v1/grants", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/grants/accesses", func(string) string { return "/api/v1/grants/accesses?format=csv&organisation_id=" + orgA }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "trace_read"), "operator": ok(200, "trace_read"), "owner": ok(200, "trace_read")})},
			{"GET", "/api/v1/grants/{id}", func(string) string {
				return "/api/v1/grants/" + mustCreate(t, s.do("POST", "/api/v1/grants", adminTok, "", grantJSON(camA, orgB)))
			}, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"DELETE", "/api/v1/grants/{id}", func(string) string {
				return "/api/v1/grants/" + mustCreate(t, s.do("POST", "/api/v1/grants", adminTok, "", grantJSON(camA, orgB)))
			}, nil, "", allowOnly(map[string]want{"admin": ok(200, "grant_revoke"), "operator": ok(200, "grant_revoke"), "owner": wall})},
			{"POST", "/api/v1/groups", nil, func(string) string { return `{"organisation_id":"` + orgA + `","name":"all","kind":"organisation"}` }, "",
				allowOnly(map[string]want{"admin": ok(201, "group_create"), "operator": ok(201, "group_create"), "owner": ok(201, "group_create")})},
			{"GET", "/api/v1/groups", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/groups/{id}", func(string) string {
				return "/api/v1/groups/" + mustCreate(t, s.do("POST", "/api/v1/groups", adminTok, "", `{"organisation_id":"`+orgA+`","name":"key","kind":"key_area"}`))
			}, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": wall})},
			{"PATCH", "/api/v1/groups/{id}", func(string) string {
				return "/api/v1/groups/" + mustCreate(t, s.do("POST", "/api/v1/groups", adminTok, "", `{"organisation_id":"`+orgA+`","name":"old","kind":"key_area"}`))
			}, func(string) string { return `{"name":"renamed"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "group_update"), "operator": ok(200, "group_update"), "owner": wall})},
			{"DELETE", "/api/v1/groups/{id}", func(string) string {
				return "/api/v1/groups/" + mustCreate(t, s.do("POST", "/api/v1/groups", adminTok, "", `{"organisation_id":"`+orgA+`","name":"gone","kind":"key_area"}`))
			}, nil, "", allowOnly(map[string]want{"admin": ok(204, "group_delete"), "operator": ok(204, "group_delete"), "owner": wall})},
			{"GET", "/api/v1/sharing/terms", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/sharing/cameras", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"GET", "/api/v1/sharing/notifications", func(string) string { return "/api/v1/sharing/notifications?organisation_id=" + orgA }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "trace_read"), "operator": ok(200, "trace_read"), "owner": ok(200, "trace_read")})},
			{"GET", "/api/v1/gb28181/devices", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "auditor": ok(200)})},
			{"GET", "/api/v1/gb28181/devices/{id}", func(string) string { return "/api/v1/gb28181/devices/" + gbPending }, nil, "",
				allowOnly(map[string]want{"admin": ok(200), "operator": ok(200), "auditor": ok(200)})},
			{"POST", "/api/v1/gb28181/devices/{id}/catalog", func(string) string { return "/api/v1/gb28181/devices/" + gbPending + "/catalog" }, nil, "",
				allowOnly(map[string]want{"admin": ok(202, "gb_catalog"), "operator": ok(202, "gb_catalog")})},
			{"POST", "/api/v1/gb28181/devices/{id}/adopt", func(string) string { return "/api/v1/gb28181/devices/" + gbDevice(t, s.Stack, 0) + "/adopt" },
				func(string) string { return `{"organisation_id":"` + orgA + `"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "gb_adopt"), "operator": ok(200, "gb_adopt")})},
			{"GET", "/api/v1/gb28181/devices/{id}/channels/{cid}/records", func(string) string {
				return "/api/v1/gb28181/devices/" + gbPending + "/channels/" + gbChannel(gbPending, 1) +
					"/records?start=2026-12-07T08:00:00%2B08:00&end=2026-12-07T10:00:00%2B08:00"
			}, nil, "", allowOnly(map[string]want{"admin": ok(200, "recordings_read"), "operator": ok(200, "recordings_read"),
				"auditor": ok(200, "recordings_read")})},
			// Hidden-camera inspections and public reports (inspections.go). The owner's
			// organisation is a hotel, which the pack asks to inspect; the operator's is not.
			{"GET", "/api/v1/inspections/plans", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "reviewer": ok(200),
				"auditor": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"PUT", "/api/v1/inspections/plans/{organisation_id}", func(string) string { return "/api/v1/inspections/plans/" + orgB },
				func(string) string { return `{"room_groups":["floor 1","floor 2"]}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "inspection_plan"), "owner": ok(200, "inspection_plan")})},
			{"GET", "/api/v1/inspections/records", func(string) string { return "/api/v1/inspections/records?organisation_id=" + orgB }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "inspection_read"), "reviewer": ok(200, "inspection_read"),
					"auditor": ok(200, "inspection_read"), "owner": ok(200, "inspection_read"), "operator": wall})},
			{"POST", "/api/v1/inspections/records", nil, func(string) string {
				return `{"organisation_id":"` + orgB + `","room_group":"floor 1","inspected_on":"2026-12-01","inspector":"Li","result":"clear"}`
			}, "", allowOnly(map[string]want{"admin": ok(201, "inspection_record"), "owner": ok(201, "inspection_record")})},
			{"GET", "/api/v1/inspections/records/{id}/photo", func(string) string { return "/api/v1/inspections/records/" + insp.record + "/photo" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "inspection_read"), "reviewer": ok(200, "inspection_read"),
					"auditor": ok(200, "inspection_read"), "owner": ok(200, "inspection_read"), "operator": wall})},
			{"GET", "/api/v1/inspections/overdue", nil, nil, "", allowOnly(map[string]want{"admin": ok(200), "reviewer": ok(200),
				"auditor": ok(200), "operator": ok(200), "owner": ok(200)})},
			{"POST", "/api/v1/camera-reports", nil, func(string) string { return `{"place":"Hotel room 3","description":"a lens in the socket"}` }, "",
				public(ok(201, "camera_report"))},
			{"POST", "/api/v1/camera-reports/status", nil, func(string) string { return `{"receipt":"` + insp.receipt + `"}` }, "",
				public(ok(200, "camera_report_read"))},
			{"GET", "/api/v1/camera-reports/counts", nil, nil, "", public(ok(200))},
			{"GET", "/api/v1/camera-reports", nil, nil, "", allowOnly(map[string]want{"admin": ok(200, "camera_report_read"),
				"reviewer": ok(200, "camera_report_read"), "auditor": ok(200, "camera_report_read")})},
			{"GET", "/api/v1/camera-reports/{id}", func(string) string { return "/api/v1/camera-reports/" + insp.report }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "camera_report_read"), "reviewer": ok(200, "camera_report_read"),
					"auditor": ok(200, "camera_report_read")})},
			{"GET", "/api/v1/camera-reports/{id}/photo", func(string) string { return "/api/v1/camera-reports/" + insp.report + "/photo" }, nil, "",
				allowOnly(map[string]want{"admin": ok(200, "camera_report_photo"), "reviewer": ok(200, "camera_report_photo"),
					"auditor": ok(200, "camera_report_photo")})},
			{"PATCH", "/api/v1/camera-reports/{id}", func(string) string { return "/api/v1/camera-reports/" + insp.newReport(t, nil).ReportID },
				func(string) string { return `{"status":"triaged","police_note":"to visit"}` }, "",
				allowOnly(map[string]want{"admin": ok(200, "camera_report_state"), "reviewer": ok(200, "camera_report_state")})},
			{"PUT", "/api/v1/gb28181/devices/{id}/auth", func(string) string { return "/api/v1/gb28181/devices/34020000001320009901/auth" },
				func(string) string { return `{"auth":"none"}` }, "", allowOnly(map[string]want{"admin": ok(200, "gb_device_auth")})},
			// Logging out last: it ends the session, so each role logs in afresh for it.
			{"DELETE", "/api/v1/sessions/current", nil, nil, "", anyLoggedIn(ok(204, "logout"))},
		}

		covered := map[string]bool{}
		for _, row := range rows {
			covered[row.method+" "+row.pattern] = true
		}
		routes := map[string]bool{}
		for _, rt := range s.api.Routes() {
			routes[rt.Method+" "+rt.Pattern] = true
			if !covered[rt.Method+" "+rt.Pattern] {
				t.Errorf("route %s %s is missing from the authorization table", rt.Method, rt.Pattern)
			}
		}
		for key := range untraced {
			route, _, _ := strings.Cut(key, " as ")
			if !routes[route] {
				t.Errorf("untraced lists %q, which is not a route of the table", key)
			}
		}

		doc := s.apiDoc(t)
		for _, row := range rows {
			for _, role := range everyone {
				t.Run(row.method+" "+row.pattern+" as "+role, func(t *testing.T) {
					w, found := row.want[role]
					if !found {
						t.Fatalf("no expectation for role %s", role)
					}
					path := row.pattern
					if row.path != nil {
						path = row.path(role)
					}
					body := ""
					if row.body != nil {
						body = row.body(role)
					}
					token := tokens[role]
					if row.pattern == "/api/v1/sessions/current" && role != anon {
						token = s.login(map[string]string{"admin": "admin1", "operator": "op1", "owner": "owner1",
							"reviewer": "rev1", "auditor": "aud1", "applicant": "app1"}[role], "correct horse battery")
					}
					before := s.size()
					r := s.do(row.method, path, token, row.ctype, body)
					if r.status != w.status {
						t.Fatalf("%s %s as %s = %d %s; want %d", row.method, path, role, r.status, r.body, w.status)
					}
					// The answer is what the API document says it is.
					if err := doc.checkAnswer(row.method, row.pattern, r.status, r.ctype, r.body); err != nil {
						t.Errorf("%s %s as %s: the answer is not as documented: %v", row.method, path, role, err)
					}
					var got []string
					for _, e := range s.entriesSince(before) {
						a := string(e.Action)
						if e.Outcome == trace.Denied {
							a += ":denied"
						}
						got = append(got, a)
						if e.Actor.ClientAddr == "" {
							t.Errorf("entry %d has no client address", e.Seq)
						}
					}
					if len(got) == 0 && !mayGoUntraced(row.method, row.pattern, role) {
						t.Errorf("%s %s as %s = %d and left no trail entry; trace it in its service, or list it in untraced with the reason",
							row.method, path, role, r.status)
					}
					if !slices.Equal(got, w.actions) {
						t.Fatalf("%s %s as %s traced %v; want %v", row.method, path, role, got, w.actions)
					}
				})
			}
		}
	})
}
