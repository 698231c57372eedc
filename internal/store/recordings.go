package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"civicam/internal/lease"
	"civicam/internal/segment"
	"civicam/internal/timespan"
)

// RecordingMergeGap is the largest hole between two segments that RecordingRanges and
// recording_spans still treat as continuous recording (segment.MergeGap).
const RecordingMergeGap = segment.MergeGap

const recordingCols = `id, camera_id, path, start_at, end_at, bytes, sha256, sealed, node_id, location`

func scanRecording(row scanner) (segment.Record, error) {
	var r segment.Record
	var start, end int64
	err := row.Scan(&r.ID, &r.CameraID, &r.Path, &start, &end, &r.Bytes, &r.SHA256, &r.Sealed, &r.Node, &r.Location)
	r.Start, r.End = FromMicros(start), FromMicros(end)
	return r, err
}

// SegmentStarted indexes a segment whose file is about to be created, unfenced (StartSegment).
func (db *DB) SegmentStarted(ctx context.Context, cameraID, path string, start time.Time) error {
	return db.StartSegment(ctx, segment.Record{CameraID: cameraID, Path: path, Start: start})
}

// StartSegment indexes the segment rec, whose file is about to be created, as written by
// rec.Node. A second entry at the same path is ErrConflict; with rec.Token set, a camera whose
// lease is no longer rec.Node's with that token refuses it with lease.ErrLost.
func (db *DB) StartSegment(ctx context.Context, rec segment.Record) error {
	q := `INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at, node_id)
		SELECT $1, $2, CAST($3 AS BIGINT), CAST($3 AS BIGINT), 0, '', FALSE, CAST($4 AS BIGINT), $5`
	args := []any{rec.CameraID, rec.Path, Micros(rec.Start), Micros(time.Now()), rec.Node}
	if rec.Token > 0 {
		q += ` WHERE ` + fenceClause(6)
		args = append(args, rec.CameraID, rec.Node, rec.Token)
	}
	res, err := db.sql.ExecContext(ctx, q, args...)
	if isUniqueViolation(err) {
		return fmt.Errorf("index segment %s: %w", rec.Path, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("index segment %s: %w", rec.Path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("index segment %s: %w", rec.Path, err)
	} else if n == 0 {
		return fmt.Errorf("index segment %s under token %d: %w", rec.Path, rec.Token, lease.ErrLost)
	}
	return nil
}

// SegmentSealed completes a segment's entry with its end, size and SHA-256 and marks it sealed.
// An entry that was never started (its insert lost) is created, so a sealed file is never left
// out of the index. The camera's recording_spans change in the same transaction.
func (db *DB) SegmentSealed(ctx context.Context, rec segment.Record) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if rec.Token > 0 {
			if err := db.lockSpans(ctx, tx, rec.CameraID); err != nil {
				return err
			}
			// The lease row is locked until the commit, so no other node takes the camera
			// between this check and the writes below.
			q := `SELECT token FROM camera_leases WHERE camera_id = $1 AND node_id = $2 AND token = $3`
			if db.dialect == Postgres {
				q += ` FOR SHARE`
			}
			var tok int64
			err := tx.QueryRowContext(ctx, q, rec.CameraID, rec.Node, rec.Token).Scan(&tok)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("under token %d: %w", rec.Token, lease.ErrLost)
			}
			if err != nil {
				return fmt.Errorf("check lease: %w", err)
			}
		}
		// The usual case: the recorder seals the entry it started, which no span holds yet. On
		// PostgreSQL the camera's lock is taken in the same statement (sealStarted).
		cam, start, err := db.sealStarted(ctx, tx, rec)
		if err == nil {
			if cam != rec.CameraID {
				// An entry filed under another camera keeps it, as the upsert below keeps it;
				// its spans are that camera's.
				if err := db.lockSpans(ctx, tx, cam); err != nil {
					return err
				}
			}
			return addSpan(ctx, tx, cam, spanOf(start, Micros(rec.End)))
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update: %w", err)
		}
		// The statement above took the lock whether or not it found the entry; taking it again
		// costs a round trip on this rarer path and does not depend on how that was planned.
		if err := db.lockSpans(ctx, tx, rec.CameraID); err != nil {
			return err
		}
		// Sealed again (cut to its last complete part), or never started: what the entry held
		// before leaves its camera's spans, then what it holds now joins them.
		var old struct {
			id         int64
			cam        string
			start, end int64
			sealed     bool
		}
		err = tx.QueryRowContext(ctx, `SELECT id, camera_id, start_at, end_at, sealed FROM recordings WHERE path = $1`,
			rec.Path).Scan(&old.id, &old.cam, &old.start, &old.end, &old.sealed)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("select: %w", err)
		}
		if found && old.cam != rec.CameraID {
			if err := db.lockSpans(ctx, tx, old.cam); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO recordings
			(camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at, node_id)
			VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8)
			ON CONFLICT (path) DO UPDATE SET end_at = excluded.end_at, bytes = excluded.bytes,
				sha256 = excluded.sha256, sealed = TRUE
			RETURNING camera_id, start_at`,
			rec.CameraID, rec.Path, Micros(rec.Start), Micros(rec.End), rec.Bytes, rec.SHA256, Micros(time.Now()), rec.Node).Scan(&cam, &start); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		if found && old.sealed {
			if err := removeSpans(ctx, tx, old.cam, []timespan.Range{spanOf(old.start, old.end)}, old.id); err != nil {
				return err
			}
		}
		return addSpan(ctx, tx, cam, spanOf(start, Micros(rec.End)))
	})
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
	if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.deleteSegments(ctx, tx, []string{path}) }); err != nil {
		return fmt.Errorf("delete segment %s: %w", path, err)
	}
	return nil
}

// DeleteSegments removes the entries at paths in one transaction per 500 paths, for retention:
// one commit instead of one per segment. Paths already gone are not an error.
func (db *DB) DeleteSegments(ctx context.Context, paths []string) error {
	for start := 0; start < len(paths); start += 500 {
		chunk := paths[start:min(start+500, len(paths))]
		if err := db.inTx(ctx, func(tx *sql.Tx) error { return db.deleteSegments(ctx, tx, chunk) }); err != nil {
			return fmt.Errorf("delete %d segments: %w", len(chunk), err)
		}
	}
	return nil
}

// deleteSegments removes the entries at paths and takes them out of their cameras' spans.
func (db *DB) deleteSegments(ctx context.Context, tx *sql.Tx, paths []string) error {
	in := placeholders(1, len(paths))
	args := make([]any, len(paths))
	for i, p := range paths {
		args[i] = p
	}
	// The cameras are locked before their rows, in one order, as SegmentSealed locks its camera
	// before its row: two deletions, or a deletion and a seal, never wait on each other crosswise.
	cams, err := queryAll(ctx, tx, "cameras of segments", scanString,
		`SELECT DISTINCT camera_id FROM recordings WHERE path IN (`+in+`) ORDER BY camera_id`, args...)
	if err != nil {
		return err
	}
	locked := map[string]bool{}
	for _, c := range cams {
		if err := db.lockSpans(ctx, tx, c); err != nil {
			return err
		}
		locked[c] = true
	}
	type gone struct {
		cam    string
		r      timespan.Range
		sealed bool
	}
	rows, err := queryAll(ctx, tx, "deleted segments", func(row scanner) (gone, error) {
		var g gone
		var start, end int64
		err := row.Scan(&g.cam, &start, &end, &g.sealed)
		g.r = spanOf(start, end)
		return g, err
	}, `DELETE FROM recordings WHERE path IN (`+in+`) RETURNING camera_id, start_at, end_at, sealed`, args...)
	if err != nil {
		return err
	}
	byCam := map[string][]timespan.Range{}
	for _, g := range rows {
		if g.sealed && !g.r.Empty() {
			byCam[g.cam] = append(byCam[g.cam], g.r)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(byCam)) {
		// A segment of a camera not seen above was sealed under one of these paths meanwhile.
		if !locked[c] {
			if err := db.lockSpans(ctx, tx, c); err != nil {
				return err
			}
		}
		if err := removeSpans(ctx, tx, c, byCam[c], 0); err != nil {
			return err
		}
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
	return queryAll(ctx, db.sql, "segments", scanRecording, q, args...)
}

// RecordingRanges reports, within [start, end), the stretches of a camera's sealed recordings and
// the gaps between them. Segments less than RecordingMergeGap apart count as one stretch; ranges
// are clipped to the window, and gaps cover the rest of it.
func (db *DB) RecordingRanges(ctx context.Context, cameraID string, start, end time.Time) (timespan.Coverage, error) {
	w := timespan.Range{Start: start, End: end}
	if w.Empty() {
		return timespan.Coverage{}, nil
	}
	segs, err := db.RecordingSegments(ctx, cameraID, start, end)
	if err != nil {
		return timespan.Coverage{}, err
	}
	rs := make([]timespan.Range, len(segs))
	for i, s := range segs {
		rs[i] = timespan.Range{Start: s.Start, End: s.End}
	}
	return timespan.Cover(rs, RecordingMergeGap, w), nil
}

// recording_spans holds, per camera, its sealed segments merged by RecordingMergeGap: the
// stretches the candidate search reads, a few rows per camera instead of a month of one-minute
// segments. The store keeps it itself, in the transactions of SegmentSealed and DeleteSegments,
// so the rule is this Go (timespan.Merge), once, for both databases.
//
// A camera's spans are the connected parts of the union of its segments each stretched by the
// gap, [start, end+gap): a segment joins a span when it starts less than the gap after the span
// ends. Adding a segment therefore merges the spans it touches; removing one changes its span
// only within [start, end+gap) of the removed segment, which the neighbours there decide.

// spanLockClass is the first key of the PostgreSQL advisory locks, one per camera (the second
// is the camera id's hash), under which a camera's spans change; a hash collision only makes
// two cameras wait for each other.
const spanLockClass = 72202404

// lockSpans serialises the changes to a camera's spans until the transaction ends. SQLite needs
// nothing: its transactions begin immediate, holding the database's one write lock.
func (db *DB) lockSpans(ctx context.Context, tx *sql.Tx, cameraID string) error {
	if db.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, spanLockClass, cameraID); err != nil {
		return fmt.Errorf("lock spans of %s: %w", cameraID, err)
	}
	return nil
}

// sealStarted marks the unsealed entry at rec.Path sealed and returns its camera and start, or
// sql.ErrNoRows when there is none. On PostgreSQL it first takes rec.CameraID's spans lock in
// the same statement: an uncorrelated subquery is planned as a one-time filter, evaluated before
// the index scan and so before the row is locked, which keeps the camera's lock before its row's,
// the order deleteSegments keeps too. The statement's snapshot predates the lock, but it reads
// only the entry's own row, which PostgreSQL re-reads if a transaction that held the lock changed
// it; the spans are read by later statements, after the lock.
func (db *DB) sealStarted(ctx context.Context, tx *sql.Tx, rec segment.Record) (string, int64, error) {
	q := `UPDATE recordings SET end_at = $2, bytes = $3, sha256 = $4, sealed = TRUE WHERE path = $1 AND NOT sealed`
	args := []any{rec.Path, Micros(rec.End), rec.Bytes, rec.SHA256}
	if db.dialect == Postgres {
		q += ` AND (SELECT TRUE FROM pg_advisory_xact_lock($5, hashtext($6)))`
		args = append(args, spanLockClass, rec.CameraID)
	}
	var cam string
	var start int64
	err := tx.QueryRowContext(ctx, q+` RETURNING camera_id, start_at`, args...).Scan(&cam, &start)
	return cam, start, err
}

func spanOf(start, end int64) timespan.Range {
	return timespan.Range{Start: FromMicros(start), End: FromMicros(end)}
}

func sameRange(a, b timespan.Range) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) }

func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

func scanSpan(row scanner) (timespan.Range, error) {
	var s, e int64
	err := row.Scan(&s, &e)
	return spanOf(s, e), err
}

// spansNear lists a camera's spans ending after after and starting before before, in order.
func spansNear(ctx context.Context, tx *sql.Tx, cameraID string, after, before time.Time) ([]timespan.Range, error) {
	return queryAll(ctx, tx, "recording spans", scanSpan, `SELECT start_at, end_at FROM recording_spans
		WHERE camera_id = $1 AND end_at > $2 AND start_at < $3 ORDER BY start_at`,
		cameraID, Micros(after), Micros(before))
}

// addSpan puts a sealed segment r into its camera's spans: every span less than the gap from it
// merges with it into one.
func addSpan(ctx context.Context, tx *sql.Tx, cameraID string, r timespan.Range) error {
	if r.Empty() {
		return nil
	}
	after, before := r.Start.Add(-RecordingMergeGap), r.End.Add(RecordingMergeGap)
	// The usual case, in one statement: the segment extends the one span it touches. A span
	// less than the gap from r is what timespan.Merge would join with it, and the union of r and
	// that span comes no nearer to any other span than one of the two did.
	res, err := tx.ExecContext(ctx, `UPDATE recording_spans
		SET start_at = CASE WHEN start_at < $2 THEN start_at ELSE $2 END,
			end_at = CASE WHEN end_at > $3 THEN end_at ELSE $3 END
		WHERE camera_id = $1 AND end_at > $4 AND start_at < $5
			AND (SELECT COUNT(*) FROM recording_spans WHERE camera_id = $1 AND end_at > $4 AND start_at < $5) = 1`,
		cameraID, Micros(r.Start), Micros(r.End), Micros(after), Micros(before))
	if err != nil {
		return fmt.Errorf("extend recording span: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("extend recording span: %w", err)
	} else if n > 0 {
		return nil
	}
	// A new span, when none is near.
	res, err = tx.ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at)
		SELECT $1, CAST($2 AS BIGINT), CAST($3 AS BIGINT) WHERE NOT EXISTS
			(SELECT 1 FROM recording_spans WHERE camera_id = $1 AND end_at > $4 AND start_at < $5)`,
		cameraID, Micros(r.Start), Micros(r.End), Micros(after), Micros(before))
	if err != nil {
		return fmt.Errorf("insert recording span: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert recording span: %w", err)
	} else if n > 0 {
		return nil
	}
	// Several spans, which r joins into one.
	near, err := spansNear(ctx, tx, cameraID, after, before)
	if err != nil {
		return err
	}
	merged := timespan.Merge(append(near, r), RecordingMergeGap)
	if len(near) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recording_spans WHERE camera_id = $1 AND end_at > $2 AND start_at < $3`,
			cameraID, Micros(after), Micros(before)); err != nil {
			return fmt.Errorf("delete recording spans: %w", err)
		}
	}
	return insertSpans(ctx, tx, cameraID, merged)
}

func insertSpans(ctx context.Context, tx *sql.Tx, cameraID string, rs []timespan.Range) error {
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at) VALUES ($1, $2, $3)`,
			cameraID, Micros(r.Start), Micros(r.End)); err != nil {
			return fmt.Errorf("insert recording span: %w", err)
		}
	}
	return nil
}

// removeSpans takes sealed segments that have left the index (or, for skip, the entry with that
// id, which is about to be put back changed) out of their camera's spans. Each span holding one
// is recomputed only within [start, end+gap) of each removed segment: there, what still covers
// it is the segments starting inside and the furthest end of those starting before; elsewhere
// the span stays covered. Retention removes a camera's oldest segments, so "before" is empty or
// short (held footage); other removals read the span up to the hole.
func removeSpans(ctx context.Context, tx *sql.Tx, cameraID string, removed []timespan.Range, skip int64) error {
	removed = timespan.Merge(removed, 0)
	if len(removed) == 0 {
		return nil
	}
	spans, err := spansNear(ctx, tx, cameraID, removed[0].Start, removed[len(removed)-1].End)
	if err != nil {
		return err
	}
	for _, p := range spans {
		var windows []timespan.Range
		for _, r := range removed {
			if !r.Start.Before(p.Start) && !r.End.After(p.End) {
				windows = append(windows, timespan.Range{Start: r.Start, End: r.End.Add(RecordingMergeGap)})
			}
		}
		if len(windows) == 0 {
			continue
		}
		var holes []timespan.Range
		for _, w := range timespan.Merge(windows, 0) {
			var furthest sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT MAX(end_at) FROM recordings
				WHERE camera_id = $1 AND sealed AND id <> $2 AND start_at >= $3 AND start_at < $4 AND end_at > start_at`,
				cameraID, skip, Micros(p.Start), Micros(w.Start)).Scan(&furthest); err != nil {
				return fmt.Errorf("select segments before %s: %w", w.Start, err)
			}
			cover, err := queryAll(ctx, tx, "segments near a removed one", scanSpan, `SELECT start_at, end_at FROM recordings
				WHERE camera_id = $1 AND sealed AND id <> $2 AND start_at >= $3 AND start_at < $4 AND end_at > start_at`,
				cameraID, skip, Micros(w.Start), Micros(w.End))
			if err != nil {
				return err
			}
			if furthest.Valid {
				cover = append(cover, timespan.Range{Start: p.Start, End: FromMicros(furthest.Int64)})
			}
			for i := range cover {
				cover[i].End = cover[i].End.Add(RecordingMergeGap)
			}
			holes = append(holes, timespan.Gaps(cover, w)...)
		}
		var pieces []timespan.Range
		for _, c := range timespan.Gaps(holes, timespan.Range{Start: p.Start, End: p.End.Add(RecordingMergeGap)}) {
			pieces = append(pieces, timespan.Range{Start: c.Start, End: c.End.Add(-RecordingMergeGap)})
		}
		if len(pieces) == 1 && sameRange(pieces[0], p) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recording_spans WHERE camera_id = $1 AND start_at = $2`,
			cameraID, Micros(p.Start)); err != nil {
			return fmt.Errorf("delete recording span: %w", err)
		}
		if err := insertSpans(ctx, tx, cameraID, pieces); err != nil {
			return err
		}
	}
	return nil
}

// rangesBatch bounds the camera ids bound in one query.
const rangesBatch = 500

// RecordedRanges reports, for each of the cameras that recorded anything in [from, to), its
// recorded stretches clipped to the window, as RecordingRanges reports them. It reads
// recording_spans, a few rows per camera, in one query per 500 cameras.
func (db *DB) RecordedRanges(ctx context.Context, cameraIDs []string, from, to time.Time) (map[string][]timespan.Range, error) {
	out := map[string][]timespan.Range{}
	w := timespan.Range{Start: from, End: to}
	if w.Empty() {
		return out, nil
	}
	type camSpan struct {
		cam string
		r   timespan.Range
	}
	for start := 0; start < len(cameraIDs); start += rangesBatch {
		batch := cameraIDs[start:min(start+rangesBatch, len(cameraIDs))]
		args := make([]any, 0, len(batch)+2)
		args = append(args, Micros(from), Micros(to))
		for _, id := range batch {
			args = append(args, id)
		}
		spans, err := queryAll(ctx, db.sql, "recorded spans", func(row scanner) (camSpan, error) {
			var c camSpan
			var s, e int64
			err := row.Scan(&c.cam, &s, &e)
			c.r = spanOf(s, e)
			return c, err
		}, `SELECT camera_id, start_at, end_at FROM recording_spans
			WHERE camera_id IN (`+placeholders(3, len(batch))+`) AND end_at > $1 AND start_at < $2
			ORDER BY camera_id, start_at`, args...)
		if err != nil {
			return nil, err
		}
		for _, c := range spans {
			if r, ok := c.r.Clip(w); ok {
				out[c.cam] = append(out[c.cam], r)
			}
		}
	}
	return out, nil
}

// locationBucket marks a segment uploaded to the bucket (recordings.location; 'local' is the
// default of every new row).
const locationBucket = "bucket"

// SegmentsToUpload lists up to limit sealed segments still on local disk, oldest first (by
// start, then id): the bucket's upload queue, in the order they are to go up.
func (db *DB) SegmentsToUpload(ctx context.Context, limit int) ([]segment.Record, error) {
	return db.queryRecordings(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE sealed AND location = 'local' ORDER BY start_at, id LIMIT $1`, limit)
}

// SegmentUploaded records that the sealed segment at path is in the bucket now, so that its
// local copy may go. A segment no longer indexed (retention took it meanwhile) is ErrNotFound.
func (db *DB) SegmentUploaded(ctx context.Context, path string) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE recordings SET location = $2 WHERE path = $1 AND sealed`,
		path, locationBucket)
	if err != nil {
		return fmt.Errorf("mark segment %s uploaded: %w", path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mark segment %s uploaded: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("mark segment %s uploaded: %w", path, ErrNotFound)
	}
	return nil
}

// SegmentUploadBacklog counts the sealed segments still on local disk, their bytes, and the end
// of the oldest (zero when none waits).
func (db *DB) SegmentUploadBacklog(ctx context.Context) (segments, bytes int64, oldest time.Time, err error) {
	var first sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(bytes), 0), MIN(end_at) FROM recordings
		WHERE sealed AND location = 'local'`).Scan(&segments, &bytes, &first); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("upload backlog: %w", err)
	}
	if first.Valid {
		oldest = FromMicros(first.Int64)
	}
	return segments, bytes, oldest, nil
}

// SegmentLocation reports where the segment at path lives: "local" or "bucket"; ErrNotFound
// when it is not indexed.
func (db *DB) SegmentLocation(ctx context.Context, path string) (string, error) {
	return queryOne(ctx, db.sql, "segment "+path, ErrNotFound, scanString,
		`SELECT location FROM recordings WHERE path = $1`, path)
}
