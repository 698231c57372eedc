package sharing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/fault"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// world is a city: an enterprise owning a private camera, an urban-management department owning
// a government camera (and one whose legal basis forbids networking), and the organisations
// that may receive grants.
type world struct {
	svc                                              *sharing.Service
	db                                               *store.DB
	st                                               *apitest.Stack
	clock                                            *clocktest.Clock
	tracer                                           *tracer // the service's: kept apart from the stack's trail
	views                                            *views
	owner, urban, psb, emerg, transport, hotel       string
	camPrivate, camPrivate2, camGov, camGovForbidden *registry.Camera
	ownerUser                                        *auth.User
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := apitest.SetupCtx
	st := apitest.New(t, db)
	w := &world{db: db, st: st, clock: clocktest.New(t0)}
	org := func(name, kind, dept, est string) string {
		o := &registry.Organisation{Name: name, Kind: kind, DepartmentType: dept, EstablishmentType: est}
		if err := st.Registry.CreateOrganisation(ctx, o); err != nil {
			t.Fatalf("CreateOrganisation(%s) = %v", name, err)
		}
		return o.ID
	}
	w.owner = org("Mall Co", registry.KindEnterprise, "", "")
	w.urban = org("Urban Management", registry.KindDepartment, "urban_management", "")
	w.psb = org("PSB", registry.KindDepartment, "public_security", "")
	w.emerg = org("Emergency", registry.KindDepartment, "emergency_management", "")
	w.transport = org("Transport", registry.KindDepartment, "transportation", "")
	w.hotel = org("Hotel", registry.KindEstablishment, "", "hotel")
	// cam registers a camera; with basis, the owner proposes that legal basis and an admin of
	// the PSB approves it.
	cam := func(org, name, investment, category, basis string) *registry.Camera {
		var in registry.CameraInput
		js := fmt.Sprintf(`{"name":%q,"organisation_id":%q,"investment":%q,"lat":27.83,"lon":113.15,"place_category":%q}`,
			name, org, investment, category)
		if err := json.Unmarshal([]byte(js), &in); err != nil {
			t.Fatal(err)
		}
		c, err := st.Registry.CreateCamera(ctx, registry.Scope{All: true}, &in)
		if err != nil {
			t.Fatalf("CreateCamera(%s) = %v", name, err)
		}
		if basis == "" {
			return c
		}
		proposer := &auth.User{ID: registry.NewID(), Role: auth.RoleOperator, OrganisationID: org}
		if _, err := st.Registry.ProposeLegalBasis(ctx, registry.Scope{OrganisationID: org}, proposer, c.ID,
			registry.LegalBasisProposal{BasisID: basis, DocumentRef: "secrecy decision 26"}); err != nil {
			t.Fatalf("ProposeLegalBasis(%s) = %v", name, err)
		}
		approver := &auth.User{ID: registry.NewID(), Role: auth.RoleAdmin, OrganisationID: w.psb}
		if c, err = st.Registry.ApproveLegalBasis(ctx, approver, c.ID); err != nil {
			t.Fatalf("ApproveLegalBasis(%s) = %v", name, err)
		}
		return c
	}
	w.camPrivate = cam(w.owner, "Mall entrance", registry.InvestmentPrivate, "shopping_mall", "")
	w.camPrivate2 = cam(w.owner, "Mall back", registry.InvestmentPrivate, "other", "")
	w.camGov = cam(w.urban, "Square", registry.InvestmentGovernment, "public_square", "")
	w.camGovForbidden = cam(w.urban, "Depot", registry.InvestmentGovernment, "public_square", "state_secrets")
	w.tracer = &tracer{}
	w.views = &views{}
	w.svc = sharing.New(sharing.Config{}, sharing.Deps{Store: db, Policy: sharing.CurrentPack(st.Registry.Pack), Cameras: st.Registry,
		Tracer: w.tracer, Trail: st.Trail, Views: w.views, Now: w.clock.Now})
	w.views.svc, w.views.now = w.svc, w.clock.Now
	w.ownerUser = &auth.User{ID: "owner-user", Role: auth.RoleOwner, OrganisationID: w.owner}
	return w
}

func (w *world) user(org string) *auth.User {
	return &auth.User{ID: "u-" + org, Role: auth.RoleOperator, OrganisationID: org}
}

func (w *world) grant(t *testing.T, in sharing.GrantInput) *sharing.Grant {
	t.Helper()
	if in.Purpose == "" {
		in.Purpose = "joint patrol"
	}
	if in.StartsAt.IsZero() {
		in.StartsAt = t0
	}
	g, err := w.svc.CreateGrant(context.Background(), w.ownerUser, in)
	if err != nil {
		t.Fatalf("CreateGrant(%+v) = %v", in, err)
	}
	return g
}

func allowed(t *testing.T, svc *sharing.Service, ctx context.Context, u *auth.User, cam *registry.Camera, scope access.Use) bool {
	t.Helper()
	err := svc.Granted(ctx, u, cam, scope, t0, t0.Add(time.Minute))
	if err != nil && !errors.Is(err, access.ErrNoGrant) {
		t.Fatalf("Granted(%s, %s, %s) = %v; want nil or ErrNoGrant", u.OrganisationID, cam.Name, scope, err)
	}
	return err == nil
}

var scopes = []access.Use{access.Live, access.Playback, access.Export}

// TestGrantMatrix: for each scope granted and each kind of grantee organisation, exactly that
// scope is shared, with exactly that organisation, for exactly the granted camera.
func TestGrantMatrix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		grantees := map[string]string{"department": w.transport, "establishment": w.hotel, "enterprise": "", "public security": w.psb}
		// An enterprise grantee of its own.
		other := &registry.Organisation{Name: "Bank Co", Kind: registry.KindEnterprise}
		if err := w.st.Registry.CreateOrganisation(apitest.SetupCtx, other); err != nil {
			t.Fatal(err)
		}
		grantees["enterprise"] = other.ID
		everyone := []string{w.transport, w.hotel, other.ID, w.psb, w.emerg}
		for kind, grantee := range grantees {
			for _, granted := range scopes {
				t.Run(kind+" granted "+string(granted), func(t *testing.T) {
					g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: grantee, Scopes: []string{string(granted)}})
					defer w.svc.RevokeGrant(ctx, w.ownerUser, g.ID)
					for _, org := range everyone {
						for _, sc := range scopes {
							want := org == grantee && sc == granted
							if got := allowed(t, w.svc, ctx, w.user(org), w.camPrivate, sc); got != want {
								t.Errorf("Granted(org %s, granted camera, %s) = %v; want %v", org, sc, got, want)
							}
							if allowed(t, w.svc, ctx, w.user(org), w.camPrivate2, sc) {
								t.Errorf("Granted(org %s, camera not in the grant, %s) = true; want false", org, sc)
							}
						}
					}
				})
			}
		}
		t.Run("private cameras only by grants", func(t *testing.T) {
			for _, org := range everyone {
				for _, sc := range scopes {
					if allowed(t, w.svc, ctx, w.user(org), w.camPrivate, sc) {
						t.Errorf("Granted(org %s, private camera without a grant, %s) = true; want false", org, sc)
					}
				}
			}
		})
	})
}

// TestPolicyDefaults: government cameras by the pack's defaults, by department type; a camera
// whose legal basis forbids networking is not shared by default.
func TestPolicyDefaults(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		tests := []struct {
			name string
			org  string
			cam  *registry.Camera
			want []access.Use
		}{
			{"public security, government camera", w.psb, w.camGov, []access.Use{access.Live, access.Playback}},
			{"emergency management, government camera", w.emerg, w.camGov, []access.Use{access.Live}},
			{"transportation, government camera", w.transport, w.camGov, nil},
			{"hotel, government camera", w.hotel, w.camGov, nil},
			{"public security, networking forbidden by law", w.psb, w.camGovForbidden, nil},
			{"public security, private camera", w.psb, w.camPrivate, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, sc := range scopes {
					want := slices.Contains(tc.want, sc)
					if got := allowed(t, w.svc, ctx, w.user(tc.org), tc.cam, sc); got != want {
						t.Errorf("Granted(%s) = %v; want %v", sc, got, want)
					}
				}
			})
		}
	})
}

// TestGrantTimes: a grant gives something only between its start and end, and nothing once
// revoked; the clock is injected.
func TestGrantTimes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		end := t0.Add(2 * time.Hour)
		limited := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel,
			Scopes: []string{"playback"}, StartsAt: t0.Add(time.Hour), EndsAt: &end})
		open := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"playback"}, StartsAt: t0.Add(time.Hour)})
		tests := []struct {
			at               time.Time
			limited, openEnd bool
		}{
			{t0, false, false},
			{t0.Add(time.Hour - time.Microsecond), false, false},
			{t0.Add(time.Hour), true, true},
			{end.Add(-time.Microsecond), true, true},
			{end, false, true},
			{t0.Add(1000 * time.Hour), false, true},
		}
		for _, tc := range tests {
			t.Run(tc.at.Format(time.RFC3339Nano), func(t *testing.T) {
				w.clock.Set(tc.at)
				if got := allowed(t, w.svc, ctx, w.user(w.hotel), w.camPrivate, access.Playback); got != tc.limited {
					t.Errorf("Granted(limited grant) = %v; want %v", got, tc.limited)
				}
				if got := allowed(t, w.svc, ctx, w.user(w.hotel), w.camPrivate2, access.Playback); got != tc.openEnd {
					t.Errorf("Granted(open-ended grant) = %v; want %v", got, tc.openEnd)
				}
			})
		}
		t.Run("revoked", func(t *testing.T) {
			w.clock.Set(t0.Add(90 * time.Minute))
			for _, id := range []string{limited.ID, open.ID} {
				g, err := w.svc.RevokeGrant(ctx, w.ownerUser, id)
				if err != nil || g.RevokedAt.IsZero() {
					t.Fatalf("RevokeGrant(%s) = %+v, %v; want it revoked", id, g, err)
				}
			}
			for _, cam := range []*registry.Camera{w.camPrivate, w.camPrivate2} {
				if allowed(t, w.svc, ctx, w.user(w.hotel), cam, access.Playback) {
					t.Errorf("Granted(%s, revoked grant) = true; want false", cam.Name)
				}
			}
			got, err := db.SharingGrant(ctx, limited.ID)
			if err != nil || !got.RevokedAt.Equal(t0.Add(90*time.Minute)) || got.RevokedBy != w.ownerUser.ID {
				t.Errorf("SharingGrant(revoked) = %+v, %v; want revoked at %v by %s", got, err, t0.Add(90*time.Minute), w.ownerUser.ID)
			}
		})
	})
}

// TestEmergency: the emergency scope goes to public security only, covers a look only under a
// case reference, and notifies the owner once per user, camera and case.
func TestEmergency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		for _, org := range []string{w.hotel, w.transport} {
			_, err := w.svc.CreateGrant(ctx, w.ownerUser, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: org,
				Scopes: []string{"emergency"}, Purpose: "x", StartsAt: t0})
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "scopes" {
				t.Errorf("CreateGrant(emergency to %s) = %v; want a fault.Invalid on scopes", org, err)
			}
		}
		g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"emergency"}})
		psb := w.user(w.psb)
		for _, sc := range scopes {
			if allowed(t, w.svc, ctx, psb, w.camPrivate, sc) {
				t.Errorf("Granted(emergency, no case reference, %s) = true; want false", sc)
			}
		}
		cctx := sharing.WithCaseRef(ctx, "CASE-2026-17")
		for _, sc := range scopes {
			b, err := w.svc.Basis(cctx, psb, w.camPrivate, sc)
			if err != nil || !b.Emergency || b.GrantID != g.ID {
				t.Errorf("Basis(emergency, case reference, %s) = %+v, %v; want emergency use of %s", sc, b, err, g.ID)
			}
		}
		if allowed(t, w.svc, cctx, w.user(w.hotel), w.camPrivate, access.Live) {
			t.Errorf("Granted(hotel, case reference) = true; want false")
		}
		ns, err := db.Notifications(ctx, w.owner)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].CaseRef != "CASE-2026-17" || ns[0].GrantID != g.ID || ns[0].CameraID != w.camPrivate.ID || ns[0].UserID != psb.ID {
			t.Errorf("Notifications(owner) = %+v; want one, for case CASE-2026-17 under %s", ns, g.ID)
		}
	})
}

// TestGroups: grants over groups follow the group's rule, and only the group's organisation's
// cameras.
func TestGroups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		tests := []struct {
			in       sharing.GroupInput
			inGroup  []*registry.Camera
			outGroup []*registry.Camera
		}{
			{sharing.GroupInput{Name: "all", Kind: sharing.GroupOrganisation}, []*registry.Camera{w.camPrivate, w.camPrivate2}, []*registry.Camera{w.camGov}},
			{sharing.GroupInput{Name: "malls", Kind: sharing.GroupPlace, Criterion: "shopping_mall"}, []*registry.Camera{w.camPrivate}, []*registry.Camera{w.camPrivate2, w.camGov}},
			{sharing.GroupInput{Name: "key areas", Kind: sharing.GroupKeyArea}, []*registry.Camera{w.camPrivate}, []*registry.Camera{w.camPrivate2, w.camGov}},
			{sharing.GroupInput{Name: "picked", Kind: sharing.GroupPicked, CameraIDs: []string{w.camPrivate2.ID}}, []*registry.Camera{w.camPrivate2}, []*registry.Camera{w.camPrivate, w.camGov}},
		}
		for _, tc := range tests {
			t.Run(tc.in.Kind, func(t *testing.T) {
				grp, err := w.svc.CreateGroup(ctx, w.ownerUser, tc.in)
				if err != nil {
					t.Fatalf("CreateGroup = %v", err)
				}
				g := w.grant(t, sharing.GrantInput{GroupID: grp.ID, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
				defer w.svc.RevokeGrant(ctx, w.ownerUser, g.ID)
				for _, c := range tc.inGroup {
					if !allowed(t, w.svc, ctx, w.user(w.hotel), c, access.Live) {
						t.Errorf("Granted(%s in the group) = false; want true", c.Name)
					}
				}
				for _, c := range tc.outGroup {
					if allowed(t, w.svc, ctx, w.user(w.hotel), c, access.Live) {
						t.Errorf("Granted(%s outside the group) = true; want false", c.Name)
					}
				}
			})
		}
		t.Run("another organisation's group or camera", func(t *testing.T) {
			if _, err := w.svc.CreateGroup(ctx, w.ownerUser, sharing.GroupInput{Name: "x", Kind: sharing.GroupPicked, CameraIDs: []string{w.camGov.ID}}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateGroup(picking another organisation's camera) = %v; want not found", err)
			}
			if _, err := w.svc.CreateGrant(ctx, w.ownerUser, sharing.GrantInput{CameraIDs: []string{w.camGov.ID}, GranteeOrganisationID: w.hotel,
				Scopes: []string{"live"}, Purpose: "x", StartsAt: t0}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateGrant(another organisation's camera) = %v; want not found", err)
			}
			urbanGrp, err := w.svc.CreateGroup(ctx, &auth.User{ID: "a", Role: auth.RoleAdmin}, sharing.GroupInput{OrganisationID: w.urban, Name: "u", Kind: sharing.GroupOrganisation})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.CreateGrant(ctx, w.ownerUser, sharing.GrantInput{GroupID: urbanGrp.ID, GranteeOrganisationID: w.hotel,
				Scopes: []string{"live"}, Purpose: "x", StartsAt: t0}); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("CreateGrant(another organisation's group) = %v; want not found", err)
			}
		})
	})
}

// TestConsent: a grant records who consented, when, to which version of the terms; a grant
// under terms no longer current is refused.
func TestConsent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live", "export"}, TermsVersion: 1})
		got, err := db.SharingGrant(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.GrantedBy != w.ownerUser.ID || !got.GrantedAt.Equal(t0) || got.TermsVersion != 1 || !slices.Equal(got.Scopes, []string{"export", "live"}) {
			t.Errorf("SharingGrant = %+v; want granted by %s at %v under terms 1, scopes export,live", got, w.ownerUser.ID, t0)
		}
		if _, err := db.PublishTerms(ctx, "new terms", t0); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.CreateGrant(ctx, w.ownerUser, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel,
			Scopes: []string{"live"}, Purpose: "x", StartsAt: t0, TermsVersion: 1})
		if !errors.Is(err, sharing.ErrTermsChanged) {
			t.Errorf("CreateGrant(old terms) = %v; want ErrTermsChanged", err)
		}
		g2 := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
		if g2.TermsVersion != 2 {
			t.Errorf("CreateGrant(current terms).TermsVersion = %d; want 2", g2.TermsVersion)
		}
		// Only the owner organisation grants.
		_, err = w.svc.CreateGrant(ctx, w.user(w.hotel), sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb,
			Scopes: []string{"live"}, Purpose: "x", StartsAt: t0})
		if err == nil {
			t.Errorf("CreateGrant(by a grantee) = nil; want a refusal")
		}
		if _, err := w.svc.RevokeGrant(ctx, w.user(w.hotel), g.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("RevokeGrant(by the grantee) = %v; want not found", err)
		}
	})
}

// TestSharedCameras: the grantee's list holds exactly the cameras shared with it now, by grants
// (hand-picked or by group) and by the pack's defaults.
func TestSharedCameras(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		grp, err := w.svc.CreateGroup(ctx, w.ownerUser, sharing.GroupInput{Name: "malls", Kind: sharing.GroupPlace, Criterion: "shopping_mall"})
		if err != nil {
			t.Fatal(err)
		}
		byGroup := w.grant(t, sharing.GrantInput{GroupID: grp.ID, GranteeOrganisationID: w.psb, Scopes: []string{"export"}})
		picked := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"live"}})
		revoked := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"export"}})
		if _, err := w.svc.RevokeGrant(ctx, w.ownerUser, revoked.ID); err != nil {
			t.Fatal(err)
		}
		w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
		describe := func(cs []sharing.SharedCamera) map[string]string {
			m := map[string]string{}
			for _, c := range cs {
				m[c.Camera.ID] = fmt.Sprint(c.Scopes, c.GrantIDs, c.Policy)
			}
			return m
		}
		cs, err := w.svc.SharedCameras(ctx, w.user(w.psb))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			w.camPrivate.ID:  fmt.Sprint([]string{"export"}, []string{byGroup.ID}, false),
			w.camPrivate2.ID: fmt.Sprint([]string{"live"}, []string{picked.ID}, false),
			w.camGov.ID:      fmt.Sprint([]string{"live", "playback"}, []string(nil), true),
		}
		if got := describe(cs); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("SharedCameras(psb) = %v; want %v", got, want)
		}
		cs, err = w.svc.SharedCameras(ctx, w.user(w.transport))
		if err != nil || len(cs) != 0 {
			t.Errorf("SharedCameras(transport) = %v, %v; want none", describe(cs), err)
		}
	})
}

// TestSharedCamerasUntil checks the end a shared camera's entry gives: the latest end of the
// grants in force that share it, and none once one of them, or the pack's defaults, has no end.
func TestSharedCamerasUntil(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		soon, later := t0.Add(2*time.Hour), t0.Add(48*time.Hour)
		w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"live"}, EndsAt: &soon})
		w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"playback"}, EndsAt: &later})
		w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"live"}, EndsAt: &soon})
		w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"live"}})
		cs, err := w.svc.SharedCameras(ctx, w.user(w.psb))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]time.Time{w.camPrivate.ID: later, w.camPrivate2.ID: {}, w.camGov.ID: {}}
		for _, c := range cs {
			if got := c.Until; !got.Equal(want[c.Camera.ID]) {
				t.Errorf("SharedCameras(psb)[%s].Until = %v; want %v", c.Camera.Name, got, want[c.Camera.ID])
			}
		}
		if len(cs) != len(want) {
			t.Errorf("SharedCameras(psb) = %d cameras; want %d", len(cs), len(want))
		}
	})
}
