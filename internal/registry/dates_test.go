package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// TestDatesAgainstTheClock: a date a little ahead of the server's clock (a fast device) is
// taken, one further ahead or before the camera's registration is refused with its field.
func TestDatesAgainstTheClock(t *testing.T) {
	db := storetest.SQLite(t)
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	registered := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	clock := clocktest.New(registered)
	svc := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: &countingTracer{}, Now: clock.Now})
	ctx := context.Background()
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := svc.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	name, inv, cat := "Gate", registry.InvestmentGovernment, "public_square"
	lat, lon := 27.8, 113.1
	cam, err := svc.CreateCamera(ctx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &org.ID,
		Investment: &inv, Lat: &lat, Lon: &lon, PlaceCategory: &cat})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(registered.AddDate(0, 1, 0))
	now := clock.Now()
	tests := []struct {
		name  string
		at    time.Time
		field string // "" when taken
	}{
		{"now", now, ""},
		{"four minutes ahead", now.Add(4 * time.Minute), ""},
		{"six minutes ahead", now.Add(6 * time.Minute), "last_maintenance_at"},
		{"at registration", registered, ""},
		{"a second before registration", registered.Add(-time.Second), "last_maintenance_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			_, err := svc.UpdateCamera(ctx, registry.Scope{All: true}, cam.ID, &registry.CameraInput{LastMaintenanceAt: &at})
			var ie *registry.InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("UpdateCamera(last_maintenance_at %s) = %v; want nil", at, err)
			case tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field):
				t.Errorf("UpdateCamera(last_maintenance_at %s) = %v; want an InvalidError on %s", at, err, tt.field)
			}
		})
	}
}
