package httpapi_test

// The threat model, as attacks on the running server (issue 12): each test is one thing a
// determined intruder tried, and what the server must do instead of what it did.

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
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
					if r := fs.do("POST", "/api/v1/applications/"+right+"/decision", tok, "", `{"accept":true,"reason":"documents in order"}`); r.status != http.StatusOK {
						t.Fatalf("accept = %d %s", r.status, r.body)
					}
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
