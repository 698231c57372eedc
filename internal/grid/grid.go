// Package grid is the live grid's own business: the cameras a user may put into its tiles (those
// the access rule lets it watch live now), and the views it saves — a name, a layout of 1, 4, 9
// or 16 tiles and the camera of each tile — which are its own: no other user lists, opens or
// deletes them.
//
// A saved view is a layout, not a look: it names cameras, and opening it watches nothing until
// the viewer states a purpose, when each tile's live view is decided, traced and re-checked by
// package footage as any single live view is. So saving and deleting a view leave no trail entry
// of their own; a view may only name cameras the user may watch live when it is saved, so that
// saving cannot tell a user of a camera it could not otherwise know of.
package grid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

// Layouts are the grids offered: 1×1, 2×2, 3×3 and 4×4 tiles.
var Layouts = []int{1, 4, 9, 16}

// MaxViews bounds one user's saved views.
const MaxViews = 100

// maxName bounds a view's name, in characters.
const maxName = 100

// View is one user's saved grid.
type View struct {
	ID     string `json:"id"`
	UserID string `json:"-"` // always the caller's
	Name   string `json:"name"`
	Layout int    `json:"layout"`
	// CameraIDs are the tiles' cameras in order, left to right and top to bottom; "" is an
	// empty tile. There are at most Layout of them.
	CameraIDs []string  `json:"camera_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input is a view to save.
type Input struct {
	Name      string   `json:"name"`
	Layout    int      `json:"layout"`
	CameraIDs []string `json:"camera_ids"`
}

// Camera is a camera the user may watch live now.
type Camera struct {
	registry.Camera
	// Snapshot says whether the user may also take a still of it: a picture that leaves the
	// platform is a copy, which the export right covers.
	Snapshot bool `json:"snapshot"`
	// Shared marks another organisation's camera shared with the user's.
	Shared bool `json:"shared"`
}

// Store keeps the views; *store.DB implements it. Every method is confined to one user's views:
// another user's view is fault.ErrNotFound.
type Store interface {
	LiveViews(ctx context.Context, userID string) ([]*View, error)
	LiveView(ctx context.Context, userID, id string) (*View, error)
	// PutLiveView creates the view, or replaces the user's view of the same name (keeping its id).
	PutLiveView(ctx context.Context, v *View) (*View, error)
	DeleteLiveView(ctx context.Context, userID, id string) error
}

// Registry lists cameras in a scope; *registry.Service implements it.
type Registry interface {
	Cameras(ctx context.Context, scope registry.Scope, f registry.CameraFilter) ([]*registry.Camera, error)
}

// Shared lists the cameras of other organisations shared with the user's; *sharing.Service
// implements it.
type Shared interface {
	SharedCameras(ctx context.Context, u *auth.User) ([]sharing.SharedCamera, error)
}

// Deps are the service's collaborators. Shared nil means no camera is seen across
// organisations.
type Deps struct {
	Store    Store
	Registry Registry
	Shared   Shared
	Access   *access.Checker
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service keeps the saved views and lists the cameras for the grid.
type Service struct{ d Deps }

// New builds the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Access == nil {
		d.Access = &access.Checker{}
	}
	return &Service{d: d}
}

// Cameras lists the cameras u may watch live now, its organisation's first, then those shared
// with it, each by name. The access rule decides, as it does for each tile's live view.
func (s *Service) Cameras(ctx context.Context, u *auth.User) ([]Camera, error) {
	if u == nil {
		return nil, nil
	}
	switch u.Role {
	case auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner:
	default:
		// Reviewers see footage only under an application, which covers no live view; auditors
		// and applicants never see footage.
		return []Camera{}, nil
	}
	own, err := s.d.Registry.Cameras(ctx, access.ScopeOf(u), registry.CameraFilter{Status: registry.StatusActive})
	if err != nil {
		return nil, fmt.Errorf("grid cameras: %w", err)
	}
	now := s.d.Now()
	out := []Camera{}
	seen := map[string]bool{}
	add := func(c *registry.Camera, shared bool) error {
		if seen[c.ID] || c.Status != registry.StatusActive {
			return nil
		}
		seen[c.ID] = true
		err := s.d.Access.Check(ctx, u, c, access.Live, now, now, "")
		var d *access.Denial
		switch {
		case errors.As(err, &d):
			return nil
		case err != nil:
			return err
		}
		snap := s.d.Access.Check(ctx, u, c, access.Export, now, now, "") == nil
		out = append(out, Camera{Camera: c.Public(), Snapshot: snap, Shared: shared})
		return nil
	}
	sortByName := func(cs []Camera) {
		slices.SortStableFunc(cs, func(a, b Camera) int { return strings.Compare(a.Name, b.Name) })
	}
	for _, c := range own {
		if err := add(c, false); err != nil {
			return nil, fmt.Errorf("grid cameras: %w", err)
		}
	}
	sortByName(out)
	if s.d.Shared != nil && u.OrganisationID != "" {
		shared, err := s.d.Shared.SharedCameras(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("grid cameras: shared: %w", err)
		}
		n := len(out)
		for i := range shared {
			if err := add(&shared[i].Camera, true); err != nil {
				return nil, fmt.Errorf("grid cameras: %w", err)
			}
		}
		sortByName(out[n:])
	}
	return out, nil
}

// Views lists u's saved views by name.
func (s *Service) Views(ctx context.Context, u *auth.User) ([]*View, error) {
	if u == nil {
		return nil, fault.ErrNotFound
	}
	vs, err := s.d.Store.LiveViews(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("saved views: %w", err)
	}
	return vs, nil
}

// View is u's saved view id; another user's is not found.
func (s *Service) View(ctx context.Context, u *auth.User, id string) (*View, error) {
	if u == nil || !registry.ValidID(id) {
		return nil, fmt.Errorf("saved view %q: %w", id, fault.ErrNotFound)
	}
	return s.d.Store.LiveView(ctx, u.ID, id)
}

// Save keeps in as u's view, replacing u's view of the same name.
func (s *Service) Save(ctx context.Context, u *auth.User, in Input) (*View, error) {
	if u == nil {
		return nil, fault.ErrNotFound
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return nil, fault.InvalidField("name", "give the view a name")
	case utf8.RuneCountInString(in.Name) > maxName:
		return nil, fault.InvalidField("name", "at most %d characters", maxName)
	case !utf8.ValidString(in.Name):
		return nil, fault.InvalidField("name", "not valid UTF-8")
	case !slices.Contains(Layouts, in.Layout):
		return nil, fault.InvalidField("layout", "one of 1, 4, 9 or 16 tiles")
	case len(in.CameraIDs) > in.Layout:
		return nil, fault.InvalidField("camera_ids", "at most %d cameras for a grid of %d tiles", in.Layout, in.Layout)
	}
	cams, err := s.Cameras(ctx, u)
	if err != nil {
		return nil, err
	}
	watchable := map[string]bool{}
	for _, c := range cams {
		watchable[c.ID] = true
	}
	ids := slices.Clone(in.CameraIDs)
	// Trailing empty tiles are the layout's, not the view's.
	for len(ids) > 0 && strings.TrimSpace(ids[len(ids)-1]) == "" {
		ids = ids[:len(ids)-1]
	}
	if len(ids) == 0 {
		return nil, fault.InvalidField("camera_ids", "put at least one camera into the view")
	}
	for i, id := range ids {
		ids[i] = strings.TrimSpace(id)
		if ids[i] != "" && !watchable[ids[i]] {
			// The same answer for a camera that does not exist and one the user may not watch.
			return nil, fault.InvalidField("camera_ids", "tile %d: not a camera you may watch live", i+1)
		}
	}
	existing, err := s.d.Store.LiveViews(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("saved views: %w", err)
	}
	replaces := slices.ContainsFunc(existing, func(v *View) bool { return v.Name == in.Name })
	if !replaces && len(existing) >= MaxViews {
		return nil, fault.InvalidField("name", "at most %d saved views; delete one first", MaxViews)
	}
	now := s.d.Now().UTC()
	v, err := s.d.Store.PutLiveView(ctx, &View{ID: registry.NewID(), UserID: u.ID, Name: in.Name, Layout: in.Layout, CameraIDs: ids,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, fmt.Errorf("save view: %w", err)
	}
	return v, nil
}

// Delete removes u's view id; another user's is not found.
func (s *Service) Delete(ctx context.Context, u *auth.User, id string) error {
	if u == nil || !registry.ValidID(id) {
		return fmt.Errorf("saved view %q: %w", id, fault.ErrNotFound)
	}
	return s.d.Store.DeleteLiveView(ctx, u.ID, id)
}
