package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"civicam/internal/lease"
)

// Heartbeat marks node live until expires.
func (db *DB) Heartbeat(ctx context.Context, node string, maxStreams int, expires time.Time) error {
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO nodes (node_id, max_streams, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (node_id) DO UPDATE SET max_streams = excluded.max_streams, expires_at = excluded.expires_at`,
		node, maxStreams, Micros(expires)); err != nil {
		return fmt.Errorf("heartbeat of node %s: %w", node, err)
	}
	return nil
}

// LiveNodes counts the nodes whose heartbeat has not expired at now.
func (db *DB) LiveNodes(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM nodes WHERE expires_at > $1`, Micros(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count live nodes: %w", err)
	}
	return n, nil
}

func scanLease(row scanner) (lease.Lease, error) {
	var l lease.Lease
	var exp int64
	err := row.Scan(&l.CameraID, &l.Node, &l.Token, &exp)
	l.Expires = FromMicros(exp)
	return l, err
}

// RenewLeases extends node's unexpired leases to expires and returns them.
func (db *DB) RenewLeases(ctx context.Context, node string, now, expires time.Time) ([]lease.Lease, error) {
	return queryAll(ctx, db.sql, "renewed leases", scanLease, `UPDATE camera_leases SET expires_at = $3
		WHERE node_id = $1 AND expires_at > $2 RETURNING camera_id, node_id, token, expires_at`,
		node, Micros(now), Micros(expires))
}

// AcquireLeases takes, of cameras, up to limit with no lease or an expired one at now. Each
// camera is taken in its own statement, which the database makes atomic: of two nodes taking one
// camera, one updates the row and the other finds it unexpired.
func (db *DB) AcquireLeases(ctx context.Context, node string, cameras []string, now, expires time.Time, limit int) ([]lease.Lease, error) {
	var out []lease.Lease
	for _, cam := range cameras {
		if len(out) >= limit {
			break
		}
		got, err := queryAll(ctx, db.sql, "acquired lease", scanLease, `INSERT INTO camera_leases (camera_id, node_id, token, expires_at)
			VALUES ($1, $2, 1, $4)
			ON CONFLICT (camera_id) DO UPDATE SET node_id = excluded.node_id, token = camera_leases.token + 1,
				expires_at = excluded.expires_at
			WHERE camera_leases.expires_at <= $3
			RETURNING camera_id, node_id, token, expires_at`, cam, node, Micros(now), Micros(expires))
		if err != nil {
			return out, fmt.Errorf("acquire lease of %s: %w", cam, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// leaseChannel is the PostgreSQL notification channel on which ReleaseLeases tells the other
// nodes that cameras are free (WatchReleases).
const leaseChannel = "civicam_leases"

// ReleaseLeases hands back node's leases of cameras, or all of node's when cameras is nil. The
// rows stay, expired and without a node, so that the next token is still larger. On PostgreSQL
// the same statement notifies leaseChannel when it freed any, delivered at its commit.
func (db *DB) ReleaseLeases(ctx context.Context, node string, cameras []string) error {
	q := `UPDATE camera_leases SET node_id = '', expires_at = 0 WHERE node_id = $1`
	args := []any{node}
	if cameras != nil {
		if len(cameras) == 0 {
			return nil
		}
		q += ` AND camera_id IN (` + placeholders(2, len(cameras)) + `)`
		for _, c := range cameras {
			args = append(args, c)
		}
	}
	if db.dialect == Postgres {
		// A data-modifying WITH runs to completion whatever the outer query reads of it.
		q = `WITH released AS (` + q + ` RETURNING 1) SELECT pg_notify('` + leaseChannel + `', $1) FROM released LIMIT 1`
	}
	if _, err := db.sql.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("release leases of node %s: %w", node, err)
	}
	return nil
}

// FreeCameras lists, of cameras, those whose lease is not held at now.
func (db *DB) FreeCameras(ctx context.Context, cameras []string, now time.Time) ([]string, error) {
	held := map[string]bool{}
	for start := 0; start < len(cameras); start += rangesBatch {
		batch := cameras[start:min(start+rangesBatch, len(cameras))]
		args := []any{Micros(now)}
		for _, c := range batch {
			args = append(args, c)
		}
		ids, err := queryAll(ctx, db.sql, "held leases", scanString, `SELECT camera_id FROM camera_leases
			WHERE expires_at > $1 AND camera_id IN (`+placeholders(2, len(batch))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			held[id] = true
		}
	}
	var free []string
	for _, c := range cameras {
		if !held[c] {
			free = append(free, c)
		}
	}
	return free, nil
}

// WatchReleases calls wake once it listens and then each time any node hands leases back, until
// ctx ends (then it returns nil) or the connection it listens on fails (then the error). It
// listens with PostgreSQL's LISTEN on a connection of its own, which it closes rather than
// return to the pool. SQLite, which no two nodes share, has nothing to listen to:
// errors.ErrUnsupported at once.
func (db *DB) WatchReleases(ctx context.Context, wake func()) error {
	if db.dialect != Postgres {
		return errors.ErrUnsupported
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection to listen for lease releases: %w", err)
	}
	defer conn.Close()
	var failed error
	conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			failed = fmt.Errorf("listen for lease releases: driver connection %T", dc)
			return driver.ErrBadConn
		}
		if _, err := pc.Conn().Exec(ctx, `LISTEN `+leaseChannel); err != nil {
			failed = fmt.Errorf("listen for lease releases: %w", err)
			return driver.ErrBadConn
		}
		// What was released before this LISTEN (at the start, or while reconnecting) is
		// taken at the round this starts.
		wake()
		for {
			if _, err := pc.Conn().WaitForNotification(ctx); err != nil {
				if ctx.Err() == nil {
					failed = fmt.Errorf("wait for lease releases: %w", err)
				}
				// Still listening, or broken by the cancellation: never for another user.
				return driver.ErrBadConn
			}
			wake()
		}
	})
	return failed
}

// LeaseHolder names the node holding camera's lease at now, "" when none does.
func (db *DB) LeaseHolder(ctx context.Context, camera string, now time.Time) (string, error) {
	nodes, err := queryAll(ctx, db.sql, "lease holder", scanString,
		`SELECT node_id FROM camera_leases WHERE camera_id = $1 AND expires_at > $2`, camera, Micros(now))
	if err != nil || len(nodes) == 0 {
		return "", err
	}
	return nodes[0], nil
}

// AcquireClusterLease takes, or renews when node holds it, the lease of cluster-wide work name.
func (db *DB) AcquireClusterLease(ctx context.Context, name, node string, now, expires time.Time) (bool, error) {
	got, err := queryAll(ctx, db.sql, "cluster lease", scanString, `INSERT INTO cluster_leases (name, node_id, token, expires_at)
		VALUES ($1, $2, 1, $4)
		ON CONFLICT (name) DO UPDATE SET token = cluster_leases.token +
				CASE WHEN cluster_leases.node_id = excluded.node_id THEN 0 ELSE 1 END,
			node_id = excluded.node_id, expires_at = excluded.expires_at
		WHERE cluster_leases.node_id = excluded.node_id OR cluster_leases.expires_at <= $3
		RETURNING node_id`, name, node, Micros(now), Micros(expires))
	if err != nil {
		return false, fmt.Errorf("acquire cluster lease %s: %w", name, err)
	}
	return len(got) == 1, nil
}

// fenceClause is the condition under which a segment write made under a lease proceeds: the
// camera's lease is still the node's with that token. A token grows whenever the lease is taken,
// so this holds exactly while no one else has taken the camera since; the placeholders are $n
// (camera), $n+1 (node) and $n+2 (token).
func fenceClause(n int) string {
	return fmt.Sprintf(`EXISTS (SELECT 1 FROM camera_leases WHERE camera_id = $%d AND node_id = $%d AND token = $%d)`, n, n+1, n+2)
}
