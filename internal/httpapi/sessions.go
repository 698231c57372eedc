package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/store"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login exchanges a username and password for a bearer token. Failures are throttled per
// username and per client address, and a missing user costs the same as a wrong password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	req.Username = strings.TrimSpace(req.Username)
	if req.Username == "" {
		return badRequest("username", "is required")
	}
	if req.Password == "" {
		return badRequest("password", "is required")
	}
	ctx := r.Context()
	addr := clientAddr(r)
	ctx = auth.WithActor(ctx, auth.Actor{Username: req.Username, ClientAddr: addr})
	if ok, wait := s.throttle.Allow(req.Username, addr); !ok {
		s.traceLogin(ctx, "login_failed", "denied", "throttled after repeated failures")
		secs := int(math.Ceil(wait.Seconds()))
		return &apiError{Status: http.StatusTooManyRequests, Code: "throttled",
			Message: "too many failed logins; try again later", Extra: map[string]any{"retry_after_s": secs}}
	}
	u, err := s.db.UserByUsername(ctx, req.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	ok, verr := auth.VerifyPassword(hash, req.Password)
	if verr != nil {
		s.log.Error("stored password hash unreadable", "user", req.Username, "err", verr)
	}
	if u == nil || !ok || u.Disabled {
		s.throttle.Failure(req.Username, addr)
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "no such user"
		case u.Disabled && ok:
			reason = "account disabled"
		}
		if err := s.traceLogin(ctx, "login_failed", "denied", reason); err != nil {
			return err
		}
		return errBadCredentials
	}
	s.throttle.Success(req.Username, addr)
	ctx = auth.WithActor(r.Context(), auth.ActorOf(u, addr))
	if err := s.traceLogin(ctx, "login", "allowed", ""); err != nil {
		return err
	}
	token, hashed := auth.NewToken()
	now := s.now().UTC()
	sess := &auth.Session{TokenHash: hashed, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), ClientAddr: addr}
	if err := s.db.CreateSession(ctx, sess); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": sess.ExpiresAt, "user": u})
	return nil
}

func (s *Server) traceLogin(ctx context.Context, action, outcome, reason string) error {
	if err := s.tracer.Record(ctx, registry.TraceRecord{Action: action, Outcome: outcome, Reason: reason}); err != nil {
		return traceFailed(err)
	}
	return nil
}

// logout ends the session whose token made the request.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		if c, err := r.Cookie(SessionCookie); err == nil {
			token = c.Value
		}
	}
	if err := s.traceLogin(r.Context(), "logout", "allowed", ""); err != nil {
		return err
	}
	if err := s.db.DeleteSession(r.Context(), auth.HashToken(token)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, UserFrom(r.Context()))
	return nil
}
