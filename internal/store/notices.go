package store

import (
	"context"
	"database/sql"
	"fmt"

	"civicam/internal/lostperson"
)

const noticeColumns = `id, application_id, outcome, last_sighting_at, message, status, supersedes, author_id, author_org,
	approved_by, sent_at, superseded_at, created_at`

// CreateNotice stores a draft result notice, withdrawing the application's earlier drafts.
func (db *DB) CreateNotice(ctx context.Context, n *lostperson.Notice) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE result_notices SET status = $2 WHERE application_id = $1 AND status = $3`,
			n.ApplicationID, string(lostperson.NoticeWithdrawn), string(lostperson.NoticeDraft)); err != nil {
			return fmt.Errorf("withdraw drafts: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO result_notices (`+noticeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			n.ID, n.ApplicationID, string(n.Outcome), nullMicros(n.LastSightingAt), n.Message, string(n.Status), n.Supersedes,
			n.AuthorID, n.AuthorOrg, n.ApprovedBy, nullMicros(n.SentAt), nullMicros(n.SupersededAt), Micros(n.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert notice: %w", err)
		}
		return nil
	})
}

// Notices lists an application's notices, oldest first.
func (db *DB) Notices(ctx context.Context, applicationID string) ([]*lostperson.Notice, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+noticeColumns+` FROM result_notices WHERE application_id = $1
		ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("select notices: %w", err)
	}
	defer rows.Close()
	var out []*lostperson.Notice
	for rows.Next() {
		var n lostperson.Notice
		var outcome, status string
		var sighting, sent, superseded sql.NullInt64
		var created int64
		if err := rows.Scan(&n.ID, &n.ApplicationID, &outcome, &sighting, &n.Message, &status, &n.Supersedes, &n.AuthorID,
			&n.AuthorOrg, &n.ApprovedBy, &sent, &superseded, &created); err != nil {
			return nil, fmt.Errorf("scan notice: %w", err)
		}
		n.Outcome, n.Status = lostperson.Outcome(outcome), lostperson.NoticeStatus(status)
		n.LastSightingAt, n.SentAt, n.SupersededAt, n.CreatedAt = fromNullMicros(sighting), fromNullMicros(sent), fromNullMicros(superseded), FromMicros(created)
		out = append(out, &n)
	}
	return out, rows.Err()
}

// SendNotice marks a draft sent, the notice it supersedes superseded, and writes the
// application and its message, all or nothing.
func (db *DB) SendNotice(ctx context.Context, n *lostperson.Notice, a *lostperson.Application, from lostperson.Status, notify *lostperson.Message) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE result_notices SET status = $2, approved_by = $3, sent_at = $4
			WHERE id = $1 AND status = $5`, n.ID, string(lostperson.NoticeSent), n.ApprovedBy, Micros(n.SentAt), string(lostperson.NoticeDraft))
		if err != nil {
			return fmt.Errorf("send notice %s: %w", n.ID, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("notice %s is no longer a draft: %w", n.ID, lostperson.ErrState)
		}
		if n.Supersedes != "" {
			res, err := tx.ExecContext(ctx, `UPDATE result_notices SET status = $2, superseded_at = $3 WHERE id = $1 AND status = $4`,
				n.Supersedes, string(lostperson.NoticeSuperseded), Micros(n.SentAt), string(lostperson.NoticeSent))
			if err != nil {
				return fmt.Errorf("supersede notice %s: %w", n.Supersedes, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return fmt.Errorf("notice %s is no longer the one in force: %w", n.Supersedes, lostperson.ErrState)
			}
		}
		if err := updateApplication(ctx, tx, a, from); err != nil {
			return err
		}
		if notify != nil {
			return enqueue(ctx, tx, notify)
		}
		return nil
	})
}

// AddShownDocument records a document shown to a reviewer in person.
func (db *DB) AddShownDocument(ctx context.Context, d *lostperson.ShownDocument) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO application_documents_shown (id, application_id, kind, reviewer_id, note, shown_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, d.ID, d.ApplicationID, d.Kind, d.ReviewerID, d.Note, Micros(d.ShownAt))
	if err != nil {
		return fmt.Errorf("insert shown document: %w", err)
	}
	return nil
}

// ShownDocuments lists the documents shown in person for an application, oldest first.
func (db *DB) ShownDocuments(ctx context.Context, applicationID string) ([]*lostperson.ShownDocument, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, application_id, kind, reviewer_id, note, shown_at
		FROM application_documents_shown WHERE application_id = $1 ORDER BY shown_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("select shown documents: %w", err)
	}
	defer rows.Close()
	var out []*lostperson.ShownDocument
	for rows.Next() {
		var d lostperson.ShownDocument
		var at int64
		if err := rows.Scan(&d.ID, &d.ApplicationID, &d.Kind, &d.ReviewerID, &d.Note, &at); err != nil {
			return nil, fmt.Errorf("scan shown document: %w", err)
		}
		d.ShownAt = FromMicros(at)
		out = append(out, &d)
	}
	return out, rows.Err()
}
