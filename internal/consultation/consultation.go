// Package consultation is public consultation on the police's procedures (REG-8): the police
// publish a draft with a deadline, anyone submits an opinion and gets a receipt code, every
// opinion gets a published answer (adopted, partly adopted or not, and why), and the final
// version cannot be published while an opinion is unanswered. The whole record — draft, opinions
// as submitted, answers, final — is public.
//
// An opinion carries no personal data: the form asks for none, and the submitter's address is
// used only to throttle and never stored. The receipt code is kept only as its SHA-256, so the
// stored record cannot be used to pose as the submitter.
package consultation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/trace"
)

// Status is where a consultation stands.
type Status string

// The statuses. A consultation is open from publication until the final version; opinions are
// taken until its deadline.
const (
	StatusOpen  Status = "open"
	StatusFinal Status = "final"
)

// Verdict is the police's answer to an opinion.
type Verdict string

// The verdicts.
const (
	Adopted    Verdict = "adopted"
	Partly     Verdict = "partly_adopted"
	NotAdopted Verdict = "not_adopted"
)

// Verdicts lists the verdicts, for forms and validation.
var Verdicts = []Verdict{Adopted, Partly, NotAdopted}

// Consultation is one draft put to the public, and its final version once published.
type Consultation struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Draft       string    `json:"draft"`
	Deadline    time.Time `json:"deadline"`
	Status      Status    `json:"status"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"-"` // the user id; staff are not named in public
	Final       string    `json:"final,omitempty"`
	FinalAt     time.Time `json:"final_at,omitzero"`
	FinalBy     string    `json:"-"`
	Opinions    int       `json:"opinions"`
	Unanswered  int       `json:"unanswered"`
}

// Opinion is one opinion as submitted, and the police's answer once given.
type Opinion struct {
	ID             string    `json:"id"`
	ConsultationID string    `json:"consultation_id"`
	Text           string    `json:"text"`
	SubmittedAt    time.Time `json:"submitted_at"`
	ReceiptHash    string    `json:"-"`
	Verdict        Verdict   `json:"verdict,omitempty"`
	Answer         string    `json:"answer,omitempty"`
	AnsweredAt     time.Time `json:"answered_at,omitzero"`
	AnsweredBy     string    `json:"-"`
}

// Record is a consultation's whole public record.
type Record struct {
	Consultation *Consultation `json:"consultation"`
	Opinions     []*Opinion    `json:"opinions"`
}

// Store keeps consultations and opinions; package store implements it. Missing rows are
// fault.ErrNotFound.
type Store interface {
	CreateConsultation(ctx context.Context, c *Consultation) error
	Consultation(ctx context.Context, id string) (*Consultation, error)
	Consultations(ctx context.Context) ([]*Consultation, error)
	CreateOpinion(ctx context.Context, o *Opinion) error
	Opinion(ctx context.Context, id string) (*Opinion, error)
	OpinionByReceipt(ctx context.Context, receiptHash string) (*Opinion, error)
	Opinions(ctx context.Context, consultationID string) ([]*Opinion, error)
	// AnswerOpinion stores the answer of an opinion not answered yet, of a consultation not
	// final; otherwise fault.ErrConflict.
	AnswerOpinion(ctx context.Context, o *Opinion) error
	// PublishFinal stores the final version of an open consultation, in one transaction with
	// the check that none of its opinions is unanswered; otherwise a *fault.Error of kind
	// Conflict with code CodeUnanswered (or fault.ErrConflict when no longer open).
	PublishFinal(ctx context.Context, c *Consultation) error
}

// Error codes a face may translate.
const (
	CodeUnanswered = "opinions_unanswered" // the final version waits for every answer
	CodeClosed     = "consultation_closed" // the deadline has passed, or the final is published
	CodeStillOpen  = "consultation_open"   // the final version waits for the deadline
	CodeAnswered   = "opinion_answered"    // an answer is published once
)

// Config bounds what the public may send.
type Config struct {
	// MaxOpinionBytes bounds one opinion's text; 0 means 8 KiB.
	MaxOpinionBytes int
	// OpinionsPerAddress and Window: at most this many opinions from one address per window;
	// 0 means 5 per hour.
	OpinionsPerAddress int
	Window             time.Duration
	// MaxDraftBytes bounds a draft or final text; 0 means 256 KiB.
	MaxDraftBytes int
}

func (c Config) withDefaults() Config {
	if c.MaxOpinionBytes <= 0 {
		c.MaxOpinionBytes = 8 << 10
	}
	if c.OpinionsPerAddress <= 0 {
		c.OpinionsPerAddress = 5
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
	if c.MaxDraftBytes <= 0 {
		c.MaxDraftBytes = 256 << 10
	}
	return c
}

// Deps are the service's collaborators.
type Deps struct {
	Store  Store
	Tracer trace.Tracer
	Now    func() time.Time // defaults to time.Now
	Logger *slog.Logger
}

// Service runs consultations.
type Service struct {
	cfg    Config
	store  Store
	tracer trace.Tracer
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	attempts map[string][]time.Time // by address: submissions within the window
}

// New builds a Service.
func New(cfg Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg.withDefaults(), store: d.Store, tracer: d.Tracer, now: d.Now, log: d.Logger,
		attempts: map[string][]time.Time{}}
}

// DraftInput is what the police publish.
type DraftInput struct {
	Title    string    `json:"title"`
	Draft    string    `json:"draft"`
	Deadline time.Time `json:"deadline"`
}

// Publish puts a draft to the public until its deadline.
func (s *Service) Publish(ctx context.Context, in DraftInput) (*Consultation, error) {
	now := s.now().UTC()
	title, draft := strings.TrimSpace(in.Title), strings.TrimSpace(in.Draft)
	switch {
	case title == "":
		return nil, fault.InvalidField("title", "is required")
	case len(title) > 200 || !utf8.ValidString(title):
		return nil, fault.InvalidField("title", "must be valid text of at most 200 bytes")
	case draft == "":
		return nil, fault.InvalidField("draft", "is required")
	case len(draft) > s.cfg.MaxDraftBytes || !utf8.ValidString(draft):
		return nil, fault.InvalidField("draft", "must be valid text of at most %d bytes", s.cfg.MaxDraftBytes)
	case !in.Deadline.After(now):
		return nil, fault.InvalidField("deadline", "must be in the future")
	}
	c := &Consultation{ID: newID(), Title: title, Draft: draft, Deadline: in.Deadline.UTC(), Status: StatusOpen,
		PublishedAt: now, PublishedBy: userID(ctx)}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConsultationPublish, Reference: c.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%q, opinions until %s", title, c.Deadline.Format(time.RFC3339))}); err != nil {
		return nil, err
	}
	if err := s.store.CreateConsultation(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Consultations lists every consultation, newest first; all of them are public.
func (s *Service) Consultations(ctx context.Context) ([]*Consultation, error) {
	return s.store.Consultations(ctx)
}

// Record is a consultation's public record: the draft, every opinion as submitted, every answer,
// and the final version once published.
func (s *Service) Record(ctx context.Context, id string) (*Record, error) {
	if !validID(id) {
		return nil, fault.ErrNotFound
	}
	c, err := s.store.Consultation(ctx, id)
	if err != nil {
		return nil, err
	}
	ops, err := s.store.Opinions(ctx, id)
	if err != nil {
		return nil, err
	}
	if ops == nil {
		ops = []*Opinion{}
	}
	return &Record{Consultation: c, Opinions: ops}, nil
}

// Receipt is what a submitter keeps: the code that finds the opinion and its answer again.
type Receipt struct {
	Code    string   `json:"receipt"`
	Opinion *Opinion `json:"opinion"`
}

// Submit takes an opinion from anyone. addr is the submitter's network address, used only for
// the throttle and never stored.
func (s *Service) Submit(ctx context.Context, addr, consultationID, text string) (*Receipt, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return nil, fault.InvalidField("text", "is required")
	case len(text) > s.cfg.MaxOpinionBytes:
		return nil, &fault.Error{Kind: fault.TooLarge, Code: "too_large", Field: "text",
			Message: fmt.Sprintf("an opinion is at most %d bytes", s.cfg.MaxOpinionBytes)}
	case !utf8.ValidString(text) || strings.ContainsFunc(text, forbiddenRune):
		return nil, fault.InvalidField("text", "must be plain text")
	}
	if !validID(consultationID) {
		return nil, fault.ErrNotFound
	}
	c, err := s.store.Consultation(ctx, consultationID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if c.Status != StatusOpen || now.After(c.Deadline) {
		return nil, &fault.Error{Kind: fault.Conflict, Code: CodeClosed, Message: "this consultation no longer takes opinions"}
	}
	if wait := s.throttle(addr, now); wait > 0 {
		return nil, &fault.Error{Kind: fault.Throttled, Code: "too_many_requests", RetryAfter: wait,
			Message: "too many opinions from this address; try again later"}
	}
	code := newReceipt()
	o := &Opinion{ID: newID(), ConsultationID: c.ID, Text: text, SubmittedAt: now, ReceiptHash: HashReceipt(code)}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConsultationOpinion, Reference: c.ID + "/" + o.ID,
		Outcome: trace.Allowed, Reason: fmt.Sprintf("%d bytes", len(text))}); err != nil {
		return nil, err
	}
	if err := s.store.CreateOpinion(ctx, o); err != nil {
		return nil, err
	}
	return &Receipt{Code: code, Opinion: o}, nil
}

// ByReceipt finds an opinion, and its answer, by the receipt code its submitter was given.
func (s *Service) ByReceipt(ctx context.Context, code string) (*Opinion, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != receiptLen {
		return nil, fault.ErrNotFound
	}
	return s.store.OpinionByReceipt(ctx, HashReceipt(code))
}

// AnswerInput is the police's answer to one opinion.
type AnswerInput struct {
	Verdict Verdict `json:"verdict"`
	Answer  string  `json:"answer"`
}

// Answer publishes the answer to an opinion: the verdict and why. It is given once.
func (s *Service) Answer(ctx context.Context, consultationID, opinionID string, in AnswerInput) (*Opinion, error) {
	answer := strings.TrimSpace(in.Answer)
	switch {
	case in.Verdict != Adopted && in.Verdict != Partly && in.Verdict != NotAdopted:
		return nil, fault.InvalidField("verdict", "must be adopted, partly_adopted or not_adopted")
	case answer == "":
		return nil, fault.InvalidField("answer", "is required: say why")
	case len(answer) > s.cfg.MaxOpinionBytes || !utf8.ValidString(answer):
		return nil, fault.InvalidField("answer", "must be valid text of at most %d bytes", s.cfg.MaxOpinionBytes)
	}
	if !validID(opinionID) || !validID(consultationID) {
		return nil, fault.ErrNotFound
	}
	o, err := s.store.Opinion(ctx, opinionID)
	if err != nil {
		return nil, err
	}
	if o.ConsultationID != consultationID {
		return nil, fmt.Errorf("opinion %s of consultation %s: %w", opinionID, consultationID, fault.ErrNotFound)
	}
	if o.Verdict != "" {
		err := &fault.Error{Kind: fault.Conflict, Code: CodeAnswered, Message: "this opinion is already answered"}
		s.refused(ctx, trace.ActionConsultationAnswer, o.ConsultationID+"/"+o.ID, err)
		return nil, err
	}
	o.Verdict, o.Answer, o.AnsweredAt, o.AnsweredBy = in.Verdict, answer, s.now().UTC(), userID(ctx)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConsultationAnswer, Reference: o.ConsultationID + "/" + o.ID,
		Outcome: trace.Allowed, Reason: string(in.Verdict)}); err != nil {
		return nil, err
	}
	if err := s.store.AnswerOpinion(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// FinalInput is the final version of a consulted text.
type FinalInput struct {
	Final string `json:"final"`
}

// PublishFinal publishes the final version, once the deadline has passed and every opinion is
// answered.
func (s *Service) PublishFinal(ctx context.Context, id string, in FinalInput) (*Consultation, error) {
	final := strings.TrimSpace(in.Final)
	switch {
	case final == "":
		return nil, fault.InvalidField("final", "is required")
	case len(final) > s.cfg.MaxDraftBytes || !utf8.ValidString(final):
		return nil, fault.InvalidField("final", "must be valid text of at most %d bytes", s.cfg.MaxDraftBytes)
	}
	if !validID(id) {
		return nil, fault.ErrNotFound
	}
	c, err := s.store.Consultation(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var refusal error
	switch {
	case c.Status != StatusOpen:
		refusal = &fault.Error{Kind: fault.Conflict, Code: CodeClosed, Message: "the final version is already published"}
	case !now.After(c.Deadline):
		refusal = &fault.Error{Kind: fault.Conflict, Code: CodeStillOpen, Message: "the consultation takes opinions until its deadline"}
	case c.Unanswered > 0:
		refusal = unanswered(c.Unanswered)
	}
	if refusal != nil {
		s.refused(ctx, trace.ActionConsultationFinal, c.ID, refusal)
		return nil, refusal
	}
	c.Status, c.Final, c.FinalAt, c.FinalBy = StatusFinal, final, now, userID(ctx)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConsultationFinal, Reference: c.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%d opinions answered", c.Opinions)}); err != nil {
		return nil, err
	}
	if err := s.store.PublishFinal(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// refused traces a refusal by the rules of consultation, so the trail shows an attempt to
// publish a final too early, or to rewrite an answer, and not only what succeeded.
func (s *Service) refused(ctx context.Context, action trace.Action, ref string, err error) {
	if terr := s.tracer.Record(ctx, trace.Record{Action: action, Reference: ref, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
		s.log.Error("trace consultation refusal", "action", action, "err", terr)
	}
}

// Unanswered is the refusal of a final version while n opinions wait for their answer.
func unanswered(n int) error {
	return &fault.Error{Kind: fault.Conflict, Code: CodeUnanswered,
		Message: fmt.Sprintf("%d opinions are not answered yet; every opinion gets an answer before the final version", n)}
}

// Unanswered is the error PublishFinal's store returns when it finds n opinions unanswered.
func Unanswered(n int) error { return unanswered(n) }

// throttle counts a submission from addr and says how long to wait when it is one too many.
func (s *Service) throttle(addr string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := now.Add(-s.cfg.Window)
	// Forget addresses whose window has passed, so the map is bounded by the window's traffic.
	if len(s.attempts) > 4096 {
		for a, ts := range s.attempts {
			if len(ts) == 0 || !ts[len(ts)-1].After(from) {
				delete(s.attempts, a)
			}
		}
	}
	ts := s.attempts[addr]
	for len(ts) > 0 && !ts[0].After(from) {
		ts = ts[1:]
	}
	if len(ts) >= s.cfg.OpinionsPerAddress {
		s.attempts[addr] = ts
		return ts[0].Add(s.cfg.Window).Sub(now)
	}
	s.attempts[addr] = append(ts, now)
	return 0
}

// forbiddenRune refuses control characters other than line breaks and tabs, which could hide
// text from a reader of the published record.
func forbiddenRune(r rune) bool {
	return (r < ' ' && r != '\n' && r != '\r' && r != '\t') || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

func userID(ctx context.Context) string {
	if u := auth.UserFrom(ctx); u != nil {
		return u.ID
	}
	return ""
}

const receiptLen = 16

// newReceipt is 80 random bits in base32 (no padding, no lookalike lower case).
func newReceipt() string {
	b := make([]byte, 10)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// HashReceipt is what the store keeps of a receipt code.
func HashReceipt(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
