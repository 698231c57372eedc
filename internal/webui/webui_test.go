package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

func TestLoginSetsCookies(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			s := newStack(t, stackOpt{tls: tls})
			s.addUser("admin1", auth.RoleAdmin, "")
			s.addUser("citizen", auth.RoleApplicant, "")
			b := s.browser()
			b.get("/login")
			before := b.cookie(auth.CSRFCookie)
			if before == "" {
				t.Fatal("GET /login set no CSRF cookie")
			}
			p := b.login("admin1")
			if loc := p.res.Header.Get("Location"); loc != "/cameras" {
				t.Errorf("admin's login redirects to %q; want /cameras", loc)
			}
			var session, csrf *http.Cookie
			for _, c := range p.res.Cookies() {
				switch c.Name {
				case auth.SessionCookie:
					session = c
				case auth.CSRFCookie:
					csrf = c
				}
			}
			if session == nil || session.Value == "" {
				t.Fatal("login set no session cookie")
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure != tls {
				t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v; want true, Lax, /, %v",
					session.HttpOnly, session.SameSite, session.Path, session.Secure, tls)
			}
			if csrf == nil || csrf.Value == "" || csrf.Value == before {
				t.Errorf("login did not set a fresh CSRF cookie (before %q, after %v)", before, csrf)
			} else if csrf.HttpOnly || csrf.Secure != tls {
				t.Errorf("CSRF cookie HttpOnly=%v Secure=%v; want false, %v", csrf.HttpOnly, csrf.Secure, tls)
			}
			// The cookie works for the API too: the same session, read by the same accounts service.
			if r := b.get("/api/v1/me"); r.status != http.StatusOK || !strings.Contains(r.body, `"admin1"`) {
				t.Errorf("GET /api/v1/me with the cookie = %d %s; want 200 with the user", r.status, r.body)
			}
			// An applicant has nothing of the registry to go to.
			if loc := s.browser().login("citizen").res.Header.Get("Location"); loc != "/me" {
				t.Errorf("applicant's login redirects to %q; want /me", loc)
			}
			// Log out: the session ends on the server, not just in the browser.
			token := session.Value
			if r := b.post("/logout", nil); r.status != http.StatusSeeOther {
				t.Fatalf("POST /logout = %d; want 303", r.status)
			}
			req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := s.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the old session token after logout = %d; want 401", res.StatusCode)
			}
		})
	}
}

func TestLoginNext(t *testing.T) {
	s := newStack(t)
	s.addUser("aud1", auth.RoleAuditor, "")
	b := s.browser()
	p := b.get("/trace?action=login")
	if p.status != http.StatusSeeOther || p.res.Header.Get("Location") != "/login?next="+url.QueryEscape("/trace?action=login") {
		t.Fatalf("GET /trace logged out = %d → %q; want 303 to the login page with next", p.status, p.res.Header.Get("Location"))
	}
	for next, want := range map[string]string{"/trace?action=login": "/trace?action=login", "//evil.example/": "/cameras", "https://evil.example/": "/cameras"} {
		p := b.post("/login", url.Values{"username": {"aud1"}, "password": {password}, "next": {next}})
		if loc := p.res.Header.Get("Location"); p.status != http.StatusSeeOther || loc != want {
			t.Errorf("login with next=%q = %d → %q; want 303 → %q", next, p.status, loc, want)
		}
	}
}

func TestLoginFailuresRevealNothing(t *testing.T) {
	s := newStack(t)
	s.addUser("op1", auth.RoleAdmin, "")
	b := s.browser()
	wrong := b.post("/login", url.Values{"username": {"op1"}, "password": {"not the password"}})
	missing := b.post("/login", url.Values{"username": {"nobody"}, "password": {"not the password"}})
	for name, p := range map[string]resp{"wrong password": wrong, "no such user": missing} {
		if p.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d; want 401", name, p.status)
		}
		mustContain(t, name, p.body, "用户名或密码错误")
		if b.cookie(auth.SessionCookie) != "" {
			t.Errorf("%s: a session cookie was set", name)
		}
	}
	// The throttle allows 3 failures per user; the 4th attempt is refused even with the right
	// password, and says so.
	b.post("/login", url.Values{"username": {"op1"}, "password": {"not the password"}})
	b.post("/login", url.Values{"username": {"op1"}, "password": {"not the password"}})
	p := b.post("/login", url.Values{"username": {"op1"}, "password": {password}})
	if p.status != http.StatusTooManyRequests {
		t.Errorf("login after 3 failures = %d; want 429", p.status)
	}
	mustContain(t, "throttled login", p.body, "登录失败次数过多")
}

func TestCSRFIsEnforced(t *testing.T) {
	s := newStack(t)
	s.addUser("admin1", auth.RoleAdmin, "")
	org := s.addOrg("PSB", registry.KindDepartment, "public_security")
	b := s.loggedIn("admin1")
	token := b.cookie(auth.CSRFCookie)
	newUser := func(name string) url.Values {
		return url.Values{"username": {"user-" + name}, "password": {password}, "role": {"operator"}, "organisation_id": {org}}
	}
	cases := []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"no token", "/admin/users", newUser("u1"), nil, http.StatusForbidden},
		{"wrong token", "/admin/users", withCSRF(newUser("u2"), "not-the-token"), nil, http.StatusForbidden},
		{"cross-site with the token", "/admin/users", withCSRF(newUser("u3"), token), map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin with the token", "/admin/users", withCSRF(newUser("u4"), token), map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"logout without token", "/logout", url.Values{}, nil, http.StatusForbidden},
		{"login without token", "/login", url.Values{"username": {"admin1"}, "password": {password}}, nil, http.StatusForbidden},
		{"organisation without token", "/admin/organisations", url.Values{"name": {"X"}, "kind": {"enterprise"}}, nil, http.StatusForbidden},
		{"the right token", "/admin/users", withCSRF(newUser("u5"), token), nil, http.StatusSeeOther},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.form.Get("csrf_token") == "" {
				c.form.Set("csrf_token", "") // present but empty: post() must not fill it in
			}
			for k, v := range c.header {
				b.header.Set(k, v)
			}
			defer func() { b.header = http.Header{} }()
			n := s.size()
			p := b.post(c.path, c.form)
			if p.status != c.want {
				t.Fatalf("POST %s (%s) = %d; want %d", c.path, c.name, p.status, c.want)
			}
			if c.want == http.StatusForbidden {
				if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"access_denied:denied"}) {
					t.Errorf("trail after the refusal = %v; want [access_denied:denied]", got)
				}
			}
		})
	}
	users, err := s.db.Users(setupCtx, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"admin1", "user-u5"}) {
		t.Errorf("users = %v; want only admin1 and u5 (the refused forms created nothing)", names)
	}
	if p := b.get("/me"); p.status != http.StatusOK {
		t.Errorf("after the refused logout GET /me = %d; want 200 (still logged in)", p.status)
	}
}

func withCSRF(v url.Values, token string) url.Values {
	v.Set("csrf_token", token)
	return v
}

const anon = "anonymous"

// TestPagesByRole is the UI's authorization table: every page × every role, with the trail
// entries each request must leave. A page missing from the table fails the test.
func TestPagesByRole(t *testing.T) {
	s := newStack(t)
	s.addUser("admin1", auth.RoleAdmin, "")
	orgA := s.addOrg("PSB", registry.KindDepartment, "public_security")
	orgB := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("op1", auth.RoleOperator, orgA)
	s.addUser("owner1", auth.RoleOwner, orgB)
	s.addUser("rev1", auth.RoleReviewer, "")
	s.addUser("aud1", auth.RoleAuditor, "")
	s.addUser("app1", auth.RoleApplicant, "")
	victim := s.addUser("victim", auth.RoleReviewer, "")
	camA := s.addCamera(orgA, "Gate A", 27.83, 113.15, nil)
	camM := s.addCamera(orgA, "Gate M", 27.831, 113.151, nil) // the management forms' (cameramgmt.go)
	cons, err := s.ui.consult.Publish(setupCtx, consultation.DraftInput{Title: "Procedure", Draft: "Draft", Deadline: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := s.ui.consult.Submit(setupCtx, "192.0.2.8", cons.ID, "an opinion")
	if err != nil {
		t.Fatal(err)
	}
	orderA := signFixture(t, s, camA)
	browsers := map[string]*browser{anon: s.browser()}
	for role, name := range map[string]string{"admin": "admin1", "operator": "op1", "owner": "owner1", "reviewer": "rev1", "auditor": "aud1", "applicant": "app1"} {
		browsers[role] = s.loggedIn(name)
	}

	type want struct {
		status  int
		actions []string
	}
	ok := want{http.StatusOK, nil}
	login := want{http.StatusSeeOther, []string{"access_denied:denied"}}
	denied := want{http.StatusForbidden, []string{"access_denied:denied"}}
	notFound := want{http.StatusNotFound, []string{"access_denied:denied"}}
	notLoggedIn := want{http.StatusUnauthorized, []string{"access_denied:denied"}}
	roles := func(def want, except map[string]want) map[string]want {
		m := map[string]want{}
		for _, r := range []string{anon, "admin", "operator", "owner", "reviewer", "auditor", "applicant"} {
			m[r] = def
		}
		for r, w := range except {
			m[r] = w
		}
		return m
	}
	staff := roles(ok, map[string]want{anon: login, "applicant": denied})
	admins := roles(denied, map[string]want{anon: login, "admin": ok})
	managersPage := roles(denied, map[string]want{anon: login, "admin": ok, "operator": ok, "owner": notFound})
	created := want{http.StatusSeeOther, []string{"camera_create"}}
	adminPosts := func(done want) map[string]want {
		return roles(denied, map[string]want{anon: notLoggedIn, "admin": done})
	}

	type row struct {
		method, pattern, path string
		form                  func() url.Values
		want                  map[string]want
	}
	seq := 0 // makes each form's names unique
	rows := []row{
		{"GET", "/{$}", "/", nil, roles(ok, nil)},
		{"GET", "/login", "/login", nil, roles(ok, nil)},
		{"GET", "/lang/{lang}", "/lang/zh?next=/", nil, roles(want{http.StatusSeeOther, nil}, nil)},
		{"GET", "/me", "/me", nil, roles(ok, map[string]want{anon: login})},
		{"GET", "/cameras", "/cameras", nil, staff},
		// The owner's organisation does not own camA: not found, and the look is traced as denied.
		// Those who may play it back see its timeline, a read of when it recorded, traced.
		{"GET", "/cameras/{id}", "/cameras/" + camA, nil, roles(ok, map[string]want{anon: login, "applicant": denied, "owner": notFound,
			"admin": {http.StatusOK, []string{"recordings_read"}}, "operator": {http.StatusOK, []string{"recordings_read"}}})},
		// Review by time: the form alone reads nothing; the timeline's read of when a camera
		// recorded is traced, refused (and traced) to those who may not play it back.
		{"GET", "/timeline", "/timeline", nil, staff},
		{"GET", "/cameras/{id}/recorded", "/cameras/" + camA + "/recorded?start=2026-01-01T00:00:00Z&end=2026-01-01T01:00:00Z", nil,
			roles(denied, map[string]want{anon: login, "owner": notFound,
				"admin": {http.StatusOK, []string{"recordings_read"}}, "operator": {http.StatusOK, []string{"recordings_read"}}})},
		{"GET", "/compliance", "/compliance", nil, roles(ok, map[string]want{anon: login, "applicant": denied, "reviewer": denied})},
		// The live grid, for the roles that watch live; camA is planned, so no view of it is
		// saved, and a view that is not the user's is not found.
		{"GET", "/live", "/live", nil, roles(denied, map[string]want{anon: login, "admin": ok, "operator": ok, "owner": ok})},
		{"POST", "/live/views", "/live/views", func() url.Values { return url.Values{"name": {"v"}, "layout": {"4"}, "camera": {camA}} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusBadRequest, nil}, "operator": {http.StatusBadRequest, nil},
				"owner": {http.StatusBadRequest, nil}})},
		{"POST", "/live/views/{id}/delete", "/live/views/" + registry.NewID() + "/delete", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": notFound, "operator": notFound, "owner": notFound})},
		{"POST", "/cameras/{id}/sign", "/cameras/" + camA + "/sign", func() url.Values { return url.Values{"installed": {"yes"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
				"admin": {http.StatusSeeOther, []string{"sign_update"}}, "operator": {http.StatusSeeOther, []string{"sign_update"}}})},
		// A form without a file is refused as bad input once the camera is found; the upload
		// itself is TestSignAndMaintenancePages'.
		{"POST", "/cameras/{id}/sign/photo", "/cameras/" + camA + "/sign/photo", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
				"admin": {http.StatusBadRequest, nil}, "operator": {http.StatusBadRequest, nil}})},
		{"GET", "/cameras/{id}/sign/photo", "/cameras/" + camA + "/sign/photo", nil, roles(want{http.StatusOK, []string{"sign_photo_read"}},
			map[string]want{anon: login, "applicant": denied, "owner": notFound})},
		{"POST", "/cameras/{id}/maintenance/orders", "/cameras/" + camA + "/maintenance/orders", func() url.Values { return url.Values{"detail": {"lens"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
				"admin": {http.StatusSeeOther, []string{"maintenance_open"}}, "operator": {http.StatusSeeOther, []string{"maintenance_open"}}})},
		// Without notes the order is refused as bad input once it is found; doing it is
		// TestSignAndMaintenancePages'.
		{"POST", "/maintenance/orders/{id}/done", "/maintenance/orders/" + orderA + "/done", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
				"admin": {http.StatusBadRequest, nil}, "operator": {http.StatusBadRequest, nil}})},
		{"GET", "/maintenance", "/maintenance", nil, staff},
		{"GET", "/trace", "/trace", nil, roles(denied, map[string]want{anon: login, "admin": {http.StatusOK, []string{"trace_read"}}, "auditor": {http.StatusOK, []string{"trace_read"}}})},
		{"GET", "/exports", "/exports", nil, staff},
		// A form without its file is answered before anything is read.
		{"POST", "/exports/verify", "/exports/verify", func() url.Values { return url.Values{} },
			roles(want{http.StatusBadRequest, nil}, map[string]want{anon: notLoggedIn, "applicant": denied})},
		{"GET", "/admin/users", "/admin/users", nil, admins},
		{"GET", "/admin/organisations", "/admin/organisations", nil, admins},
		{"POST", "/admin/users", "/admin/users", func() url.Values {
			seq++
			return url.Values{"username": {"new" + string(rune('a'+seq))}, "password": {password}, "role": {"auditor"}}
		}, adminPosts(want{http.StatusSeeOther, []string{"user_create"}})},
		{"POST", "/admin/users/{id}", "/admin/users/" + victim, func() url.Values {
			seq++
			return url.Values{"role": {"reviewer"}, "organisation_id": {""}, "password": {password + string(rune('a'+seq))}}
		}, adminPosts(want{http.StatusSeeOther, []string{"user_update"}})},
		{"POST", "/admin/organisations", "/admin/organisations", func() url.Values {
			seq++
			return url.Values{"name": {"Org " + string(rune('a'+seq))}, "kind": {"enterprise"}}
		}, adminPosts(want{http.StatusSeeOther, []string{"organisation_create"}})},
		{"POST", "/cameras/{id}/legal-basis", "/cameras/" + camA + "/legal-basis", func() url.Values {
			seq++
			return url.Values{"basis_id": {"state_secrets"}, "document_ref": {"decision " + string(rune('a'+seq))}}
		}, roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
			"admin": {http.StatusSeeOther, []string{"legal_basis_propose"}}, "operator": {http.StatusSeeOther, []string{"legal_basis_propose"}}})},
		// admin1 belongs to no public-security organisation: the form is refused, and traced.
		{"POST", "/cameras/{id}/legal-basis/approve", "/cameras/" + camA + "/legal-basis/approve", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusForbidden, []string{"legal_basis_approve:denied"}}})},
		{"POST", "/cameras/{id}/legal-basis/decline", "/cameras/" + camA + "/legal-basis/decline", func() url.Values { return url.Values{"note": {"no"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusForbidden, []string{"legal_basis_decline:denied"}}})},
		{"GET", "/consultations", "/consultations", nil, roles(ok, nil)},
		{"POST", "/consultations", "/consultations", func() url.Values {
			return url.Values{"title": {"Draft"}, "draft": {"Text"}, "deadline": {time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")}}
		}, adminPosts(want{http.StatusSeeOther, []string{"consultation_publish"}})},
		{"GET", "/consultations/{id}", "/consultations/" + cons.ID, nil, roles(ok, nil)},
		{"POST", "/consultations/{id}/opinions", "/consultations/" + cons.ID + "/opinions", func() url.Values {
			seq++
			return url.Values{"text": {"opinion " + strconv.Itoa(seq)}}
		}, roles(want{http.StatusCreated, []string{"consultation_opinion"}}, nil)},
		{"POST", "/consultations/receipt", "/consultations/receipt", func() url.Values { return url.Values{"receipt": {receipt.Code}} }, roles(ok, nil)},
		// An opinion that is not there: the police's form finds nothing, traced; the answering
		// itself is walked in TestConsultationPages.
		{"POST", "/consultations/{id}/opinions/{oid}/answer", "/consultations/" + cons.ID + "/opinions/" + strings.Repeat("0", 32) + "/answer",
			func() url.Values { return url.Values{"verdict": {"adopted"}, "answer": {"yes"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": notFound, "reviewer": notFound})},
		// Before the deadline the final is refused, and traced.
		{"POST", "/consultations/{id}/final", "/consultations/" + cons.ID + "/final", func() url.Values { return url.Values{"final": {"F"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusConflict, []string{"consultation_final:denied"}}})},
		// Every look at the coverage report and at a duplicate check is traced; the owner's
		// organisation does not own camA.
		{"GET", "/coverage", "/coverage", nil, roles(want{http.StatusOK, []string{"coverage_report"}}, map[string]want{anon: login, "applicant": denied})},
		{"GET", "/cameras/{id}/duplicates", "/cameras/" + camA + "/duplicates", nil, roles(want{http.StatusOK, []string{"duplicate_check"}},
			map[string]want{anon: login, "applicant": denied, "owner": notFound})},
		// Neither admin1 nor rev1 belongs to a public-security organisation: refused, and traced;
		// the page that says so shows the check again, a look traced too.
		{"POST", "/cameras/{id}/construction-approval", "/cameras/" + camA + "/construction-approval", func() url.Values { return url.Values{"decision": {"approve"}} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusForbidden, []string{"construction_decision:denied", "duplicate_check"}},
				"reviewer": {http.StatusForbidden, []string{"construction_decision:denied", "duplicate_check"}}})},
		// Cameras managed in the UI (cameramgmt.go): the managers of the API's camera routes;
		// the owner's organisation does not own camM. Decommissioning unconfirmed is answered
		// with the confirmation step again; doing it is TestCameraAddEditDecommission's.
		{"GET", "/cameras/new", "/cameras/new", nil, roles(denied, map[string]want{anon: login, "admin": ok, "operator": ok, "owner": ok})},
		{"POST", "/cameras/new", "/cameras/new", func() url.Values {
			seq++
			return cameraForm("New "+strconv.Itoa(seq), func(f url.Values) { f.Set("organisation_id", orgA) })
		}, roles(denied, map[string]want{anon: notLoggedIn, "admin": created, "operator": created, "owner": created})},
		{"GET", "/cameras/{id}/edit", "/cameras/" + camM + "/edit", nil, managersPage},
		{"POST", "/cameras/{id}/edit", "/cameras/" + camM + "/edit", func() url.Values {
			seq++
			return cameraForm("Gate M"+strconv.Itoa(seq), func(f url.Values) { f.Del("source_url") })
		}, roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
			"admin": {http.StatusSeeOther, []string{"camera_update"}}, "operator": {http.StatusSeeOther, []string{"camera_update"}}})},
		{"GET", "/cameras/{id}/decommission", "/cameras/" + camM + "/decommission", nil, managersPage},
		{"POST", "/cameras/{id}/decommission", "/cameras/" + camM + "/decommission", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": notFound,
				"admin": {http.StatusBadRequest, nil}, "operator": {http.StatusBadRequest, nil}})},
		{"GET", "/cameras/import", "/cameras/import", nil, roles(denied, map[string]want{anon: login, "admin": ok, "operator": ok, "owner": ok})},
		// A form without its file is answered before anything is read.
		{"POST", "/cameras/import", "/cameras/import", func() url.Values { return url.Values{} },
			roles(denied, map[string]want{anon: notLoggedIn, "admin": {http.StatusBadRequest, nil}, "operator": {http.StatusBadRequest, nil},
				"owner": {http.StatusBadRequest, nil}})},
		// Each manager opens a work order on camM; the owner's try finds no such camera, traced.
		{"POST", "/cameras/bulk", "/cameras/bulk", func() url.Values { return url.Values{"action": {"maintenance"}, "camera_id": {camM}} },
			roles(denied, map[string]want{anon: notLoggedIn, "owner": {http.StatusOK, []string{"access_denied:denied"}},
				"admin": {http.StatusOK, []string{"maintenance_open"}}, "operator": {http.StatusOK, []string{"maintenance_open"}}})},
		{"GET", "/cameras/tree", "/cameras/tree", nil, staff},
		// Logging out as each role last would end the sessions; a logout is covered elsewhere.
		{"POST", "/login", "/login", func() url.Values {
			seq++ // a new name each time, below the throttle
			return url.Values{"username": {"nobody" + string(rune('a'+seq))}, "password": {"x"}}
		},
			roles(want{http.StatusUnauthorized, []string{"login_failed:denied"}}, nil)},
	}

	tested := map[string]bool{"POST /logout": true}
	for _, r := range rows {
		tested[r.method+" "+r.pattern] = true
		for role, w := range r.want {
			t.Run(r.method+" "+r.path+" as "+role, func(t *testing.T) {
				b := browsers[role]
				n := s.size()
				var p resp
				if r.method == "GET" {
					p = b.get(r.path)
				} else {
					p = b.post(r.path, r.form())
				}
				if p.status != w.status {
					t.Fatalf("%s %s as %s = %d; want %d\n%.400s", r.method, r.path, role, p.status, w.status, p.body)
				}
				if got := actions(s.entriesSince(n)); !slices.Equal(got, w.actions) {
					t.Errorf("%s %s as %s left %v in the trail; want %v", r.method, r.path, role, got, w.actions)
				}
			})
		}
	}
	for _, p := range s.ui.routes() {
		if !tested[p.Pattern] {
			t.Errorf("page %q is not in the authorization table", p.Pattern)
		}
	}
}

func TestOperatorSeesOnlyItsOrganisation(t *testing.T) {
	s := newStack(t)
	orgA := s.addOrg("PSB", registry.KindDepartment, "public_security")
	orgB := s.addOrg("Grand Hotel", registry.KindEstablishment, "hotel")
	s.addUser("op1", auth.RoleOperator, orgA)
	camA := s.addCamera(orgA, "Square North", 27.83, 113.15, nil)
	// A hotel's own camera is privately bought: shared only by its owner's grant. (A
	// government-invested one would be shared with public security by the pack's default.)
	camB := s.addCamera(orgB, "Hotel Lobby East", 27.84, 113.16, func(in *registry.CameraInput) {
		inv := registry.InvestmentPrivate
		in.Investment = &inv
	})
	b := s.loggedIn("op1")

	list := b.get("/cameras")
	if list.status != http.StatusOK {
		t.Fatalf("GET /cameras = %d", list.status)
	}
	mustContain(t, "operator's camera list", list.body, camA, "Square North")
	mustNotContain(t, "operator's camera list", list.body, camB, "Hotel Lobby East", "Grand Hotel", orgB)

	filtered := b.get("/cameras?organisation_id=" + orgB)
	mustNotContain(t, "operator's list filtered to another organisation", filtered.body, camB, "Hotel Lobby East")

	n := s.size()
	if p := b.get("/cameras/" + camB); p.status != http.StatusNotFound {
		t.Errorf("operator GET /cameras/{other organisation's} = %d; want 404", p.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"access_denied:denied"}) {
		t.Errorf("trail after the look at another organisation's camera = %v; want [access_denied:denied]", got)
	}
	comp := b.get("/compliance")
	mustNotContain(t, "operator's compliance dashboard", comp.body, camB, "Hotel Lobby East", "Grand Hotel")
}

func TestCameraPage(t *testing.T) {
	s := newStack(t)
	org := s.addOrg("PSB", registry.KindDepartment, "public_security")
	s.addUser("admin1", auth.RoleAdmin, "")
	s.addUser("aud1", auth.RoleAuditor, "")
	active := registry.StatusActive
	cam := s.addCamera(org, "Station Square", 27.83, 113.15, func(in *registry.CameraInput) { in.Status = &active })

	p := s.loggedIn("admin1").get("/cameras/" + cam)
	if p.status != http.StatusOK {
		t.Fatalf("GET /cameras/{id} = %d", p.status)
	}
	mustContain(t, "camera page", p.body, "Station Square", "PSB", "10.0.0.9", `id="footage"`, `id="live-form"`,
		"not_networked", "no_sign", `class="fov fov-active"`)
	mustNotContain(t, "camera page", p.body, "s3cr3t-pw")

	a := s.loggedIn("aud1").get("/cameras/" + cam)
	mustContain(t, "auditor's camera page", a.body, `id="no-footage"`)
	mustNotContain(t, "auditor's camera page", a.body, `id="footage"`, "s3cr3t-pw")

	if p := s.loggedIn("admin1").get("/cameras/not-an-id"); p.status != http.StatusNotFound {
		t.Errorf("GET /cameras/not-an-id = %d; want 404", p.status)
	}
}

func TestLandingIsPublicAndShowsNoCamera(t *testing.T) {
	s := newStack(t)
	org := s.addOrg("PSB", registry.KindDepartment, "public_security")
	active := registry.StatusActive
	var ids []string
	for i, name := range []string{"Secret Camera One", "Secret Camera Two"} {
		// Back to back on one pole: the second would otherwise duplicate the first (REG-3).
		bearing := 90.0 + 180*float64(i)
		ids = append(ids, s.addCamera(org, name, 27.8312345, 113.1512345, func(in *registry.CameraInput) { in.Status, in.Bearing = &active, &bearing }))
	}
	private := registry.InvestmentPrivate
	ids = append(ids, s.addCamera(org, "Secret Camera Three", 27.8312345, 113.1512345, func(in *registry.CameraInput) { in.Investment = &private }))

	b := s.browser()
	p := b.get("/")
	if p.status != http.StatusOK {
		t.Fatalf("GET / = %d", p.status)
	}
	mustNotContain(t, "landing page", p.body, append(ids, "Secret Camera", "27.831", "113.151", "10.0.0.9", org, "PSB")...)
	mustContain(t, "landing page", p.body,
		s.reg.Pack().Version(), "株洲市公共安全视频图像信息系统管理条例", "旅馆客房", // the pack, in Chinese by default
		"已登记摄像机 3 台", "<svg class=\"chart\"", "未联网", // figures and findings by kind
		strings.ReplaceAll(s.trail.VerifierKey(), "+", "&#43;"), "/api/v1/trace/checkpoint", "civicam trace verify", `href="/login"`)
	cp, err := s.trail.Latest(setupCtx)
	if err != nil {
		t.Fatal(err)
	}
	firstLine, _, _ := strings.Cut(strings.ReplaceAll(string(cp), "+", "&#43;"), "\n")
	mustContain(t, "landing page", p.body, firstLine)
	// Counts: 2 active and 1 planned, 2 government and 1 private: the bars carry their values.
	for _, want := range []string{"在用: 2", "规划中: 1", "政府投资: 2", "非政府投资: 1"} {
		mustContain(t, "landing page's charts", p.body, want)
	}
}

func TestTraceViewerTracesItsRead(t *testing.T) {
	s := newStack(t)
	s.addUser("aud1", auth.RoleAuditor, "")
	s.addUser("night.op9", auth.RoleAdmin, "")
	s.loggedIn("night.op9")
	s.browser().post("/login", url.Values{"username": {"night.op9"}, "password": {"wrong password"}})
	b := s.loggedIn("aud1")

	n := s.size()
	p := b.get("/trace")
	if p.status != http.StatusOK {
		t.Fatalf("GET /trace = %d", p.status)
	}
	es := s.entriesSince(n)
	if len(es) != 1 || es[0].Action != trace.ActionTraceRead || es[0].Actor.Username != "aud1" || es[0].Outcome != trace.Allowed {
		t.Fatalf("trail after GET /trace = %+v; want one trace_read by aud1", es)
	}
	// The page shows its own read: it was durable before the query ran.
	mustContain(t, "trace viewer", p.body, `data-action="trace_read"`, `data-action="login"`, `data-action="login_failed"`, "night.op9")

	filtered := b.get("/trace?action=login_failed&outcome=denied")
	mustContain(t, "filtered trace viewer", filtered.body, `data-action="login_failed"`)
	mustNotContain(t, "filtered trace viewer", filtered.body, `data-action="login"`, `data-action="trace_read"`)
	if got := strings.Count(filtered.body, `class="entry"`); got != 1 {
		t.Errorf("entries for action=login_failed = %d; want 1", got)
	}
	byActor := b.get("/trace?actor=night.op9&action=login")
	if got := strings.Count(byActor.body, `class="entry"`); got != 1 {
		t.Errorf("entries for actor=night.op9, action=login = %d; want 1", got)
	}
	future := b.get("/trace?since=2999-01-01T00:00")
	if got := strings.Count(future.body, `class="entry"`); got != 0 {
		t.Errorf("entries since 2999 = %d; want 0", got)
	}
	for _, bad := range []string{"?action=nonsense", "?outcome=maybe", "?camera_id=../x", "?since=yesterday", "?cursor=-1"} {
		if p := b.get("/trace" + bad); p.status != http.StatusBadRequest {
			t.Errorf("GET /trace%s = %d; want 400", bad, p.status)
		}
	}
	// The CSV link is the API's, and the session cookie opens it.
	csvURL := regexp.MustCompile(`id="trace-csv"|href="(/api/v1/trace\?[^"]+)"`).FindAllStringSubmatch(p.body, -1)
	var link string
	for _, m := range csvURL {
		if m[1] != "" {
			link = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if link == "" {
		t.Fatal("no CSV link on the trace viewer")
	}
	csv := b.get(link)
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csv.body, "login_failed") {
		t.Errorf("GET %s = %d %q; want 200 text/csv with the entries", link, csv.status, csv.res.Header.Get("Content-Type"))
	}

	// Fail closed: when the read cannot be traced, nothing of the trail is shown. The
	// username has a dot so that no random CSRF token on the page can contain it.
	s.tracer.Fail.Store(true)
	defer s.tracer.Fail.Store(false)
	closed := b.get("/trace")
	if closed.status != http.StatusServiceUnavailable {
		t.Errorf("GET /trace with the trail down = %d; want 503", closed.status)
	}
	mustNotContain(t, "trace viewer with the trail down", closed.body, `class="entry"`, "night.op9")
}

func TestTracePaging(t *testing.T) {
	s := newStack(t)
	s.addUser("aud1", auth.RoleAuditor, "")
	for range tracePageSize + 5 {
		s.browser().post("/login", url.Values{"username": {"ghost"}, "password": {"nope"}})
	}
	b := s.loggedIn("aud1")
	first := b.get("/trace?action=login_failed")
	if got := strings.Count(first.body, `class="entry"`); got != tracePageSize {
		t.Fatalf("first page has %d entries; want %d", got, tracePageSize)
	}
	m := regexp.MustCompile(`href="([^"]+)" id="trace-next"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next-page link on a full page")
	}
	second := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if got := strings.Count(second.body, `class="entry"`); got != 5 {
		t.Errorf("second page has %d entries; want 5", got)
	}
	if strings.Contains(second.body, `id="trace-next"`) {
		t.Error("the last page links to a next page")
	}
}

func TestComplianceDashboard(t *testing.T) {
	s := newStack(t)
	orgA := s.addOrg("PSB", registry.KindDepartment, "public_security")
	orgB := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("admin1", auth.RoleAdmin, "")
	active := registry.StatusActive
	s.addCamera(orgA, "A1", 27.83, 113.15, func(in *registry.CameraInput) { in.Status = &active })
	s.addCamera(orgB, "B1", 27.84, 113.16, func(in *registry.CameraInput) { in.Status = &active })
	b := s.loggedIn("admin1")
	p := b.get("/compliance")
	if p.status != http.StatusOK {
		t.Fatalf("GET /compliance = %d", p.status)
	}
	// Both cameras are government, active, not networked and without a sign: 2 of each code.
	mustContain(t, "compliance dashboard", p.body, "未联网: 2", "未设提示标识: 2", "PSB: 2", "Hotel: 2", `href="/api/v1/compliance?format=csv"`)
	csv := b.get("/api/v1/compliance?format=csv")
	if csv.status != http.StatusOK || !strings.Contains(csv.body, "not_networked") {
		t.Errorf("compliance CSV with the cookie = %d %.200s; want 200 with findings", csv.status, csv.body)
	}
	one := b.get("/compliance?organisation_id=" + orgB)
	mustContain(t, "compliance for one organisation", one.body, "Hotel: 2", `href="/api/v1/compliance?format=csv&amp;organisation_id=`+orgB)
	mustNotContain(t, "compliance for one organisation", one.body, "PSB: 2")
}

func TestAdminForms(t *testing.T) {
	s := newStack(t)
	s.addUser("admin1", auth.RoleAdmin, "")
	b := s.loggedIn("admin1")

	// Organisations: the registry's validation, shown on the form.
	if p := b.post("/admin/organisations", url.Values{"name": {"Water Bureau"}, "kind": {"department"}, "department_type": {"water_conservancy"}, "establishment_type": {"hotel"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create organisation = %d\n%.500s", p.status, p.body)
	}
	p := b.post("/admin/organisations", url.Values{"name": {"No Type"}, "kind": {"department"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "department_type") {
		t.Errorf("organisation without a department type = %d; want 400 naming department_type", p.status)
	}
	orgs, _ := s.reg.Organisations(setupCtx)
	if len(orgs) != 1 || orgs[0].Name != "Water Bureau" || orgs[0].DepartmentType != "water_conservancy" || orgs[0].EstablishmentType != "" {
		t.Fatalf("organisations = %+v; want only Water Bureau (water_conservancy)", orgs)
	}
	org := orgs[0].ID
	mustContain(t, "organisation list", b.get("/admin/organisations").body, "Water Bureau", "水利")

	// Users: the API's CreateUser validation.
	for _, c := range []struct {
		name string
		form url.Values
		want int
		msg  string
	}{
		{"operator without organisation", url.Values{"username": {"op1"}, "password": {password}, "role": {"operator"}}, http.StatusBadRequest, "organisation_id"},
		{"short password", url.Values{"username": {"op1"}, "password": {"short"}, "role": {"auditor"}}, http.StatusBadRequest, "password"},
		{"bad username", url.Values{"username": {"a b"}, "password": {password}, "role": {"auditor"}}, http.StatusBadRequest, "username"},
		{"operator", url.Values{"username": {"op1"}, "password": {password}, "role": {"operator"}, "organisation_id": {org}}, http.StatusSeeOther, ""},
		{"taken username", url.Values{"username": {"op1"}, "password": {password}, "role": {"auditor"}}, http.StatusConflict, "该名称已被使用"},
	} {
		p := b.post("/admin/users", c.form)
		if p.status != c.want || !strings.Contains(p.body, c.msg) {
			t.Errorf("create user (%s) = %d; want %d with %q\n%.300s", c.name, p.status, c.want, c.msg, p.body)
		}
	}
	op := s.loggedIn("op1")
	if p := op.get("/cameras"); p.status != http.StatusOK {
		t.Fatalf("new operator GET /cameras = %d", p.status)
	}
	u, err := s.db.UserByUsername(setupCtx, "op1")
	if err != nil {
		t.Fatal(err)
	}
	// Changing the role to one that needs an organisation, with none, is refused.
	if p := b.post("/admin/users/"+u.ID, url.Values{"role": {"owner"}, "organisation_id": {""}}); p.status != http.StatusBadRequest {
		t.Errorf("owner without organisation = %d; want 400", p.status)
	}
	// Making it an auditor ends its sessions at once: its next page asks it to log in.
	n := s.size()
	if p := b.post("/admin/users/"+u.ID, url.Values{"role": {"auditor"}, "organisation_id": {""}}); p.status != http.StatusSeeOther {
		t.Fatalf("change role = %d", p.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"user_update"}) {
		t.Errorf("trail after the role change = %v; want [user_update]", got)
	}
	if p := op.get("/cameras"); p.status != http.StatusSeeOther {
		t.Errorf("old session after the role change: GET /cameras = %d; want 303 to log in", p.status)
	}
	// Disable: the account can no longer log in.
	if p := b.post("/admin/users/"+u.ID, url.Values{"role": {"auditor"}, "organisation_id": {""}, "disabled": {"on"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable = %d", p.status)
	}
	if p := s.browser().post("/login", url.Values{"username": {"op1"}, "password": {password}}); p.status != http.StatusUnauthorized {
		t.Errorf("disabled user's login = %d; want 401", p.status)
	}
	if got, _ := s.db.User(setupCtx, u.ID); !got.Disabled || got.Role != auth.RoleAuditor || got.OrganisationID != "" {
		t.Errorf("user after the changes = %+v; want a disabled auditor without organisation", got)
	}
}

func TestLanguage(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		name, config, accept, cookie string
		want                         string
	}{
		{"default", "", "", "", "zh"},
		{"browser asks English", "", "en-GB,en;q=0.9", "", "en"},
		{"browser prefers Chinese", "", "zh-CN,zh;q=0.9,en;q=0.8", "", "zh"},
		{"browser's languages by quality", "", "fr;q=1, en;q=0.5, zh;q=0.3", "", "en"},
		{"browser asks neither", "", "fr-FR", "", "zh"},
		{"configured English beats the browser", "en", "zh-CN", "", "en"},
		{"the visitor's switch beats the configuration", "en", "en", "zh", "zh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.ui.cfg.Language = c.config
			defer func() { s.ui.cfg.Language = "" }()
			req, _ := http.NewRequest("GET", s.srv.URL+"/login", nil)
			if c.accept != "" {
				req.Header.Set("Accept-Language", c.accept)
			}
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: LangCookie, Value: c.cookie})
			}
			p := s.browser().do(req)
			wantLang := map[string]string{"zh": `lang="zh-CN"`, "en": `lang="en"`}[c.want]
			wantText := map[string]string{"zh": "用户名", "en": "Username"}[c.want]
			mustContain(t, "login page", p.body, "<html "+wantLang+">", wantText)
		})
	}

	t.Run("switch", func(t *testing.T) {
		b := s.browser()
		mustContain(t, "default page", b.get("/").body, `href="/lang/en?next=%2F"`)
		p := b.get("/lang/en?next=" + url.QueryEscape("/login?next=/trace"))
		if p.status != http.StatusSeeOther || p.res.Header.Get("Location") != "/login?next=/trace" {
			t.Fatalf("GET /lang/en = %d → %q; want 303 back to the page", p.status, p.res.Header.Get("Location"))
		}
		en := b.get("/login")
		mustContain(t, "page after switching to English", en.body, "Username", `<html lang="en">`, `href="/lang/zh?next=%2Flogin"`)
		if p := b.get("/lang/en?next=//evil.example/x"); p.res.Header.Get("Location") != "/" {
			t.Errorf("switch with an off-site next redirects to %q; want /", p.res.Header.Get("Location"))
		}
		if p := b.get("/lang/fr"); p.status != http.StatusNotFound {
			t.Errorf("GET /lang/fr = %d; want 404", p.status)
		}
	})
}

func TestNotFoundAndHeaders(t *testing.T) {
	s := newStack(t)
	p := s.browser().get("/no/such/page")
	if p.status != http.StatusNotFound {
		t.Errorf("GET /no/such/page = %d; want 404", p.status)
	}
	csp := p.res.Header.Get("Content-Security-Policy")
	mustContain(t, "CSP", csp, "default-src 'self'", "script-src 'self'", "frame-ancestors 'none'")
	css := s.browser().get("/static/style.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET /static/style.css = %d %q; want 200 text/css", css.status, css.res.Header.Get("Content-Type"))
	}
}
