// Package access is the one place that decides whether a user may see a camera's video — live,
// recorded or exported — for a time range (REG-5). Every footage route asks Check before it
// traces and serves; sharing grants between organisations (issue 7) and lost-person applications
// plug in through the small interfaces below, so the rule stays in one function.
package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// Use is the kind of look at a camera's video.
type Use string

const (
	Live     Use = "live"
	Playback Use = "playback"
	Export   Use = "export"
)

// Valid reports whether s is a known scope.
func (s Use) Valid() bool { return s == Live || s == Playback || s == Export }

// Applications answers whether an accepted application lets a reviewer see a camera's footage
// for [from, to); *request.Service implements it (FootageAllowed returns nil when it may).
type Applications interface {
	FootageAllowed(ctx context.Context, applicationID, userID, cameraID string, from, to time.Time) error
}

// Grants answers whether another organisation's camera is shared with the user's organisation
// for scope over [from, to). A nil error means granted; ErrNoGrant (or any error) refuses.
type Grants interface {
	Granted(ctx context.Context, u *auth.User, cam *registry.Camera, scope Use, from, to time.Time) error
}

// Approvals answers whether a camera's owner approved a footage request a reviewer sent under an
// application, covering [from, to); *lostperson.Service implements it (nil when it did).
type Approvals interface {
	FootageApproved(ctx context.Context, applicationID, userID, cameraID string, from, to time.Time) error
}

// ErrNoGrant is what a Grants returns when nothing covers the request.
var ErrNoGrant = errors.New("no sharing grant covers this")

// Denial is a refusal. NotVisible is set when the camera lies outside what the user may know
// of at all (another organisation's camera without a grant): the API then answers as if it did
// not exist (404) rather than 403.
type Denial struct {
	NotVisible bool
	Reason     string
}

func (d *Denial) Error() string { return "access denied: " + d.Reason }

// Checker decides. Applications nil refuses every reviewer (no application can be checked);
// Grants nil means no sharing grants exist; Approvals nil means no owner approved a footage
// request.
type Checker struct {
	Applications Applications
	Grants       Grants
	Approvals    Approvals
}

// Check returns nil when u may see cam's video for scope over [from, to) (for Live, from and
// to are the moment of the request), and a *Denial otherwise. applicationID is the lost-person
// application a reviewer looks under; other roles' looks ignore it. Errors other than a Denial
// (a store failing) also refuse.
func (c *Checker) Check(ctx context.Context, u *auth.User, cam *registry.Camera, scope Use, from, to time.Time, applicationID string) error {
	if u == nil {
		return &Denial{Reason: "not logged in"}
	}
	if !scope.Valid() {
		return fmt.Errorf("access check: unknown scope %q", scope)
	}
	switch u.Role {
	case auth.RoleAdmin:
		return nil
	case auth.RoleOperator, auth.RoleOwner:
		if u.OrganisationID != "" && cam.OrganisationID == u.OrganisationID {
			return nil
		}
		if c != nil && c.Grants != nil {
			err := c.Grants.Granted(ctx, u, cam, scope, from, to)
			if err == nil {
				return nil
			}
			if !errors.Is(err, ErrNoGrant) {
				return fmt.Errorf("access check: grants: %w", err)
			}
		}
		return &Denial{NotVisible: true, Reason: "camera belongs to another organisation and is not shared with yours"}
	case auth.RoleReviewer:
		if applicationID == "" {
			return &Denial{Reason: "a reviewer sees footage only under a lost-person application: give application_id"}
		}
		if scope == Live {
			return &Denial{Reason: "an application covers recorded footage, not live view"}
		}
		if c == nil || c.Applications == nil {
			return &Denial{Reason: "applications cannot be checked on this server"}
		}
		if err := c.Applications.FootageAllowed(ctx, applicationID, u.ID, cam.ID, from, to); err != nil {
			return &Denial{Reason: "application " + applicationID + " does not cover this: " + err.Error()}
		}
		if cam.Investment == registry.InvestmentGovernment {
			return nil // shared with the police by the pack's default
		}
		return c.ownerConsents(ctx, u, cam, scope, from, to, applicationID)
	case auth.RoleAuditor:
		return &Denial{Reason: "auditors never see footage"}
	}
	return &Denial{NotVisible: true, Reason: "role " + string(u.Role) + " never sees footage"}
}

// ownerConsents is the owner's side of a reviewer's look at a private camera (REG-4): an
// application alone does not network a camera its owner has not shared. It needs the owner's
// grant in force to the reviewer's organisation for the use (or its emergency grant, under a
// case reference, which notifies the owner), or the owner's approval of a footage request for
// the range. Without one the camera is not the reviewer's to know of: 404, as another
// organisation's camera is to an operator.
func (c *Checker) ownerConsents(ctx context.Context, u *auth.User, cam *registry.Camera, scope Use, from, to time.Time, applicationID string) error {
	if u.OrganisationID != "" && u.OrganisationID == cam.OrganisationID {
		return nil
	}
	if c.Grants != nil {
		err := c.Grants.Granted(ctx, u, cam, scope, from, to)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNoGrant) {
			return fmt.Errorf("access check: grants: %w", err)
		}
	}
	if c.Approvals != nil {
		if err := c.Approvals.FootageApproved(ctx, applicationID, u.ID, cam.ID, from, to); err == nil {
			return nil
		}
	}
	return &Denial{NotVisible: true, Reason: "private camera: its owner has not shared it with your organisation for " + string(scope) +
		", approved a footage request covering this, nor is it emergency use under a case reference"}
}

// Cameras finds a camera in the registry (*registry.Service implements it).
type Cameras interface {
	Camera(ctx context.Context, scope registry.Scope, id string) (*registry.Camera, error)
}

// Recheck is the re-check of a running live view: the rule asked again at now, for the viewer
// as it is now and the camera as the registry has it now (it may have changed hands or gone).
func (c *Checker) Recheck(ctx context.Context, cams Cameras, u *auth.User, cameraID string, now time.Time) error {
	cam, err := cams.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return err
	}
	return c.Check(ctx, u, cam, Live, now, now, "")
}

// ScopeOf is what a user may see of the registry: admins, auditors and reviewers the whole
// city; operators and owners their own organisation.
func ScopeOf(u *auth.User) registry.Scope {
	switch u.Role {
	case auth.RoleAdmin, auth.RoleAuditor, auth.RoleReviewer:
		return registry.Scope{All: true}
	}
	return registry.Scope{OrganisationID: u.OrganisationID}
}

// WriteScope is what a user may change: only admins reach across organisations.
func WriteScope(u *auth.User) registry.Scope {
	if u.Role == auth.RoleAdmin {
		return registry.Scope{All: true}
	}
	if u.Role == auth.RoleOperator || u.Role == auth.RoleOwner {
		return registry.Scope{OrganisationID: u.OrganisationID}
	}
	return registry.Scope{}
}
