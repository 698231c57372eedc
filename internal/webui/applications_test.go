package webui

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// appStack is the whole server with the application desk, as the app wires it: the API and the
// UI both get the request service. With recordings, camera "near" was recorded from a
// simulated camera, so a candidate has footage to play.
type appStack struct {
	*stack
	req       *lostperson.Service
	near, far string // cameras near the last-seen place and 10 km away
	segs      []segment.Record
	// skew moves the desk's clock (deadlines, overdue) ahead of the wall clock.
	skew *atomic.Int64
}

// lastSeen is where the applications of these tests were last seen: 60 m from camera "near".
const lastSeenLat, lastSeenLon = 27.8301, 113.1505

func newAppStack(t *testing.T, record bool) *appStack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	skew := &atomic.Int64{}
	svc, err := lostperson.New(lostperson.Config{DataDir: t.TempDir(), MaxUpload: 64 << 10}, lostperson.Deps{Repo: db, Recordings: db,
		Cameras: st.Registry, Pack: st.Registry.Pack(), Tracer: st.Tracer, Hasher: st.Hasher,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	key := st.Key // the trail's, which signs exports in the server too
	disk := segment.NewDisk(filepath.Join(t.TempDir(), "recordings"))
	api := st.NewAPI(t, apitest.Parts{Requests: svc, Recordings: disk, ExportDir: filepath.Join(t.TempDir(), "exports"), Key: key})
	ui, err := New(Config{}, stackDeps(st, api, func(d *Deps) { d.Requests = svc }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler())
	mux.Handle("/", ui.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &appStack{stack: &stack{t: t, db: db, accounts: st.Accounts, reg: st.Registry, trail: st.Trail, tracer: st.Tracer, api: api, ui: ui, srv: srv}, req: svc, skew: skew}
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, org)
	s.addUser("aud1", auth.RoleAuditor, "")
	s.addUser("admin1", auth.RoleAdmin, "")
	s.addUser("rev1", auth.RoleReviewer, "")
	s.addUser("rev2", auth.RoleReviewer, "") // approves rev1's result notices
	active := registry.StatusActive
	s.near = s.addCamera(org, "神农公园东门", 27.8305, 113.1510, func(in *registry.CameraInput) { in.Status = &active })
	s.far = s.addCamera(org, "远处路口", 27.92, 113.1510, func(in *registry.CameraInput) { in.Status = &active })
	if record {
		s.segs = playbacktest.Record(t, db, disk, s.near, playbacktest.Options{Parts: 4})
	} else {
		// Index entries only: the candidate search needs recorded ranges, not files.
		now := time.Now().UTC().Truncate(time.Minute)
		for _, cam := range []string{s.near, s.far} {
			for m := 30; m > 0; m-- {
				st := now.Add(-time.Duration(m) * time.Minute)
				if err := db.SegmentSealed(context.Background(), segment.Record{CameraID: cam, Path: fmt.Sprintf("%s/%d.mp4", cam, st.Unix()),
					Start: st, End: st.Add(time.Minute), Bytes: 1, SHA256: "00"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return s
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// code reads a registration's verification code from the outbox, where the gateway would
// pick it up.
func (s *appStack) code(registrationID string) string {
	s.t.Helper()
	ms, err := s.db.DueMessages(context.Background(), time.Now().Add(time.Hour), 100)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Kind == "verification_code" && m.Reference == registrationID {
			return sixDigits.FindString(m.Body)
		}
	}
	s.t.Fatalf("no verification code in the outbox for %s", registrationID)
	return ""
}

var regIDField = regexp.MustCompile(`name="registration_id" value="([^"]+)"`)

// registerApplicant registers through the pages and returns the logged-in browser.
func (s *appStack) registerApplicant(username, contact string) *browser {
	s.t.Helper()
	b := s.browser()
	b.get("/register")
	r := b.post("/register", url.Values{"username": {username}, "password": {password}, "contact": {contact}})
	m := regIDField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		s.t.Fatalf("POST /register = %d; want 200 with the code form\n%s", r.status, r.body)
	}
	mustNotContain(s.t, "code form", r.body, s.code(m[1]))
	r = b.post("/register/verify", url.Values{"registration_id": {m[1]}, "code": {s.code(m[1])}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.res.Header.Get("Location"), "/login") {
		s.t.Fatalf("POST /register/verify = %d %s; want 303 to /login", r.status, r.res.Header.Get("Location"))
	}
	// The login page it lands on says the account is ready, not to ask an administrator.
	lp := b.get(r.res.Header.Get("Location"))
	mustContain(s.t, "login page after verifying", lp.body, `id="registered"`, `id="citizen-register"`)
	b.login(username)
	return b
}

func applyForm(subject string, lastSeen time.Time) url.Values {
	return url.Values{"relationship": {"guardian"}, "relationship_detail": {"daughter"}, "subject_category": {subject},
		"last_seen_at": {lastSeen.UTC().Format("2006-01-02T15:04")}, "lat": {fmt.Sprint(lastSeenLat)}, "lon": {fmt.Sprint(lastSeenLon)},
		"address": {"Shennong Park east gate"}, "description": {"grey coat, walking stick"}}
}

// apply submits an eligible application and returns its id.
func (s *appStack) apply(b *browser) string {
	s.t.Helper()
	r := b.post("/applications", applyForm("elderly", time.Now().Add(-10*time.Minute)))
	loc := r.res.Header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/applications/") {
		s.t.Fatalf("POST /applications = %d %s; want 303 to the application\n%s", r.status, loc, r.body)
	}
	return strings.TrimPrefix(strings.TrimSuffix(loc, "?submitted=1"), "/applications/")
}

func (b *browser) upload(path, kind string, content []byte) resp {
	b.s.t.Helper()
	if b.cookie(auth.CSRFCookie) == "" {
		b.get("/login")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.cookie(auth.CSRFCookie))
	mw.WriteField("kind", kind)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="../../etc/passwd.png"`)
	h.Set("Content-Type", "image/png")
	w, _ := mw.CreatePart(h)
	w.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 100)...)

// leakCheck fails if an applicant-visible page names anything of the police side.
func (s *appStack) leakCheck(what, body string, secrets ...string) {
	s.t.Helper()
	mustNotContain(s.t, what, body, append([]string{s.near, s.far, "/cameras", "playback", "application_id", "rev1",
		"神农公园东门", "远处路口", "/documents/", "candidate"}, secrets...)...)
}

// TestPortal checks the public page: conditions, who may not apply, the time limits of the
// pack, the statistics as a table and a chart, published versions, in both languages.
func TestPortal(t *testing.T) {
	s := newAppStack(t, false)
	anon := s.browser()
	p := anon.get("/portal")
	if p.status != http.StatusOK {
		t.Fatalf("GET /portal = %d; want 200", p.status)
	}
	mustContain(t, "portal (zh)", p.body, "老年人", "宠物", "财物", "110", "监护人", `id="portal-steps"`, `id="portal-stats-table"`,
		`<svg class="chart"`, `href="/register"`, `href="/applications/new"`, time.Now().UTC().Format("2006-01"))
	anon.header.Set("Accept-Language", "en")
	p = anon.get("/portal")
	mustContain(t, "portal (en)", p.body, "Elderly person", "Pet", "report to the police", "Median hours to result")
	mustNotContain(t, "portal before publishing", p.body, `id="portal-versions"`)

	// A refusal counts in the statistics.
	b := s.registerApplicant("mother1", "mother@example.cn")
	if r := b.post("/applications", applyForm("pet", time.Now().Add(-time.Hour))); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("pet application = %d; want 422", r.status)
	}

	if _, err := s.req.PublishProcedure(setupCtx, &lostperson.ProcedureInput{TitleZH: "条件First", TitleEN: "First conditions",
		BodyZH: "正文", BodyEN: "Body First", Documents: []lostperson.RequiredDoc{{ZH: "身份证", EN: "Identity card"}}}); err != nil {
		t.Fatalf("PublishProcedure = %v", err)
	}
	// The second version through the admins' editor, which starts from the current text.
	admin := s.loggedIn("admin1")
	ed := admin.get("/admin/procedure")
	mustContain(t, "procedure editor", ed.body, `id="procedure-form"`, "First conditions", "身份证 | Identity card", `href="/admin/procedure"`)
	if r := admin.post("/admin/procedure", url.Values{"title_zh": {"条件Second"}, "title_en": {"Second conditions"}, "body_zh": {"正文"},
		"body_en": {"Body"}, "documents": {""}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="form-error"`) {
		t.Errorf("publish without documents = %d; want 400 with the error", r.status)
	}
	if r := admin.post("/admin/procedure", url.Values{"title_zh": {"条件Second"}, "title_en": {"Second conditions"}, "body_zh": {"正文"},
		"body_en": {"Body"}, "documents": {"身份证 | Identity card\n户口簿 | Household register"}}); r.status != http.StatusSeeOther {
		t.Fatalf("publish = %d; want 303\n%s", r.status, r.body)
	}
	if r := s.loggedIn("rev1").get("/admin/procedure"); r.status != http.StatusForbidden {
		t.Errorf("GET /admin/procedure as a reviewer = %d; want 403", r.status)
	}
	p = anon.get("/portal")
	mustContain(t, "portal after publishing", p.body, "Second conditions", "Household register", `id="portal-versions"`, "/portal?version=1", "/portal?version=2", "Version 2")
	p = anon.get("/portal?version=1")
	mustContain(t, "portal version 1", p.body, "First conditions", `id="portal-old"`)
	if p := anon.get("/portal?version=9"); p.status != http.StatusNotFound {
		t.Errorf("GET /portal?version=9 = %d; want 404", p.status)
	}
	st, err := s.req.Statistics(context.Background(), 1)
	if err != nil || st.Months[0].Refused["ineligible_subject"] != 1 {
		t.Fatalf("Statistics = %+v, %v; want one refusal", st, err)
	}
	mustContain(t, "portal statistics", p.body, "<td>"+st.Months[0].Month+"</td><td>1</td><td>1</td>")
}

// TestApplicationPagesByRole opens every application page as every role.
func TestApplicationPagesByRole(t *testing.T) {
	s := newAppStack(t, false)
	appl := s.registerApplicant("mother1", "mother@example.cn")
	id := s.apply(appl)
	browsers := map[string]*browser{"anonymous": s.browser(), "applicant": appl}
	for _, u := range []string{"op1", "aud1", "admin1", "rev1"} {
		browsers[u] = s.loggedIn(u)
	}
	for _, tc := range []struct {
		path string
		want map[string]int // by browser; absent: 403
	}{
		{"/portal", map[string]int{"anonymous": 200, "applicant": 200, "op1": 200, "aud1": 200, "admin1": 200, "rev1": 200}},
		{"/register", map[string]int{"anonymous": 200, "applicant": 200, "op1": 200, "aud1": 200, "admin1": 200, "rev1": 200}},
		{"/applications", map[string]int{"anonymous": 303, "applicant": 200, "rev1": 200}},
		{"/applications/new", map[string]int{"anonymous": 303, "applicant": 200}},
		{"/applications/" + id, map[string]int{"anonymous": 303, "applicant": 200, "rev1": 200}},
		{"/admin/procedure", map[string]int{"anonymous": 303, "admin1": 200}},
	} {
		for who, b := range browsers {
			t.Run(who+" "+tc.path, func(t *testing.T) {
				want, ok := tc.want[who]
				if !ok {
					want = http.StatusForbidden
				}
				if r := b.get(tc.path); r.status != want {
					t.Errorf("GET %s as %s = %d; want %d", tc.path, who, r.status, want)
				}
			})
		}
	}
	// Navigation by role.
	mustContain(t, "applicant's nav", appl.get("/portal").body, `href="/applications"`, "我的申请")
	mustContain(t, "reviewer's nav", browsers["rev1"].get("/portal").body, `href="/applications"`, "申请审核")
	mustNotContain(t, "operator's nav", browsers["op1"].get("/portal").body, `href="/applications"`)
	// Reviewers' POST pages refuse the applicant, and the applicant's refuse the reviewer.
	for _, tc := range []struct {
		who, path string
	}{
		{"applicant", "/applications/" + id + "/decision"}, {"applicant", "/applications/" + id + "/candidates"},
		{"applicant", "/applications/" + id + "/findings"}, {"applicant", "/applications/" + id + "/result"},
		{"rev1", "/applications"}, {"op1", "/applications/" + id + "/decision"},
	} {
		if r := browsers[tc.who].post(tc.path, url.Values{"accept": {"true"}, "reason": {"x"}, "body": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s as %s = %d; want 403", tc.path, tc.who, r.status)
		}
	}
	if r := appl.upload("/applications/"+id+"/documents", "identity", pngBytes); r.status != http.StatusSeeOther {
		t.Errorf("upload as the applicant = %d; want 303", r.status)
	}
	if r := browsers["rev1"].upload("/applications/"+id+"/documents", "identity", pngBytes); r.status != http.StatusForbidden {
		t.Errorf("upload as a reviewer = %d; want 403", r.status)
	}
	if a, _ := s.req.ForReviewer(setupCtx, id); a.Status != lostperson.StatusSubmitted || len(a.Documents) != 1 {
		t.Errorf("after the refused posts: status %s, %d documents; want submitted, 1", a.Status, len(a.Documents))
	}
}

// TestApplicationPostsNeedCSRF sends every POST of the desk without a token: refused, nothing
// changed, the refusal traced.
func TestApplicationPostsNeedCSRF(t *testing.T) {
	s := newAppStack(t, false)
	appl := s.registerApplicant("mother1", "mother@example.cn")
	id := s.apply(appl)
	rev := s.loggedIn("rev1")
	anon := s.browser()
	for _, tc := range []struct {
		b    *browser
		path string
		form url.Values
	}{
		{anon, "/register", url.Values{"username": {"x-user"}, "password": {password}, "contact": {"x@example.cn"}}},
		{anon, "/register/verify", url.Values{"registration_id": {id}, "code": {"123456"}}},
		{appl, "/applications", applyForm("elderly", time.Now().Add(-time.Hour))},
		{appl, "/applications/" + id + "/documents", url.Values{"kind": {"identity"}}},
		{rev, "/applications/" + id + "/decision", url.Values{"accept": {"true"}, "reason": {"ok"}}},
		{rev, "/applications/" + id + "/candidates", nil},
		{rev, "/applications/" + id + "/findings", url.Values{"body": {"note"}}},
		{rev, "/applications/" + id + "/result", url.Values{"outcome": {"found"}, "notice": {"found"}}},
		{s.loggedIn("admin1"), "/admin/procedure", url.Values{"title_zh": {"x"}, "title_en": {"x"}, "body_zh": {"x"}, "body_en": {"x"}, "documents": {"a | b"}}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			form.Set("csrf_token", "wrong")
			n := s.size()
			if r := tc.b.post(tc.path, form); r.status != http.StatusForbidden {
				t.Errorf("POST %s with a wrong token = %d; want 403", tc.path, r.status)
			}
			if got := actions(s.entriesSince(n)); fmt.Sprint(got) != "[access_denied:denied]" {
				t.Errorf("trail after the refusal = %v; want [access_denied:denied]", got)
			}
		})
	}
	if mine, _ := s.req.MyApplications(context.Background(), appUserID(t, s, "mother1")); len(mine) != 1 {
		t.Errorf("applications after the refused posts = %d; want 1", len(mine))
	}
	if a, _ := s.req.ForReviewer(setupCtx, id); a.Status != lostperson.StatusSubmitted || len(a.Findings) != 0 {
		t.Errorf("after the refused posts: %s with %d findings; want submitted, none", a.Status, len(a.Findings))
	}
	if _, versions, _ := s.req.Procedures(context.Background()); len(versions) != 0 {
		t.Errorf("procedure versions after the refused post = %d; want 0", len(versions))
	}
}

func appUserID(t *testing.T, s *appStack, username string) string {
	t.Helper()
	us, err := s.db.Users(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == username {
			return u.ID
		}
	}
	t.Fatalf("no user %s", username)
	return ""
}

// TestApplicationPath walks the desk's pages without a browser: registration (a wrong code
// refused), a pet refused with its reason, an application with documents (bad ones refused),
// another applicant kept out, the reviewer's accept, search, finding and result, and the
// applicant seeing only the notice. Every page the applicant gets is checked for leaks.
func TestApplicationPath(t *testing.T) {
	s := newAppStack(t, false)
	var applicantSaw []resp
	see := func(r resp) resp { applicantSaw = append(applicantSaw, r); return r }

	// A wrong code is refused and the form offered again.
	b := s.browser()
	b.get("/register")
	r := b.post("/register", url.Values{"username": {"someone"}, "password": {password}, "contact": {"13800138000"}})
	m := regIDField.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("register page has no code form:\n%s", r.body)
	}
	mustContain(t, "code form", r.body, "*******8000")
	wrong := "000000"
	if s.code(m[1]) == wrong {
		wrong = "111111"
	}
	r = b.post("/register/verify", url.Values{"registration_id": {m[1]}, "code": {wrong}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="verify-form"`) {
		t.Errorf("wrong code = %d; want 400 with the code form again", r.status)
	}
	if r := b.post("/register", url.Values{"username": {"x"}, "password": {password}, "contact": {"x@example.cn"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="form-error"`) {
		t.Errorf("bad username = %d; want 400 with the error", r.status)
	}

	appl := s.registerApplicant("mother1", "mother@example.cn")
	see(appl.get("/applications/new"))
	r = see(appl.post("/applications", applyForm("pet", time.Now().Add(-time.Hour))))
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("pet application = %d; want 422", r.status)
	}
	mustContain(t, "pet refusal", r.body, `id="refusal"`, `id="refusal-reason"`, "宠物", "110")
	if r := appl.post("/applications", url.Values{"subject_category": {"elderly"}, "relationship": {"guardian"}, "last_seen_at": {"yesterday"}}); r.status != http.StatusBadRequest {
		t.Errorf("bad time = %d; want 400", r.status)
	}
	id := s.apply(appl)
	see(appl.get("/applications"))
	r = see(appl.get("/applications/" + id + "?submitted=1"))
	mustContain(t, "application page", r.body, `id="submitted"`, `data-status="submitted"`, `id="upload-form"`, "grey coat")

	// Uploads: a PNG is taken; wrong type, too large and another's application are refused.
	for _, tc := range []struct {
		name, kind string
		content    []byte
		want       int
	}{
		{"png", "identity", pngBytes, http.StatusSeeOther},
		{"wrong type", "identity", []byte("#!/bin/sh\nrm -rf /\n"), http.StatusUnsupportedMediaType},
		{"too large", "relationship", append(append([]byte{}, pngBytes...), make([]byte, 70<<10)...), http.StatusRequestEntityTooLarge},
		{"bad kind", "passport", pngBytes, http.StatusBadRequest},
		{"over the body bound", "identity", append(append([]byte{}, pngBytes...), make([]byte, 200<<10)...), http.StatusRequestEntityTooLarge},
	} {
		if r := see(appl.upload("/applications/"+id+"/documents", tc.kind, tc.content)); r.status != tc.want {
			t.Errorf("upload %s = %d; want %d", tc.name, r.status, tc.want)
		}
	}
	if v, err := s.req.ForApplicant(context.Background(), appUserID(t, s, "mother1"), id); err != nil || len(v.Documents) != 1 {
		t.Errorf("documents after the uploads = %v, %v; want only the PNG", v, err)
	}
	other := s.registerApplicant("stranger", "stranger@example.cn")
	if r := other.get("/applications/" + id); r.status != http.StatusNotFound || strings.Contains(r.body, "grey coat") {
		t.Errorf("another applicant's GET = %d; want 404 without the content", r.status)
	}
	if r := other.upload("/applications/"+id+"/documents", "identity", pngBytes); r.status != http.StatusNotFound {
		t.Errorf("another applicant's upload = %d; want 404", r.status)
	}
	mustNotContain(t, "another applicant's list", other.get("/applications").body, id)

	// The reviewer: queue, page, accept, search, finding, result.
	rev := s.loggedIn("rev1")
	q := rev.get("/applications")
	mustContain(t, "queue", q.body, `id="review-queue"`, `data-id="`+id+`"`)
	r = rev.get("/applications/" + id)
	mustContain(t, "review page", r.body, "mother1", "grey coat", `id="decision-form"`, "/api/v1/applications/"+id+"/documents/")
	// The pack's relationship document is neither uploaded nor seen: acceptance waits for it.
	mustContain(t, "review page", r.body, `id="required-documents"`, `data-kind="relationship" data-provided="false"`, `id="shown-form-relationship"`)
	if r := rev.post("/applications/"+id+"/decision", url.Values{"accept": {"true"}, "reason": {"accept-reason-internal"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("accept without the relationship document = %d; want 422\n%s", r.status, r.body)
	} else {
		mustContain(t, "refused acceptance", r.body, `id="form-error"`, "关系证明")
	}
	for _, kind := range []string{"identity", "relationship"} {
		if r := rev.post("/applications/"+id+"/documents/shown", url.Values{"kind": {kind}, "note": {"seen at the desk"}}); r.status != http.StatusSeeOther {
			t.Fatalf("documents shown (%s) = %d; want 303\n%s", kind, r.status, r.body)
		}
	}
	if r := rev.post("/applications/"+id+"/decision", url.Values{"accept": {"true"}, "reason": {"accept-reason-internal"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept = %d; want 303\n%s", r.status, r.body)
	}
	if r := rev.post("/applications/"+id+"/decision", url.Values{"accept": {"true"}, "reason": {"again"}}); r.status != http.StatusConflict {
		t.Errorf("deciding twice = %d; want 409", r.status)
	}
	n := s.size()
	r = rev.post("/applications/"+id+"/candidates", nil)
	mustContain(t, "candidates", r.body, `id="candidate-table"`, `data-camera="`+s.near+`"`, "application_id="+id, `id="candidate-0-range-0"`)
	mustNotContain(t, "candidates", r.body, s.far)
	if got := actions(s.entriesSince(n)); fmt.Sprint(got) != "[search application_read]" {
		t.Errorf("trail after the search = %v; want [search application_read]", got)
	}
	// The candidate link opens the camera page with the window and the application filled in.
	link := regexp.MustCompile(`href="([^"]+)" class="candidate-range" id="candidate-0-range-0"`).FindStringSubmatch(r.body)
	if link == nil || link[1] == "" {
		t.Fatalf("no range link in\n%s", r.body)
	}
	cam := rev.get(html.UnescapeString(link[1]))
	mustContain(t, "camera page from the candidate", cam.body, `id="playback-video"`, `value="`+id+`"`)
	if r := rev.post("/applications/"+id+"/findings", url.Values{"body": {"finding-secret: seen on camera near gate"}}); r.status != http.StatusSeeOther {
		t.Errorf("finding = %d; want 303", r.status)
	}
	if r := rev.post("/applications/"+id+"/result", url.Values{"outcome": {"sighted"}, "notice": {""}}); r.status != http.StatusBadRequest {
		t.Errorf("empty notice = %d; want 400", r.status)
	}
	if r := rev.post("/applications/"+id+"/result", url.Values{"outcome": {"sighted"}, "notice": {"She got into the taxi 湘B12345 at the gate."}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("notice with a plate = %d; want 422", r.status)
	} else {
		mustContain(t, "refused notice", r.body, `id="form-error"`, "车牌")
	}
	if r := rev.post("/applications/"+id+"/result", url.Values{"outcome": {"sighted"}, "notice": {"She was seen walking north on Shennong Road at 14:10."}}); r.status != http.StatusSeeOther {
		t.Fatalf("result = %d; want 303", r.status)
	}
	page := rev.get("/applications/" + id).body
	mustContain(t, "review page after the draft", page, "finding-secret", "rev1", "Shennong Road", `data-status="draft"`)
	mustNotContain(t, "the author's own draft", page, `class="approve-notice"`)
	mustNotContain(t, "applicant's page with a draft", appl.get("/applications/"+id).body, "Shennong Road", `id="result-notice"`)
	rev2 := s.loggedIn("rev2")
	approve := regexp.MustCompile(`action="(/applications/[^"]+/approve)"`).FindStringSubmatch(rev2.get("/applications/" + id).body)
	if approve == nil {
		t.Fatalf("no approve form for the second reviewer")
	}
	if r := rev2.post(approve[1], nil); r.status != http.StatusSeeOther {
		t.Fatalf("approve = %d; want 303\n%s", r.status, r.body)
	}
	mustContain(t, "review page after the result", rev.get("/applications/"+id).body, "finding-secret", "rev1", "Shennong Road", `data-status="sent"`)

	// The applicant sees the notice and the PDF link, nothing of the police side.
	r = see(appl.get("/applications/" + id))
	mustContain(t, "applicant's result", r.body, `id="result-notice"`, "Shennong Road", `href="/api/v1/applications/`+id+`/notice.pdf"`, `data-status="completed"`)
	if pdf := appl.get("/api/v1/applications/" + id + "/notice.pdf"); pdf.status != http.StatusOK || !strings.HasPrefix(pdf.body, "%PDF") {
		t.Errorf("notice PDF with the session cookie = %d; want a PDF", pdf.status)
	}
	// A correction: drafted by rev2, approved by rev1; the applicant sees it marked, and the
	// old notice superseded.
	if r := rev2.post("/applications/"+id+"/result", url.Values{"outcome": {"found"}, "notice": {"Correction: she was found safe and is at home."}}); r.status != http.StatusSeeOther {
		t.Fatalf("correction = %d; want 303\n%s", r.status, r.body)
	}
	approve = regexp.MustCompile(`action="(/applications/[^"]+/approve)"`).FindStringSubmatch(rev.get("/applications/" + id).body)
	if approve == nil {
		t.Fatalf("no approve form for the correction")
	}
	if r := rev.post(approve[1], nil); r.status != http.StatusSeeOther {
		t.Fatalf("approve the correction = %d; want 303\n%s", r.status, r.body)
	}
	r = see(appl.get("/applications/" + id))
	mustContain(t, "applicant's corrected result", r.body, `id="result-correction"`, "found safe and is at home", `id="superseded-notices"`, "Shennong Road")
	appl.header.Set("Accept-Language", "en")
	see(appl.get("/applications/" + id))
	see(appl.get("/applications"))
	see(appl.get("/portal"))
	for i, p := range applicantSaw {
		s.leakCheck(fmt.Sprintf("applicant page %d (%d)", i, p.status), p.body, "finding-secret", "accept-reason-internal", appUserID(t, s, "rev1"))
	}
}

// TestApplicationMessages checks the keys the desk's Go code uses (the catalogue test scans
// templates and other prefixes) and the labels built from the desk's values.
func TestApplicationMessages(t *testing.T) {
	cat, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("applications.go")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`"((?:app|portal|apply|register|queue|review|application|applications|nav|procedure)\.[a-z_.]+)"`).FindAllStringSubmatch(string(b), -1)
	if len(used) < 15 {
		t.Fatalf("found %d keys in applications.go; the scan is broken", len(used))
	}
	want := []string{"queue.filter.open", "queue.filter.closed"}
	for _, m := range used {
		if !strings.HasSuffix(m[1], ".") {
			want = append(want, m[1])
		}
	}
	for _, st := range []lostperson.Status{lostperson.StatusSubmitted, lostperson.StatusAccepted, lostperson.StatusRejected, lostperson.StatusCompleted, lostperson.StatusIneligible} {
		want = append(want, "app.status."+string(st))
	}
	for _, o := range []lostperson.Outcome{lostperson.OutcomeFound, lostperson.OutcomeSighted, lostperson.OutcomeNoRelevantFootage, "referred_to_case"} {
		want = append(want, "app.outcome."+string(o))
	}
	for _, st := range []lostperson.NoticeStatus{lostperson.NoticeDraft, lostperson.NoticeWithdrawn, lostperson.NoticeSent, lostperson.NoticeSuperseded} {
		want = append(want, "review.notice_status."+string(st))
	}
	for _, k := range []string{lostperson.DocIdentity, lostperson.DocRelationship} {
		want = append(want, "app.doc."+k)
	}
	for _, lang := range languages {
		for _, k := range want {
			if _, ok := cat[lang][k]; !ok && k != "app.status" && k != "app.subject" && k != "app.relationship" && k != "app.outcome" && k != "app.doc" && k != "review.notice_status" {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
	}
}

// TestReviewQueueOverdue moves the desk's clock past the triage deadline: the queue flags and
// counts the application, and the applicant's page shows the step overdue.
func TestReviewQueueOverdue(t *testing.T) {
	s := newAppStack(t, false)
	appl := s.registerApplicant("mother1", "mother@example.cn")
	id := s.apply(appl)
	rev := s.loggedIn("rev1")
	q := rev.get("/applications")
	mustContain(t, "queue on time", q.body, `data-id="`+id+`"`, "超期：0")
	mustNotContain(t, "queue on time", q.body, "overdue-flag")
	s.skew.Store(int64(72 * time.Hour))
	q = rev.get("/applications")
	mustContain(t, "queue late", q.body, `<tr class="overdue">`, "overdue-flag", "超期：1")
	mustContain(t, "applicant's page late", appl.get("/applications/"+id).body, "已超期")
	if c := rev.get("/applications?status=rejected,completed"); !strings.Contains(c.body, `id="queue-empty"`) {
		t.Errorf("closed applications list is not empty")
	}
	if c := rev.get("/applications?status=bogus"); c.status != http.StatusBadRequest {
		t.Errorf("GET /applications?status=bogus = %d; want 400", c.status)
	}
}
