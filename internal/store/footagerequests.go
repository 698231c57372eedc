package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"civicam/internal/lostperson"
)

const footageRequestColumns = `id, application_id, reviewer_id, camera_id, owner_organisation_id, from_at, to_at, reason,
	status, created_at, decided_at, decided_by, decision_note`

func scanFootageRequest(row scanner) (*lostperson.FootageRequest, error) {
	var r lostperson.FootageRequest
	var from, to, created int64
	var decided sql.NullInt64
	var status string
	if err := row.Scan(&r.ID, &r.ApplicationID, &r.ReviewerID, &r.CameraID, &r.OwnerOrganisationID, &from, &to, &r.Reason,
		&status, &created, &decided, &r.DecidedBy, &r.DecisionNote); err != nil {
		return nil, err
	}
	r.Status = lostperson.RequestStatus(status)
	r.From, r.To, r.CreatedAt, r.DecidedAt = FromMicros(from), FromMicros(to), FromMicros(created), fromNullMicros(decided)
	return &r, nil
}

// CreateFootageRequest stores a new footage request.
func (db *DB) CreateFootageRequest(ctx context.Context, r *lostperson.FootageRequest) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO footage_requests (`+footageRequestColumns+`) VALUES (`+placeholders(1, 13)+`)`,
		r.ID, r.ApplicationID, r.ReviewerID, r.CameraID, r.OwnerOrganisationID, Micros(r.From), Micros(r.To), r.Reason,
		string(r.Status), Micros(r.CreatedAt), nullMicros(r.DecidedAt), r.DecidedBy, r.DecisionNote)
	if err != nil {
		return fmt.Errorf("insert footage request: %w", err)
	}
	return nil
}

// FootageRequest returns one footage request.
func (db *DB) FootageRequest(ctx context.Context, id string) (*lostperson.FootageRequest, error) {
	r, err := scanFootageRequest(db.sql.QueryRowContext(ctx, `SELECT `+footageRequestColumns+` FROM footage_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("footage request %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select footage request: %w", err)
	}
	return r, nil
}

// FootageRequests lists the footage requests the filter matches, oldest first.
func (db *DB) FootageRequests(ctx context.Context, f lostperson.RequestFilter) ([]*lostperson.FootageRequest, error) {
	var where []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", col, len(args)))
		}
	}
	add("application_id", f.ApplicationID)
	add("owner_organisation_id", f.OwnerOrganisationID)
	add("camera_id", f.CameraID)
	q := `SELECT ` + footageRequestColumns + ` FROM footage_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	return queryAll(ctx, db.sql, "footage requests", func(row scanner) (*lostperson.FootageRequest, error) {
		return scanFootageRequest(row)
	}, q+` ORDER BY created_at, id`, args...)
}

// DecideFootageRequest writes the owner's decision on a request that is still pending.
func (db *DB) DecideFootageRequest(ctx context.Context, r *lostperson.FootageRequest) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE footage_requests SET status = $1, decided_at = $2, decided_by = $3, decision_note = $4
		WHERE id = $5 AND status = $6`, string(r.Status), nullMicros(r.DecidedAt), r.DecidedBy, r.DecisionNote, r.ID, string(lostperson.RequestPending))
	if err != nil {
		return fmt.Errorf("update footage request: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.FootageRequest(ctx, r.ID); err != nil {
			return err
		}
		return fmt.Errorf("footage request %s was decided meanwhile: %w", r.ID, lostperson.ErrState)
	}
	return nil
}
