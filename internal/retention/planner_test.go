package retention_test

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

const (
	mbps = 1_000_000
	gb   = 1_000_000_000
	tb   = 1000 * gb
)

func TestPlan(t *testing.T) {
	loc := retention.Location{Name: "local", Root: "/data/recordings"}
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name       string
		free       int64
		floor      int
		margin     float64
		cams       []retention.CameraLoad
		days       *float64 // nil: no intake
		untilFull  *float64
		needed     int64
		floorNeed  int64
		belowRet   bool
		belowFloor bool
	}{
		{name: "one 4 Mbps camera, room enough", free: 2 * tb, floor: 30, margin: 0.1,
			cams: []retention.CameraLoad{{CameraID: "a", BitrateBps: 4 * mbps, RetentionDays: 30}},
			// 4 Mbps = 0.5 MB/s = 43.2 GB a day; 30 days = 1.296 TB.
			days: f(2e12 / 43.2e9), untilFull: f(2e12 / 43.2e9), needed: 1296 * gb, floorNeed: 1296 * gb},
		{name: "inside the margin: raised before the floor is at risk", free: 1400 * gb, floor: 30, margin: 0.1,
			cams: []retention.CameraLoad{{CameraID: "a", BitrateBps: 4 * mbps, RetentionDays: 30}},
			days: f(1.4e12 / 43.2e9), untilFull: f(1.4e12 / 43.2e9), needed: 1296 * gb, floorNeed: 1296 * gb, belowFloor: true},
		{name: "exactly the floor, no margin, is enough", free: 1296 * gb, floor: 30, margin: 0,
			cams: []retention.CameraLoad{{CameraID: "a", BitrateBps: 4 * mbps, RetentionDays: 30}},
			days: f(30), untilFull: f(30), needed: 1296 * gb, floorNeed: 1296 * gb},
		{name: "one byte short of the floor", free: 1296*gb - 1, floor: 30, margin: 0,
			cams: []retention.CameraLoad{{CameraID: "a", BitrateBps: 4 * mbps, RetentionDays: 30}},
			days: f((1296e9 - 1) / 43.2e9), untilFull: f((1296e9 - 1) / 43.2e9), needed: 1296 * gb, floorNeed: 1296 * gb,
			belowRet: true, belowFloor: true},
		{name: "kept bytes count as capacity; a long retention is short, the floor is not", free: 1500 * gb, floor: 30, margin: 0.1,
			cams: []retention.CameraLoad{
				{CameraID: "a", BitrateBps: 2 * mbps, RetentionDays: 60, KeptBytes: 600 * gb},
				// below the floor: counted at the floor
				{CameraID: "b", BitrateBps: 4 * mbps, RetentionDays: 10, KeptBytes: 400 * gb},
			},
			// 21.6 + 43.2 = 64.8 GB a day; need 21.6×60 + 43.2×30 = 2.592 TB; floor 64.8×30 = 1.944 TB.
			days: f(2.5e12 / 64.8e9), untilFull: f(1.5e12 / 64.8e9), needed: 2592 * gb, floorNeed: 1944 * gb, belowRet: true},
		{name: "nothing recorded: no forecast, no finding", free: 1 * gb, floor: 30, margin: 0.1,
			cams: []retention.CameraLoad{{CameraID: "gone", RetentionDays: 30, KeptBytes: 5 * gb}}},
		{name: "no cameras at all", free: 1 * gb, floor: 30, margin: 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := retention.Plan(loc, tc.free, 4*tb, tc.floor, tc.margin, tc.cams)
			approx := func(a, b *float64) bool {
				if a == nil || b == nil {
					return a == nil && b == nil
				}
				return math.Abs(*a-*b) < 1e-9*math.Max(1, math.Abs(*b))
			}
			if !approx(got.DaysForecast, tc.days) || !approx(got.DaysUntilFull, tc.untilFull) {
				t.Errorf("Plan days = %v, until full %v; want %v, %v", deref(got.DaysForecast), deref(got.DaysUntilFull), deref(tc.days), deref(tc.untilFull))
			}
			if got.NeededBytes != tc.needed || got.FloorNeededBytes != tc.floorNeed {
				t.Errorf("Plan needed = %d, floor %d; want %d, %d", got.NeededBytes, got.FloorNeededBytes, tc.needed, tc.floorNeed)
			}
			if got.BelowRetention != tc.belowRet || got.BelowFloor != tc.belowFloor {
				t.Errorf("Plan below retention = %v, floor = %v; want %v, %v", got.BelowRetention, got.BelowFloor, tc.belowRet, tc.belowFloor)
			}
			var kept int64
			for _, c := range tc.cams {
				kept += c.KeptBytes
			}
			if got.CapacityBytes != kept+tc.free || got.FreeBytes != tc.free || got.Location != "local" {
				t.Errorf("Plan capacity = %d, free %d, location %q; want %d, %d, local", got.CapacityBytes, got.FreeBytes, got.Location, kept+tc.free, tc.free)
			}
			for _, c := range got.Cameras {
				if c.RetentionDays < tc.floor {
					t.Errorf("Plan camera %s retention %d; want at least the floor %d", c.CameraID, c.RetentionDays, tc.floor)
				}
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// statuses is what a recorder would report.
type statuses []recorder.Status

func (s statuses) Statuses() []recorder.Status { return s }

// TestPlannerForecastAndFindings runs the planner over a real index: measured bitrates where the
// recorder reports them, the index's where it does not, and the compliance findings.
func TestPlannerForecastAndFindings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		live := f.camera(t, "live", 30)
		offline := f.camera(t, "offline", 60)
		gone := f.camera(t, "gone", 30)
		disk := segment.NewDisk(t.TempDir())
		now := day0.Add(10 * retention.Day)
		// offline recorded 1 MB per 8 s (1 Mbps) over the last hours; gone has old recordings.
		for i := 0; i < 10; i++ {
			r := recordSegment(t, db, disk, offline, now.Add(-time.Duration(i+1)*time.Hour), now.Add(-time.Duration(i+1)*time.Hour+8*time.Second))
			r.Bytes = 1_000_000
			if err := db.SegmentSealed(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		recordSegment(t, db, disk, gone, day0, day0.Add(time.Hour))
		if _, err := f.Registry.DecommissionCamera(setupCtx, registry.Scope{All: true}, gone); err != nil {
			t.Fatal(err)
		}
		free := int64(100 * gb)
		p := retention.NewPlanner(retention.PlannerConfig{Locations: []retention.Location{{Name: "local", Root: disk.Root}}},
			retention.PlannerDeps{Index: db, Registry: f.Registry,
				Recorder: statuses{{CameraID: live, State: recorder.StateRecording, Bitrate: 4 * mbps}},
				Free:     func(string) (int64, int64, error) { return free, 10 * tb, nil },
				Now:      func() time.Time { return now }})
		fs, err := p.Forecast(ctx)
		if err != nil {
			t.Fatalf("Forecast = %v", err)
		}
		if len(fs) != 1 {
			t.Fatalf("Forecast = %d locations; want 1", len(fs))
		}
		byCam := map[string]retention.CameraLoad{}
		for _, c := range fs[0].Cameras {
			byCam[c.CameraID] = c
		}
		if c := byCam[live]; c.BitrateBps != 4*mbps || !c.Measured {
			t.Errorf("live camera load = %+v; want the measured 4 Mbps", c)
		}
		if c := byCam[offline]; c.BitrateBps != 1*mbps || c.Measured || c.RetentionDays != 60 || c.KeptBytes != 10_000_000 {
			t.Errorf("offline camera load = %+v; want 1 Mbps from the index, 60 days, 10 MB kept", c)
		}
		if c := byCam[gone]; c.BitrateBps != 0 || c.KeptBytes != 1000 {
			t.Errorf("decommissioned camera load = %+v; want no intake and its 1000 bytes kept", c)
		}
		// 5 Mbps: 54 GB a day, far more than 100 GB free can hold for 30 days.
		if !fs[0].BelowFloor {
			t.Fatalf("Forecast = %+v; want below the floor", fs[0])
		}
		cams, err := f.Registry.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
		if err != nil {
			t.Fatal(err)
		}
		finds, err := p.Findings(ctx, cams)
		if err != nil {
			t.Fatalf("Findings = %v", err)
		}
		got := map[string]registry.Finding{}
		for _, fi := range finds {
			got[fi.CameraID] = fi
		}
		if len(finds) != 2 || got[live].Code != policy.CodeStorageBelowFloor || got[offline].Code != policy.CodeStorageBelowFloor {
			t.Fatalf("Findings = %+v; want storage_below_floor for the live and the offline camera, none for the decommissioned one", finds)
		}
		if got[live].Rule != "ZZ-RETENTION-FLOOR" || got[live].PolicyVersion != f.Registry.Pack().Version() || got[live].OrganisationID != f.org {
			t.Errorf("Finding = %+v; want rule ZZ-RETENTION-FLOOR, the pack's version and the camera's organisation", got[live])
		}
		if cf, err := p.ComplianceFindings(ctx, registry.Scope{OrganisationID: f.org}, "", live); err != nil || len(cf) != 1 || cf[0].CameraID != live {
			t.Errorf("ComplianceFindings(one camera) = %+v, %v; want the live camera's finding only", cf, err)
		}
		if cf, err := p.ComplianceFindings(ctx, registry.Scope{OrganisationID: "someone-else"}, "", ""); err != nil || len(cf) != 0 {
			t.Errorf("ComplianceFindings(another organisation's scope) = %+v, %v; want none", cf, err)
		}
		free = 10 * tb
		if finds, err := p.Findings(ctx, cams); err != nil || len(finds) != 0 {
			t.Errorf("Findings with 10 TB free = %+v, %v; want none", finds, err)
		}

		st, err := p.Cameras(ctx, cams)
		if err != nil {
			t.Fatalf("Cameras = %v", err)
		}
		for _, c := range st {
			if c.CameraID != offline {
				continue
			}
			// Ten 8-second segments an hour apart: nine gaps between the oldest and the newest.
			if c.Segments != 10 || c.BytesKept != 10_000_000 || c.GapCount != 9 || c.RetentionDays != 60 || c.RecordingState != "not_recording" {
				t.Errorf("Cameras(offline) = %+v; want 10 segments, 10 MB, 9 gaps, 60 days, not recording", c)
			}
			if want := (9*time.Hour + 8*time.Second).Hours() / 24; math.Abs(c.DaysKept-want) > 1e-9 {
				t.Errorf("Cameras(offline).DaysKept = %v; want %v", c.DaysKept, want)
			}
		}
	})
}

// switchable is a recorder whose reported states the test sets.
type switchable struct{ st []recorder.Status }

func (s *switchable) Statuses() []recorder.Status { return s.st }

func TestWatchStorageFull(t *testing.T) {
	logs := &syncBuffer{}
	rec := &switchable{}
	metrics := prometheus.NewRegistry()
	p := retention.NewPlanner(retention.PlannerConfig{Locations: []retention.Location{{Name: "local", Root: t.TempDir()}}},
		retention.PlannerDeps{Recorder: rec, Metrics: metrics, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	full := recorder.Status{CameraID: "a", State: recorder.StateError, Reason: recorder.ReasonStorageFull + ": write segment: no space left on device"}
	for i, step := range []struct {
		states      []recorder.Status
		wantFull    []string
		wantStops   float64
		wantResumed int
	}{
		{[]recorder.Status{{CameraID: "a", State: recorder.StateRecording}}, nil, 0, 0},
		{[]recorder.Status{full, {CameraID: "b", State: recorder.StateError, Reason: "401 unauthorized"}}, []string{"a"}, 1, 0},
		{[]recorder.Status{full}, []string{"a"}, 1, 0}, // still full: alerted once
		{[]recorder.Status{{CameraID: "a", State: recorder.StateConnecting}}, nil, 1, 0},
		{[]recorder.Status{{CameraID: "a", State: recorder.StateRecording}}, nil, 1, 1},
		{[]recorder.Status{full}, []string{"a"}, 2, 1},
	} {
		rec.st = step.states
		if got := p.Watch(); !slices.Equal(got, step.wantFull) {
			t.Errorf("step %d: Watch() = %v; want %v", i, got, step.wantFull)
		}
		if got := gathered(t, metrics, "civicam_recording_storage_full_cameras"); got != float64(len(step.wantFull)) {
			t.Errorf("step %d: storage-full gauge = %v; want %d", i, got, len(step.wantFull))
		}
		if got := gathered(t, metrics, "civicam_recording_storage_full_total"); got != step.wantStops {
			t.Errorf("step %d: storage-full counter = %v; want %v", i, got, step.wantStops)
		}
		if got := strings.Count(logs.String(), "level=ERROR msg=\"recording stopped: storage full\""); float64(got) != step.wantStops {
			t.Errorf("step %d: %d error alerts logged; want %v", i, got, step.wantStops)
		}
		if got := strings.Count(logs.String(), "recording resumed"); got != step.wantResumed {
			t.Errorf("step %d: %d resumptions logged; want %d", i, got, step.wantResumed)
		}
	}
}
