// Package httpapi is civicam's JSON REST API under /api/v1: one route table that states, for
// every route, which roles may call it; authentication by bearer token or session cookie;
// organisation walls enforced below it in the store; and errors mapped to HTTP in one place.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/fault"
	"civicam/internal/footage"
	"civicam/internal/gb28181"
	"civicam/internal/grid"
	"civicam/internal/inspection"
	"civicam/internal/lease"
	"civicam/internal/lostperson"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/sharing"
	"civicam/internal/trace"
)

// Config is what the API needs to know of the server's configuration: nothing of its own yet
// (sessions last as long as the accounts service says).
type Config struct{}

// Deps are the components the API serves.
type Deps struct {
	Registry *registry.Service
	Tracer   trace.Tracer
	Trail    *trace.Log
	Accounts *accounts.Service // login, logout, authentication, user accounts (sessions.go, users.go)
	Requests *lostperson.Service
	Recorder recorder.StatusReader // nil when this process records nothing
	Leases   *lease.Keeper         // which node records a camera now; nil without leases
	Footage  *footage.Service      // playback, exports, live views and what was recorded
	Storage  *retention.Planner    // storage forecast per location and per camera (retention.go)
	Holds    *retention.Holds      // legal holds (retention.go)
	Sharing  *sharing.Service      // grants, groups, owners' access view (grants.go)
	GB28181  *gb28181.Server       // GB/T 28181 devices (gb28181.go); nil when the platform is off
	// Consultation is public consultation on procedures (consultations.go); nil serves none.
	Consultation *consultation.Service
	// Inspections: hidden-camera inspections and public reports (inspections.go); nil leaves
	// their routes out.
	Inspections *inspection.Service
	// Grid is the live grid's saved views and cameras (livegrid.go); nil leaves its routes out.
	Grid    *grid.Service
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	Now     func() time.Time
}

// Server serves the API.
type Server struct {
	reg         *registry.Service
	tracer      trace.Tracer
	trail       *trace.Log
	accounts    *accounts.Service
	recorder    recorder.StatusReader
	leases      *lease.Keeper
	footage     *footage.Service
	storage     *retention.Planner
	holds       *retention.Holds
	sharing     *sharing.Service
	gb          *gb28181.Server
	consult     *consultation.Service
	inspections *inspection.Service
	grid        *grid.Service
	log         *slog.Logger
	now         func() time.Time
	mux         *http.ServeMux
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	extra       []Route
	Requests    *lostperson.Service
}

// Route is one entry of the route table. Roles nil means public; an empty, non-nil list means
// any logged-in user.
type Route struct {
	Method  string
	Pattern string
	Roles   []auth.Role
	Handler func(w http.ResponseWriter, r *http.Request) error
}

// Public reports whether the route needs no login.
func (rt Route) Public() bool { return rt.Roles == nil }

var (
	anyUser  = []auth.Role{}
	staff    = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner, auth.RoleReviewer, auth.RoleAuditor}
	managers = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner}
	admins   = []auth.Role{auth.RoleAdmin}
	auditors = []auth.Role{auth.RoleAdmin, auth.RoleAuditor}
)

// New builds the API. Extra routes (from features built beside it) join the same table, the same
// authorization and the same error mapping.
func New(cfg Config, d Deps, extra ...Route) (*Server, error) {
	if d.Accounts == nil || d.Holds == nil || d.Footage == nil || d.Storage == nil || d.Sharing == nil {
		return nil, errors.New("httpapi: a service is missing")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{reg: d.Registry, tracer: d.Tracer, trail: d.Trail, accounts: d.Accounts, recorder: d.Recorder, leases: d.Leases,
		log: d.Logger, now: d.Now, mux: http.NewServeMux(), extra: extra, Requests: d.Requests}
	s.sharing = d.Sharing
	s.footage = d.Footage
	s.storage = d.Storage
	s.holds = d.Holds
	s.gb = d.GB28181
	s.consult = d.Consultation
	s.inspections = d.Inspections
	s.grid = d.Grid
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "civicam_http_requests_total", Help: "API requests by route and status code.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "civicam_http_request_duration_seconds", Help: "API request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
	}, []string{"route"})
	if d.Metrics != nil {
		if err := d.Metrics.Register(s.requests); err != nil {
			return nil, err
		}
		if err := d.Metrics.Register(s.latency); err != nil {
			return nil, err
		}
	}
	for _, rt := range s.Routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNotFound)
	})
	return s, nil
}

// complianceRoles may read the compliance report and the storage report.
var complianceRoles = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner, auth.RoleAuditor}

// Routes is the route table: every API route with the roles allowed to call it.
func (s *Server) Routes() []Route {
	rs := []Route{
		{"POST", "/api/v1/sessions", nil, s.login},
		{"DELETE", "/api/v1/sessions/current", anyUser, s.logout},
		{"GET", "/api/v1/me", anyUser, s.me},
		{"GET", "/api/v1/policy", anyUser, s.policyPack},
		{"GET", "/api/v1/openapi.json", nil, s.openAPI},

		{"POST", "/api/v1/organisations", admins, s.createOrganisation},
		{"GET", "/api/v1/organisations", staff, s.listOrganisations},
		{"GET", "/api/v1/organisations/{id}", staff, s.getOrganisation},

		{"POST", "/api/v1/users", admins, s.createUser},
		{"GET", "/api/v1/users", admins, s.listUsers},
		{"PATCH", "/api/v1/users/{id}", admins, s.updateUser},

		{"POST", "/api/v1/cameras", managers, s.createCamera},
		{"GET", "/api/v1/cameras", staff, s.listCameras},
		{"POST", "/api/v1/cameras/import", managers, s.importCameras},
		{"GET", "/api/v1/cameras/{id}", staff, s.getCamera},
		{"PATCH", "/api/v1/cameras/{id}", managers, s.updateCamera},
		{"DELETE", "/api/v1/cameras/{id}", managers, s.deleteCamera},
		{"GET", "/api/v1/cameras/{id}/recordings", staff, s.cameraRecordings},
		{"GET", "/api/v1/cameras/{id}/recording", staff, s.cameraRecording},
		{"POST", "/api/v1/cameras/{id}/legal-basis", managers, s.proposeLegalBasis},
		{"POST", "/api/v1/cameras/{id}/legal-basis/approve", admins, s.approveLegalBasis},
		{"POST", "/api/v1/cameras/{id}/legal-basis/decline", admins, s.declineLegalBasis},

		{"GET", "/api/v1/compliance", complianceRoles, s.compliance},
		{"GET", "/api/v1/compliance/summary", complianceRoles, s.complianceSummary},
	}
	rs = append(rs, s.applicationRoutes()...)
	rs = append(rs, s.duplicateRoutes()...)
	rs = append(rs, s.placeRoutes()...)
	rs = append(rs, s.traceRoutes()...)
	rs = append(rs, s.playbackRoutes()...)
	rs = append(rs, s.viewingRoutes()...)
	rs = append(rs, s.liveRoutes()...)
	rs = append(rs, s.retentionRoutes()...)
	rs = append(rs, s.grantRoutes()...)
	rs = append(rs, s.gbRoutes()...)
	rs = append(rs, s.consultationRoutes()...)
	rs = append(rs, s.signRoutes()...)
	rs = append(rs, s.filingRoutes()...)
	rs = append(rs, s.inspectionRoutes()...)
	rs = append(rs, s.gridRoutes()...)
	return append(rs, s.extra...)
}

// Roles are the roles of every route, by "METHOD pattern"; nil for a public route, empty for
// any logged-in user. The web UI's pages take theirs from it.
func (s *Server) Roles() map[string][]auth.Role {
	out := map[string][]auth.Role{}
	for _, rt := range s.Routes() {
		out[rt.Method+" "+rt.Pattern] = rt.Roles
	}
	return out
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// statusWriter remembers the status code for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (playback) flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap authenticates, authorizes by role, traces denials and maps errors, for one route.
func (s *Server) wrap(rt Route) http.Handler {
	name := rt.Method + " " + rt.Pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.requests.WithLabelValues(name, strconv.Itoa(sw.code)).Inc()
			s.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}()
		addr := clientAddr(r)
		ctx := auth.WithActor(r.Context(), auth.Actor{ClientAddr: addr})
		if !rt.Public() {
			u, viaCookie, err := s.authenticate(r)
			if err != nil {
				s.deny(ctx, name, "not logged in: "+err.Error())
				s.writeError(sw, r, errUnauthenticated)
				return
			}
			ctx = auth.WithActor(r.Context(), auth.ActorOf(u, addr))
			ctx = auth.WithUser(ctx, u)
			if viaCookie && !safeMethod(r.Method) && !auth.CheckCSRF(r) {
				s.deny(ctx, name, "missing or wrong CSRF token")
				s.writeError(sw, r, &apiError{Status: http.StatusForbidden, Code: "csrf", Message: "missing or wrong CSRF token"})
				return
			}
			if len(rt.Roles) > 0 && !slices.Contains(rt.Roles, u.Role) {
				s.deny(ctx, name, "role "+string(u.Role)+" may not "+name)
				s.writeError(sw, r, errForbidden)
				return
			}
		}
		if err := rt.Handler(sw, r.WithContext(ctx)); err != nil {
			// A request for something outside the caller's organisation is answered as if it did
			// not exist, but it is a denied access all the same, and the trail says so.
			if !rt.Public() && (errors.Is(err, fault.ErrNotFound) || errors.Is(err, errNotFound)) && !traced(err) {
				s.deny(ctx, name, "no such object in the caller's scope: "+r.URL.Path)
			}
			s.writeError(sw, r.WithContext(ctx), err)
		}
	})
}

// traced reports whether the domain already traced the failure (fault.Error.Traced).
func traced(err error) bool {
	fe, ok := fault.As(err)
	return ok && fe.Traced
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// deny traces a refused request. A refusal is already the safe answer, so a trail failure here
// is logged, not turned into a different error.
func (s *Server) deny(ctx context.Context, route, reason string) {
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionAccessDenied, Outcome: trace.Denied, Reason: route + ": " + reason}); err != nil {
		s.log.Error("trace denial", "route", route, "err", err)
	}
}

// authenticate finds the user behind a request's bearer token or session cookie, and says
// whether it came by cookie (which then needs a CSRF token on unsafe methods).
func (s *Server) authenticate(r *http.Request) (*auth.User, bool, error) {
	token, viaCookie, err := auth.RequestToken(r)
	if err != nil {
		return nil, false, err
	}
	u, err := s.accounts.Authenticate(r.Context(), token)
	if err != nil {
		return nil, false, err
	}
	return u, viaCookie, nil
}

// clientAddr is the peer's IP. Forwarded headers are not trusted: behind a proxy, configure
// the proxy to connect from an address that identifies it.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
