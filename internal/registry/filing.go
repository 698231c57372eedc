package registry

import (
	"context"
	"errors"
	"strings"
	"time"

	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/trace"
)

// System filing (Beijing's rule, the pack's system_filing): a completed system is filed with the
// public security organ within the pack's days of its acceptance. A camera is the system filed
// here: it is what an owner builds, accepts and registers, and what the rest of the regulation
// counts. It is accepted when it first becomes active; the registry keeps that date whatever the
// pack, so that switching to a pack with the rule judges cameras accepted before the switch.

// Filing is one camera's acceptance and, once recorded, its filing.
type Filing struct {
	CameraID       string    `json:"camera_id"`
	OrganisationID string    `json:"organisation_id"`
	AcceptedAt     time.Time `json:"accepted_at"`
	FiledAt        time.Time `json:"filed_at,omitzero"`
	FiledBy        string    `json:"filed_by,omitempty"` // the user who recorded it
	Reference      string    `json:"reference,omitempty"`
	// DueAt and Overdue are the pack's judgement now; DueAt is zero when the pack asks for no
	// filing or the camera is filed.
	DueAt   time.Time       `json:"due_at,omitzero"`
	Finding *policy.Finding `json:"finding,omitempty"` // system_filing_overdue
}

// FilingRepo keeps the filings; package store implements it. Missing rows are fault.ErrNotFound.
type FilingRepo interface {
	// PutAcceptance records a camera's acceptance unless one is recorded already.
	PutAcceptance(ctx context.Context, cameraID, organisationID string, at time.Time) error
	Filing(ctx context.Context, cameraID string) (*Filing, error)
	// RecordFiling writes the filing of an accepted camera not filed yet; otherwise
	// fault.ErrConflict.
	RecordFiling(ctx context.Context, f *Filing) error
	Filings(ctx context.Context, scope Scope) ([]*Filing, error)
}

// FilingInput is what the public security organ records of a filing it received.
type FilingInput struct {
	FiledOn   string `json:"filed_on"` // YYYY-MM-DD
	Reference string `json:"reference"`
}

// accepted records the acceptance of a camera that has just become active.
func (s *Service) accepted(ctx context.Context, old, c *Camera) {
	if s.filings == nil || c.Status != StatusActive || (old != nil && old.Status == StatusActive) {
		return
	}
	if err := s.filings.PutAcceptance(ctx, c.ID, c.OrganisationID, c.UpdatedAt); err != nil {
		s.log.Error("record camera acceptance", "camera", c.ID, "err", err)
	}
}

// judge fills in the pack's due date and finding.
func (s *Service) judge(f *Filing, now time.Time) *Filing {
	facts := policy.CameraFacts{Status: policy.StatusActive, AcceptedAt: f.AcceptedAt, FiledAt: f.FiledAt}
	if due, ok := s.pack.FilingDue(facts); ok {
		f.DueAt = due
		if now.After(due) {
			fs := s.pack.Findings(facts, now)
			for i := range fs {
				if fs[i].Code == policy.CodeSystemFilingOverdue {
					f.Finding = &fs[i]
				}
			}
		}
	}
	return f
}

// Filings lists the cameras accepted in scope with their filing and the pack's judgement.
func (s *Service) Filings(ctx context.Context, scope Scope, overdueOnly bool) ([]*Filing, error) {
	if s.filings == nil {
		return []*Filing{}, nil
	}
	fs, err := s.filings.Filings(ctx, scope)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []*Filing{}
	for _, f := range fs {
		if s.judge(f, now); !overdueOnly || f.Finding != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// RecordFiling records, for the public security organ, that an accepted camera's system was
// filed on a date (not in the future, not before the acceptance), with the filing's reference.
func (s *Service) RecordFiling(ctx context.Context, scope Scope, cameraID, by string, in FilingInput) (*Filing, error) {
	if s.filings == nil {
		return nil, fault.ErrNotFound
	}
	ref := strings.TrimSpace(in.Reference)
	switch {
	case ref == "":
		return nil, fault.InvalidField("reference", "is required: the filing's number or document")
	case len(ref) > 200:
		return nil, fault.InvalidField("reference", "is at most 200 bytes")
	}
	day, err := time.Parse(time.DateOnly, in.FiledOn)
	if err != nil {
		return nil, fault.InvalidField("filed_on", "is not a date (YYYY-MM-DD)")
	}
	now := s.now().UTC()
	if day.After(now) {
		return nil, fault.InvalidField("filed_on", "is in the future")
	}
	c, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	refuse := func(err error) error {
		if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSystemFiling, CameraIDs: []string{c.ID}, Reference: ref,
			Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
			s.log.Error("trace filing refusal", "camera", c.ID, "err", terr)
		}
		return err
	}
	f, err := s.filings.Filing(ctx, c.ID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, refuse(&fault.Error{Kind: fault.Conflict, Code: "not_accepted", Message: "the camera has not been accepted into service yet"})
	}
	if err != nil {
		return nil, err
	}
	if !f.FiledAt.IsZero() {
		return nil, refuse(&fault.Error{Kind: fault.Conflict, Code: "already_filed", Message: "the camera's filing is recorded already"})
	}
	if day.Before(f.AcceptedAt.UTC().Truncate(24 * time.Hour)) {
		return nil, fault.InvalidField("filed_on", "is before the camera's acceptance on %s", f.AcceptedAt.UTC().Format(time.DateOnly))
	}
	f.FiledAt, f.FiledBy, f.Reference = day, by, ref
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSystemFiling, CameraIDs: []string{c.ID}, Reference: ref,
		Outcome: trace.Allowed, Reason: "filed on " + in.FiledOn}); err != nil {
		return nil, err
	}
	if err := s.filings.RecordFiling(ctx, f); err != nil {
		return nil, err
	}
	return s.judge(f, now), nil
}
