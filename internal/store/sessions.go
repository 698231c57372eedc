package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"civicam/internal/auth"
)

// CreateSession stores a session by its token's hash.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client_addr)
		VALUES ($1, $2, $3, $4, $5)`, s.TokenHash, s.UserID, Micros(s.CreatedAt), Micros(s.ExpiresAt), s.ClientAddr)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser returns the unexpired session with the token hash and its user.
func (db *DB) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (*auth.Session, *auth.User, error) {
	row := db.sql.QueryRowContext(ctx, `SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, s.client_addr,
		u.id, u.username, u.password_hash, u.role, u.organisation_id, u.disabled, u.created_at, u.updated_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2`,
		tokenHash, Micros(now))
	var s auth.Session
	var u auth.User
	var created, expires, uc, uu int64
	var org sql.NullString
	var role string
	err := row.Scan(&s.TokenHash, &s.UserID, &created, &expires, &s.ClientAddr,
		&u.ID, &u.Username, &u.PasswordHash, &role, &org, &u.Disabled, &uc, &uu)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("select session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = FromMicros(created), FromMicros(expires)
	u.Role, u.OrganisationID = auth.Role(role), org.String
	u.CreatedAt, u.UpdatedAt = FromMicros(uc), FromMicros(uu)
	return &s, &u, nil
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (role change, disabling, password change).
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, Micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
