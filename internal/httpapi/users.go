package httpapi

import (
	"net/http"

	"civicam/internal/accounts"
	"civicam/internal/auth"
)

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in accounts.NewUser
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.accounts.Users(r.Context(), r.URL.Query().Get("organisation_id"))
	if err != nil {
		return err
	}
	return writePage(w, r, "users", users, 1, func(u *auth.User) []string { return []string{u.Username} }, false)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var p accounts.Patch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	u, err := s.accounts.UpdateUser(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}
