package lostperson

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// The pack names the documents an application needs (identity, proof of relationship); the
// police accept it only once each is uploaded or a reviewer records that it was shown in person.

// ShownDocument records that an applicant showed a required document to a reviewer in person.
type ShownDocument struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"-"`
	Kind          string    `json:"kind"`
	ReviewerID    string    `json:"reviewer_id"`
	Note          string    `json:"note,omitempty"`
	ShownAt       time.Time `json:"shown_at"`
}

// DocRequirement is one document the pack requires, with how the application provided it.
type DocRequirement struct {
	Kind     string         `json:"kind"`
	Label    string         `json:"label"`
	LabelZH  string         `json:"label_zh"`
	Uploaded bool           `json:"uploaded"`
	Shown    *ShownDocument `json:"shown_in_person,omitempty"`
}

// Provided reports whether the requirement is met.
func (d DocRequirement) Provided() bool { return d.Uploaded || d.Shown != nil }

// ErrDocumentsMissing is the cause of refusing to accept an application without its documents.
var ErrDocumentsMissing = errors.New("required documents missing")

// requirements lists the pack's documents with how the application provided each.
func (s *Service) requirements(ctx context.Context, applicationID string, docs []*Document) ([]DocRequirement, error) {
	shown, err := s.repo.ShownDocuments(ctx, applicationID)
	if err != nil {
		return nil, err
	}
	var out []DocRequirement
	for _, rd := range s.pack.Applications().Documents {
		r := DocRequirement{Kind: rd.ID, Label: rd.Label, LabelZH: rd.LabelZH}
		for _, d := range docs {
			r.Uploaded = r.Uploaded || d.Kind == rd.ID
		}
		for _, sd := range shown {
			if sd.Kind == rd.ID && r.Shown == nil {
				r.Shown = sd
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// missingDocuments refuses an acceptance while a required document is neither uploaded nor
// recorded as shown, naming the missing ones.
func (s *Service) missingDocuments(ctx context.Context, applicationID string) error {
	docs, err := s.repo.Documents(ctx, applicationID)
	if err != nil {
		return err
	}
	reqs, err := s.requirements(ctx, applicationID, docs)
	if err != nil {
		return err
	}
	var en, zh, kinds []string
	for _, r := range reqs {
		if !r.Provided() {
			en, zh, kinds = append(en, r.Label), append(zh, r.LabelZH), append(kinds, r.Kind)
		}
	}
	if len(en) == 0 {
		return nil
	}
	return &fault.Error{Kind: fault.Refused, Code: "documents_missing", Field: "documents",
		Message: fmt.Sprintf("the application cannot be accepted before these documents are uploaded or shown in person: %s (%s)",
			strings.Join(en, "; "), strings.Join(zh, "；")),
		Err: fmt.Errorf("%w: %s", ErrDocumentsMissing, strings.Join(kinds, ", "))}
}

// RecordShown records, for a submitted application, that the applicant showed the required
// document of the given kind to the reviewer acting in ctx in person; traced with the kind.
func (s *Service) RecordShown(ctx context.Context, id, kind, note string) (*ShownDocument, error) {
	rd, ok := s.pack.Applications().Document(kind)
	if !ok {
		return nil, invalid("kind", "%q is not a document policy %s requires", kind, s.pack.Version())
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > 500 {
		return nil, invalid("note", "is longer than 500 characters")
	}
	a, err := s.inStatus(ctx, id, StatusSubmitted, "record a document shown for")
	if err != nil {
		return nil, err
	}
	d := &ShownDocument{ID: registry.NewID(), ApplicationID: a.ID, Kind: rd.ID, ReviewerID: actorID(ctx), Note: note, ShownAt: s.now().UTC()}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionDocumentShown, Reference: a.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s document of application %s shown in person (%s)", rd.ID, a.ID, rd.Label)}); err != nil {
		return nil, err
	}
	if err := s.repo.AddShownDocument(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// ContactFor is an application's applicant's verified contact, for a reviewer who must reach
// the applicant; the reading is traced before the contact is returned.
func (s *Service) ContactFor(ctx context.Context, id string) (Contact, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return Contact{}, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionContactRead, Reference: a.ID, Outcome: trace.Allowed,
		Reason: "contact of the applicant of application " + a.ID}); err != nil {
		return Contact{}, err
	}
	return s.repo.ApplicantContact(ctx, a.ApplicantID)
}
