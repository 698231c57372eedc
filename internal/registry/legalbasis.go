package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/trace"
)

// Decision codes of the legal-basis workflow, beside the pack's own.
const (
	CodeLegalBasisFreeText = "legal_basis_free_text" // legal_basis given as text instead of a pack id
	CodeLegalBasisUnknown  = "legal_basis_unknown"   // an id the pack does not list
)

// LegalBasisProposal is what a user submits to record a camera's legal basis.
type LegalBasisProposal struct {
	BasisID     string `json:"basis_id"`
	DocumentRef string `json:"document_ref"`
}

// basisRefusal is a policy refusal of a legal basis (HTTP 422), on its own or in an import row.
func (s *Service) basisRefusal(code, field, format string, args ...any) error {
	return &PolicyError{Decisions: []policy.Decision{{Code: code, Field: field, Rule: s.pack.LegalBasisRule(), PolicyVersion: s.pack.Version(),
		Reason: fmt.Sprintf(format, args...)}}}
}

// checkBasisInput refuses free text where a legal basis belongs: the text of the old
// legal_basis field was never checked by anyone, so it is not a basis.
func (s *Service) checkBasisInput(in *CameraInput) error {
	if in.LegalBasis != nil && strings.TrimSpace(*in.LegalBasis) != "" {
		return s.basisRefusal(CodeLegalBasisFreeText, "legal_basis",
			"a legal basis is not free text: give legal_basis_id (one of the policy pack's legal bases: %s) and legal_basis_document_ref; it takes effect when an admin of another public-security organisation approves it",
			strings.Join(s.basisIDs(), ", "))
	}
	return nil
}

func (s *Service) basisIDs() []string {
	var ids []string
	for _, b := range s.pack.LegalBases() {
		ids = append(ids, b.ID)
	}
	return ids
}

// proposal builds the pending record of a proposed basis, checked against the pack.
func (s *Service) proposal(basisID, ref, userID, orgID string) (LegalBasisRecord, error) {
	basisID, ref = strings.TrimSpace(basisID), strings.TrimSpace(ref)
	if _, ok := s.pack.LegalBasis(basisID); !ok {
		return LegalBasisRecord{}, s.basisRefusal(CodeLegalBasisUnknown, "legal_basis_id",
			"%q is not one of the legal bases of policy pack %s (%s)", basisID, s.pack.Version(), strings.Join(s.basisIDs(), ", "))
	}
	if ref == "" {
		return LegalBasisRecord{}, invalid("legal_basis_document_ref", "is required: the document that applies the law to this camera")
	}
	if utf8.RuneCountInString(ref) > 1000 {
		return LegalBasisRecord{}, invalid("legal_basis_document_ref", "is longer than 1000 characters")
	}
	return LegalBasisRecord{ID: basisID, DocumentRef: ref, Status: BasisPending, ProposedBy: userID,
		ProposedOrganisationID: orgID, ProposedAt: s.now().UTC()}, nil
}

// applyBasisInput records the basis a create or a change proposes, pending, proposed by the
// actor the trail records for ctx.
func (s *Service) applyBasisInput(ctx context.Context, c *Camera, in *CameraInput) error {
	if err := s.checkBasisInput(in); err != nil {
		return err
	}
	if in.LegalBasisID == nil && in.LegalBasisDocumentRef == nil {
		return nil
	}
	if in.LegalBasisID == nil {
		return invalid("legal_basis_id", "is required with legal_basis_document_ref")
	}
	a, _ := auth.ActorFrom(ctx)
	ref := ""
	if in.LegalBasisDocumentRef != nil {
		ref = *in.LegalBasisDocumentRef
	}
	b, err := s.proposal(*in.LegalBasisID, ref, a.UserID, a.OrganisationID)
	if err != nil {
		return err
	}
	c.Basis = b
	return nil
}

// ProposeLegalBasis records basis as the camera's legal basis, pending until an admin of a
// public-security organisation other than u's approves it. A new proposal replaces the one
// before it, approved or not: what is in force is always what a second person approved.
func (s *Service) ProposeLegalBasis(ctx context.Context, scope Scope, u *auth.User, id string, p LegalBasisProposal) (*Camera, error) {
	old, err := s.Camera(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	b, err := s.proposal(p.BasisID, p.DocumentRef, u.ID, u.OrganisationID)
	if err != nil {
		s.traceRefusal(ctx, trace.ActionLegalBasisPropose, []string{id}, err)
		return nil, err
	}
	c := *old
	c.Basis = b
	return s.writeBasis(ctx, &c, trace.ActionLegalBasisPropose, "proposed "+b.ID+", document "+b.DocumentRef)
}

// ApproveLegalBasis puts the camera's pending basis in force. Only an admin of a public-security
// organisation other than the proposer's may (REG-2: a second person, of the police, checks the
// law); a refusal is traced.
func (s *Service) ApproveLegalBasis(ctx context.Context, u *auth.User, id string) (*Camera, error) {
	return s.decideBasis(ctx, u, id, BasisApproved, "")
}

// DeclineLegalBasis refuses the camera's pending basis, with a note of why; the same people may
// decline as may approve.
func (s *Service) DeclineLegalBasis(ctx context.Context, u *auth.User, id, note string) (*Camera, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 1000 {
		return nil, invalid("note", "is longer than 1000 characters")
	}
	return s.decideBasis(ctx, u, id, BasisDeclined, note)
}

func (s *Service) decideBasis(ctx context.Context, u *auth.User, id, status, note string) (*Camera, error) {
	action := trace.ActionLegalBasisApprove
	if status == BasisDeclined {
		action = trace.ActionLegalBasisDecline
	}
	old, err := s.Camera(ctx, Scope{All: u.Role == auth.RoleAdmin}, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayDecide(ctx, u, old.Basis); err != nil {
		if errors.Is(err, fault.ErrForbidden) {
			if terr := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: []string{id}, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
				return nil, terr
			}
		}
		return nil, err
	}
	c := *old
	c.Basis.Status, c.Basis.DecidedBy, c.Basis.DecidedOrganisationID, c.Basis.DecidedAt, c.Basis.Note =
		status, u.ID, u.OrganisationID, s.now().UTC(), note
	reason := status + " " + c.Basis.ID + ", document " + c.Basis.DocumentRef + ", proposed by " + c.Basis.ProposedBy
	if note != "" {
		reason += ": " + note
	}
	return s.writeBasis(ctx, &c, action, reason)
}

// mayDecide says whether u may approve or decline b.
func (s *Service) mayDecide(ctx context.Context, u *auth.User, b LegalBasisRecord) error {
	forbidden := func(code, msg string) error { return &fault.Error{Kind: fault.Forbidden, Code: code, Message: msg} }
	if u.Role != auth.RoleAdmin || u.OrganisationID == "" {
		return forbidden("legal_basis_approver", "only an admin of a public-security organisation may decide on a legal basis")
	}
	org, err := s.repo.Organisation(ctx, u.OrganisationID)
	if errors.Is(err, fault.ErrNotFound) {
		return forbidden("legal_basis_approver", "only an admin of a public-security organisation may decide on a legal basis")
	}
	if err != nil {
		return fmt.Errorf("approver's organisation: %w", err)
	}
	if org.Kind != KindDepartment || org.DepartmentType != "public_security" {
		return forbidden("legal_basis_approver", "only an admin of a public-security organisation may decide on a legal basis")
	}
	if u.ID == b.ProposedBy || (b.ProposedOrganisationID != "" && u.OrganisationID == b.ProposedOrganisationID) {
		return forbidden("legal_basis_same_organisation", "a legal basis is decided by an organisation other than the one that proposed it")
	}
	if b.Status != BasisPending {
		return &fault.Error{Kind: fault.Conflict, Code: "legal_basis_not_pending", Message: "the camera has no legal basis pending a decision"}
	}
	if _, ok := s.pack.LegalBasis(b.ID); !ok {
		// A basis migrated from free text, or one a newer pack no longer lists.
		return s.basisRefusal(CodeLegalBasisUnknown, "legal_basis_id",
			"the pending basis %q is not one of the legal bases of policy pack %s; it must be proposed again with one of them (%s)",
			b.ID, s.pack.Version(), strings.Join(s.basisIDs(), ", "))
	}
	return nil
}

// writeBasis traces and stores a change of the camera's legal basis alone. The pack is not
// asked: a basis changes what the camera may do, and the checks that depend on it run when the
// camera is activated and in the compliance report.
func (s *Service) writeBasis(ctx context.Context, c *Camera, action trace.Action, reason string) (*Camera, error) {
	c.UpdatedAt = s.now().UTC()
	if err := s.tracer.Record(ctx, trace.Record{Action: action, CameraIDs: []string{c.ID}, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.repo.UpdateCamera(ctx, c); err != nil {
		s.recordNotStored(ctx, action, []string{c.ID}, err)
		return nil, err
	}
	s.indexCamera(c)
	// A basis proposed, approved or declined changes the camera's findings
	// (networking_exemption_pending, prohibited placement): the kept ones follow.
	s.storeFindings(ctx, c)
	return c, nil
}
