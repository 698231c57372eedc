package sharing

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// SharedCamera is another organisation's camera shared with the caller's organisation now.
type SharedCamera struct {
	Camera   registry.Camera `json:"camera"` // as Public shows it: no stream credentials
	Scopes   []string        `json:"scopes"`
	GrantIDs []string        `json:"grant_ids,omitempty"`
	Policy   bool            `json:"policy"` // shared by the pack's defaults for government cameras
	// Until is when the last grant in force that shares the camera ends; zero while the pack's
	// defaults or an open-ended grant share it without an end.
	Until time.Time `json:"until,omitzero"`
	open  bool      // shared without an end: Until stays zero
}

// SharedCameras lists the cameras of other organisations shared with u's organisation now, by
// grants in force and by the pack's defaults, ordered by camera id.
func (s *Service) SharedCameras(ctx context.Context, u *auth.User) ([]SharedCamera, error) {
	if u == nil || u.OrganisationID == "" {
		return nil, nil
	}
	org := u.OrganisationID
	now := s.d.Now()
	byID := map[string]*SharedCamera{}
	add := func(c *registry.Camera, scopes []string, g *Grant, policy bool) {
		sc, ok := byID[c.ID]
		if !ok {
			sc = &SharedCamera{Camera: c.Public()}
			byID[c.ID] = sc
		}
		for _, x := range scopes {
			if !slices.Contains(sc.Scopes, x) {
				sc.Scopes = append(sc.Scopes, x)
			}
		}
		switch {
		case g == nil || g.EndsAt.IsZero():
			sc.open, sc.Until = true, time.Time{}
		case !sc.open && g.EndsAt.After(sc.Until):
			sc.Until = g.EndsAt
		}
		if g != nil {
			sc.GrantIDs = append(sc.GrantIDs, g.ID)
		}
		sc.Policy = sc.Policy || policy
	}
	o, err := s.d.Store.Organisation(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("shared cameras: organisation: %w", err)
	}
	if def := s.policyDefaults(o); len(def) > 0 {
		cams, err := s.d.Cameras.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
		if err != nil {
			return nil, fmt.Errorf("shared cameras: %w", err)
		}
		for _, c := range cams {
			if c.OrganisationID != org && s.sharedByDefault(c) {
				add(c, def, nil, true)
			}
		}
	}
	grants, err := s.d.Store.GrantsBetween(ctx, "", org)
	if err != nil {
		return nil, fmt.Errorf("shared cameras: grants: %w", err)
	}
	for _, g := range grants {
		if !g.ActiveAt(now) {
			continue
		}
		var cams []*registry.Camera
		if g.GroupID == "" {
			for _, id := range g.CameraIDs {
				c, err := s.d.Cameras.Camera(ctx, registry.Scope{OrganisationID: g.OwnerOrganisationID}, id)
				if err != nil {
					continue // decommissioned or moved away: the grant no longer reaches it
				}
				cams = append(cams, c)
			}
		} else {
			grp, err := s.d.Store.Group(ctx, g.GroupID)
			if err != nil {
				return nil, fmt.Errorf("shared cameras: group of grant %s: %w", g.ID, err)
			}
			all, err := s.d.Cameras.Cameras(ctx, registry.Scope{OrganisationID: g.OwnerOrganisationID}, registry.CameraFilter{})
			if err != nil {
				return nil, fmt.Errorf("shared cameras: %w", err)
			}
			for _, c := range all {
				if s.InGroup(grp, c) {
					cams = append(cams, c)
				}
			}
		}
		for _, c := range cams {
			add(c, g.Scopes, g, false)
		}
	}
	out := make([]SharedCamera, 0, len(byID))
	for _, sc := range byID {
		sort.Strings(sc.Scopes)
		out = append(out, *sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Camera.ID < out[j].Camera.ID })
	return out, nil
}

// policyDefaults are the scopes the pack gives organisation o over government cameras.
func (s *Service) policyDefaults(o *registry.Organisation) []string {
	if s.d.Policy == nil || o.Kind != registry.KindDepartment {
		return nil
	}
	return s.d.Policy.DefaultSharing(o.DepartmentType)
}
