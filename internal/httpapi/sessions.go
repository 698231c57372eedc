package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/trace"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login exchanges a username and password for a bearer token.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.Login(r.Context(), req.Username, req.Password, clientAddr(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": res.Token, "expires_at": res.ExpiresAt, "user": res.User})
	return nil
}

// LoginResult is a new session.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	User      *auth.User
}

// Login checks a username and password and opens a session: the one path for the API and the
// web UI. Failures are throttled per username and per client address, a missing user costs the
// same as a wrong password, and every attempt is traced.
func (s *Server) Login(ctx context.Context, username, password, addr string) (*LoginResult, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return nil, badRequest("username", "is required")
	}
	if password == "" {
		return nil, badRequest("password", "is required")
	}
	ctx = auth.WithActor(ctx, auth.Actor{Username: username, ClientAddr: addr})
	if ok, wait := s.throttle.Allow(username, addr); !ok {
		if err := s.traceLogin(ctx, trace.ActionLoginFailed, trace.Denied, "throttled after repeated failures"); err != nil {
			return nil, err
		}
		secs := int(math.Ceil(wait.Seconds()))
		return nil, &apiError{Status: http.StatusTooManyRequests, Code: "throttled",
			Message: "too many failed logins; try again later", Extra: map[string]any{"retry_after_s": secs}}
	}
	u, err := s.db.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	// Each verification holds 64 MiB for ~100 ms: a burst of logins waits its turn rather than
	// exhausting memory.
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ok, verr := auth.VerifyPassword(hash, password)
	<-s.hashing
	if verr != nil {
		s.log.Error("stored password hash unreadable", "user", username, "err", verr)
	}
	if u == nil || !ok || u.Disabled {
		s.throttle.Failure(username, addr)
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "no such user"
		case u.Disabled && ok:
			reason = "account disabled"
		}
		if err := s.traceLogin(ctx, trace.ActionLoginFailed, trace.Denied, reason); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	s.throttle.Success(username, addr)
	if auth.NeedsRehash(u.PasswordHash) {
		// Parameters were raised since this password was set; the plain text is at hand only now.
		if h, err := auth.HashPassword(password); err == nil {
			u.PasswordHash, u.UpdatedAt = h, s.now().UTC()
			if err := s.db.UpdateUser(ctx, u); err != nil {
				s.log.Warn("rehash password", "user", username, "err", err)
			}
		}
	}
	ctx = auth.WithActor(ctx, auth.ActorOf(u, addr))
	if err := s.traceLogin(ctx, trace.ActionLogin, trace.Allowed, ""); err != nil {
		return nil, err
	}
	token, hashed := auth.NewToken()
	now := s.now().UTC()
	sess := &auth.Session{TokenHash: hashed, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), ClientAddr: addr}
	if err := s.db.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return &LoginResult{Token: token, ExpiresAt: sess.ExpiresAt, User: u}, nil
}

// Logout ends the session of a token, tracing it as the context's actor.
func (s *Server) Logout(ctx context.Context, token string) error {
	if err := s.traceLogin(ctx, trace.ActionLogout, trace.Allowed, ""); err != nil {
		return err
	}
	return s.db.DeleteSession(ctx, auth.HashToken(token))
}

func (s *Server) traceLogin(ctx context.Context, action trace.Action, outcome trace.Outcome, reason string) error {
	if err := s.tracer.Record(ctx, trace.Record{Action: action, Outcome: outcome, Reason: reason}); err != nil {
		return err
	}
	return nil
}

// logout ends the session whose token made the request.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		if c, err := r.Cookie(auth.SessionCookie); err == nil {
			token = c.Value
		}
	}
	if err := s.Logout(r.Context(), token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, auth.UserFrom(r.Context()))
	return nil
}
