package retention_test

import (
	"context"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// With several nodes on one database, a node's cleaner deletes only the local segments it wrote,
// which are on its own disk, and bucket segments only while it holds the cleaner lease.
func TestCleanerDeletesOnlyItsOwn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cam := f.camera(t, "c", 30)
		ctx := context.Background()
		seal := func(node string, h int) string {
			t.Helper()
			start := day0.Add(time.Duration(h) * time.Hour)
			key, err := segment.Key(cam, start)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SegmentSealed(ctx, segment.Record{CameraID: cam, Path: key, Start: start, End: start.Add(time.Hour),
				Bytes: 10, SHA256: "00", Sealed: true, Node: node}); err != nil {
				t.Fatal(err)
			}
			return key
		}
		mineA, ofB, inBucket := seal("a", 0), seal("b", 1), seal("b", 2)
		if err := db.SegmentUploaded(ctx, inBucket); err != nil {
			t.Fatal(err)
		}
		files := &removed{}
		clk := clocktest.New(day0.Add(40 * retention.Day))
		for _, c := range []struct {
			name       string
			node       string
			lease      bool
			wantGone   []string
			wantStayed []string
		}{
			{"a without the cleaner lease", "a", false, []string{mineA}, []string{ofB, inBucket}},
			{"a with the cleaner lease", "a", true, []string{inBucket}, []string{ofB}},
			{"b", "b", false, []string{ofB}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				cleaner := retention.New(retention.Config{Node: c.node}, retention.Deps{Index: db, Files: files, Registry: f.Registry,
					Tracer: f.Tracer, Now: clk.Now, MayDeleteBucket: func(context.Context) bool { return c.lease }})
				if _, err := cleaner.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				for _, p := range c.wantGone {
					if indexed(t, db, p) {
						t.Errorf("RunOnce on node %s kept %s; want it deleted", c.node, p)
					}
				}
				for _, p := range c.wantStayed {
					if !indexed(t, db, p) {
						t.Errorf("RunOnce on node %s deleted %s; want it kept (not its to delete)", c.node, p)
					}
				}
			})
		}
	})
}

// removed is a Files that only notes what it was asked to remove.
type removed struct{ keys []string }

func (r *removed) Remove(key string) error { r.keys = append(r.keys, key); return nil }
