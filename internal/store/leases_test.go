package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/lease"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestCameraLeases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		ttl := 10 * time.Second
		cams := []string{"cam1", "cam2", "cam3"}

		a, err := db.AcquireLeases(ctx, "a", cams, t0, t0.Add(ttl), 2)
		if err != nil || len(a) != 2 || a[0].Token != 1 || a[1].Token != 1 {
			t.Fatalf("AcquireLeases(a, limit 2) = %+v, %v; want cam1, cam2 with token 1", a, err)
		}
		b, err := db.AcquireLeases(ctx, "b", cams, t0.Add(time.Second), t0.Add(time.Second+ttl), 3)
		if err != nil || len(b) != 1 || b[0].CameraID != "cam3" {
			t.Fatalf("AcquireLeases(b) = %+v, %v; want cam3 only (the others are a's)", b, err)
		}
		if got, err := db.LeaseHolder(ctx, "cam1", t0.Add(time.Second)); err != nil || got != "a" {
			t.Errorf("LeaseHolder(cam1) = %q, %v; want a", got, err)
		}
		// a renews at 5 s; b does not, and its lease has expired at 12 s.
		if r, err := db.RenewLeases(ctx, "a", t0.Add(5*time.Second), t0.Add(5*time.Second+ttl)); err != nil || len(r) != 2 {
			t.Fatalf("RenewLeases(a) = %+v, %v; want 2", r, err)
		}
		now := t0.Add(12 * time.Second)
		if r, err := db.RenewLeases(ctx, "b", now, now.Add(ttl)); err != nil || len(r) != 0 {
			t.Errorf("RenewLeases(b) after expiry = %+v, %v; want none (an expired lease is taken again)", r, err)
		}
		free, err := db.FreeCameras(ctx, cams, now)
		if err != nil || len(free) != 1 || free[0] != "cam3" {
			t.Fatalf("FreeCameras = %v, %v; want cam3", free, err)
		}
		got, err := db.AcquireLeases(ctx, "a", cams, now, now.Add(ttl), 3)
		if err != nil || len(got) != 1 || got[0].CameraID != "cam3" || got[0].Token != 2 {
			t.Fatalf("AcquireLeases(a) of expired cam3 = %+v, %v; want cam3 with token 2", got, err)
		}
		if got, err := db.LeaseHolder(ctx, "cam3", now); err != nil || got != "a" {
			t.Errorf("LeaseHolder(cam3) = %q, %v; want a", got, err)
		}
		// A graceful stop hands back at once; the token still grows on the next taking.
		if err := db.ReleaseLeases(ctx, "a", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := db.LeaseHolder(ctx, "cam3", now); err != nil || got != "" {
			t.Errorf("LeaseHolder(cam3) after release = %q, %v; want none", got, err)
		}
		got, err = db.AcquireLeases(ctx, "b", []string{"cam3"}, now, now.Add(ttl), 1)
		if err != nil || len(got) != 1 || got[0].Token != 3 {
			t.Fatalf("AcquireLeases(b) after release = %+v, %v; want token 3", got, err)
		}
	})
}

func TestSegmentWritesFenced(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		ttl := 10 * time.Second
		a, err := db.AcquireLeases(ctx, "a", []string{"cam1"}, t0, t0.Add(ttl), 1)
		if err != nil || len(a) != 1 {
			t.Fatalf("AcquireLeases(a) = %+v, %v", a, err)
		}
		rec := segment.Record{CameraID: "cam1", Path: "cam1/a.mp4", Start: t0, Node: "a", Token: a[0].Token}
		if err := db.StartSegment(ctx, rec); err != nil {
			t.Fatalf("StartSegment under a's lease = %v; want nil", err)
		}
		// a pauses past its lease; b takes the camera.
		now := t0.Add(2 * ttl)
		b, err := db.AcquireLeases(ctx, "b", []string{"cam1"}, now, now.Add(ttl), 1)
		if err != nil || len(b) != 1 || b[0].Token <= a[0].Token {
			t.Fatalf("AcquireLeases(b) = %+v, %v; want a larger token than %d", b, err, a[0].Token)
		}
		sealed := rec
		sealed.End, sealed.Bytes, sealed.SHA256, sealed.Sealed = t0.Add(time.Minute), 1000, "00", true
		if err := db.SegmentSealed(ctx, sealed); !errors.Is(err, lease.ErrLost) {
			t.Errorf("SegmentSealed by a after b took the lease = %v; want lease.ErrLost", err)
		}
		next := segment.Record{CameraID: "cam1", Path: "cam1/b.mp4", Start: t0.Add(time.Minute), Node: "a", Token: a[0].Token}
		if err := db.StartSegment(ctx, next); !errors.Is(err, lease.ErrLost) {
			t.Errorf("StartSegment by a after b took the lease = %v; want lease.ErrLost", err)
		}
		if _, err := db.RecordingSegment(ctx, "cam1/b.mp4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordingSegment(refused start) = %v; want ErrNotFound", err)
		}
		if un, err := db.UnsealedSegments(ctx, "cam1"); err != nil || len(un) != 1 || un[0].Node != "a" {
			t.Errorf("UnsealedSegments = %+v, %v; want a's one, unsealed, of node a", un, err)
		}
		// b, the holder, cuts the unfinished segment back and seals it.
		sealed.Node, sealed.Token = "b", b[0].Token
		if err := db.SegmentSealed(ctx, sealed); err != nil {
			t.Errorf("SegmentSealed by b = %v; want nil", err)
		}
		bs := segment.Record{CameraID: "cam1", Path: "cam1/c.mp4", Start: t0.Add(2 * time.Minute), Node: "b", Token: b[0].Token}
		if err := db.StartSegment(ctx, bs); err != nil {
			t.Errorf("StartSegment by b = %v; want nil", err)
		}
	})
}

// A release notifies the nodes listening for releases; on SQLite there is nothing to listen to.
func TestWatchReleases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		woken := make(chan struct{}, 16)
		done := make(chan error, 1)
		go func() { done <- db.WatchReleases(ctx, func() { woken <- struct{}{} }) }()
		wait := func(what string) {
			t.Helper()
			select {
			case <-woken:
			case err := <-done:
				t.Fatalf("WatchReleases = %v before %s", err, what)
			case <-time.After(30 * time.Second):
				t.Fatalf("WatchReleases never woke %s", what)
			}
		}
		if db.Dialect() == store.SQLite {
			if err := <-done; !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("WatchReleases on SQLite = %v; want errors.ErrUnsupported", err)
			}
			return
		}
		wait("once it listened")
		now := time.Now()
		if _, err := db.AcquireLeases(ctx, "a", []string{"cam1"}, now, now.Add(time.Hour), 1); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseLeases(ctx, "a", nil); err != nil {
			t.Fatal(err)
		}
		wait("at the release")
		stop()
		if err := <-done; err != nil {
			t.Errorf("WatchReleases after its context ended = %v; want nil", err)
		}
	})
}
