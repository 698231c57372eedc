package registry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestDuplicateConstruction follows issue 17's case: an urban-management camera proposed at
// the spot, bearing and field of view of a public-security camera.
func TestDuplicateConstruction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pack, err := policy.Default()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		tr := &countingTracer{}
		reg := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tr, Now: clock})
		org := func(name, dept string) *registry.Organisation {
			o := &registry.Organisation{Name: name, Kind: registry.KindDepartment, DepartmentType: dept}
			if err := reg.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
			return o
		}
		psb, um := org("PSB", "public_security"), org("Urban management", "urban_management")
		str := func(s string) *string { return &s }
		yes := true
		camera := func(o *registry.Organisation, status string, bearing float64) *registry.Camera {
			t.Helper()
			c, err := reg.CreateCamera(ctx, registry.Scope{OrganisationID: o.ID}, &registry.CameraInput{Name: str(o.Name + " cam"),
				Investment: str("government"), Lat: new(27.8), Lon: new(113.1), PlaceCategory: str("public_square"),
				Bearing: new(bearing), FOVAngle: new(60.0), RangeM: new(100.0), Networked: &yes, Status: str(status)})
			if err != nil {
				t.Fatalf("CreateCamera(%s, %s) = %v", o.Name, status, err)
			}
			return c
		}
		existing := camera(psb, registry.StatusActive, 90)
		proposed := camera(um, registry.StatusPlanned, 90)
		elsewhere := camera(um, registry.StatusPlanned, 270) // the same pole, looking the other way

		umScope := registry.Scope{OrganisationID: um.ID}
		r, err := reg.DuplicateCheck(ctx, umScope, proposed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Duplicate || r.MaxOverlapPercent < 99.99 || len(r.Overlaps) != 1 {
			t.Fatalf("DuplicateCheck(proposed) = %+v; want a duplicate, 100%%, one overlap", r)
		}
		o := r.Overlaps[0]
		if o.CameraID != existing.ID || o.OrganisationName != "PSB" || o.Shared || !o.Shareable {
			t.Errorf("DuplicateCheck(proposed).Overlaps[0] = %+v; want the PSB camera, not shared, shareable", o)
		}
		last := tr.records[len(tr.records)-1]
		if last.Action != trace.ActionDuplicateCheck || !slices.Contains(last.CameraIDs, existing.ID) || !strings.Contains(last.Reason, "100%") {
			t.Errorf("trail after DuplicateCheck = %+v; want duplicate_check naming %s at 100%%", last, existing.ID)
		}
		if _, err := reg.DuplicateCheck(ctx, umScope, existing.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("DuplicateCheck(another organisation's camera) = %v; want not found", err)
		}
		if r, err := reg.DuplicateCheck(ctx, umScope, elsewhere.ID); err != nil || r.Duplicate || len(r.Overlaps) != 0 {
			t.Errorf("DuplicateCheck(elsewhere) = %+v, %v; want no overlap", r, err)
		}

		findingCodes := func(id string) []string {
			t.Helper()
			page, _, err := reg.CompliancePage(ctx, registry.Scope{All: true}, "", id, nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, f := range page {
				out = append(out, f.Code)
			}
			return out
		}
		if got := findingCodes(proposed.ID); !slices.Contains(got, policy.CodeDuplicateCoverage) {
			t.Errorf("findings of the proposed camera = %v; want %s", got, policy.CodeDuplicateCoverage)
		}

		activate := func(id string) error {
			st := registry.StatusActive
			_, err := reg.UpdateCamera(ctx, umScope, id, &registry.CameraInput{Status: &st})
			return err
		}
		var pe *registry.PolicyError
		if err := activate(proposed.ID); !errors.As(err, &pe) || pe.Decisions[0].Code != policy.CodeDuplicateCoverage {
			t.Fatalf("activating the duplicate = %v; want a duplicate_coverage refusal", err)
		}
		if err := activate(elsewhere.ID); err != nil {
			t.Errorf("activating the camera looking elsewhere = %v; want nil", err)
		}

		deciders := []struct {
			name string
			u    *auth.User
			want error
		}{
			{"its own organisation's admin", &auth.User{ID: "u1", Role: auth.RoleAdmin, OrganisationID: um.ID}, fault.ErrForbidden},
			{"a public-security operator", &auth.User{ID: "u2", Role: auth.RoleOperator, OrganisationID: psb.ID}, fault.ErrForbidden},
		}
		for _, d := range deciders {
			if _, err := reg.DecideConstruction(ctx, d.u, proposed.ID, registry.ConstructionDecision{Decision: "approve"}); !errors.Is(err, d.want) {
				t.Errorf("DecideConstruction by %s = %v; want %v", d.name, err, d.want)
			}
		}
		police := &auth.User{ID: "u3", Role: auth.RoleAdmin, OrganisationID: psb.ID}
		if _, err := reg.DecideConstruction(ctx, police, proposed.ID, registry.ConstructionDecision{Decision: "decline"}); err == nil {
			t.Errorf("DecideConstruction(decline without a note) = nil; want an error")
		}
		a, err := reg.DecideConstruction(ctx, police, proposed.ID, registry.ConstructionDecision{Decision: "approve", Note: "different purpose"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != registry.ConstructionApproved || len(a.Overlaps) != 1 || a.Overlaps[0].CameraID != existing.ID {
			t.Errorf("DecideConstruction(approve) = %+v; want approved with the overlap seen", a)
		}
		last = tr.records[len(tr.records)-1]
		if last.Action != trace.ActionConstructionDecision || last.Outcome != trace.Allowed || !slices.Contains(last.CameraIDs, existing.ID) {
			t.Errorf("trail after the approval = %+v; want construction_decision naming the overlap", last)
		}
		if got := findingCodes(proposed.ID); slices.Contains(got, policy.CodeDuplicateCoverage) {
			t.Errorf("findings after the approval = %v; want no %s", got, policy.CodeDuplicateCoverage)
		}

		// A second server reads the approval from the store.
		reg2 := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tr, Now: clock})
		if err := reg2.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if r, err := reg2.DuplicateCheck(ctx, umScope, proposed.ID); err != nil || r.Duplicate || r.Approval == nil {
			t.Errorf("DuplicateCheck after a reload = %+v, %v; want approved, not a duplicate", r, err)
		}
		if err := activate(proposed.ID); err != nil {
			t.Errorf("activating the approved duplicate = %v; want nil", err)
		}
	})
}
