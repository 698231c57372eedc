package lostperson

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// ReviewerView is an application as the police see it.
type ReviewerView struct {
	Case
	ApplicantID    string     `json:"applicant_id"`
	PolicyVersion  string     `json:"policy_version"`
	SubmittedAt    time.Time  `json:"submitted_at"`
	Deadlines      []Deadline `json:"deadlines"`
	Overdue        bool       `json:"overdue"`
	DecidedAt      time.Time  `json:"decided_at,omitzero"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	ResultOutcome  Outcome    `json:"result_outcome,omitempty"`
	ResultNotice   string     `json:"result_notice,omitempty"`
	ResultAt       time.Time  `json:"result_at,omitzero"`
	ResultBy       string     `json:"result_by,omitempty"`
	Documents      []DocView  `json:"documents,omitempty"`
	Findings       []*Finding `json:"findings,omitempty"`
	// Required are the pack's documents with how each was provided; Notices every notice,
	// drafts included, oldest first.
	Required []DocRequirement `json:"required_documents,omitempty"`
	Notices  []*Notice        `json:"notices,omitempty"`
}

func (s *Service) reviewerView(a *Application, now time.Time) *ReviewerView {
	return &ReviewerView{Case: caseOf(a), ApplicantID: a.ApplicantID,
		PolicyVersion: a.PolicyVersion, SubmittedAt: a.SubmittedAt, Deadlines: s.Deadlines(a, now),
		Overdue: s.Overdue(a, now), DecidedAt: a.DecidedAt, DecidedBy: a.DecidedBy, DecisionReason: a.DecisionReason,
		ResultOutcome: a.Outcome, ResultNotice: a.Notice, ResultAt: a.ResultAt, ResultBy: a.ResultBy}
}

// Queue is the reviewers' list: open applications by default (submitted and accepted), urgent
// and overdue ones first, then by the nearest deadline.
type Queue struct {
	Applications []*ReviewerView `json:"applications"`
	Overdue      int             `json:"overdue"`
}

// ParseStatuses reads a comma-separated status filter ("" means the open ones).
func ParseStatuses(v string) ([]Status, error) {
	if v == "" {
		return []Status{StatusSubmitted, StatusAccepted}, nil
	}
	var out []Status
	for _, p := range strings.Split(v, ",") {
		st := Status(strings.TrimSpace(p))
		switch st {
		case StatusSubmitted, StatusAccepted, StatusRejected, StatusCompleted:
			out = append(out, st)
		default:
			return nil, invalid("status", "%q is not one of submitted, accepted, rejected, completed", p)
		}
	}
	return out, nil
}

// ReviewQueue lists applications in the given statuses for reviewers.
func (s *Service) ReviewQueue(ctx context.Context, statuses []Status, limit int) (*Queue, error) {
	as, err := s.repo.Applications(ctx, Filter{Statuses: statuses, Limit: limit})
	if err != nil {
		return nil, err
	}
	now := s.now()
	q := &Queue{Applications: make([]*ReviewerView, 0, len(as))}
	for _, a := range as {
		v := s.reviewerView(a, now)
		if v.Overdue {
			q.Overdue++
		}
		q.Applications = append(q.Applications, v)
	}
	slices.SortStableFunc(q.Applications, func(a, b *ReviewerView) int {
		if a.Overdue != b.Overdue {
			return boolFirst(a.Overdue)
		}
		if a.Urgent != b.Urgent {
			return boolFirst(a.Urgent)
		}
		return nextDue(a).Compare(nextDue(b))
	})
	// The queue names the missing people and their applicants: reading it is traced, before
	// it is answered, like opening one application.
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationRead, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("review queue: %d application(s)", len(q.Applications))}); err != nil {
		return nil, err
	}
	return q, nil
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

func nextDue(v *ReviewerView) time.Time {
	for _, d := range v.Deadlines {
		if !d.Done && !d.Due.IsZero() {
			return d.Due
		}
	}
	return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
}

// ForReviewer returns an application with its documents and findings. It holds an applicant's
// personal data, so each reading is traced before it is served.
func (s *Service) ForReviewer(ctx context.Context, id string) (*ReviewerView, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationRead, Reference: a.ID, Outcome: trace.Allowed,
		Reason: "application " + a.ID + " (" + string(a.Status) + ")"}); err != nil {
		return nil, err
	}
	v := s.reviewerView(a, s.now())
	docs, err := s.repo.Documents(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		v.Documents = append(v.Documents, DocView{ID: d.ID, Kind: d.Kind, ContentType: d.ContentType, Bytes: d.Bytes, CreatedAt: d.CreatedAt})
	}
	if v.Findings, err = s.repo.Findings(ctx, a.ID); err != nil {
		return nil, err
	}
	if v.Required, err = s.requirements(ctx, a.ID, docs); err != nil {
		return nil, err
	}
	if v.Notices, err = s.repo.Notices(ctx, a.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// inStatus returns the application a reviewer's step is for, if it has the status the step
// needs; doing names the step for the error ("decide on" a submitted application).
func (s *Service) inStatus(ctx context.Context, id string, want Status, doing string) (*Application, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Status != want {
		return nil, fmt.Errorf("%s a %s application: %w", doing, a.Status, ErrState)
	}
	return a, nil
}

func (s *Service) application(ctx context.Context, id string) (*Application, error) {
	if !registry.ValidID(id) {
		return nil, fmt.Errorf("application %q: %w", id, ErrNotFound)
	}
	a, err := s.repo.Application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusIneligible {
		return nil, fmt.Errorf("application %s: %w", id, ErrNotFound)
	}
	return a, nil
}

func checkText(field, v string, maxRunes int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", invalid(field, "is required")
	}
	if utf8.RuneCountInString(v) > maxRunes {
		return "", invalid(field, "is longer than %d characters", maxRunes)
	}
	return v, nil
}

// Decide accepts or rejects a submitted application. A rejection's reason, required, is shown to
// the applicant; an acceptance, whose reason may be empty, starts the footage review with its
// deadlines.
func (s *Service) Decide(ctx context.Context, id string, accept bool, reason string) (*ReviewerView, error) {
	// A refusal is explained to the applicant; an acceptance needs no words, though it may
	// carry some.
	var err error
	if accept && strings.TrimSpace(reason) == "" {
		reason = ""
	} else if reason, err = checkText("reason", reason, 2000); err != nil {
		return nil, err
	}
	a, err := s.inStatus(ctx, id, StatusSubmitted, "decide on")
	if err != nil {
		return nil, err
	}
	if accept {
		if err := s.missingDocuments(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	a.DecidedAt, a.DecidedBy, a.DecisionReason, a.UpdatedAt = now, actorID(ctx), reason, now
	verdict := "rejected"
	if accept {
		verdict = "accepted"
		a.Status = StatusAccepted
		a.ReviewDue = s.due(now, StepFootageReview, a.Urgent)
		a.ResultDue = s.due(a.ReviewDue, StepResultNotice, a.Urgent)
	} else {
		a.Status = StatusRejected
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationDecision, Reference: a.ID, Outcome: trace.Allowed,
		Reason: strings.TrimSuffix("application "+verdict+": "+reason, ": ")}); err != nil {
		return nil, err
	}
	if err := s.repo.UpdateApplication(ctx, a, StatusSubmitted, nil); err != nil {
		return nil, err
	}
	s.metrics.decisions.WithLabelValues(verdict).Inc()
	return s.reviewerView(a, now), nil
}

// AddFinding records a reviewer's internal note on an accepted application; the first one marks
// the footage review step done.
func (s *Service) AddFinding(ctx context.Context, id, body string) (*Finding, error) {
	body, err := checkText("body", body, 8000)
	if err != nil {
		return nil, err
	}
	a, err := s.inStatus(ctx, id, StatusAccepted, "add a finding to")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	f := &Finding{ID: registry.NewID(), ApplicationID: a.ID, AuthorID: actorID(ctx), Body: body, CreatedAt: now}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationDecision, Reference: a.ID, Outcome: trace.Allowed,
		Reason: "finding recorded " + f.ID}); err != nil {
		return nil, err
	}
	if err := s.repo.AddFinding(ctx, f); err != nil {
		return nil, err
	}
	if a.ReviewedAt.IsZero() {
		a.ReviewedAt, a.UpdatedAt = now, now
		if err := s.repo.UpdateApplication(ctx, a, StatusAccepted, nil); err != nil && !errors.Is(err, ErrState) {
			return nil, err
		}
	}
	return f, nil
}

// WriteResult drafts the result notice of an accepted application (DraftNotice, without a
// sighting time); it is sent when a second reviewer approves it (ApproveNotice).
func (s *Service) WriteResult(ctx context.Context, id string, outcome Outcome, notice string) (*ReviewerView, error) {
	if _, err := s.DraftNotice(ctx, id, NoticeInput{Outcome: string(outcome), Message: notice}); err != nil {
		return nil, err
	}
	return s.ForReviewer(ctx, id)
}

// Candidate is a camera proposed for an application's footage review.
type Candidate struct {
	CameraID        string           `json:"camera_id"`
	Name            string           `json:"name"`
	Address         string           `json:"address,omitempty"`
	Lat             float64          `json:"lat"`
	Lon             float64          `json:"lon"`
	DistanceM       float64          `json:"distance_m"`
	Coverage        float64          `json:"coverage"` // the share of the window recorded, 0..1
	RecordedSeconds float64          `json:"recorded_seconds"`
	Score           float64          `json:"score"`
	Ranges          []timespan.Range `json:"ranges"`
	OrganisationID  string           `json:"organisation_id"`
	Investment      string           `json:"investment"`
	// Basis is how the reviewer can open the camera's footage (REG-4): one of the Basis
	// constants. GrantID names the owner's grant for BasisGrant and BasisEmergency; Request is
	// the newest footage request sent for the camera under this application, if any.
	Basis   string       `json:"basis"`
	GrantID string       `json:"grant_id,omitempty"`
	Request *RequestView `json:"footage_request,omitempty"`
}

// How a candidate camera's footage can be opened by a reviewer under an application.
const (
	// BasisPolicy: a government camera, shared with the police by the pack's default.
	BasisPolicy = "policy_default"
	// BasisOwnOrganisation: a camera of the reviewer's own organisation.
	BasisOwnOrganisation = "own_organisation"
	// BasisGrant: its owner's grant in force to the reviewer's organisation covers playback.
	BasisGrant = "grant"
	// BasisRequestApproved: its owner approved a footage request for the window.
	BasisRequestApproved = "footage_request_approved"
	// BasisEmergency: its owner's emergency grant, used only with a case reference, which
	// notifies the owner at once.
	BasisEmergency = "emergency"
	// BasisNone: the footage stays closed; send the owner a footage request.
	BasisNone = "none"
)

// Candidates is a candidate search's answer: the window searched and the cameras, best first.
type Candidates struct {
	ApplicationID string      `json:"application_id"`
	From          time.Time   `json:"from"`
	To            time.Time   `json:"to"`
	RadiusM       float64     `json:"radius_m"`
	Cameras       []Candidate `json:"cameras"`
}

// Window is the footage window of an application at now: from Lookback before the last
// sighting until now, at most MaxWindow long.
func (s *Service) Window(a *Application, now time.Time) (from, to time.Time) {
	// Whole seconds: the window travels in RFC 3339 playback URLs and is stored in microseconds.
	from = a.LastSeenAt.Add(-s.cfg.Lookback).Truncate(time.Second)
	to = now.UTC().Truncate(time.Second)
	if to.Sub(from) > s.cfg.MaxWindow {
		to = from.Add(s.cfg.MaxWindow)
	}
	return from, to
}

// FindCandidates proposes cameras within radiusM of a point that recorded anything in
// [from, to) — sealed segments and, with a Recorder, the segment being written — ranked by score = coverage × (1 − distance/(2·radius)): a camera with the whole
// window recorded at the edge of the radius ranks with one half-covered at the centre.
func (s *Service) FindCandidates(ctx context.Context, lat, lon, radiusM float64, from, to time.Time) ([]Candidate, error) {
	if s.cams == nil || s.recs == nil {
		return nil, errors.New("candidate search: no camera registry or recording index configured")
	}
	cams, dists, err := s.cams.Near(ctx, registry.Scope{All: true}, lat, lon, radiusM, 0)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(cams))
	for _, c := range cams {
		ids = append(ids, c.ID)
	}
	ranges, err := s.recs.RecordedRanges(ctx, ids, from, to)
	if err != nil {
		return nil, err
	}
	window := to.Sub(from).Seconds()
	w := timespan.Range{Start: from, End: to}
	out := []Candidate{}
	for i, c := range cams {
		rs := s.withOpenSegment(c.ID, ranges[c.ID], w)
		if len(rs) == 0 {
			continue
		}
		var rec float64
		for _, r := range rs {
			rec += r.End.Sub(r.Start).Seconds()
		}
		cov := 0.0
		if window > 0 {
			cov = min(1, rec/window)
		}
		out = append(out, Candidate{CameraID: c.ID, Name: c.Name, Address: c.Address, Lat: c.Lat, Lon: c.Lon,
			DistanceM: dists[i], Coverage: cov, RecordedSeconds: rec, Score: cov * (1 - dists[i]/(2*radiusM)), Ranges: rs,
			OrganisationID: c.OrganisationID, Investment: c.Investment})
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.CameraID, b.CameraID)
	})
	if len(out) > s.cfg.MaxCandidates {
		out = out[:s.cfg.MaxCandidates]
	}
	return out, nil
}

// withOpenSegment adds to a camera's sealed ranges in w the segment it is being recorded into:
// the index holds a segment only once it is sealed, and the newest footage is what a search
// for a person last seen minutes ago needs most. The recordings API counts it the same way.
func (s *Service) withOpenSegment(cameraID string, rs []timespan.Range, w timespan.Range) []timespan.Range {
	if s.live == nil {
		return rs
	}
	st, ok := s.live.Status(cameraID)
	if !ok {
		return rs
	}
	open, ok := st.Open()
	if !ok {
		return rs
	}
	if open, ok = open.Clip(w); !ok {
		return rs
	}
	return timespan.Cover(append(slices.Clone(rs), open), segment.MergeGap, w).Ranges
}

// markBases marks each candidate with how the reviewer in ctx can open its footage.
func (s *Service) markBases(ctx context.Context, applicationID string, cands []Candidate) error {
	a, _ := auth.ActorFrom(ctx)
	u := &auth.User{ID: a.UserID, Username: a.Username, Role: a.Role, OrganisationID: a.OrganisationID}
	reqs, err := s.repo.FootageRequests(ctx, RequestFilter{ApplicationID: applicationID})
	if err != nil {
		return err
	}
	newest := map[string]*FootageRequest{}
	for _, r := range reqs {
		newest[r.CameraID] = r // oldest first: the last one wins
	}
	for i := range cands {
		c := &cands[i]
		if r := newest[c.CameraID]; r != nil {
			v := r.reviewerView()
			c.Request = &v
		}
		switch {
		case c.Investment == registry.InvestmentGovernment:
			c.Basis = BasisPolicy
			continue
		case u.OrganisationID != "" && u.OrganisationID == c.OrganisationID:
			c.Basis = BasisOwnOrganisation
			continue
		}
		c.Basis = BasisNone
		if s.shares != nil {
			cam := &registry.Camera{ID: c.CameraID, OrganisationID: c.OrganisationID, Investment: c.Investment}
			b, err := s.shares.Offered(ctx, u, cam, access.Playback)
			switch {
			case err == nil && b.Emergency:
				c.Basis, c.GrantID = BasisEmergency, b.GrantID
			case err == nil:
				c.Basis, c.GrantID = BasisGrant, b.GrantID
				continue
			case !errors.Is(err, access.ErrNoGrant):
				return err
			}
		}
		if c.Request != nil && c.Request.Status == RequestApproved {
			c.Basis, c.GrantID = BasisRequestApproved, ""
		}
	}
	return nil
}

// SearchCandidates runs the candidate search of an accepted application for the reviewer
// acting in ctx, traces it (action search, with the cameras and window) and then grants that
// reviewer footage of exactly those cameras in exactly that window, for this application. Each
// candidate is marked with how its footage can be opened (Basis): a private camera's owner still
// has to consent, which the access check asks at every look (access.Checker's Approvals and
// Grants), so a grant revoked after the search closes the camera again.
func (s *Service) SearchCandidates(ctx context.Context, id string) (*Candidates, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Status != StatusAccepted {
		err := fmt.Errorf("search cameras for a %s application: %w", a.Status, ErrState)
		if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSearch, Reference: a.ID, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
			return nil, terr
		}
		return nil, err
	}
	now := s.now().UTC()
	from, to := s.Window(a, now)
	start := time.Now()
	cands, err := s.FindCandidates(ctx, a.Lat, a.Lon, s.cfg.SearchRadiusM, from, to)
	if err != nil {
		return nil, err
	}
	s.metrics.searchSeconds.Observe(time.Since(start).Seconds())
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.CameraID
	}
	reviewer := actorID(ctx)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionSearch, CameraIDs: ids, From: from, To: to, Reference: a.ID,
		Purpose: "lost-person application", Outcome: trace.Allowed,
		Reason: fmt.Sprintf("candidate cameras within %.0f m of the last-seen place: %d", s.cfg.SearchRadiusM, len(ids))}); err != nil {
		return nil, err
	}
	grants := make([]FootageGrant, len(ids))
	for i, cid := range ids {
		grants[i] = FootageGrant{ApplicationID: a.ID, ReviewerID: reviewer, CameraID: cid, From: from, To: to, CreatedAt: now}
	}
	if err := s.repo.PutGrants(ctx, grants); err != nil {
		return nil, err
	}
	if err := s.markBases(ctx, a.ID, cands); err != nil {
		return nil, err
	}
	return &Candidates{ApplicationID: a.ID, From: from, To: to, RadiusM: s.cfg.SearchRadiusM, Cameras: cands}, nil
}

// FootageAllowed answers whether a user may see footage of a camera in [from, to) for an
// application: only while the application is accepted, only for the reviewer who ran its
// candidate search, only for the cameras and the window that search returned. Playback calls
// it with the application_id of its URL and traces the look itself, with that reference.
func (s *Service) FootageAllowed(ctx context.Context, applicationID, userID, cameraID string, from, to time.Time) error {
	if !registry.ValidID(applicationID) || !registry.ValidID(cameraID) || userID == "" {
		return fmt.Errorf("%w: malformed application, user or camera", ErrFootageDenied)
	}
	if !to.After(from) {
		return fmt.Errorf("%w: empty time range", ErrFootageDenied)
	}
	a, err := s.repo.Application(ctx, applicationID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: no application %s", ErrFootageDenied, applicationID)
	}
	if err != nil {
		return err
	}
	if a.Status != StatusAccepted {
		return fmt.Errorf("%w: application %s is %s", ErrFootageDenied, a.ID, a.Status)
	}
	g, err := s.repo.Grant(ctx, a.ID, userID, cameraID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: camera %s is not a candidate of application %s for this reviewer", ErrFootageDenied, cameraID, a.ID)
	}
	if err != nil {
		return err
	}
	if from.Before(g.From) || to.After(g.To) {
		return fmt.Errorf("%w: %s–%s is outside the application's window %s–%s", ErrFootageDenied,
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), g.From.Format(time.RFC3339), g.To.Format(time.RFC3339))
	}
	return nil
}
