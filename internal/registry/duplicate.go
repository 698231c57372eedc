package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"civicam/internal/auth"
	"civicam/internal/coverage"
	"civicam/internal/fault"
	"civicam/internal/trace"
)

// Construction decisions of the public security organ on a duplicate camera (REG-3).
const (
	ConstructionApproved = "approved"
	ConstructionDeclined = "declined"
)

// DuplicateOverlap is one existing camera that sees part of a proposed camera's field of view,
// as the proposer may see it: the camera, its owner and the overlap, never its footage, stream
// or address.
type DuplicateOverlap struct {
	CameraID         string  `json:"camera_id"`
	CameraName       string  `json:"camera_name"`
	Status           string  `json:"status"`
	OrganisationID   string  `json:"organisation_id"`
	OrganisationName string  `json:"organisation_name"`
	OverlapPercent   float64 `json:"overlap_percent"` // of the proposed camera's field of view
	OverlapM2        float64 `json:"overlap_m2"`
	// Shared: its owner already shares it with the proposer's organisation. Shareable: it is on
	// the shared platform (networked), so its owner could share it instead of a new camera.
	Shared    bool `json:"shared"`
	Shareable bool `json:"shareable"`
}

// DuplicateReport is the duplicate-construction check of one camera.
type DuplicateReport struct {
	CameraID          string                `json:"camera_id"`
	Status            string                `json:"status"`
	FieldOfViewM2     float64               `json:"field_of_view_m2"`
	ThresholdPercent  float64               `json:"threshold_percent"` // 0: the pack has no such check
	MaxOverlapPercent float64               `json:"max_overlap_percent"`
	Duplicate         bool                  `json:"duplicate"` // above the threshold and not approved
	Overlaps          []DuplicateOverlap    `json:"overlaps"`
	Approval          *ConstructionApproval `json:"approval,omitempty"`
	Rule              string                `json:"rule,omitempty"`
	PolicyVersion     string                `json:"policy_version"`
	CheckedAt         time.Time             `json:"checked_at"`
}

// ConstructionApproval is the public security organ's decision on building a camera whose field
// of view duplicates existing ones, with the overlaps the decider saw.
type ConstructionApproval struct {
	CameraID              string             `json:"camera_id"`
	Status                string             `json:"status"` // ConstructionApproved or ConstructionDeclined
	MaxOverlapPercent     float64            `json:"max_overlap_percent"`
	Overlaps              []DuplicateOverlap `json:"overlaps"`
	Note                  string             `json:"note,omitempty"`
	DecidedBy             string             `json:"decided_by"`
	DecidedOrganisationID string             `json:"decided_organisation_id"`
	DecidedAt             time.Time          `json:"decided_at"`
	PolicyVersion         string             `json:"policy_version"`
}

// ConstructionDecision is what a decider submits.
type ConstructionDecision struct {
	Decision string `json:"decision"` // approve or decline
	Note     string `json:"note"`
}

// ApprovalRepo keeps the construction decisions; *store.DB implements it.
type ApprovalRepo interface {
	PutConstructionApproval(ctx context.Context, a *ConstructionApproval) error
	ConstructionApprovals(ctx context.Context) ([]*ConstructionApproval, error)
}

// SharingLookup answers whether cam is shared with organisation orgID at t; app adapts the
// sharing grants to it.
type SharingLookup interface {
	SharedWith(ctx context.Context, cam *Camera, orgID string, at time.Time) (bool, error)
}

// UseSharing sets how the duplicate check finds out whether an overlapping camera is already
// shared; call it once, before serving (the sharing service is built after the registry).
func (s *Service) UseSharing(l SharingLookup) { s.sharingLookup = l }

func viewOf(c *Camera) coverage.View {
	return coverage.View{Lat: c.Lat, Lon: c.Lon, Bearing: c.Bearing, FOV: c.FOVAngle, RangeM: c.RangeM}
}

// overlaps are the other cameras' overlaps of c's field of view, largest first.
func (s *Service) overlaps(c *Camera) []coverage.Overlap {
	os, err := s.views.Overlaps(viewOf(c), func(id string) bool { return id == c.ID })
	if err != nil {
		// Validation admits only positions the index takes; a failure here is a bug to see.
		s.log.Error("duplicate check", "camera", c.ID, "err", err)
	}
	return os
}

func maxPercent(os []coverage.Overlap) float64 {
	var m float64
	for _, o := range os {
		m = max(m, o.Percent)
	}
	return m
}

// approval is the decision kept for camera id, if any.
func (s *Service) approval(id string) *ConstructionApproval {
	s.approvalsMu.RLock()
	defer s.approvalsMu.RUnlock()
	return s.approvals[id]
}

// dupFacts fills in the duplicate check of c's facts where the pack's decisions depend on it:
// for a planned camera (its finding), and for one becoming active (the refusal).
func (s *Service) dupFacts(c *Camera, activating bool) (percent float64, approved bool) {
	if s.pack.DuplicateOverlapPercent() == 0 || !(c.Status == StatusPlanned || activating) {
		return 0, false
	}
	a := s.approval(c.ID)
	return maxPercent(s.overlaps(c)), a != nil && a.Status == ConstructionApproved
}

// loadApprovals reads the construction decisions into memory.
func (s *Service) loadApprovals(ctx context.Context) error {
	if s.approvalRepo == nil {
		return nil
	}
	as, err := s.approvalRepo.ConstructionApprovals(ctx)
	if err != nil {
		return fmt.Errorf("load construction approvals: %w", err)
	}
	m := make(map[string]*ConstructionApproval, len(as))
	for _, a := range as {
		m[a.CameraID] = a
	}
	s.approvalsMu.Lock()
	s.approvals = m
	s.approvalsMu.Unlock()
	return nil
}

// DuplicateCheck checks camera id, within scope, against every camera of every organisation:
// each one whose field of view overlaps it, its owner, and whether it is shared or could be.
// The look is traced with what it found, and the camera's kept findings follow the result.
func (s *Service) DuplicateCheck(ctx context.Context, scope Scope, id string) (*DuplicateReport, error) {
	c, err := s.Camera(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	r, err := s.duplicateReport(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionDuplicateCheck, CameraIDs: overlapIDs(c.ID, r.Overlaps),
		Outcome: trace.Allowed, Reason: "duplicate check: " + overlapsText(r)}); err != nil {
		return nil, err
	}
	s.storeFindings(ctx, c)
	return r, nil
}

func (s *Service) duplicateReport(ctx context.Context, c *Camera) (*DuplicateReport, error) {
	now := s.now().UTC()
	os := s.overlaps(c)
	r := &DuplicateReport{
		CameraID: c.ID, Status: c.Status, ThresholdPercent: s.pack.DuplicateOverlapPercent(),
		FieldOfViewM2:     coverage.Sector{FOV: c.FOVAngle, Range: c.RangeM}.Area(),
		MaxOverlapPercent: maxPercent(os), Overlaps: []DuplicateOverlap{}, Approval: s.approval(c.ID),
		Rule: s.pack.DuplicateRule(), PolicyVersion: s.pack.Version(), CheckedAt: now,
	}
	r.Duplicate = r.ThresholdPercent > 0 && r.MaxOverlapPercent > r.ThresholdPercent &&
		(r.Approval == nil || r.Approval.Status != ConstructionApproved)
	if len(os) == 0 {
		return r, nil
	}
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	cams, err := s.repo.Cameras(ctx, Scope{All: true}, CameraFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Camera, len(cams))
	for _, k := range cams {
		byID[k.ID] = k
	}
	orgs, err := s.repo.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	orgName := make(map[string]string, len(orgs))
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	for _, o := range os {
		k, ok := byID[o.ID]
		if !ok || k.Status == StatusDecommissioned {
			continue
		}
		d := DuplicateOverlap{
			CameraID: k.ID, CameraName: k.Name, Status: k.Status, OrganisationID: k.OrganisationID,
			OrganisationName: orgName[k.OrganisationID], OverlapPercent: round2(o.Percent), OverlapM2: round2(o.AreaM2),
			Shareable: k.Networked || k.InterfaceReserved,
		}
		switch {
		case k.OrganisationID == c.OrganisationID:
			d.Shared = true // its own organisation's camera: nothing to share
		case s.sharingLookup != nil:
			if d.Shared, err = s.sharingLookup.SharedWith(ctx, k, c.OrganisationID, now); err != nil {
				return nil, fmt.Errorf("sharing of camera %s: %w", k.ID, err)
			}
		}
		r.Overlaps = append(r.Overlaps, d)
	}
	return r, nil
}

func round2(v float64) float64 {
	return float64(int64(v*100+0.5)) / 100
}

// overlapIDs are the camera ids an entry names: the camera checked, then the largest overlaps.
func overlapIDs(id string, os []DuplicateOverlap) []string {
	ids := []string{id}
	for _, o := range os {
		if len(ids) == 20 {
			break
		}
		ids = append(ids, o.CameraID)
	}
	return ids
}

// overlapsText says, for the trail, what a check saw: the largest overlaps with their owners.
func overlapsText(r *DuplicateReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "max overlap %s%% (limit %s%%), %d overlapping cameras", ftoa(r.MaxOverlapPercent), ftoa(r.ThresholdPercent), len(r.Overlaps))
	for i, o := range r.Overlaps {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(r.Overlaps)-i)
			break
		}
		fmt.Fprintf(&b, "; %s of %s %s%%", o.CameraID, o.OrganisationID, ftoa(o.OverlapPercent))
	}
	return b.String()
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// DecideConstruction records the public security organ's decision on building camera id
// despite its overlaps: an admin, or a reviewer, of a public-security organisation other than
// the camera's. The entry names the overlaps the decider saw, checked again now.
func (s *Service) DecideConstruction(ctx context.Context, u *auth.User, id string, d ConstructionDecision) (*ConstructionApproval, error) {
	if s.approvalRepo == nil {
		return nil, errors.New("construction approvals are not kept by this store")
	}
	var status string
	switch d.Decision {
	case "approve":
		status = ConstructionApproved
	case "decline":
		status = ConstructionDeclined
	default:
		return nil, invalid("decision", "must be approve or decline")
	}
	note := strings.TrimSpace(d.Note)
	if utf8.RuneCountInString(note) > 1000 {
		return nil, invalid("note", "is longer than 1000 characters")
	}
	if status == ConstructionDeclined && note == "" {
		return nil, invalid("note", "is required: say why the construction is declined")
	}
	c, err := s.Camera(ctx, Scope{All: true}, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayDecideConstruction(ctx, u, c); err != nil {
		if errors.Is(err, fault.ErrForbidden) || errors.Is(err, fault.ErrConflict) {
			if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConstructionDecision, CameraIDs: []string{id}, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
				return nil, terr
			}
		}
		return nil, err
	}
	r, err := s.duplicateReport(ctx, c)
	if err != nil {
		return nil, err
	}
	a := &ConstructionApproval{
		CameraID: c.ID, Status: status, MaxOverlapPercent: r.MaxOverlapPercent, Overlaps: r.Overlaps, Note: note,
		DecidedBy: u.ID, DecidedOrganisationID: u.OrganisationID, DecidedAt: s.now().UTC(), PolicyVersion: s.pack.Version(),
	}
	reason := "construction " + status + ": " + overlapsText(r)
	if note != "" {
		reason += "; note: " + note
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionConstructionDecision, CameraIDs: overlapIDs(c.ID, r.Overlaps), Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.approvalRepo.PutConstructionApproval(ctx, a); err != nil {
		s.recordNotStored(ctx, trace.ActionConstructionDecision, []string{c.ID}, err)
		return nil, err
	}
	s.approvalsMu.Lock()
	s.approvals[c.ID] = a
	s.approvalsMu.Unlock()
	s.storeFindings(ctx, c)
	return a, nil
}

// mayDecideConstruction says whether u may decide on building c.
func (s *Service) mayDecideConstruction(ctx context.Context, u *auth.User, c *Camera) error {
	forbidden := func(code, msg string) error { return &fault.Error{Kind: fault.Forbidden, Code: code, Message: msg} }
	notOrgan := forbidden("construction_approver", "only the public security organ (an admin or reviewer of a public-security organisation) decides on a duplicate camera's construction")
	if (u.Role != auth.RoleAdmin && u.Role != auth.RoleReviewer) || u.OrganisationID == "" {
		return notOrgan
	}
	org, err := s.repo.Organisation(ctx, u.OrganisationID)
	if errors.Is(err, fault.ErrNotFound) {
		return notOrgan
	}
	if err != nil {
		return fmt.Errorf("decider's organisation: %w", err)
	}
	if org.Kind != KindDepartment || org.DepartmentType != "public_security" {
		return notOrgan
	}
	if u.OrganisationID == c.OrganisationID {
		return forbidden("construction_same_organisation", "a camera's construction is decided by an organisation other than its owner")
	}
	if c.Status != StatusPlanned {
		return &fault.Error{Kind: fault.Conflict, Code: "construction_not_planned", Message: "only a planned camera's construction is decided"}
	}
	return nil
}
