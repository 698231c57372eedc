// Package inspection is REG-2's duty of care for private spaces: establishments that hold hotel
// rooms, dormitories, baths or fitting rooms keep a plan of room groups, check each for hidden
// cameras within the policy pack's interval and record what they found (with a photo when they
// found something); overdue groups are findings the public security organ sees for every
// establishment. The public reports suspected illegal cameras anonymously, gets a receipt code
// and follows the police's handling by it (reports.go).
//
// The workflow is the services' one: validate, policy, trace, write. Every change and every look
// at a record, a report or a photo is traced before it is served.
package inspection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/photo"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Results of an inspection.
const (
	ResultClear = "clear" // nothing found
	ResultFound = "found" // a suspected device was found: a photo is required
)

// Plan is an establishment's inspection plan: the room groups it checks (e.g. "floor 2 guest
// rooms", "women's changing room"), each within the pack's interval.
type Plan struct {
	OrganisationID string    `json:"organisation_id"`
	RoomGroups     []string  `json:"room_groups"`
	IntervalDays   int       `json:"interval_days"` // the pack's, as of the answer
	UpdatedBy      string    `json:"updated_by"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Record is one inspection of one room group.
type Record struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"organisation_id"`
	RoomGroup      string    `json:"room_group"`
	InspectedOn    time.Time `json:"inspected_on"` // a date, UTC midnight
	Inspector      string    `json:"inspector"`    // who checked the rooms, as the establishment names them
	Result         string    `json:"result"`
	Notes          string    `json:"notes"`
	PhotoID        string    `json:"photo_id,omitempty"`
	RecordedBy     string    `json:"recorded_by"` // the user who entered it
	CreatedAt      time.Time `json:"created_at"`
}

// RecordInput is what an establishment submits for one inspection.
type RecordInput struct {
	OrganisationID string `json:"organisation_id"`
	RoomGroup      string `json:"room_group"`
	InspectedOn    string `json:"inspected_on"` // YYYY-MM-DD
	Inspector      string `json:"inspector"`
	Result         string `json:"result"`
	Notes          string `json:"notes"`
}

// Overdue is one finding: a room group of an establishment not checked in time, or (RoomGroup
// empty) an establishment that must keep a plan and has none.
type Overdue struct {
	OrganisationID   string         `json:"organisation_id"`
	OrganisationName string         `json:"organisation_name"`
	RoomGroup        string         `json:"room_group,omitempty"`
	LastInspectedOn  time.Time      `json:"last_inspected_on,omitzero"`
	Finding          policy.Finding `json:"finding"`
}

// LastInspection is when a room group was last inspected.
type LastInspection struct {
	OrganisationID, RoomGroup string
	On                        time.Time
}

// StoredPhoto is a sanitised photo as kept.
type StoredPhoto struct {
	ID          string
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// Repo is the storage the service needs; *store.DB implements it. Missing rows are
// fault.ErrNotFound.
type Repo interface {
	PutInspectionPlan(ctx context.Context, p *Plan) error
	InspectionPlan(ctx context.Context, organisationID string) (*Plan, error)
	InspectionPlans(ctx context.Context) ([]*Plan, error)
	// AddInspectionRecord stores a record, and its photo when given, in one transaction.
	AddInspectionRecord(ctx context.Context, r *Record, p *StoredPhoto) error
	InspectionRecord(ctx context.Context, id string) (*Record, error)
	// InspectionRecords lists an organisation's records, newest first ("" for every one's).
	InspectionRecords(ctx context.Context, organisationID string, limit int) ([]*Record, error)
	LastInspections(ctx context.Context) ([]LastInspection, error)
	Photo(ctx context.Context, id string) (*StoredPhoto, error)

	ReportRepo
}

// Organisations are the registry's organisations.
type Organisations interface {
	Organisation(ctx context.Context, id string) (*registry.Organisation, error)
	Organisations(ctx context.Context) ([]*registry.Organisation, error)
}

// Config bounds the public form.
type Config struct {
	// ReportsPerAddress reports from one client address within ReportWindow (config
	// camera_reports; zero: 5 within 1 h) lock it for a minute, then twice as long after each
	// further one, up to 15 minutes.
	ReportsPerAddress int
	ReportWindow      time.Duration
}

// Deps are what a Service is built from.
type Deps struct {
	Repo          Repo
	Organisations Organisations
	Pack          func() *policy.Pack // the pack in force (registry.Service.Pack)
	Tracer        trace.Tracer
	Logger        *slog.Logger
	Now           func() time.Time
}

// Service keeps inspection plans and records and the public's reports.
type Service struct {
	repo    Repo
	orgs    Organisations
	pack    func() *policy.Pack
	tracer  trace.Tracer
	log     *slog.Logger
	now     func() time.Time
	reports *auth.Throttle
}

// New builds a Service.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Repo == nil || d.Organisations == nil || d.Pack == nil || d.Tracer == nil {
		return nil, errors.New("inspection: Repo, Organisations, Pack and Tracer are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReportsPerAddress <= 0 {
		cfg.ReportsPerAddress = 5
	}
	if cfg.ReportWindow <= 0 {
		cfg.ReportWindow = time.Hour
	}
	return &Service{repo: d.Repo, orgs: d.Organisations, pack: d.Pack, tracer: d.Tracer, log: d.Logger, now: d.Now,
		reports: auth.NewThrottle(auth.ThrottleConfig{IPFailures: cfg.ReportsPerAddress, Window: cfg.ReportWindow}, d.Now)}, nil
}

// Text bounds.
const (
	maxRoomGroups = 200
	maxShortText  = 200
	maxLongText   = 4000
)

func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return "", fault.InvalidField(field, "is required")
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f }):
		return "", fault.InvalidField(field, "must be text without control characters")
	case utf8.RuneCountInString(v) > max:
		return "", fault.InvalidField(field, "is longer than %d characters", max)
	}
	return v, nil
}

// mayRead: the public security organ (admins, reviewers), auditors, and the establishment's own
// owners and operators.
func mayRead(u *auth.User, orgID string) bool {
	s := access.ScopeOf(u)
	return u.Role != auth.RoleApplicant && (s.All || s.OrganisationID == orgID && orgID != "")
}

// mayWrite: admins, and the establishment's own owners.
func mayWrite(u *auth.User, orgID string) bool {
	return u.Role == auth.RoleAdmin || u.Role == auth.RoleOwner && u.OrganisationID == orgID && orgID != ""
}

// establishment returns the organisation if the user may write for it and the pack asks it to
// inspect; anything outside the user's reach is not found.
func (s *Service) establishment(ctx context.Context, u *auth.User, orgID string, write bool) (*registry.Organisation, error) {
	if (write && !mayWrite(u, orgID)) || (!write && !mayRead(u, orgID)) {
		return nil, fmt.Errorf("organisation %s: %w", orgID, fault.ErrNotFound)
	}
	o, err := s.orgs.Organisation(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if write && !s.pack().Inspections().Required(o.EstablishmentType) {
		return nil, &fault.Error{Kind: fault.Refused, Code: "inspection_not_required", Field: "organisation_id",
			Message: "the policy pack asks no hidden-camera inspections of this kind of organisation"}
	}
	return o, nil
}

// SetPlan replaces an establishment's plan with these room groups.
func (s *Service) SetPlan(ctx context.Context, u *auth.User, orgID string, groups []string) (*Plan, error) {
	if _, err := s.establishment(ctx, u, orgID, true); err != nil {
		return nil, err
	}
	if len(groups) == 0 || len(groups) > maxRoomGroups {
		return nil, fault.InvalidField("room_groups", "must list 1 to %d room groups", maxRoomGroups)
	}
	var clean []string
	for _, g := range groups {
		g, err := text("room_groups", g, maxShortText, true)
		if err != nil {
			return nil, err
		}
		if slices.Contains(clean, g) {
			return nil, fault.InvalidField("room_groups", "lists %q twice", g)
		}
		clean = append(clean, g)
	}
	p := &Plan{OrganisationID: orgID, RoomGroups: clean, UpdatedBy: u.ID, UpdatedAt: s.now().UTC()}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionInspectionPlan, Outcome: trace.Allowed, Reference: orgID,
		Reason: fmt.Sprintf("%d room groups", len(clean))}); err != nil {
		return nil, err
	}
	if err := s.repo.PutInspectionPlan(ctx, p); err != nil {
		return nil, err
	}
	p.IntervalDays = s.pack().Inspections().IntervalDays
	return p, nil
}

// Plans lists the plans the user may read.
func (s *Service) Plans(ctx context.Context, u *auth.User) ([]*Plan, error) {
	ps, err := s.repo.InspectionPlans(ctx)
	if err != nil {
		return nil, err
	}
	days := s.pack().Inspections().IntervalDays
	out := []*Plan{}
	for _, p := range ps {
		if mayRead(u, p.OrganisationID) {
			p.IntervalDays = days
			out = append(out, p)
		}
	}
	return out, nil
}

// AddRecord records one inspection; a result of found needs a photo (JPEG or PNG, sanitised).
func (s *Service) AddRecord(ctx context.Context, u *auth.User, in RecordInput, photoData []byte) (*Record, error) {
	if _, err := s.establishment(ctx, u, in.OrganisationID, true); err != nil {
		return nil, err
	}
	plan, err := s.repo.InspectionPlan(ctx, in.OrganisationID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "no_plan", Field: "organisation_id", Message: "set the inspection plan first"}
	}
	if err != nil {
		return nil, err
	}
	r := &Record{ID: registry.NewID(), OrganisationID: in.OrganisationID, RecordedBy: u.ID, CreatedAt: s.now().UTC()}
	if r.RoomGroup, err = text("room_group", in.RoomGroup, maxShortText, true); err != nil {
		return nil, err
	}
	if !slices.Contains(plan.RoomGroups, r.RoomGroup) {
		return nil, fault.InvalidField("room_group", "is not a room group of the plan")
	}
	if r.Inspector, err = text("inspector", in.Inspector, maxShortText, true); err != nil {
		return nil, err
	}
	if r.Notes, err = text("notes", in.Notes, maxLongText, false); err != nil {
		return nil, err
	}
	day, err := time.Parse(time.DateOnly, strings.TrimSpace(in.InspectedOn))
	if err != nil {
		return nil, fault.InvalidField("inspected_on", "is not a date (YYYY-MM-DD)")
	}
	if day.After(r.CreatedAt) {
		return nil, fault.InvalidField("inspected_on", "is in the future")
	}
	r.InspectedOn = day
	switch in.Result {
	case ResultClear, ResultFound:
		r.Result = in.Result
	default:
		return nil, fault.InvalidField("result", "must be %s or %s", ResultClear, ResultFound)
	}
	var ph *StoredPhoto
	if len(photoData) > 0 {
		if ph, err = s.sanitize(photoData); err != nil {
			return nil, err
		}
		r.PhotoID = ph.ID
	} else if r.Result == ResultFound {
		return nil, fault.InvalidField("photo", "is required when something was found")
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionInspectionRecord, Outcome: trace.Allowed, Reference: r.ID,
		Reason: in.OrganisationID + ": " + r.RoomGroup + ": " + r.Result}); err != nil {
		return nil, err
	}
	if err := s.repo.AddInspectionRecord(ctx, r, ph); err != nil {
		return nil, err
	}
	return r, nil
}

// Records lists an establishment's records (newest first), traced as a look at them.
func (s *Service) Records(ctx context.Context, u *auth.User, orgID string, limit int) ([]*Record, error) {
	if _, err := s.establishment(ctx, u, orgID, false); err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionInspectionRead, Outcome: trace.Allowed, Reference: orgID}); err != nil {
		return nil, err
	}
	rs, err := s.repo.InspectionRecords(ctx, orgID, limit)
	if rs == nil && err == nil {
		rs = []*Record{}
	}
	return rs, err
}

// RecordPhoto is the photo of an inspection record, traced as a look at it.
func (s *Service) RecordPhoto(ctx context.Context, u *auth.User, recordID string) (*StoredPhoto, error) {
	r, err := s.repo.InspectionRecord(ctx, recordID)
	if err != nil {
		return nil, err
	}
	if !mayRead(u, r.OrganisationID) || r.PhotoID == "" {
		return nil, fmt.Errorf("photo of record %s: %w", recordID, fault.ErrNotFound)
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionInspectionRead, Outcome: trace.Allowed, Reference: r.ID,
		Reason: "photo"}); err != nil {
		return nil, err
	}
	return s.repo.Photo(ctx, r.PhotoID)
}

// Overdue lists the findings the user may see: every establishment's for the public security
// organ and auditors, its own for an owner or operator.
func (s *Service) Overdue(ctx context.Context, u *auth.User) ([]Overdue, error) {
	pack := s.pack()
	in := pack.Inspections()
	orgs, err := s.orgs.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	plans, err := s.repo.InspectionPlans(ctx)
	if err != nil {
		return nil, err
	}
	last, err := s.repo.LastInspections(ctx)
	if err != nil {
		return nil, err
	}
	byOrg := map[string]*Plan{}
	for _, p := range plans {
		byOrg[p.OrganisationID] = p
	}
	lastOf := map[[2]string]time.Time{}
	for _, l := range last {
		lastOf[[2]string{l.OrganisationID, l.RoomGroup}] = l.On
	}
	now := s.now().UTC()
	out := []Overdue{}
	for _, o := range orgs {
		if !in.Required(o.EstablishmentType) || !mayRead(u, o.ID) {
			continue
		}
		p := byOrg[o.ID]
		if p == nil {
			out = append(out, Overdue{OrganisationID: o.ID, OrganisationName: o.Name, Finding: policy.Finding{
				Code: policy.CodeInspectionOverdue, Rule: in.Rule, PolicyVersion: pack.Version(),
				Message: "no hidden-camera inspection plan"}})
			continue
		}
		for _, g := range p.RoomGroups {
			at := lastOf[[2]string{o.ID, g}]
			// A day's inspection counts until the end of that day.
			var due time.Time
			if !at.IsZero() {
				due = at.Add(24*time.Hour - time.Nanosecond)
			}
			if f, ok := pack.InspectionOverdue(g, due, now); ok {
				out = append(out, Overdue{OrganisationID: o.ID, OrganisationName: o.Name, RoomGroup: g, LastInspectedOn: at, Finding: f})
			}
		}
	}
	return out, nil
}

func (s *Service) sanitize(data []byte) (*StoredPhoto, error) {
	max := int64(s.pack().Inspections().PhotoMaxKiB) << 10
	if max == 0 {
		max = 8 << 20
	}
	p, err := photo.Sanitize(data, max)
	switch {
	case errors.Is(err, photo.ErrTooLarge):
		return nil, &fault.Error{Kind: fault.TooLarge, Code: "too_large", Field: "photo", Message: "the photo is too large", Err: err}
	case err != nil:
		return nil, &fault.Error{Kind: fault.Unsupported, Code: "unsupported_media_type", Field: "photo", Message: "the photo must be a JPEG or PNG", Err: err}
	}
	return &StoredPhoto{ID: registry.NewID(), ContentType: p.ContentType, Data: p.Data, CreatedAt: s.now().UTC()}, nil
}
