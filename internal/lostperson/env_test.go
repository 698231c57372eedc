package lostperson_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/trace"
)

// trail keeps the records the service traced, and can be made to fail (the real trail is
// exercised by the API tests; here the records themselves are what is checked).
type trail struct {
	mu   sync.Mutex
	recs []trace.Record
	fail bool
}

func (t *trail) Record(ctx context.Context, r trace.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail {
		return fmt.Errorf("%w: trail down (test)", trace.ErrUnavailable)
	}
	t.recs = append(t.recs, r)
	return nil
}

func (t *trail) last() trace.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recs) == 0 {
		return trace.Record{}
	}
	return t.recs[len(t.recs)-1]
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     testing.TB
	db    *store.DB
	reg   *registry.Service
	svc   *lostperson.Service
	trail *trail
	clock *clock
	org   string
	ctx   context.Context
}

var t0 = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, db *store.DB, cfg lostperson.Config) *env {
	t.Helper()
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	tr := &trail{}
	clk := &clock{t: t0}
	reg := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tr, Now: clk.Now})
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	svc, err := lostperson.New(cfg, lostperson.Deps{Repo: db, Recordings: db, Cameras: reg, Pack: pack, Tracer: tr, Hasher: newHasher(t), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, reg: reg, svc: svc, trail: tr, clock: clk, ctx: context.Background()}
	o := &registry.Organisation{Name: "PSB", Kind: "department", DepartmentType: "public_security"}
	if err := reg.CreateOrganisation(e.ctx, o); err != nil {
		t.Fatal(err)
	}
	e.org = o.ID
	return e
}

// as returns a context acting as the user.
func (e *env) as(u *auth.User) context.Context {
	return auth.WithActor(context.Background(), auth.ActorOf(u, "127.0.0.1"))
}

func (e *env) user(name string, role auth.Role) *auth.User {
	e.t.Helper()
	u := &auth.User{ID: registry.NewID(), Username: name, PasswordHash: "x", Role: role, CreatedAt: t0, UpdatedAt: t0}
	if err := e.db.CreateUser(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// camera registers an active camera at a point.
func (e *env) camera(name string, lat, lon float64) string {
	e.t.Helper()
	st, inv, cat := registry.StatusActive, "government", "public_square"
	yes := true
	c, err := e.reg.CreateCamera(e.ctx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &e.org,
		Investment: &inv, Lat: &lat, Lon: &lon, PlaceCategory: &cat, Status: &st, Networked: &yes, InterfaceReserved: &yes,
		SignInstalled: &yes})
	if err != nil {
		e.t.Fatalf("CreateCamera(%s) = %v", name, err)
	}
	return c.ID
}

// record indexes sealed one-minute segments covering [from, to).
func (e *env) record(cameraID string, from, to time.Time) {
	e.t.Helper()
	for s := from; s.Before(to); s = s.Add(time.Minute) {
		end := s.Add(time.Minute)
		if end.After(to) {
			end = to
		}
		if err := e.db.SegmentSealed(e.ctx, segment.Record{CameraID: cameraID, Path: fmt.Sprintf("%s/%d.mp4", cameraID, s.Unix()),
			Start: s, End: end, Bytes: 1000, SHA256: "00"}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// submit files an eligible application at a place, last seen an hour ago.
func (e *env) submit(applicant *auth.User, subject string, lat, lon float64) *lostperson.Application {
	e.t.Helper()
	a, err := e.svc.Submit(e.as(applicant), applicant.ID, &lostperson.ApplicationInput{Relationship: "guardian",
		SubjectCategory: subject, LastSeenAt: e.clock.Now().Add(-time.Hour), Lat: ptr(lat), Lon: ptr(lon),
		Description: "grey coat, walking stick"})
	if err != nil {
		e.t.Fatalf("Submit(%s) = %v", subject, err)
	}
	return a
}

// newHasher is the bound on password hashing a test's services share, with the server's
// parameters.
func newHasher(t testing.TB) *auth.Hasher {
	t.Helper()
	h, err := auth.NewHasher(auth.HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// decide records the required documents as shown in person before an acceptance, then decides.
func (e *env) decide(rev *auth.User, id string, accept bool, reason string) (*lostperson.ReviewerView, error) {
	e.t.Helper()
	if accept {
		for _, kind := range []string{lostperson.DocIdentity, lostperson.DocRelationship} {
			if _, err := e.svc.RecordShown(e.as(rev), id, kind, "seen at the front desk"); err != nil {
				e.t.Fatalf("RecordShown(%s) = %v", kind, err)
			}
		}
	}
	return e.svc.Decide(e.as(rev), id, accept, reason)
}

// writeResult drafts a result notice as rev and has a second reviewer approve it.
func (e *env) writeResult(rev *auth.User, id string, outcome lostperson.Outcome, text string) (*lostperson.Notice, error) {
	e.t.Helper()
	n, err := e.svc.DraftNotice(e.as(rev), id, lostperson.NoticeInput{Outcome: string(outcome), Message: text})
	if err != nil {
		return nil, err
	}
	second := e.user("approver-"+n.ID[:8], auth.RoleReviewer)
	return e.svc.ApproveNotice(e.as(second), id, n.ID)
}
