package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"civicam/internal/footage"
)

// CreateViewing stores a viewing its opening traced.
func (db *DB) CreateViewing(ctx context.Context, v *footage.Viewing) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO viewings (id, user_id, camera_ids, start_at, end_at, purpose,
		application_id, case_ref, opened_at, last_at, seeks) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)`,
		v.ID, v.UserID, strings.Join(v.CameraIDs, ","), Micros(v.Start), Micros(v.End), v.Purpose, v.ApplicationID, v.CaseRef,
		Micros(v.OpenedAt), Micros(v.LastAt))
	if err != nil {
		return fmt.Errorf("create viewing %s: %w", v.ID, err)
	}
	return nil
}

// Viewing returns one viewing, or ErrNotFound.
func (db *DB) Viewing(ctx context.Context, id string) (*footage.Viewing, error) {
	var v footage.Viewing
	var cams string
	var start, end, opened, last int64
	err := db.sql.QueryRowContext(ctx, `SELECT id, user_id, camera_ids, start_at, end_at, purpose, application_id, case_ref,
		opened_at, last_at, seeks FROM viewings WHERE id = $1`, id).Scan(&v.ID, &v.UserID, &cams, &start, &end, &v.Purpose,
		&v.ApplicationID, &v.CaseRef, &opened, &last, &v.Seeks)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("viewing %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("viewing %s: %w", id, err)
	}
	v.CameraIDs = strings.Split(cams, ",")
	v.Start, v.End, v.OpenedAt, v.LastAt = FromMicros(start), FromMicros(end), FromMicros(opened), FromMicros(last)
	return &v, nil
}

// AddViewingSeek keeps a range asked inside a viewing once, counting it, and moves the
// viewing's last use on either way.
func (db *DB) AddViewingSeek(ctx context.Context, viewingID string, s footage.ViewingSeek) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO viewing_seeks (viewing_id, camera_id, start_at, end_at, at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, viewingID, s.CameraID, Micros(s.Start), Micros(s.End), Micros(s.At))
		if err != nil {
			return fmt.Errorf("viewing %s: add seek: %w", viewingID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("viewing %s: add seek: %w", viewingID, err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE viewings SET seeks = seeks + $2, last_at = $3 WHERE id = $1`, viewingID, n, Micros(s.At))
		if err != nil {
			return fmt.Errorf("viewing %s: add seek: %w", viewingID, err)
		}
		if k, err := res.RowsAffected(); err == nil && k == 0 {
			return fmt.Errorf("viewing %s: %w", viewingID, ErrNotFound)
		}
		return nil
	})
}

// ViewingSeeks lists the ranges a viewing's players asked for, in the order they were first asked.
func (db *DB) ViewingSeeks(ctx context.Context, viewingID string) ([]footage.ViewingSeek, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT camera_id, start_at, end_at, at FROM viewing_seeks WHERE viewing_id = $1
		ORDER BY at, start_at, camera_id`, viewingID)
	if err != nil {
		return nil, fmt.Errorf("viewing %s: seeks: %w", viewingID, err)
	}
	defer rows.Close()
	out := []footage.ViewingSeek{}
	for rows.Next() {
		var s footage.ViewingSeek
		var start, end, at int64
		if err := rows.Scan(&s.CameraID, &start, &end, &at); err != nil {
			return nil, fmt.Errorf("viewing %s: seeks: %w", viewingID, err)
		}
		s.Start, s.End, s.At = FromMicros(start), FromMicros(end), FromMicros(at)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("viewing %s: seeks: %w", viewingID, err)
	}
	return out, nil
}
