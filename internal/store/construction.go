package store

import (
	"context"
	"encoding/json"
	"fmt"

	"civicam/internal/registry"
)

// PutConstructionApproval stores the decision on a camera's construction, replacing the one
// before it.
func (db *DB) PutConstructionApproval(ctx context.Context, a *registry.ConstructionApproval) error {
	overlaps, err := json.Marshal(a.Overlaps)
	if err != nil {
		return fmt.Errorf("construction approval overlaps: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT INTO construction_approvals (camera_id, status, max_overlap_percent,
		overlaps_json, note, decided_by, decided_org, decided_at, policy_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (camera_id) DO UPDATE SET status = excluded.status, max_overlap_percent = excluded.max_overlap_percent,
		overlaps_json = excluded.overlaps_json, note = excluded.note, decided_by = excluded.decided_by,
		decided_org = excluded.decided_org, decided_at = excluded.decided_at, policy_version = excluded.policy_version`,
		a.CameraID, a.Status, a.MaxOverlapPercent, string(overlaps), a.Note, a.DecidedBy, a.DecidedOrganisationID,
		Micros(a.DecidedAt), a.PolicyVersion)
	if err != nil {
		return fmt.Errorf("store construction approval: %w", err)
	}
	return nil
}

// ConstructionApprovals lists every camera's latest construction decision.
func (db *DB) ConstructionApprovals(ctx context.Context) ([]*registry.ConstructionApproval, error) {
	return queryAll(ctx, db.sql, "construction approvals", scanConstructionApproval, `SELECT camera_id, status,
		max_overlap_percent, overlaps_json, note, decided_by, decided_org, decided_at, policy_version
		FROM construction_approvals ORDER BY camera_id`)
}

func scanConstructionApproval(s scanner) (*registry.ConstructionApproval, error) {
	var a registry.ConstructionApproval
	var overlaps string
	var decided int64
	if err := s.Scan(&a.CameraID, &a.Status, &a.MaxOverlapPercent, &overlaps, &a.Note, &a.DecidedBy,
		&a.DecidedOrganisationID, &decided, &a.PolicyVersion); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(overlaps), &a.Overlaps); err != nil {
		return nil, fmt.Errorf("construction approval %s overlaps: %w", a.CameraID, err)
	}
	a.DecidedAt = FromMicros(decided)
	return &a, nil
}
