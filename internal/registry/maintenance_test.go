package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

func TestMaintenance(t *testing.T) {
	w := newOneCamera(t, 90)
	svc, clock, tr, registered, cam, own, other, u := w.svc, w.clock, w.tr, w.registered, w.cam, w.own, w.other, w.user
	ctx := context.Background()

	plan, err := svc.MaintenancePlan(ctx, own, cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if plan.IntervalDays != 90 || !plan.FromCamera || !plan.NextDueAt.Equal(registered.AddDate(0, 0, 90)) || plan.Overdue {
		t.Errorf("MaintenancePlan = %+v; want the camera's 90 days, due %v, not overdue", plan, registered.AddDate(0, 0, 90))
	}
	if _, err := svc.MaintenancePlan(ctx, other, cam.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("MaintenancePlan(other organisation) = %v; want not found", err)
	}
	overdue := func() bool {
		t.Helper()
		page, _, err := svc.CompliancePage(ctx, own, "", cam.ID, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			if f.Code == policy.CodeMaintenanceOverdue {
				return true
			}
		}
		return false
	}
	clock.Set(registered.AddDate(0, 0, 91))
	if !overdue() {
		t.Errorf("after 91 days: no maintenance_overdue; want it")
	}

	o, err := svc.OpenWorkOrder(ctx, own, u, cam.ID, "lens cleaning")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != registry.OrderOpen || o.Cause != registry.CauseManual || tr.records[len(tr.records)-1].Action != trace.ActionMaintenanceOpen {
		t.Errorf("OpenWorkOrder = %+v (last trail entry %v); want an open manual order, traced", o, tr.records[len(tr.records)-1].Action)
	}
	future := clock.Now().Add(time.Hour)
	_, err = svc.CompleteWorkOrder(ctx, own, u, o.ID, &future, "cleaned")
	if inv := (*registry.InvalidError)(nil); !errors.As(err, &inv) || inv.Field != "done_at" {
		t.Errorf("CompleteWorkOrder(done in the future) = %v; want invalid done_at", err)
	}
	if _, err := svc.CompleteWorkOrder(ctx, other, u, o.ID, nil, "cleaned"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("CompleteWorkOrder(other organisation) = %v; want not found", err)
	}
	done, err := svc.CompleteWorkOrder(ctx, own, u, o.ID, nil, "cleaned")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != registry.OrderDone || !done.DoneAt.Equal(clock.Now()) || done.Notes != "cleaned" {
		t.Errorf("CompleteWorkOrder = %+v; want done now with the notes", done)
	}
	if _, err := svc.CompleteWorkOrder(ctx, own, u, o.ID, nil, "again"); !errors.Is(err, fault.ErrConflict) {
		t.Errorf("CompleteWorkOrder(twice) = %v; want conflict", err)
	}
	if overdue() {
		t.Errorf("after the order was done: maintenance_overdue; want none")
	}
	plan, err = svc.MaintenancePlan(ctx, own, cam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.LastDoneAt.Equal(clock.Now()) || !plan.NextDueAt.Equal(clock.Now().AddDate(0, 0, 90)) || len(plan.History) != 1 || len(plan.Open) != 0 {
		t.Errorf("MaintenancePlan after the work = %+v; want last done now, due in 90 days, one order in the history", plan)
	}
	clock.Set(clock.Now().AddDate(0, 0, 91))
	if !overdue() {
		t.Errorf("91 days after the work: no maintenance_overdue; want it")
	}

	// Automatic orders: one per cause while open, whatever the number of health checks.
	lim := w.pack.MaintenanceHealthLimits()
	now := clock.Now()
	tests := []struct {
		name   string
		health registry.Health
		want   []string
	}{
		{"healthy", registry.Health{CameraID: cam.ID, LastKeyframe: now.Add(-time.Second)}, nil},
		{"offline not long", registry.Health{CameraID: cam.ID, OfflineSince: now.Add(-lim.Offline / 2)}, nil},
		{"offline too long", registry.Health{CameraID: cam.ID, OfflineSince: now.Add(-lim.Offline - time.Minute)}, []string{registry.CauseOffline}},
		{"offline again", registry.Health{CameraID: cam.ID, OfflineSince: now.Add(-2 * lim.Offline)}, nil},
		{"frozen and gaps", registry.Health{CameraID: cam.ID, LastKeyframe: now.Add(-lim.Frozen - time.Minute), Missing: lim.Gaps + time.Minute},
			[]string{registry.CauseFrozen, registry.CauseGaps}},
		{"frozen again", registry.Health{CameraID: cam.ID, LastKeyframe: now.Add(-2 * lim.Frozen)}, nil},
		{"unknown camera", registry.Health{CameraID: registry.NewID(), OfflineSince: now.Add(-2 * lim.Offline)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened, err := svc.OpenFromHealth(ctx, []registry.Health{tt.health})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range opened {
				got = append(got, o.Cause)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("OpenFromHealth(%s) opened %v; want %v", tt.name, got, tt.want)
			}
		})
	}
	open, err := svc.WorkOrders(ctx, own, registry.WorkOrderFilter{Status: registry.OrderOpen})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 3 {
		t.Fatalf("open orders = %d; want 3 (offline, frozen, gaps)", len(open))
	}
	if others, err := svc.WorkOrders(ctx, other, registry.WorkOrderFilter{}); err != nil || len(others) != 0 {
		t.Errorf("WorkOrders(other organisation) = %d, %v; want none", len(others), err)
	}
	// Once the offline order is done, a new outage opens a new one.
	for _, o := range open {
		if o.Cause == registry.CauseOffline {
			if _, err := svc.CompleteWorkOrder(ctx, own, u, o.ID, nil, "replaced the switch"); err != nil {
				t.Fatal(err)
			}
		}
	}
	opened, err := svc.OpenFromHealth(ctx, []registry.Health{{CameraID: cam.ID, OfflineSince: now.Add(-2 * lim.Offline)}})
	if err != nil || len(opened) != 1 {
		t.Errorf("OpenFromHealth after the offline order was done = %d, %v; want one new order", len(opened), err)
	}
}
