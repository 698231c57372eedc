package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"civicam/internal/secret"
)

// Sealer encrypts the secrets the store holds at rest (a camera's source URL, which carries the
// stream's credentials) and decrypts them when read; secret.Key is one.
type Sealer interface {
	// Seal encrypts plain bound to context, the row it is stored in.
	Seal(plain, context string) (string, error)
	// Open decrypts a sealed value; a value stored before sealing existed comes back as it is.
	Open(stored, context string) (string, error)
}

// errNoSealer is reading a sealed value from a store opened without the key.
var errNoSealer = errors.New("stream credentials are sealed and the store was opened without the secret key")

// sourceContext binds a camera's sealed source URL to its row, so that it opens nowhere else.
func sourceContext(cameraID string) string { return "cameras.source_url/" + cameraID }

// sealSource is the source_url column's value for a camera's source URL: sealed when the store
// has a Sealer, as it stands when it has none (tools and tests that hold no credentials).
func (db *DB) sealSource(cameraID, url string) (string, error) {
	if db.secrets == nil {
		return url, nil
	}
	s, err := db.secrets.Seal(url, sourceContext(cameraID))
	if err != nil {
		return "", fmt.Errorf("camera %s: %w", cameraID, err)
	}
	return s, nil
}

// openSource is the source URL a source_url column holds.
func (db *DB) openSource(cameraID, stored string) (string, error) {
	if db.secrets == nil {
		if secret.IsSealed(stored) {
			return "", fmt.Errorf("camera %s: %w", cameraID, errNoSealer)
		}
		return stored, nil
	}
	url, err := db.secrets.Open(stored, sourceContext(cameraID))
	if err != nil {
		return "", fmt.Errorf("camera %s: stream credentials do not open: %w", cameraID, err)
	}
	return url, nil
}

// sealSources runs at open: it seals the source URLs stored before sealing existed (or by a
// node without a key), and opens every sealed one, so that a wrong key stops the start naming
// the camera it failed on, not a later request. Several nodes starting at once on one
// PostgreSQL seal each legacy row once: the update applies only while the row still holds the
// plain text it read.
func (db *DB) sealSources(ctx context.Context) error {
	type row struct{ id, stored string }
	rows, err := db.sql.QueryContext(ctx, `SELECT id, source_url FROM cameras WHERE source_url <> ''`)
	if err != nil {
		return fmt.Errorf("read stream sources: %w", err)
	}
	var legacy []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.stored); err != nil {
			rows.Close()
			return fmt.Errorf("read stream sources: %w", err)
		}
		if !secret.IsSealed(r.stored) {
			legacy = append(legacy, r)
			continue
		}
		if _, err := db.openSource(r.id, r.stored); err != nil {
			rows.Close()
			return err
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read stream sources: %w", err)
	}
	if len(legacy) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range legacy {
			sealed, err := db.sealSource(r.id, r.stored)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE cameras SET source_url = $1 WHERE id = $2 AND source_url = $3`,
				sealed, r.id, r.stored); err != nil {
				return fmt.Errorf("seal the stream source of camera %s: %w", r.id, err)
			}
		}
		return nil
	})
}
