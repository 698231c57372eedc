// Package store holds all of civicam's SQL: the schema migrations and one file of queries per
// entity, for both the embedded SQLite database and PostgreSQL.
//
// Queries are written once with $N placeholders, which both drivers bind by position. Times are
// stored as BIGINT microseconds since the Unix epoch so that the two dialects sort, compare and
// round-trip them identically.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"civicam/internal/fault"
)

// ErrNotFound is returned when the row asked for does not exist. It is fault.ErrNotFound, so
// that the domains, which do not import the store, recognise it.
var ErrNotFound = fault.ErrNotFound

// ErrConflict is returned when a write would break a uniqueness rule (a duplicate name, say).
// It is fault.ErrConflict.
var ErrConflict = fault.ErrConflict

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config chooses the database. With PostgresDSN empty, SQLite at SQLitePath is used.
type Config struct {
	SQLitePath  string
	PostgresDSN string
	// Secrets seals the stream credentials at rest. Without it they are stored as given, which
	// suits only tools and tests that hold none; a store opened so cannot read sealed ones.
	Secrets Sealer
}

// DB is the handle every other package stores through.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	secrets Sealer
}

//go:embed migrations
var migrations embed.FS

// Open connects to the configured database and brings its schema up to date.
func Open(ctx context.Context, cfg Config) (*DB, error) { return open(ctx, cfg, "") }

// open is Open, migrating only up to and including version until when it is not empty (for
// tests of a migration, which need the schema as it was before).
func open(ctx context.Context, cfg Config, until string) (*DB, error) {
	var db *DB
	if cfg.PostgresDSN != "" {
		s, err := sql.Open("pgx", cfg.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.SetMaxOpenConns(32)
		s.SetMaxIdleConns(32)
		db = &DB{sql: s, dialect: Postgres, secrets: cfg.Secrets}
	} else {
		if cfg.SQLitePath == "" {
			return nil, errors.New("open sqlite: no path")
		}
		// WAL lets readers run beside the one writer; synchronous=FULL makes every commit durable,
		// which the trail's "acknowledged means on disk" promise depends on; immediate
		// transactions take the write lock up front so two writers never deadlock on upgrade.
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		// The database holds personal data: a new file is made readable by its owner alone
		// before SQLite opens it, and SQLite gives its -wal and -shm files the same mode.
		if f, err := os.OpenFile(cfg.SQLitePath, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
		s, err := sql.Open("sqlite", "file:"+cfg.SQLitePath+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", cfg.SQLitePath, err)
		}
		s.SetMaxOpenConns(8)
		db = &DB{sql: s, dialect: SQLite, secrets: cfg.Secrets}
	}
	if err := db.sql.PingContext(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("connect %s: %w", db.dialect, err)
	}
	if err := db.migrate(ctx, until); err != nil {
		db.sql.Close()
		return nil, err
	}
	if db.secrets != nil && until == "" {
		if err := db.sealSources(ctx); err != nil {
			db.sql.Close()
			return nil, err
		}
	}
	return db, nil
}

// Close releases the database.
func (db *DB) Close() error { return db.sql.Close() }

// Dialect reports which database is in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL exposes the underlying handle to store's own tests and benchmarks.
func (db *DB) SQL() *sql.DB { return db.sql }

// migrate applies, in order and each in its own transaction, the migrations not yet recorded, up
// to and including until (all of them when it is empty).
func (db *DB) migrate(ctx context.Context, until string) error {
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	dir := path.Join("migrations", string(db.dialect))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(name, ".sql")
		if until != "" && version > until {
			break
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		if err := db.applyMigration(ctx, version, string(body)); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version, body string) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", version, err)
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		// Several nodes may start at once; the advisory lock makes them migrate one at a time.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7220240301)`); err != nil {
			return fmt.Errorf("migration %s: lock: %w", version, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: check: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		version, Micros(time.Now())); err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", version, err)
	}
	return nil
}

// Micros converts a time to the stored form; the zero time is stored as 0.
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// FromMicros is the inverse of Micros, in UTC.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// nullMicros stores an optional time as NULL when zero.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return FromMicros(n.Int64)
}

// isUniqueViolation recognises both drivers' duplicate-key errors without importing their
// error types into every query file.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan; what names the rows in errors.
func queryAll[T any](ctx context.Context, q queryer, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select %s: %w", what, err)
	}
	return out, nil
}

// queryOne scans the one row a query finds. No row is notFound; every error names what was
// looked for.
func queryOne[T any](ctx context.Context, db *sql.DB, what string, notFound error, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(db.QueryRowContext(ctx, query, args...))
	var zero T
	if errors.Is(err, sql.ErrNoRows) {
		return zero, fmt.Errorf("%s: %w", what, notFound)
	}
	if err != nil {
		return zero, fmt.Errorf("select %s: %w", what, err)
	}
	return v, nil
}

// placeholders is "$from, $from+1, …", n of them, for an IN list.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
