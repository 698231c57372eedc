package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

type userRequest struct {
	Username       string `json:"username"`
	Password       string `json:"password"`
	Role           string `json:"role"`
	OrganisationID string `json:"organisation_id"`
}

// CreateUser validates and stores a new account: the one path for the API and the CLI.
func CreateUser(ctx context.Context, reg *registry.Service, db interface {
	CreateUser(context.Context, *auth.User) error
}, tracer Tracer, username, password, role, orgID string, now func() time.Time) (*auth.User, error) {
	username = strings.TrimSpace(username)
	if !validUsername(username) {
		return nil, badRequest("username", "must be 3-64 letters, digits, '.', '-' or '_'")
	}
	rl, err := auth.ParseRole(role)
	if err != nil {
		return nil, badRequest("role", "%v", err)
	}
	if err := auth.CheckPassword(password); err != nil {
		return nil, badRequest("password", "%v", err)
	}
	switch rl {
	case auth.RoleOperator, auth.RoleOwner:
		if orgID == "" {
			return nil, badRequest("organisation_id", "an %s belongs to an organisation", rl)
		}
	}
	if orgID != "" {
		if !registry.ValidID(orgID) {
			return nil, badRequest("organisation_id", "is not a valid id")
		}
		if _, err := reg.Organisation(ctx, orgID); err != nil {
			return nil, badRequest("organisation_id", "no such organisation")
		}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	t := now().UTC()
	u := &auth.User{ID: registry.NewID(), Username: username, PasswordHash: hash, Role: rl, OrganisationID: orgID, CreatedAt: t, UpdatedAt: t}
	if err := tracer.Record(ctx, registry.TraceRecord{Action: "user_create", Outcome: "allowed",
		Reason: "user " + u.ID + " " + username + " as " + string(rl)}); err != nil {
		return nil, traceFailed(err)
	}
	if err := db.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func validUsername(s string) bool {
	if len(s) < 3 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var req userRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	u, err := CreateUser(r.Context(), s.reg, s.db, s.tracer, req.Username, req.Password, req.Role, req.OrganisationID, s.now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	org := r.URL.Query().Get("organisation_id")
	users, err := s.db.Users(r.Context(), org)
	if err != nil {
		return err
	}
	if users == nil {
		users = []*auth.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
	return nil
}

type userPatch struct {
	Password       *string `json:"password"`
	Role           *string `json:"role"`
	OrganisationID *string `json:"organisation_id"`
	Disabled       *bool   `json:"disabled"`
}

// updateUser changes an account. Any change of role, organisation, password or status ends the
// user's sessions, so a right taken away is gone at once.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var req userPatch
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.db.User(ctx, id)
	if err != nil {
		return err
	}
	var changed []string
	if req.Role != nil {
		rl, err := auth.ParseRole(*req.Role)
		if err != nil {
			return badRequest("role", "%v", err)
		}
		u.Role = rl
		changed = append(changed, "role="+string(rl))
	}
	if req.OrganisationID != nil {
		if *req.OrganisationID != "" {
			if !registry.ValidID(*req.OrganisationID) {
				return badRequest("organisation_id", "is not a valid id")
			}
			if _, err := s.reg.Organisation(ctx, *req.OrganisationID); err != nil {
				return badRequest("organisation_id", "no such organisation")
			}
		}
		u.OrganisationID = *req.OrganisationID
		changed = append(changed, "organisation_id="+u.OrganisationID)
	}
	if (u.Role == auth.RoleOperator || u.Role == auth.RoleOwner) && u.OrganisationID == "" {
		return badRequest("organisation_id", "an %s belongs to an organisation", u.Role)
	}
	if req.Password != nil {
		if err := auth.CheckPassword(*req.Password); err != nil {
			return badRequest("password", "%v", err)
		}
		if u.PasswordHash, err = auth.HashPassword(*req.Password); err != nil {
			return err
		}
		changed = append(changed, "password")
	}
	if req.Disabled != nil {
		u.Disabled = *req.Disabled
		changed = append(changed, "disabled="+boolString(u.Disabled))
	}
	u.UpdatedAt = s.now().UTC()
	if err := s.tracer.Record(ctx, registry.TraceRecord{Action: "user_update", Outcome: "allowed",
		Reason: "user " + u.ID + " " + u.Username + ": " + strings.Join(changed, ", ")}); err != nil {
		return traceFailed(err)
	}
	if err := s.db.UpdateUser(ctx, u); err != nil {
		return err
	}
	if len(changed) > 0 {
		if err := s.db.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
