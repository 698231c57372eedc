package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/registry"
	"civicam/internal/secret"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// The stream's credentials, in the user info and in the query as cameras take them.
const (
	credURL  = "rtsp://admin:hunter2@10.0.0.1/cam/2?user=admin&password=hunter3"
	credURL2 = "rtsp://admin:swordfish@10.0.0.1/cam/2?password=swordfish"
)

func newCamera(t *testing.T, ctx context.Context, db *store.DB, source string) *registry.Camera {
	t.Helper()
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	org := &registry.Organisation{ID: registry.NewID(), Name: "PSB " + registry.NewID(), Kind: "department", DepartmentType: "public_security", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	cam := &registry.Camera{ID: registry.NewID(), Name: "Gate", OrganisationID: org.ID, Investment: "government", Lat: 27.8, Lon: 113.1,
		PlaceCategory: "public_square", SourceURL: source, Networked: true, RetentionDays: 30, Status: "active", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateCameras(ctx, []*registry.Camera{cam}); err != nil {
		t.Fatal(err)
	}
	return cam
}

// storedSources is what the source_url column holds, as the database has it.
func storedSources(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT source_url FROM cameras ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// sqliteBytes is every byte of a SQLite database on disk: the file, its write-ahead log and
// shared memory.
func sqliteBytes(t *testing.T, db *store.DB) []byte {
	t.Helper()
	var seq int
	var name, file string
	if err := db.SQL().QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no database bytes at %s", file)
	}
	return all
}

// TestAttackStreamCredentialsAtRest: a camera's source URL, with the stream's password, was
// stored as it came, readable by anyone with the database file or a PostgreSQL dump. It is
// sealed in the column, on create and on update, and read back in the clear only by the server.
func TestAttackStreamCredentialsAtRest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cam := newCamera(t, ctx, db, credURL)
		got, err := db.Camera(ctx, registry.Scope{All: true}, cam.ID)
		if err != nil || got.SourceURL != credURL {
			t.Fatalf("Camera().SourceURL = %v, %v; want %q", got, err, credURL)
		}
		cam.SourceURL = credURL2
		if err := db.UpdateCamera(ctx, cam); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{}); err != nil || len(got) != 1 || got[0].SourceURL != credURL2 {
			t.Fatalf("Cameras() after update = %v, %v; want the new source %q", got, err, credURL2)
		}
		for _, s := range storedSources(t, db) {
			if !strings.HasPrefix(s, secret.Prefix) || strings.Contains(s, "hunter") || strings.Contains(s, "swordfish") || strings.Contains(s, "10.0.0.1") {
				t.Errorf("source_url column = %q; want it sealed (%s…)", s, secret.Prefix)
			}
		}
		if db.Dialect() == store.SQLite {
			raw := sqliteBytes(t, db)
			for _, pw := range []string{"hunter2", "hunter3", "swordfish"} {
				if bytes.Contains(raw, []byte(pw)) {
					t.Errorf("the SQLite database file holds the stream password %q", pw)
				}
			}
		}
	})
}

// Rows stored in the clear by an earlier version (or a node without the key) are sealed when
// a node with the key opens the store; a store opened with another key refuses to start, naming
// the camera, rather than failing later in some request.
func TestLegacySourcesSealedAtOpen(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var cfg store.Config
			if dialect == "postgres" {
				cfg.PostgresDSN = storetest.PostgresDSN(t)
			} else {
				cfg.SQLitePath = filepath.Join(t.TempDir(), "civicam.db")
			}
			ctx := context.Background()
			plain, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			cam := newCamera(t, ctx, plain, credURL)
			empty := newCamera(t, ctx, plain, "")
			plain.Close()

			key := storetest.NewKey(t)
			withKey := cfg
			withKey.Secrets = key
			db, err := store.Open(ctx, withKey)
			if err != nil {
				t.Fatalf("Open(with key, legacy rows) = %v", err)
			}
			for _, s := range storedSources(t, db) {
				if s != "" && (!strings.HasPrefix(s, secret.Prefix) || strings.Contains(s, "hunter")) {
					t.Errorf("legacy source_url after open = %q; want it sealed", s)
				}
			}
			for _, c := range []*registry.Camera{cam, empty} {
				if got, err := db.Camera(ctx, registry.Scope{All: true}, c.ID); err != nil || got.SourceURL != c.SourceURL {
					t.Errorf("Camera(%s).SourceURL after sealing = %v, %v; want %q", c.ID, got, err, c.SourceURL)
				}
			}
			db.Close()

			wrong := cfg
			wrong.Secrets = storetest.NewKey(t)
			if db, err := store.Open(ctx, wrong); !errors.Is(err, secret.ErrWrongKey) || !strings.Contains(err.Error(), cam.ID) || strings.Contains(err.Error(), "hunter") {
				if db != nil {
					db.Close()
				}
				t.Errorf("Open(another key) = %v; want ErrWrongKey naming camera %s, without the secret", err, cam.ID)
			}
			noKey, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer noKey.Close()
			if got, err := noKey.Camera(ctx, registry.Scope{All: true}, cam.ID); err == nil {
				t.Errorf("Camera() from a store without the key = %+v; want an error, not the sealed text as a URL", got)
			}
		})
	}
}
