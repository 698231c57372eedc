package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

var day0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// setupCtx acts as an admin at the console, for fixtures.
var setupCtx = auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})

// fixture is a registry with an organisation, over a real database and a running trail, put
// together as the app does.
type fixture struct {
	*apitest.Stack
	org string
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	st := apitest.New(t, db)
	o := &registry.Organisation{Name: "Zhuzhou PSB", Kind: "department", DepartmentType: "public_security"}
	if err := st.Registry.CreateOrganisation(setupCtx, o); err != nil {
		t.Fatalf("CreateOrganisation = %v", err)
	}
	return &fixture{Stack: st, org: o.ID}
}

func (f *fixture) camera(t *testing.T, name string, retentionDays int) string {
	t.Helper()
	var in registry.CameraInput
	js := fmt.Sprintf(`{"name":%q,"organisation_id":%q,"investment":"government","lat":27.83,"lon":113.15,
		"place_category":"public_square","retention_days":%d,"status":"active","networked":true,"sign_installed":true}`,
		name, f.org, retentionDays)
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		t.Fatal(err)
	}
	c, err := f.Registry.CreateCamera(setupCtx, registry.Scope{All: true}, &in)
	if err != nil {
		t.Fatalf("CreateCamera(%s) = %v", name, err)
	}
	return c.ID
}

// recordSegment indexes a sealed segment and writes a tiny file at its key, as the recorder would.
func recordSegment(t *testing.T, db *store.DB, disk *segment.Disk, cam string, start, end time.Time) segment.Record {
	t.Helper()
	key, err := segment.Key(cam, start)
	if err != nil {
		t.Fatal(err)
	}
	f, err := disk.Create(key)
	if err != nil {
		t.Fatalf("Create(%s) = %v", key, err)
	}
	if _, err := f.Write([]byte("fake segment " + key)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rec := segment.Record{CameraID: cam, Path: key, Start: start, End: end, Bytes: 1000, SHA256: "00", Sealed: true}
	if err := db.SegmentSealed(context.Background(), rec); err != nil {
		t.Fatalf("SegmentSealed(%s) = %v", key, err)
	}
	return rec
}

func fileExists(t *testing.T, disk *segment.Disk, key string) bool {
	t.Helper()
	p, err := disk.Path(key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func indexed(t *testing.T, db *store.DB, key string) bool {
	t.Helper()
	_, err := db.RecordingSegment(context.Background(), key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestRetentionSimulated records four cameras, one segment every 8 hours, over 35 simulated days
// and then 40 more, running the cleaner once a simulated day; after every run each segment must
// be gone exactly when it ended before its camera's retention and no active hold covers it.
func TestRetentionSimulated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		floor := f.Registry.Pack().RetentionFloorDays()
		if floor != 30 {
			t.Fatalf("RetentionFloorDays() = %d; the test assumes the embedded pack's 30", floor)
		}
		camFloor := f.camera(t, "floor", 30)
		cam60 := f.camera(t, "sixty", 60)
		camGone := f.camera(t, "decommissioned", 60)
		const unknown = "not-in-registry"
		retentionOf := map[string]int{camFloor: 30, cam60: 60, camGone: 60, unknown: 30}

		disk := segment.NewDisk(t.TempDir())
		clk := clocktest.New(day0)
		cleaner := retention.New(retention.Config{Batch: 7}, retention.Deps{
			Index: db, Files: disk, Registry: f.Registry, Tracer: f.Tracer, Now: clk.Now,
		})

		// A hold on two cameras over days 3–5, placed on day 10 and released on day 50.
		hold := &retention.Hold{ID: registry.NewID(), CameraIDs: []string{camFloor, unknown},
			Start: day0.Add(3 * retention.Day), End: day0.Add(5 * retention.Day), Reference: "case 2026-117",
			CreatedByName: "test", CreatedAt: day0}
		heldAt := func(cam string, r segment.Record, now time.Time) bool {
			active := !now.Before(day0.Add(10*retention.Day)) && now.Before(day0.Add(50*retention.Day))
			return active && slices.Contains(hold.CameraIDs, cam) && r.Start.Before(hold.End) && hold.Start.Before(r.End)
		}

		var all []segment.Record
		const step = 8 * time.Hour
		next := day0
		deletedSeen := 0
		for d := 1; d <= 75; d++ {
			clk.Set(day0.Add(time.Duration(d) * retention.Day))
			for ; !next.Add(step).After(clk.Now()); next = next.Add(step) {
				for _, cam := range []string{camFloor, cam60, camGone, unknown} {
					if cam == camGone && d > 20 {
						continue // decommissioned on day 20: it records no more, but keeps what it has
					}
					all = append(all, recordSegment(t, db, disk, cam, next, next.Add(step)))
				}
			}
			switch d {
			case 10:
				if err := db.CreateHold(ctx, hold); err != nil {
					t.Fatalf("CreateHold = %v", err)
				}
			case 20:
				if _, err := f.Registry.DecommissionCamera(setupCtx, registry.Scope{All: true}, camGone); err != nil {
					t.Fatalf("DecommissionCamera = %v", err)
				}
			case 50:
				if err := db.ReleaseHold(ctx, hold.ID, "", "test", clk.Now(), "case closed"); err != nil {
					t.Fatalf("ReleaseHold = %v", err)
				}
			}
			crashed := ""
			if d == 64 {
				// A crash after a file was removed and before its index entry was: this run must
				// finish the deletion, a missing file being no error.
				for _, r := range all {
					if r.CameraID == camGone && r.End.Equal(day0.Add(4*retention.Day)) {
						p, _ := disk.Path(r.Path)
						if err := os.Remove(p); err != nil {
							t.Fatal(err)
						}
						crashed = r.Path
					}
				}
				if crashed == "" {
					t.Fatal("test setup: no segment to crash on")
				}
			}
			before := f.Size(t)
			rep, err := cleaner.RunOnce(ctx)
			if err != nil {
				t.Fatalf("day %d: RunOnce = %v", d, err)
			}
			if rep.Failed != 0 {
				t.Fatalf("day %d: RunOnce failed %d deletions", d, rep.Failed)
			}
			kept := map[string]bool{}
			for _, cam := range []string{camFloor, cam60, camGone, unknown} {
				segs, err := db.RecordingSegments(ctx, cam, day0.Add(-retention.Day), clk.Now().Add(retention.Day))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range segs {
					kept[r.Path] = true
				}
			}
			indexed := func(_ *testing.T, _ *store.DB, key string) bool { return kept[key] }
			deleted := 0
			for _, r := range all {
				cutoff := clk.Now().Add(-time.Duration(retentionOf[r.CameraID]) * retention.Day)
				wantGone := !r.End.After(cutoff) && !heldAt(r.CameraID, r, clk.Now())
				if heldAt(r.CameraID, r, clk.Now()) && !indexed(t, db, r.Path) {
					t.Fatalf("day %d: held segment %s of %s was deleted", d, r.Path, r.CameraID)
				}
				gotGone := !indexed(t, db, r.Path)
				if gotGone != wantGone {
					t.Fatalf("day %d: segment %s (camera %s, retention %d, ended %s) deleted = %v; want %v",
						d, r.Path, r.CameraID, retentionOf[r.CameraID], r.End.Format(time.DateTime), gotGone, wantGone)
				}
				if fileExists(t, disk, r.Path) == gotGone && r.Path != crashed {
					t.Fatalf("day %d: segment %s file exists = %v but deleted from index = %v", d, r.Path, !gotGone, gotGone)
				}
				if gotGone {
					deleted++
				}
			}
			if got := deleted - deletedSeen; got != rep.Deleted {
				t.Errorf("day %d: Report.Deleted = %d; want %d", d, rep.Deleted, got)
			}
			deletedSeen = deleted
			es := f.Entries(t, before)
			if rep.Deleted == 0 && len(es) != 0 {
				t.Errorf("day %d: a run that deleted nothing traced %d entries", d, len(es))
			}
			if rep.Deleted > 0 {
				if len(es) == 0 {
					t.Fatalf("day %d: run deleted %d segments untraced", d, rep.Deleted)
				}
				for _, e := range es {
					if e.Action != trace.ActionRetentionDelete || e.Outcome != trace.Allowed || e.Actor.Username != retention.Actor.Username ||
						len(e.CameraIDs) == 0 || e.From.IsZero() || !e.To.After(e.From) {
						t.Errorf("day %d: trail entry %+v; want an allowed retention_delete by %s with cameras and a range",
							d, e, retention.Actor.Username)
					}
				}
			}
			// Milestones the regulation cares about, stated plainly.
			switch d {
			case 35:
				if rep.Held == 0 {
					t.Errorf("day 35: Report.Held = 0; want the held segments of days 3–5 counted")
				}
			case 51:
				if rep.Deleted == 0 {
					t.Errorf("day 51: nothing deleted after the hold's release; want the formerly held segments")
				}
			}
		}
		// A camera with 60 days' retention keeps 60 days, decommissioned or not; the floor camera 30.
		for cam, days := range map[string]int{cam60: 60, camFloor: 30, camGone: 60} {
			segs, err := db.RecordingSegments(ctx, cam, day0, clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) == 0 {
				t.Fatalf("camera %s kept nothing", cam)
			}
			oldest := segs[0].Start
			wantOldest := clk.Now().Add(-time.Duration(days) * retention.Day)
			if oldest.Sub(wantOldest) > step || wantOldest.Sub(oldest) > step {
				t.Errorf("camera %s (retention %d): oldest kept %s; want about %s", cam, days, oldest, wantOldest)
			}
		}
	})
}

// TestRetentionTrailDown checks that nothing is deleted when the deletion cannot be traced.
func TestRetentionTrailDown(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	cam := f.camera(t, "c", 30)
	disk := segment.NewDisk(t.TempDir())
	old := recordSegment(t, db, disk, cam, day0, day0.Add(time.Hour))
	clk := clocktest.New(day0.Add(40 * retention.Day))
	cleaner := retention.New(retention.Config{}, retention.Deps{Index: db, Files: disk, Registry: f.Registry, Tracer: f.Tracer, Now: clk.Now})
	f.Tracer.Fail.Store(true)
	if _, err := cleaner.RunOnce(context.Background()); err == nil {
		t.Fatalf("RunOnce with the trail down = nil; want an error")
	}
	if !indexed(t, db, old.Path) || !fileExists(t, disk, old.Path) {
		t.Fatalf("segment deleted while the trail was down")
	}
	f.Tracer.Fail.Store(false)
	rep, err := cleaner.RunOnce(context.Background())
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("RunOnce = %+v, %v; want 1 deleted", rep, err)
	}
	if indexed(t, db, old.Path) || fileExists(t, disk, old.Path) {
		t.Fatalf("segment past retention still there after the run")
	}
}

func TestRetentionDays(t *testing.T) {
	for _, tc := range []struct{ cam, floor, want int }{
		{30, 30, 30}, {60, 30, 60}, {7, 30, 30}, {0, 30, 30}, {-5, 30, 30}, {90, 0, 90},
	} {
		if got := retention.RetentionDays(tc.cam, tc.floor); got != tc.want {
			t.Errorf("RetentionDays(%d, %d) = %d; want %d", tc.cam, tc.floor, got, tc.want)
		}
	}
}
