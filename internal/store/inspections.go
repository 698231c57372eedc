package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"civicam/internal/inspection"
)

// PutInspectionPlan stores an establishment's plan, replacing the one it had.
func (db *DB) PutInspectionPlan(ctx context.Context, p *inspection.Plan) error {
	groups, err := json.Marshal(p.RoomGroups)
	if err != nil {
		return fmt.Errorf("encode room groups: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT INTO inspection_plans (organisation_id, room_groups, updated_by, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (organisation_id) DO UPDATE SET room_groups = excluded.room_groups,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`, p.OrganisationID, string(groups), p.UpdatedBy, Micros(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put inspection plan: %w", err)
	}
	return nil
}

// InspectionPlan is an establishment's plan.
func (db *DB) InspectionPlan(ctx context.Context, organisationID string) (*inspection.Plan, error) {
	ps, err := db.inspectionPlans(ctx, ` WHERE organisation_id = $1`, organisationID)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("inspection plan of %s: %w", organisationID, ErrNotFound)
	}
	return ps[0], nil
}

// InspectionPlans lists every plan.
func (db *DB) InspectionPlans(ctx context.Context) ([]*inspection.Plan, error) {
	return db.inspectionPlans(ctx, ``)
}

func (db *DB) inspectionPlans(ctx context.Context, where string, args ...any) ([]*inspection.Plan, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT organisation_id, room_groups, updated_by, updated_at FROM inspection_plans`+where+
		` ORDER BY organisation_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("select inspection plans: %w", err)
	}
	defer rows.Close()
	var out []*inspection.Plan
	for rows.Next() {
		var p inspection.Plan
		var groups string
		var at int64
		if err := rows.Scan(&p.OrganisationID, &groups, &p.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("scan inspection plan: %w", err)
		}
		if err := json.Unmarshal([]byte(groups), &p.RoomGroups); err != nil {
			return nil, fmt.Errorf("decode room groups of %s: %w", p.OrganisationID, err)
		}
		p.UpdatedAt = FromMicros(at)
		out = append(out, &p)
	}
	return out, rows.Err()
}

func insertPhoto(ctx context.Context, tx *sql.Tx, p *inspection.StoredPhoto) error {
	if p == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO inspection_photos (id, content_type, data, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.ContentType, p.Data, Micros(p.CreatedAt)); err != nil {
		return fmt.Errorf("insert photo: %w", err)
	}
	return nil
}

// AddInspectionRecord stores a record and its photo in one transaction.
func (db *DB) AddInspectionRecord(ctx context.Context, r *inspection.Record, p *inspection.StoredPhoto) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertPhoto(ctx, tx, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inspection_records (`+recordColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.ID, r.OrganisationID, r.RoomGroup, Micros(r.InspectedOn),
			r.Inspector, r.Result, r.Notes, r.PhotoID, r.RecordedBy, Micros(r.CreatedAt)); err != nil {
			return fmt.Errorf("insert inspection record: %w", err)
		}
		return nil
	})
}

const recordColumns = `id, organisation_id, room_group, inspected_on, inspector, result, notes, photo_id, recorded_by, created_at`

// InspectionRecord is one record.
func (db *DB) InspectionRecord(ctx context.Context, id string) (*inspection.Record, error) {
	rs, err := db.inspectionRecords(ctx, ` WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("inspection record %s: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// InspectionRecords lists an organisation's records, newest first.
func (db *DB) InspectionRecords(ctx context.Context, organisationID string, limit int) ([]*inspection.Record, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return db.inspectionRecords(ctx, ` WHERE organisation_id = $1 ORDER BY inspected_on DESC, created_at DESC, id LIMIT $2`, organisationID, limit)
}

func (db *DB) inspectionRecords(ctx context.Context, tail string, args ...any) ([]*inspection.Record, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+recordColumns+` FROM inspection_records`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("select inspection records: %w", err)
	}
	defer rows.Close()
	var out []*inspection.Record
	for rows.Next() {
		var r inspection.Record
		var on, at int64
		if err := rows.Scan(&r.ID, &r.OrganisationID, &r.RoomGroup, &on, &r.Inspector, &r.Result, &r.Notes, &r.PhotoID,
			&r.RecordedBy, &at); err != nil {
			return nil, fmt.Errorf("scan inspection record: %w", err)
		}
		r.InspectedOn, r.CreatedAt = FromMicros(on), FromMicros(at)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// LastInspections is, per organisation and room group, the day of the latest inspection.
func (db *DB) LastInspections(ctx context.Context) ([]inspection.LastInspection, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT organisation_id, room_group, MAX(inspected_on) FROM inspection_records
		GROUP BY organisation_id, room_group`)
	if err != nil {
		return nil, fmt.Errorf("select last inspections: %w", err)
	}
	defer rows.Close()
	var out []inspection.LastInspection
	for rows.Next() {
		var l inspection.LastInspection
		var on int64
		if err := rows.Scan(&l.OrganisationID, &l.RoomGroup, &on); err != nil {
			return nil, fmt.Errorf("scan last inspection: %w", err)
		}
		l.On = FromMicros(on)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Photo is one stored photo.
func (db *DB) Photo(ctx context.Context, id string) (*inspection.StoredPhoto, error) {
	var p inspection.StoredPhoto
	var at int64
	err := db.sql.QueryRowContext(ctx, `SELECT id, content_type, data, created_at FROM inspection_photos WHERE id = $1`, id).
		Scan(&p.ID, &p.ContentType, &p.Data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("photo %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select photo: %w", err)
	}
	p.CreatedAt = FromMicros(at)
	return &p, nil
}

const reportColumns = `id, receipt_hash, place, description, photo_id, status, outcome, public_note, police_note, handled_by, created_at, updated_at`

// CreateCameraReport stores a public report and its photo in one transaction.
func (db *DB) CreateCameraReport(ctx context.Context, r *inspection.Report, p *inspection.StoredPhoto) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertPhoto(ctx, tx, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO camera_reports (`+reportColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, r.ID, r.ReceiptHash, r.Place, r.Description, r.PhotoID,
			string(r.Status), r.Outcome, r.PublicNote, r.PoliceNote, r.HandledBy, Micros(r.CreatedAt), Micros(r.UpdatedAt)); err != nil {
			return fmt.Errorf("insert camera report: %w", err)
		}
		return nil
	})
}

// CameraReport is one report.
func (db *DB) CameraReport(ctx context.Context, id string) (*inspection.Report, error) {
	return db.oneReport(ctx, `id`, id)
}

// CameraReportByReceipt is the report whose receipt hashes to receiptHash.
func (db *DB) CameraReportByReceipt(ctx context.Context, receiptHash string) (*inspection.Report, error) {
	return db.oneReport(ctx, `receipt_hash`, receiptHash)
}

func (db *DB) oneReport(ctx context.Context, column, v string) (*inspection.Report, error) {
	rs, err := db.cameraReports(ctx, ` WHERE `+column+` = $1`, v)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("camera report: %w", ErrNotFound)
	}
	return rs[0], nil
}

// CameraReports lists reports of a status ("" any), oldest first.
func (db *DB) CameraReports(ctx context.Context, status inspection.Status, limit int) ([]*inspection.Report, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return db.cameraReports(ctx, ` WHERE ($1 = '' OR status = $1) ORDER BY created_at, id LIMIT $2`, string(status), limit)
}

func (db *DB) cameraReports(ctx context.Context, tail string, args ...any) ([]*inspection.Report, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+reportColumns+` FROM camera_reports`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("select camera reports: %w", err)
	}
	defer rows.Close()
	var out []*inspection.Report
	for rows.Next() {
		var r inspection.Report
		var status string
		var at, up int64
		if err := rows.Scan(&r.ID, &r.ReceiptHash, &r.Place, &r.Description, &r.PhotoID, &status, &r.Outcome, &r.PublicNote,
			&r.PoliceNote, &r.HandledBy, &at, &up); err != nil {
			return nil, fmt.Errorf("scan camera report: %w", err)
		}
		r.Status, r.CreatedAt, r.UpdatedAt = inspection.Status(status), FromMicros(at), FromMicros(up)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// UpdateCameraReport writes a report that still has status from.
func (db *DB) UpdateCameraReport(ctx context.Context, r *inspection.Report, from inspection.Status) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE camera_reports SET status = $2, outcome = $3, public_note = $4, police_note = $5,
		handled_by = $6, updated_at = $7 WHERE id = $1 AND status = $8`, r.ID, string(r.Status), r.Outcome, r.PublicNote, r.PoliceNote,
		r.HandledBy, Micros(r.UpdatedAt), string(from))
	if err != nil {
		return fmt.Errorf("update camera report: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("camera report %s is no longer %s: %w", r.ID, from, ErrConflict)
	}
	return nil
}

// CameraReportCounts counts the reports by status and, for closed ones, by outcome.
func (db *DB) CameraReportCounts(ctx context.Context) (inspection.Counts, error) {
	c := inspection.Counts{ByStatus: map[string]int{}, ByOutcome: map[string]int{}}
	rows, err := db.sql.QueryContext(ctx, `SELECT status, outcome, count(*) FROM camera_reports GROUP BY status, outcome`)
	if err != nil {
		return c, fmt.Errorf("count camera reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, outcome string
		var n int
		if err := rows.Scan(&status, &outcome, &n); err != nil {
			return c, fmt.Errorf("scan camera report count: %w", err)
		}
		c.Total += n
		c.ByStatus[status] += n
		if outcome != "" {
			c.ByOutcome[outcome] += n
		}
	}
	return c, rows.Err()
}

var _ inspection.Repo = (*DB)(nil)
