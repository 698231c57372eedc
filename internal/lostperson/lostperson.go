// Package lostperson handles lost-person applications (REG-6): the published conditions and
// procedure, applicant accounts with a verified contact, applications checked against the policy
// pack, police triage with deadlines from the pack, candidate cameras near the last-seen place,
// footage access bound to one application, the result notice (JSON and PDF), a notification
// outbox, and the public monthly statistics (REG-8).
//
// The applicant learns the status and the result notice, in words. Camera ids, footage, reviewer
// notes and reviewer identity stay on the police side: ApplicantView is the only shape that
// leaves this package for an applicant.
package lostperson

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Status is where an application stands.
type Status string

const (
	// StatusIneligible is an application the policy refused at once. Only what the statistics
	// need is kept of it: no description, no place.
	StatusIneligible Status = "ineligible"
	StatusSubmitted  Status = "submitted" // waiting for police triage
	StatusAccepted   Status = "accepted"  // the police are reviewing footage
	StatusRejected   Status = "rejected"  // the police declined it, with a reason for the applicant
	StatusCompleted  Status = "completed" // the result notice is written
)

// Outcome is what the police found, as the result notice states it.
type Outcome string

const (
	OutcomeFound             Outcome = "found"
	OutcomeSighted           Outcome = "sighted"
	OutcomeNoRelevantFootage Outcome = "no_relevant_footage"
)

func (o Outcome) valid() bool {
	return o == OutcomeFound || o == OutcomeSighted || o == OutcomeNoRelevantFootage
}

// The steps of the pack this package gives deadlines to.
const (
	StepTriage        = "triage"
	StepFootageReview = "footage_review"
	StepResultNotice  = "result_notice"
)

// Application is one lost-person application as stored.
type Application struct {
	ID                 string
	ApplicantID        string
	Status             Status
	Relationship       string
	RelationshipDetail string
	SubjectCategory    string
	Urgent             bool
	LastSeenAt         time.Time
	Lat, Lon           float64
	Address            string
	Description        string
	RefusalCode        string // for StatusIneligible: the policy's decision code
	RefusalReason      string
	PolicyVersion      string
	SubmittedAt        time.Time
	TriageDue          time.Time
	ReviewDue          time.Time
	ResultDue          time.Time
	DecidedAt          time.Time
	DecidedBy          string // reviewer user id; never shown to the applicant
	DecisionReason     string
	ReviewedAt         time.Time // first finding recorded: the footage review step is done
	Outcome            Outcome
	Notice             string
	ResultAt           time.Time
	ResultBy           string
	UpdatedAt          time.Time
}

// Document is an uploaded identity or relationship document.
type Document struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"-"`
	Kind          string    `json:"kind"` // "identity" or "relationship"
	ContentType   string    `json:"content_type"`
	Bytes         int64     `json:"bytes"`
	SHA256        string    `json:"sha256"`
	StoredName    string    `json:"-"` // the server-chosen file name under DATA/uploads
	CreatedAt     time.Time `json:"created_at"`
}

// Finding is a reviewer's internal note on an application.
type Finding struct {
	ID            string    `json:"id"`
	ApplicationID string    `json:"-"`
	AuthorID      string    `json:"author_id"`
	Body          string    `json:"body"`
	CreatedAt     time.Time `json:"created_at"`
}

// FootageGrant lets one reviewer see one camera's footage within a window, for one application.
type FootageGrant struct {
	ApplicationID string
	ReviewerID    string
	CameraID      string
	From, To      time.Time
	CreatedAt     time.Time
}

// Filter narrows a list of applications.
type Filter struct {
	ApplicantID string   // only this applicant's
	Statuses    []Status // any of these; empty means all but StatusIneligible
	Limit       int
}

// ErrNotFound marks an application (or registration) that does not exist or that the caller
// may not see; it is fault.ErrNotFound, which the store's not-found errors are.
var ErrNotFound = fault.ErrNotFound

// ErrState refuses a step the application's status does not allow (deciding twice, writing a
// result before acceptance).
var ErrState error = &fault.Error{Kind: fault.Conflict, Code: "invalid_state", Message: "not allowed in the application's current status"}

// ErrFootageDenied refuses footage outside what an application's grant covers.
var ErrFootageDenied = errors.New("footage not covered by the application")

// ErrCode is the cause of every refusal of a verification code (wrong, expired, exhausted).
var ErrCode = errors.New("verification code rejected")

// codeRefused refuses a code, saying why in words the applicant may read.
func codeRefused(msg string) error {
	return &fault.Error{Kind: fault.Invalid, Code: "invalid_code", Field: "code", Message: msg, Err: ErrCode}
}

// ErrTooMany is the cause of refusing a registration when a contact has asked for too many
// codes lately.
var ErrTooMany = errors.New("too many requests")

// IneligibleError is a refusal by the policy pack, with where else the applicant can turn.
type IneligibleError struct {
	ApplicationID string // the refusal's record, kept for the statistics
	Decisions     []policy.Decision
	ReferTo       string
	ReferToZH     string
	ReasonZH      string
}

func (e *IneligibleError) Error() string {
	d := e.Decisions[0]
	return fmt.Sprintf("%s (rule %s, policy %s): %s", d.Code, d.Rule, d.PolicyVersion, d.Reason)
}

// Cameras finds cameras near a point, and one camera; *registry.Service is one.
type Cameras interface {
	Near(ctx context.Context, scope registry.Scope, lat, lon, radiusM float64, limit int) ([]*registry.Camera, []float64, error)
	Camera(ctx context.Context, scope registry.Scope, id string) (*registry.Camera, error)
}

// Sharing says what an owner's grants offer another organisation of a camera, without a look;
// *sharing.Service is one. The candidate search marks each camera with it.
type Sharing interface {
	Offered(ctx context.Context, u *auth.User, cam *registry.Camera, use access.Use) (sharing.Basis, error)
}

// Recorder reports the segment each camera is being recorded into, which the index does not
// hold until it is sealed; *recorder.Recorder is one.
type Recorder = recorder.StatusReader

// Recordings reports the recorded stretches of cameras within [from, to): for each camera with
// any, its ranges in time order, clipped to the window. *store.DB is one.
type Recordings interface {
	RecordedRanges(ctx context.Context, cameraIDs []string, from, to time.Time) (map[string][]timespan.Range, error)
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// DataDir is the server's data directory; uploads go to DataDir/uploads.
	DataDir string
	// SearchRadiusM is how far from the last-seen place candidate cameras are sought (2 km).
	SearchRadiusM float64
	// Lookback is how long before the last-seen time the footage window opens (1 h).
	Lookback time.Duration
	// MaxWindow caps the footage window's length (72 h).
	MaxWindow time.Duration
	// MaxCandidates bounds the cameras proposed (100).
	MaxCandidates int
	// MaxUpload bounds one uploaded document (5 MiB).
	MaxUpload int64
	// CodeTTL is how long a verification code lives (15 min).
	CodeTTL time.Duration
	// CodeAttempts is how many wrong codes end a registration (5).
	CodeAttempts int
	// CodesPerHour bounds the codes one contact may be sent in an hour (3).
	CodesPerHour int
	// RegistrationsPerAddress registrations from one client address within RegistrationWindow
	// (10 within 1 h) lock it for a minute, then for twice as long after each further one, up
	// to 15 minutes (auth.Throttle).
	RegistrationsPerAddress int
	RegistrationWindow      time.Duration
	// ReferTo tells a refused applicant where else to turn.
	ReferTo   string
	ReferToZH string
	// NoticeFont is a TrueType (.ttf) font with CJK glyphs for the PDF notice; without one,
	// characters outside Latin-1 are replaced (see RenderNoticePDF).
	NoticeFont string
	// RequireNoticeFont makes a notice PDF without NoticeFont an error (ErrNoNoticeFont) rather
	// than a Latin-only PDF: the server sets it, since the guardian reads Chinese.
	RequireNoticeFont bool
}

func (c *Config) defaults() {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.SearchRadiusM <= 0 {
		c.SearchRadiusM = 2000
	}
	def(&c.Lookback, time.Hour)
	def(&c.MaxWindow, 72*time.Hour)
	def(&c.CodeTTL, 15*time.Minute)
	def(&c.RegistrationWindow, time.Hour)
	if c.RegistrationsPerAddress <= 0 {
		c.RegistrationsPerAddress = 10
	}
	if c.MaxCandidates <= 0 {
		c.MaxCandidates = 100
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = 5 << 20
	}
	if c.CodeAttempts <= 0 {
		c.CodeAttempts = 5
	}
	if c.CodesPerHour <= 0 {
		c.CodesPerHour = 3
	}
	if c.ReferTo == "" {
		c.ReferTo = "report to the police (110)"
	}
	if c.ReferToZH == "" {
		c.ReferToZH = "请向公安机关报警（110）"
	}
}

// Deps are what a Service is built from.
type Deps struct {
	Repo       Repo
	Recordings Recordings
	Cameras    Cameras
	// Sharing and Recorder are optional: without Sharing no private camera is shared with the
	// police by a grant; without Recorder only sealed segments count.
	Sharing  Sharing
	Recorder Recorder
	Pack     *policy.Pack
	Tracer   trace.Tracer
	// Hasher is the process's one bound on password hashing (registrations hash the password).
	Hasher  *auth.Hasher
	Metrics prometheus.Registerer // optional
	Logger  *slog.Logger
	Now     func() time.Time
}

// Service is the lost-person application desk.
type Service struct {
	cfg    Config
	repo   Repo
	recs   Recordings
	cams   Cameras
	shares Sharing
	live   Recorder
	pack   *policy.Pack
	tracer trace.Tracer
	hasher *auth.Hasher
	// registrations throttles self-registration per client address.
	registrations *auth.Throttle
	// limits makes counting against the pack's Limits and the write one step, in this process.
	limits  sync.Mutex
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	// noticeFont is Config.NoticeFont's content, read once at start.
	noticeFont []byte
}

// New builds a Service.
func New(cfg Config, d Deps) (*Service, error) {
	cfg.defaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Repo == nil || d.Pack == nil || d.Tracer == nil || d.Hasher == nil {
		return nil, errors.New("lostperson: Repo, Pack, Tracer and Hasher are required")
	}
	s := &Service{cfg: cfg, repo: d.Repo, recs: d.Recordings, cams: d.Cameras, shares: d.Sharing, live: d.Recorder, pack: d.Pack, tracer: d.Tracer,
		hasher: d.Hasher, log: d.Logger, now: d.Now,
		registrations: auth.NewThrottle(auth.ThrottleConfig{IPFailures: cfg.RegistrationsPerAddress, Window: cfg.RegistrationWindow}, d.Now)}
	if cfg.NoticeFont != "" {
		b, err := os.ReadFile(cfg.NoticeFont)
		if err != nil {
			return nil, fmt.Errorf("notice font: %w", err)
		}
		if err := RenderNoticePDF(io.Discard, &ApplicantView{ResultNotice: "字"}, b); err != nil {
			return nil, fmt.Errorf("notice font %s cannot be embedded (a .ttf is needed): %w", cfg.NoticeFont, err)
		}
		s.noticeFont = b
	}
	m, err := newMetrics(d.Metrics, s)
	if err != nil {
		return nil, fmt.Errorf("request metrics: %w", err)
	}
	s.metrics = m
	return s, nil
}

// UploadDir is where uploaded documents are kept: under the data directory, never the web root.
func (s *Service) UploadDir() string { return filepath.Join(s.cfg.DataDir, "uploads") }

func invalid(field, format string, args ...any) error {
	return &registry.InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// actorID is the id of the user acting in ctx.
func actorID(ctx context.Context) string {
	a, _ := auth.ActorFrom(ctx)
	return a.UserID
}
