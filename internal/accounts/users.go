package accounts

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// NewUser is an account to create. The JSON names are the API's.
type NewUser struct {
	Username       string `json:"username"`
	Password       string `json:"password"`
	Role           string `json:"role"`
	OrganisationID string `json:"organisation_id"` // required for operators and owners
}

// Patch is a change to an account; nil fields stay as they are. The JSON names are the API's.
type Patch struct {
	Password       *string `json:"password"`
	Role           *string `json:"role"`
	OrganisationID *string `json:"organisation_id"`
	Disabled       *bool   `json:"disabled"`
}

// CreateUser validates and stores a new account, traced before it is stored.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*auth.User, error) {
	username := strings.TrimSpace(in.Username)
	if err := auth.CheckUsername(username); err != nil {
		return nil, fault.InvalidField("username", "%v", err)
	}
	rl, err := auth.ParseRole(in.Role)
	if err != nil {
		return nil, fault.InvalidField("role", "%v", err)
	}
	if err := auth.CheckPassword(in.Password); err != nil {
		return nil, fault.InvalidField("password", "%v", err)
	}
	if rl.OrgScoped() && in.OrganisationID == "" {
		return nil, fault.InvalidField("organisation_id", "an %s belongs to an organisation", rl)
	}
	if in.OrganisationID != "" {
		if err := s.checkOrganisation(ctx, in.OrganisationID); err != nil {
			return nil, err
		}
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	t := s.now().UTC()
	u := &auth.User{ID: registry.NewID(), Username: username, PasswordHash: hash, Role: rl, OrganisationID: in.OrganisationID, CreatedAt: t, UpdatedAt: t}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionUserCreate, Outcome: trace.Allowed,
		Reason: "user " + u.ID + " " + username + " as " + string(rl)}); err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes an account. The change is traced before it is made, and any change of
// role, organisation, password or status ends the user's sessions, so a right taken away is
// gone at once. No change at all returns the user untouched. An unknown id is fault.ErrNotFound.
func (s *Service) UpdateUser(ctx context.Context, id string, p Patch) (*auth.User, error) {
	if !registry.ValidID(id) {
		return nil, fault.ErrNotFound
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	var changed []string
	if p.Role != nil && *p.Role != string(u.Role) {
		rl, err := auth.ParseRole(*p.Role)
		if err != nil {
			return nil, fault.InvalidField("role", "%v", err)
		}
		changed = append(changed, "role "+string(u.Role)+" → "+string(rl))
		u.Role = rl
	}
	if p.OrganisationID != nil && *p.OrganisationID != u.OrganisationID {
		if *p.OrganisationID != "" {
			if err := s.checkOrganisation(ctx, *p.OrganisationID); err != nil {
				return nil, err
			}
		}
		changed = append(changed, "organisation_id "+strconv.Quote(u.OrganisationID)+" → "+strconv.Quote(*p.OrganisationID))
		u.OrganisationID = *p.OrganisationID
	}
	if u.Role.OrgScoped() && u.OrganisationID == "" {
		return nil, fault.InvalidField("organisation_id", "an %s belongs to an organisation", u.Role)
	}
	if p.Password != nil {
		if err := auth.CheckPassword(*p.Password); err != nil {
			return nil, fault.InvalidField("password", "%v", err)
		}
		if u.PasswordHash, err = s.hasher.Hash(ctx, *p.Password); err != nil {
			return nil, err
		}
		changed = append(changed, "password changed") // never its value, nor its hash
	}
	if p.Disabled != nil && *p.Disabled != u.Disabled {
		changed = append(changed, "disabled "+strconv.FormatBool(u.Disabled)+" → "+strconv.FormatBool(*p.Disabled))
		u.Disabled = *p.Disabled
	}
	if len(changed) == 0 {
		return u, nil
	}
	u.UpdatedAt = s.now().UTC()
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionUserUpdate, Outcome: trace.Allowed,
		Reason: "user " + u.ID + " " + u.Username + ": " + strings.Join(changed, ", ")}); err != nil {
		return nil, err
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// Users lists the accounts, of one organisation or (with "") of all.
func (s *Service) Users(ctx context.Context, organisationID string) ([]*auth.User, error) {
	return s.store.Users(ctx, organisationID)
}

// checkOrganisation refuses an organisation id that is malformed or names no organisation, as
// bad input in the organisation_id field.
func (s *Service) checkOrganisation(ctx context.Context, id string) error {
	if !registry.ValidID(id) {
		return fault.InvalidField("organisation_id", "is not a valid id")
	}
	if _, err := s.orgs.Organisation(ctx, id); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			return fault.InvalidField("organisation_id", "no such organisation")
		}
		return err
	}
	return nil
}
