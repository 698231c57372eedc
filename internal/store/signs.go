package store

import (
	"context"
	"database/sql"
	"fmt"

	"civicam/internal/registry"
)

// Sign returns a camera's sign record with its photo's metadata.
func (db *DB) Sign(ctx context.Context, cameraID string) (*registry.Sign, error) {
	return queryOne(ctx, db.sql, "sign of camera "+cameraID, ErrNotFound, func(r scanner) (*registry.Sign, error) {
		s := &registry.Sign{CameraID: cameraID}
		var checked sql.NullInt64
		var updated int64
		var sha, typ string
		var size sql.NullInt64
		if err := r.Scan(&s.Installed, &checked, &s.CheckedBy, &sha, &updated, &typ, &size); err != nil {
			return nil, err
		}
		s.CheckedAt, s.UpdatedAt = fromNullMicros(checked), FromMicros(updated)
		if sha != "" {
			s.Photo = &registry.Photo{SHA256: sha, Type: typ, Size: int(size.Int64)}
		}
		return s, nil
	}, `SELECT s.installed, s.checked_at, s.checked_by, s.photo_sha256, s.updated_at,
		COALESCE(p.type, ''), LENGTH(p.content)
		FROM camera_signs s LEFT JOIN sign_photos p ON p.sha256 = s.photo_sha256
		WHERE s.camera_id = $1`, cameraID)
}

// PutSign writes a sign record, its photo when given, and the camera's sign fields, in one
// transaction.
func (db *DB) PutSign(ctx context.Context, c *registry.Camera, s *registry.Sign, photo *registry.Photo) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if photo != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sign_photos (sha256, type, content, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (sha256) DO NOTHING`, photo.SHA256, photo.Type, photo.Data, Micros(s.UpdatedAt)); err != nil {
				return fmt.Errorf("insert sign photo: %w", err)
			}
		}
		sha := ""
		if s.Photo != nil {
			sha = s.Photo.SHA256
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO camera_signs (camera_id, installed, checked_at, checked_by, photo_sha256, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (camera_id) DO UPDATE SET installed = excluded.installed, checked_at = excluded.checked_at,
			checked_by = excluded.checked_by, photo_sha256 = excluded.photo_sha256, updated_at = excluded.updated_at`,
			s.CameraID, s.Installed, nullMicros(s.CheckedAt), s.CheckedBy, sha, Micros(s.UpdatedAt)); err != nil {
			return fmt.Errorf("put sign of camera %s: %w", s.CameraID, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE cameras SET sign_installed = $2, sign_checked_at = $3, updated_at = $4 WHERE id = $1`,
			c.ID, c.SignInstalled, nullMicros(c.SignCheckedAt), Micros(c.UpdatedAt))
		if err != nil {
			return fmt.Errorf("update sign of camera %s: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("camera %s: %w", c.ID, ErrNotFound)
		}
		return nil
	})
}

// SignPhoto returns a sign photo with its bytes.
func (db *DB) SignPhoto(ctx context.Context, sha256 string) (*registry.Photo, error) {
	return queryOne(ctx, db.sql, "sign photo "+sha256, ErrNotFound, func(r scanner) (*registry.Photo, error) {
		p := &registry.Photo{SHA256: sha256}
		if err := r.Scan(&p.Type, &p.Data); err != nil {
			return nil, err
		}
		p.Size = len(p.Data)
		return p, nil
	}, `SELECT type, content FROM sign_photos WHERE sha256 = $1`, sha256)
}
