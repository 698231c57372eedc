// Package webui is civicam's face for people: server-rendered pages (html/template) with their
// stylesheet and message catalogues embedded in the binary, so nothing is fetched from the
// internet at run time. It holds the public landing page, log in and out with a session cookie
// and CSRF double submission, the camera list and map, camera pages, the management of cameras
// (add, edit, decommission, CSV import, bulk actions, the device tree), the compliance dashboard,
// the trace viewer, user and organisation administration, the GB/T 28181 device tree, and the
// lost-person application desk (the public portal, the applicant's pages and the reviewers'), in
// Chinese and English.
//
// The UI has no authorization rules of its own: each page names the API route whose roles it
// shares, and reads the registry with the same scopes as the API (access.ScopeOf, WriteScope),
// so a page never shows what the API would refuse. Refusals and trail reads are traced as the
// API traces them.
package webui

import (
	"civicam/internal/health"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/footage"
	"civicam/internal/gb28181"
	"civicam/internal/grid"
	"civicam/internal/inspection"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/trace"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed messages/*.json
var messageFS embed.FS

// Config is what the UI takes from the server's configuration.
type Config struct {
	// Language is "zh", "en", or "" to follow the browser's Accept-Language (default zh). A
	// visitor's own choice through the language switch wins over both.
	Language string
	// TileURL is a map tile URL template with {z}, {x} and {y} (e.g. a city's own tile server).
	// Empty means no tiles: cameras are still plotted on a plain plane.
	TileURL string
	// PublicStatsTTL is how long the landing page's statistics are reused before they are
	// recomputed; the page is public, so it must not cost a full compliance run per visit.
	// Zero means 30 seconds.
	PublicStatsTTL time.Duration
	// CameraPageSize bounds one page of the camera list; zero means 200.
	CameraPageSize int
	// SecureCookies makes every cookie Secure, also on requests that reach the UI as plain HTTP:
	// users reach it over HTTPS (a TLS-terminating proxy, public_url https://). Cookies of
	// requests that came over TLS are Secure regardless.
	SecureCookies bool
}

// Trail is what the UI reads of the access trail.
type Trail interface {
	Latest(ctx context.Context) ([]byte, error)
	VerifierKey() string
	Query(ctx context.Context, f trace.Filter) ([]trace.Entry, *int64, error)
}

// UserStore finds an account by id, to name the people beside grants and applications
// (*store.DB has it).
type UserStore interface {
	User(ctx context.Context, id string) (*auth.User, error)
}

// Deps are the components the UI shows.
type Deps struct {
	// APIRoles are the roles of each API route ("METHOD pattern"; nil for a public one): each
	// page lets in the roles of the API route it mirrors.
	APIRoles map[string][]auth.Role
	Accounts *accounts.Service // log in and out, authentication, the admin's user pages
	Registry *registry.Service
	Footage  *footage.Service // camera pages: what was recorded, shared cameras
	Trail    Trail
	Users    UserStore
	Tracer   trace.Tracer
	Logger   *slog.Logger
	Now      func() time.Time
	// Requests is the lost-person application desk; nil leaves out the portal and its pages.
	Requests *lostperson.Service
	// Storage is the storage planner: its findings join the compliance dashboard's and its
	// forecast is charted there; nil leaves the forecast out.
	Storage Storage
	// Sharing is the sharing service, the one the API serves; nil leaves out the sharing pages.
	Sharing *sharing.Service
	// GB28181 is the GB/T 28181 platform, the one the API serves; nil (the platform off) leaves
	// out the device tree.
	GB28181 *gb28181.Server
	// Health says what each camera's connection is doing (*health.Checker over the recorder);
	// nil finds every recordable camera not assigned to a recorder.
	Health Health
	// Consultation is public consultation on procedures; nil leaves out its pages.
	Consultation *consultation.Service
	// Inspections serves the public's camera-report page and the staff's inspection pages; nil
	// leaves them out.
	Inspections *inspection.Service
	// Grid is the live grid's cameras and saved views; nil leaves the grid page out.
	Grid *grid.Service
}

// Health is what the pages read of a camera's connection now.
type Health interface {
	Of(c *registry.Camera) health.Status
	// Down lists the ids of cameras that may be down (Of tells for each), a few of the city's.
	Down() []string
}

// UI serves the web pages.
type UI struct {
	cfg         Config
	accounts    *accounts.Service
	reg         *registry.Service
	footage     *footage.Service
	storage     Storage
	trail       Trail
	users       UserStore
	tracer      trace.Tracer
	req         *lostperson.Service
	sharing     *sharing.Service
	gb          *gb28181.Server
	health      Health
	consult     *consultation.Service
	inspections *inspection.Service
	grid        *grid.Service
	log         *slog.Logger
	now         func() time.Time
	pages       map[string]*template.Template
	cat         catalogue
	mux         *http.ServeMux
	csp         string
	statsMu     sync.Mutex
	stats       *publicStats
	// apiRoles are the roles of each API route ("METHOD pattern"), nil for a public one.
	apiRoles map[string][]auth.Role
}

// page is one entry of the UI's route table. APIRoute names the API route whose roles the page
// shares ("" with public true: no login; "" with public false: any logged-in user).
type page struct {
	Pattern  string
	APIRoute string
	Public   bool
	Handler  func(w http.ResponseWriter, r *http.Request) error
	// MaxBody bounds a POST body (zero: maxFormBody). The CSRF check parses the form before
	// anyone is authenticated, so the bound must come first.
	MaxBody int64
	roles   []auth.Role // resolved from the API's table; nil = any logged-in user
}

// maxFormBody bounds an ordinary form post.
const maxFormBody = 1 << 20

// New builds the UI. It fails if a template does not parse, a catalogue is incomplete, or a page
// names an API route the API does not have.
func New(cfg Config, d Deps) (*UI, error) {
	if d.APIRoles == nil || d.Accounts == nil || d.Registry == nil || d.Footage == nil || d.Trail == nil || d.Users == nil || d.Tracer == nil {
		return nil, errors.New("webui: APIRoles, Accounts, Registry, Footage, Trail, Users and Tracer are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	switch cfg.Language {
	case "", "zh", "en":
	default:
		return nil, fmt.Errorf("webui: language %q: want zh, en or empty", cfg.Language)
	}
	if cfg.PublicStatsTTL == 0 {
		cfg.PublicStatsTTL = 30 * time.Second
	}
	if cfg.CameraPageSize <= 0 {
		cfg.CameraPageSize = 200
	}
	tileOrigin, err := tileOrigin(cfg.TileURL)
	if err != nil {
		return nil, err
	}
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	u := &UI{cfg: cfg, accounts: d.Accounts, reg: d.Registry, footage: d.Footage, trail: d.Trail, users: d.Users, tracer: d.Tracer,
		req: d.Requests, storage: d.Storage, log: d.Logger, now: d.Now, pages: pages, cat: cat, mux: http.NewServeMux()}
	u.sharing = d.Sharing
	u.gb = d.GB28181
	u.health = d.Health
	if u.health == nil {
		u.health = health.New(nil)
	}
	u.consult = d.Consultation
	u.inspections = d.Inspections
	u.grid = d.Grid
	// Inline SVG markup is allowed; inline scripts and style attributes are not.
	u.csp = "default-src 'self'; img-src 'self' data:" + tileOrigin + "; style-src 'self'; script-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

	u.apiRoles = d.APIRoles
	for _, p := range u.routes() {
		if p.APIRoute != "" {
			roles, ok := u.apiRoles[p.APIRoute]
			if !ok {
				return nil, fmt.Errorf("webui: page %s shares the roles of API route %s, which the API does not have", p.Pattern, p.APIRoute)
			}
			if roles == nil {
				p.Public = true
			}
			p.roles = roles
		}
		u.mux.Handle(p.Pattern, u.wrap(p))
	}
	static, _ := fs.Sub(staticFS, "static")
	u.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	u.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, http.StatusNotFound, "error.not_found")
	})
	return u, nil
}

// routes is the UI's route table.
func (u *UI) routes() []*page {
	return append([]*page{
		{Pattern: "GET /{$}", Public: true, Handler: u.landing},
		{Pattern: "GET /login", Public: true, Handler: u.loginForm},
		{Pattern: "POST /login", Public: true, Handler: u.loginSubmit},
		{Pattern: "GET /lang/{lang}", Public: true, Handler: u.switchLanguage},
		{Pattern: "POST /logout", Handler: u.logout},
		{Pattern: "GET /me", Handler: u.me},
		{Pattern: "GET /cameras", APIRoute: "GET /api/v1/cameras", Handler: u.cameraList},
		{Pattern: "GET /cameras/{id}", APIRoute: "GET /api/v1/cameras/{id}", Handler: u.cameraPage},
		{Pattern: "POST /cameras/{id}/legal-basis", APIRoute: "POST /api/v1/cameras/{id}/legal-basis", Handler: u.proposeBasis},
		{Pattern: "POST /cameras/{id}/legal-basis/approve", APIRoute: "POST /api/v1/cameras/{id}/legal-basis/approve", Handler: u.approveBasis},
		{Pattern: "POST /cameras/{id}/legal-basis/decline", APIRoute: "POST /api/v1/cameras/{id}/legal-basis/decline", Handler: u.declineBasis},
		{Pattern: "GET /compliance", APIRoute: "GET /api/v1/compliance", Handler: u.complianceDashboard},
		{Pattern: "GET /trace", APIRoute: "GET /api/v1/trace", Handler: u.traceViewer},
		{Pattern: "GET /admin/users", APIRoute: "GET /api/v1/users", Handler: u.adminUsers},
		{Pattern: "POST /admin/users", APIRoute: "POST /api/v1/users", Handler: u.adminCreateUser},
		{Pattern: "POST /admin/users/{id}", APIRoute: "PATCH /api/v1/users/{id}", Handler: u.adminUpdateUser},
		{Pattern: "GET /admin/organisations", APIRoute: "POST /api/v1/organisations", Handler: u.adminOrganisations},
		{Pattern: "POST /admin/organisations", APIRoute: "POST /api/v1/organisations", Handler: u.adminCreateOrganisation},
	}, slices.Concat(u.applicationRoutes(), u.sharingRoutes(), u.gbRoutes(), u.exportRoutes(), u.consultationRoutes(), u.coverageRoutes(), u.signRoutes(), u.cameraReportRoutes(), u.cameraMgmtRoutes(), u.gridRoutes(), u.reviewRoutes(), u.inspectionRoutes())...)
}

// Handler serves every page, "/" and below (the server mounts the API, /metrics and /healthz
// beside it).
func (u *UI) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", u.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		u.mux.ServeHTTP(w, r)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// tileOrigin checks the tile URL template and returns its origin for the CSP (" https://host").
func tileOrigin(tmpl string) (string, error) {
	if tmpl == "" {
		return "", nil
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tmpl, p) {
			return "", fmt.Errorf("webui: tile URL %q lacks %s", tmpl, p)
		}
	}
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(tmpl))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("webui: tile URL %q is not an absolute http(s) URL", tmpl)
	}
	return " " + u.Scheme + "://" + u.Host, nil
}

// errPage is an error a handler answers with a page: a status and a catalogue key.
type errPage struct {
	status int
	key    string
}

func (e *errPage) Error() string { return fmt.Sprintf("%d %s", e.status, e.key) }

var (
	errNotFound  = &errPage{http.StatusNotFound, "error.not_found"}
	errForbidden = &errPage{http.StatusForbidden, "error.forbidden"}
	errTrail     = &errPage{http.StatusServiceUnavailable, "error.trail"}
)

// wrap authenticates, checks the page's roles and CSRF, traces refusals like the API does, and
// turns handler errors into pages.
func (u *UI) wrap(p *page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		ctx := auth.WithActor(r.Context(), auth.Actor{ClientAddr: addr})
		if r.Method == http.MethodPost {
			limit := p.MaxBody
			if limit <= 0 {
				limit = maxFormBody
			}
			if r.ContentLength > limit {
				u.renderError(w, r.WithContext(ctx), http.StatusRequestEntityTooLarge, "error.too_large")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if r.Method == http.MethodPost && !auth.CheckCSRF(r) {
			u.deny(ctx, r, "missing or wrong CSRF token")
			u.renderError(w, r.WithContext(ctx), http.StatusForbidden, "error.csrf")
			return
		}
		usr, err := u.authenticate(r)
		if err == nil {
			ctx = auth.WithUser(auth.WithActor(r.Context(), auth.ActorOf(usr, addr)), usr)
		}
		if !p.Public {
			if err != nil {
				u.deny(ctx, r, "not logged in: "+err.Error())
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				u.renderError(w, r.WithContext(ctx), http.StatusUnauthorized, "error.login_first")
				return
			}
			if len(p.roles) > 0 && !slices.Contains(p.roles, usr.Role) {
				u.deny(ctx, r, "role "+string(usr.Role)+" may not open "+p.Pattern)
				u.renderError(w, r.WithContext(ctx), http.StatusForbidden, "error.forbidden")
				return
			}
		}
		r = r.WithContext(ctx)
		if err := p.Handler(w, r); err != nil {
			var ep *errPage
			switch {
			case errors.As(err, &ep):
				if ep == errNotFound && !p.Public {
					// Another organisation's camera looks absent, but the look is a denied access.
					u.deny(ctx, r, "no such object in the caller's scope: "+r.URL.Path)
				}
			case errors.Is(err, trace.ErrUnavailable):
				u.log.Error("trail write failed; page refused", "path", r.URL.Path, "err", err)
				ep = errTrail
			default:
				u.log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
				ep = &errPage{http.StatusInternalServerError, "error.internal"}
			}
			u.renderError(w, r, ep.status, ep.key)
		}
	})
}

// authenticate finds the user behind the request's session cookie (or bearer token, as the API
// accepts).
func (u *UI) authenticate(r *http.Request) (*auth.User, error) {
	token, _, err := auth.RequestToken(r)
	if err != nil {
		return nil, err
	}
	return u.accounts.Authenticate(r.Context(), token)
}

// deny traces a refused page request, as the API traces its refusals. The refusal is already the
// safe answer, so a trail failure is logged, not turned into another error.
func (u *UI) deny(ctx context.Context, r *http.Request, reason string) {
	route := "ui " + r.Method + " " + r.URL.Path
	if err := u.tracer.Record(ctx, trace.Record{Action: trace.ActionAccessDenied, Outcome: trace.Denied, Reason: route + ": " + reason}); err != nil {
		u.log.Error("trace denial", "route", route, "err", err)
	}
}

// clientAddr is the peer's IP; forwarded headers are not trusted (as in the API).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// userOf is the logged-in user of a request, or nil.
func userOf(r *http.Request) *auth.User { return auth.UserFrom(r.Context()) }

// allowed reports whether the user may open the page of the API route key, for navigation links.
func (u *UI) allowed(usr *auth.User, apiRoute string) bool {
	if usr == nil {
		return false
	}
	roles, ok := u.apiRoles[apiRoute]
	return ok && roles != nil && (len(roles) == 0 || slices.Contains(roles, usr.Role))
}
