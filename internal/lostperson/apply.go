package lostperson

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// ApplicationInput is what an applicant submits.
type ApplicationInput struct {
	Relationship       string    `json:"relationship"`
	RelationshipDetail string    `json:"relationship_detail"`
	SubjectCategory    string    `json:"subject_category"`
	LastSeenAt         time.Time `json:"last_seen_at"`
	Lat                *float64  `json:"lat"`
	Lon                *float64  `json:"lon"`
	Address            string    `json:"address"`
	Description        string    `json:"description"`
}

// Submit files an application for the applicant acting in ctx. The policy pack decides
// eligibility first: an ineligible case is refused with an *IneligibleError, traced, and kept
// only as a count for the statistics. An eligible one gets its deadlines from the pack.
func (s *Service) Submit(ctx context.Context, applicantID string, in *ApplicationInput) (*Application, error) {
	now := s.now().UTC()
	in.Relationship = strings.TrimSpace(in.Relationship)
	in.SubjectCategory = strings.TrimSpace(in.SubjectCategory)
	if in.Relationship == "" {
		return nil, invalid("relationship", "is required")
	}
	if in.SubjectCategory == "" {
		return nil, invalid("subject_category", "is required")
	}
	if ds := s.pack.CheckApplication(in.Relationship, in.SubjectCategory); len(ds) > 0 {
		a := &Application{ID: registry.NewID(), ApplicantID: applicantID, Status: StatusIneligible,
			Relationship: clip(in.Relationship, 64), SubjectCategory: clip(in.SubjectCategory, 64),
			RefusalCode: ds[0].Code, RefusalReason: ds[0].Reason, PolicyVersion: ds[0].PolicyVersion,
			SubmittedAt: now, UpdatedAt: now}
		ie := &IneligibleError{ApplicationID: a.ID, Decisions: ds, ReferTo: s.cfg.ReferTo, ReferToZH: s.cfg.ReferToZH,
			ReasonZH: s.reasonZH(ds[0].Field, in)}
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationDecision, Reference: a.ID, Outcome: trace.Denied,
			Reason: "application refused: " + ie.Error()}); err != nil {
			return nil, err
		}
		if err := s.repo.CreateApplication(ctx, a); err != nil {
			return nil, err
		}
		s.metrics.received.WithLabelValues(ds[0].Code).Inc()
		return nil, ie
	}
	if err := s.validateInput(in, now); err != nil {
		return nil, err
	}
	// The count and the write are one step, so that applications sent at once cannot pass the
	// limit together.
	s.limits.Lock()
	defer s.limits.Unlock()
	if err := s.checkOpenApplications(ctx, applicantID); err != nil {
		return nil, err
	}
	subj, _ := s.pack.Applications().Subject(in.SubjectCategory)
	a := &Application{ID: registry.NewID(), ApplicantID: applicantID, Status: StatusSubmitted,
		Relationship: in.Relationship, RelationshipDetail: strings.TrimSpace(in.RelationshipDetail),
		SubjectCategory: in.SubjectCategory, Urgent: subj.Urgent, LastSeenAt: in.LastSeenAt.UTC(),
		Lat: *in.Lat, Lon: *in.Lon, Address: strings.TrimSpace(in.Address), Description: strings.TrimSpace(in.Description),
		PolicyVersion: s.pack.Version(), SubmittedAt: now, UpdatedAt: now}
	a.TriageDue = s.due(now, StepTriage, a.Urgent)
	a.ReviewDue = s.due(a.TriageDue, StepFootageReview, a.Urgent)
	a.ResultDue = s.due(a.ReviewDue, StepResultNotice, a.Urgent)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationDecision, Reference: a.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("application submitted: %s, %s, eligible under policy %s", a.SubjectCategory, a.Relationship, a.PolicyVersion)}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateApplication(ctx, a); err != nil {
		return nil, err
	}
	s.metrics.received.WithLabelValues("eligible").Inc()
	return a, nil
}

// checkOpenApplications refuses a further application once the applicant has the pack's limit
// of open ones.
func (s *Service) checkOpenApplications(ctx context.Context, applicantID string) error {
	lim := s.pack.Applications().Limits
	open, err := s.repo.Applications(ctx, Filter{ApplicantID: applicantID, Statuses: []Status{StatusSubmitted, StatusAccepted},
		Limit: lim.OpenApplicationsPerApplicant + 1})
	if err != nil {
		return err
	}
	if len(open) >= lim.OpenApplicationsPerApplicant {
		return &fault.Error{Kind: fault.Refused, Code: "too_many_applications",
			Message: fmt.Sprintf("policy %s allows %d open applications per applicant; wait until one of yours is decided or closed",
				s.pack.Version(), lim.OpenApplicationsPerApplicant),
			Err: fmt.Errorf("%w: %d open applications", ErrLimit, len(open))}
	}
	return nil
}

func (s *Service) reasonZH(field string, in *ApplicationInput) string {
	apps := s.pack.Applications()
	if field == "relationship" {
		if r, ok := apps.Relationship(in.Relationship); ok {
			return r.ReasonZH
		}
		return "仅走失人员的监护人或近亲属可以申请。"
	}
	if sub, ok := apps.Subject(in.SubjectCategory); ok {
		return sub.ReasonZH
	}
	return "仅老年人、未成年人、智力障碍者走失可申请。"
}

func (s *Service) validateInput(in *ApplicationInput, now time.Time) error {
	if in.LastSeenAt.IsZero() {
		return invalid("last_seen_at", "is required (RFC 3339)")
	}
	if in.LastSeenAt.After(now.Add(5 * time.Minute)) {
		return invalid("last_seen_at", "is in the future")
	}
	if in.Lat == nil || in.Lon == nil {
		return invalid("lat", "the last-seen place needs lat and lon (pick it on the map)")
	}
	if err := registry.ValidateLatLon(*in.Lat, *in.Lon); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Description)); n == 0 {
		return invalid("description", "describe the missing person (appearance, clothing)")
	} else if n > 4000 {
		return invalid("description", "is longer than 4000 characters")
	}
	if utf8.RuneCountInString(in.Address) > 500 {
		return invalid("address", "is longer than 500 characters")
	}
	if utf8.RuneCountInString(in.RelationshipDetail) > 200 {
		return invalid("relationship_detail", "is longer than 200 characters")
	}
	return nil
}

// due is the deadline of a step started at from; zero when the pack sets none.
func (s *Service) due(from time.Time, step string, urgent bool) time.Time {
	st, ok := s.pack.Applications().Step(step)
	if !ok || from.IsZero() {
		return time.Time{}
	}
	return from.Add(st.Deadline(urgent))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Deadline is one step of an application with its due time.
type Deadline struct {
	Step    string    `json:"step"`
	Label   string    `json:"label"`
	LabelZH string    `json:"label_zh"`
	Due     time.Time `json:"due,omitzero"`
	Done    bool      `json:"done"`
	Overdue bool      `json:"overdue"`
}

// Deadlines lists the application's steps with their due times as of now.
func (s *Service) Deadlines(a *Application, now time.Time) []Deadline {
	apps := s.pack.Applications()
	out := []Deadline{}
	add := func(step string, due time.Time, done bool) {
		st, ok := apps.Step(step)
		if !ok {
			return
		}
		out = append(out, Deadline{Step: step, Label: st.Label, LabelZH: st.LabelZH, Due: due, Done: done,
			Overdue: !done && !due.IsZero() && now.After(due)})
	}
	closed := a.Status == StatusRejected || a.Status == StatusCompleted
	add(StepTriage, a.TriageDue, a.Status != StatusSubmitted)
	if a.Status == StatusRejected {
		return out
	}
	add(StepFootageReview, a.ReviewDue, closed || !a.ReviewedAt.IsZero())
	add(StepResultNotice, a.ResultDue, closed)
	return out
}

// Overdue reports whether a step of an open application has passed its deadline.
func (s *Service) Overdue(a *Application, now time.Time) bool {
	for _, d := range s.Deadlines(a, now) {
		if d.Overdue {
			return true
		}
	}
	return false
}

// Case is what the applicant said of the case, shown alike to the applicant and the police.
type Case struct {
	ID                 string    `json:"id"`
	Status             Status    `json:"status"`
	Relationship       string    `json:"relationship"`
	RelationshipDetail string    `json:"relationship_detail,omitempty"`
	SubjectCategory    string    `json:"subject_category"`
	Urgent             bool      `json:"urgent"`
	LastSeenAt         time.Time `json:"last_seen_at"`
	Lat                float64   `json:"lat"`
	Lon                float64   `json:"lon"`
	Address            string    `json:"address,omitempty"`
	Description        string    `json:"description"`
}

func caseOf(a *Application) Case {
	return Case{ID: a.ID, Status: a.Status, Relationship: a.Relationship, RelationshipDetail: a.RelationshipDetail,
		SubjectCategory: a.SubjectCategory, Urgent: a.Urgent, LastSeenAt: a.LastSeenAt, Lat: a.Lat, Lon: a.Lon,
		Address: a.Address, Description: a.Description}
}

// ApplicantView is everything an applicant is shown about its application: its own input,
// the status, deadlines and, once written, the result notice. Nothing about cameras, footage,
// reviewers or other people is in it.
type ApplicantView struct {
	Case
	SubmittedAt time.Time  `json:"submitted_at"`
	Deadlines   []Deadline `json:"deadlines"`
	Documents   []DocView  `json:"documents"`
	// RejectionReason is the police's reason, written for the applicant, when it was declined.
	RejectionReason string    `json:"rejection_reason,omitempty"`
	ResultOutcome   Outcome   `json:"result_outcome,omitempty"`
	ResultNotice    string    `json:"result_notice,omitempty"`
	ResultAt        time.Time `json:"result_at,omitzero"`
	// ResultLastSightingAt is the notice in force's time of the last sighting, if it gives one.
	ResultLastSightingAt time.Time `json:"result_last_sighting_at,omitzero"`
	// Notices are the sent notices, newest first: the one in force, then those it corrected.
	Notices []NoticeView `json:"notices"`
}

// DocView is an uploaded document as its uploader sees it.
type DocView struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Bytes       int64     `json:"bytes"`
	CreatedAt   time.Time `json:"created_at"`
}

// ForApplicant returns the applicant's view of its own application; another applicant's is
// ErrNotFound, as if it did not exist.
func (s *Service) ForApplicant(ctx context.Context, applicantID, id string) (*ApplicantView, error) {
	a, err := s.ownApplication(ctx, applicantID, id)
	if err != nil {
		return nil, err
	}
	docs, err := s.repo.Documents(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	v := s.applicantView(a, docs)
	if err := s.withNotices(ctx, a, v); err != nil {
		return nil, err
	}
	return v, nil
}

// withNotices adds the sent notices to an applicant's view of a completed application.
func (s *Service) withNotices(ctx context.Context, a *Application, v *ApplicantView) error {
	if a.Status != StatusCompleted {
		return nil
	}
	ns, err := s.repo.Notices(ctx, a.ID)
	if err != nil {
		return err
	}
	v.Notices = s.noticeViews(ns)
	if len(v.Notices) > 0 {
		v.ResultLastSightingAt = v.Notices[0].LastSightingAt
	}
	return nil
}

func (s *Service) applicantView(a *Application, docs []*Document) *ApplicantView {
	v := &ApplicantView{Case: caseOf(a), SubmittedAt: a.SubmittedAt, Deadlines: s.Deadlines(a, s.now()), Documents: []DocView{},
		Notices: []NoticeView{}}
	for _, d := range docs {
		v.Documents = append(v.Documents, DocView{ID: d.ID, Kind: d.Kind, ContentType: d.ContentType, Bytes: d.Bytes, CreatedAt: d.CreatedAt})
	}
	if a.Status == StatusRejected {
		v.RejectionReason = a.DecisionReason
	}
	if a.Status == StatusCompleted {
		v.ResultOutcome, v.ResultNotice, v.ResultAt = a.Outcome, a.Notice, a.ResultAt
	}
	return v
}

// MyApplications lists an applicant's own applications, newest first.
func (s *Service) MyApplications(ctx context.Context, applicantID string) ([]*ApplicantView, error) {
	as, err := s.repo.Applications(ctx, Filter{ApplicantID: applicantID, Limit: 200})
	if err != nil {
		return nil, err
	}
	out := make([]*ApplicantView, 0, len(as))
	for _, a := range as {
		out = append(out, s.applicantView(a, nil))
	}
	return out, nil
}

func (s *Service) ownApplication(ctx context.Context, applicantID, id string) (*Application, error) {
	if !registry.ValidID(id) {
		return nil, fmt.Errorf("application %q: %w", id, ErrNotFound)
	}
	a, err := s.repo.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.ApplicantID != applicantID || a.Status == StatusIneligible {
		return nil, fmt.Errorf("application %s: %w", id, ErrNotFound)
	}
	return a, nil
}

// Document kinds an applicant uploads.
const (
	DocIdentity     = "identity"
	DocRelationship = "relationship"
)

// ErrTooLarge is the cause of refusing an upload over Config.MaxUpload.
var ErrTooLarge = errors.New("upload too large")

// ErrLimit is the cause of refusing an application or a document past a count the policy pack
// sets (Limits).
var ErrLimit = errors.New("limit of the policy pack reached")

// ErrFileType is the cause of refusing an upload whose content is not PDF, JPEG or PNG.
var ErrFileType = errors.New("upload is not a PDF, JPEG or PNG file")

// TooLarge refuses an upload over max bytes, for a face that meets the bound before the desk.
func TooLarge(max int64) error {
	limit := fmt.Sprintf("%d bytes", max)
	if max%(1<<20) == 0 {
		limit = fmt.Sprintf("%d MiB", max>>20)
	}
	return &fault.Error{Kind: fault.TooLarge, Code: "too_large", Field: "file", Message: "a document may be at most " + limit,
		Err: fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)}
}

var uploadTypes = map[string]string{"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

// AddDocument stores an identity or relationship document for the applicant's own application,
// while the police have not decided on it. The type is judged by content, never by the client's
// name or header, and the file is stored under a name the server chooses.
func (s *Service) AddDocument(ctx context.Context, applicantID, id, kind string, r io.Reader) (*Document, error) {
	if _, ok := s.pack.Applications().Document(kind); !ok {
		var ids []string
		for _, d := range s.pack.Applications().Documents {
			ids = append(ids, d.ID)
		}
		return nil, invalid("kind", "must be one of %s", strings.Join(ids, ", "))
	}
	a, err := s.ownApplication(ctx, applicantID, id)
	if err != nil {
		return nil, err
	}
	if a.Status != StatusSubmitted {
		return nil, fmt.Errorf("add document to %s application: %w", a.Status, ErrState)
	}
	// Checked before the upload is read, so a full application costs no disk, and again before
	// the document is kept, since others may have arrived meanwhile.
	room, err := s.documentRoom(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	dir := s.UploadDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload directory: %w", err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	ctype := http.DetectContentType(head)
	ext, ok := uploadTypes[ctype]
	if !ok || n == 0 {
		return nil, &fault.Error{Kind: fault.Unsupported, Code: "unsupported_media_type", Field: "file",
			Message: "upload a PDF, JPEG or PNG file", Err: fmt.Errorf("%w (content looks like %s)", ErrFileType, ctype)}
	}
	d := &Document{ID: registry.NewID(), ApplicationID: a.ID, Kind: kind, ContentType: ctype, CreatedAt: s.now().UTC()}
	d.StoredName = d.ID + ext
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".upload-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create upload: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	h := sha256.New()
	bound := min(s.cfg.MaxUpload, room)
	written, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(io.MultiReader(bytes.NewReader(head), r), bound+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, TooLarge(s.cfg.MaxUpload)
		}
		return nil, fmt.Errorf("write upload: %w", err)
	}
	if written > s.cfg.MaxUpload {
		return nil, TooLarge(s.cfg.MaxUpload)
	}
	if written > room {
		return nil, s.applicationTooLarge(room)
	}
	d.Bytes, d.SHA256 = written, hex.EncodeToString(h.Sum(nil))
	s.limits.Lock()
	defer s.limits.Unlock()
	if room, err = s.documentRoom(ctx, a.ID); err != nil {
		return nil, err
	}
	if written > room {
		return nil, s.applicationTooLarge(room)
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionDocumentUpload, Reference: a.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s document %s to application %s: %s, %d bytes, sha256 %s", kind, d.ID, a.ID, ctype, written, d.SHA256)}); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, d.StoredName)); err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	if err := s.repo.AddDocument(ctx, d); err != nil {
		os.Remove(filepath.Join(dir, d.StoredName))
		return nil, err
	}
	return d, nil
}

// documentRoom is how many bytes an application may still take in documents, refusing a further
// document once it has the pack's limit of them or of their bytes.
func (s *Service) documentRoom(ctx context.Context, applicationID string) (int64, error) {
	lim := s.pack.Applications().Limits
	docs, err := s.repo.Documents(ctx, applicationID)
	if err != nil {
		return 0, err
	}
	if len(docs) >= lim.DocumentsPerApplication {
		return 0, &fault.Error{Kind: fault.Refused, Code: "too_many_documents", Field: "file",
			Message: fmt.Sprintf("policy %s allows %d documents per application; this one has them all", s.pack.Version(), lim.DocumentsPerApplication),
			Err:     fmt.Errorf("%w: %d documents", ErrLimit, len(docs))}
	}
	var used int64
	for _, d := range docs {
		used += d.Bytes
	}
	if used >= lim.BytesPerApplication {
		return 0, s.applicationTooLarge(0)
	}
	return lim.BytesPerApplication - used, nil
}

// applicationTooLarge refuses a document that would take an application past the pack's bytes.
func (s *Service) applicationTooLarge(room int64) error {
	lim := s.pack.Applications().Limits
	return &fault.Error{Kind: fault.TooLarge, Code: "application_too_large", Field: "file",
		Message: fmt.Sprintf("policy %s allows %d MiB of documents per application; %d bytes are left", s.pack.Version(), lim.BytesPerApplication>>20, room),
		Err:     fmt.Errorf("%w: past the application's %d bytes", ErrTooLarge, lim.BytesPerApplication)}
}

// MaxUpload is the largest document accepted, in bytes.
func (s *Service) MaxUpload() int64 { return s.cfg.MaxUpload }

// OpenDocument opens an application's uploaded document for a reviewer; the caller closes it.
func (s *Service) OpenDocument(ctx context.Context, applicationID, documentID string) (*Document, *os.File, error) {
	a, err := s.application(ctx, applicationID)
	if err != nil {
		return nil, nil, err
	}
	docs, err := s.repo.Documents(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range docs {
		if d.ID == documentID {
			// The stored name is the server's own (id + extension), so it cannot leave the directory.
			if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionDocumentRead, Reference: a.ID, Outcome: trace.Allowed,
				Reason: d.Kind + " document " + d.ID + " of application " + a.ID}); err != nil {
				return nil, nil, err
			}
			f, err := os.Open(filepath.Join(s.UploadDir(), filepath.Base(d.StoredName)))
			if err != nil {
				return nil, nil, fmt.Errorf("open document %s: %w", d.ID, err)
			}
			return d, f, nil
		}
	}
	return nil, nil, fmt.Errorf("document %q: %w", documentID, ErrNotFound)
}
