// Package accounts is the one home of the people who log in: logging in (with its throttle, the
// process's bound on concurrent password hashing and its constant cost for unknown users), logging out,
// authenticating a session token, and creating and changing accounts. The API, the web UI and
// the command line all call the same Service, so a login or an account change is validated,
// throttled and traced the same way whichever face it came through.
package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Config is how the service behaves.
type Config struct {
	// SessionTTL is how long a session lasts after login.
	SessionTTL time.Duration
}

// Store is what the service needs of the accounts and sessions store (*store.DB has it).
// Missing rows are fault.ErrNotFound.
type Store interface {
	UserByUsername(ctx context.Context, username string) (*auth.User, error)
	User(ctx context.Context, id string) (*auth.User, error)
	Users(ctx context.Context, organisationID string) ([]*auth.User, error)
	CreateUser(ctx context.Context, u *auth.User) error
	UpdateUser(ctx context.Context, u *auth.User) error
	CreateSession(ctx context.Context, s *auth.Session) error
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (*auth.Session, *auth.User, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteUserSessions(ctx context.Context, userID string) error
}

// Organisations finds the organisation an operator or owner belongs to (*registry.Service has
// it); a missing one is fault.ErrNotFound.
type Organisations interface {
	Organisation(ctx context.Context, id string) (*registry.Organisation, error)
}

// Deps are the components the service works with. Store, Organisations, Tracer, Throttle and
// Hasher are required.
type Deps struct {
	Store         Store
	Organisations Organisations
	Tracer        trace.Tracer
	Throttle      *auth.Throttle
	// Hasher is the process's one bound on password hashing, shared with every other service
	// that hashes: a burst of logins waits its turn, or is refused, rather than exhausting memory.
	Hasher *auth.Hasher
	Logger *slog.Logger
	Now    func() time.Time
}

// Service logs people in and out and keeps their accounts.
type Service struct {
	cfg      Config
	store    Store
	orgs     Organisations
	tracer   trace.Tracer
	throttle *auth.Throttle
	hasher   *auth.Hasher
	log      *slog.Logger
	now      func() time.Time
	// dummy is a password hash to verify against when the user does not exist, so that a
	// missing user costs what a wrong password costs.
	dummy string
}

// The refusals of a login or a session token. All are fault.Unauthenticated, which the faces
// answer as "log in" (401); their messages are what the trail records.
var (
	// ErrBadCredentials is a login with a wrong password, for an unknown user or a disabled
	// account, told apart only in the trail.
	ErrBadCredentials = &fault.Error{Kind: fault.Unauthenticated, Code: "bad_credentials", Message: "wrong username or password"}
	// ErrNoSession is a token of no session, or of one that expired or was ended.
	ErrNoSession = &fault.Error{Kind: fault.Unauthenticated, Code: "unauthenticated", Message: "unknown or expired token"}
	// ErrDisabled is a session of an account disabled since it logged in.
	ErrDisabled = &fault.Error{Kind: fault.Unauthenticated, Code: "unauthenticated", Message: "account disabled"}
)

// New builds the service.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Store == nil || d.Organisations == nil || d.Tracer == nil || d.Throttle == nil || d.Hasher == nil {
		return nil, errors.New("accounts: Store, Organisations, Tracer, Throttle and Hasher are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: d.Store, orgs: d.Organisations, tracer: d.Tracer, throttle: d.Throttle,
		hasher: d.Hasher, log: d.Logger, now: d.Now, dummy: d.Hasher.Dummy()}, nil
}

// Session is a session just opened: the token goes to the client, which alone holds it (the
// store keeps its hash).
type Session struct {
	Token     string
	ExpiresAt time.Time
	User      *auth.User
}

// Login checks a username and password and opens a session. Failures are throttled per username
// and per client address, a missing user costs the same as a wrong password, and every attempt
// is traced; a password hashed with older parameters is hashed again while its text is at hand.
func (s *Service) Login(ctx context.Context, username, password, clientAddr string) (*Session, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, fault.InvalidField("username", "is required")
	}
	if password == "" {
		return nil, fault.InvalidField("password", "is required")
	}
	ctx = auth.WithActor(ctx, auth.Actor{Username: username, ClientAddr: clientAddr})
	// The attempt is counted before the password is checked, so that a burst of logins gets no
	// more checks than the limit; every path below reports its outcome exactly once.
	if ok, wait := s.throttle.Attempt(username, clientAddr); !ok {
		if err := s.trace(ctx, trace.ActionLoginFailed, trace.Denied, "throttled after repeated failures"); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Throttled, Code: "throttled", Message: "too many failed logins; try again later", RetryAfter: wait}
	}
	reported := false
	defer func() {
		if !reported {
			s.throttle.Failure(username, clientAddr)
		}
	}()
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, fault.ErrNotFound) {
		return nil, err
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.verify(ctx, username, hash, password)
	if err != nil {
		// No password was checked (no hashing slot, or the client left): the attempt counts
		// neither way.
		s.throttle.Release(username, clientAddr)
		reported = true
		return nil, err
	}
	if u == nil || !ok || u.Disabled {
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "no such user"
		case u.Disabled && ok:
			reason = "account disabled"
		}
		if err := s.trace(ctx, trace.ActionLoginFailed, trace.Denied, reason); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	s.throttle.Success(username, clientAddr)
	reported = true
	if s.hasher.NeedsRehash(u.PasswordHash) {
		s.rehash(ctx, u, password)
	}
	ctx = auth.WithActor(ctx, auth.ActorOf(u, clientAddr))
	if err := s.trace(ctx, trace.ActionLogin, trace.Allowed, ""); err != nil {
		return nil, err
	}
	token, hashed := auth.NewToken()
	now := s.now().UTC()
	sess := &auth.Session{TokenHash: hashed, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), ClientAddr: clientAddr}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return &Session{Token: token, ExpiresAt: sess.ExpiresAt, User: u}, nil
}

// verify checks password against hash in one of the hasher's slots; the error is the hasher's
// refusal (auth.ErrBusy) or the context's. An unreadable stored hash is logged and counts as a
// wrong password.
func (s *Service) verify(ctx context.Context, username, hash, password string) (bool, error) {
	ok, err := s.hasher.Verify(ctx, hash, password)
	switch {
	case errors.Is(err, auth.ErrMalformedHash):
		s.log.Error("stored password hash unreadable", "user", username, "err", err)
	case err != nil:
		return false, err
	}
	return ok, nil
}

// rehash stores a hash of password made with today's parameters. It is an upgrade, not part of
// the login: a failure is logged and the login goes on.
func (s *Service) rehash(ctx context.Context, u *auth.User, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.log.Warn("rehash password", "user", u.Username, "err", err)
		return
	}
	u.PasswordHash, u.UpdatedAt = h, s.now().UTC()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		s.log.Warn("rehash password", "user", u.Username, "err", err)
	}
}

// Logout ends the session of token, tracing it as the context's actor.
func (s *Service) Logout(ctx context.Context, token string) error {
	if err := s.trace(ctx, trace.ActionLogout, trace.Allowed, ""); err != nil {
		return err
	}
	return s.store.DeleteSession(ctx, auth.HashToken(token))
}

// Authenticate finds the user behind a session token. A token of no live session is
// ErrNoSession, a disabled account's ErrDisabled.
func (s *Service) Authenticate(ctx context.Context, token string) (*auth.User, error) {
	_, u, err := s.store.SessionUser(ctx, auth.HashToken(token), s.now())
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return nil, ErrNoSession
		}
		return nil, err
	}
	if u.Disabled {
		return nil, ErrDisabled
	}
	return u, nil
}

func (s *Service) trace(ctx context.Context, action trace.Action, outcome trace.Outcome, reason string) error {
	return s.tracer.Record(ctx, trace.Record{Action: action, Outcome: outcome, Reason: reason})
}
