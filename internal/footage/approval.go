package footage

import (
	"context"
	"fmt"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// ExportApproval is an export held back by the pack's two-person rule (Chongqing: officials
// using footage act in pairs) until a second user of the requester's organisation approves it.
type ExportApproval struct {
	ID              string            `json:"id"`
	CameraID        string            `json:"camera_id"`
	Start           time.Time         `json:"start"`
	End             time.Time         `json:"end"`
	Purpose         string            `json:"purpose"`
	CaseRef         string            `json:"case_ref"`
	ApplicationID   string            `json:"application_id,omitempty"`
	Recipient       *export.Recipient `json:"recipient,omitempty"`
	RequestedBy     string            `json:"requested_by"`
	RequestedByName string            `json:"requested_by_name"`
	OrganisationID  string            `json:"organisation_id"`
	RequestedAt     time.Time         `json:"requested_at"`
	ApprovedBy      string            `json:"approved_by,omitempty"`
	ApprovedByName  string            `json:"approved_by_name,omitempty"`
	ApprovedAt      time.Time         `json:"approved_at,omitzero"`
	ExportID        string            `json:"export_id,omitempty"`
}

// Approvals keeps export approvals; *store.DB implements it. ApproveExport of a request no
// longer pending is fault.ErrConflict; a missing one is fault.ErrNotFound.
type Approvals interface {
	CreateExportApproval(ctx context.Context, a *ExportApproval) error
	ExportApproval(ctx context.Context, id string) (*ExportApproval, error)
	PendingExportApprovals(ctx context.Context, organisationID string) ([]*ExportApproval, error)
	ApproveExport(ctx context.Context, id, byUserID, byUsername string, at time.Time, exportID string) error
}

// Users finds the user who asked for an export, as the account is now.
type Users interface {
	User(ctx context.Context, id string) (*auth.User, error)
}

// Pending is Export's answer when the two-person rule holds the export back.
type Pending struct{ Approval *ExportApproval }

// errSelfApproval refuses an approval by the requester: the rule takes a second person.
var errSelfApproval = &fault.Error{Kind: fault.Forbidden, Code: "second_person_required",
	Message: "an export is approved by a second user of the requester's organisation, not by the requester"}

// requestApproval records an export request that a second person must approve: decided for u
// as an export would be (so that nobody asks for what they could not export), traced, stored.
func (s *Service) requestApproval(ctx context.Context, u *auth.User, l *Look) (*Pending, error) {
	if s.d.Approvals == nil {
		return nil, fmt.Errorf("two-person exports: no approvals store")
	}
	a := &ExportApproval{ID: registry.NewID(), CameraID: l.Camera.ID, Start: l.Start.UTC(), End: l.End.UTC(), Purpose: l.Purpose,
		CaseRef: l.CaseRef, ApplicationID: l.ApplicationID, Recipient: l.Recipient, RequestedBy: u.ID, RequestedByName: u.Username,
		OrganisationID: u.OrganisationID, RequestedAt: s.d.Now().UTC()}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionExport, CameraIDs: []string{a.CameraID}, From: a.Start, To: a.End,
		Reference: a.CaseRef, Purpose: a.Purpose, Outcome: trace.Allowed,
		Reason: l.traceReason("export request " + a.ID + " awaiting a second user's approval (two-person rule)")}); err != nil {
		return nil, err
	}
	if err := s.d.Approvals.CreateExportApproval(ctx, a); err != nil {
		return nil, err
	}
	return &Pending{Approval: a}, nil
}

// PendingApprovals lists the export requests of u's organisation that await a second user.
func (s *Service) PendingApprovals(ctx context.Context, u *auth.User) ([]*ExportApproval, error) {
	if s.d.Approvals == nil {
		return []*ExportApproval{}, nil
	}
	return s.d.Approvals.PendingExportApprovals(ctx, u.OrganisationID)
}

// ApproveExport is the second person's approval of an export request: approver and requester
// are different users of one organisation, the approver may export that footage too, and the
// requester still may; the approval is traced naming both, then the export is made for the
// requester, its trail entry and signed manifest naming the approver. A request of another
// organisation is not found.
func (s *Service) ApproveExport(ctx context.Context, approver *auth.User, id string) (*Export, error) {
	if s.d.Approvals == nil || !registry.ValidID(id) {
		return nil, fmt.Errorf("export approval %q: %w", id, fault.ErrNotFound)
	}
	a, err := s.d.Approvals.ExportApproval(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.OrganisationID != approver.OrganisationID {
		return nil, fmt.Errorf("export approval %q: %w", id, fault.ErrNotFound)
	}
	rec := trace.Record{Action: trace.ActionExportApprove, CameraIDs: []string{a.CameraID}, From: a.Start, To: a.End,
		Reference: a.CaseRef, Purpose: a.Purpose, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("export request %s of %s (%s) approved by %s (%s)", a.ID, a.RequestedByName, a.RequestedBy, approver.Username, approver.ID)}
	if approver.ID == a.RequestedBy {
		rec.Outcome, rec.Reason = trace.Denied, fmt.Sprintf("export request %s: its requester %s may not approve it", a.ID, a.RequestedByName)
		if err := s.d.Tracer.Record(ctx, rec); err != nil {
			return nil, err
		}
		return nil, errSelfApproval
	}
	if !a.ApprovedAt.IsZero() {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "conflict", Message: "the export request is already approved"}
	}
	req := Request{CameraID: a.CameraID, Start: a.Start, End: a.End, Purpose: a.Purpose, CaseRef: a.CaseRef,
		ApplicationID: a.ApplicationID, Recipient: a.Recipient}
	// The approver vouches for footage they may see themselves; the export is the requester's.
	if _, err := s.Decide(ctx, approver, access.Export, req); err != nil {
		return nil, err
	}
	requester, err := s.d.Users.User(ctx, a.RequestedBy)
	if err != nil {
		return nil, fmt.Errorf("export request %s: requester: %w", a.ID, err)
	}
	if err := s.d.Tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	exportID := registry.NewID()
	if err := s.d.Approvals.ApproveExport(ctx, a.ID, approver.ID, approver.Username, s.d.Now().UTC(), exportID); err != nil {
		return nil, err
	}
	return s.makeExport(ctx, requester, req, exportID, &export.Exporter{UserID: approver.ID, Username: approver.Username,
		Role: string(approver.Role), OrganisationID: approver.OrganisationID})
}
