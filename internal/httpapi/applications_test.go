package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/lostperson/lostpersontest"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// withRequests gives the stack's API the application desk, the way the app wires it; the tests
// register from one address more often than its default limit allows.
func withRequests(t *testing.T, st *apitest.Stack) *lostperson.Service {
	t.Helper()
	return withRequestsConfig(t, st, lostperson.Config{DataDir: t.TempDir(), RegistrationsPerAddress: 1000})
}

// withRequestsConfig is withRequests with the desk's configuration.
func withRequestsConfig(t *testing.T, st *apitest.Stack, cfg lostperson.Config) *lostperson.Service {
	t.Helper()
	svc, err := lostperson.New(cfg, lostperson.Deps{Repo: st.DB, Recordings: st.DB,
		Cameras: st.Registry, Pack: st.Registry.Pack(), Tracer: st.Tracer, Hasher: st.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	api := st.NewAPI(t, apitest.Parts{Requests: svc})
	st.API = api
	return svc
}

func newAppStack(t *testing.T, db *store.DB) (*stack, *lostperson.Service) {
	t.Helper()
	st := apitest.New(t, db)
	svc := withRequests(t, st)
	srv := httptest.NewServer(st.API.Handler())
	t.Cleanup(srv.Close)
	return &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: st.API, srv: srv}, svc
}

// webhook is the SMS/e-mail gateway of the tests: it keeps what it receives.
type webhook struct {
	mu   sync.Mutex
	msgs []map[string]any
	srv  *httptest.Server
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *webhook) last(kind string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.msgs) - 1; i >= 0; i-- {
		if h.msgs[i]["kind"] == kind {
			return h.msgs[i]
		}
	}
	return nil
}

// applicationJSON is an eligible application, last seen an hour ago near 27.83, 113.15.
func applicationJSON(subject string) string {
	return fmt.Sprintf(`{"relationship":"guardian","relationship_detail":"daughter","subject_category":%q,"last_seen_at":%q,"lat":27.8301,"lon":113.1501,"address":"Shennong Park east gate","description":"grey coat, walking stick"}`,
		subject, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
}

func procedureJSON() string {
	return `{"title_zh":"条件和程序","title_en":"Conditions and procedure","body_zh":"正文","body_en":"Body","documents":[{"zh":"身份证","en":"Identity card"}]}`
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 100)...)

// multipartBody is a document upload; fields are written in order.
func multipartBody(kind, filename, partType string, content []byte) (string, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if kind != "" {
		mw.WriteField("kind", kind)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", partType)
	w, _ := mw.CreatePart(h)
	w.Write(content)
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

// appFixtures makes applications in each state through the API, for the route table.
type appFixtures struct {
	s                         *stack
	applicantTok, reviewerTok string
	// secondTok is a second reviewer, who approves the first one's notices (and drafts notices
	// for the first one to approve).
	secondTok                 string
	submitted, accepted, done string
	doc                       string
	// spares are other applicants' tokens, taking turns at the applications made after the
	// fixtures, so that no applicant reaches the pack's limit of open applications.
	spares []string
	made   int
}

func newAppFixtures(t *testing.T, s *stack, applicantTok, reviewerTok string) *appFixtures {
	f := &appFixtures{s: s, applicantTok: applicantTok, reviewerTok: reviewerTok}
	_, f.secondTok = s.addUser("second-reviewer", auth.RoleReviewer, "")
	f.submitted = f.newSubmitted()
	body, ct := multipartBody("identity", "id.png", "image/png", pngBytes)
	f.doc = mustCreate(t, s.do("POST", "/api/v1/applications/"+f.submitted+"/documents", applicantTok, ct, body))
	f.accepted = f.newAccepted()
	f.done = f.newAccepted()
	f.sendResult(f.done, `{"outcome":"found","message":"Found safe at the railway station."}`)
	for _, name := range []string{"spare-applicant1", "spare-applicant2"} {
		_, tok := s.addUser(name, auth.RoleApplicant, "")
		f.spares = append(f.spares, tok)
	}
	return f
}

func (f *appFixtures) newSubmitted() string {
	tok := f.applicantTok
	if len(f.spares) > 0 {
		tok = f.spares[f.made%len(f.spares)]
		f.made++
	}
	return mustCreate(f.s.t, f.s.do("POST", "/api/v1/applications", tok, "", applicationJSON("elderly")))
}

// showDocs records the pack's documents as shown in person, as a reviewer does before accepting.
func (f *appFixtures) showDocs(id string) {
	for _, kind := range []string{"identity", "relationship"} {
		if r := f.s.do("POST", "/api/v1/applications/"+id+"/documents/shown", f.reviewerTok, "", `{"kind":"`+kind+`","note":"at the desk"}`); r.status != 201 {
			f.s.t.Fatalf("documents shown = %d %s", r.status, r.body)
		}
	}
}

// newWithDocs is a submitted application whose documents were shown, ready to be accepted.
func (f *appFixtures) newWithDocs() string {
	id := f.newSubmitted()
	f.showDocs(id)
	return id
}

// draft writes a draft notice as the reviewer with token tok and returns its id.
func (f *appFixtures) draft(id, tok, body string) string {
	return mustCreate(f.s.t, f.s.do("POST", "/api/v1/applications/"+id+"/notices", tok, "", body))
}

// sendResult drafts a notice as the first reviewer and has the second approve it.
func (f *appFixtures) sendResult(id, body string) string {
	nid := f.draft(id, f.reviewerTok, body)
	if r := f.s.do("POST", "/api/v1/applications/"+id+"/notices/"+nid+"/approve", f.secondTok, "", ""); r.status != 200 {
		f.s.t.Fatalf("approve = %d %s", r.status, r.body)
	}
	return nid
}

func (f *appFixtures) newAccepted() string {
	id := f.newWithDocs()
	if r := f.s.do("POST", "/api/v1/applications/"+id+"/decision", f.reviewerTok, "", `{"accept":true,"reason":"documents in order"}`); r.status != 200 {
		f.s.t.Fatalf("accept = %d %s", r.status, r.body)
	}
	return id
}

// TestApplicationPath walks the whole REG-6 path through the API: register, verify, apply, a pet
// refused with the reason, the reviewer accepts, finds candidates, may see footage only inside
// the window and only of them, writes findings and the result; the applicant gets the notice
// and nothing else. Every applicant-visible answer is checked for leaks.
func TestApplicationPath(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s, svc := newAppStack(t, db)
		hook := newWebhook(t)
		outbox, err := lostperson.NewOutbox(lostperson.OutboxConfig{WebhookURL: hook.srv.URL}, lostperson.OutboxDeps{Repo: db})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		deliver := func() {
			if _, err := outbox.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		revID, revTok := s.addUser("officer-wang", auth.RoleReviewer, "")
		org := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		near := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(org, "Park gate", "public_square")))
		farJSON := strings.Replace(cameraJSON(org, "Far away", "public_square"), `"lat":27.83`, `"lat":27.95`, 1)
		far := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", farJSON))
		now := time.Now().UTC().Truncate(time.Minute)
		for _, cam := range []string{near, far} {
			for m := 180; m > 0; m-- {
				st := now.Add(-time.Duration(m) * time.Minute)
				if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: fmt.Sprintf("%s/%d.mp4", cam, st.Unix()),
					Start: st, End: st.Add(time.Minute), Bytes: 1, SHA256: "00"}); err != nil {
					t.Fatal(err)
				}
			}
		}

		// What the applicant sees is collected for the leak check at the end.
		type seen struct {
			what string
			body []byte
		}
		var applicantSaw []seen
		see := func(what string, r response) response {
			applicantSaw = append(applicantSaw, seen{what, r.body})
			return r
		}

		// Register and verify, the code arriving through the outbox at the gateway.
		r := see("register", s.do("POST", "/api/v1/applicants", "", "", `{"username":"mother1","password":"a long enough password","contact":"mother@example.cn"}`))
		if r.status != http.StatusAccepted {
			t.Fatalf("register = %d %s; want 202", r.status, r.body)
		}
		regID := r.json(t)["registration_id"].(string)
		if bytes.Contains(r.body, []byte(`"code"`)) {
			t.Fatalf("register answered the code itself: %s", r.body)
		}
		deliver()
		msg := hook.last("verification_code")
		if msg == nil || msg["to"].(map[string]any)["address"] != "mother@example.cn" {
			t.Fatalf("gateway got %v; want the code for mother@example.cn", msg)
		}
		code := regexp.MustCompile(`\d{6}`).FindString(msg["text"].(string))
		r = see("verify wrong", s.do("POST", "/api/v1/applicants/verify", "", "", fmt.Sprintf(`{"registration_id":%q,"code":"abcdef"}`, regID)))
		if r.status != 400 || r.errorCode() != "invalid_code" {
			t.Fatalf("verify(wrong) = %d %s; want 400 invalid_code", r.status, r.body)
		}
		r = see("verify", s.do("POST", "/api/v1/applicants/verify", "", "", fmt.Sprintf(`{"registration_id":%q,"code":%q}`, regID, code)))
		if r.status != http.StatusCreated || r.json(t)["role"] != "applicant" {
			t.Fatalf("verify = %d %s; want 201 applicant", r.status, r.body)
		}
		appTok := s.login("mother1", "a long enough password")

		// A pet is refused at once, with the policy's reason and where else to turn.
		before := s.size()
		r = see("pet refused", s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("pet")))
		if r.status != http.StatusUnprocessableEntity || r.errorCode() != "ineligible_subject" {
			t.Fatalf("apply(pet) = %d %s; want 422 ineligible_subject", r.status, r.body)
		}
		e := r.json(t)["error"].(map[string]any)
		if !strings.Contains(e["message"].(string), "pet") || !strings.Contains(e["refer_to"].(string), "police") || e["reason_zh"] == "" {
			t.Fatalf("refusal = %v; want the reason and a referral to the police", e)
		}
		if es := s.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionApplicationDecision || es[0].Outcome != trace.Denied {
			t.Fatalf("refusal traced %v; want one application_decision denied", es)
		}
		r = see("other relationship refused", s.do("POST", "/api/v1/applications", appTok, "", strings.Replace(applicationJSON("child"), `"guardian"`, `"other"`, 1)))
		if r.status != 422 || r.errorCode() != "ineligible_applicant" {
			t.Fatalf("apply(other) = %d %s; want 422 ineligible_applicant", r.status, r.body)
		}

		// An eligible application, with an identity document.
		r = see("apply", s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("elderly")))
		if r.status != http.StatusCreated || r.json(t)["status"] != "submitted" {
			t.Fatalf("apply = %d %s; want 201 submitted", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		body, ct := multipartBody("identity", "my id.png", "image/png", pngBytes)
		r = see("upload", s.do("POST", "/api/v1/applications/"+id+"/documents", appTok, ct, body))
		if r.status != http.StatusCreated {
			t.Fatalf("upload = %d %s; want 201", r.status, r.body)
		}

		// The reviewer's queue, decision, candidates.
		r = s.do("GET", "/api/v1/applications?status=submitted", revTok, "", "")
		var q lostperson.Queue
		json.Unmarshal(r.body, &q)
		if r.status != 200 || len(q.Applications) != 1 || q.Applications[0].ID != id || len(q.Applications[0].Deadlines) != 3 || !q.Applications[0].Urgent {
			t.Fatalf("queue = %d %s; want the urgent application with 3 deadlines", r.status, r.body)
		}
		if r := s.do("GET", "/api/v1/applications/"+id+"/candidates", revTok, "", ""); r.status != http.StatusConflict {
			t.Fatalf("candidates before acceptance = %d %s; want 409", r.status, r.body)
		}
		// Only the identity document is uploaded: acceptance waits for the relationship's.
		r = s.do("POST", "/api/v1/applications/"+id+"/decision", revTok, "", `{"accept":true,"reason":"identity checked, urgent"}`)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"field":"documents"`) ||
			!strings.Contains(string(r.body), "relationship") || strings.Contains(string(r.body), "identity\u0026") {
			t.Fatalf("decision without the relationship document = %d %s; want 422 naming it", r.status, r.body)
		}
		before = s.size()
		if r := s.do("POST", "/api/v1/applications/"+id+"/documents/shown", revTok, "", `{"kind":"relationship","note":"household register seen at the desk"}`); r.status != 201 {
			t.Fatalf("documents shown = %d %s; want 201", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionDocumentShown || es[0].Reference != id ||
			!strings.Contains(es[0].Reason, "relationship") {
			t.Fatalf("shown traced %+v; want one document_shown naming the relationship document", es)
		}
		if r := s.do("POST", "/api/v1/applications/"+id+"/decision", revTok, "", `{"accept":true,"reason":"identity checked, urgent"}`); r.status != 200 {
			t.Fatalf("decision = %d %s; want 200", r.status, r.body)
		}
		before = s.size()
		r = s.do("GET", "/api/v1/applications/"+id+"/candidates", revTok, "", "")
		if r.status != 200 {
			t.Fatalf("candidates = %d %s", r.status, r.body)
		}
		var cands struct {
			From, To time.Time
			Cameras  []struct {
				CameraID string `json:"camera_id"`
				Ranges   []timespan.Range
				Playback string
			}
		}
		json.Unmarshal(r.body, &cands)
		if len(cands.Cameras) != 1 || cands.Cameras[0].CameraID != near || len(cands.Cameras[0].Ranges) != 1 ||
			!strings.Contains(cands.Cameras[0].Playback, "application_id="+id) {
			t.Fatalf("candidates = %s; want the near camera with one range and a playback URL bound to the application", r.body)
		}
		es := s.entriesSince(before)
		if len(es) != 1 || es[0].Action != trace.ActionSearch || es[0].Reference != id || !slices.Equal(es[0].CameraIDs, []string{near}) ||
			es[0].Actor.UserID != revID || !es[0].From.Equal(cands.From) {
			t.Fatalf("search traced %+v; want one search entry for the application, its camera and window", es)
		}

		// Footage for this application: inside the window and on its camera only.
		for _, tc := range []struct {
			name     string
			cam      string
			from, to time.Time
			ok       bool
		}{
			{"inside", near, cands.From, cands.To, true},
			{"outside the window", near, cands.From.Add(-time.Hour), cands.From, false},
			{"unrelated camera", far, cands.From, cands.To, false},
		} {
			err := svc.FootageAllowed(ctx, id, revID, tc.cam, tc.from, tc.to)
			if (err == nil) != tc.ok {
				t.Errorf("FootageAllowed(%s) = %v; want allowed %v", tc.name, err, tc.ok)
			}
		}

		const secretNote = "NOTE-internal-plate-AB1234"
		if r := s.do("POST", "/api/v1/applications/"+id+"/findings", revTok, "", `{"body":"`+secretNote+` seen at 14:02 on camera"}`); r.status != 201 {
			t.Fatalf("finding = %d %s", r.status, r.body)
		}
		// The leaking notice of issue 13 is refused, in the reviewer's language.
		leak := `{"outcome":"sighted","message":"Camera ` + near + ` (https://civicam.local/api/v1/cameras/` + near + `/playback.mp4): a woman in a grey coat, about 40, and the plate 湘B12345."}`
		before = s.size()
		r = s.doHeader("POST", "/api/v1/applications/"+id+"/notices", revTok, leak, "Accept-Language", "zh-CN,zh;q=0.9")
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"field":"message"`) || !strings.Contains(string(r.body), "链接") {
			t.Fatalf("leaking notice = %d %s; want 422 on message, in Chinese", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) != 0 {
			t.Fatalf("refused notice traced %+v; want nothing written", es)
		}
		before = s.size()
		r = s.do("POST", "/api/v1/applications/"+id+"/result", revTok, "", `{"outcome":"sighted","notice":"Your father was seen at the east gate of Shennong Park at 14:02, walking north."}`)
		if r.status != 200 {
			t.Fatalf("result = %d %s", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) == 0 || es[0].Action != trace.ActionNoticeDraft || es[0].Reference != id {
			t.Fatalf("result traced %+v; want notice_draft first", es)
		}
		var drafted lostperson.ReviewerView
		json.Unmarshal(r.body, &drafted)
		if drafted.Status != lostperson.StatusAccepted || len(drafted.Notices) != 1 || drafted.Notices[0].Status != lostperson.NoticeDraft {
			t.Fatalf("after the result = %s; want accepted with one draft notice", r.body)
		}
		nid := drafted.Notices[0].ID
		if r := see("draft not shown", s.do("GET", "/api/v1/applications/"+id, appTok, "", "")); strings.Contains(string(r.body), "walking north") {
			t.Fatalf("applicant sees the draft: %s", r.body)
		}
		if r := s.do("POST", "/api/v1/applications/"+id+"/notices/"+nid+"/approve", revTok, "", ""); r.status != http.StatusForbidden {
			t.Fatalf("approval by the author = %d %s; want 403", r.status, r.body)
		}
		_, secondTok := s.addUser("officer-li", auth.RoleReviewer, "")
		before = s.size()
		if r := s.do("POST", "/api/v1/applications/"+id+"/notices/"+nid+"/approve", secondTok, "", ""); r.status != 200 {
			t.Fatalf("approval by a second reviewer = %d %s; want 200", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionNoticeApprove || es[0].Reference != id {
			t.Fatalf("approval traced %+v; want one notice_approve", es)
		}
		if err := svc.FootageAllowed(ctx, id, revID, near, cands.From, cands.To); err == nil {
			t.Error("FootageAllowed after the result = nil; want refused")
		}
		deliver()
		note := hook.last("result")
		if note == nil || !strings.Contains(note["text"].(string), "Shennong Park") {
			t.Fatalf("gateway got %v; want the result notification", note)
		}
		nb, _ := json.Marshal(note)
		applicantSaw = append(applicantSaw, seen{"notification", nb})

		// The applicant's view: status, deadlines, notice.
		r = see("get", s.do("GET", "/api/v1/applications/"+id, appTok, "", ""))
		var v map[string]any
		json.Unmarshal(r.body, &v)
		if r.status != 200 || v["status"] != "completed" || !strings.Contains(fmt.Sprint(v["result_notice"]), "Shennong Park") || v["deadlines"] == nil {
			t.Fatalf("applicant view = %d %s; want completed with the notice", r.status, r.body)
		}
		see("list", s.do("GET", "/api/v1/applications", appTok, "", ""))
		r = s.do("GET", "/api/v1/applications/"+id+"/notice.pdf", appTok, "", "")
		if r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF-")) || !strings.Contains(lostpersontest.PDFText(r.body), "Shennong Park") {
			t.Fatalf("notice.pdf = %d, %d bytes; want a PDF with the notice", r.status, len(r.body))
		}
		applicantSaw = append(applicantSaw, seen{"notice.pdf", []byte(lostpersontest.PDFText(r.body))})
		see("portal", s.do("GET", "/api/v1/portal", "", "", ""))
		see("procedures", s.do("GET", "/api/v1/procedures", "", "", ""))
		see("me", s.do("GET", "/api/v1/me", appTok, "", ""))

		// Another applicant finds nothing of it.
		_, strangerTok := s.addUser("stranger", auth.RoleApplicant, "")
		for _, p := range []string{"/api/v1/applications/" + id, "/api/v1/applications/" + id + "/notice.pdf"} {
			if r := s.do("GET", p, strangerTok, "", ""); r.status != 404 {
				t.Errorf("GET %s as another applicant = %d; want 404", p, r.status)
			}
		}
		if r := s.do("GET", "/api/v1/applications/"+id+"/candidates", appTok, "", ""); r.status != 403 {
			t.Errorf("candidates as the applicant = %d; want 403", r.status)
		}

		// The leak check, over every answer the applicant got.
		forbidden := []struct{ name, s string }{
			{"stream URL", "rtsp"}, {"stream credential", "secret@"}, {"playback URL", "/playback"}, {"footage URL", ".mp4"},
			{"near camera id", near}, {"far camera id", far}, {"camera id field", "camera_id"}, {"reviewer note", secretNote},
			{"reviewer username", "officer-wang"}, {"reviewer id", revID}, {"decision reason", "identity checked"},
			{"grant window field", "ranges"}, {"stream path", "/whep"}, {"another user", "stranger"},
		}
		if len(applicantSaw) < 12 {
			t.Fatalf("only %d applicant answers collected", len(applicantSaw))
		}
		for _, a := range applicantSaw {
			for _, f := range forbidden {
				t.Run(a.what+"/"+f.name, func(t *testing.T) {
					if bytes.Contains(bytes.ToLower(a.body), bytes.ToLower([]byte(f.s))) {
						t.Errorf("%s shows the applicant %s (%q): %s", a.what, f.name, f.s, a.body)
					}
				})
			}
		}
	})
}

// TestUploads: size, content type by sniffing, and the client's file name never used.
func TestUploads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s, svc := newAppStack(t, db)
		_, appTok := s.addUser("app1", auth.RoleApplicant, "")
		_, revTok := s.addUser("rev1", auth.RoleReviewer, "")
		_, otherTok := s.addUser("app2", auth.RoleApplicant, "")
		id := mustCreate(t, s.do("POST", "/api/v1/applications", appTok, "", applicationJSON("child")))
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{1}, 64)...)
		big := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{0}, 5<<20)...)
		html := []byte("<html><script>alert(1)</script></html>")
		elf := []byte("\x7fELF\x02\x01\x01\x00")
		parent := filepath.Dir(svc.UploadDir())
		for _, tc := range []struct {
			name, kind, filename, ctype string
			content                     []byte
			token                       string
			status                      int
			code                        string
		}{
			{"png", "identity", "id.png", "image/png", pngBytes, appTok, 201, ""},
			{"pdf", "relationship", "household.pdf", "application/pdf", pdf, appTok, 201, ""},
			{"jpeg", "relationship", "photo.jpg", "image/jpeg", jpeg, appTok, 201, ""},
			{"oversized", "identity", "big.png", "image/png", big, appTok, 413, "too_large"},
			{"html named png", "identity", "id.png", "image/png", html, appTok, 415, "unsupported_media_type"},
			{"executable named pdf", "identity", "id.pdf", "application/pdf", elf, appTok, 415, "unsupported_media_type"},
			{"empty", "identity", "id.png", "image/png", nil, appTok, 415, "unsupported_media_type"},
			{"path traversal", "identity", "../../../escape.png", "image/png", pngBytes, appTok, 201, ""},
			{"absolute path", "identity", "/tmp/escape-abs.png", "image/png", pngBytes, appTok, 201, ""},
			{"encoded traversal", "identity", "..%2F..%2Fescape2.png", "image/png", pngBytes, appTok, 201, ""},
			{"bad kind", "passport", "id.png", "image/png", pngBytes, appTok, 400, "invalid"},
			{"no kind", "", "id.png", "image/png", pngBytes, appTok, 400, "invalid"},
			{"another applicant's", "identity", "id.png", "image/png", pngBytes, otherTok, 404, "not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body, ct := multipartBody(tc.kind, tc.filename, tc.ctype, tc.content)
				r := s.do("POST", "/api/v1/applications/"+id+"/documents", tc.token, ct, body)
				if r.status != tc.status || (tc.code != "" && r.errorCode() != tc.code) {
					t.Fatalf("upload %s = %d %s; want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
				}
			})
		}
		// Stored files: only server-chosen names in the uploads directory, none elsewhere.
		ents, err := os.ReadDir(svc.UploadDir())
		if err != nil {
			t.Fatal(err)
		}
		named := regexp.MustCompile(`^[0-9a-f-]{36}\.(png|pdf|jpg)$`)
		if len(ents) != 6 {
			t.Errorf("uploads holds %d files; want 6", len(ents))
		}
		for _, e := range ents {
			if !named.MatchString(e.Name()) {
				t.Errorf("stored file %q is not a server-chosen name", e.Name())
			}
		}
		for _, p := range []string{filepath.Join(parent, "escape.png"), "/tmp/escape-abs.png", filepath.Join(parent, "..", "escape.png")} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s exists: the client's path was used", p)
			}
		}
		// The reviewer reads a document back, as an attachment of the sniffed type.
		v, err := svc.ForReviewer(context.Background(), id)
		if err != nil || len(v.Documents) != 6 {
			t.Fatalf("ForReviewer = %d documents, %v; want 6", len(v.Documents), err)
		}
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/applications/"+id+"/documents/"+v.Documents[0].ID, nil)
		req.Header.Set("Authorization", "Bearer "+revTok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(got, pngBytes) || res.Header.Get("Content-Type") != "image/png" {
			t.Errorf("document = %d %s, %d bytes; want the PNG back", res.StatusCode, res.Header.Get("Content-Type"), len(got))
		}
		// After the decision, documents can no longer be changed.
		if r := s.do("POST", "/api/v1/applications/"+id+"/decision", revTok, "", `{"accept":false,"reason":"duplicate of an earlier application"}`); r.status != 200 {
			t.Fatal(r.status, string(r.body))
		}
		body, ct := multipartBody("identity", "id.png", "image/png", pngBytes)
		if r := s.do("POST", "/api/v1/applications/"+id+"/documents", appTok, ct, body); r.status != 409 {
			t.Errorf("upload after the decision = %d; want 409", r.status)
		}
	})
}

// doFunc is a stack's do, of whichever test stack.
type doFunc func(method, path, token, contentType, body string) response

// acceptWithDocs records the pack's documents as shown in person and accepts the application.
func acceptWithDocs(t *testing.T, do doFunc, id, tok string) {
	t.Helper()
	for _, kind := range []string{"identity", "relationship"} {
		if r := do("POST", "/api/v1/applications/"+id+"/documents/shown", tok, "", `{"kind":"`+kind+`"}`); r.status != http.StatusCreated {
			t.Fatalf("documents shown = %d %s", r.status, r.body)
		}
	}
	if r := do("POST", "/api/v1/applications/"+id+"/decision", tok, "", `{"accept":true,"reason":"documents in order"}`); r.status != http.StatusOK {
		t.Fatalf("accept = %d %s", r.status, r.body)
	}
}

// sendNotice drafts a notice as tok and approves it as tok2: the application closes.
func sendNotice(t *testing.T, do doFunc, id, tok, tok2, body string) string {
	t.Helper()
	nid := mustCreate(t, do("POST", "/api/v1/applications/"+id+"/notices", tok, "", body))
	if r := do("POST", "/api/v1/applications/"+id+"/notices/"+nid+"/approve", tok2, "", ""); r.status != http.StatusOK {
		t.Fatalf("approve = %d %s", r.status, r.body)
	}
	return nid
}
