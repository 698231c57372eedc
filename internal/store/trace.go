package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"civicam/internal/trace"
)

// The trail's SQL: *DB satisfies trace.Store and trace.Source.
var (
	_ trace.Store  = (*DB)(nil)
	_ trace.Source = (*DB)(nil)
)

// traceColumns are the stored columns of an entry; the others (at, user_id, username, action,
// outcome) are generated from entry by the database, for filtering.
const traceColumns = `seq, entry, leaf_hash, chain_hash`

const traceColumnCount = 4

// traceInsertChunk bounds the rows per INSERT statement.
const traceInsertChunk = 256

// AppendTrace runs fn in one transaction; Commit makes it durable (SQLite synchronous=FULL,
// PostgreSQL's synchronous commit), so every append of the batch shares one sync.
func (db *DB) AppendTrace(ctx context.Context, fn func(ctx context.Context, tx trace.AppendTx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		return fn(ctx, &traceTx{db: db, tx: tx})
	})
}

type traceTx struct {
	db     *DB
	tx     *sql.Tx
	locked bool
}

func (t *traceTx) LockHead(ctx context.Context) (int64, []byte, error) {
	q := `SELECT size FROM trace_head WHERE id = 1`
	if t.db.dialect == Postgres {
		// SQLite's immediate transactions already hold the write lock; PostgreSQL nodes queue here.
		q += ` FOR UPDATE`
	}
	var size int64
	if err := t.tx.QueryRowContext(ctx, q).Scan(&size); err != nil {
		return 0, nil, fmt.Errorf("lock trace head: %w", err)
	}
	t.locked = true
	if size == 0 {
		return 0, nil, nil
	}
	var chain []byte
	if err := t.tx.QueryRowContext(ctx, `SELECT chain_hash FROM trace_entries WHERE seq = $1`, size-1).Scan(&chain); err != nil {
		return 0, nil, fmt.Errorf("read the chain hash of trace entry %d: %w", size-1, err)
	}
	return size, chain, nil
}

func (t *traceTx) LeafHashes(ctx context.Context, from, to int64) ([][]byte, error) {
	return leafHashes(ctx, t.tx, from, to)
}

// queryer runs a query: the DB, or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func leafHashes(ctx context.Context, q queryer, from, to int64) ([][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT leaf_hash FROM trace_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read trace leaf hashes: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, 0, min(to-from, 65536))
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read trace leaf hashes: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trace leaf hashes: %w", err)
	}
	return out, nil
}

func (t *traceTx) Insert(ctx context.Context, rows []trace.Row, root []byte) error {
	if !t.locked {
		return errors.New("insert trace entries: head not locked")
	}
	if len(rows) == 0 {
		return nil
	}
	if t.db.dialect == SQLite {
		if err := t.insertPrepared(ctx, rows); err != nil {
			return err
		}
	} else {
		for start := 0; start < len(rows); start += traceInsertChunk {
			chunk := rows[start:min(start+traceInsertChunk, len(rows))]
			if err := t.insertEntries(ctx, chunk); err != nil {
				return err
			}
			if err := t.insertCameras(ctx, chunk); err != nil {
				return err
			}
		}
	}
	last := rows[len(rows)-1]
	res, err := t.tx.ExecContext(ctx, `UPDATE trace_head SET size = $1, root = $2 WHERE id = 1 AND size = $3`,
		last.Seq+1, root, rows[0].Seq)
	if err != nil {
		return fmt.Errorf("move trace head: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("move trace head: the head is not at %d (%d rows, %v)", rows[0].Seq, n, err)
	}
	return nil
}

// insertPrepared inserts row by row through two statements prepared once per batch: SQLite runs
// in-process, so there is no round trip to save, and parsing a multi-row INSERT costs more than
// executing a prepared one per row.
func (t *traceTx) insertPrepared(ctx context.Context, rows []trace.Row) error {
	entry, err := t.tx.PrepareContext(ctx, `INSERT INTO trace_entries (`+traceColumns+`) VALUES (?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("prepare trace insert: %w", err)
	}
	defer entry.Close()
	var camera *sql.Stmt
	for i := range rows {
		r := &rows[i]
		// Bound as TEXT: SQLite's JSON functions would read a BLOB as its binary JSONB.
		if _, err := entry.ExecContext(ctx, r.Seq, string(r.Data), r.LeafHash, r.Chain); err != nil {
			return fmt.Errorf("insert trace entry %d: %w", r.Seq, err)
		}
		for _, id := range r.Cameras {
			var err error
			if camera == nil {
				if camera, err = t.tx.PrepareContext(ctx, `INSERT INTO trace_cameras (seq, camera_id) VALUES (?, ?)`); err != nil {
					return fmt.Errorf("prepare trace camera insert: %w", err)
				}
				defer camera.Close()
			}
			if _, err := camera.ExecContext(ctx, r.Seq, id); err != nil {
				return fmt.Errorf("insert trace camera index %d: %w", r.Seq, err)
			}
		}
	}
	return nil
}

// placeholder writes parameter n. SQLite gets anonymous "?" here: it resolves each "$N" through a
// linear list of names, which makes a statement with thousands of parameters quadratic (most of
// a batch's time at 256 rows); the arguments are positional either way.
func (t *traceTx) placeholder(b *strings.Builder, n int) {
	if t.db.dialect == SQLite {
		b.WriteByte('?')
		return
	}
	b.WriteByte('$')
	b.WriteString(strconv.Itoa(n))
}

func (t *traceTx) insertEntries(ctx context.Context, rows []trace.Row) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO trace_entries (` + traceColumns + `) VALUES `)
	args := make([]any, 0, len(rows)*traceColumnCount)
	for i := range rows {
		r := &rows[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < traceColumnCount; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			t.placeholder(&b, len(args)+j+1)
		}
		b.WriteByte(')')
		args = append(args, r.Seq, string(r.Data), r.LeafHash, r.Chain)
	}
	if _, err := t.tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert trace entries %d..%d: %w", rows[0].Seq, rows[len(rows)-1].Seq, err)
	}
	return nil
}

func (t *traceTx) insertCameras(ctx context.Context, rows []trace.Row) error {
	var b strings.Builder
	var args []any
	for i := range rows {
		r := &rows[i]
		for _, id := range r.Cameras {
			if len(args) > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			t.placeholder(&b, len(args)+1)
			b.WriteByte(',')
			t.placeholder(&b, len(args)+2)
			b.WriteByte(')')
			args = append(args, r.Seq, id)
		}
	}
	if len(args) == 0 {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO trace_cameras (seq, camera_id) VALUES `+b.String(), args...); err != nil {
		return fmt.Errorf("insert trace camera index: %w", err)
	}
	return nil
}

// TraceLeafHashes returns the committed leaf hashes of entries [from, to).
func (db *DB) TraceLeafHashes(ctx context.Context, from, to int64) ([][]byte, error) {
	return leafHashes(ctx, db.sql, from, to)
}

// PutTraceCheckpoint stores a signed checkpoint; an existing one of the same size is kept.
func (db *DB) PutTraceCheckpoint(ctx context.Context, c trace.StoredCheckpoint) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO trace_checkpoints (size, root, note, made_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (size) DO NOTHING`, c.Size, c.Root, c.Note, Micros(c.At))
	if err != nil {
		return fmt.Errorf("store trace checkpoint %d: %w", c.Size, err)
	}
	return nil
}

// LatestTraceCheckpoint returns the checkpoint of the largest size.
func (db *DB) LatestTraceCheckpoint(ctx context.Context) (trace.StoredCheckpoint, bool, error) {
	var c trace.StoredCheckpoint
	var at int64
	err := db.sql.QueryRowContext(ctx, `SELECT size, root, note, made_at FROM trace_checkpoints ORDER BY size DESC LIMIT 1`).
		Scan(&c.Size, &c.Root, &c.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return trace.StoredCheckpoint{}, false, nil
	}
	if err != nil {
		return trace.StoredCheckpoint{}, false, fmt.Errorf("read latest trace checkpoint: %w", err)
	}
	c.At = FromMicros(at)
	return c, true, nil
}

// TraceCheckpoints returns every stored checkpoint by size.
func (db *DB) TraceCheckpoints(ctx context.Context) ([]trace.StoredCheckpoint, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT size, root, note, made_at FROM trace_checkpoints ORDER BY size`)
	if err != nil {
		return nil, fmt.Errorf("read trace checkpoints: %w", err)
	}
	defer rows.Close()
	var out []trace.StoredCheckpoint
	for rows.Next() {
		var c trace.StoredCheckpoint
		var at int64
		if err := rows.Scan(&c.Size, &c.Root, &c.Note, &at); err != nil {
			return nil, fmt.Errorf("read trace checkpoints: %w", err)
		}
		c.At = FromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trace checkpoints: %w", err)
	}
	return out, nil
}

// TraceHead returns the committed size and root the writers recorded.
func (db *DB) TraceHead(ctx context.Context) (int64, []byte, error) {
	var size int64
	var root []byte
	if err := db.sql.QueryRowContext(ctx, `SELECT size, root FROM trace_head WHERE id = 1`).Scan(&size, &root); err != nil {
		return 0, nil, fmt.Errorf("read trace head: %w", err)
	}
	return size, root, nil
}

// ScanTrace calls fn for every entry with from <= seq < to in sequence order, reusing one Row
// whose slices are database/sql's buffers, valid until fn returns: Verify copies only the
// hashes it keeps.
func (db *DB) ScanTrace(ctx context.Context, from, to int64, fn func(*trace.Row) error) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+traceColumns+` FROM trace_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq`, from, to)
	if err != nil {
		return fmt.Errorf("scan trace: %w", err)
	}
	defer rows.Close()
	var r trace.Row
	var data, leaf, chain sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&r.Seq, &data, &leaf, &chain); err != nil {
			return fmt.Errorf("scan trace: %w", err)
		}
		r.Data, r.LeafHash, r.Chain = data, leaf, chain
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan trace: %w", err)
	}
	return nil
}

func scanTraceRow(rows *sql.Rows, r *trace.Row) error {
	return rows.Scan(&r.Seq, &r.Data, &r.LeafHash, &r.Chain)
}

// ScanTraceCameras calls fn for every camera index row with from <= seq < to, in sequence and
// camera order; the id is the driver's buffer, valid until fn returns.
func (db *DB) ScanTraceCameras(ctx context.Context, from, to int64, fn func(seq int64, cameraID []byte) error) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT seq, camera_id FROM trace_cameras WHERE seq >= $1 AND seq < $2
		ORDER BY seq, camera_id`, from, to)
	if err != nil {
		return fmt.Errorf("scan trace camera index: %w", err)
	}
	defer rows.Close()
	var seq int64
	var id sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&seq, &id); err != nil {
			return fmt.Errorf("scan trace camera index: %w", err)
		}
		if err := fn(seq, id); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan trace camera index: %w", err)
	}
	return nil
}

// QueryTrace returns the entries matching f, one page.
func (db *DB) QueryTrace(ctx context.Context, f trace.Filter) ([]trace.Row, error) {
	f = f.Normalized()
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Actor != "" {
		p := arg(f.Actor)
		where = append(where, "(user_id = "+p+" OR username = "+p+")")
	}
	if f.CameraID != "" {
		where = append(where, "seq IN (SELECT seq FROM trace_cameras WHERE camera_id = "+arg(f.CameraID)+")")
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(string(f.Action)))
	}
	if f.Outcome != "" {
		where = append(where, "outcome = "+arg(string(f.Outcome)))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(Micros(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < "+arg(Micros(f.Until)))
	}
	order := "DESC"
	if f.OldestFirst {
		order = "ASC"
	}
	if f.Cursor != nil {
		if f.OldestFirst {
			where = append(where, "seq > "+arg(*f.Cursor))
		} else {
			where = append(where, "seq < "+arg(*f.Cursor))
		}
	}
	q := `SELECT ` + traceColumns + ` FROM trace_entries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq ` + order + ` LIMIT ` + arg(f.Limit)
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query trace: %w", err)
	}
	defer rows.Close()
	var out []trace.Row
	for rows.Next() {
		var r trace.Row
		if err := scanTraceRow(rows, &r); err != nil {
			return nil, fmt.Errorf("query trace: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query trace: %w", err)
	}
	return out, nil
}
