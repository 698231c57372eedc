package httpapi

import (
	"net/http"

	"civicam/internal/auth"
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
	res, err := s.accounts.Login(r.Context(), req.Username, req.Password, clientAddr(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": res.Token, "expires_at": res.ExpiresAt, "user": res.User})
	return nil
}

// logout ends the session whose token made the request.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _, _ := auth.RequestToken(r) // the route's authentication has found it already
	if err := s.accounts.Logout(r.Context(), token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, auth.UserFrom(r.Context()))
	return nil
}
