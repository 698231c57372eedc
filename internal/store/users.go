package store

import (
	"context"
	"database/sql"
	"fmt"

	"civicam/internal/auth"
	"civicam/internal/fault"
)

const userColumns = `id, username, password_hash, role, organisation_id, disabled, created_at, updated_at`

func scanUser(s scanner) (*auth.User, error) {
	var u auth.User
	var org sql.NullString
	var role string
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &role, &org, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.Role, u.OrganisationID = auth.Role(role), org.String
	u.CreatedAt, u.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &u, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateUser stores a new user; a taken username is ErrConflict.
func (db *DB) CreateUser(ctx context.Context, u *auth.User) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Username, u.PasswordHash, string(u.Role), nullString(u.OrganisationID), u.Disabled,
		Micros(u.CreatedAt), Micros(u.UpdatedAt))
	if isUniqueViolation(err) {
		return fault.Duplicate(fmt.Sprintf("user %q", u.Username))
	}
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UpdateUser writes a user's role, organisation, password hash and disabled flag.
func (db *DB) UpdateUser(ctx context.Context, u *auth.User) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE users SET password_hash=$2, role=$3, organisation_id=$4, disabled=$5,
		updated_at=$6 WHERE id=$1`, u.ID, u.PasswordHash, string(u.Role), nullString(u.OrganisationID), u.Disabled, Micros(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %s: %w", u.ID, ErrNotFound)
	}
	return nil
}

// User returns a user by id.
func (db *DB) User(ctx context.Context, id string) (*auth.User, error) {
	return db.userWhere(ctx, "id", id)
}

// UserByUsername returns a user by username.
func (db *DB) UserByUsername(ctx context.Context, username string) (*auth.User, error) {
	return db.userWhere(ctx, "username", username)
}

func (db *DB) userWhere(ctx context.Context, col, v string) (*auth.User, error) {
	return queryOne(ctx, db.sql, "user "+v, ErrNotFound, scanUser, `SELECT `+userColumns+` FROM users WHERE `+col+` = $1`, v)
}

// Users lists users, optionally of one organisation.
func (db *DB) Users(ctx context.Context, organisationID string) ([]*auth.User, error) {
	q := `SELECT ` + userColumns + ` FROM users`
	var args []any
	if organisationID != "" {
		q += ` WHERE organisation_id = $1`
		args = append(args, organisationID)
	}
	return queryAll(ctx, db.sql, "users", scanUser, q+` ORDER BY username`, args...)
}

// CountUsers counts the accounts, so a first start can tell an empty platform.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
