package lostperson

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// RequestStatus is where a footage request stands.
type RequestStatus string

// The states of a footage request: an owner decides a pending one once.
const (
	RequestPending  RequestStatus = "pending"
	RequestApproved RequestStatus = "approved"
	RequestDeclined RequestStatus = "declined"
)

// FootageRequest is a reviewer's request to a private camera's owner for the camera's footage in
// an application's window (REG-4): an application alone does not network a camera its owner has
// not shared, so without the owner's grant the owner is asked.
type FootageRequest struct {
	ID                  string
	ApplicationID       string
	ReviewerID          string
	CameraID            string
	OwnerOrganisationID string
	From, To            time.Time
	Reason              string
	Status              RequestStatus
	CreatedAt           time.Time
	DecidedAt           time.Time
	DecidedBy           string
	DecisionNote        string
}

// RequestView is a footage request as the reviewers see it.
type RequestView struct {
	ID            string        `json:"id"`
	ApplicationID string        `json:"application_id"`
	CameraID      string        `json:"camera_id"`
	From          time.Time     `json:"from"`
	To            time.Time     `json:"to"`
	Reason        string        `json:"reason"`
	Status        RequestStatus `json:"status"`
	CreatedAt     time.Time     `json:"created_at"`
	DecidedAt     time.Time     `json:"decided_at,omitzero"`
	DecisionNote  string        `json:"decision_note,omitempty"`
}

// OwnerRequestView is a footage request as the camera's owner sees it: the camera, the window
// and the police's reason. Nothing of the application — its id, the missing person, the
// applicant — nor the reviewer is in it.
type OwnerRequestView struct {
	ID           string        `json:"id"`
	CameraID     string        `json:"camera_id"`
	CameraName   string        `json:"camera_name"`
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	Reason       string        `json:"reason"`
	Status       RequestStatus `json:"status"`
	CreatedAt    time.Time     `json:"created_at"`
	DecidedAt    time.Time     `json:"decided_at,omitzero"`
	DecisionNote string        `json:"decision_note,omitempty"`
}

// RequestFilter narrows a list of footage requests; empty fields match any.
type RequestFilter struct {
	ApplicationID       string
	OwnerOrganisationID string
	CameraID            string
}

func (r *FootageRequest) reviewerView() RequestView {
	return RequestView{ID: r.ID, ApplicationID: r.ApplicationID, CameraID: r.CameraID, From: r.From, To: r.To,
		Reason: r.Reason, Status: r.Status, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt, DecisionNote: r.DecisionNote}
}

func (r *FootageRequest) ownerView(cameraName string) OwnerRequestView {
	return OwnerRequestView{ID: r.ID, CameraID: r.CameraID, CameraName: cameraName, From: r.From, To: r.To,
		Reason: r.Reason, Status: r.Status, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt, DecisionNote: r.DecisionNote}
}

// ErrNoRequestNeeded refuses a footage request for a camera the police may already open: a
// government camera, shared by the pack's default.
var ErrNoRequestNeeded error = &fault.Error{Kind: fault.Conflict, Code: "no_request_needed",
	Message: "this camera is shared with the police by the policy pack's default: no footage request is needed"}

// ErrRequestPending refuses a second request for a camera while one is waiting for its owner.
var ErrRequestPending error = &fault.Error{Kind: fault.Conflict, Code: "request_pending",
	Message: "a footage request for this camera is already waiting for its owner"}

// RequestFootage sends the owner of a private candidate camera a request for its footage in the
// window of the reviewer's candidate search: traced (on the reviewer's side, with the
// application), then stored. Only a camera the reviewer's search returned can be asked for.
func (s *Service) RequestFootage(ctx context.Context, applicationID, cameraID, reason string) (*RequestView, error) {
	reason, err := checkText("reason", reason, 1000)
	if err != nil {
		return nil, err
	}
	a, err := s.inStatus(ctx, applicationID, StatusAccepted, "request footage for")
	if err != nil {
		return nil, err
	}
	r, err := s.requestFootage(ctx, a, cameraID, reason)
	if err != nil {
		var cams []string
		if registry.ValidID(cameraID) {
			cams = []string{cameraID}
		}
		if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionFootageRequest, CameraIDs: cams, Reference: a.ID,
			Purpose: "lost-person application", Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
			return nil, terr
		}
		return nil, tracedRefusal(err)
	}
	v := r.reviewerView()
	return &v, nil
}

// requestFootage checks, traces and stores a footage request of an accepted application.
func (s *Service) requestFootage(ctx context.Context, a *Application, cameraID, reason string) (*FootageRequest, error) {
	reviewer := actorID(ctx)
	if !registry.ValidID(cameraID) {
		return nil, fmt.Errorf("camera %q: %w", cameraID, ErrNotFound)
	}
	g, err := s.repo.Grant(ctx, a.ID, reviewer, cameraID)
	if err != nil {
		return nil, fmt.Errorf("camera %s is not a candidate of your search: %w", cameraID, err)
	}
	if s.cams == nil {
		return nil, errors.New("footage request: no camera registry configured")
	}
	cam, err := s.cams.Camera(ctx, registry.Scope{All: true}, cameraID)
	if err != nil {
		return nil, err
	}
	if cam.Investment == registry.InvestmentGovernment {
		return nil, ErrNoRequestNeeded
	}
	prev, err := s.repo.FootageRequests(ctx, RequestFilter{ApplicationID: a.ID, CameraID: cam.ID})
	if err != nil {
		return nil, err
	}
	for _, p := range prev {
		if p.Status == RequestPending {
			return nil, ErrRequestPending
		}
	}
	now := s.now().UTC()
	r := &FootageRequest{ID: registry.NewID(), ApplicationID: a.ID, ReviewerID: reviewer, CameraID: cam.ID,
		OwnerOrganisationID: cam.OrganisationID, From: g.From, To: g.To, Reason: reason, Status: RequestPending, CreatedAt: now}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionFootageRequest, CameraIDs: []string{cam.ID}, From: r.From, To: r.To,
		Reference: a.ID, Purpose: "lost-person application", Outcome: trace.Allowed,
		Reason: "footage request " + r.ID + " sent to the camera's owner " + cam.OrganisationID + ": " + reason}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateFootageRequest(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// ApplicationRequests lists the footage requests sent for an application, oldest first.
func (s *Service) ApplicationRequests(ctx context.Context, applicationID string) ([]RequestView, error) {
	a, err := s.application(ctx, applicationID)
	if err != nil {
		return nil, err
	}
	rs, err := s.repo.FootageRequests(ctx, RequestFilter{ApplicationID: a.ID})
	if err != nil {
		return nil, err
	}
	out := make([]RequestView, len(rs))
	for i, r := range rs {
		out[i] = r.reviewerView()
	}
	return out, nil
}

// ownerOrg is the organisation whose footage requests u decides: an operator's or owner's own.
func ownerOrg(u *auth.User) (string, error) {
	if u == nil || !u.Role.OrgScoped() || u.OrganisationID == "" {
		return "", fmt.Errorf("footage requests: %w", fault.ErrForbidden)
	}
	return u.OrganisationID, nil
}

// OwnerRequests lists the footage requests for u's organisation's cameras, newest first.
func (s *Service) OwnerRequests(ctx context.Context, u *auth.User) ([]OwnerRequestView, error) {
	org, err := ownerOrg(u)
	if err != nil {
		return nil, err
	}
	rs, err := s.repo.FootageRequests(ctx, RequestFilter{OwnerOrganisationID: org})
	if err != nil {
		return nil, err
	}
	out := make([]OwnerRequestView, 0, len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		out = append(out, rs[i].ownerView(s.cameraName(ctx, rs[i].CameraID)))
	}
	return out, nil
}

// OwnerRequest is one footage request for u's organisation's cameras; another organisation's
// request is not found.
func (s *Service) OwnerRequest(ctx context.Context, u *auth.User, id string) (*OwnerRequestView, error) {
	r, err := s.ownerRequest(ctx, u, id)
	if err != nil {
		return nil, err
	}
	v := r.ownerView(s.cameraName(ctx, r.CameraID))
	return &v, nil
}

func (s *Service) ownerRequest(ctx context.Context, u *auth.User, id string) (*FootageRequest, error) {
	org, err := ownerOrg(u)
	if err != nil {
		return nil, err
	}
	if !registry.ValidID(id) {
		return nil, fmt.Errorf("footage request %q: %w", id, ErrNotFound)
	}
	r, err := s.repo.FootageRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.OwnerOrganisationID != org {
		return nil, fmt.Errorf("footage request %s: %w", id, ErrNotFound)
	}
	return r, nil
}

func (s *Service) cameraName(ctx context.Context, id string) string {
	if s.cams == nil {
		return ""
	}
	c, err := s.cams.Camera(ctx, registry.Scope{All: true}, id)
	if err != nil {
		return ""
	}
	return c.Name
}

// DecideRequest is the owner's answer to a pending footage request: approve opens the camera's
// footage in the request's window to the application's reviewers, decline keeps it closed. The
// decision is traced on the owner's side (with the request, the camera and the window) before
// it is written.
func (s *Service) DecideRequest(ctx context.Context, u *auth.User, id string, approve bool, note string) (*OwnerRequestView, error) {
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, invalid("note", "at most 1000 bytes")
	}
	r, err := s.ownerRequest(ctx, u, id)
	if err == nil && r.Status != RequestPending {
		err = fmt.Errorf("decide a %s footage request: %w", r.Status, ErrState)
	}
	if err != nil {
		// A refused decision is a refused change: traced, with what was asked.
		if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionFootageRequestDecision, Reference: id, Outcome: trace.Denied,
			Reason: err.Error()}); terr != nil {
			return nil, terr
		}
		return nil, tracedRefusal(err)
	}
	verdict := RequestDeclined
	if approve {
		verdict = RequestApproved
	}
	now := s.now().UTC()
	r.Status, r.DecidedAt, r.DecidedBy, r.DecisionNote = verdict, now, u.ID, note
	reason := "footage request " + r.ID + " " + string(verdict) + " by the camera's owner"
	if note != "" {
		reason += ": " + note
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionFootageRequestDecision, CameraIDs: []string{r.CameraID},
		From: r.From, To: r.To, Reference: r.ID, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.repo.DecideFootageRequest(ctx, r); err != nil {
		return nil, err
	}
	v := r.ownerView(s.cameraName(ctx, r.CameraID))
	return &v, nil
}

// FootageApproved implements access.Approvals: nil when the camera's owner approved a footage
// request of the application covering [from, to). Which reviewer may look is the candidate
// search's to say (FootageAllowed); the approval is the owner's consent for the application.
func (s *Service) FootageApproved(ctx context.Context, applicationID, _, cameraID string, from, to time.Time) error {
	if !registry.ValidID(applicationID) || !registry.ValidID(cameraID) {
		return fmt.Errorf("%w: malformed application or camera", ErrFootageDenied)
	}
	rs, err := s.repo.FootageRequests(ctx, RequestFilter{ApplicationID: applicationID, CameraID: cameraID})
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status == RequestApproved && !from.Before(r.From) && !to.After(r.To) {
			return nil
		}
	}
	return fmt.Errorf("%w: no approved footage request covers camera %s then", ErrFootageDenied, cameraID)
}

// tracedRefusal marks a refusal this package has traced, so that a face does not trace it
// again: a request outside the caller's reach is answered as not found, as it always is.
func tracedRefusal(err error) error {
	if errors.Is(err, ErrNotFound) {
		return &fault.Error{Kind: fault.NotFound, Code: "not_found", Message: "no such object", Traced: true, Err: err}
	}
	return err
}
