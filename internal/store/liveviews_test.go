package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/grid"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestLiveViewsStore: views are confined to their user (another user's id is not found, for
// reading and deleting), a save under an existing name replaces that view keeping its id, and
// the tiles' order with empty tiles survives the round trip.
func TestLiveViewsStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 8, 1, 0, 0, 123456000, time.UTC)
		var users []string
		for _, name := range []string{"alice", "bob"} {
			u := &auth.User{ID: registry.NewID(), Username: name, Role: auth.RoleAdmin, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		alice, bob := users[0], users[1]
		v := &grid.View{ID: registry.NewID(), UserID: alice, Name: "station", Layout: 4, CameraIDs: []string{"c1", "", "c3"}, CreatedAt: t0, UpdatedAt: t0}
		got, err := db.PutLiveView(ctx, v)
		if err != nil || got.ID != v.ID || !slices.Equal(got.CameraIDs, v.CameraIDs) || got.Layout != 4 || !got.CreatedAt.Equal(t0) {
			t.Fatalf("PutLiveView = %+v, %v; want %+v", got, err, v)
		}
		// Bob's view of the same name is his own.
		bv, err := db.PutLiveView(ctx, &grid.View{ID: registry.NewID(), UserID: bob, Name: "station", Layout: 1, CameraIDs: []string{"c9"}, CreatedAt: t0, UpdatedAt: t0})
		if err != nil || bv.ID == v.ID {
			t.Fatalf("PutLiveView(bob, same name) = %+v, %v; want a view of his own", bv, err)
		}
		t1 := t0.Add(time.Hour)
		again, err := db.PutLiveView(ctx, &grid.View{ID: registry.NewID(), UserID: alice, Name: "station", Layout: 9, CameraIDs: []string{"c2"}, CreatedAt: t1, UpdatedAt: t1})
		if err != nil || again.ID != v.ID || again.Layout != 9 || !slices.Equal(again.CameraIDs, []string{"c2"}) || !again.CreatedAt.Equal(t0) || !again.UpdatedAt.Equal(t1) {
			t.Errorf("PutLiveView(same name) = %+v, %v; want view %s replaced, created %v, updated %v", again, err, v.ID, t0, t1)
		}
		if list, err := db.LiveViews(ctx, alice); err != nil || len(list) != 1 || list[0].ID != v.ID {
			t.Errorf("LiveViews(alice) = %v, %v; want her one view", list, err)
		}
		if _, err := db.LiveView(ctx, bob, v.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("LiveView(bob, alice's) = %v; want ErrNotFound", err)
		}
		if err := db.DeleteLiveView(ctx, bob, v.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("DeleteLiveView(bob, alice's) = %v; want ErrNotFound", err)
		}
		if err := db.DeleteLiveView(ctx, alice, v.ID); err != nil {
			t.Errorf("DeleteLiveView(alice, hers) = %v", err)
		}
		if list, err := db.LiveViews(ctx, alice); err != nil || len(list) != 0 {
			t.Errorf("LiveViews(alice) after delete = %v, %v; want none", list, err)
		}
		if list, err := db.LiveViews(ctx, bob); err != nil || len(list) != 1 || list[0].ID != bv.ID {
			t.Errorf("LiveViews(bob) = %v, %v; want his view untouched", list, err)
		}
	})
}
