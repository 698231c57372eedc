package app

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// aheadClock is the real time moved on by what the test adds: the recorder's segments follow
// the stream's clock, which runs in real time, and re-anchor to this one when it jumps.
type aheadClock struct{ ahead atomic.Int64 }

func (c *aheadClock) Now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *aheadClock) Advance(d time.Duration) { c.ahead.Add(int64(d)) }

type actionTracer struct {
	mu      sync.Mutex
	actions []string
}

func (t *actionTracer) Record(_ context.Context, r trace.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.actions = append(t.actions, string(r.Action))
	return nil
}

// TestFrozenPictureWorkOrder records two simulated cameras over RTSP, one of them sending a
// frozen picture, past the pack's frozen limit: the health pass opens a frozen-picture work
// order for that camera alone, and closes it once its picture moves again.
func TestFrozenPictureWorkOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("records real streams for several seconds")
	}
	db := storetest.SQLite(t)
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	clock := &aheadClock{}
	tr := &actionTracer{}
	reg := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tr, Now: clock.Now})
	ctx := context.Background()
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := reg.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}

	sim := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: 2}, nil)
	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(simCtx) }()
	t.Cleanup(func() { stopSim(); <-simDone })
	select {
	case <-sim.Ready():
	case err := <-simDone:
		t.Fatalf("simcam Run = %v", err)
	}
	if err := sim.SetStill(1, true); err != nil {
		t.Fatal(err)
	}
	var cams []*registry.Camera
	var rcams []recorder.Camera
	for i, name := range []string{"frozen", "moving"} {
		src, inv, cat, active, yes := sim.URL(i+1), registry.InvestmentGovernment, "public_square", registry.StatusActive, true
		lat, lon := 27.83, 113.15+float64(i)/100
		c, err := reg.CreateCamera(ctx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &org.ID,
			Investment: &inv, Lat: &lat, Lon: &lon, PlaceCategory: &cat, SourceURL: &src, Networked: &yes, InterfaceReserved: &yes, Status: &active})
		if err != nil {
			t.Fatal(err)
		}
		cams = append(cams, c)
		rcams = append(rcams, recorder.Camera{ID: c.ID, SourceURL: src, Transport: recorder.TransportTCP})
	}
	frozen, moving := cams[0].ID, cams[1].ID
	// One-second segments re-anchor to the clock within a second of its jump.
	rec := recorder.New(recorder.Config{SegmentLength: time.Second}, recorder.Deps{Store: segment.NewDisk(t.TempDir()), Index: db, Now: clock.Now})
	rec.Sync(rcams)
	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Run(recCtx) }()
	t.Cleanup(func() { stopRec(); <-recDone })
	status := func(id string) recorder.Status {
		st, _ := rec.Status(id)
		return st
	}
	waitUntil(t, "both cameras recording", func() bool {
		return status(frozen).StillKeyframes >= 5 && status(moving).Parts >= 3
	})

	lim := pack.MaintenanceHealthLimits().Frozen
	clock.Advance(lim + time.Minute)
	waitUntil(t, "the recorder's clock to follow the jump", func() bool {
		edge := clock.Now().Add(-10 * time.Second)
		return status(frozen).LastKeyframe.After(edge) && status(moving).LastKeyframe.After(edge)
	})
	h := healthWork{reg: reg, idx: db, rec: rec, log: slog.New(slog.DiscardHandler), now: clock.Now}
	h.pass(ctx)
	open, err := reg.WorkOrders(ctx, registry.Scope{All: true}, registry.WorkOrderFilter{Status: registry.OrderOpen})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].CameraID != frozen || open[0].Cause != registry.CauseFrozen {
		for _, o := range open {
			t.Logf("open: camera %s cause %s: %s", o.CameraID, o.Cause, o.Detail)
		}
		t.Fatalf("open work orders = %d; want one frozen-picture order, for the frozen camera", len(open))
	}
	if !strings.Contains(open[0].Detail, "identical keyframes") {
		t.Errorf("order detail = %q; want the identical keyframes named", open[0].Detail)
	}

	if err := sim.SetStill(1, false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the picture to move again", func() bool { return status(frozen).StillSince.IsZero() })
	h.pass(ctx)
	orders, err := reg.WorkOrders(ctx, registry.Scope{All: true}, registry.WorkOrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 || orders[0].Status != registry.OrderDone || !strings.Contains(orders[0].Notes, "moves again") {
		t.Errorf("work orders after the picture moved = %+v; want the one order closed by health", orders)
	}
	tr.mu.Lock()
	got := strings.Join(tr.actions, " ")
	tr.mu.Unlock()
	if !strings.HasSuffix(got, "maintenance_open maintenance_done") {
		t.Errorf("trail = %s; want it to end with the order opened and closed", got)
	}
}

// waitUntil polls cond until it holds; the limit only keeps a broken recorder from hanging the
// test, it is not a measure of anything.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
