package webui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/httpapi"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// stack is the whole server as the app wires it: the API under /api/, the UI at /, over a real
// database and a running trail.
type stack struct {
	t      *testing.T
	db     *store.DB
	reg    *registry.Service
	trail  *trace.Log
	tracer *apitest.Tracer
	api    *httpapi.Server
	// accounts is the accounts service the API and the UI share.
	accounts *accounts.Service
	looks    *footage.Service
	ui       *UI
	// sharing is the sharing service the API and the UI share (newSharingStack); nil elsewhere.
	sharing *sharing.Service
	// live is the live-view service (newLiveStack); nil elsewhere.
	live *live.Service
	srv  *httptest.Server
}

const password = apitest.Password

var setupCtx = apitest.SetupCtx

type stackOpt struct {
	cfg Config
	tls bool
	// with, if not nil, adds to the web UI's dependencies the parts a test serves too.
	with func(*Deps)
}

func newStack(t *testing.T, opts ...stackOpt) *stack {
	t.Helper()
	var o stackOpt
	if len(opts) > 0 {
		o = opts[0]
	}
	db := storetest.SQLite(t)
	return serveStack(t, db, apitest.New(t, db), o)
}

// serveStack serves the web UI over st beside st's API, on one test server, as the app does.
func serveStack(t *testing.T, db *store.DB, st *apitest.Stack, o stackOpt) *stack {
	t.Helper()
	ui, err := New(o.cfg, stackDeps(st, st.API, o.with))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", st.API.Handler())
	mux.Handle("/", ui.Handler())
	var srv *httptest.Server
	if o.tls {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	return &stack{t: t, db: db, accounts: st.Accounts, reg: st.Registry, trail: st.Trail, tracer: st.Tracer, api: st.API,
		looks: st.Footage, sharing: st.Sharing, ui: ui, srv: srv}
}

func (s *stack) addUser(username string, role auth.Role, org string) string {
	s.t.Helper()
	u, err := s.accounts.CreateUser(setupCtx, accounts.NewUser{Username: username, Password: password, Role: string(role), OrganisationID: org})
	if err != nil {
		s.t.Fatalf("CreateUser(%s) = %v", username, err)
	}
	return u.ID
}

func (s *stack) addOrg(name, kind, typ string) string {
	s.t.Helper()
	o := &registry.Organisation{Name: name, Kind: kind}
	if kind == registry.KindDepartment {
		o.DepartmentType = typ
	} else {
		o.EstablishmentType = typ
	}
	if err := s.reg.CreateOrganisation(setupCtx, o); err != nil {
		s.t.Fatalf("CreateOrganisation(%s) = %v", name, err)
	}
	return o.ID
}

func (s *stack) addCamera(org, name string, lat, lon float64, edit func(*registry.CameraInput)) string {
	s.t.Helper()
	inv, cat, src := registry.InvestmentGovernment, "public_square", "rtsp://admin:s3cr3t-pw@10.0.0.9/stream"
	bearing, angle, rng := 90.0, 60.0, 80.0
	in := &registry.CameraInput{Name: &name, OrganisationID: &org, Investment: &inv, Lat: &lat, Lon: &lon,
		PlaceCategory: &cat, SourceURL: &src, Bearing: &bearing, FOVAngle: &angle, RangeM: &rng}
	if edit != nil {
		edit(in)
	}
	c, err := s.reg.CreateCamera(setupCtx, registry.Scope{All: true}, in)
	if err != nil {
		s.t.Fatalf("CreateCamera(%s) = %v", name, err)
	}
	return c.ID
}

// entries returns the trail entries appended after the trail had n entries.
func (s *stack) entriesSince(n int64) []trace.Entry {
	s.t.Helper()
	f := trace.Filter{OldestFirst: true, Limit: trace.MaxLimit}
	if n > 0 {
		c := n - 1
		f.Cursor = &c
	}
	es, _, err := s.trail.Query(context.Background(), f)
	if err != nil {
		s.t.Fatal(err)
	}
	return es
}

func (s *stack) size() int64 {
	s.t.Helper()
	n, err := s.trail.Size(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// browser is a client with a cookie jar that does not follow redirects, so tests see them.
type browser struct {
	s      *stack
	c      *http.Client
	header http.Header // added to every request
}

func (s *stack) browser() *browser {
	jar, _ := cookiejar.New(nil)
	// srv.Client() is one shared client: each browser needs its own, with its own jar.
	c := &http.Client{Transport: s.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{s: s, c: c, header: http.Header{}}
}

type resp struct {
	status int
	body   string
	res    *http.Response
}

func (b *browser) do(req *http.Request) resp {
	b.s.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(body), res}
}

func (b *browser) get(path string) resp {
	b.s.t.Helper()
	req, _ := http.NewRequest("GET", b.s.srv.URL+path, nil)
	return b.do(req)
}

// cookie returns the jar's value of a cookie for the site.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.s.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// post submits a form with the page's CSRF token (from the cookie, as the page's hidden field
// carries it) unless the form already sets csrf_token.
func (b *browser) post(path string, form url.Values) resp {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		if b.cookie(auth.CSRFCookie) == "" {
			b.get("/login") // any page sets the token
		}
		form.Set("csrf_token", b.cookie(auth.CSRFCookie))
	}
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) login(username string) resp {
	b.s.t.Helper()
	p := b.post("/login", url.Values{"username": {username}, "password": {password}})
	if p.status != http.StatusSeeOther {
		b.s.t.Fatalf("log in %s = %d; want 303\n%s", username, p.status, p.body)
	}
	return p
}

func (s *stack) loggedIn(username string) *browser {
	b := s.browser()
	b.login(username)
	return b
}

// actions lists entries as "action" or "action:denied", for comparing with what a test expects.
func actions(es []trace.Entry) []string {
	var out []string
	for _, e := range es {
		a := string(e.Action)
		if e.Outcome == trace.Denied {
			a += ":denied"
		}
		out = append(out, a)
	}
	return out
}

func mustContain(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s does not contain %q", what, s)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	// A page's CSRF tokens are random: a short forbidden string may occur in one by chance,
	// which is not a leak (CI once failed on a token that contained "op9").
	body = csrfValue.ReplaceAllString(body, `name="csrf_token" value=""`)
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("%s contains %q; it must not", what, s)
		}
	}
}

var csrfValue = regexp.MustCompile(`name="csrf_token" value="[^"]*"`)

// stackDeps are the web UI's dependencies over a test stack and its API, as app wires them;
// with, if not nil, adds the parts a test serves too.
func stackDeps(st *apitest.Stack, api *httpapi.Server, with func(*Deps)) Deps {
	d := Deps{APIRoles: api.Roles(), Accounts: st.Accounts, Registry: st.Registry, Footage: st.Footage, Trail: st.Trail,
		Users: st.DB, Tracer: st.Tracer, Logger: slog.New(slog.DiscardHandler), Consultation: st.Consultation,
		Grid: st.Grid}
	if with != nil {
		with(&d)
	}
	return d
}
