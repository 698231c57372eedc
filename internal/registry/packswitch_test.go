package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestUpdateAfterPackSwitch checks issue 17 point 9: cameras stored under Zhuzhou's pack stay
// workable after the city switches to a pack they now break (othercity: a 90-day floor, fewer
// place categories). A change is refused only for what it does: a one-field fix or an unrelated
// edit is accepted with the inherited violations, a change that makes one worse or adds one is
// refused, and activation is checked whole.
func TestUpdateAfterPackSwitch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		zz, err := policy.Default()
		if err != nil {
			t.Fatal(err)
		}
		oc, err := policy.Load(filepath.Join("..", "policy", "testdata", "othercity.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		before := registry.New(registry.Deps{Repo: db, Pack: zz, Tracer: &countingTracer{}, Now: clock})
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := before.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		str := func(s string) *string { return &s }
		all := registry.Scope{All: true}
		mk := func(status string) *registry.Camera {
			t.Helper()
			yes := true
			c, err := before.CreateCamera(ctx, all, &registry.CameraInput{Name: str("Station"), OrganisationID: &org.ID,
				Investment: str("government"), Lat: new(27.8), Lon: new(113.1), PlaceCategory: str("transport_hub"),
				Networked: &yes, Status: str(status), RetentionDays: new(30)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		active, planned := mk("active"), mk("planned")

		after := registry.New(registry.Deps{Repo: db, Pack: oc, Tracer: &countingTracer{}, Now: clock})
		tests := []struct {
			name    string
			cam     *registry.Camera
			in      registry.CameraInput
			refused []string // decision codes; nil: accepted
		}{
			{"another field untouched by the new rules", active, registry.CameraInput{Name: str("Station east")}, nil},
			{"retention raised, still below the new floor", active, registry.CameraInput{RetentionDays: new(60)}, nil},
			{"retention shortened", active, registry.CameraInput{RetentionDays: new(40)}, []string{policy.CodeRetentionBelowFloor}},
			{"category fixed", active, registry.CameraInput{PlaceCategory: str("public_square")}, nil},
			{"category changed to a prohibited one", active, registry.CameraInput{PlaceCategory: str("hospital_ward")}, []string{policy.CodeProhibitedPlace}},
			{"activation is checked whole", planned, registry.CameraInput{Status: str("active")},
				[]string{policy.CodeUnknownPlaceCategory, policy.CodeRetentionBelowFloor}},
			{"both fixed, then activated", planned, registry.CameraInput{PlaceCategory: str("public_square"), RetentionDays: new(90), Status: str("active")}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := after.UpdateCamera(ctx, all, tt.cam.ID, &tt.in)
				var pe *registry.PolicyError
				switch {
				case tt.refused == nil && err != nil:
					t.Fatalf("UpdateCamera(%s) = %v; want accepted", tt.name, err)
				case tt.refused == nil:
					return
				case !errors.As(err, &pe):
					t.Fatalf("UpdateCamera(%s) = %v; want a policy refusal %v", tt.name, err, tt.refused)
				}
				var got []string
				for _, d := range pe.Decisions {
					got = append(got, d.Code)
				}
				if len(got) != len(tt.refused) {
					t.Fatalf("UpdateCamera(%s) refused with %v; want %v", tt.name, got, tt.refused)
				}
				for i := range got {
					if got[i] != tt.refused[i] {
						t.Errorf("UpdateCamera(%s) refused with %v; want %v", tt.name, got, tt.refused)
					}
				}
			})
		}
	})
}
