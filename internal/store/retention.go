package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"civicam/internal/fault"
	"civicam/internal/retention"
	"civicam/internal/timespan"
)

// CreateHold stores a new hold with its cameras. A duplicate id is ErrConflict.
func (db *DB) CreateHold(ctx context.Context, h *retention.Hold) error {
	if len(h.CameraIDs) == 0 {
		return fmt.Errorf("create hold %s: no cameras", h.ID)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO legal_holds
			(id, start_at, end_at, reference, reason, created_by, created_by_name, created_at, class, kept_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			h.ID, Micros(h.Start), Micros(h.End), h.Reference, h.Reason, h.CreatedBy, h.CreatedByName, Micros(h.CreatedAt),
			h.Class, nullMicros(h.KeptUntil))
		if isUniqueViolation(err) {
			return fault.Duplicate("hold " + h.ID)
		}
		if err != nil {
			return fmt.Errorf("create hold %s: %w", h.ID, err)
		}
		seen := map[string]bool{}
		for _, c := range h.CameraIDs {
			if seen[c] {
				continue
			}
			seen[c] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO legal_hold_cameras (hold_id, camera_id) VALUES ($1, $2)`, h.ID, c); err != nil {
				return fmt.Errorf("create hold %s: camera %s: %w", h.ID, c, err)
			}
		}
		return nil
	})
}

const holdCols = `h.id, h.start_at, h.end_at, h.reference, h.reason, h.created_by, h.created_by_name, h.created_at,
	h.released_at, h.released_by, h.released_by_name, h.release_reason, h.class, h.kept_until`

// Hold returns one hold, or ErrNotFound.
func (db *DB) Hold(ctx context.Context, id string) (*retention.Hold, error) {
	hs, err := db.queryHolds(ctx, `SELECT `+holdCols+` FROM legal_holds h WHERE h.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("hold %s: %w", id, ErrNotFound)
	}
	return hs[0], nil
}

// Holds lists holds, newest first.
func (db *DB) Holds(ctx context.Context, f retention.HoldFilter) ([]*retention.Hold, error) {
	var where []string
	var args []any
	if f.ActiveOnly {
		where = append(where, "h.released_at IS NULL")
	}
	if f.CameraID != "" {
		args = append(args, f.CameraID)
		where = append(where, fmt.Sprintf("EXISTS (SELECT 1 FROM legal_hold_cameras c WHERE c.hold_id = h.id AND c.camera_id = $%d)", len(args)))
	}
	if f.After != nil {
		args = append(args, Micros(f.After.CreatedAt), f.After.ID)
		where = append(where, fmt.Sprintf("(h.created_at < $%d OR (h.created_at = $%d AND h.id > $%d))", len(args)-1, len(args)-1, len(args)))
	}
	q := `SELECT ` + holdCols + ` FROM legal_holds h`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY h.created_at DESC, h.id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return db.queryHolds(ctx, q, args...)
}

func (db *DB) queryHolds(ctx context.Context, q string, args ...any) ([]*retention.Hold, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query holds: %w", err)
	}
	var out []*retention.Hold
	byID := map[string]*retention.Hold{}
	for rows.Next() {
		var h retention.Hold
		var start, end, created int64
		var released, keptUntil sql.NullInt64
		if err := rows.Scan(&h.ID, &start, &end, &h.Reference, &h.Reason, &h.CreatedBy, &h.CreatedByName, &created,
			&released, &h.ReleasedBy, &h.ReleasedByName, &h.ReleaseReason, &h.Class, &keptUntil); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan hold: %w", err)
		}
		h.Start, h.End, h.CreatedAt, h.ReleasedAt = FromMicros(start), FromMicros(end), FromMicros(created), fromNullMicros(released)
		h.KeptUntil = fromNullMicros(keptUntil)
		out = append(out, &h)
		byID[h.ID] = &h
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("query holds: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// The cameras of every hold listed, in one query per chunk of holds.
	ids := make([]string, 0, len(out))
	for _, h := range out {
		ids = append(ids, h.ID)
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		ph := make([]string, len(chunk))
		cargs := make([]any, len(chunk))
		for i, id := range chunk {
			ph[i] = fmt.Sprintf("$%d", i+1)
			cargs[i] = id
		}
		crows, err := db.sql.QueryContext(ctx, `SELECT hold_id, camera_id FROM legal_hold_cameras
			WHERE hold_id IN (`+strings.Join(ph, ",")+`)`, cargs...)
		if err != nil {
			return nil, fmt.Errorf("query hold cameras: %w", err)
		}
		for crows.Next() {
			var hid, cid string
			if err := crows.Scan(&hid, &cid); err != nil {
				crows.Close()
				return nil, fmt.Errorf("scan hold camera: %w", err)
			}
			if h := byID[hid]; h != nil {
				h.CameraIDs = append(h.CameraIDs, cid)
			}
		}
		err = crows.Err()
		crows.Close()
		if err != nil {
			return nil, fmt.Errorf("query hold cameras: %w", err)
		}
	}
	for _, h := range out {
		sort.Strings(h.CameraIDs)
	}
	return out, nil
}

// ReleaseHold ends an active hold, recording who released it, when and why. A hold already
// released is ErrConflict: a release is a fact of its own and is never overwritten; so is an
// important hold before its kept_until.
func (db *DB) ReleaseHold(ctx context.Context, id, byUserID, byUsername string, at time.Time, reason string) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE legal_holds SET released_at = $2, released_by = $3,
		released_by_name = $4, release_reason = $5
		WHERE id = $1 AND released_at IS NULL AND (kept_until IS NULL OR kept_until <= $2)`,
		id, Micros(at), byUserID, byUsername, reason)
	if err != nil {
		return fmt.Errorf("release hold %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("release hold %s: %w", id, err)
	} else if n == 1 {
		return nil
	}
	h, err := db.Hold(ctx, id)
	if err != nil {
		return err
	}
	if h.Active() {
		return fmt.Errorf("hold %s keeps its footage until %s: %w", id, h.KeptUntil.Format(time.RFC3339), ErrConflict)
	}
	return fmt.Errorf("hold %s is already released: %w", id, ErrConflict)
}

// ActiveHoldRanges lists the time ranges of a camera's active holds, in start order.
func (db *DB) ActiveHoldRanges(ctx context.Context, cameraID string) ([]timespan.Range, error) {
	return queryAll(ctx, db.sql, "active holds of "+cameraID, scanSpan, `SELECT h.start_at, h.end_at FROM legal_holds h
		JOIN legal_hold_cameras c ON c.hold_id = h.id
		WHERE c.camera_id = $1 AND h.released_at IS NULL ORDER BY h.start_at, h.end_at`, cameraID)
}

// RecordingSummaries sums, per camera, the sealed segments that ended at or after since (all of
// them when since is zero), by camera id.
func (db *DB) RecordingSummaries(ctx context.Context, since time.Time) ([]retention.RecordingSummary, error) {
	return queryAll(ctx, db.sql, "recording summaries", func(row scanner) (retention.RecordingSummary, error) {
		var s retention.RecordingSummary
		var oldest, newest, rec int64
		err := row.Scan(&s.CameraID, &s.Segments, &s.Bytes, &oldest, &newest, &rec)
		s.Oldest, s.Newest, s.Recorded = FromMicros(oldest), FromMicros(newest), time.Duration(rec)*time.Microsecond
		return s, err
	}, `SELECT camera_id, count(*), CAST(COALESCE(sum(bytes), 0) AS BIGINT), min(start_at), max(end_at),
		CAST(COALESCE(sum(end_at - start_at), 0) AS BIGINT)
		FROM recordings WHERE sealed AND end_at >= $1 GROUP BY camera_id ORDER BY camera_id`, Micros(since))
}

// RecordingSummariesOf is RecordingSummaries (of every sealed segment) of the cameras ids alone:
// a page of the storage report reads its cameras' rows through recordings_camera_start, not the
// whole index.
func (db *DB) RecordingSummariesOf(ctx context.Context, ids []string) ([]retention.RecordingSummary, error) {
	var out []retention.RecordingSummary
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		sums, err := queryAll(ctx, db.sql, "recording summaries", func(row scanner) (retention.RecordingSummary, error) {
			var s retention.RecordingSummary
			var oldest, newest, rec int64
			err := row.Scan(&s.CameraID, &s.Segments, &s.Bytes, &oldest, &newest, &rec)
			s.Oldest, s.Newest, s.Recorded = FromMicros(oldest), FromMicros(newest), time.Duration(rec)*time.Microsecond
			return s, err
		}, `SELECT camera_id, count(*), CAST(COALESCE(sum(bytes), 0) AS BIGINT), min(start_at), max(end_at),
			CAST(COALESCE(sum(end_at - start_at), 0) AS BIGINT)
			FROM recordings WHERE sealed AND camera_id IN (`+strings.Join(ph, ",")+`) GROUP BY camera_id ORDER BY camera_id`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, sums...)
	}
	return out, nil
}

// RecordingSpansOf are the recorded spans of the cameras ids, in order, from recording_spans.
func (db *DB) RecordingSpansOf(ctx context.Context, ids []string) (map[string][]timespan.Range, error) {
	out := make(map[string][]timespan.Range, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		type span struct {
			cam string
			r   timespan.Range
		}
		rows, err := queryAll(ctx, db.sql, "recording spans", func(row scanner) (span, error) {
			var s span
			var a, b int64
			err := row.Scan(&s.cam, &a, &b)
			s.r = timespan.Range{Start: FromMicros(a), End: FromMicros(b)}
			return s, err
		}, `SELECT camera_id, start_at, end_at FROM recording_spans WHERE camera_id IN (`+strings.Join(ph, ",")+`) ORDER BY camera_id, start_at`, args...)
		if err != nil {
			return nil, err
		}
		for _, s := range rows {
			out[s.cam] = append(out[s.cam], s.r)
		}
	}
	return out, nil
}
