package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"civicam/internal/fault"
	"civicam/internal/registry"
)

const workOrderColumns = `id, camera_id, organisation_id, cause, detail, status, opened_at, opened_by, done_at, done_by, notes`

func scanWorkOrder(r scanner) (*registry.WorkOrder, error) {
	o := &registry.WorkOrder{}
	var opened int64
	var done sql.NullInt64
	if err := r.Scan(&o.ID, &o.CameraID, &o.OrganisationID, &o.Cause, &o.Detail, &o.Status, &opened, &o.OpenedBy, &done, &o.DoneBy, &o.Notes); err != nil {
		return nil, err
	}
	o.OpenedAt, o.DoneAt = FromMicros(opened), fromNullMicros(done)
	return o, nil
}

// OpenWorkOrder stores a new open work order; the unique index keeps one open automatic order
// per camera and cause.
func (db *DB) OpenWorkOrder(ctx context.Context, o *registry.WorkOrder) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO maintenance_orders (`+workOrderColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		o.ID, o.CameraID, o.OrganisationID, o.Cause, o.Detail, o.Status, Micros(o.OpenedAt), o.OpenedBy, nullMicros(o.DoneAt), o.DoneBy, o.Notes)
	if isUniqueViolation(err) {
		return fmt.Errorf("work order of camera %s: %w", o.CameraID, &fault.Error{Kind: fault.Conflict, Code: "order_open", Message: "an order of this cause is already open"})
	}
	if err != nil {
		return fmt.Errorf("insert work order: %w", err)
	}
	return nil
}

// WorkOrder returns one work order in the scope.
func (db *DB) WorkOrder(ctx context.Context, scope registry.Scope, id string) (*registry.WorkOrder, error) {
	q, args := `SELECT `+workOrderColumns+` FROM maintenance_orders WHERE id = $1`, []any{id}
	if !scope.All {
		q, args = q+` AND organisation_id = $2`, append(args, scope.OrganisationID)
	}
	return queryOne(ctx, db.sql, "work order "+id, ErrNotFound, scanWorkOrder, q, args...)
}

// WorkOrders lists work orders in the scope, the newest first.
func (db *DB) WorkOrders(ctx context.Context, scope registry.Scope, f registry.WorkOrderFilter) ([]*registry.WorkOrder, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !scope.All {
		where = append(where, "organisation_id = "+arg(scope.OrganisationID))
	}
	if f.CameraID != "" {
		where = append(where, "camera_id = "+arg(f.CameraID))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(f.Status))
	}
	q := `SELECT ` + workOrderColumns + ` FROM maintenance_orders`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY opened_at DESC, id`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	out, err := queryAll(ctx, db.sql, "work orders", scanWorkOrder, q, args...)
	if out == nil && err == nil {
		out = []*registry.WorkOrder{}
	}
	return out, err
}

// CompleteWorkOrder marks an open order done and moves the camera's last maintenance, in one
// transaction.
func (db *DB) CompleteWorkOrder(ctx context.Context, o *registry.WorkOrder, c *registry.Camera) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE maintenance_orders SET status = $2, done_at = $3, done_by = $4, notes = $5 WHERE id = $1 AND status = 'open'`,
			o.ID, o.Status, nullMicros(o.DoneAt), o.DoneBy, o.Notes)
		if err != nil {
			return fmt.Errorf("complete work order %s: %w", o.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("work order %s: %w", o.ID, &fault.Error{Kind: fault.Conflict, Code: "order_done", Message: "the work order is already done"})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cameras SET last_maintenance_at = $2, updated_at = $3 WHERE id = $1`,
			c.ID, nullMicros(c.LastMaintenanceAt), Micros(c.UpdatedAt)); err != nil {
			return fmt.Errorf("update maintenance of camera %s: %w", c.ID, err)
		}
		return nil
	})
}
