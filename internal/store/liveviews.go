package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"civicam/internal/fault"
	"civicam/internal/grid"
)

const liveViewColumns = `id, user_id, name, layout, camera_ids, created_at, updated_at`

func scanLiveView(row interface{ Scan(...any) error }) (*grid.View, error) {
	var v grid.View
	var cams string
	var created, updated int64
	if err := row.Scan(&v.ID, &v.UserID, &v.Name, &v.Layout, &cams, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cams), &v.CameraIDs); err != nil {
		return nil, fmt.Errorf("live view %s: camera ids: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &v, nil
}

// LiveViews lists one user's saved grid views by name.
func (db *DB) LiveViews(ctx context.Context, userID string) ([]*grid.View, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+liveViewColumns+` FROM live_views WHERE user_id = $1 ORDER BY name, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("select live views: %w", err)
	}
	defer rows.Close()
	out := []*grid.View{}
	for rows.Next() {
		v, err := scanLiveView(rows)
		if err != nil {
			return nil, fmt.Errorf("scan live view: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// LiveView reads one of a user's saved views; another user's is ErrNotFound.
func (db *DB) LiveView(ctx context.Context, userID, id string) (*grid.View, error) {
	v, err := scanLiveView(db.sql.QueryRowContext(ctx, `SELECT `+liveViewColumns+` FROM live_views WHERE id = $1 AND user_id = $2`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("live view %s: %w", id, fault.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select live view: %w", err)
	}
	return v, nil
}

// PutLiveView creates v, or replaces the layout and cameras of the user's view of the same name,
// which keeps its id and creation time; it returns the view as stored.
func (db *DB) PutLiveView(ctx context.Context, v *grid.View) (*grid.View, error) {
	cams, err := json.Marshal(v.CameraIDs)
	if err != nil {
		return nil, fmt.Errorf("live view camera ids: %w", err)
	}
	row := db.sql.QueryRowContext(ctx, `INSERT INTO live_views (`+liveViewColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id, name) DO UPDATE SET layout = excluded.layout, camera_ids = excluded.camera_ids, updated_at = excluded.updated_at
		RETURNING `+liveViewColumns, v.ID, v.UserID, v.Name, v.Layout, string(cams), Micros(v.CreatedAt), Micros(v.UpdatedAt))
	out, err := scanLiveView(row)
	if err != nil {
		return nil, fmt.Errorf("put live view: %w", err)
	}
	return out, nil
}

// DeleteLiveView deletes one of a user's saved views; another user's is ErrNotFound.
func (db *DB) DeleteLiveView(ctx context.Context, userID, id string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM live_views WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete live view: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("live view %s: %w", id, fault.ErrNotFound)
	}
	return nil
}

var _ grid.Store = (*DB)(nil)
