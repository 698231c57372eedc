// Package storetest opens real, migrated, throw-away databases for tests: SQLite always, and
// PostgreSQL when CIVICAM_TEST_POSTGRES holds a DSN, so one suite covers both dialects.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/secret"
	"civicam/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL DSN for tests.
const EnvPostgres = "CIVICAM_TEST_POSTGRES"

var schemaSeq atomic.Int64

// ForEach runs fn as a subtest against SQLite and, when configured, PostgreSQL.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// NewKey returns a fresh key for sealing stream credentials, as the server keeps in its data
// directory.
func NewKey(t testing.TB) *secret.Key {
	t.Helper()
	k, err := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ForEachConfig runs fn as a subtest with the configuration of a fresh, unopened SQLite
// database and, when configured, of a fresh PostgreSQL schema: for tests that open the database
// themselves (a migration's, from the schema as it was before). Stream credentials are sealed
// with a key of the subtest's own, as the server does.
func ForEachConfig(t *testing.T, fn func(t *testing.T, cfg store.Config)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, store.Config{SQLitePath: filepath.Join(t.TempDir(), "civicam.db"), Secrets: NewKey(t)})
	})
	t.Run("postgres", func(t *testing.T) { fn(t, store.Config{PostgresDSN: PostgresDSN(t), Secrets: NewKey(t)}) })
}

// SQLite opens a migrated SQLite database in a temporary directory, sealing stream credentials
// with a key of its own as the server does.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(t.TempDir(), "civicam.db"), Secrets: NewKey(t)})
	if err != nil {
		t.Fatalf("store.Open(sqlite) = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres opens a migrated database in a schema of its own, so tests in parallel packages never
// see each other's rows; the schema is dropped afterwards. It skips without CIVICAM_TEST_POSTGRES.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := store.Open(context.Background(), store.Config{PostgresDSN: dsn, Secrets: NewKey(t)})
	if err != nil {
		t.Fatalf("store.Open(postgres) = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN creates a fresh schema and returns a DSN whose search_path points at it, for tests
// that start a whole server against PostgreSQL.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		t.Skip(EnvPostgres + " not set")
	}
	schema := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", dsn); err == nil {
			a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	})
	// pgx takes both URL and keyword/value DSNs; the search_path goes in as the form demands.
	switch {
	case !strings.Contains(dsn, "://"):
		return dsn + " search_path=" + schema
	case strings.Contains(dsn, "?"):
		return dsn + "&search_path=" + schema
	}
	return dsn + "?search_path=" + schema
}
