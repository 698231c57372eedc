package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/lostperson"
)

// UsernameTaken reports whether an account has the username.
func (db *DB) UsernameTaken(ctx context.Context, username string) (bool, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = $1`, username).Scan(&n); err != nil {
		return false, fmt.Errorf("check username: %w", err)
	}
	return n > 0, nil
}

// CreateRegistration stores a pending applicant registration.
func (db *DB) CreateRegistration(ctx context.Context, r *lostperson.Registration) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO applicant_registrations
		(id, username, password_hash, contact_kind, contact, code_hash, attempts, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		r.ID, r.Username, r.PasswordHash, r.Contact.Kind, r.Contact.Address, r.CodeHash, r.Attempts,
		Micros(r.ExpiresAt), Micros(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert registration: %w", err)
	}
	return nil
}

// Registration returns a pending (or used) registration.
func (db *DB) Registration(ctx context.Context, id string) (*lostperson.Registration, error) {
	var r lostperson.Registration
	var expires, created int64
	var used sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT id, username, password_hash, contact_kind, contact, code_hash, attempts,
		expires_at, created_at, used_at FROM applicant_registrations WHERE id = $1`, id).Scan(
		&r.ID, &r.Username, &r.PasswordHash, &r.Contact.Kind, &r.Contact.Address, &r.CodeHash, &r.Attempts,
		&expires, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("registration %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select registration: %w", err)
	}
	r.ExpiresAt, r.CreatedAt, r.UsedAt = FromMicros(expires), FromMicros(created), fromNullMicros(used)
	return &r, nil
}

// CountRegistrations counts the registrations made for a contact since t.
func (db *DB) CountRegistrations(ctx context.Context, contact string, since time.Time) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM applicant_registrations WHERE contact = $1 AND created_at >= $2`,
		contact, Micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count registrations: %w", err)
	}
	return n, nil
}

// RegistrationFailed counts a wrong code and returns the registration's count.
func (db *DB) RegistrationFailed(ctx context.Context, id string) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE applicant_registrations SET attempts = attempts + 1 WHERE id = $1`, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT attempts FROM applicant_registrations WHERE id = $1`, id).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count failed code for %s: %w", id, err)
	}
	return n, nil
}

// ActivateApplicant uses a registration up and creates its account and verified contact, all
// or nothing. A registration already used is not found; a username taken meanwhile is ErrConflict.
func (db *DB) ActivateApplicant(ctx context.Context, registrationID string, u *auth.User, c lostperson.Contact) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE applicant_registrations SET used_at = $2 WHERE id = $1 AND used_at IS NULL`,
			registrationID, Micros(u.CreatedAt))
		if err != nil {
			return fmt.Errorf("use registration: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("registration %s: %w", registrationID, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.ID, u.Username, u.PasswordHash, string(u.Role), nullString(u.OrganisationID), u.Disabled,
			Micros(u.CreatedAt), Micros(u.UpdatedAt))
		if isUniqueViolation(err) {
			return fault.Duplicate(fmt.Sprintf("user %q", u.Username))
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO applicant_contacts (user_id, contact_kind, contact, verified_at)
			VALUES ($1, $2, $3, $4)`, u.ID, c.Kind, c.Address, Micros(u.CreatedAt)); err != nil {
			return fmt.Errorf("insert contact: %w", err)
		}
		return nil
	})
}

// ApplicantContact returns an applicant's verified contact.
func (db *DB) ApplicantContact(ctx context.Context, userID string) (lostperson.Contact, error) {
	var c lostperson.Contact
	err := db.sql.QueryRowContext(ctx, `SELECT contact_kind, contact FROM applicant_contacts WHERE user_id = $1`, userID).Scan(&c.Kind, &c.Address)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("contact of %s: %w", userID, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("select contact: %w", err)
	}
	return c, nil
}

type procedureConditions struct {
	Subjects      []lostperson.Condition     `json:"subjects"`
	Relationships []lostperson.Condition     `json:"relationships"`
	Steps         []lostperson.ProcedureStep `json:"steps"`
}

// CreateProcedure stores a new procedure version numbered one past the newest. Two admins
// publishing at once both get a number: the loser of the key retries.
func (db *DB) CreateProcedure(ctx context.Context, p *lostperson.Procedure) error {
	docs, err := json.Marshal(p.Documents)
	if err != nil {
		return err
	}
	conds, err := json.Marshal(procedureConditions{p.Subjects, p.Relationships, p.Steps})
	if err != nil {
		return err
	}
	for range 5 {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var v int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM procedure_versions`).Scan(&v); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO procedure_versions (version, title_zh, title_en, body_zh, body_en,
				documents, conditions, policy_version, published_at, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				v, p.TitleZH, p.TitleEN, p.BodyZH, p.BodyEN, string(docs), string(conds), p.PolicyVersion,
				Micros(p.PublishedAt), p.PublishedBy); err != nil {
				return err
			}
			p.Version = v
			return nil
		})
		if !isUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("insert procedure: %w", err)
	}
	return nil
}

// Procedures lists every procedure version, newest first.
func (db *DB) Procedures(ctx context.Context) ([]*lostperson.Procedure, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT version, title_zh, title_en, body_zh, body_en, documents, conditions,
		policy_version, published_at, published_by FROM procedure_versions ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("select procedures: %w", err)
	}
	defer rows.Close()
	var out []*lostperson.Procedure
	for rows.Next() {
		var p lostperson.Procedure
		var docs, conds string
		var published int64
		if err := rows.Scan(&p.Version, &p.TitleZH, &p.TitleEN, &p.BodyZH, &p.BodyEN, &docs, &conds, &p.PolicyVersion,
			&published, &p.PublishedBy); err != nil {
			return nil, fmt.Errorf("scan procedure: %w", err)
		}
		var c procedureConditions
		if err := json.Unmarshal([]byte(docs), &p.Documents); err != nil {
			return nil, fmt.Errorf("procedure %d documents: %w", p.Version, err)
		}
		if err := json.Unmarshal([]byte(conds), &c); err != nil {
			return nil, fmt.Errorf("procedure %d conditions: %w", p.Version, err)
		}
		p.Subjects, p.Relationships, p.Steps = c.Subjects, c.Relationships, c.Steps
		p.PublishedAt = FromMicros(published)
		out = append(out, &p)
	}
	return out, rows.Err()
}

const applicationColumns = `id, applicant_id, status, relationship, relationship_detail, subject_category, urgent,
	last_seen_at, lat, lon, address, description, refusal_code, refusal_reason, policy_version, submitted_at,
	triage_due, review_due, result_due, decided_at, decided_by, decision_reason, reviewed_at, outcome, notice,
	result_at, result_by, updated_at`

func applicationArgs(a *lostperson.Application) []any {
	coord := func(v float64) sql.NullFloat64 {
		return sql.NullFloat64{Float64: v, Valid: a.Status != lostperson.StatusIneligible}
	}
	return []any{a.ID, a.ApplicantID, string(a.Status), a.Relationship, a.RelationshipDetail, a.SubjectCategory, a.Urgent,
		nullMicros(a.LastSeenAt), coord(a.Lat), coord(a.Lon), a.Address, a.Description, a.RefusalCode, a.RefusalReason,
		a.PolicyVersion, Micros(a.SubmittedAt), nullMicros(a.TriageDue), nullMicros(a.ReviewDue), nullMicros(a.ResultDue),
		nullMicros(a.DecidedAt), a.DecidedBy, a.DecisionReason, nullMicros(a.ReviewedAt), string(a.Outcome), a.Notice,
		nullMicros(a.ResultAt), a.ResultBy, Micros(a.UpdatedAt)}
}

func scanApplication(s scanner) (*lostperson.Application, error) {
	var a lostperson.Application
	var status, outcome string
	var lat, lon sql.NullFloat64
	var lastSeen, triage, review, result, decided, reviewed, resultAt sql.NullInt64
	var submitted, updated int64
	if err := s.Scan(&a.ID, &a.ApplicantID, &status, &a.Relationship, &a.RelationshipDetail, &a.SubjectCategory, &a.Urgent,
		&lastSeen, &lat, &lon, &a.Address, &a.Description, &a.RefusalCode, &a.RefusalReason, &a.PolicyVersion, &submitted,
		&triage, &review, &result, &decided, &a.DecidedBy, &a.DecisionReason, &reviewed, &outcome, &a.Notice,
		&resultAt, &a.ResultBy, &updated); err != nil {
		return nil, err
	}
	a.Status, a.Outcome = lostperson.Status(status), lostperson.Outcome(outcome)
	a.Lat, a.Lon = lat.Float64, lon.Float64
	a.LastSeenAt, a.TriageDue, a.ReviewDue, a.ResultDue = fromNullMicros(lastSeen), fromNullMicros(triage), fromNullMicros(review), fromNullMicros(result)
	a.DecidedAt, a.ReviewedAt, a.ResultAt = fromNullMicros(decided), fromNullMicros(reviewed), fromNullMicros(resultAt)
	a.SubmittedAt, a.UpdatedAt = FromMicros(submitted), FromMicros(updated)
	return &a, nil
}

// CreateApplication stores a new application.
func (db *DB) CreateApplication(ctx context.Context, a *lostperson.Application) error {
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO applications (`+applicationColumns+`) VALUES (`+placeholders(1, 28)+`)`,
		applicationArgs(a)...); err != nil {
		return fmt.Errorf("insert application: %w", err)
	}
	return nil
}

// Application returns one application.
func (db *DB) Application(ctx context.Context, id string) (*lostperson.Application, error) {
	return queryOne(ctx, db.sql, "application "+id, ErrNotFound, scanApplication, `SELECT `+applicationColumns+` FROM applications WHERE id = $1`, id)
}

// Applications lists applications, newest first.
func (db *DB) Applications(ctx context.Context, f lostperson.Filter) ([]*lostperson.Application, error) {
	var where []string
	var args []any
	if f.ApplicantID != "" {
		args = append(args, f.ApplicantID)
		where = append(where, fmt.Sprintf("applicant_id = $%d", len(args)))
	}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(args)+1, len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, string(s))
		}
	} else {
		args = append(args, string(lostperson.StatusIneligible))
		where = append(where, fmt.Sprintf("status <> $%d", len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	return db.queryApplications(ctx, `SELECT `+applicationColumns+` FROM applications WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY submitted_at DESC, id LIMIT $%d`, len(args)), args...)
}

// ApplicationsSince returns the applications submitted at or after t, for the statistics.
func (db *DB) ApplicationsSince(ctx context.Context, t time.Time) ([]*lostperson.Application, error) {
	return db.queryApplications(ctx, `SELECT `+applicationColumns+` FROM applications WHERE submitted_at >= $1 ORDER BY submitted_at`, Micros(t))
}

func (db *DB) queryApplications(ctx context.Context, q string, args ...any) ([]*lostperson.Application, error) {
	return queryAll(ctx, db.sql, "applications", scanApplication, q, args...)
}

// UpdateApplication writes an application that still has status from, and enqueues notify in
// the same transaction.
func (db *DB) UpdateApplication(ctx context.Context, a *lostperson.Application, from lostperson.Status, notify *lostperson.Message) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := updateApplication(ctx, tx, a, from); err != nil {
			return err
		}
		if notify != nil {
			return enqueue(ctx, tx, notify)
		}
		return nil
	})
}

// updateApplication writes a changed application in tx if it still has status from.
func updateApplication(ctx context.Context, tx *sql.Tx, a *lostperson.Application, from lostperson.Status) error {
	args := applicationArgs(a)
	sets := strings.Split(strings.Join(strings.Fields(applicationColumns), ""), ",")
	var b strings.Builder
	for i, c := range sets[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = $%d", c, i+2)
	}
	args = append(args, string(from))
	res, err := tx.ExecContext(ctx, `UPDATE applications SET `+b.String()+fmt.Sprintf(` WHERE id = $1 AND status = $%d`, len(args)), args...)
	if err != nil {
		return fmt.Errorf("update application %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("application %s is no longer %s: %w", a.ID, from, lostperson.ErrState)
	}
	return nil
}

// AddDocument records an uploaded document.
func (db *DB) AddDocument(ctx context.Context, d *lostperson.Document) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO application_documents (id, application_id, kind, content_type, bytes,
		sha256, stored_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.ApplicationID, d.Kind, d.ContentType, d.Bytes, d.SHA256, d.StoredName, Micros(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert document: %w", err)
	}
	return nil
}

// Documents lists an application's documents, oldest first.
func (db *DB) Documents(ctx context.Context, applicationID string) ([]*lostperson.Document, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, application_id, kind, content_type, bytes, sha256, stored_name, created_at
		FROM application_documents WHERE application_id = $1 ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("select documents: %w", err)
	}
	defer rows.Close()
	var out []*lostperson.Document
	for rows.Next() {
		var d lostperson.Document
		var created int64
		if err := rows.Scan(&d.ID, &d.ApplicationID, &d.Kind, &d.ContentType, &d.Bytes, &d.SHA256, &d.StoredName, &created); err != nil {
			return nil, fmt.Errorf("scan document: %w", err)
		}
		d.CreatedAt = FromMicros(created)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// AddFinding records a reviewer's finding.
func (db *DB) AddFinding(ctx context.Context, f *lostperson.Finding) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO application_findings (id, application_id, author_id, body, created_at)
		VALUES ($1, $2, $3, $4, $5)`, f.ID, f.ApplicationID, f.AuthorID, f.Body, Micros(f.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert finding: %w", err)
	}
	return nil
}

// Findings lists an application's findings, oldest first.
func (db *DB) Findings(ctx context.Context, applicationID string) ([]*lostperson.Finding, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, application_id, author_id, body, created_at FROM application_findings
		WHERE application_id = $1 ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("select findings: %w", err)
	}
	defer rows.Close()
	var out []*lostperson.Finding
	for rows.Next() {
		var f lostperson.Finding
		var created int64
		if err := rows.Scan(&f.ID, &f.ApplicationID, &f.AuthorID, &f.Body, &created); err != nil {
			return nil, fmt.Errorf("scan finding: %w", err)
		}
		f.CreatedAt = FromMicros(created)
		out = append(out, &f)
	}
	return out, rows.Err()
}

// PutGrants stores footage grants, replacing the window of an existing one.
func (db *DB) PutGrants(ctx context.Context, gs []lostperson.FootageGrant) error {
	if len(gs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO application_grants
			(application_id, reviewer_id, camera_id, from_at, to_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (application_id, reviewer_id, camera_id) DO UPDATE SET from_at = excluded.from_at,
				to_at = excluded.to_at, created_at = excluded.created_at`)
		if err != nil {
			return fmt.Errorf("prepare grant: %w", err)
		}
		defer stmt.Close()
		for _, g := range gs {
			if _, err := stmt.ExecContext(ctx, g.ApplicationID, g.ReviewerID, g.CameraID, Micros(g.From), Micros(g.To), Micros(g.CreatedAt)); err != nil {
				return fmt.Errorf("insert grant: %w", err)
			}
		}
		return nil
	})
}

// Grant returns the grant of one camera to one reviewer for one application.
func (db *DB) Grant(ctx context.Context, applicationID, reviewerID, cameraID string) (*lostperson.FootageGrant, error) {
	g := lostperson.FootageGrant{ApplicationID: applicationID, ReviewerID: reviewerID, CameraID: cameraID}
	var from, to, created int64
	err := db.sql.QueryRowContext(ctx, `SELECT from_at, to_at, created_at FROM application_grants
		WHERE application_id = $1 AND reviewer_id = $2 AND camera_id = $3`, applicationID, reviewerID, cameraID).Scan(&from, &to, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("grant: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select grant: %w", err)
	}
	g.From, g.To, g.CreatedAt = FromMicros(from), FromMicros(to), FromMicros(created)
	return &g, nil
}

const messageColumns = `id, kind, channel, recipient, reference, subject, body, status, attempts, next_at, last_error, created_at, delivered_at`

func enqueue(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, m *lostperson.Message) error {
	_, err := x.ExecContext(ctx, `INSERT INTO outbox (`+messageColumns+`) VALUES (`+placeholders(1, 13)+`)`,
		m.ID, m.Kind, m.Contact.Kind, m.Contact.Address, m.Reference, m.Subject, m.Body, string(m.Status), m.Attempts,
		Micros(m.NextAt), m.LastError, Micros(m.CreatedAt), nullMicros(m.DeliveredAt))
	if err != nil {
		return fmt.Errorf("enqueue message: %w", err)
	}
	return nil
}

// EnqueueMessage adds a message to the outbox.
func (db *DB) EnqueueMessage(ctx context.Context, m *lostperson.Message) error {
	return enqueue(ctx, db.sql, m)
}

func scanMessage(s scanner) (*lostperson.Message, error) {
	var m lostperson.Message
	var status string
	var next, created int64
	var delivered sql.NullInt64
	if err := s.Scan(&m.ID, &m.Kind, &m.Contact.Kind, &m.Contact.Address, &m.Reference, &m.Subject, &m.Body, &status,
		&m.Attempts, &next, &m.LastError, &created, &delivered); err != nil {
		return nil, err
	}
	m.Status, m.NextAt, m.CreatedAt, m.DeliveredAt = lostperson.MessageStatus(status), FromMicros(next), FromMicros(created), fromNullMicros(delivered)
	return &m, nil
}

// DueMessages lists pending messages due by now, oldest first.
func (db *DB) DueMessages(ctx context.Context, now time.Time, limit int) ([]*lostperson.Message, error) {
	return queryAll(ctx, db.sql, "due messages", scanMessage, `SELECT `+messageColumns+` FROM outbox WHERE status = $1 AND next_at <= $2
		ORDER BY next_at, id LIMIT $3`, string(lostperson.MessagePending), Micros(now), limit)
}

// ClaimMessage moves a pending message's next attempt from old to until; false when another
// claimer moved it first.
func (db *DB) ClaimMessage(ctx context.Context, id string, old, until time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `UPDATE outbox SET next_at = $3 WHERE id = $1 AND next_at = $2 AND status = $4`,
		id, Micros(old), Micros(until), string(lostperson.MessagePending))
	if err != nil {
		return false, fmt.Errorf("claim message %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UpdateMessage writes a message's delivery state.
func (db *DB) UpdateMessage(ctx context.Context, m *lostperson.Message) error {
	_, err := db.sql.ExecContext(ctx, `UPDATE outbox SET status = $2, attempts = $3, next_at = $4, last_error = $5,
		delivered_at = $6 WHERE id = $1`, m.ID, string(m.Status), m.Attempts, Micros(m.NextAt), m.LastError, nullMicros(m.DeliveredAt))
	if err != nil {
		return fmt.Errorf("update message %s: %w", m.ID, err)
	}
	return nil
}

// Message returns one outbox message.
func (db *DB) Message(ctx context.Context, id string) (*lostperson.Message, error) {
	return queryOne(ctx, db.sql, "message "+id, ErrNotFound, scanMessage, `SELECT `+messageColumns+` FROM outbox WHERE id = $1`, id)
}

// The request package's storage, checked at compile time.
var (
	_ lostperson.Repo       = (*DB)(nil)
	_ lostperson.Recordings = (*DB)(nil)
)
