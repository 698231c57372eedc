package webui

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// newSharingStack is newStack with the sharing pages: the UI takes the sharing service the API
// serves, as the app wires it.
func newSharingStack(t *testing.T) *stack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	if st.Sharing == nil {
		t.Fatal("the stack built no sharing service")
	}
	return serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Sharing = st.Sharing }})
}

// sharingWorld is three organisations: A (public security, operator op1, camera camA), B (a
// hotel, owner owner1, camera camB) and C (an enterprise, operator opC), with an admin, a
// reviewer, an auditor and an applicant.
type sharingWorld struct {
	s                *stack
	orgA, orgB, orgC string
	camA, camB       string
	users            map[string]*auth.User // by username
}

func newSharingWorld(t *testing.T) *sharingWorld {
	t.Helper()
	s := newSharingStack(t)
	w := &sharingWorld{s: s, users: map[string]*auth.User{}}
	w.orgA = s.addOrg("PSB", registry.KindDepartment, "public_security")
	w.orgB = s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	w.orgC = s.addOrg("Shop Co", registry.KindEnterprise, "")
	for name, ro := range map[string]struct {
		role auth.Role
		org  string
	}{"admin1": {auth.RoleAdmin, ""}, "op1": {auth.RoleOperator, w.orgA}, "owner1": {auth.RoleOwner, w.orgB},
		"opC": {auth.RoleOperator, w.orgC}, "rev1": {auth.RoleReviewer, ""}, "aud1": {auth.RoleAuditor, ""}, "app1": {auth.RoleApplicant, ""}} {
		id := s.addUser(name, ro.role, ro.org)
		w.users[name] = &auth.User{ID: id, Username: name, Role: ro.role, OrganisationID: ro.org}
	}
	w.camA = s.addCamera(w.orgA, "Gate A", 27.83, 113.15, nil)
	w.camB = s.addCamera(w.orgB, "Lobby B", 27.84, 113.16, func(in *registry.CameraInput) {
		inv := registry.InvestmentPrivate
		in.Investment = &inv
	})
	return w
}

// grant makes a grant directly through the service, as user by.
func (w *sharingWorld) grant(by string, cams []string, grantee string, scopes ...string) *sharing.Grant {
	w.s.t.Helper()
	g, err := w.s.sharing.CreateGrant(setupCtx, w.users[by], sharing.GrantInput{CameraIDs: cams,
		GranteeOrganisationID: grantee, Scopes: scopes, Purpose: "fixture", StartsAt: time.Now().Add(-time.Hour)})
	if err != nil {
		w.s.t.Fatalf("CreateGrant by %s = %v", by, err)
	}
	return g
}

// apiGrants is what the API answers the browser's GET /api/v1/grants (its session cookie
// authenticates it).
func apiGrants(t *testing.T, b *browser) []sharing.Grant {
	t.Helper()
	p := b.get("/api/v1/grants")
	if p.status != http.StatusOK {
		t.Fatalf("GET /api/v1/grants = %d; want 200\n%s", p.status, p.body)
	}
	var out struct{ Grants []sharing.Grant }
	if err := json.Unmarshal([]byte(p.body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Grants
}

func grantForm(cams []string, grantee, purpose string, scopes ...string) url.Values {
	return url.Values{"camera_id": cams, "grantee_organisation_id": {grantee}, "scope": scopes, "purpose": {purpose},
		"starts_at": {time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04")}, "terms_version": {"1"}}
}

// TestSharingPagesByRole is the sharing pages' authorization table: each page × each role, with
// the trail entries each request must leave.
func TestSharingPagesByRole(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	browsers := map[string]*browser{anon: s.browser()}
	for role, name := range map[string]string{"admin": "admin1", "operator": "op1", "owner": "owner1", "reviewer": "rev1", "auditor": "aud1", "applicant": "app1"} {
		browsers[role] = s.loggedIn(name)
	}
	// A grant for each manager to revoke: its own organisation's.
	toRevoke := map[string]string{
		"admin":    w.grant("admin1", []string{w.camA}, w.orgC, sharing.ScopeLive).ID,
		"operator": w.grant("op1", []string{w.camA}, w.orgB, sharing.ScopePlayback).ID,
		"owner":    w.grant("owner1", []string{w.camB}, w.orgA, sharing.ScopeLive).ID,
	}
	someGrant := toRevoke["operator"]
	cams := map[string]string{"admin": w.camA, "operator": w.camA, "owner": w.camB}
	grantees := map[string]string{"admin": w.orgB, "operator": w.orgC, "owner": w.orgC}

	type want struct {
		status  int
		actions []string
	}
	login := want{http.StatusSeeOther, []string{"access_denied:denied"}}
	denied := want{http.StatusForbidden, []string{"access_denied:denied"}}
	notLoggedIn := want{http.StatusUnauthorized, []string{"access_denied:denied"}}
	managers := func(get bool, done want) map[string]want {
		m := map[string]want{"reviewer": denied, "auditor": denied, "applicant": denied}
		if get {
			m[anon] = login
		} else {
			m[anon] = notLoggedIn
		}
		for _, r := range []string{"admin", "operator", "owner"} {
			m[r] = done
		}
		return m
	}
	ok := want{http.StatusOK, nil}
	seq := 0
	rows := []struct {
		method, pattern string
		path            func(role string) string
		form            func(role string) url.Values
		want            map[string]want
	}{
		{"GET", "/sharing/grants", func(string) string { return "/sharing/grants" }, nil, managers(true, ok)},
		{"POST", "/sharing/grants", func(string) string { return "/sharing/grants" }, func(role string) url.Values {
			return grantForm([]string{cams[role]}, grantees[role], "table", sharing.ScopeLive)
		}, managers(false, want{http.StatusSeeOther, []string{"grant_create"}})},
		{"POST", "/sharing/grants/{id}/revoke", func(role string) string {
			if id, ok := toRevoke[role]; ok {
				return "/sharing/grants/" + id + "/revoke"
			}
			return "/sharing/grants/" + someGrant + "/revoke"
		}, func(string) url.Values { return url.Values{} }, managers(false, want{http.StatusSeeOther, []string{"grant_revoke"}})},
		{"GET", "/sharing/groups", func(string) string { return "/sharing/groups" }, nil, managers(true, ok)},
		{"POST", "/sharing/groups", func(string) string { return "/sharing/groups" }, func(role string) url.Values {
			seq++
			f := url.Values{"name": {"group " + strconv.Itoa(seq)}, "kind": {sharing.GroupOrganisation}}
			if role == "admin" {
				f.Set("organisation_id", w.orgA)
			}
			return f
		}, managers(false, want{http.StatusSeeOther, []string{"group_create"}})},
		// Admins name the owner; opening the page traces the read as the API does.
		{"GET", "/sharing/accesses", func(role string) string {
			if role == "admin" {
				return "/sharing/accesses?organisation_id=" + w.orgA
			}
			return "/sharing/accesses"
		}, nil, managers(true, want{http.StatusOK, []string{"trace_read"}})},
	}
	tested := map[string]bool{}
	for _, r := range rows {
		tested[r.method+" "+r.pattern] = true
		for role, wt := range r.want {
			t.Run(r.method+" "+r.pattern+" as "+role, func(t *testing.T) {
				b := browsers[role]
				n := s.size()
				var p resp
				if r.method == "GET" {
					p = b.get(r.path(role))
				} else {
					p = b.post(r.path(role), r.form(role))
				}
				if p.status != wt.status {
					t.Fatalf("%s %s as %s = %d; want %d\n%.600s", r.method, r.path(role), role, p.status, wt.status, p.body)
				}
				if got := actions(s.entriesSince(n)); !slices.Equal(got, wt.actions) {
					t.Errorf("%s %s as %s left %v in the trail; want %v", r.method, r.path(role), role, got, wt.actions)
				}
			})
		}
	}
	for _, p := range s.ui.sharingRoutes() {
		if !tested[p.Pattern] {
			t.Errorf("page %q is not in the authorization table", p.Pattern)
		}
	}

	// The menu offers the pages to the managers only.
	for role, b := range browsers {
		body := b.get("/").body
		has := strings.Contains(body, `href="/sharing/grants"`)
		if want := role == "admin" || role == "operator" || role == "owner"; has != want {
			t.Errorf("menu for %s links the sharing page: %v; want %v", role, has, want)
		}
	}
}

// TestSharingPostsNeedCSRF: no change without the double-submitted token.
func TestSharingPostsNeedCSRF(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	op := s.loggedIn("op1")
	g := w.grant("op1", []string{w.camA}, w.orgB, sharing.ScopeLive)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/sharing/grants", grantForm([]string{w.camA}, w.orgC, "no token", sharing.ScopeLive)},
		{"/sharing/grants/" + g.ID + "/revoke", url.Values{}},
		{"/sharing/groups", url.Values{"name": {"no token"}, "kind": {sharing.GroupOrganisation}}},
	}
	for _, p := range posts {
		for name, token := range map[string]string{"missing": "", "wrong": "not-the-cookie"} {
			t.Run(p.path+" "+name, func(t *testing.T) {
				f := url.Values{}
				for k, v := range p.form {
					f[k] = v
				}
				if token == "" {
					f.Set("csrf_token", "") // present but empty: post() must not fill it in
				} else {
					f.Set("csrf_token", token)
				}
				if r := op.post(p.path, f); r.status != http.StatusForbidden {
					t.Errorf("POST %s with %s token = %d; want 403", p.path, name, r.status)
				}
			})
		}
	}
	gs := apiGrants(t, op)
	if len(gs) != 1 || !gs[0].RevokedAt.IsZero() {
		t.Errorf("after refused posts the API shows %+v; want the one unrevoked grant", gs)
	}
	groups, err := s.sharing.Groups(context.Background(), w.users["op1"])
	if err != nil || len(groups) != 0 {
		t.Errorf("Groups after refused posts = %v, %v; want none", groups, err)
	}
}

// TestGrantFormsReachTheAPI: a grant made and revoked through the forms is what the API shows.
func TestGrantFormsReachTheAPI(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	op := s.loggedIn("op1")

	page := op.get("/sharing/grants")
	terms, err := s.sharing.Terms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "grants page", page.body, `name="terms_version" value="`+strconv.Itoa(terms.Version)+`"`, `value="`+w.camA+`"`)
	mustNotContain(t, "grants page", page.body, `value="`+w.camB+`"`) // not op1's to grant

	// Refusals are shown on the form and change nothing.
	for name, c := range map[string]struct {
		form   url.Values
		status int
	}{
		"no purpose": {grantForm([]string{w.camA}, w.orgB, "", sharing.ScopeLive), http.StatusBadRequest},
		"no scope":   {grantForm([]string{w.camA}, w.orgB, "x"), http.StatusBadRequest},
		"terms changed": {func() url.Values {
			f := grantForm([]string{w.camA}, w.orgB, "x", "live")
			f.Set("terms_version", "99")
			return f
		}(), http.StatusConflict},
		"emergency hotel": {grantForm([]string{w.camA}, w.orgB, "x", sharing.ScopeEmergency), http.StatusBadRequest},
	} {
		if r := op.post("/sharing/grants", c.form); r.status != c.status || !strings.Contains(r.body, `id="form-error"`) {
			t.Errorf("grant form with %s = %d; want %d with the error on the form", name, r.status, c.status)
		}
	}
	// Another organisation's camera is out of reach: not found, traced as denied.
	n := s.size()
	if r := op.post("/sharing/grants", grantForm([]string{w.camB}, w.orgC, "x", "live")); r.status != http.StatusNotFound {
		t.Errorf("grant over another organisation's camera = %d; want 404", r.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"access_denied:denied"}) {
		t.Errorf("grant over another's camera left %v; want [access_denied:denied]", got)
	}
	if gs := apiGrants(t, op); len(gs) != 0 {
		t.Fatalf("after refusals the API shows %d grants; want 0", len(gs))
	}

	end := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
	f := grantForm([]string{w.camA}, w.orgB, "joint patrol of the gate", sharing.ScopeLive, sharing.ScopePlayback)
	f.Set("ends_at", end.Format("2006-01-02T15:04"))
	if r := op.post("/sharing/grants", f); r.status != http.StatusSeeOther || r.res.Header.Get("Location") != "/sharing/grants?done=created" {
		t.Fatalf("grant form = %d → %q; want 303 → /sharing/grants?done=created\n%.500s", r.status, r.res.Header.Get("Location"), r.body)
	}
	gs := apiGrants(t, op)
	if len(gs) != 1 {
		t.Fatalf("API shows %d grants; want 1", len(gs))
	}
	g := gs[0]
	if g.OwnerOrganisationID != w.orgA || g.GranteeOrganisationID != w.orgB || !slices.Equal(g.CameraIDs, []string{w.camA}) ||
		!slices.Equal(g.Scopes, []string{"live", "playback"}) || g.Purpose != "joint patrol of the gate" || !g.EndsAt.Equal(end) ||
		g.GrantedBy != w.users["op1"].ID || g.TermsVersion != terms.Version || !g.RevokedAt.IsZero() {
		t.Errorf("API grant = %+v; want op1's live+playback grant of camA to B until %v under terms %d", g, end, terms.Version)
	}
	// The grantee sees the grant it received, without a revoke button.
	recv := s.loggedIn("owner1").get("/sharing/grants")
	mustContain(t, "grantee's page", recv.body, `data-grant="`+g.ID+`"`, "joint patrol of the gate")
	mustNotContain(t, "grantee's page", recv.body, "/sharing/grants/"+g.ID+"/revoke")
	// The grantee cannot revoke it either.
	if r := s.loggedIn("owner1").post("/sharing/grants/"+g.ID+"/revoke", nil); r.status != http.StatusNotFound {
		t.Errorf("grantee revoking = %d; want 404", r.status)
	}

	mine := op.get("/sharing/grants")
	mustContain(t, "grantor's page", mine.body, "/sharing/grants/"+g.ID+"/revoke")
	if r := op.post("/sharing/grants/"+g.ID+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke form = %d; want 303\n%.500s", r.status, r.body)
	}
	gs = apiGrants(t, op)
	if len(gs) != 1 || gs[0].RevokedAt.IsZero() || gs[0].RevokedBy != w.users["op1"].ID {
		t.Errorf("after the revoke form the API shows %+v; want the grant revoked by op1", gs)
	}
	after := op.get("/sharing/grants")
	mustNotContain(t, "page after revoke", after.body, "/sharing/grants/"+g.ID+"/revoke")
	mustContain(t, "page after revoke", after.body, "status-decommissioned")
}

// TestGroupForm: a group made through the form is the API's, and feeds the grant form.
func TestGroupForm(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	owner := s.loggedIn("owner1")
	if r := owner.post("/sharing/groups", url.Values{"name": {"picked lobby"}, "kind": {sharing.GroupPicked}, "camera_id": {w.camB}}); r.status != http.StatusSeeOther {
		t.Fatalf("group form = %d; want 303\n%.500s", r.status, r.body)
	}
	if r := owner.post("/sharing/groups", url.Values{"name": {"bad"}, "kind": {sharing.GroupPicked}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="form-error"`) {
		t.Errorf("picked group without cameras = %d; want 400 on the form", r.status)
	}
	p := owner.get("/api/v1/groups")
	var out struct{ Groups []sharing.Group }
	if err := json.Unmarshal([]byte(p.body), &out); err != nil || len(out.Groups) != 1 {
		t.Fatalf("API groups = %s (%v); want one", p.body, err)
	}
	grp := out.Groups[0]
	if grp.Name != "picked lobby" || grp.Kind != sharing.GroupPicked || !slices.Equal(grp.CameraIDs, []string{w.camB}) || grp.OrganisationID != w.orgB {
		t.Errorf("API group = %+v; want B's picked group of camB", grp)
	}
	mustContain(t, "groups page", owner.get("/sharing/groups").body, "picked lobby", "Lobby B")
	mustContain(t, "grant form", owner.get("/sharing/grants").body, `<option value="`+grp.ID+`"`)

	// A grant over the group, through the form.
	f := grantForm(nil, w.orgA, "by group", sharing.ScopeLive)
	f.Set("group_id", grp.ID)
	if r := owner.post("/sharing/grants", f); r.status != http.StatusSeeOther {
		t.Fatalf("grant over group = %d; want 303\n%.500s", r.status, r.body)
	}
	if gs := apiGrants(t, owner); len(gs) != 1 || gs[0].GroupID != grp.ID {
		t.Errorf("API grants = %+v; want one over group %s", gs, grp.ID)
	}
	// Another organisation neither sees the group nor can use it.
	opC := s.loggedIn("opC")
	mustNotContain(t, "C's groups page", opC.get("/sharing/groups").body, "picked lobby", grp.ID)
	f.Set("grantee_organisation_id", w.orgB)
	f.Del("csrf_token") // owner1's, which post() put in
	if r := opC.post("/sharing/grants", f); r.status != http.StatusNotFound {
		t.Errorf("C granting over B's group = %d; want 404", r.status)
	}
}

// TestOtherOrganisationSeesNoGrants: an operator of an organisation neither giving nor receiving
// sees nothing of the grant, and cannot revoke it.
func TestOtherOrganisationSeesNoGrants(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	g := w.grant("op1", []string{w.camA}, w.orgB, sharing.ScopeLive)
	opC := s.loggedIn("opC")
	page := opC.get("/sharing/grants")
	if page.status != http.StatusOK {
		t.Fatalf("C's grants page = %d; want 200", page.status)
	}
	mustNotContain(t, "C's grants page", page.body, g.ID, "fixture", "Gate A")
	if gs := apiGrants(t, opC); len(gs) != 0 {
		t.Errorf("API grants for C = %d; want 0", len(gs))
	}
	n := s.size()
	if r := opC.post("/sharing/grants/"+g.ID+"/revoke", nil); r.status != http.StatusNotFound {
		t.Errorf("C revoking A's grant = %d; want 404", r.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"access_denied:denied"}) {
		t.Errorf("C's revoke left %v; want [access_denied:denied]", got)
	}
	got, err := s.sharing.Grant(context.Background(), w.users["op1"], g.ID)
	if err != nil || !got.RevokedAt.IsZero() {
		t.Errorf("grant after C's attempt = %+v, %v; want unrevoked", got, err)
	}
	// C's access view shows nothing of A's cameras.
	mustNotContain(t, "C's access view", opC.get("/sharing/accesses").body, "Gate A", w.camA)
}

// TestAccessView: the owner's page lists exactly the accesses in the trail to its cameras by other
// organisations, and the CSV behind its link holds the same.
func TestAccessView(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	g := w.grant("owner1", []string{w.camB}, w.orgA, sharing.ScopeLive, sharing.ScopePlayback)
	as := func(name string) context.Context {
		return auth.WithActor(context.Background(), auth.ActorOf(w.users[name], "127.0.0.1"))
	}
	rec := func(ctx context.Context, action trace.Action, cam, purpose string) {
		t.Helper()
		if err := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: []string{cam}, Outcome: trace.Allowed, Purpose: purpose}); err != nil {
			t.Fatal(err)
		}
	}
	before := s.size()
	rec(as("op1"), trace.ActionLiveView, w.camB, "A watches B")          // listed: another organisation on B's camera
	rec(as("owner1"), trace.ActionLiveView, w.camB, "B watches its own") // not: B itself
	rec(as("op1"), trace.ActionLiveView, w.camA, "A watches its own")    // not: not B's camera
	rec(as("opC"), trace.ActionPlayback, w.camA, "C looks at A")         // not: not B's camera
	rec(as("opC"), trace.ActionPlayback, w.camB, "C looks at B")         // listed
	// Exactly the trail's entries on B's camera by anyone not of B: the two looks above, and the
	// console's registration of the camera.
	var wantSeqs []string
	looks := 0
	for _, e := range s.entriesSince(0) {
		if slices.Contains(e.CameraIDs, w.camB) && e.Actor.OrganisationID != w.orgB {
			wantSeqs = append(wantSeqs, strconv.FormatInt(e.Seq, 10))
			if e.Seq >= before {
				looks++
			}
		}
	}
	if looks != 2 {
		t.Fatalf("fixture wrote %d accesses to B's camera by others; want 2", looks)
	}

	owner := s.loggedIn("owner1")
	n := s.size()
	page := owner.get("/sharing/accesses")
	if page.status != http.StatusOK {
		t.Fatalf("access view = %d; want 200\n%.500s", page.status, page.body)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"trace_read"}) {
		t.Errorf("opening the access view left %v; want [trace_read]", got)
	}
	var gotSeqs []string
	for _, part := range strings.Split(page.body, `data-seq="`)[1:] {
		gotSeqs = append(gotSeqs, part[:strings.IndexByte(part, '"')])
	}
	if !slices.Equal(gotSeqs, wantSeqs) {
		t.Errorf("access view rows = %v; want %v", gotSeqs, wantSeqs)
	}
	mustContain(t, "access view", page.body, "A watches B", "C looks at B", g.ID, "op1", "opC", "Lobby B")
	mustNotContain(t, "access view", page.body, "B watches its own", "A watches its own", "C looks at A")

	// The CSV link is the API's, authenticated by the session cookie.
	i := strings.Index(page.body, `id="accesses-csv"`)
	if i < 0 {
		t.Fatal("access view has no CSV link")
	}
	href := page.body[strings.LastIndex(page.body[:i], `href="`)+len(`href="`):]
	href = strings.ReplaceAll(href[:strings.IndexByte(href, '"')], "&amp;", "&")
	c := owner.get(href)
	if c.status != http.StatusOK || !strings.HasPrefix(c.res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s = %d %q; want 200 text/csv", href, c.status, c.res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var csvSeqs []string
	for _, r := range rows[1:] {
		csvSeqs = append(csvSeqs, r[0])
	}
	if !slices.Equal(csvSeqs, wantSeqs) {
		t.Errorf("CSV rows = %v; want %v", csvSeqs, wantSeqs)
	}

	// An admin picks the owner and sees the same rows; without a pick, nothing is read.
	admin := s.loggedIn("admin1")
	n = s.size()
	if p := admin.get("/sharing/accesses"); p.status != http.StatusOK || strings.Contains(p.body, `data-seq="`) {
		t.Errorf("admin's access view without an owner = %d, rows present: %v; want 200 and no rows", p.status, strings.Contains(p.body, `data-seq="`))
	}
	if got := actions(s.entriesSince(n)); len(got) != 0 {
		t.Errorf("admin's page without an owner left %v; want nothing", got)
	}
	ap := admin.get("/sharing/accesses?organisation_id=" + w.orgB)
	if strings.Count(ap.body, `data-seq="`) != len(wantSeqs) {
		t.Errorf("admin's access view of B has %d rows; want %d", strings.Count(ap.body, `data-seq="`), len(wantSeqs))
	}

	// A trail that cannot record the read refuses the page.
	s.tracer.Fail.Store(true)
	defer s.tracer.Fail.Store(false)
	if p := owner.get("/sharing/accesses"); p.status != http.StatusServiceUnavailable {
		t.Errorf("access view with the trail down = %d; want 503", p.status)
	}
}

// TestSharingPagesInBothLanguages: every sharing page renders in Chinese and English with no bare
// catalogue key.
func TestSharingPagesInBothLanguages(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	w.grant("op1", []string{w.camA}, w.orgB, sharing.ScopeLive)
	op := s.loggedIn("op1")
	for _, lang := range []string{"zh", "en"} {
		op.get("/lang/" + lang + "?next=/")
		for _, path := range []string{"/sharing/grants", "/sharing/groups", "/sharing/accesses"} {
			p := op.get(path)
			if p.status != http.StatusOK {
				t.Fatalf("%s in %s = %d; want 200", path, lang, p.status)
			}
			for _, prefix := range []string{"sharing.", "scope.", "group_kind.", "grant_status.", "nav."} {
				if strings.Contains(p.body, ">"+prefix) || strings.Contains(p.body, " "+prefix) {
					t.Errorf("%s in %s shows a bare %s key", path, lang, prefix)
				}
			}
		}
	}
}

// TestSharedCameraPage: a camera shared with an organisation opens for its operator, with the
// footage section and without the owner's compliance findings, until the grant is revoked.
func TestSharedCameraPage(t *testing.T) {
	w := newSharingWorld(t)
	active := registry.StatusActive
	if _, err := w.s.reg.UpdateCamera(setupCtx, registry.Scope{All: true}, w.camB, &registry.CameraInput{Status: &active}); err != nil {
		t.Fatal(err)
	}
	// The owner sees its camera's findings (an active camera without a sign).
	mustContain(t, "owner's camera page", w.s.loggedIn("owner1").get("/cameras/"+w.camB).body, "no_sign")
	opC := w.s.loggedIn("opC")
	if p := opC.get("/cameras/" + w.camB); p.status != http.StatusNotFound {
		t.Fatalf("opC GET hotel camera page before a grant = %d; want 404", p.status)
	}
	g := w.grant("owner1", []string{w.camB}, w.orgC, "live", "playback")
	p := opC.get("/cameras/" + w.camB)
	if p.status != http.StatusOK {
		t.Fatalf("opC GET shared camera page = %d; want 200", p.status)
	}
	mustContain(t, "shared camera page", p.body, "Lobby B", `id="footage"`, `id="live-form"`)
	mustNotContain(t, "shared camera page", p.body, "no_sign")
	if _, err := w.s.sharing.RevokeGrant(setupCtx, w.users["owner1"], g.ID); err != nil {
		t.Fatal(err)
	}
	if p := opC.get("/cameras/" + w.camB); p.status != http.StatusNotFound {
		t.Fatalf("opC GET camera page after revocation = %d; want 404", p.status)
	}
}
