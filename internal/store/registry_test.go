package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestCamerasRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 30, 8, 0, 0, 123456000, time.UTC)
		a := &registry.Organisation{ID: registry.NewID(), Name: "A", Kind: "department", DepartmentType: "public_security", CreatedAt: now, UpdatedAt: now}
		b := &registry.Organisation{ID: registry.NewID(), Name: "B", Kind: "enterprise", CreatedAt: now, UpdatedAt: now}
		for _, o := range []*registry.Organisation{a, b} {
			if err := db.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateOrganisation(ctx, &registry.Organisation{ID: registry.NewID(), Name: "A", Kind: "enterprise"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate organisation name = %v; want ErrConflict", err)
		}
		cam := &registry.Camera{ID: registry.NewID(), Name: "Gate 门", OrganisationID: a.ID, Investment: "government",
			Lat: 27.8337, Lon: 113.1455, Address: "神农城", PlaceCategory: "public_square", Bearing: 12.5, FOVAngle: 70, RangeM: 80,
			SourceURL: "rtsp://u:p@h/s", Networked: true, InterfaceReserved: true, SignInstalled: true,
			SignCheckedAt: now.Add(-time.Hour), RetentionDays: 45, MaintenanceIntervalDays: 90, LastMaintenanceAt: now.Add(-48 * time.Hour),
			Status: "active", LegalBasis: "", GBDeviceID: "43020000001320000001", CreatedAt: now, UpdatedAt: now}
		other := &registry.Camera{ID: registry.NewID(), Name: "Lobby", OrganisationID: b.ID, Investment: "private", Lat: 1, Lon: 2,
			PlaceCategory: "hotel_lobby", RetentionDays: 30, Status: "planned", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateCameras(ctx, []*registry.Camera{cam, other}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Camera(ctx, registry.Scope{All: true}, cam.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *cam {
			t.Fatalf("Camera() = %+v; want %+v", got, cam)
		}
		if _, err := db.Camera(ctx, registry.Scope{OrganisationID: b.ID}, cam.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Camera() outside scope = %v; want ErrNotFound", err)
		}
		if _, err := db.Camera(ctx, registry.Scope{}, cam.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Camera() with empty scope = %v; want ErrNotFound", err)
		}
		dup := *other
		dup.ID, dup.GBDeviceID = registry.NewID(), cam.GBDeviceID
		if err := db.CreateCameras(ctx, []*registry.Camera{&dup}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate gb_device_id = %v; want ErrConflict", err)
		}
		cam.Name, cam.Status, cam.SignCheckedAt = "Renamed", "decommissioned", time.Time{}
		if err := db.UpdateCamera(ctx, cam); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Camera(ctx, registry.Scope{All: true}, cam.ID)
		if got.Name != "Renamed" || got.Status != "decommissioned" || !got.SignCheckedAt.IsZero() {
			t.Fatalf("after update = %+v", got)
		}
		missing := *cam
		missing.ID = registry.NewID()
		if err := db.UpdateCamera(ctx, &missing); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UpdateCamera(missing) = %v; want ErrNotFound", err)
		}
		tests := []struct {
			name  string
			scope registry.Scope
			f     registry.CameraFilter
			want  int
		}{
			{"all", registry.Scope{All: true}, registry.CameraFilter{}, 2},
			{"org scope", registry.Scope{OrganisationID: b.ID}, registry.CameraFilter{}, 1},
			{"status", registry.Scope{All: true}, registry.CameraFilter{Status: "planned"}, 1},
			{"category", registry.Scope{All: true}, registry.CameraFilter{PlaceCategory: "public_square"}, 1},
			{"ids", registry.Scope{All: true}, registry.CameraFilter{IDs: []string{cam.ID, other.ID, registry.NewID()}}, 2},
			{"ids outside scope", registry.Scope{OrganisationID: a.ID}, registry.CameraFilter{IDs: []string{other.ID}}, 0},
			{"empty ids", registry.Scope{All: true}, registry.CameraFilter{IDs: []string{}}, 0},
			{"limit", registry.Scope{All: true}, registry.CameraFilter{Limit: 1}, 1},
		}
		for _, tt := range tests {
			cams, err := db.Cameras(ctx, tt.scope, tt.f)
			if err != nil || len(cams) != tt.want {
				t.Errorf("Cameras(%s) = %d, %v; want %d", tt.name, len(cams), err, tt.want)
			}
		}
	})
}

func TestUsersAndSessions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		u := &auth.User{ID: registry.NewID(), Username: "alice", PasswordHash: "$argon2id$x", Role: auth.RoleAuditor, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, &auth.User{ID: registry.NewID(), Username: "alice", Role: auth.RoleAdmin}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate username = %v; want ErrConflict", err)
		}
		if _, err := db.UserByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("UserByUsername(bob) = %v; want ErrNotFound", err)
		}
		tok, hash := auth.NewToken()
		s := &auth.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), ClientAddr: "127.0.0.1"}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		_, su, err := db.SessionUser(ctx, auth.HashToken(tok), now)
		if err != nil || su.Username != "alice" || su.Role != auth.RoleAuditor {
			t.Fatalf("SessionUser() = %+v, %v; want alice", su, err)
		}
		if _, _, err := db.SessionUser(ctx, auth.HashToken(tok), now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SessionUser() after expiry = %v; want ErrNotFound", err)
		}
		if n, err := db.DeleteExpiredSessions(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("DeleteExpiredSessions() = %d, %v; want 1", n, err)
		}
		db.CreateSession(ctx, s)
		if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SessionUser(ctx, hash, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SessionUser() after DeleteUserSessions = %v; want ErrNotFound", err)
		}
		if n, _ := db.CountUsers(ctx); n != 1 {
			t.Fatalf("CountUsers() = %d; want 1", n)
		}
	})
}
