package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"civicam/internal/export"
	"civicam/internal/footage"
)

const approvalCols = `id, camera_id, start_at, end_at, purpose, case_ref, application_id, recipient, requested_by,
	requested_by_name, organisation_id, requested_at, approved_by, approved_by_name, approved_at, export_id`

// CreateExportApproval stores an export request awaiting a second user.
func (db *DB) CreateExportApproval(ctx context.Context, a *footage.ExportApproval) error {
	var recipient string
	if a.Recipient != nil {
		b, err := json.Marshal(a.Recipient)
		if err != nil {
			return fmt.Errorf("create export approval %s: %w", a.ID, err)
		}
		recipient = string(b)
	}
	_, err := db.sql.ExecContext(ctx, `INSERT INTO export_approvals (id, camera_id, start_at, end_at, purpose, case_ref,
		application_id, recipient, requested_by, requested_by_name, organisation_id, requested_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, a.CameraID, Micros(a.Start), Micros(a.End), a.Purpose, a.CaseRef, a.ApplicationID, recipient,
		a.RequestedBy, a.RequestedByName, a.OrganisationID, Micros(a.RequestedAt))
	if err != nil {
		return fmt.Errorf("create export approval %s: %w", a.ID, err)
	}
	return nil
}

// ExportApproval returns one export request, or ErrNotFound.
func (db *DB) ExportApproval(ctx context.Context, id string) (*footage.ExportApproval, error) {
	as, err := db.queryApprovals(ctx, `SELECT `+approvalCols+` FROM export_approvals WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("export approval %s: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// PendingExportApprovals lists an organisation's export requests awaiting approval, oldest first.
func (db *DB) PendingExportApprovals(ctx context.Context, organisationID string) ([]*footage.ExportApproval, error) {
	return db.queryApprovals(ctx, `SELECT `+approvalCols+` FROM export_approvals
		WHERE organisation_id = $1 AND approved_at IS NULL ORDER BY requested_at, id`, organisationID)
}

// ApproveExport records the approval of a pending export request; one already approved is
// ErrConflict, so that one request makes one export.
func (db *DB) ApproveExport(ctx context.Context, id, byUserID, byUsername string, at time.Time, exportID string) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE export_approvals SET approved_by = $2, approved_by_name = $3, approved_at = $4,
		export_id = $5 WHERE id = $1 AND approved_at IS NULL`, id, byUserID, byUsername, Micros(at), exportID)
	if err != nil {
		return fmt.Errorf("approve export %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("approve export %s: %w", id, err)
	} else if n == 1 {
		return nil
	}
	if _, err := db.ExportApproval(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("export request %s is already approved: %w", id, ErrConflict)
}

func (db *DB) queryApprovals(ctx context.Context, q string, args ...any) ([]*footage.ExportApproval, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query export approvals: %w", err)
	}
	defer rows.Close()
	out := []*footage.ExportApproval{}
	for rows.Next() {
		var a footage.ExportApproval
		var start, end, requested int64
		var approved sql.NullInt64
		var recipient string
		if err := rows.Scan(&a.ID, &a.CameraID, &start, &end, &a.Purpose, &a.CaseRef, &a.ApplicationID, &recipient,
			&a.RequestedBy, &a.RequestedByName, &a.OrganisationID, &requested, &a.ApprovedBy, &a.ApprovedByName, &approved, &a.ExportID); err != nil {
			return nil, fmt.Errorf("scan export approval: %w", err)
		}
		a.Start, a.End, a.RequestedAt, a.ApprovedAt = FromMicros(start), FromMicros(end), FromMicros(requested), fromNullMicros(approved)
		if recipient != "" {
			a.Recipient = &export.Recipient{}
			if err := json.Unmarshal([]byte(recipient), a.Recipient); err != nil {
				return nil, fmt.Errorf("export approval %s: recipient: %w", a.ID, err)
			}
		}
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query export approvals: %w", err)
	}
	return out, nil
}
