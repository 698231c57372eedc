// Package apitest assembles, for tests, the server's components the way the app does: a real
// database, the embedded policy pack, a running trail, the registry, the services and the API.
package apitest

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/consultation"
	"civicam/internal/footage"
	"civicam/internal/gb28181"
	"civicam/internal/grid"
	"civicam/internal/httpapi"
	"civicam/internal/inspection"
	"civicam/internal/live"
	"civicam/internal/lostperson"
	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/trace"
)

// Password is every test user's password.
const Password = "correct horse battery"

// Tracer is the server's trace.Recorder, which a test can make fail to check that requests fail
// closed.
type Tracer struct {
	trace.Recorder
	Fail atomic.Bool
}

// Record appends the entry, or fails when Fail is set.
func (t *Tracer) Record(ctx context.Context, r trace.Record) error {
	if t.Fail.Load() {
		return fmt.Errorf("%w: trail down (test)", trace.ErrUnavailable)
	}
	return t.Recorder.Record(ctx, r)
}

// Clock is the stack's clock for sharing grants: the real time, moved on by what Advance added,
// so a test lets a grant end without waiting for it.
type Clock struct{ ahead atomic.Int64 }

// Now is the time by this clock.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.ahead.Add(int64(d)) }

// Stack is the assembled server, without an HTTP listener: tests mount API.Handler() (and the
// web UI) on an httptest server.
type Stack struct {
	DB       *store.DB
	Registry *registry.Service
	Trail    *trace.Log
	// Key is the trail's key, which signs exports too, as in the server: an export's receipt
	// of its trail entry checks with the key that checks its manifest.
	Key     *trace.Key
	Tracer  *Tracer
	Holds   *retention.Holds
	Sharing *sharing.Service
	// Footage is the footage service of the API NewAPI built last, for a web UI beside it.
	Footage *footage.Service
	// Grid is the live grid service of the API NewAPI built last, likewise.
	Grid  *grid.Service
	API   *httpapi.Server
	views *sharing.LateViews // the sharing service's: the footage service of the last API
	// Accounts is the accounts service; its login throttle allows 3 failures per user a minute.
	Accounts *accounts.Service
	// Clock is the sharing service's clock, which decides whether a grant is in force.
	Clock *Clock
	GB    *gb28181.Server // the GB/T 28181 platform, listening on loopback
	// Hasher is the process's bound on password hashing, shared by every service that hashes.
	Hasher *auth.Hasher
	// Consultation is public consultation on the stack's clock; its throttle lets the tests'
	// one loopback address send hundreds of opinions (the throttle has its own test).
	Consultation *consultation.Service
	// Inspections is the hidden-camera inspection and public report service; its public form
	// takes 1,000 reports an address an hour, so that the route tests are not throttled.
	Inspections *inspection.Service
}

// GBPlatformID and GBDomain are the test platform's GB/T 28181 id and domain.
const (
	GBPlatformID = "43020000002000000001"
	GBDomain     = "4302000000"
)

// New assembles a stack on db. The trail runs until the test ends.
func New(t testing.TB, db *store.DB) *Stack {
	t.Helper()
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	key, err := trace.LoadOrCreateKey(filepath.Join(t.TempDir(), "trace.key"), "test.civicam/trace")
	if err != nil {
		t.Fatal(err)
	}
	// The tests send hundreds of unauthenticated requests from the one loopback address, each
	// traced; the trail's per-address bound on them has its own test (store's trace tests).
	trail := trace.New(trace.Config{CheckpointInterval: time.Hour, AnonymousDenials: 100_000}, trace.Deps{Store: db, Key: key})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); trail.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	tracer := &Tracer{Recorder: trace.Recorder{Log: trail}}
	reg := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tracer, Filings: db})
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	hasher, err := auth.NewHasher(auth.HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.New(accounts.Config{SessionTTL: time.Hour}, accounts.Deps{Store: db, Organisations: reg, Tracer: tracer, Hasher: hasher,
		Throttle: auth.NewThrottle(auth.ThrottleConfig{UserFailures: 3, IPFailures: 1000, Window: time.Minute}, time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{DB: db, Registry: reg, Trail: trail, Key: key, Tracer: tracer, Accounts: acc, Hasher: hasher,
		Holds: retention.NewHolds(retention.HoldsDeps{Store: db, Registry: reg, Tracer: tracer}),
		views: &sharing.LateViews{}, Clock: &Clock{},
	}
	s.Consultation = consultation.New(consultation.Config{OpinionsPerAddress: 100_000},
		consultation.Deps{Store: db, Tracer: tracer, Now: s.Clock.Now})
	s.Sharing = sharing.New(sharing.Config{}, sharing.Deps{Store: db, Policy: sharing.CurrentPack(reg.Pack), Cameras: reg,
		Tracer: tracer, Trail: trail, Views: s.views, Now: s.Clock.Now})
	// The GB/T 28181 platform on loopback, without digest, for devices a test registers.
	if s.GB, err = gb28181.New(gb28181.Config{Listen: "127.0.0.1:0", ID: GBPlatformID, Domain: GBDomain},
		gb28181.Deps{Repo: db, Cameras: reg, Tracer: tracer}); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.GB.Run(ctx) }()
	if s.Inspections, err = inspection.New(inspection.Config{ReportsPerAddress: 1000}, inspection.Deps{Repo: db, Organisations: reg,
		Pack: reg.Pack, Tracer: tracer}); err != nil {
		t.Fatal(err)
	}
	s.API = s.NewAPI(t, Parts{})
	return s
}

// Parts are what a test adds to the stack's API; zero fields leave out what they serve.
type Parts struct {
	Requests   *lostperson.Service // lost-person applications
	Recorder   *recorder.Recorder  // the recorder running beside the API
	Live       *live.Service       // live view
	Recordings footage.Files       // the recorded segments: a *segment.Disk, or a *bucket.Segments
	ExportDir  string              // where exports are written
	Key        *trace.Key          // signs export manifests; nil refuses exports
	Storage    *retention.Planner  // the storage forecast
	Options    policy.Options      // the pack's optional rules, as if the pack switched them on
}

// NewAPI builds an API over the stack's services and the parts, as app does.
func (s *Stack) NewAPI(t testing.TB, p Parts) *httpapi.Server {
	t.Helper()
	d := httpapi.Deps{
		Registry: s.Registry, Tracer: s.Tracer, Trail: s.Trail, Accounts: s.Accounts,
		Holds: s.Holds, Sharing: s.Sharing, Storage: p.Storage, GB28181: s.GB, Logger: slog.New(slog.DiscardHandler),
		Consultation: s.Consultation,
		Inspections:  s.Inspections,
	}
	if d.Storage == nil {
		d.Storage = retention.NewPlanner(retention.PlannerConfig{}, retention.PlannerDeps{Index: s.DB, Registry: s.Registry})
	}
	fd := footage.Deps{Cameras: s.Registry, Sharing: s.Sharing, Index: s.DB, Key: p.Key, Tracer: s.Tracer, Trail: s.Trail,
		Options: func() policy.Options { return p.Options }, Approvals: s.DB, Users: s.DB, Viewings: s.DB}
	chk := &access.Checker{Grants: s.Sharing}
	if p.Requests != nil {
		d.Requests, chk.Applications, chk.Approvals = p.Requests, p.Requests, p.Requests
	}
	if p.Recorder != nil {
		d.Recorder, fd.Recorder = p.Recorder, p.Recorder
	}
	if p.Live != nil {
		fd.Live = p.Live
	}
	if p.Recordings != nil {
		fd.Files = p.Recordings
	}
	fd.Access = chk
	d.Footage = footage.New(footage.Config{ExportDir: p.ExportDir}, fd)
	d.Grid = grid.New(grid.Deps{Store: s.DB, Registry: s.Registry, Shared: s.Sharing, Access: chk})
	s.Grid = d.Grid
	s.Footage = d.Footage
	s.views.To = d.Footage
	api, err := httpapi.New(httpapi.Config{}, d)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// SetupCtx acts as an admin at the console, for fixtures.
var SetupCtx = auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})

// AddUser creates a user with Password through the accounts service and returns its id.
func (s *Stack) AddUser(t testing.TB, username string, role auth.Role, org string) string {
	t.Helper()
	u, err := s.Accounts.CreateUser(SetupCtx, accounts.NewUser{Username: username, Password: Password, Role: string(role), OrganisationID: org})
	if err != nil {
		t.Fatalf("CreateUser(%s) = %v", username, err)
	}
	return u.ID
}

// Entries returns the trail entries appended after the trail had n entries, oldest first.
func (s *Stack) Entries(t testing.TB, n int64) []trace.Entry {
	t.Helper()
	f := trace.Filter{OldestFirst: true, Limit: trace.MaxLimit}
	if n > 0 {
		c := n - 1
		f.Cursor = &c
	}
	es, _, err := s.Trail.Query(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// Size is the trail's number of entries.
func (s *Stack) Size(t testing.TB) int64 {
	t.Helper()
	n, err := s.Trail.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
