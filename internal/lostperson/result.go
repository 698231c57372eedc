package lostperson

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// A result notice is written by one reviewer as a draft and sent only when a second reviewer
// of the same police organisation approves it (REG-6 and the two-person rule): the notice is
// the one thing that leaves the police side, so two people read it first. A sent notice is
// never edited; a correction is a new notice, drafted and approved alike, that supersedes it.

// NoticeStatus is where a result notice stands.
type NoticeStatus string

const (
	NoticeDraft      NoticeStatus = "draft"      // written, waiting for a second reviewer
	NoticeWithdrawn  NoticeStatus = "withdrawn"  // replaced by a later draft before it was approved
	NoticeSent       NoticeStatus = "sent"       // approved and sent: the applicant sees it
	NoticeSuperseded NoticeStatus = "superseded" // sent, then replaced by a sent correction
)

// Notice is one result notice of an application as the police see it.
type Notice struct {
	ID             string       `json:"id"`
	ApplicationID  string       `json:"application_id"`
	Outcome        Outcome      `json:"outcome"`
	LastSightingAt time.Time    `json:"last_sighting_at,omitzero"`
	Message        string       `json:"message"`
	Status         NoticeStatus `json:"status"`
	Supersedes     string       `json:"supersedes,omitempty"` // the sent notice this one corrects
	AuthorID       string       `json:"author_id"`
	AuthorOrg      string       `json:"author_organisation_id,omitempty"`
	ApprovedBy     string       `json:"approved_by,omitempty"`
	SentAt         time.Time    `json:"sent_at,omitzero"`
	SupersededAt   time.Time    `json:"superseded_at,omitzero"`
	CreatedAt      time.Time    `json:"created_at"`
}

// NoticeInput is what a reviewer writes: an outcome of the pack's list, the time of the last
// sighting when the outcome allows one, and the message in words.
type NoticeInput struct {
	Outcome        string     `json:"outcome"`
	LastSightingAt *time.Time `json:"last_sighting_at"`
	Message        string     `json:"message"`
}

// NoticeView is a sent notice as the applicant sees it: no reviewer, no camera.
type NoticeView struct {
	ID             string    `json:"id"`
	Outcome        Outcome   `json:"outcome"`
	OutcomeLabel   string    `json:"outcome_label"`
	OutcomeLabelZH string    `json:"outcome_label_zh"`
	LastSightingAt time.Time `json:"last_sighting_at,omitzero"`
	Message        string    `json:"message"`
	SentAt         time.Time `json:"sent_at"`
	// Correction marks a notice that replaces an earlier one; Superseded one that was replaced.
	Correction bool `json:"correction"`
	Superseded bool `json:"superseded"`
}

// ErrNoticeApprover is the cause of refusing an approval by the notice's author or by a
// reviewer of another organisation.
var ErrNoticeApprover = errors.New("a notice is approved by a second reviewer of the author's organisation")

// DraftNotice writes a draft result notice of an accepted application, or, for a completed
// one, a correction of its sent notice. The message is refused if it discloses anything but
// the result (Disclosed). An earlier draft waiting for approval is withdrawn.
func (s *Service) DraftNotice(ctx context.Context, id string, in NoticeInput) (*Notice, error) {
	apps := s.pack.Applications()
	o, ok := apps.Outcome(in.Outcome)
	if !ok {
		ids := make([]string, len(apps.Outcomes))
		for i, x := range apps.Outcomes {
			ids[i] = x.ID
		}
		return nil, invalid("outcome", "must be one of %s", strings.Join(ids, ", "))
	}
	msg, err := checkText("message", in.Message, 4000)
	if err != nil {
		return nil, err
	}
	if err := Disclosed("message", msg); err != nil {
		return nil, err
	}
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Status != StatusAccepted && a.Status != StatusCompleted {
		return nil, fmt.Errorf("write the result of a %s application: %w", a.Status, ErrState)
	}
	now := s.now().UTC()
	n := &Notice{ID: registry.NewID(), ApplicationID: a.ID, Outcome: Outcome(o.ID), Message: msg, Status: NoticeDraft,
		AuthorID: actorID(ctx), AuthorOrg: actorOrg(ctx), CreatedAt: now}
	if in.LastSightingAt != nil && !in.LastSightingAt.IsZero() {
		if err := s.checkSighting(a, o, *in.LastSightingAt, now); err != nil {
			return nil, err
		}
		n.LastSightingAt = in.LastSightingAt.UTC().Truncate(time.Second)
	}
	what := "result notice"
	if a.Status == StatusCompleted {
		sent, err := s.sentNotice(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		n.Supersedes, what = sent, "correction of notice "+sent
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionNoticeDraft, Reference: a.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s %s drafted: %s", what, n.ID, n.Outcome)}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateNotice(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// checkSighting refuses a last-sighting time in the future, far outside the application's
// footage window, or for an outcome that has no sighting.
func (s *Service) checkSighting(a *Application, o policy.ResultOutcome, t, now time.Time) error {
	if !o.Sighting {
		return invalid("last_sighting_at", "outcome %s has no sighting; leave the time empty", o.ID)
	}
	if t.After(now) {
		return invalid("last_sighting_at", "is in the future")
	}
	// A correction's window is the one the reviewers searched: it closed when the result was sent.
	at := now
	if !a.ResultAt.IsZero() {
		at = a.ResultAt
	}
	from, to := s.Window(a, at)
	// Near the window: the reviewer saw footage inside it, but a person found safe may have
	// been seen in person a little after it closed.
	if t.Before(from.Add(-s.cfg.Lookback)) || t.After(to.Add(s.cfg.Lookback)) {
		return invalid("last_sighting_at", "must be inside the application's window %s – %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return nil
}

// sentNotice is the id of an application's notice in force.
func (s *Service) sentNotice(ctx context.Context, applicationID string) (string, error) {
	ns, err := s.repo.Notices(ctx, applicationID)
	if err != nil {
		return "", err
	}
	for _, n := range ns {
		if n.Status == NoticeSent {
			return n.ID, nil
		}
	}
	// Completed before notices were kept apart: the correction supersedes the application's own.
	return "", nil
}

// ApproveNotice is the second reviewer's approval of a draft: it sends the notice to the
// applicant (the application closes, ending its footage access, and the outbox message is
// queued in the same transaction) or, for a correction, replaces the sent notice.
func (s *Service) ApproveNotice(ctx context.Context, id, noticeID string) (*Notice, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	ns, err := s.repo.Notices(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var n *Notice
	for _, x := range ns {
		if x.ID == noticeID {
			n = x
		}
	}
	if n == nil {
		return nil, fmt.Errorf("notice %q: %w", noticeID, ErrNotFound)
	}
	if n.Status != NoticeDraft {
		return nil, fmt.Errorf("approve a %s notice: %w", n.Status, ErrState)
	}
	me, org := actorID(ctx), actorOrg(ctx)
	switch {
	case me == n.AuthorID:
		return nil, s.approvalRefused(ctx, a.ID, n.ID, "the_author", "the notice's author cannot approve it; a second reviewer must")
	case org != n.AuthorOrg:
		return nil, s.approvalRefused(ctx, a.ID, n.ID, "other_organisation", "only a reviewer of the author's organisation can approve the notice")
	}
	from := StatusAccepted
	if n.Supersedes != "" || a.Status == StatusCompleted {
		from = StatusCompleted
	}
	if a.Status != from {
		return nil, fmt.Errorf("approve a notice of a %s application: %w", a.Status, ErrState)
	}
	now := s.now().UTC()
	n.Status, n.ApprovedBy, n.SentAt = NoticeSent, me, now
	var msg *Message
	c, err := s.repo.ApplicantContact(ctx, a.ApplicantID)
	kind, subject, intro := "result", "civicam: the result of your application / 申请结果",
		"The police have written the result of your application %s:\n\n%s\n\n%s\n\n公安机关已告知您的申请结果，请登录查看。"
	if from == StatusCompleted {
		kind, subject, intro = "correction", "civicam: a correction of your result / 申请结果更正",
			"The police have corrected the result of your application %s:\n\n%s\n\n%s\n\n公安机关已更正您的申请结果，请登录查看。"
	}
	switch {
	case err == nil:
		label := n.Outcome
		if o, ok := s.pack.Applications().Outcome(string(n.Outcome)); ok {
			label = Outcome(o.Label + " / " + o.LabelZH)
		}
		msg = s.message(now, kind, c, a.ID, subject, fmt.Sprintf(intro, a.ID, label, n.Message))
	case errors.Is(err, ErrNotFound):
		// An applicant created by an admin has no verified contact; the notice waits on the page.
	default:
		return nil, err
	}
	first := a.Status == StatusAccepted
	a.Status, a.Outcome, a.Notice, a.ResultAt, a.ResultBy, a.UpdatedAt = StatusCompleted, n.Outcome, n.Message, now, n.AuthorID, now
	if a.ReviewedAt.IsZero() {
		a.ReviewedAt = now
	}
	what := "result notice " + n.ID
	if n.Supersedes != "" || !first {
		what = "correction " + n.ID + " superseding " + cmpOr(n.Supersedes, "the notice in force")
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionNoticeApprove, Reference: a.ID, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%s approved and sent: %s (drafted by %s)", what, n.Outcome, n.AuthorID)}); err != nil {
		return nil, err
	}
	if err := s.repo.SendNotice(ctx, n, a, from, msg); err != nil {
		return nil, err
	}
	if first {
		s.metrics.results.WithLabelValues(string(n.Outcome)).Inc()
		s.metrics.timeToResult.Observe(a.ResultAt.Sub(a.SubmittedAt).Seconds())
	}
	return n, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// approvalRefused traces a refused approval, then refuses it.
func (s *Service) approvalRefused(ctx context.Context, applicationID, noticeID, code, msg string) error {
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionNoticeApprove, Reference: applicationID, Outcome: trace.Denied,
		Reason: "approval of notice " + noticeID + " refused: " + msg}); err != nil {
		return err
	}
	return &fault.Error{Kind: fault.Forbidden, Code: "notice_approver_" + code, Field: "notice", Message: msg, Err: ErrNoticeApprover}
}

// Notices lists an application's notices for the police, oldest first.
func (s *Service) Notices(ctx context.Context, id string) ([]*Notice, error) {
	a, err := s.application(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionApplicationRead, Reference: a.ID, Outcome: trace.Allowed,
		Reason: "result notices of application " + a.ID}); err != nil {
		return nil, err
	}
	ns, err := s.repo.Notices(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if ns == nil {
		ns = []*Notice{}
	}
	return ns, nil
}

// noticeViews are the sent and superseded notices, newest first, as the applicant sees them.
func (s *Service) noticeViews(ns []*Notice) []NoticeView {
	apps := s.pack.Applications()
	out := []NoticeView{}
	for i := len(ns) - 1; i >= 0; i-- {
		n := ns[i]
		if n.Status != NoticeSent && n.Status != NoticeSuperseded {
			continue
		}
		v := NoticeView{ID: n.ID, Outcome: n.Outcome, LastSightingAt: n.LastSightingAt, Message: n.Message, SentAt: n.SentAt,
			Correction: n.Supersedes != "", Superseded: n.Status == NoticeSuperseded}
		if o, ok := apps.Outcome(string(n.Outcome)); ok {
			v.OutcomeLabel, v.OutcomeLabelZH = o.Label, o.LabelZH
		}
		out = append(out, v)
	}
	// The notice in force first, then those it corrected, newest first.
	slices.SortStableFunc(out, func(a, b NoticeView) int {
		if a.Superseded != b.Superseded {
			return boolFirst(!a.Superseded)
		}
		return b.SentAt.Compare(a.SentAt)
	})
	return out
}

// Outcomes are the outcomes a notice may state, from the pack.
func (s *Service) Outcomes() []policy.ResultOutcome { return s.pack.Applications().Outcomes }

// actorOrg is the organisation of the user acting in ctx.
func actorOrg(ctx context.Context) string {
	a, _ := auth.ActorFrom(ctx)
	return a.OrganisationID
}
