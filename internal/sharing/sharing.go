// Package sharing lets a camera's owning organisation share its cameras with other
// organisations (REG-3, REG-4): grants of live, playback, export or emergency scope for a
// purpose and a period, over hand-picked cameras or a group, each recording the owner's consent
// to a versioned text of terms. Government-invested cameras are also shared by the policy pack's
// defaults, by the grantee's department type, unless the camera records the law that forbids
// networking it. Service implements access.Grants, so the one access check consults it.
package sharing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Scopes a grant may carry. Emergency is pre-approved use by public security: it covers live,
// playback and export, but only under a case reference (WithCaseRef), and every use notifies the
// owner.
const (
	ScopeLive      = string(access.Live)
	ScopePlayback  = string(access.Playback)
	ScopeExport    = string(access.Export)
	ScopeEmergency = "emergency"
)

// EmergencyDepartment is the department type an emergency scope may be granted to.
const EmergencyDepartment = "public_security"

// Group kinds: what decides a camera's membership.
const (
	GroupOrganisation = "organisation"   // every camera of the group's organisation
	GroupPlace        = "place_category" // the organisation's cameras of one place category
	GroupKeyArea      = "key_area"       // the organisation's cameras in key public-safety areas
	GroupPicked       = "picked"         // hand-picked cameras
)

// Grant is one organisation's consent to share cameras with another.
type Grant struct {
	ID                    string    `json:"id"`
	OwnerOrganisationID   string    `json:"owner_organisation_id"`
	GranteeOrganisationID string    `json:"grantee_organisation_id"`
	CameraIDs             []string  `json:"camera_ids,omitempty"`
	GroupID               string    `json:"group_id,omitempty"`
	Scopes                []string  `json:"scopes"`
	Purpose               string    `json:"purpose"`
	StartsAt              time.Time `json:"starts_at"`
	EndsAt                time.Time `json:"ends_at,omitzero"` // zero: open-ended
	GrantedBy             string    `json:"granted_by"`
	GrantedAt             time.Time `json:"granted_at"`
	TermsVersion          int       `json:"terms_version"`
	RevokedAt             time.Time `json:"revoked_at,omitzero"`
	RevokedBy             string    `json:"revoked_by,omitempty"`
}

// ActiveAt reports whether the grant is in force at t.
func (g *Grant) ActiveAt(t time.Time) bool {
	if !g.RevokedAt.IsZero() && !t.Before(g.RevokedAt) {
		return false
	}
	return !t.Before(g.StartsAt) && (g.EndsAt.IsZero() || t.Before(g.EndsAt))
}

// Group is a set of one organisation's cameras.
type Group struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"organisation_id"`
	Name           string    `json:"name"`
	Kind           string    `json:"kind"`
	Criterion      string    `json:"criterion,omitempty"` // the place category, for GroupPlace
	CameraIDs      []string  `json:"camera_ids,omitempty"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	// DeletedAt is when the group was deleted (zero: it is not). A deleted group is kept for the
	// grants that named it; the service finds it for nobody.
	DeletedAt time.Time `json:"-"`
}

// Terms is one version of the text an owner agrees to when granting.
type Terms struct {
	Version     int       `json:"version"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"published_at"`
}

// Notification tells an owner that its camera was used under an emergency grant.
type Notification struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"organisation_id"`
	GrantID        string    `json:"grant_id"`
	CameraID       string    `json:"camera_id"`
	UserID         string    `json:"user_id"`
	CaseRef        string    `json:"case_ref"`
	CreatedAt      time.Time `json:"created_at"`
}

// Store keeps grants, groups, terms and notifications (*store.DB implements it).
type Store interface {
	CreateSharingGrant(ctx context.Context, g *Grant) error
	SharingGrant(ctx context.Context, id string) (*Grant, error)
	// GrantsBetween lists the grants, revoked or not, from owner to grantee; an empty owner or
	// grantee matches any.
	GrantsBetween(ctx context.Context, owner, grantee string) ([]*Grant, error)
	RevokeSharingGrant(ctx context.Context, id, by string, at time.Time) error
	CreateGroup(ctx context.Context, g *Group) error
	Group(ctx context.Context, id string) (*Group, error)
	Groups(ctx context.Context, organisationID string) ([]*Group, error)
	// UpdateGroup stores g's name, criterion and cameras.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup marks the group deleted, or refuses with ErrGroupInUse while a grant not
	// revoked and not ended at at names it.
	DeleteGroup(ctx context.Context, id string, at time.Time) error
	CurrentTerms(ctx context.Context) (*Terms, error)
	// AddNotification stores n unless one for the same grant, camera, user and case exists.
	AddNotification(ctx context.Context, n *Notification) error
	// Notifications lists an organisation's emergency-use notifications, newest first.
	Notifications(ctx context.Context, organisationID string) ([]*Notification, error)
	Organisation(ctx context.Context, id string) (*registry.Organisation, error)
}

// Policy is what the policy pack says about sharing (*policy.Pack implements it).
type Policy interface {
	// DefaultSharing returns the scopes government-invested cameras give a department type.
	DefaultSharing(departmentType string) []string
	// KeyArea reports whether a place category is a key public-safety area.
	IsKeyArea(placeCategory string) bool
	// Permits reports whether a camera's approved legal basis allows what.
	Permits(c policy.CameraFacts, what policy.Permit) bool
}

// Cameras finds cameras (*registry.Service implements it).
type Cameras interface {
	Camera(ctx context.Context, scope registry.Scope, id string) (*registry.Camera, error)
	Cameras(ctx context.Context, scope registry.Scope, f registry.CameraFilter) ([]*registry.Camera, error)
}

// ViewEnder ends the live views a revocation takes away; the footage service, which owns live
// views and their re-check, is the one, so that sharing stays clear of the media half.
type ViewEnder interface {
	// Refused lists the ids of the live views of organisation org's users that the access rule,
	// asked again in ctx, refuses now. ctx carries the revocation being made, so the rule (which
	// asks Granted) already counts that grant as revoked though the revocation is not yet written.
	Refused(ctx context.Context, org string) []string
	// EndViews closes the views with these ids at once, giving reason, and returns how many.
	EndViews(ids []string, reason string) int
}

// LateViews is a ViewEnder pointed at the real one once that is built: the footage service ends
// views and consults this service's grants, so one of the two must be built first. Until To is
// set, no views are ended.
type LateViews struct{ To ViewEnder }

// Refused implements ViewEnder.
func (v *LateViews) Refused(ctx context.Context, org string) []string {
	if v.To == nil {
		return nil
	}
	return v.To.Refused(ctx, org)
}

// EndViews implements ViewEnder.
func (v *LateViews) EndViews(ids []string, reason string) int {
	if v.To == nil {
		return 0
	}
	return v.To.EndViews(ids, reason)
}

// Deps are the service's collaborators. Tracer is required: every grant made or revoked is
// traced before it is written.
type Deps struct {
	Store   Store
	Policy  Policy
	Cameras Cameras
	Tracer  trace.Tracer
	Trail   Trail     // read for the owners' view of their cameras' use (Accesses)
	Views   ViewEnder // nil: this process serves no live views
	Logger  *slog.Logger
	Now     func() time.Time
}

// Config is empty for now; it keeps the team's New(cfg, deps) shape.
type Config struct{}

// Service decides and manages sharing.
type Service struct {
	d Deps
}

// New builds the service.
func New(_ Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

var _ access.Grants = (*Service)(nil)

func invalid(field, format string, args ...any) error {
	return fault.InvalidField(field, format, args...)
}

// ErrTermsChanged is returned when the grantor agreed to a version of the terms that is no
// longer current: a conflict on terms_version, which the grantor resolves by reading the current
// text and agreeing again.
var ErrTermsChanged = &fault.Error{Kind: fault.Conflict, Code: "terms_changed", Field: "terms_version",
	Message: "the sharing terms have changed: read and agree to the current version"}

// ErrGroupInUse refuses deleting a group that a grant in force (or yet to start) shares: deleting
// it would silently take away what the owner granted; the grants are revoked first.
var ErrGroupInUse = &fault.Error{Kind: fault.Conflict, Code: "group_in_use", Field: "id",
	Message: "a sharing grant in force shares this group: revoke it first"}

type caseRefKey struct{}

// WithCaseRef attaches the case a look is made for; emergency grants cover a look only under one.
func WithCaseRef(ctx context.Context, caseRef string) context.Context {
	return context.WithValue(ctx, caseRefKey{}, caseRef)
}

func caseRefOf(ctx context.Context) string {
	s, _ := ctx.Value(caseRefKey{}).(string)
	return s
}

type revokingKey struct{}

// revoking marks ctx as asking about the moment grant id is revoked: Basis no longer counts it.
// RevokeGrant asks which live views the revocation ends before it writes the revocation (the
// trail entry, written first, says how many).
func revoking(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, revokingKey{}, id)
}

func revokingOf(ctx context.Context) string {
	s, _ := ctx.Value(revokingKey{}).(string)
	return s
}

// Basis is how a camera is shared with an organisation for a scope.
type Basis struct {
	GrantID   string // empty when by policy
	Policy    bool
	Emergency bool
}

// Granted implements access.Grants: nil when a grant in force, or the pack's default for a
// government-invested camera, shares cam with u's organisation for scope over [from, to).
func (s *Service) Granted(ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use, from, to time.Time) error {
	_, err := s.Basis(ctx, u, cam, scope)
	return err
}

// Basis says under what cam is shared with u's organisation for scope now, or access.ErrNoGrant.
// A grant covers a look if it is in force now: a playback of last week under a grant made today
// is covered, a look after the grant ended or was revoked is not.
func (s *Service) Basis(ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use) (Basis, error) {
	b, err := s.Offered(ctx, u, cam, scope)
	if err != nil || !b.Emergency {
		return b, err
	}
	ref := caseRefOf(ctx)
	if ref == "" {
		return Basis{}, fmt.Errorf("%w: emergency use needs a case reference", access.ErrNoGrant)
	}
	n := &Notification{ID: registry.NewID(), OrganisationID: cam.OrganisationID, GrantID: b.GrantID,
		CameraID: cam.ID, UserID: u.ID, CaseRef: ref, CreatedAt: s.d.Now()}
	if err := s.d.Store.AddNotification(ctx, n); err != nil {
		// No notification, no emergency use: the owner must hear of it at once.
		return Basis{}, fmt.Errorf("sharing: notify owner of emergency use: %w", err)
	}
	return b, nil
}

// Offered is Basis without a look: what would share cam with u's organisation for scope now.
// An emergency basis (Emergency set) is only offered: a look under it needs a case reference,
// and Basis, not Offered, notifies the owner of the look. Candidate searches ask it to say how
// each camera can be opened, without opening any.
func (s *Service) Offered(ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use) (Basis, error) {
	if u == nil || u.OrganisationID == "" || cam == nil || cam.OrganisationID == u.OrganisationID {
		return Basis{}, access.ErrNoGrant
	}
	now := s.d.Now()
	if s.sharedByDefault(cam) {
		org, err := s.d.Store.Organisation(ctx, u.OrganisationID)
		if err != nil {
			return Basis{}, fmt.Errorf("sharing: grantee organisation: %w", err)
		}
		if slices.Contains(s.policyDefaults(org), string(scope)) {
			return Basis{Policy: true}, nil
		}
	}
	grants, err := s.d.Store.GrantsBetween(ctx, cam.OrganisationID, u.OrganisationID)
	if err != nil {
		return Basis{}, fmt.Errorf("sharing: grants: %w", err)
	}
	var emergency *Grant
	gone := revokingOf(ctx)
	for _, g := range grants {
		if g.ID == gone || !g.ActiveAt(now) {
			continue
		}
		in, err := s.covers(ctx, g, cam)
		if err != nil {
			return Basis{}, err
		}
		if !in {
			continue
		}
		if slices.Contains(g.Scopes, string(scope)) {
			return Basis{GrantID: g.ID}, nil
		}
		if emergency == nil && slices.Contains(g.Scopes, ScopeEmergency) {
			emergency = g
		}
	}
	if emergency == nil {
		return Basis{}, access.ErrNoGrant
	}
	return Basis{GrantID: emergency.ID, Emergency: true}, nil
}

// covers reports whether cam is among the grant's cameras.
func (s *Service) covers(ctx context.Context, g *Grant, cam *registry.Camera) (bool, error) {
	if cam.OrganisationID != g.OwnerOrganisationID {
		return false, nil
	}
	if g.GroupID == "" {
		return slices.Contains(g.CameraIDs, cam.ID), nil
	}
	grp, err := s.d.Store.Group(ctx, g.GroupID)
	if err != nil {
		return false, fmt.Errorf("sharing: group of grant %s: %w", g.ID, err)
	}
	if !grp.DeletedAt.IsZero() {
		return false, nil // a group is deleted only once no grant in force names it
	}
	return s.InGroup(grp, cam), nil
}

// InGroup reports whether cam belongs to grp.
func (s *Service) InGroup(grp *Group, cam *registry.Camera) bool {
	if cam.OrganisationID != grp.OrganisationID {
		return false
	}
	switch grp.Kind {
	case GroupOrganisation:
		return true
	case GroupPlace:
		return cam.PlaceCategory == grp.Criterion
	case GroupKeyArea:
		return s.d.Policy != nil && s.d.Policy.IsKeyArea(cam.PlaceCategory)
	case GroupPicked:
		return slices.Contains(grp.CameraIDs, cam.ID)
	}
	return false
}

// CurrentPack adapts a source of the pack in force (registry.Service.Pack) to Policy, so that a
// pack changed at run time applies to the next decision.
type CurrentPack func() *policy.Pack

// DefaultSharing implements Policy.
func (f CurrentPack) DefaultSharing(departmentType string) []string {
	return f().DefaultSharing(departmentType)
}

// IsKeyArea implements Policy.
func (f CurrentPack) IsKeyArea(placeCategory string) bool { return f().IsKeyArea(placeCategory) }

// Permits implements Policy.
func (f CurrentPack) Permits(c policy.CameraFacts, what policy.Permit) bool {
	return f().Permits(c, what)
}

// sharedByDefault reports whether cam, government-invested, is shared by the pack's defaults:
// unless its approved legal basis exempts it from networking. A basis merely proposed, or one
// typed in before bases were the pack's, does not.
func (s *Service) sharedByDefault(cam *registry.Camera) bool {
	return s.d.Policy != nil && cam.Investment == registry.InvestmentGovernment &&
		!s.d.Policy.Permits(registry.Facts(cam), policy.PermitNotNetworked)
}
