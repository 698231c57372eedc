package store

import (
	"context"
	"fmt"

	"civicam/internal/fault"
	"civicam/internal/registry"
)

const organisationColumns = `id, name, kind, department_type, establishment_type, created_at, updated_at`

// CreateOrganisation stores a new organisation; a duplicate name is ErrConflict.
func (db *DB) CreateOrganisation(ctx context.Context, o *registry.Organisation) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO organisations (`+organisationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		o.ID, o.Name, o.Kind, o.DepartmentType, o.EstablishmentType, Micros(o.CreatedAt), Micros(o.UpdatedAt))
	if isUniqueViolation(err) {
		return fault.Duplicate(fmt.Sprintf("organisation %q", o.Name))
	}
	if err != nil {
		return fmt.Errorf("insert organisation: %w", err)
	}
	return nil
}

// Organisation returns one organisation or ErrNotFound.
func (db *DB) Organisation(ctx context.Context, id string) (*registry.Organisation, error) {
	return queryOne(ctx, db.sql, "organisation "+id, ErrNotFound, scanOrganisation, `SELECT `+organisationColumns+` FROM organisations WHERE id = $1`, id)
}

// OrganisationExists reports whether an organisation with the id exists.
func (db *DB) OrganisationExists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM organisations WHERE id = $1`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("count organisation: %w", err)
	}
	return n > 0, nil
}

// Organisations lists all organisations by name.
func (db *DB) Organisations(ctx context.Context) ([]*registry.Organisation, error) {
	return queryAll(ctx, db.sql, "organisations", scanOrganisation, `SELECT `+organisationColumns+` FROM organisations ORDER BY name`)
}

func scanOrganisation(s scanner) (*registry.Organisation, error) {
	var o registry.Organisation
	var created, updated int64
	if err := s.Scan(&o.ID, &o.Name, &o.Kind, &o.DepartmentType, &o.EstablishmentType, &created, &updated); err != nil {
		return nil, err
	}
	o.CreatedAt, o.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &o, nil
}
