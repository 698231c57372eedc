package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"civicam/internal/fault"
	"civicam/internal/registry"
)

const filingColumns = `camera_id, organisation_id, accepted_at, filed_at, filed_by, reference`

// PutAcceptance records a camera's acceptance unless one is recorded already.
func (db *DB) PutAcceptance(ctx context.Context, cameraID, organisationID string, at time.Time) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO camera_filings (camera_id, organisation_id, accepted_at) VALUES ($1, $2, $3)
		ON CONFLICT (camera_id) DO NOTHING`, cameraID, organisationID, Micros(at))
	if err != nil {
		return fmt.Errorf("insert acceptance: %w", err)
	}
	return nil
}

func scanFiling(row interface{ Scan(...any) error }) (*registry.Filing, error) {
	var f registry.Filing
	var accepted int64
	var filed sql.NullInt64
	if err := row.Scan(&f.CameraID, &f.OrganisationID, &accepted, &filed, &f.FiledBy, &f.Reference); err != nil {
		return nil, err
	}
	f.AcceptedAt, f.FiledAt = FromMicros(accepted), fromNullMicros(filed)
	return &f, nil
}

// Filing reads one camera's acceptance and filing.
func (db *DB) Filing(ctx context.Context, cameraID string) (*registry.Filing, error) {
	f, err := scanFiling(db.sql.QueryRowContext(ctx, `SELECT `+filingColumns+` FROM camera_filings WHERE camera_id = $1`, cameraID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("filing of camera %s: %w", cameraID, fault.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select filing: %w", err)
	}
	return f, nil
}

// RecordFiling writes the filing of an accepted camera not filed yet.
func (db *DB) RecordFiling(ctx context.Context, f *registry.Filing) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE camera_filings SET filed_at = $2, filed_by = $3, reference = $4
		WHERE camera_id = $1 AND filed_at IS NULL`, f.CameraID, Micros(f.FiledAt), f.FiledBy, f.Reference)
	if err != nil {
		return fmt.Errorf("record filing: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("filing of camera %s: %w", f.CameraID, fault.ErrConflict)
	}
	return nil
}

// Filings lists the accepted cameras in scope with their filings, oldest acceptance first.
func (db *DB) Filings(ctx context.Context, scope registry.Scope) ([]*registry.Filing, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+filingColumns+` FROM camera_filings WHERE ($1 OR organisation_id = $2)
		ORDER BY accepted_at, camera_id`, scope.All, scope.OrganisationID)
	if err != nil {
		return nil, fmt.Errorf("select filings: %w", err)
	}
	defer rows.Close()
	out := []*registry.Filing{}
	for rows.Next() {
		f, err := scanFiling(rows)
		if err != nil {
			return nil, fmt.Errorf("scan filing: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
