package store

import (
	"context"
	"fmt"
	"time"

	"civicam/internal/segment"
)

// RecordingMergeGap is the largest hole between two segments that RecordingRanges still treats
// as continuous recording (segment.MergeGap).
const RecordingMergeGap = segment.MergeGap

// TimeRange is a half-open interval [Start, End); the type is segment's, so that the index's
// readers need not import the store.
type TimeRange = segment.TimeRange

// Coverage is what was recorded of a camera within a window, and what was not (segment's type).
type Coverage = segment.Coverage

const recordingCols = `id, camera_id, path, start_at, end_at, bytes, sha256, sealed`

func scanRecording(row scanner) (segment.Record, error) {
	var r segment.Record
	var start, end int64
	err := row.Scan(&r.ID, &r.CameraID, &r.Path, &start, &end, &r.Bytes, &r.SHA256, &r.Sealed)
	r.Start, r.End = FromMicros(start), FromMicros(end)
	return r, err
}

// SegmentStarted indexes a segment whose file is about to be created. A second entry at the same
// path is ErrConflict.
func (db *DB) SegmentStarted(ctx context.Context, cameraID, path string, start time.Time) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO recordings
		(camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
		VALUES ($1, $2, $3, $3, 0, '', FALSE, $4)`,
		cameraID, path, Micros(start), Micros(time.Now()))
	if isUniqueViolation(err) {
		return fmt.Errorf("index segment %s: %w", path, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("index segment %s: %w", path, err)
	}
	return nil
}

// SegmentSealed completes a segment's entry with its end, size and SHA-256 and marks it sealed.
// An entry that was never started (its insert lost) is created, so a sealed file is never left
// out of the index.
func (db *DB) SegmentSealed(ctx context.Context, rec segment.Record) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO recordings
		(camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)
		ON CONFLICT (path) DO UPDATE SET end_at = excluded.end_at, bytes = excluded.bytes,
			sha256 = excluded.sha256, sealed = TRUE`,
		rec.CameraID, rec.Path, Micros(rec.Start), Micros(rec.End), rec.Bytes, rec.SHA256, Micros(time.Now()))
	if err != nil {
		return fmt.Errorf("seal segment %s: %w", rec.Path, err)
	}
	return nil
}

// UnsealedSegments lists a camera's segments not sealed yet (every camera's when cameraID is
// empty), oldest first: when no recorder is writing them, those a crash interrupted.
func (db *DB) UnsealedSegments(ctx context.Context, cameraID string) ([]segment.Record, error) {
	if cameraID == "" {
		return db.queryRecordings(ctx, `SELECT `+recordingCols+` FROM recordings WHERE NOT sealed ORDER BY start_at, id`)
	}
	return db.queryRecordings(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE NOT sealed AND camera_id = $1 ORDER BY start_at, id`, cameraID)
}

// DeleteSegment removes the entry at path. Deleting an entry that is already gone is not an
// error, so that a deletion interrupted between file and index can simply be run again.
func (db *DB) DeleteSegment(ctx context.Context, path string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM recordings WHERE path = $1`, path); err != nil {
		return fmt.Errorf("delete segment %s: %w", path, err)
	}
	return nil
}

// RecordingSegment returns the entry at path, or ErrNotFound.
func (db *DB) RecordingSegment(ctx context.Context, path string) (segment.Record, error) {
	return queryOne(ctx, db.sql, "segment "+path, ErrNotFound, scanRecording, `SELECT `+recordingCols+` FROM recordings WHERE path = $1`, path)
}

// RecordingSegments lists a camera's sealed segments that overlap [start, end), in time order.
func (db *DB) RecordingSegments(ctx context.Context, cameraID string, start, end time.Time) ([]segment.Record, error) {
	return db.queryRecordings(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE camera_id = $1 AND sealed AND start_at < $3 AND end_at > $2
		ORDER BY start_at, id`, cameraID, Micros(start), Micros(end))
}

// SegmentsEndedBefore lists up to limit sealed segments of a camera that ended before t, oldest
// first: what retention may consider deleting.
func (db *DB) SegmentsEndedBefore(ctx context.Context, cameraID string, t time.Time, limit int) ([]segment.Record, error) {
	return db.queryRecordings(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE camera_id = $1 AND sealed AND end_at <= $2
		ORDER BY start_at, id LIMIT $3`, cameraID, Micros(t), limit)
}

func (db *DB) queryRecordings(ctx context.Context, q string, args ...any) ([]segment.Record, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	defer rows.Close()
	var out []segment.Record
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("scan segment: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	return out, nil
}

// RecordingRanges reports, within [start, end), the stretches of a camera's sealed recordings and
// the gaps between them. Segments less than RecordingMergeGap apart count as one stretch; ranges
// are clipped to the window, and gaps cover the rest of it.
func (db *DB) RecordingRanges(ctx context.Context, cameraID string, start, end time.Time) (Coverage, error) {
	if !end.After(start) {
		return Coverage{}, nil
	}
	segs, err := db.RecordingSegments(ctx, cameraID, start, end)
	if err != nil {
		return Coverage{}, err
	}
	return coverage(segs, start, end), nil
}

func coverage(segs []segment.Record, start, end time.Time) Coverage {
	var cov Coverage
	for _, s := range segs {
		if !s.End.After(s.Start) {
			continue
		}
		n := len(cov.Ranges)
		if n > 0 && s.Start.Sub(cov.Ranges[n-1].End) < RecordingMergeGap {
			if s.End.After(cov.Ranges[n-1].End) {
				cov.Ranges[n-1].End = s.End
			}
			continue
		}
		cov.Ranges = append(cov.Ranges, TimeRange{Start: s.Start, End: s.End})
	}
	// Clip to the window: a range may straddle either edge.
	out := cov.Ranges[:0]
	for _, r := range cov.Ranges {
		if r.Start.Before(start) {
			r.Start = start
		}
		if r.End.After(end) {
			r.End = end
		}
		if r.End.After(r.Start) {
			out = append(out, r)
		}
	}
	cov.Ranges = out
	at := start
	for _, r := range cov.Ranges {
		if r.Start.After(at) {
			cov.Gaps = append(cov.Gaps, TimeRange{Start: at, End: r.Start})
		}
		at = r.End
	}
	if end.After(at) {
		cov.Gaps = append(cov.Gaps, TimeRange{Start: at, End: end})
	}
	return cov
}
