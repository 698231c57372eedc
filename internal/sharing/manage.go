package sharing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// GrantInput is a grant as asked for. TermsVersion 0 means the current terms, as shown.
type GrantInput struct {
	CameraIDs             []string   `json:"camera_ids"`
	GroupID               string     `json:"group_id"`
	GranteeOrganisationID string     `json:"grantee_organisation_id"`
	Scopes                []string   `json:"scopes"`
	Purpose               string     `json:"purpose"`
	StartsAt              time.Time  `json:"starts_at"`
	EndsAt                *time.Time `json:"ends_at"`
	TermsVersion          int        `json:"terms_version"`
}

// mayManage reports whether u may grant over organisation org's cameras: its owners and
// operators, and admins.
func mayManage(u *auth.User, org string) bool {
	switch u.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleOwner, auth.RoleOperator:
		return u.OrganisationID != "" && u.OrganisationID == org
	}
	return false
}

// CreateGrant records u's grant. The owner organisation is the cameras' (or the group's); every
// camera must be u's organisation's unless u is an admin. A camera or group outside u's reach
// is reported as not found. The grant is traced before it is written: when the trail cannot
// take it, nothing is granted and the error wraps trace.ErrUnavailable.
func (s *Service) CreateGrant(ctx context.Context, u *auth.User, in GrantInput) (*Grant, error) {
	g := &Grant{ID: registry.NewID(), GranteeOrganisationID: in.GranteeOrganisationID,
		Purpose: strings.TrimSpace(in.Purpose), StartsAt: in.StartsAt.UTC(), GrantedBy: u.ID, GrantedAt: s.d.Now().UTC()}
	if in.EndsAt != nil {
		g.EndsAt = in.EndsAt.UTC()
	}
	switch {
	case (len(in.CameraIDs) == 0) == (in.GroupID == ""):
		return nil, invalid("camera_ids", "give either camera_ids or group_id")
	case len(in.CameraIDs) > 1000:
		return nil, invalid("camera_ids", "at most 1000 cameras; use a group")
	case g.Purpose == "" || len(g.Purpose) > 500:
		return nil, invalid("purpose", "state the purpose of the sharing (at most 500 bytes)")
	case g.StartsAt.IsZero():
		return nil, invalid("starts_at", "required (RFC 3339)")
	case !g.EndsAt.IsZero() && !g.EndsAt.After(g.StartsAt):
		return nil, invalid("ends_at", "must be after starts_at")
	case !registry.ValidID(in.GranteeOrganisationID):
		return nil, invalid("grantee_organisation_id", "required")
	case len(in.Scopes) == 0:
		return nil, invalid("scopes", "give at least one of live, playback, export, emergency")
	}
	for _, sc := range in.Scopes {
		if !slices.Contains([]string{ScopeLive, ScopePlayback, ScopeExport, ScopeEmergency}, sc) {
			return nil, invalid("scopes", "unknown scope %q (want live, playback, export or emergency)", sc)
		}
		if !slices.Contains(g.Scopes, sc) {
			g.Scopes = append(g.Scopes, sc)
		}
	}
	slices.Sort(g.Scopes)
	grantee, err := s.d.Store.Organisation(ctx, in.GranteeOrganisationID)
	if err != nil {
		return nil, fmt.Errorf("grantee organisation: %w", err)
	}
	if slices.Contains(g.Scopes, ScopeEmergency) && (grantee.Kind != registry.KindDepartment || grantee.DepartmentType != EmergencyDepartment) {
		return nil, invalid("scopes", "the emergency scope is pre-approved for public security only")
	}
	if in.GroupID != "" {
		grp, err := s.Group(ctx, u, in.GroupID)
		if err != nil {
			return nil, err
		}
		g.GroupID, g.OwnerOrganisationID = grp.ID, grp.OrganisationID
	} else {
		for _, id := range in.CameraIDs {
			if !registry.ValidID(id) {
				return nil, invalid("camera_ids", "%q is not a camera id", id)
			}
			cam, err := s.d.Cameras.Camera(ctx, scopeOf(u), id)
			if err != nil {
				return nil, err
			}
			if g.OwnerOrganisationID == "" {
				g.OwnerOrganisationID = cam.OrganisationID
			} else if g.OwnerOrganisationID != cam.OrganisationID {
				return nil, invalid("camera_ids", "one grant shares one organisation's cameras")
			}
			if !slices.Contains(g.CameraIDs, id) {
				g.CameraIDs = append(g.CameraIDs, id)
			}
		}
	}
	if !mayManage(u, g.OwnerOrganisationID) {
		return nil, invalid("camera_ids", "only the cameras' owning organisation grants access to them")
	}
	if g.OwnerOrganisationID == g.GranteeOrganisationID {
		return nil, invalid("grantee_organisation_id", "an organisation sees its own cameras without a grant")
	}
	terms, err := s.d.Store.CurrentTerms(ctx)
	if err != nil {
		return nil, fmt.Errorf("sharing terms: %w", err)
	}
	if in.TermsVersion != 0 && in.TermsVersion != terms.Version {
		return nil, ErrTermsChanged
	}
	g.TermsVersion = terms.Version
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGrantCreate, CameraIDs: g.CameraIDs,
		From: g.StartsAt, To: g.EndsAt, Reference: g.ID, Purpose: g.Purpose, Outcome: trace.Allowed, Reason: grantSummary(g)}); err != nil {
		return nil, err
	}
	if err := s.d.Store.CreateSharingGrant(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// grantSummary is the trail's account of a grant: to whom, what, under which group and terms.
func grantSummary(g *Grant) string {
	var b strings.Builder
	fmt.Fprintf(&b, "grant %s: organisation %s shares with %s scopes %s", g.ID, g.OwnerOrganisationID, g.GranteeOrganisationID, strings.Join(g.Scopes, ","))
	if g.GroupID != "" {
		fmt.Fprintf(&b, " over group %s", g.GroupID)
	}
	fmt.Fprintf(&b, "; consent under terms version %d", g.TermsVersion)
	return b.String()
}

func scopeOf(u *auth.User) registry.Scope {
	if u.Role == auth.RoleAdmin {
		return registry.Scope{All: true}
	}
	return registry.Scope{OrganisationID: u.OrganisationID}
}

// Grant returns a grant u may see: one its organisation gave or received (admins: any).
func (s *Service) Grant(ctx context.Context, u *auth.User, id string) (*Grant, error) {
	g, err := s.d.Store.SharingGrant(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Role != auth.RoleAdmin && u.OrganisationID != g.OwnerOrganisationID && u.OrganisationID != g.GranteeOrganisationID {
		return nil, fmt.Errorf("grant %s: %w", id, fault.ErrNotFound)
	}
	return g, nil
}

// Grants lists what u's organisation gave and received (admins: every grant).
func (s *Service) Grants(ctx context.Context, u *auth.User) ([]*Grant, error) {
	if u.Role == auth.RoleAdmin {
		return s.d.Store.GrantsBetween(ctx, "", "")
	}
	given, err := s.d.Store.GrantsBetween(ctx, u.OrganisationID, "")
	if err != nil {
		return nil, err
	}
	got, err := s.d.Store.GrantsBetween(ctx, "", u.OrganisationID)
	if err != nil {
		return nil, err
	}
	return append(given, got...), nil
}

// RevokeGrant ends a grant at once. Only the owner organisation (or an admin) revokes; revoking a
// revoked grant writes nothing but is traced again. The grantee's live views of cameras that
// nothing else covers now are closed at once; playback streams end at their next re-check of
// access (about a second); exports already made stay, as the trail recorded them.
//
// The revocation is traced first, with the number of live views it ends. If the trail cannot
// take the entry, the revocation still goes ahead and the error (wrapping trace.ErrUnavailable)
// tells the caller the trail missed it: withdrawing access is the safe direction, and refusing
// it for want of a trail would leave the access standing.
func (s *Service) RevokeGrant(ctx context.Context, u *auth.User, id string) (*Grant, error) {
	g, err := s.Grant(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !mayManage(u, g.OwnerOrganisationID) {
		return nil, fmt.Errorf("grant %s: %w", id, fault.ErrNotFound)
	}
	// A view opened between this question and the write below is closed by its own periodic
	// re-check, moments later.
	var views []string
	if s.d.Views != nil {
		views = s.d.Views.Refused(revoking(ctx, g.ID), g.GranteeOrganisationID)
	}
	traceErr := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGrantRevoke, CameraIDs: g.CameraIDs,
		Reference: g.ID, Purpose: g.Purpose, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s; revoked, %d live view(s) ended", grantSummary(g), len(views))})
	if g.RevokedAt.IsZero() {
		at := s.d.Now().UTC()
		if err := s.d.Store.RevokeSharingGrant(ctx, id, u.ID, at); err != nil {
			return nil, err
		}
		g.RevokedAt, g.RevokedBy = at, u.ID
	}
	if len(views) > 0 {
		s.d.Views.EndViews(views, "sharing grant "+g.ID+" revoked")
	}
	if traceErr != nil {
		return nil, traceErr
	}
	return g, nil
}

// GroupInput is a group as asked for.
type GroupInput struct {
	OrganisationID string   `json:"organisation_id"` // admins only; others create for their own
	Name           string   `json:"name"`
	Kind           string   `json:"kind"`
	Criterion      string   `json:"criterion"`
	CameraIDs      []string `json:"camera_ids"`
}

// CreateGroup records a group of u's organisation's cameras.
func (s *Service) CreateGroup(ctx context.Context, u *auth.User, in GroupInput) (*Group, error) {
	g := &Group{ID: registry.NewID(), OrganisationID: u.OrganisationID, Name: strings.TrimSpace(in.Name), Kind: in.Kind,
		Criterion: in.Criterion, CreatedBy: u.ID, CreatedAt: s.d.Now().UTC()}
	if u.Role == auth.RoleAdmin {
		g.OrganisationID = in.OrganisationID
	}
	if !registry.ValidID(g.OrganisationID) || !mayManage(u, g.OrganisationID) {
		return nil, invalid("organisation_id", "a group holds one organisation's cameras, and only its owners and operators make it")
	}
	// An admin names the organisation; one that does not exist would fail the insert's
	// foreign key, after the trail recorded a group that never was.
	if _, err := s.d.Store.Organisation(ctx, g.OrganisationID); errors.Is(err, fault.ErrNotFound) {
		return nil, invalid("organisation_id", "no such organisation")
	} else if err != nil {
		return nil, fmt.Errorf("group organisation: %w", err)
	}
	if g.Name == "" || len(g.Name) > 200 {
		return nil, invalid("name", "required, at most 200 bytes")
	}
	switch g.Kind {
	case GroupOrganisation, GroupKeyArea:
		if g.Criterion != "" || len(in.CameraIDs) > 0 {
			return nil, invalid("kind", "a %s group takes neither criterion nor camera_ids", g.Kind)
		}
	case GroupPlace:
		if g.Criterion == "" || len(in.CameraIDs) > 0 {
			return nil, invalid("criterion", "a place_category group names its place category in criterion")
		}
	case GroupPicked:
		if g.Criterion != "" || len(in.CameraIDs) == 0 || len(in.CameraIDs) > 10000 {
			return nil, invalid("camera_ids", "a picked group lists its cameras (1 to 10000)")
		}
		for _, id := range in.CameraIDs {
			if !registry.ValidID(id) {
				return nil, invalid("camera_ids", "%q is not a camera id", id)
			}
			if _, err := s.d.Cameras.Camera(ctx, registry.Scope{OrganisationID: g.OrganisationID}, id); err != nil {
				return nil, err
			}
			if !slices.Contains(g.CameraIDs, id) {
				g.CameraIDs = append(g.CameraIDs, id)
			}
		}
	default:
		return nil, invalid("kind", "unknown kind %q (want organisation, place_category, key_area or picked)", g.Kind)
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGroupCreate, CameraIDs: g.CameraIDs, Reference: g.ID,
		Outcome: trace.Allowed, Reason: fmt.Sprintf("group %s %q of organisation %s: %s", g.ID, g.Name, g.OrganisationID, g.Kind)}); err != nil {
		return nil, err
	}
	if err := s.d.Store.CreateGroup(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// Group returns a group of u's organisation (admins: any).
func (s *Service) Group(ctx context.Context, u *auth.User, id string) (*Group, error) {
	g, err := s.d.Store.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	if (u.Role != auth.RoleAdmin && g.OrganisationID != u.OrganisationID) || !g.DeletedAt.IsZero() {
		return nil, fmt.Errorf("group %s: %w", id, fault.ErrNotFound)
	}
	return g, nil
}

// Groups lists u's organisation's groups (admins: every group).
func (s *Service) Groups(ctx context.Context, u *auth.User) ([]*Group, error) {
	if u.Role == auth.RoleAdmin {
		return s.d.Store.Groups(ctx, "")
	}
	return s.d.Store.Groups(ctx, u.OrganisationID)
}

// Notifications lists the emergency uses of organisation org's cameras, newest first. Only
// org's owners and operators, and admins, read them.
func (s *Service) Notifications(ctx context.Context, u *auth.User, org string) ([]*Notification, error) {
	if !registry.ValidID(org) {
		return nil, invalid("organisation_id", "name the organisation")
	}
	if !mayManage(u, org) {
		return nil, fmt.Errorf("organisation %s: %w", org, fault.ErrNotFound)
	}
	// The notices name who used the cameras in an emergency and for which case, as the trail
	// does: reading them is traced like reading the owners' view of the trail.
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionTraceRead, Outcome: trace.Allowed,
		Reason: "emergency-use notifications of organisation " + org}); err != nil {
		return nil, err
	}
	return s.d.Store.Notifications(ctx, org)
}

// Terms returns the current terms of sharing.
func (s *Service) Terms(ctx context.Context) (*Terms, error) { return s.d.Store.CurrentTerms(ctx) }
