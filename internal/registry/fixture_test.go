package registry_test

import (
	"context"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// oneCamera is a registry on real SQLite with two public-security
// organisations and one active, networked camera of the first: the world
// the per-camera duties (maintenance, signs) are tested in.
type oneCamera struct {
	svc        *registry.Service
	pack       *policy.Pack
	clock      *clocktest.Clock
	tr         *countingTracer
	registered time.Time
	cam        *registry.Camera
	own, other registry.Scope
	user       *auth.User
}

// newOneCamera builds that world; interval, when not zero, is the camera's
// own maintenance interval in days.
func newOneCamera(t *testing.T, interval int) *oneCamera {
	t.Helper()
	db := storetest.SQLite(t)
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	w := &oneCamera{registered: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), tr: &countingTracer{}}
	w.clock = clocktest.New(w.registered)
	w.pack = pack
	w.svc = registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: w.tr, Now: w.clock.Now})
	ctx := context.Background()
	var orgs [2]*registry.Organisation
	for i := range orgs {
		orgs[i] = &registry.Organisation{Name: "PSB " + string(rune('A'+i)), Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := w.svc.CreateOrganisation(ctx, orgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	name, inv, cat, active := "Gate", registry.InvestmentGovernment, "public_square", registry.StatusActive
	lat, lon, yes := 27.8, 113.1, true
	in := &registry.CameraInput{Name: &name, OrganisationID: &orgs[0].ID, Investment: &inv, Lat: &lat, Lon: &lon,
		PlaceCategory: &cat, Networked: &yes, InterfaceReserved: &yes, Status: &active}
	if interval != 0 {
		in.MaintenanceIntervalDays = &interval
	}
	if w.cam, err = w.svc.CreateCamera(ctx, registry.Scope{All: true}, in); err != nil {
		t.Fatal(err)
	}
	w.own, w.other = registry.Scope{OrganisationID: orgs[0].ID}, registry.Scope{OrganisationID: orgs[1].ID}
	w.user = &auth.User{ID: "u1", Role: auth.RoleOperator, OrganisationID: orgs[0].ID}
	return w
}
