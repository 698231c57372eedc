package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// TestFrozenFromHealth: a picture that stays the same longer than the pack's limit opens one
// frozen work order, one still for less does not, and the order closes by itself once the
// picture moves again, leaving the camera's last maintenance as it was.
func TestFrozenFromHealth(t *testing.T) {
	db := storetest.SQLite(t)
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktest.New(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	svc := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: &countingTracer{}, Now: clock.Now})
	ctx := context.Background()
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := svc.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	name, inv, cat, active := "Gate", registry.InvestmentGovernment, "public_square", registry.StatusActive
	lat, lon, yes := 27.8, 113.1, true
	cam, err := svc.CreateCamera(ctx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &org.ID,
		Investment: &inv, Lat: &lat, Lon: &lon, PlaceCategory: &cat, Networked: &yes, InterfaceReserved: &yes, Status: &active})
	if err != nil {
		t.Fatal(err)
	}
	lim := pack.MaintenanceHealthLimits().Frozen
	now := clock.Now()
	still := func(d time.Duration) registry.Health {
		return registry.Health{CameraID: cam.ID, LastKeyframe: now.Add(-time.Second), StillSince: now.Add(-d), StillKeyframes: int(d / time.Second)}
	}
	moving := registry.Health{CameraID: cam.ID, LastKeyframe: now.Add(-time.Second)}
	steps := []struct {
		name           string
		health         registry.Health
		opened, closed int
	}{
		{"still for less than the limit", still(lim / 2), 0, 0},
		{"still beyond the limit", still(lim + time.Minute), 1, 0},
		{"still, checked again", still(lim + 2*time.Minute), 0, 0},
		{"still for less, not yet moving", still(time.Second), 0, 0},
		{"moving again", moving, 0, 1},
		{"moving, checked again", moving, 0, 0},
		{"offline is not moving", registry.Health{CameraID: cam.ID, OfflineSince: now.Add(-time.Minute)}, 0, 0},
	}
	for _, st := range steps {
		opened, err := svc.OpenFromHealth(ctx, []registry.Health{st.health})
		if err != nil {
			t.Fatal(err)
		}
		closed, err := svc.ClearFromHealth(ctx, []registry.Health{st.health})
		if err != nil {
			t.Fatal(err)
		}
		if len(opened) != st.opened || len(closed) != st.closed {
			t.Errorf("%s: opened %d, closed %d; want %d, %d", st.name, len(opened), len(closed), st.opened, st.closed)
		}
		for _, o := range opened {
			if o.Cause != registry.CauseFrozen || !strings.Contains(o.Detail, "the same picture since") {
				t.Errorf("%s: opened %s %q; want a frozen order saying since when the picture is the same", st.name, o.Cause, o.Detail)
			}
		}
	}
	plan, err := svc.MaintenancePlan(ctx, registry.Scope{All: true}, cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Open) != 0 || len(plan.History) != 1 || !strings.Contains(plan.History[0].Notes, "picture moves again") || !plan.LastDoneAt.IsZero() {
		t.Errorf("plan = open %d, history %+v, last done %v; want the frozen order closed by health and no maintenance recorded",
			len(plan.Open), plan.History, plan.LastDoneAt)
	}
}
