package retention_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// TestImportantHolds is issue 13 point 10, important footage kept at least two years: under the
// pack's important_footage_days option a hold of class important cannot be released, by anyone,
// before its footage is that old, so the cleaner keeps the footage; afterwards it is released
// and cleaned as any. Without the option the class is refused.
func TestImportantHolds(t *testing.T) {
	const twoYears = 730
	for _, days := range []int{0, twoYears} {
		name := map[int]string{0: "option off", twoYears: "option on"}[days]
		t.Run(name, func(t *testing.T) {
			db := storetest.SQLite(t)
			f := newFixture(t, db)
			cam := f.camera(t, "square", 30)
			disk := segment.NewDisk(t.TempDir())
			seg := recordSegment(t, db, disk, cam, day0, day0.Add(time.Hour))
			clk := clocktest.New(day0.Add(time.Hour))
			holds := retention.NewHolds(retention.HoldsDeps{Store: db, Registry: f.Registry, Tracer: f.Tracer, Now: clk.Now,
				ImportantDays: func() int { return days }})
			cleaner := retention.New(retention.Config{}, retention.Deps{Index: db, Files: disk, Registry: f.Registry, Tracer: f.Tracer, Now: clk.Now})
			admin := &auth.User{ID: registry.NewID(), Username: "chief", Role: auth.RoleAdmin}

			h, err := holds.Place(setupCtx, admin, retention.HoldInput{CameraIDs: []string{cam}, Start: day0, End: day0.Add(time.Hour),
				Reference: "CASE-2026-9", Class: retention.HoldImportant})
			if days == 0 {
				if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "class" {
					t.Fatalf("Place(important) without the option = %v; want invalid field class", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Place(important) = %v", err)
			}
			if want := day0.Add(time.Hour).AddDate(0, 0, twoYears); !h.KeptUntil.Equal(want) || h.Class != retention.HoldImportant {
				t.Fatalf("hold = class %q kept until %s; want important until %s", h.Class, h.KeptUntil, want)
			}
			stored, err := db.Hold(context.Background(), h.ID)
			if err != nil || !stored.KeptUntil.Equal(h.KeptUntil) || stored.Class != retention.HoldImportant {
				t.Fatalf("stored hold = %+v, %v; want its class and kept_until", stored, err)
			}

			// A year on, past the camera's 30 days: the footage stays and nobody releases it.
			clk.Set(day0.AddDate(1, 0, 0))
			if rep, err := cleaner.RunOnce(context.Background()); err != nil || rep.Deleted != 0 || !indexed(t, db, seg.Path) || !fileExists(t, disk, seg.Path) {
				t.Fatalf("RunOnce a year on = %+v, %v; want the held segment kept", rep, err)
			}
			n := f.Size(t)
			if _, err := holds.Release(setupCtx, admin, h.ID, "case closed"); !errors.Is(err, fault.ErrConflict) {
				t.Fatalf("Release a year on = %v; want fault.ErrConflict", err)
			}
			if es := f.Entries(t, n); len(es) != 1 || es[0].Outcome != "denied" {
				t.Errorf("entries after the refused release = %+v; want one denial", es)
			}
			if err := db.ReleaseHold(context.Background(), h.ID, admin.ID, admin.Username, clk.Now(), "straight to the store"); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("store ReleaseHold before kept_until = %v; want ErrConflict", err)
			}

			// Two years after the footage the hold is released and the footage cleaned.
			clk.Set(h.KeptUntil.Add(time.Minute))
			if _, err := holds.Release(setupCtx, admin, h.ID, "kept two years"); err != nil {
				t.Fatalf("Release after kept_until = %v", err)
			}
			if rep, err := cleaner.RunOnce(context.Background()); err != nil || rep.Deleted != 1 || indexed(t, db, seg.Path) {
				t.Fatalf("RunOnce after the release = %+v, %v; want the segment deleted", rep, err)
			}
		})
	}
}
