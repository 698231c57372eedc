package sharing

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// GroupChange is a change to a group; a nil field stays as it is. A group's kind and
// organisation are what it is, so they do not change: a different group is made instead.
type GroupChange struct {
	Name      *string   `json:"name,omitempty"`
	Criterion *string   `json:"criterion,omitempty"`  // place_category groups
	CameraIDs *[]string `json:"camera_ids,omitempty"` // picked groups: the whole new list
}

// managedGroup is the group id as u may change it: its organisation's owners and operators, and
// admins; anyone else finds no such group.
func (s *Service) managedGroup(ctx context.Context, u *auth.User, id string) (*Group, error) {
	if !registry.ValidID(id) {
		return nil, fmt.Errorf("group %q: %w", id, fault.ErrNotFound)
	}
	g, err := s.Group(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !mayManage(u, g.OrganisationID) {
		return nil, fmt.Errorf("group %s: %w", id, fault.ErrNotFound)
	}
	return g, nil
}

// pickedCameras checks a picked group's list: 1 to 10000 of org's cameras, duplicates dropped.
// A camera outside org is not found, as it is for the caller anywhere else.
func (s *Service) pickedCameras(ctx context.Context, org string, ids []string) ([]string, error) {
	if len(ids) == 0 || len(ids) > 10000 {
		return nil, invalid("camera_ids", "a picked group lists its cameras (1 to 10000)")
	}
	var out []string
	for _, id := range ids {
		if !registry.ValidID(id) {
			return nil, invalid("camera_ids", "%q is not a camera id", id)
		}
		if _, err := s.d.Cameras.Camera(ctx, registry.Scope{OrganisationID: org}, id); err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// UpdateGroup changes a group's name, criterion (place_category) or cameras (picked). The grants
// that share the group follow it: cameras it gains are shared under them from now on, and the live
// views of cameras it loses that nothing else shares are ended, as a revocation ends them. The
// change is traced before it is written.
func (s *Service) UpdateGroup(ctx context.Context, u *auth.User, id string, ch GroupChange) (*Group, error) {
	old, err := s.managedGroup(ctx, u, id)
	if err != nil {
		return nil, err
	}
	g := *old
	if ch.Name != nil {
		g.Name = strings.TrimSpace(*ch.Name)
		if g.Name == "" || len(g.Name) > 200 {
			return nil, invalid("name", "required, at most 200 bytes")
		}
	}
	if ch.Criterion != nil {
		if g.Kind != GroupPlace {
			return nil, invalid("criterion", "only a place_category group has a criterion")
		}
		if g.Criterion = strings.TrimSpace(*ch.Criterion); g.Criterion == "" {
			return nil, invalid("criterion", "a place_category group names its place category in criterion")
		}
	}
	if ch.CameraIDs != nil {
		if g.Kind != GroupPicked {
			return nil, invalid("camera_ids", "only a picked group lists its cameras")
		}
		if g.CameraIDs, err = s.pickedCameras(ctx, g.OrganisationID, *ch.CameraIDs); err != nil {
			return nil, err
		}
	}
	return s.storeGroupChange(ctx, old, &g)
}

// AddToGroup adds one camera to a picked group, as the camera list's bulk action does for each
// camera it was given: a camera already in the group is left as it is and reported so.
func (s *Service) AddToGroup(ctx context.Context, u *auth.User, groupID, cameraID string) (added bool, err error) {
	old, err := s.managedGroup(ctx, u, groupID)
	if err != nil {
		return false, err
	}
	if old.Kind != GroupPicked {
		return false, invalid("group_id", "cameras are added by hand only to a picked group")
	}
	if slices.Contains(old.CameraIDs, cameraID) {
		return false, nil
	}
	g := *old
	if g.CameraIDs, err = s.pickedCameras(ctx, g.OrganisationID, append(slices.Clone(old.CameraIDs), cameraID)); err != nil {
		return false, err
	}
	_, err = s.storeGroupChange(ctx, old, &g)
	return err == nil, err
}

// storeGroupChange traces, writes, and ends the live views the change takes away.
func (s *Service) storeGroupChange(ctx context.Context, old, g *Group) (*Group, error) {
	var changed []string
	var what []string
	if g.Name != old.Name {
		what = append(what, fmt.Sprintf("name %q → %q", old.Name, g.Name))
	}
	if g.Criterion != old.Criterion {
		what = append(what, fmt.Sprintf("criterion %q → %q", old.Criterion, g.Criterion))
	}
	var added, removed int
	for _, c := range g.CameraIDs {
		if !slices.Contains(old.CameraIDs, c) {
			changed, added = append(changed, c), added+1
		}
	}
	for _, c := range old.CameraIDs {
		if !slices.Contains(g.CameraIDs, c) {
			changed, removed = append(changed, c), removed+1
		}
	}
	if added+removed > 0 {
		what = append(what, fmt.Sprintf("%d camera(s) added, %d removed", added, removed))
	}
	if len(what) == 0 {
		return old, nil // nothing changes: nothing to trace
	}
	grantees, err := s.granteesOf(ctx, g)
	if err != nil {
		return nil, err
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGroupUpdate, CameraIDs: changed, Reference: g.ID,
		Outcome: trace.Allowed, Reason: fmt.Sprintf("group %s %q of organisation %s: %s; shared by %d grant(s) in force",
			g.ID, g.Name, g.OrganisationID, strings.Join(what, "; "), len(grantees))}); err != nil {
		return nil, err
	}
	if err := s.d.Store.UpdateGroup(ctx, g); err != nil {
		return nil, err
	}
	// Asked after the write: the access rule reads the group as it now is.
	if s.d.Views != nil && (removed > 0 || g.Criterion != old.Criterion) {
		for _, org := range grantees {
			if ids := s.d.Views.Refused(ctx, org); len(ids) > 0 {
				s.d.Views.EndViews(ids, "camera group "+g.ID+" changed")
			}
		}
	}
	return g, nil
}

// granteesOf lists the organisations to which grants in force now share the group.
func (s *Service) granteesOf(ctx context.Context, g *Group) ([]string, error) {
	grants, err := s.d.Store.GrantsBetween(ctx, g.OrganisationID, "")
	if err != nil {
		return nil, fmt.Errorf("grants of group %s: %w", g.ID, err)
	}
	now := s.d.Now()
	var orgs []string
	for _, gr := range grants {
		if gr.GroupID == g.ID && gr.ActiveAt(now) && !slices.Contains(orgs, gr.GranteeOrganisationID) {
			orgs = append(orgs, gr.GranteeOrganisationID)
		}
	}
	return orgs, nil
}

// DeleteGroup deletes a group that no grant in force or yet to start shares (ErrGroupInUse
// otherwise). Its record stays for the ended grants and the trail that name it.
func (s *Service) DeleteGroup(ctx context.Context, u *auth.User, id string) error {
	g, err := s.managedGroup(ctx, u, id)
	if err != nil {
		return err
	}
	grants, err := s.d.Store.GrantsBetween(ctx, g.OrganisationID, "")
	if err != nil {
		return fmt.Errorf("grants of group %s: %w", g.ID, err)
	}
	now := s.d.Now().UTC()
	for _, gr := range grants {
		if gr.GroupID == g.ID && gr.RevokedAt.IsZero() && (gr.EndsAt.IsZero() || gr.EndsAt.After(now)) {
			return fmt.Errorf("group %s: grant %s: %w", g.ID, gr.ID, ErrGroupInUse)
		}
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGroupDelete, CameraIDs: g.CameraIDs, Reference: g.ID,
		Outcome: trace.Allowed, Reason: fmt.Sprintf("group %s %q of organisation %s deleted", g.ID, g.Name, g.OrganisationID)}); err != nil {
		return err
	}
	if err := s.d.Store.DeleteGroup(ctx, g.ID, now); err != nil {
		// A grant made between the check and the write: the trail's entry is followed by its
		// refusal, so it never claims a deletion that did not happen.
		if terr := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionGroupDelete, Reference: g.ID, Outcome: trace.Denied,
			Reason: "not stored: " + err.Error()}); terr != nil {
			s.d.Logger.Error("trace group delete refusal", "group", g.ID, "err", terr)
		}
		return err
	}
	return nil
}
