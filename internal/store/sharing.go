package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"civicam/internal/sharing"
)

var _ sharing.Store = (*DB)(nil)

func jsonIDs(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// CreateSharingGrant stores a new sharing grant.
func (db *DB) CreateSharingGrant(ctx context.Context, g *sharing.Grant) error {
	var group sql.NullString
	if g.GroupID != "" {
		group = sql.NullString{String: g.GroupID, Valid: true}
	}
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sharing_grants (id, owner_organisation_id, grantee_organisation_id,
		camera_ids, group_id, scopes, purpose, starts_at, ends_at, granted_by, granted_at, terms_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		g.ID, g.OwnerOrganisationID, g.GranteeOrganisationID, jsonIDs(g.CameraIDs), group, strings.Join(g.Scopes, ","),
		g.Purpose, Micros(g.StartsAt), nullMicros(g.EndsAt), g.GrantedBy, Micros(g.GrantedAt), g.TermsVersion)
	if err != nil {
		return fmt.Errorf("insert grant: %w", err)
	}
	return nil
}

const grantColumns = `id, owner_organisation_id, grantee_organisation_id, camera_ids, group_id, scopes, purpose,
	starts_at, ends_at, granted_by, granted_at, terms_version, revoked_at, revoked_by`

func scanGrant(row scanner) (*sharing.Grant, error) {
	var g sharing.Grant
	var cams, scopes string
	var group sql.NullString
	var starts, granted int64
	var ends, revoked sql.NullInt64
	if err := row.Scan(&g.ID, &g.OwnerOrganisationID, &g.GranteeOrganisationID, &cams, &group, &scopes, &g.Purpose,
		&starts, &ends, &g.GrantedBy, &granted, &g.TermsVersion, &revoked, &g.RevokedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cams), &g.CameraIDs); err != nil {
		return nil, fmt.Errorf("grant %s: camera_ids: %w", g.ID, err)
	}
	if len(g.CameraIDs) == 0 {
		g.CameraIDs = nil
	}
	g.GroupID, g.Scopes = group.String, strings.Split(scopes, ",")
	g.StartsAt, g.EndsAt, g.GrantedAt, g.RevokedAt = FromMicros(starts), fromNullMicros(ends), FromMicros(granted), fromNullMicros(revoked)
	return &g, nil
}

// SharingGrant returns one sharing grant, revoked or not.
func (db *DB) SharingGrant(ctx context.Context, id string) (*sharing.Grant, error) {
	return queryOne(ctx, db.sql, "grant "+id, ErrNotFound, scanGrant, `SELECT `+grantColumns+` FROM sharing_grants WHERE id = $1`, id)
}

// GrantsBetween lists the grants from owner to grantee, oldest first; an empty side matches any.
func (db *DB) GrantsBetween(ctx context.Context, owner, grantee string) ([]*sharing.Grant, error) {
	return queryAll(ctx, db.sql, "grants", scanGrant, `SELECT `+grantColumns+` FROM sharing_grants
		WHERE ($1 = '' OR owner_organisation_id = $1) AND ($2 = '' OR grantee_organisation_id = $2)
		ORDER BY granted_at, id`, owner, grantee)
}

// RevokeSharingGrant stamps a grant revoked, unless it already is.
func (db *DB) RevokeSharingGrant(ctx context.Context, id, by string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE sharing_grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL`,
		Micros(at), by, id)
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if _, err := db.SharingGrant(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateGroup stores a camera group.
func (db *DB) CreateGroup(ctx context.Context, g *sharing.Group) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO camera_groups (id, organisation_id, name, kind, criterion, camera_ids, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ID, g.OrganisationID, g.Name, g.Kind, g.Criterion, jsonIDs(g.CameraIDs), g.CreatedBy, Micros(g.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

const groupColumns = `id, organisation_id, name, kind, criterion, camera_ids, created_by, created_at, deleted_at`

func scanGroup(row scanner) (*sharing.Group, error) {
	var g sharing.Group
	var cams string
	var created int64
	var deleted sql.NullInt64
	if err := row.Scan(&g.ID, &g.OrganisationID, &g.Name, &g.Kind, &g.Criterion, &cams, &g.CreatedBy, &created, &deleted); err != nil {
		return nil, err
	}
	if deleted.Valid {
		g.DeletedAt = FromMicros(deleted.Int64)
	}
	if err := json.Unmarshal([]byte(cams), &g.CameraIDs); err != nil {
		return nil, fmt.Errorf("group %s: camera_ids: %w", g.ID, err)
	}
	if len(g.CameraIDs) == 0 {
		g.CameraIDs = nil
	}
	g.CreatedAt = FromMicros(created)
	return &g, nil
}

// Group returns one camera group.
func (db *DB) Group(ctx context.Context, id string) (*sharing.Group, error) {
	return queryOne(ctx, db.sql, "group "+id, ErrNotFound, scanGroup, `SELECT `+groupColumns+` FROM camera_groups WHERE id = $1`, id)
}

// Groups lists an organisation's groups that are not deleted (every organisation's when
// organisationID is empty), oldest first.
func (db *DB) Groups(ctx context.Context, organisationID string) ([]*sharing.Group, error) {
	return queryAll(ctx, db.sql, "groups", scanGroup, `SELECT `+groupColumns+` FROM camera_groups
		WHERE ($1 = '' OR organisation_id = $1) AND deleted_at IS NULL ORDER BY created_at, id`, organisationID)
}

// UpdateGroup stores a group's name, criterion and cameras; a deleted group is not found.
func (db *DB) UpdateGroup(ctx context.Context, g *sharing.Group) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE camera_groups SET name = $1, criterion = $2, camera_ids = $3
		WHERE id = $4 AND deleted_at IS NULL`, g.Name, g.Criterion, jsonIDs(g.CameraIDs), g.ID)
	if err != nil {
		return fmt.Errorf("update group: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("group %s: %w", g.ID, ErrNotFound)
	}
	return nil
}

// DeleteGroup marks a group deleted at at, unless a grant not revoked and not ended by then
// names it (sharing.ErrGroupInUse): the check and the mark are one statement, so a grant made
// meanwhile cannot be left pointing at a deleted group.
func (db *DB) DeleteGroup(ctx context.Context, id string, at time.Time) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE camera_groups SET deleted_at = $1
		WHERE id = $2 AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM sharing_grants
			WHERE group_id = $2 AND revoked_at IS NULL AND (ends_at IS NULL OR ends_at > $1))`, Micros(at), id)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		g, err := db.Group(ctx, id)
		if err != nil {
			return err
		}
		if !g.DeletedAt.IsZero() {
			return fmt.Errorf("group %s: %w", id, ErrNotFound)
		}
		return fmt.Errorf("group %s: %w", id, sharing.ErrGroupInUse)
	}
	return nil
}

// CurrentTerms returns the latest version of the sharing terms.
func (db *DB) CurrentTerms(ctx context.Context) (*sharing.Terms, error) {
	var t sharing.Terms
	var at int64
	err := db.sql.QueryRowContext(ctx, `SELECT version, body, published_at FROM sharing_terms ORDER BY version DESC LIMIT 1`).
		Scan(&t.Version, &t.Body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sharing terms: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select sharing terms: %w", err)
	}
	t.PublishedAt = FromMicros(at)
	return &t, nil
}

// PublishTerms stores a new version of the sharing terms and returns it.
func (db *DB) PublishTerms(ctx context.Context, body string, at time.Time) (*sharing.Terms, error) {
	t := &sharing.Terms{Body: body, PublishedAt: at}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM sharing_terms`).Scan(&t.Version); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sharing_terms (version, body, published_at) VALUES ($1, $2, $3)`, t.Version, body, Micros(at))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("publish sharing terms: %w", err)
	}
	return t, nil
}

// AddNotification stores an owner notification unless the same grant, camera, user and case
// already raised one.
func (db *DB) AddNotification(ctx context.Context, n *sharing.Notification) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sharing_notifications (id, organisation_id, grant_id, camera_id, user_id, case_ref, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (grant_id, camera_id, user_id, case_ref) DO NOTHING`,
		n.ID, n.OrganisationID, n.GrantID, n.CameraID, n.UserID, n.CaseRef, Micros(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert owner notification: %w", err)
	}
	return nil
}

// Notifications lists an organisation's emergency-use notifications, newest first.
func (db *DB) Notifications(ctx context.Context, organisationID string) ([]*sharing.Notification, error) {
	return queryAll(ctx, db.sql, "notifications", func(row scanner) (*sharing.Notification, error) {
		var n sharing.Notification
		var at int64
		err := row.Scan(&n.ID, &n.OrganisationID, &n.GrantID, &n.CameraID, &n.UserID, &n.CaseRef, &at)
		n.CreatedAt = FromMicros(at)
		return &n, err
	}, `SELECT id, organisation_id, grant_id, camera_id, user_id, case_ref, created_at
		FROM sharing_notifications WHERE organisation_id = $1 ORDER BY created_at DESC, id`, organisationID)
}
