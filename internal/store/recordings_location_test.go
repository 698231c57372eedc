package store_test

import (
	"context"
	"errors"
	"testing"

	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestSegmentUploadQueue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Sealed out of order: the queue is by start, whatever the order of sealing.
		seal(t, db, "cam2", "cam2/b.mp4", at(60), at(120))
		seal(t, db, "cam1", "cam1/a.mp4", at(0), at(60))
		seal(t, db, "cam1", "cam1/c.mp4", at(120), at(180))
		if err := db.SegmentStarted(ctx, "cam1", "cam1/open.mp4", at(180)); err != nil {
			t.Fatalf("SegmentStarted = %v", err)
		}
		paths := func() []string {
			t.Helper()
			q, err := db.SegmentsToUpload(ctx, 10)
			if err != nil {
				t.Fatalf("SegmentsToUpload = %v", err)
			}
			var out []string
			for _, r := range q {
				out = append(out, r.Path)
			}
			return out
		}
		if got := paths(); len(got) != 3 || got[0] != "cam1/a.mp4" || got[1] != "cam2/b.mp4" || got[2] != "cam1/c.mp4" {
			t.Fatalf("SegmentsToUpload = %v; want cam1/a.mp4 cam2/b.mp4 cam1/c.mp4 (sealed only, by start)", got)
		}
		if n, bytes, oldest, err := db.SegmentUploadBacklog(ctx); err != nil || n != 3 || bytes != 3000 || !oldest.Equal(at(60)) {
			t.Errorf("SegmentUploadBacklog = %d, %d, %v, %v; want 3, 3000, %v", n, bytes, oldest, err, at(60))
		}
		if err := db.SegmentUploaded(ctx, "cam1/a.mp4"); err != nil {
			t.Fatalf("SegmentUploaded = %v", err)
		}
		if got := paths(); len(got) != 2 || got[0] != "cam2/b.mp4" {
			t.Errorf("SegmentsToUpload after upload = %v; want cam2/b.mp4 cam1/c.mp4", got)
		}
		if loc, err := db.SegmentLocation(ctx, "cam1/a.mp4"); err != nil || loc != "bucket" {
			t.Errorf("SegmentLocation(uploaded) = %q, %v; want bucket", loc, err)
		}
		if loc, err := db.SegmentLocation(ctx, "cam2/b.mp4"); err != nil || loc != "local" {
			t.Errorf("SegmentLocation(waiting) = %q, %v; want local", loc, err)
		}
		for _, p := range []string{"cam1/open.mp4", "cam9/none.mp4"} {
			if err := db.SegmentUploaded(ctx, p); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("SegmentUploaded(%s) = %v; want ErrNotFound (unsealed or unindexed)", p, err)
			}
		}
		if _, err := db.SegmentLocation(ctx, "cam9/none.mp4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SegmentLocation(unindexed) = %v; want ErrNotFound", err)
		}
	})
}
