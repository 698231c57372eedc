package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"civicam/internal/retention"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestHolds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h1 := &retention.Hold{ID: "11111111-1111-4111-8111-111111111111", CameraIDs: []string{"camB", "camA", "camA"},
			Start: at(0), End: at(3600), Reference: "case 1", Reason: "missing child", CreatedBy: "u1", CreatedByName: "alice", CreatedAt: at(10)}
		h2 := &retention.Hold{ID: "22222222-2222-4222-8222-222222222222", CameraIDs: []string{"camB"},
			Start: at(7200), End: at(9000), Reference: "app 9", CreatedAt: at(20)}
		for _, h := range []*retention.Hold{h1, h2} {
			if err := db.CreateHold(ctx, h); err != nil {
				t.Fatalf("CreateHold(%s) = %v", h.ID, err)
			}
		}
		if err := db.CreateHold(ctx, h1); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateHold(duplicate) = %v; want ErrConflict", err)
		}
		bad := &retention.Hold{ID: "33333333-3333-4333-8333-333333333333", CameraIDs: []string{"camA"}, Start: at(10), End: at(5), CreatedAt: at(30)}
		if err := db.CreateHold(ctx, bad); err == nil {
			t.Errorf("CreateHold(end before start) = nil; want an error")
		}
		got, err := db.Hold(ctx, h1.ID)
		if err != nil {
			t.Fatalf("Hold = %v", err)
		}
		if !slices.Equal(got.CameraIDs, []string{"camA", "camB"}) || !got.Start.Equal(h1.Start) || !got.End.Equal(h1.End) ||
			got.Reference != "case 1" || got.CreatedByName != "alice" || !got.Active() {
			t.Errorf("Hold = %+v; want h1 with cameras camA, camB, active", got)
		}
		if _, err := db.Hold(ctx, "44444444-4444-4444-8444-444444444444"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Hold(missing) = %v; want ErrNotFound", err)
		}
		rs, err := db.ActiveHoldRanges(ctx, "camB")
		if err != nil || len(rs) != 2 || !rs[0].Start.Equal(at(0)) || !rs[1].End.Equal(at(9000)) {
			t.Errorf("ActiveHoldRanges(camB) = %+v, %v; want both holds in start order", rs, err)
		}

		if err := db.ReleaseHold(ctx, h1.ID, "u2", "bob", at(100), "case closed"); err != nil {
			t.Fatalf("ReleaseHold = %v", err)
		}
		if err := db.ReleaseHold(ctx, h1.ID, "u2", "bob", at(200), "again"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("ReleaseHold(released) = %v; want ErrConflict", err)
		}
		if err := db.ReleaseHold(ctx, "44444444-4444-4444-8444-444444444444", "u2", "bob", at(200), "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ReleaseHold(missing) = %v; want ErrNotFound", err)
		}
		got, _ = db.Hold(ctx, h1.ID)
		if got.Active() || !got.ReleasedAt.Equal(at(100)) || got.ReleasedByName != "bob" || got.ReleaseReason != "case closed" {
			t.Errorf("released Hold = %+v; want released at %s by bob for 'case closed'", got, at(100))
		}
		if rs, _ := db.ActiveHoldRanges(ctx, "camA"); len(rs) != 0 {
			t.Errorf("ActiveHoldRanges(camA) after release = %+v; want none", rs)
		}
		for _, tc := range []struct {
			f    retention.HoldFilter
			want []string
		}{
			{retention.HoldFilter{}, []string{h2.ID, h1.ID}},
			{retention.HoldFilter{ActiveOnly: true}, []string{h2.ID}},
			{retention.HoldFilter{CameraID: "camA"}, []string{h1.ID}},
			{retention.HoldFilter{CameraID: "camA", ActiveOnly: true}, nil},
		} {
			hs, err := db.Holds(ctx, tc.f)
			if err != nil {
				t.Fatalf("Holds(%+v) = %v", tc.f, err)
			}
			var ids []string
			for _, h := range hs {
				ids = append(ids, h.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("Holds(%+v) = %v; want %v", tc.f, ids, tc.want)
			}
		}
	})
}

func TestRecordingSummaries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seal(t, db, "cam1", "cam1/a.mp4", at(0), at(60))
		seal(t, db, "cam1", "cam1/b.mp4", at(60), at(120))
		seal(t, db, "cam2", "cam2/a.mp4", at(500), at(530))
		if err := db.SegmentStarted(ctx, "cam2", "cam2/open.mp4", at(530)); err != nil {
			t.Fatal(err)
		}
		got, err := db.RecordingSummaries(ctx, time.Time{})
		if err != nil {
			t.Fatalf("RecordingSummaries = %v", err)
		}
		want := []retention.RecordingSummary{
			{CameraID: "cam1", Segments: 2, Bytes: 2000, Oldest: at(0), Newest: at(120), Recorded: 120 * time.Second},
			{CameraID: "cam2", Segments: 1, Bytes: 1000, Oldest: at(500), Newest: at(530), Recorded: 30 * time.Second},
		}
		if !slices.EqualFunc(got, want, func(a, b retention.RecordingSummary) bool {
			return a.CameraID == b.CameraID && a.Segments == b.Segments && a.Bytes == b.Bytes && a.Oldest.Equal(b.Oldest) &&
				a.Newest.Equal(b.Newest) && a.Recorded == b.Recorded
		}) {
			t.Errorf("RecordingSummaries = %+v; want %+v", got, want)
		}
		if err := db.DeleteSegments(ctx, []string{"cam1/a.mp4", "cam1/missing.mp4"}); err != nil {
			t.Fatalf("DeleteSegments = %v", err)
		}
		if _, err := db.RecordingSegment(ctx, "cam1/a.mp4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordingSegment after DeleteSegments = %v; want ErrNotFound", err)
		}
		seal(t, db, "cam1", "cam1/a.mp4", at(0), at(60))
		got, err = db.RecordingSummaries(ctx, at(100))
		if err != nil || len(got) != 2 || got[0].Segments != 1 || got[0].Bytes != 1000 || !got[0].Oldest.Equal(at(60)) {
			t.Errorf("RecordingSummaries(since 100 s) = %+v, %v; want cam1's second segment only, and cam2", got, err)
		}
	})
}
