package httpapi_test

// The threat model, as attacks on the running server (issue 12): each test is one thing a
// determined intruder tried, and what the server must do instead of what it did.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestAttackReversedTraceRangeIsNoOutage: a query whose until lies before its since was answered
// 503 trace_unavailable (and logged as a trail outage), because the entry for the read was
// refused for its range. Bad input is a 400; a false alarm would hide a real outage.
func TestAttackReversedTraceRangeIsNoOutage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, tok := s.addUser("auditor1", auth.RoleAuditor, "")
		res := s.do("GET", "/api/v1/trace?since=2026-09-01T21:00:00Z&until=2026-09-01T20:00:00Z", tok, "", "")
		var body struct {
			Error struct{ Code, Field string }
		}
		json.Unmarshal(res.body, &body)
		if res.status != http.StatusBadRequest || body.Error.Field != "until" {
			t.Errorf("GET /api/v1/trace with until before since = %d %s; want 400 on until", res.status, res.body)
		}
	})
}

// TestAttackOversizedImportIs413: a CSV import past the size bound was answered 400
// invalid_import, as if the file were malformed; it is too large, and says so.
func TestAttackOversizedImportIs413(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, tok := s.addUser("admin1", auth.RoleAdmin, "")
	body := "name\n\"" + strings.Repeat("x", 65<<20) + "\"\n"
	res := s.do("POST", "/api/v1/cameras/import", tok, "text/csv", body)
	if res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /api/v1/cameras/import of 65 MiB = %d %.200s; want 413", res.status, res.body)
	}
}

// TestAttackOtherOrganisationsAreNameCards: an operator read every organisation's full record;
// outside its own it needs only what a grant form names (id, name, kind).
func TestAttackOtherOrganisationsAreNameCards(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	psb := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	hotel := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	_, op := s.addUser("op1", auth.RoleOperator, psb)
	var list struct{ Organisations []map[string]any }
	if res := s.do("GET", "/api/v1/organisations", op, "", ""); res.status != http.StatusOK || json.Unmarshal(res.body, &list) != nil {
		t.Fatalf("GET /api/v1/organisations = %d %s", res.status, res.body)
	}
	for _, o := range list.Organisations {
		switch o["id"] {
		case psb:
			if o["department_type"] != "public_security" {
				t.Errorf("operator's own organisation = %v; want its full record", o)
			}
		case hotel:
			if len(o) != 3 || o["name"] != "Hotel" || o["kind"] != "establishment" {
				t.Errorf("another organisation as an operator sees it = %v; want only id, name and kind", o)
			}
		}
	}
	var one map[string]any
	if res := s.do("GET", "/api/v1/organisations/"+hotel, op, "", ""); json.Unmarshal(res.body, &one) != nil || len(one) != 3 {
		t.Errorf("GET /api/v1/organisations/{hotel} as an operator = %s; want only id, name and kind", res.body)
	}
	if res := s.do("GET", "/api/v1/organisations/"+hotel, admin, "", ""); json.Unmarshal(res.body, &one) != nil || one["establishment_type"] != "hotel" {
		t.Errorf("GET /api/v1/organisations/{hotel} as an admin = %s; want the full record", res.body)
	}
}

// TestAttackStreamSecretsNeverLeave: a source URL's query (…/cam/2?password=…) was returned to
// every reader of the camera; only user:pass@ was stripped.
func TestAttackStreamSecretsNeverLeave(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	org := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	_, op := s.addUser("op1", auth.RoleOperator, org)
	cam := mustCreate(t, s.do("POST", "/api/v1/cameras", op, "", `{"name":"gate","organisation_id":"`+org+`","investment":"government",
		"lat":27.83,"lon":113.15,"place_category":"public_square","networked":true,"sign_installed":true,
		"source_url":"rtsp://admin:hunter2@10.0.0.1/cam/2?user=admin&password=hunter3"}`))
	for _, path := range []string{"/api/v1/cameras/" + cam, "/api/v1/cameras"} {
		res := s.do("GET", path, op, "", "")
		if res.status != http.StatusOK || strings.Contains(string(res.body), "hunter") || !strings.Contains(string(res.body), "password=***") {
			t.Errorf("GET %s = %d %s; want the source with its secrets masked", path, res.status, res.body)
		}
	}
}

// TestAttackEveryLookLeavesATrace: a HEAD of playback.mp4 (whose headers reveal when the camera
// recorded and when not), a playback of a range with nothing recorded, the camera's recorded
// stretches and footage requests refused as malformed left no trace, so a probe of the footage
// routes went unseen.
func TestAttackEveryLookLeavesATrace(t *testing.T) {
	fs := newFootageStack(t)
	first := fs.segs[0]
	url := fs.playbackURL(first.Start, first.End, "incident 7")
	tests := []struct {
		name, method, path string
		status             int
		actions            []string
	}{
		{"HEAD of a playback", "HEAD", url, 200, []string{"playback"}},
		{"no purpose", "GET", fs.playbackURL(first.Start, first.End, ""), 400, []string{"playback:denied"}},
		{"an unreadable start", "GET", strings.Replace(url, "start=", "start=yesterday&x=", 1), 400, []string{"playback:denied"}},
		{"a reversed range", "GET", fs.playbackURL(first.End, first.Start, "x"), 400, []string{"playback:denied"}},
		// "Nothing was recorded then" and the recorded stretches are what a HEAD tells: traced.
		{"a range with nothing recorded", "GET", fs.playbackURL(first.Start.Add(-2*time.Hour), first.Start.Add(-time.Hour), "x"), 404, []string{"playback"}},
		{"the recorded stretches", "GET", "/api/v1/cameras/" + fs.cam + "/recordings", 200, []string{"recordings_read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := fs.size()
			req, _ := http.NewRequest(tt.method, fs.srv.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+fs.tokens["operator"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("%s %s = %d; want %d", tt.method, tt.path, res.StatusCode, tt.status)
			}
			if got := actions(fs.entriesSince(n)); !slices.Equal(got, tt.actions) {
				t.Errorf("%s %s left %v in the trail; want %v", tt.method, tt.path, got, tt.actions)
			}
		})
	}
}

// TestAttackLoginThrottleHolds: 200 logins at once for one user (one with the right password)
// got 199 verifications, because the throttle was checked before waiting for a hashing slot.
// An attempt is counted before its password is checked: at most the limit are verified.
func TestAttackLoginThrottleHolds(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	s.AddUser(t, "victim", auth.RoleOperator, mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "",
		`{"name":"PSB","kind":"department","department_type":"public_security"}`)))
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			pw := "wrong password " + strconv.Itoa(i)
			if i == 100 {
				pw = apitest.Password
			}
			r := s.do("POST", "/api/v1/sessions", "", "", `{"username":"victim","password":"`+pw+`"}`)
			mu.Lock()
			codes[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if checked := codes[http.StatusCreated] + codes[http.StatusUnauthorized]; checked > 3 {
		t.Errorf("200 concurrent logins: %v; want at most 3 passwords checked (the limit), the rest 429", codes)
	}
}

// TestAttackNoLockoutOfTheOwner: wrong guesses from elsewhere locked the owner out (5 from
// anywhere, a burst for an hour). Guesses from other addresses must not lock out the client the
// owner logs in from, and no lock may exceed 15 minutes.
func TestAttackNoLockoutOfTheOwner(t *testing.T) {
	s := newStack(t, storetest.SQLite(t))
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	s.AddUser(t, "owner1", auth.RoleOperator, mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "",
		`{"name":"PSB","kind":"department","department_type":"public_security"}`)))
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	login := func(c *http.Client, pw string) *http.Response {
		res, err := c.Post(s.srv.URL+"/api/v1/sessions", "application/json", strings.NewReader(`{"username":"owner1","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	owner := from("127.0.0.1")
	if res := login(owner, apitest.Password); res.StatusCode != http.StatusCreated {
		t.Fatalf("the owner's first login = %d", res.StatusCode)
	}
	for i := range 30 {
		res := login(from("127.0.0."+strconv.Itoa(10+i%5)), "guess")
		if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra > 900 {
			t.Errorf("a lock of %d s; want at most 900", ra)
		}
	}
	if res := login(owner, apitest.Password); res.StatusCode != http.StatusCreated {
		t.Errorf("the owner's login after 30 guesses from elsewhere = %d; want 201", res.StatusCode)
	}
}

// TestAttackExportsFollowCurrentRights: downloading an export asked only "admin or its
// exporter", so a user demoted to auditor still downloaded the zip, one moved to another
// organisation still got 206 on the old organisation's export, and a grantee kept downloading
// after its grant was revoked or had ended (and a reviewer, after its application closed). The
// footage decision is asked again at each download: who may no longer see that footage gets
// 404, and the attempt is traced as denied.
func TestAttackExportsFollowCurrentRights(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fs := newFootageStackOn(t, db)
		seg := fs.segs[0]
		admin := fs.tokens["admin"]
		// grant shares the camera with the hotel for export, until ends ("" for open-ended).
		grant := func(t *testing.T, ends string) string {
			body := `{"camera_ids":["` + fs.cam + `"],"grantee_organisation_id":"` + fs.orgB +
				`","scopes":["export"],"purpose":"joint inquiry","starts_at":"2026-01-01T00:00:00Z"`
			if ends != "" {
				body += `,"ends_at":"` + ends + `"`
			}
			return mustCreate(t, fs.do("POST", "/api/v1/grants", fs.tokens["operator"], "", body+"}"))
		}
		tests := []struct {
			name     string
			org      string // the exporter's organisation
			reviewer bool   // the exporter is a reviewer, exporting under an application
			rng      string // a Range header for the downloads, if any
			// takeAway ends the exporter's right to the footage, given by the grant or the
			// application named; it returns true when the exporter must log in again (an
			// account change ends its sessions).
			takeAway func(t *testing.T, user, tok, right string) bool
		}{
			{name: "demoted to auditor", org: fs.orgA, takeAway: func(t *testing.T, user, _, _ string) bool {
				if r := fs.do("PATCH", "/api/v1/users/"+user, admin, "", `{"role":"auditor"}`); r.status != http.StatusOK {
					t.Fatalf("PATCH user role = %d %s", r.status, r.body)
				}
				return true
			}},
			{name: "moved to another organisation, ranged", org: fs.orgA, rng: "bytes=0-99", takeAway: func(t *testing.T, user, _, _ string) bool {
				if r := fs.do("PATCH", "/api/v1/users/"+user, admin, "", `{"organisation_id":"`+fs.orgB+`"}`); r.status != http.StatusOK {
					t.Fatalf("PATCH user organisation = %d %s", r.status, r.body)
				}
				return true
			}},
			{name: "grant revoked", org: fs.orgB, takeAway: func(t *testing.T, _, _, g string) bool {
				if r := fs.do("DELETE", "/api/v1/grants/"+g, fs.tokens["operator"], "", ""); r.status != http.StatusOK {
					t.Fatalf("DELETE grant = %d %s", r.status, r.body)
				}
				return false
			}},
			{name: "grant expired", org: fs.orgB, takeAway: func(t *testing.T, _, _, _ string) bool {
				fs.Clock.Advance(2 * time.Hour) // past the grant's end, an hour from now
				return false
			}},
			{name: "reviewer's application closed", reviewer: true, takeAway: func(t *testing.T, _, tok, app string) bool {
				r := fs.do("POST", "/api/v1/applications/"+app+"/result", tok, "", `{"outcome":"no_relevant_footage","notice":"No relevant footage was found."}`)
				if r.status != http.StatusOK {
					t.Fatalf("POST result = %d %s", r.status, r.body)
				}
				// The draft closes nothing; a second reviewer's approval sends it and closes the application.
				var v lostperson.ReviewerView
				json.Unmarshal(r.body, &v)
				_, tok2 := fs.addUser("second-reviewer", auth.RoleReviewer, "")
				if r := fs.do("POST", "/api/v1/applications/"+app+"/notices/"+v.Notices[len(v.Notices)-1].ID+"/approve", tok2, "", ""); r.status != http.StatusOK {
					t.Fatalf("approve = %d %s", r.status, r.body)
				}
				return false
			}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				username := "exporter" + strconv.Itoa(i)
				role := auth.RoleOperator
				if tt.reviewer {
					role = auth.RoleReviewer
				}
				user, tok := fs.addUser(username, role, tt.org)
				body := exportJSON(seg.Start, seg.End, "missing child", "CASE-12")
				var right string
				switch {
				case tt.org == fs.orgB:
					right = grant(t, fs.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339))
				case tt.reviewer:
					right = mustCreate(t, fs.do("POST", "/api/v1/applications", fs.tokens["applicant"], "", applicationJSON("elderly")))
					acceptWithDocs(t, fs.do, right, tok)
					if r := fs.do("GET", "/api/v1/applications/"+right+"/candidates", tok, "", ""); r.status != http.StatusOK {
						t.Fatalf("candidates = %d %s", r.status, r.body)
					}
					body = strings.Replace(body, "{", `{"application_id":"`+right+`",`, 1)
				}
				r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", tok, "", body)
				if r.status != http.StatusCreated {
					t.Fatalf("POST export = %d %s; want 201", r.status, r.body)
				}
				id := r.json(t)["id"].(string)
				path := "/api/v1/exports/" + id
				want := http.StatusOK
				var hdr []string
				if tt.rng != "" {
					want, hdr = http.StatusPartialContent, []string{"Range", tt.rng}
				}
				if res, _ := fs.get(path, tok, hdr...); res.StatusCode != want {
					t.Fatalf("GET %s while allowed = %d; want %d", path, res.StatusCode, want)
				}
				if tt.takeAway(t, user, tok, right) {
					tok = fs.login(username, apitest.Password)
				}
				n := fs.size()
				res, zip := fs.get(path, tok, hdr...)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s after the right ended = %d (%d bytes); want 404", path, res.StatusCode, len(zip))
				}
				es := fs.entriesSince(n)
				if got := actions(es); !slices.Equal(got, []string{"export:denied"}) {
					t.Fatalf("GET %s after the right ended left %v in the trail; want [export:denied]", path, got)
				}
				if e := es[0]; !slices.Equal(e.CameraIDs, []string{fs.cam}) || !strings.Contains(e.Purpose, id) || e.Actor.Username != username {
					t.Errorf("denied download entry = cameras %v, purpose %q, actor %q; want %s, the export %s, %s",
						e.CameraIDs, e.Purpose, e.Actor.Username, fs.cam, id, username)
				}
			})
		}
	})
}

// TestAttackRegistrationHashingIsBounded: registrations hashed their passwords (64 MiB each)
// outside the bound logins had, so 64 at once took the server to 4.2 GiB. Every argon2id use
// shares the process's slots; one that finds none within the wait is answered 503 with
// Retry-After. (make bench-hashing measures the resident memory of the real server.)
func TestAttackRegistrationHashingIsBounded(t *testing.T) {
	st := apitest.New(t, storetest.SQLite(t))
	hasher, err := auth.NewHasher(auth.HasherConfig{Slots: 1, Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lostperson.New(lostperson.Config{DataDir: t.TempDir(), RegistrationsPerAddress: 1000}, lostperson.Deps{Repo: st.DB,
		Recordings: st.DB, Cameras: st.Registry, Pack: st.Registry.Pack(), Tracer: st.Tracer, Hasher: hasher})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st.NewAPI(t, apitest.Parts{Requests: svc}).Handler())
	t.Cleanup(srv.Close)
	const n = 16
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"username":"mother%d","password":"a long enough password","contact":"m%d@example.cn"}`, i, i)
			res, err := http.Post(srv.URL+"/api/v1/applicants", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var e struct{ Error struct{ Code string } }
			json.NewDecoder(res.Body).Decode(&e)
			mu.Lock()
			defer mu.Unlock()
			codes[res.StatusCode]++
			if res.StatusCode == http.StatusServiceUnavailable {
				if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra < 1 || e.Error.Code != "busy" {
					t.Errorf("a registration past the hashing bound = 503 %q, Retry-After %q; want code busy and a Retry-After", e.Error.Code, res.Header.Get("Retry-After"))
				}
			}
		})
	}
	wg.Wait()
	if codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusAccepted] == 0 || codes[http.StatusServiceUnavailable]+codes[http.StatusAccepted] != n {
		t.Errorf("%d concurrent registrations with 1 hashing slot = %v; want some 202, the rest 503", n, codes)
	}
}

// TestAttackRegistrationTellsNoNames: POST /api/v1/applicants answered "username: is taken" for
// staff names, unthrottled and untraced, so anyone could list the accounts. A taken name is
// answered as a free one (only the contact learns which, and gets no code); registrations are
// traced and throttled per client address; a real applicant still completes registration.
func TestAttackRegistrationTellsNoNames(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		st := apitest.New(t, db)
		withRequestsConfig(t, st, lostperson.Config{DataDir: t.TempDir()}) // the default limit per address
		srv := httptest.NewServer(st.API.Handler())
		t.Cleanup(srv.Close)
		s := &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: st.API, srv: srv}
		s.AddUser(t, "chief", auth.RoleAdmin, "")
		register := func(username, contact string) response {
			return s.do("POST", "/api/v1/applicants", "", "", `{"username":"`+username+`","password":"a long enough password","contact":"`+contact+`"}`)
		}
		answer := func(r response) map[string]any {
			m := r.json(t)
			for _, k := range []string{"registration_id", "sent_to", "expires_at"} {
				if m[k] == nil || m[k] == "" {
					t.Errorf("register answered %s; want %s", r.body, k)
				}
				delete(m, k) // differ by nature: a fresh id, the contact, the time
			}
			return m
		}
		n := s.Size(t)
		taken, free := register("chief", "aa@example.cn"), register("mother1", "bb@example.cn")
		if taken.status != free.status || fmt.Sprint(answer(taken)) != fmt.Sprint(answer(free)) {
			t.Errorf("register(taken name) = %d %s; register(free name) = %d %s; want the same answer", taken.status, taken.body, free.status, free.body)
		}
		if got := actions(s.Entries(t, n)); !slices.Equal(got, []string{"applicant_register", "applicant_register"}) {
			t.Errorf("two registrations left %v in the trail; want applicant_register twice", got)
		}
		messages := map[string]string{} // contact → what it was sent
		rows, err := db.SQL().Query(`SELECT recipient, kind, body FROM outbox`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var to, kind, body string
			rows.Scan(&to, &kind, &body)
			messages[to] = kind + ": " + body
		}
		rows.Close()
		code := regexp.MustCompile(`\b\d{6}\b`)
		if m := messages["aa@example.cn"]; !strings.HasPrefix(m, "username_taken") || code.MatchString(m) {
			t.Errorf("the taken name's contact was sent %q; want a notice without a code", m)
		}
		c := code.FindString(messages["bb@example.cn"])
		if c == "" {
			t.Fatalf("the free name's contact was sent %q; want a code", messages["bb@example.cn"])
		}
		r := s.do("POST", "/api/v1/applicants/verify", "", "", fmt.Sprintf(`{"registration_id":%q,"code":%q}`, free.json(t)["registration_id"], c))
		if r.status != http.StatusCreated {
			t.Errorf("verify(the free name's code) = %d %s; want 201", r.status, r.body)
		}

		// One address may register only so often; the refusal says when to return, and is traced.
		var last *http.Response
		for i := range 20 {
			res, err := http.Post(s.srv.URL+"/api/v1/applicants", "application/json", strings.NewReader(
				fmt.Sprintf(`{"username":"probe%d","password":"a long enough password","contact":"p%d@example.cn"}`, i, i)))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if last = res; res.StatusCode != http.StatusAccepted {
				break
			}
		}
		if ra, _ := strconv.Atoi(last.Header.Get("Retry-After")); last.StatusCode != http.StatusTooManyRequests || ra < 1 {
			t.Errorf("registrations from one address past the limit: the last = %d, Retry-After %q; want 429 with a Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
		}
		es := s.Entries(t, s.Size(t)-1)
		if len(es) != 1 || es[0].Action != "applicant_register" || es[0].Outcome != "denied" {
			t.Errorf("the throttled registration left %+v; want applicant_register denied", es)
		}
	})
}

// TestAttackUploadsAreBounded: 30 documents of 5 MiB went into one application in a second, and
// an applicant could open applications without end. The pack's limits hold: past the bytes of
// an application 413, past its documents or the applicant's open applications 422, each with
// the reason.
func TestAttackUploadsAreBounded(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s, _ := newAppStack(t, db)
		lim := s.reg.Pack().Applications().Limits
		_, tok := s.addUser("app1", auth.RoleApplicant, "")
		var apps []string
		for range lim.OpenApplicationsPerApplicant {
			apps = append(apps, mustCreate(t, s.do("POST", "/api/v1/applications", tok, "", applicationJSON("elderly"))))
		}
		r := s.do("POST", "/api/v1/applications", tok, "", applicationJSON("elderly"))
		if r.status != http.StatusUnprocessableEntity || r.errorCode() != "too_many_applications" || !strings.Contains(string(r.body), "open applications") {
			t.Errorf("application #%d = %d %s; want 422 too_many_applications with the reason", len(apps)+1, r.status, r.body)
		}
		upload := func(app string, content []byte) response {
			body, ct := multipartBody("identity", "id.png", "image/png", content)
			return s.do("POST", "/api/v1/applications/"+app+"/documents", tok, ct, body)
		}
		for i := range lim.DocumentsPerApplication {
			if r := upload(apps[0], pngBytes); r.status != http.StatusCreated {
				t.Fatalf("document #%d = %d %s; want 201", i+1, r.status, r.body)
			}
		}
		r = upload(apps[0], pngBytes)
		if r.status != http.StatusUnprocessableEntity || r.errorCode() != "too_many_documents" || !strings.Contains(string(r.body), "documents per application") {
			t.Errorf("document #%d = %d %s; want 422 too_many_documents with the reason", lim.DocumentsPerApplication+1, r.status, r.body)
		}
		big := append(append([]byte(nil), pngBytes...), bytes.Repeat([]byte{0}, 5<<20-len(pngBytes)-1024)...)
		var sent int64
		for sent+int64(len(big)) <= lim.BytesPerApplication {
			if r := upload(apps[1], big); r.status != http.StatusCreated {
				t.Fatalf("%d MiB into one application = %d %s; want 201", (sent+int64(len(big)))>>20, r.status, r.body)
			}
			sent += int64(len(big))
		}
		r = upload(apps[1], big)
		if r.status != http.StatusRequestEntityTooLarge || r.errorCode() != "application_too_large" || !strings.Contains(string(r.body), "MiB of documents per application") {
			t.Errorf("a document past the application's %d MiB = %d %s; want 413 application_too_large with the reason", lim.BytesPerApplication>>20, r.status, r.body)
		}
	})
}
