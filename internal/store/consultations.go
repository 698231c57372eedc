package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"civicam/internal/consultation"
	"civicam/internal/fault"
)

// consultationSelect reads a consultation with its opinion counts.
const consultationSelect = `SELECT c.id, c.title, c.draft, c.deadline, c.status, c.published_at, c.published_by, c.final,
	c.final_at, c.final_by,
	(SELECT COUNT(*) FROM consultation_opinions o WHERE o.consultation_id = c.id),
	(SELECT COUNT(*) FROM consultation_opinions o WHERE o.consultation_id = c.id AND o.verdict = '')
	FROM consultations c`

// CreateConsultation stores a newly published consultation.
func (db *DB) CreateConsultation(ctx context.Context, c *consultation.Consultation) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO consultations (id, title, draft, deadline, status, published_at, published_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, c.Title, c.Draft, Micros(c.Deadline), string(c.Status), Micros(c.PublishedAt), c.PublishedBy)
	if err != nil {
		return fmt.Errorf("insert consultation: %w", err)
	}
	return nil
}

func scanConsultation(row interface{ Scan(...any) error }) (*consultation.Consultation, error) {
	var c consultation.Consultation
	var status string
	var deadline, published int64
	var final sql.NullInt64
	if err := row.Scan(&c.ID, &c.Title, &c.Draft, &deadline, &status, &published, &c.PublishedBy, &c.Final, &final, &c.FinalBy,
		&c.Opinions, &c.Unanswered); err != nil {
		return nil, err
	}
	c.Status, c.Deadline, c.PublishedAt, c.FinalAt = consultation.Status(status), FromMicros(deadline), FromMicros(published), fromNullMicros(final)
	return &c, nil
}

// Consultation reads one consultation.
func (db *DB) Consultation(ctx context.Context, id string) (*consultation.Consultation, error) {
	c, err := scanConsultation(db.sql.QueryRowContext(ctx, consultationSelect+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("consultation %s: %w", id, fault.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select consultation: %w", err)
	}
	return c, nil
}

// Consultations lists every consultation, newest first.
func (db *DB) Consultations(ctx context.Context) ([]*consultation.Consultation, error) {
	rows, err := db.sql.QueryContext(ctx, consultationSelect+` ORDER BY c.published_at DESC, c.id`)
	if err != nil {
		return nil, fmt.Errorf("select consultations: %w", err)
	}
	defer rows.Close()
	out := []*consultation.Consultation{}
	for rows.Next() {
		c, err := scanConsultation(rows)
		if err != nil {
			return nil, fmt.Errorf("scan consultation: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const opinionColumns = `id, consultation_id, text, submitted_at, receipt_hash, verdict, answer, answered_at, answered_by`

// CreateOpinion stores an opinion of a consultation still open.
func (db *DB) CreateOpinion(ctx context.Context, o *consultation.Opinion) error {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO consultation_opinions (`+opinionColumns+`)
		SELECT $1, $2, $3, $4, $5, '', '', NULL, '' WHERE EXISTS (SELECT 1 FROM consultations WHERE id = $2 AND status = $6)`,
		o.ID, o.ConsultationID, o.Text, Micros(o.SubmittedAt), o.ReceiptHash, string(consultation.StatusOpen))
	if err != nil {
		return fmt.Errorf("insert opinion: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &fault.Error{Kind: fault.Conflict, Code: consultation.CodeClosed, Message: "this consultation no longer takes opinions"}
	}
	return nil
}

func scanOpinion(row interface{ Scan(...any) error }) (*consultation.Opinion, error) {
	var o consultation.Opinion
	var verdict string
	var submitted int64
	var answered sql.NullInt64
	if err := row.Scan(&o.ID, &o.ConsultationID, &o.Text, &submitted, &o.ReceiptHash, &verdict, &o.Answer, &answered, &o.AnsweredBy); err != nil {
		return nil, err
	}
	o.Verdict, o.SubmittedAt, o.AnsweredAt = consultation.Verdict(verdict), FromMicros(submitted), fromNullMicros(answered)
	return &o, nil
}

func (db *DB) opinionWhere(ctx context.Context, where string, arg any) (*consultation.Opinion, error) {
	o, err := scanOpinion(db.sql.QueryRowContext(ctx, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("opinion: %w", fault.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select opinion: %w", err)
	}
	return o, nil
}

// Opinion reads one opinion.
func (db *DB) Opinion(ctx context.Context, id string) (*consultation.Opinion, error) {
	return db.opinionWhere(ctx, `id = $1`, id)
}

// OpinionByReceipt reads the opinion whose receipt code hashes to receiptHash.
func (db *DB) OpinionByReceipt(ctx context.Context, receiptHash string) (*consultation.Opinion, error) {
	return db.opinionWhere(ctx, `receipt_hash = $1`, receiptHash)
}

// Opinions lists a consultation's opinions in the order they came.
func (db *DB) Opinions(ctx context.Context, consultationID string) ([]*consultation.Opinion, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+opinionColumns+` FROM consultation_opinions WHERE consultation_id = $1
		ORDER BY submitted_at, id`, consultationID)
	if err != nil {
		return nil, fmt.Errorf("select opinions: %w", err)
	}
	defer rows.Close()
	out := []*consultation.Opinion{}
	for rows.Next() {
		o, err := scanOpinion(rows)
		if err != nil {
			return nil, fmt.Errorf("scan opinion: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AnswerOpinion writes the answer of an unanswered opinion of an open consultation.
func (db *DB) AnswerOpinion(ctx context.Context, o *consultation.Opinion) error {
	res, err := db.sql.ExecContext(ctx, `UPDATE consultation_opinions SET verdict = $2, answer = $3, answered_at = $4, answered_by = $5
		WHERE id = $1 AND verdict = '' AND EXISTS (SELECT 1 FROM consultations c WHERE c.id = consultation_id AND c.status = $6)`,
		o.ID, string(o.Verdict), o.Answer, Micros(o.AnsweredAt), o.AnsweredBy, string(consultation.StatusOpen))
	if err != nil {
		return fmt.Errorf("answer opinion %s: %w", o.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &fault.Error{Kind: fault.Conflict, Code: consultation.CodeAnswered, Message: "this opinion is already answered, or its consultation final"}
	}
	return nil
}

// PublishFinal writes the final version, in one transaction with the check that every opinion
// is answered: the consultation's row is locked by the update first, so an opinion arriving
// meanwhile (its insert checks the status) either lands before and is counted, or is refused.
func (db *DB) PublishFinal(ctx context.Context, c *consultation.Consultation) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE consultations SET status = $2, final = $3, final_at = $4, final_by = $5
			WHERE id = $1 AND status = $6`, c.ID, string(consultation.StatusFinal), c.Final, Micros(c.FinalAt), c.FinalBy,
			string(consultation.StatusOpen))
		if err != nil {
			return fmt.Errorf("publish final %s: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &fault.Error{Kind: fault.Conflict, Code: consultation.CodeClosed, Message: "the final version is already published"}
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM consultation_opinions WHERE consultation_id = $1 AND verdict = ''`,
			c.ID).Scan(&open); err != nil {
			return fmt.Errorf("count unanswered: %w", err)
		}
		if open > 0 {
			return consultation.Unanswered(open)
		}
		return nil
	})
}
