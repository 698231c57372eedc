package inspection

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Status is where a public report stands: received → triaged → visited → closed.
type Status string

// Report statuses.
const (
	StatusReceived Status = "received"
	StatusTriaged  Status = "triaged"
	StatusVisited  Status = "visited"
	StatusClosed   Status = "closed"
)

// Outcomes of a closed report, as the reporter reads them.
const (
	OutcomeRemoved      = "device_found_removed" // a device was found and removed
	OutcomeNotFound     = "no_device_found"
	OutcomeReferred     = "referred_to_case" // handled as a criminal or administrative case
	OutcomeNotActionale = "not_actionable"   // not a camera in a private space, or no place to visit
)

var outcomes = []string{OutcomeRemoved, OutcomeNotFound, OutcomeReferred, OutcomeNotActionale}

// next is the order of statuses; a report moves forward only.
var next = map[Status][]Status{
	StatusReceived: {StatusTriaged, StatusClosed},
	StatusTriaged:  {StatusVisited, StatusClosed},
	StatusVisited:  {StatusClosed},
}

// Report is a public report of a suspected illegal camera, as the police see it.
type Report struct {
	ID          string    `json:"id"`
	Place       string    `json:"place"`
	Description string    `json:"description"`
	PhotoID     string    `json:"photo_id,omitempty"`
	Status      Status    `json:"status"`
	Outcome     string    `json:"outcome,omitempty"`
	PublicNote  string    `json:"public_note,omitempty"` // what the reporter reads
	PoliceNote  string    `json:"police_note,omitempty"` // the police's own, never shown to the reporter
	HandledBy   string    `json:"handled_by,omitempty"`  // the last officer's user id
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// ReceiptHash is the SHA-256 of the receipt code; the code itself is never stored.
	ReceiptHash string `json:"-"`
}

// PublicView is all a reporter reads by the receipt: where the report stands and the outcome in
// the police's words for the public — no officer, no establishment's staff or guests.
type PublicView struct {
	Status     Status    `json:"status"`
	Outcome    string    `json:"outcome,omitempty"`
	PublicNote string    `json:"public_note,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Receipt is what the reporter keeps after submitting.
type Receipt struct {
	Code       string    `json:"receipt"`
	Status     Status    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
	// ReportID is for the server's own use (tests, logs); the reporter holds only the code.
	ReportID string `json:"-"`
}

// Counts are the public portal's figures.
type Counts struct {
	Total     int            `json:"total"`
	ByStatus  map[string]int `json:"by_status"`
	ByOutcome map[string]int `json:"by_outcome"`
}

// ReportInput is the public form.
type ReportInput struct {
	Place       string `json:"place"`
	Description string `json:"description"`
}

// ReportChange is the police's handling step.
type ReportChange struct {
	Status     Status `json:"status"`
	Outcome    string `json:"outcome"`
	PublicNote string `json:"public_note"`
	PoliceNote string `json:"police_note"`
}

// ReportRepo is the storage of public reports.
type ReportRepo interface {
	// CreateCameraReport stores a report, and its photo when given, in one transaction.
	CreateCameraReport(ctx context.Context, r *Report, p *StoredPhoto) error
	CameraReport(ctx context.Context, id string) (*Report, error)
	CameraReportByReceipt(ctx context.Context, receiptHash string) (*Report, error)
	// CameraReports lists reports, oldest first, of a status ("" any).
	CameraReports(ctx context.Context, status Status, limit int) ([]*Report, error)
	// UpdateCameraReport writes a report if it still has status from (else fault.ErrConflict).
	UpdateCameraReport(ctx context.Context, r *Report, from Status) error
	CameraReportCounts(ctx context.Context) (Counts, error)
}

// police may handle reports: the public security organ.
func police(u *auth.User) bool { return u.Role == auth.RoleAdmin || u.Role == auth.RoleReviewer }

// readsReports: the police, and auditors who verify their handling.
func readsReports(u *auth.User) bool { return police(u) || u.Role == auth.RoleAuditor }

var receiptEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newReceipt is 100 random bits, grouped for reading aloud: guessing one is hopeless.
func newReceipt() string {
	b := make([]byte, 13)
	rand.Read(b)
	c := receiptEncoding.EncodeToString(b)[:20]
	return c[:5] + "-" + c[5:10] + "-" + c[10:15] + "-" + c[15:]
}

func receiptHash(code string) string {
	code = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("civicam camera report receipt\x00" + code))
	return hex.EncodeToString(sum[:])
}

// SubmitReport takes a public report from anyone, throttled per client address.
func (s *Service) SubmitReport(ctx context.Context, in ReportInput, photoData []byte) (*Receipt, error) {
	actor, _ := auth.ActorFrom(ctx)
	if ok, wait := s.reports.Take(actor.ClientAddr); !ok {
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReport, Outcome: trace.Denied,
			Reason: "too many reports from this address"}); err != nil {
			return nil, err
		}
		return nil, &fault.Error{Kind: fault.Throttled, Code: "too_many_requests", RetryAfter: wait, Traced: true,
			Message: "too many reports from your address; try again later"}
	}
	now := s.now().UTC()
	r := &Report{ID: registry.NewID(), Status: StatusReceived, CreatedAt: now, UpdatedAt: now}
	var err error
	if r.Place, err = text("place", in.Place, maxShortText, true); err != nil {
		return nil, err
	}
	if r.Description, err = text("description", in.Description, maxLongText, true); err != nil {
		return nil, err
	}
	var ph *StoredPhoto
	if len(photoData) > 0 {
		if ph, err = s.sanitize(photoData); err != nil {
			return nil, err
		}
		r.PhotoID = ph.ID
	}
	code := newReceipt()
	r.ReceiptHash = receiptHash(code)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReport, Outcome: trace.Allowed, Reference: r.ID}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateCameraReport(ctx, r, ph); err != nil {
		return nil, err
	}
	return &Receipt{Code: code, Status: r.Status, ReceivedAt: now, ReportID: r.ID}, nil
}

// ReportStatus is what the holder of a receipt reads; traced as a look at the report.
func (s *Service) ReportStatus(ctx context.Context, receipt string) (*PublicView, error) {
	if len(receipt) > 64 {
		return nil, fmt.Errorf("receipt: %w", fault.ErrNotFound)
	}
	r, err := s.repo.CameraReportByReceipt(ctx, receiptHash(receipt))
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReportRead, Outcome: trace.Allowed, Reference: r.ID,
		Reason: "by its receipt"}); err != nil {
		return nil, err
	}
	return &PublicView{Status: r.Status, Outcome: r.Outcome, PublicNote: r.PublicNote, ReceivedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// ReportCounts are the public portal's figures; they name nothing and are not traced.
func (s *Service) ReportCounts(ctx context.Context) (Counts, error) {
	return s.repo.CameraReportCounts(ctx)
}

// Reports lists the reports for the police, traced as a look at them.
func (s *Service) Reports(ctx context.Context, u *auth.User, status Status, limit int) ([]*Report, error) {
	if !readsReports(u) {
		return nil, fault.ErrForbidden
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReportRead, Outcome: trace.Allowed,
		Reason: "list " + string(status)}); err != nil {
		return nil, err
	}
	rs, err := s.repo.CameraReports(ctx, status, limit)
	if rs == nil && err == nil {
		rs = []*Report{}
	}
	return rs, err
}

// Report is one report for the police, traced.
func (s *Service) Report(ctx context.Context, u *auth.User, id string) (*Report, error) {
	if !readsReports(u) {
		return nil, fault.ErrForbidden
	}
	r, err := s.repo.CameraReport(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReportRead, Outcome: trace.Allowed, Reference: id}); err != nil {
		return nil, err
	}
	return r, nil
}

// ReportPhoto is a report's photo for the police, traced.
func (s *Service) ReportPhoto(ctx context.Context, u *auth.User, id string) (*StoredPhoto, error) {
	if !readsReports(u) {
		return nil, fault.ErrForbidden
	}
	r, err := s.repo.CameraReport(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.PhotoID == "" {
		return nil, fmt.Errorf("photo of report %s: %w", id, fault.ErrNotFound)
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReportPhoto, Outcome: trace.Allowed, Reference: id}); err != nil {
		return nil, err
	}
	return s.repo.Photo(ctx, r.PhotoID)
}

// HandleReport moves a report on: triaged, visited, or closed with an outcome.
func (s *Service) HandleReport(ctx context.Context, u *auth.User, id string, c ReportChange) (*Report, error) {
	if !police(u) {
		return nil, fault.ErrForbidden
	}
	r, err := s.repo.CameraReport(ctx, id)
	if err != nil {
		return nil, err
	}
	from := r.Status
	ok := false
	for _, n := range next[from] {
		ok = ok || n == c.Status
	}
	if !ok {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "invalid_state", Field: "status",
			Message: fmt.Sprintf("a %s report cannot become %q", from, c.Status)}
	}
	if c.Status == StatusClosed {
		found := false
		for _, o := range outcomes {
			found = found || o == c.Outcome
		}
		if !found {
			return nil, fault.InvalidField("outcome", "must be one of %s", strings.Join(outcomes, ", "))
		}
	} else if c.Outcome != "" {
		return nil, fault.InvalidField("outcome", "is given only when the report is closed")
	}
	pub, err := text("public_note", c.PublicNote, maxLongText, false)
	if err != nil {
		return nil, err
	}
	note, err := text("police_note", c.PoliceNote, maxLongText, false)
	if err != nil {
		return nil, err
	}
	r.Status, r.Outcome, r.HandledBy, r.UpdatedAt = c.Status, c.Outcome, u.ID, s.now().UTC()
	if pub != "" {
		r.PublicNote = pub
	}
	if note != "" {
		r.PoliceNote = note
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraReportState, Outcome: trace.Allowed, Reference: id,
		Reason: string(from) + " → " + string(c.Status) + " " + c.Outcome}); err != nil {
		return nil, err
	}
	if err := s.repo.UpdateCameraReport(ctx, r, from); err != nil {
		return nil, err
	}
	return r, nil
}
