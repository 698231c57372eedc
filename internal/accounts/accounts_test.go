package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

const password = "correct horse battery"

// trail keeps what the service traces, and fails when down is set.
type trail struct {
	mu      sync.Mutex
	down    bool
	records []trace.Record
	actors  []auth.Actor
}

func (tr *trail) Record(ctx context.Context, r trace.Record) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.down {
		return fmt.Errorf("%w: trail down (test)", trace.ErrUnavailable)
	}
	a, _ := auth.ActorFrom(ctx)
	tr.records = append(tr.records, r)
	tr.actors = append(tr.actors, a)
	return nil
}

func (tr *trail) setDown(down bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.down = down
}

// last is the newest record and the actor it was traced as.
func (tr *trail) last(t *testing.T) (trace.Record, auth.Actor) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.records) == 0 {
		t.Fatal("nothing traced")
	}
	return tr.records[len(tr.records)-1], tr.actors[len(tr.actors)-1]
}

func (tr *trail) len() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.records)
}

type env struct {
	db    *store.DB
	svc   *accounts.Service
	trail *trail
	clock *clocktest.Clock
	org   string
}

var setupCtx = auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	tr := &trail{}
	svc, err := accounts.New(accounts.Config{SessionTTL: time.Hour}, accounts.Deps{Store: db, Organisations: db, Tracer: tr, Hasher: mustHasher(t),
		Throttle: auth.NewThrottle(auth.ThrottleConfig{UserFailures: 3, IPFailures: 1000, Window: time.Minute}, clk.Now), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	org := &registry.Organisation{ID: registry.NewID(), Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security",
		CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := db.CreateOrganisation(context.Background(), org); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, svc: svc, trail: tr, clock: clk, org: org.ID}
}

func (e *env) addUser(t *testing.T, username string, role auth.Role, org string) *auth.User {
	t.Helper()
	u, err := e.svc.CreateUser(setupCtx, accounts.NewUser{Username: username, Password: password, Role: string(role), OrganisationID: org})
	if err != nil {
		t.Fatalf("CreateUser(%s) = %v", username, err)
	}
	return u
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := accounts.New(accounts.Config{}, accounts.Deps{}); err == nil {
		t.Error("New(no deps) = nil error; want a refusal")
	}
}

func TestLogin(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		op := e.addUser(t, "op1", auth.RoleOperator, e.org)
		off := e.addUser(t, "off1", auth.RoleAuditor, "")
		disabled := true
		if _, err := e.svc.UpdateUser(setupCtx, off.ID, accounts.Patch{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, username, password string
			wantErr                  error  // nil: a session
			wantField                string // for invalid input
			wantReason               string // of the login_failed entry
		}{
			{"right password", " op1 ", password, nil, "", ""},
			{"wrong password", "op1", "not the password", accounts.ErrBadCredentials, "", "wrong password"},
			{"missing user", "ghost", password, accounts.ErrBadCredentials, "", "no such user"},
			{"disabled account", "off1", password, accounts.ErrBadCredentials, "", "account disabled"},
			{"disabled, wrong password", "off1", "not the password", accounts.ErrBadCredentials, "", "wrong password"},
			{"no username", "  ", password, nil, "username", ""},
			{"no password", "op1", "", nil, "password", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.trail.len()
				sess, err := e.svc.Login(context.Background(), tt.username, tt.password, "10.0.0.1")
				switch {
				case tt.wantField != "":
					fe, ok := fault.As(err)
					if !ok || fe.Kind != fault.Invalid || fe.Field != tt.wantField || fe.Message != "is required" {
						t.Fatalf("Login(%q, %q) = %v; want invalid %s: is required", tt.username, tt.password, err, tt.wantField)
					}
					if n := e.trail.len(); n != before {
						t.Errorf("Login with missing input traced %d entries; want none", n-before)
					}
				case tt.wantErr != nil:
					if !errors.Is(err, tt.wantErr) || sess != nil {
						t.Fatalf("Login(%q) = %v, %v; want %v", tt.username, sess, err, tt.wantErr)
					}
					if fe, _ := fault.As(err); fe.Kind != fault.Unauthenticated || fe.Code != "bad_credentials" || fe.Message != "wrong username or password" {
						t.Errorf("Login(%q) error = %+v; want unauthenticated bad_credentials", tt.username, fe)
					}
					r, a := e.trail.last(t)
					if r.Action != trace.ActionLoginFailed || r.Outcome != trace.Denied || r.Reason != tt.wantReason || a.Username != strings.TrimSpace(tt.username) || a.ClientAddr != "10.0.0.1" {
						t.Errorf("Login(%q) traced %+v as %+v; want login_failed denied %q", tt.username, r, a, tt.wantReason)
					}
				default:
					if err != nil {
						t.Fatalf("Login(%q) = %v; want a session", tt.username, err)
					}
					if sess.User.ID != op.ID || !sess.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) || sess.Token == "" {
						t.Errorf("Login(%q) = %+v; want op1's session for an hour", tt.username, sess)
					}
					r, a := e.trail.last(t)
					if r.Action != trace.ActionLogin || r.Outcome != trace.Allowed || a.UserID != op.ID || a.Role != auth.RoleOperator {
						t.Errorf("Login traced %+v as %+v; want login allowed as op1", r, a)
					}
					u, err := e.svc.Authenticate(context.Background(), sess.Token)
					if err != nil || u.ID != op.ID {
						t.Errorf("Authenticate(new token) = %v, %v; want op1", u, err)
					}
				}
			})
		}
	})
}

func TestLoginThrottled(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.addUser(t, "op1", auth.RoleOperator, e.org)
	for i := range 3 {
		if _, err := e.svc.Login(context.Background(), "op1", "not the password", "10.0.0.1"); !errors.Is(err, accounts.ErrBadCredentials) {
			t.Fatalf("failure %d = %v; want ErrBadCredentials", i, err)
		}
	}
	// Locked now: even the right password is refused, and the refusal is traced.
	_, err := e.svc.Login(context.Background(), "op1", password, "10.0.0.1")
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Throttled || fe.Code != "throttled" || fe.Message != "too many failed logins; try again later" || fe.RetryAfter <= 0 {
		t.Fatalf("Login while locked = %v; want throttled with a RetryAfter", err)
	}
	if r, _ := e.trail.last(t); r.Action != trace.ActionLoginFailed || r.Reason != "throttled after repeated failures" {
		t.Errorf("throttled login traced %+v; want login_failed, throttled", r)
	}
	e.clock.Advance(fe.RetryAfter)
	if _, err := e.svc.Login(context.Background(), "op1", password, "10.0.0.1"); err != nil {
		t.Errorf("Login after RetryAfter = %v; want a session", err)
	}
}

func TestLoginRehashes(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	u := e.addUser(t, "op1", auth.RoleOperator, e.org)
	weak := auth.DefaultParams()
	weak.MemoryKiB = 8 * 1024
	old, err := weak.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = old
	if err := e.db.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(context.Background(), "op1", password, "10.0.0.1"); err != nil {
		t.Fatalf("Login with an old hash = %v; want a session", err)
	}
	got, err := e.db.User(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash == old || auth.NeedsRehash(got.PasswordHash) {
		t.Errorf("stored hash after login = %q; want one with today's parameters", got.PasswordHash)
	}
	if ok, err := auth.VerifyPassword(got.PasswordHash, password); !ok || err != nil {
		t.Errorf("VerifyPassword(new hash) = %v, %v; want true", ok, err)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	u := e.addUser(t, "op1", auth.RoleOperator, e.org)
	login := func() string {
		t.Helper()
		s, err := e.svc.Login(context.Background(), "op1", password, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	if _, err := e.svc.Authenticate(context.Background(), "no such token"); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("Authenticate(unknown) = %v; want ErrNoSession", err)
	}

	tok := login()
	e.clock.Advance(time.Hour + time.Second)
	if _, err := e.svc.Authenticate(context.Background(), tok); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("Authenticate(expired) = %v; want ErrNoSession", err)
	}

	tok = login()
	if err := e.svc.Logout(auth.WithActor(context.Background(), auth.ActorOf(u, "10.0.0.1")), tok); err != nil {
		t.Fatalf("Logout = %v", err)
	}
	if r, a := e.trail.last(t); r.Action != trace.ActionLogout || a.UserID != u.ID {
		t.Errorf("Logout traced %+v as %+v; want logout as op1", r, a)
	}
	if _, err := e.svc.Authenticate(context.Background(), tok); !errors.Is(err, accounts.ErrNoSession) {
		t.Errorf("Authenticate(logged out) = %v; want ErrNoSession", err)
	}

	// Disabled behind the service's back (in the store): the session is refused all the same.
	tok = login()
	u.Disabled = true
	if err := e.db.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(context.Background(), tok); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("Authenticate(disabled) = %v; want ErrDisabled", err)
	}
	if fe, _ := fault.As(accounts.ErrDisabled); fe.Kind != fault.Unauthenticated || fe.Error() != "account disabled" {
		t.Errorf("ErrDisabled = %+v; want unauthenticated, \"account disabled\"", fe)
	}
}

func TestCreateUserRefusals(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	tests := []struct {
		name       string
		in         accounts.NewUser
		field, msg string
	}{
		{"username too short", accounts.NewUser{Username: "ab", Password: password, Role: "admin"}, "username", "must be 3-64 letters, digits, '.', '-' or '_'"},
		{"username with a space", accounts.NewUser{Username: "op one", Password: password, Role: "admin"}, "username", "must be 3-64 letters, digits, '.', '-' or '_'"},
		{"username too long", accounts.NewUser{Username: strings.Repeat("a", 65), Password: password, Role: "admin"}, "username", "must be 3-64 letters, digits, '.', '-' or '_'"},
		{"unknown role", accounts.NewUser{Username: "op1", Password: password, Role: "boss"}, "role", ""},
		{"short password", accounts.NewUser{Username: "op1", Password: "short", Role: "admin"}, "password", auth.ErrPasswordTooShort.Error()},
		{"operator without organisation", accounts.NewUser{Username: "op1", Password: password, Role: "operator"}, "organisation_id", "an operator belongs to an organisation"},
		{"owner without organisation", accounts.NewUser{Username: "ow1", Password: password, Role: "owner"}, "organisation_id", "an owner belongs to an organisation"},
		{"malformed organisation", accounts.NewUser{Username: "op1", Password: password, Role: "operator", OrganisationID: "x y"}, "organisation_id", "is not a valid id"},
		{"unknown organisation", accounts.NewUser{Username: "op1", Password: password, Role: "operator", OrganisationID: registry.NewID()}, "organisation_id", "no such organisation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateUser(setupCtx, tt.in)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Invalid || fe.Code != "invalid" || fe.Field != tt.field || (tt.msg != "" && fe.Message != tt.msg) {
				t.Errorf("CreateUser(%+v) = %v; want invalid %s: %s", tt.in, err, tt.field, tt.msg)
			}
		})
	}
	if n := e.trail.len(); n != 0 {
		t.Errorf("refused creations traced %d entries; want none", n)
	}
	users, err := e.svc.Users(context.Background(), "")
	if err != nil || len(users) != 0 {
		t.Errorf("Users() = %v, %v; want none after refusals", users, err)
	}
}

func TestCreateUser(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		u := e.addUser(t, " op1 ", auth.RoleOperator, e.org)
		if u.Username != "op1" || u.Role != auth.RoleOperator || u.OrganisationID != e.org || !u.CreatedAt.Equal(e.clock.Now()) {
			t.Errorf("CreateUser = %+v; want op1, operator of the organisation, created now", u)
		}
		r, a := e.trail.last(t)
		if r.Action != trace.ActionUserCreate || r.Reason != "user "+u.ID+" op1 as operator" || a.Username != "test-setup" {
			t.Errorf("CreateUser traced %+v as %+v; want user_create by test-setup", r, a)
		}
		e.addUser(t, "aud1", auth.RoleAuditor, "")
		for org, want := range map[string]int{"": 2, e.org: 1} {
			if users, err := e.svc.Users(context.Background(), org); err != nil || len(users) != want {
				t.Errorf("Users(%q) = %d users, %v; want %d", org, len(users), err, want)
			}
		}
		if _, err := e.svc.CreateUser(setupCtx, accounts.NewUser{Username: "op1", Password: password, Role: "admin"}); !errors.Is(err, fault.ErrConflict) {
			t.Errorf("CreateUser(taken username) = %v; want a conflict", err)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ptr := func(s string) *string { return &s }
		yes := true
		tests := []struct {
			name       string
			patch      accounts.Patch
			endsLogins bool
			reason     string // after "user <id> op1: "; "" when nothing changes
		}{
			{"nothing", accounts.Patch{}, false, ""},
			{"same role", accounts.Patch{Role: ptr("operator")}, false, ""},
			{"role", accounts.Patch{Role: ptr("owner")}, true, "role operator → owner"},
			{"password", accounts.Patch{Password: ptr("another long password")}, true, "password changed"},
			{"disabled", accounts.Patch{Disabled: &yes}, true, "disabled false → true"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := e.addUser(t, "op-"+strings.ReplaceAll(tt.name, " ", "-"), auth.RoleOperator, e.org)
				sess, err := e.svc.Login(context.Background(), u.Username, password, "10.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				before := e.trail.len()
				if _, err := e.svc.UpdateUser(setupCtx, u.ID, tt.patch); err != nil {
					t.Fatalf("UpdateUser(%+v) = %v", tt.patch, err)
				}
				_, err = e.svc.Authenticate(context.Background(), sess.Token)
				if ended := errors.Is(err, accounts.ErrNoSession); ended != tt.endsLogins {
					t.Errorf("UpdateUser(%+v): session ended = %v (%v); want %v", tt.patch, ended, err, tt.endsLogins)
				}
				if tt.reason == "" {
					if n := e.trail.len(); n != before {
						t.Errorf("UpdateUser(no change) traced %d entries; want none", n-before)
					}
					return
				}
				if r, _ := e.trail.last(t); r.Action != trace.ActionUserUpdate || r.Reason != "user "+u.ID+" "+u.Username+": "+tt.reason {
					t.Errorf("UpdateUser traced %+v; want user_update %q", r, tt.reason)
				}
			})
		}
	})
}

func TestUpdateUserRefusals(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	u := e.addUser(t, "op1", auth.RoleOperator, e.org)
	ptr := func(s string) *string { return &s }
	for _, id := range []string{"not an id", registry.NewID()} {
		if _, err := e.svc.UpdateUser(setupCtx, id, accounts.Patch{Role: ptr("admin")}); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("UpdateUser(%q) = %v; want fault.ErrNotFound", id, err)
		}
	}
	tests := []struct {
		name  string
		patch accounts.Patch
		field string
	}{
		{"unknown role", accounts.Patch{Role: ptr("boss")}, "role"},
		{"operator loses organisation", accounts.Patch{OrganisationID: ptr("")}, "organisation_id"},
		{"unknown organisation", accounts.Patch{OrganisationID: ptr(registry.NewID())}, "organisation_id"},
		{"short password", accounts.Patch{Password: ptr("short")}, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.UpdateUser(setupCtx, u.ID, tt.patch)
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != tt.field {
				t.Errorf("UpdateUser(%+v) = %v; want invalid %s", tt.patch, err, tt.field)
			}
		})
	}
}

// TestTrailDownWritesNothing: when the trail cannot be written, nothing is done untraced: no
// account, no change, no session.
func TestTrailDownWritesNothing(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	u := e.addUser(t, "op1", auth.RoleOperator, e.org)
	sess, err := e.svc.Login(context.Background(), "op1", password, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e.trail.setDown(true)

	if _, err := e.svc.CreateUser(setupCtx, accounts.NewUser{Username: "op2", Password: password, Role: "admin"}); !errors.Is(err, trace.ErrUnavailable) {
		t.Errorf("CreateUser(trail down) = %v; want trace.ErrUnavailable", err)
	}
	if _, err := e.db.UserByUsername(context.Background(), "op2"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("user op2 after a refused creation: %v; want not found", err)
	}

	role := "owner"
	if _, err := e.svc.UpdateUser(setupCtx, u.ID, accounts.Patch{Role: &role}); !errors.Is(err, trace.ErrUnavailable) {
		t.Errorf("UpdateUser(trail down) = %v; want trace.ErrUnavailable", err)
	}
	if got, err := e.db.User(context.Background(), u.ID); err != nil || got.Role != auth.RoleOperator {
		t.Errorf("user after a refused update = %+v, %v; want still an operator", got, err)
	}
	if _, err := e.svc.Authenticate(context.Background(), sess.Token); err != nil {
		t.Errorf("session after a refused update: %v; want it still open", err)
	}

	for _, pw := range []string{password, "not the password"} {
		if s, err := e.svc.Login(context.Background(), "op1", pw, "10.0.0.1"); !errors.Is(err, trace.ErrUnavailable) || s != nil {
			t.Errorf("Login(%q, trail down) = %v, %v; want trace.ErrUnavailable", pw, s, err)
		}
	}
	if err := e.svc.Logout(context.Background(), sess.Token); !errors.Is(err, trace.ErrUnavailable) {
		t.Errorf("Logout(trail down) = %v; want trace.ErrUnavailable", err)
	}
	if _, err := e.svc.Authenticate(context.Background(), sess.Token); err != nil {
		t.Errorf("session after a refused logout: %v; want it still open", err)
	}
}

func mustHasher(t testing.TB) *auth.Hasher {
	t.Helper()
	h, err := auth.NewHasher(auth.HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
