package access_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
)

// apps allows footage only for application "ok", user "rev", camera "c1".
type apps struct{}

func (apps) FootageAllowed(_ context.Context, app, user, cam string, _, _ time.Time) error {
	if app == "ok" && user == "rev" && cam == "c1" {
		return nil
	}
	return errors.New("not covered")
}

// grants shares camera c1 with organisation B for playback only.
type grants struct{}

func (grants) Granted(_ context.Context, u *auth.User, cam *registry.Camera, scope access.Use, _, _ time.Time) error {
	if u.OrganisationID == "B" && cam.ID == "c1" && scope == access.Playback {
		return nil
	}
	return access.ErrNoGrant
}

func TestCheck(t *testing.T) {
	cam := &registry.Camera{ID: "c1", OrganisationID: "A", Investment: registry.InvestmentGovernment}
	user := func(role auth.Role, org string) *auth.User {
		return &auth.User{ID: "u-" + string(role), Role: role, OrganisationID: org}
	}
	rev := &auth.User{ID: "rev", Role: auth.RoleReviewer}
	const (
		allow  = "allow"
		hidden = "404"
		forbid = "403"
	)
	tests := []struct {
		name    string
		checker *access.Checker
		u       *auth.User
		scope   access.Use
		app     string
		want    string
	}{
		{"admin", &access.Checker{}, user(auth.RoleAdmin, ""), access.Export, "", allow},
		{"operator of the owner", &access.Checker{}, user(auth.RoleOperator, "A"), access.Playback, "", allow},
		{"owner of the owner", &access.Checker{}, user(auth.RoleOwner, "A"), access.Live, "", allow},
		{"operator elsewhere", &access.Checker{}, user(auth.RoleOperator, "B"), access.Playback, "", hidden},
		{"operator elsewhere with a playback grant", &access.Checker{Grants: grants{}}, user(auth.RoleOperator, "B"), access.Playback, "", allow},
		{"grant does not cover export", &access.Checker{Grants: grants{}}, user(auth.RoleOperator, "B"), access.Export, "", hidden},
		{"operator without organisation", &access.Checker{}, user(auth.RoleOperator, ""), access.Playback, "", hidden},
		{"reviewer without application", &access.Checker{Applications: apps{}}, rev, access.Playback, "", forbid},
		{"reviewer with its application", &access.Checker{Applications: apps{}}, rev, access.Playback, "ok", allow},
		{"reviewer with another application", &access.Checker{Applications: apps{}}, rev, access.Playback, "other", forbid},
		{"reviewer, live under an application", &access.Checker{Applications: apps{}}, rev, access.Live, "ok", forbid},
		{"reviewer, applications not checkable", &access.Checker{}, rev, access.Playback, "ok", forbid},
		{"auditor", &access.Checker{Grants: grants{}}, user(auth.RoleAuditor, ""), access.Playback, "", forbid},
		{"applicant", &access.Checker{}, user(auth.RoleApplicant, ""), access.Playback, "ok", hidden},
		{"nobody", &access.Checker{}, nil, access.Playback, "", forbid},
	}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.checker.Check(context.Background(), tc.u, cam, tc.scope, t0, t0.Add(time.Minute), tc.app)
			got := allow
			var d *access.Denial
			switch {
			case err == nil:
			case errors.As(err, &d) && d.NotVisible:
				got = hidden
			case errors.As(err, &d):
				got = forbid
			default:
				got = "error: " + err.Error()
			}
			if got != tc.want {
				t.Errorf("Check = %v (%s); want %s", err, got, tc.want)
			}
		})
	}
	if err := (&access.Checker{}).Check(context.Background(), user(auth.RoleAdmin, ""), cam, "peek", t0, t0, ""); err == nil {
		t.Errorf("Check(unknown scope) = nil; want an error")
	}
}

// cameras is a registry of cameras by id.
type cameras map[string]*registry.Camera

func (c cameras) Camera(_ context.Context, _ registry.Scope, id string) (*registry.Camera, error) {
	if cam, ok := c[id]; ok {
		return cam, nil
	}
	return nil, fmt.Errorf("camera %s: %w", id, fault.ErrNotFound)
}

// TestRecheck: a running live view is re-checked against the camera as the registry has it now.
func TestRecheck(t *testing.T) {
	cams := cameras{"c1": {ID: "c1", OrganisationID: "A"}, "c2": {ID: "c2", OrganisationID: "B"}}
	chk := &access.Checker{Grants: grants{}}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		u      *auth.User
		camera string
		want   func(error) bool
	}{
		{"own camera", &auth.User{ID: "a", Role: auth.RoleOperator, OrganisationID: "A"}, "c1", func(err error) bool { return err == nil }},
		{"camera moved away", &auth.User{ID: "a", Role: auth.RoleOperator, OrganisationID: "A"}, "c2", isDenial},
		{"grant covers playback, not live", &auth.User{ID: "b", Role: auth.RoleOperator, OrganisationID: "B"}, "c1", isDenial},
		{"camera gone", &auth.User{ID: "a", Role: auth.RoleOperator, OrganisationID: "A"}, "c9", func(err error) bool { return errors.Is(err, fault.ErrNotFound) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := chk.Recheck(context.Background(), cams, tt.u, tt.camera, now); !tt.want(err) {
				t.Errorf("Recheck(%s, %s) = %v; want otherwise", tt.u.OrganisationID, tt.camera, err)
			}
		})
	}
}

func isDenial(err error) bool {
	var d *access.Denial
	return errors.As(err, &d)
}

// approvals approves footage requests of application "ok" by "rev" for camera "c1".
type approvals struct{}

func (approvals) FootageApproved(_ context.Context, app, user, cam string, _, _ time.Time) error {
	if app == "ok" && user == "rev" && cam == "c1" {
		return nil
	}
	return errors.New("no approved request")
}

// TestCheckPrivateCamera: an application alone does not open a private camera to a reviewer
// (REG-4); its owner's grant to the reviewer's organisation for the use, or its approval of a
// footage request, does. Without either the camera is hidden (404).
func TestCheckPrivateCamera(t *testing.T) {
	cam := &registry.Camera{ID: "c1", OrganisationID: "A", Investment: registry.InvestmentPrivate}
	revB := &auth.User{ID: "rev", Role: auth.RoleReviewer, OrganisationID: "B"}
	revC := &auth.User{ID: "rev", Role: auth.RoleReviewer, OrganisationID: "C"}
	revA := &auth.User{ID: "rev", Role: auth.RoleReviewer, OrganisationID: "A"}
	tests := []struct {
		name    string
		checker *access.Checker
		u       *auth.User
		scope   access.Use
		want    string
	}{
		{"no grant, no approval", &access.Checker{Applications: apps{}, Grants: grants{}}, revC, access.Playback, "404"},
		{"grant to the reviewer's organisation", &access.Checker{Applications: apps{}, Grants: grants{}}, revB, access.Playback, "allow"},
		{"grant does not cover export", &access.Checker{Applications: apps{}, Grants: grants{}}, revB, access.Export, "404"},
		{"approved footage request", &access.Checker{Applications: apps{}, Grants: grants{}, Approvals: approvals{}}, revC, access.Playback, "allow"},
		{"the reviewer's own organisation's camera", &access.Checker{Applications: apps{}}, revA, access.Playback, "allow"},
	}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.checker.Check(context.Background(), tc.u, cam, tc.scope, t0, t0.Add(time.Minute), "ok")
			got := "allow"
			var d *access.Denial
			switch {
			case err == nil:
			case errors.As(err, &d) && d.NotVisible:
				got = "404"
			default:
				got = "other: " + err.Error()
			}
			if got != tc.want {
				t.Errorf("Check(%s) = %v (%s); want %s", tc.name, err, got, tc.want)
			}
		})
	}
}
