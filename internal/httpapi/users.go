package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/trace"
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
}, tracer trace.Tracer, username, password, role, orgID string, now func() time.Time) (*auth.User, error) {
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
	if err := tracer.Record(ctx, trace.Record{Action: trace.ActionUserCreate, Outcome: trace.Allowed,
		Reason: "user " + u.ID + " " + username + " as " + string(rl)}); err != nil {
		return nil, err
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

// UserPatch is a change to an account; nil fields stay as they are.
type UserPatch struct {
	Password       *string `json:"password"`
	Role           *string `json:"role"`
	OrganisationID *string `json:"organisation_id"`
	Disabled       *bool   `json:"disabled"`
}

// UserStore is what changing an account needs of the store.
type UserStore interface {
	User(ctx context.Context, id string) (*auth.User, error)
	UpdateUser(ctx context.Context, u *auth.User) error
	DeleteUserSessions(ctx context.Context, userID string) error
}

// UpdateUser changes an account: the one path for the API and the web UI. The change is traced
// before it is made, and any change of role, organisation, password or status ends the user's
// sessions, so a right taken away is gone at once. No change at all returns the user untouched.
func UpdateUser(ctx context.Context, reg *registry.Service, db UserStore, tracer trace.Tracer, id string, p UserPatch, now func() time.Time) (*auth.User, error) {
	if !registry.ValidID(id) {
		return nil, errNotFound
	}
	u, err := db.User(ctx, id)
	if err != nil {
		return nil, err
	}
	var changed []string
	if p.Role != nil && *p.Role != string(u.Role) {
		rl, err := auth.ParseRole(*p.Role)
		if err != nil {
			return nil, badRequest("role", "%v", err)
		}
		u.Role = rl
		changed = append(changed, "role="+string(rl))
	}
	if p.OrganisationID != nil && *p.OrganisationID != u.OrganisationID {
		if *p.OrganisationID != "" {
			if !registry.ValidID(*p.OrganisationID) {
				return nil, badRequest("organisation_id", "is not a valid id")
			}
			if _, err := reg.Organisation(ctx, *p.OrganisationID); err != nil {
				return nil, badRequest("organisation_id", "no such organisation")
			}
		}
		u.OrganisationID = *p.OrganisationID
		changed = append(changed, "organisation_id="+u.OrganisationID)
	}
	if u.Role.OrgScoped() && u.OrganisationID == "" {
		return nil, badRequest("organisation_id", "an %s belongs to an organisation", u.Role)
	}
	if p.Password != nil {
		if err := auth.CheckPassword(*p.Password); err != nil {
			return nil, badRequest("password", "%v", err)
		}
		if u.PasswordHash, err = auth.HashPassword(*p.Password); err != nil {
			return nil, err
		}
		changed = append(changed, "password")
	}
	if p.Disabled != nil && *p.Disabled != u.Disabled {
		u.Disabled = *p.Disabled
		changed = append(changed, "disabled="+boolString(u.Disabled))
	}
	if len(changed) == 0 {
		return u, nil
	}
	u.UpdatedAt = now().UTC()
	if err := tracer.Record(ctx, trace.Record{Action: trace.ActionUserUpdate, Outcome: trace.Allowed,
		Reason: "user " + u.ID + " " + u.Username + ": " + strings.Join(changed, ", ")}); err != nil {
		return nil, err
	}
	if err := db.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var p UserPatch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	u, err := UpdateUser(r.Context(), s.reg, s.db, s.tracer, r.PathValue("id"), p, s.now)
	if err != nil {
		return err
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
