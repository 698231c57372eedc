package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"civicam/internal/registry"
)

// PutFindings replaces the kept findings of the cameras ids with rows, in one transaction.
func (db *DB) PutFindings(ctx context.Context, ids []string, rows []registry.FindingRow) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			ph := make([]string, len(chunk))
			args := make([]any, len(chunk))
			for i, id := range chunk {
				ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM camera_findings WHERE camera_id IN (`+strings.Join(ph, ",")+`)`, args...); err != nil {
				return fmt.Errorf("delete camera findings: %w", err)
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO camera_findings (camera_id, ord, code, organisation_id, due_at) VALUES ($1, $2, $3, $4, $5)`)
		if err != nil {
			return fmt.Errorf("prepare camera findings: %w", err)
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r.CameraID, r.Ord, r.Code, r.OrganisationID, nullMicros(r.DueAt)); err != nil {
				return fmt.Errorf("insert camera finding: %w", err)
			}
		}
		return nil
	})
}

// findingsWhere is the WHERE of the findings in force in scope matching f, without the cursor.
func findingsWhere(scope registry.Scope, f registry.FindingFilter) (string, []any) {
	args := []any{Micros(f.Now)}
	where := []string{"(due_at IS NULL OR due_at < $1)"}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !scope.All {
		where = append(where, "organisation_id = "+arg(scope.OrganisationID))
	}
	if f.OrganisationID != "" {
		where = append(where, "organisation_id = "+arg(f.OrganisationID))
	}
	if f.CameraID != "" {
		where = append(where, "camera_id = "+arg(f.CameraID))
	}
	if f.AfterCamera != "" {
		// Spelled out rather than as a row comparison, which SQLite plans less well.
		a, o := arg(f.AfterCamera), arg(f.AfterOrd)
		where = append(where, "(camera_id > "+a+" OR (camera_id = "+a+" AND ord > "+o+"))")
	}
	return strings.Join(where, " AND "), args
}

// FindingRows lists the kept findings in force in scope, in (camera id, ord) order.
func (db *DB) FindingRows(ctx context.Context, scope registry.Scope, f registry.FindingFilter) ([]registry.FindingRow, error) {
	where, args := findingsWhere(scope, f)
	q := `SELECT camera_id, ord, code, organisation_id, due_at FROM camera_findings WHERE ` + where + ` ORDER BY camera_id, ord`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryAll(ctx, db.sql, "camera findings", func(s scanner) (registry.FindingRow, error) {
		var r registry.FindingRow
		var due sql.NullInt64
		err := s.Scan(&r.CameraID, &r.Ord, &r.Code, &r.OrganisationID, &due)
		r.DueAt = fromNullMicros(due)
		return r, err
	}, q, args...)
}

// CountFindings counts the kept findings in force in scope, by code and by organisation.
func (db *DB) CountFindings(ctx context.Context, scope registry.Scope, f registry.FindingFilter) (registry.FindingCounts, error) {
	f.AfterCamera = ""
	where, args := findingsWhere(scope, f)
	out := registry.FindingCounts{ByCode: map[string]int{}, ByOrganisation: map[string]int{}}
	type kc2 struct {
		code, org string
		n         int
	}
	// One pass for both tallies.
	rows, err := queryAll(ctx, db.sql, "finding counts", func(s scanner) (kc2, error) {
		var r kc2
		return r, s.Scan(&r.code, &r.org, &r.n)
	}, `SELECT code, organisation_id, count(*) FROM camera_findings WHERE `+where+` GROUP BY code, organisation_id`, args...)
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		out.ByCode[r.code] += r.n
		out.ByOrganisation[r.org] += r.n
		out.Total += r.n
	}
	if out.Total == 0 {
		return out, nil
	}
	// Grouped rather than count(DISTINCT ...): the primary key hands the rows over by camera.
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT camera_id FROM camera_findings WHERE `+where+` GROUP BY camera_id) g`, args...).Scan(&out.Cameras); err != nil {
		return out, fmt.Errorf("count cameras with findings: %w", err)
	}
	return out, nil
}

// FindingsPack is the policy version the kept findings were computed with, "" when never.
func (db *DB) FindingsPack(ctx context.Context) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT policy_version FROM camera_findings_pack WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("select findings pack: %w", err)
	}
	return v, nil
}

// SetFindingsPack records the policy version the kept findings were computed with.
func (db *DB) SetFindingsPack(ctx context.Context, version string) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO camera_findings_pack (id, policy_version) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET policy_version = excluded.policy_version`, version)
	if err != nil {
		return fmt.Errorf("set findings pack: %w", err)
	}
	return nil
}
