package registry

import (
	"context"
	"fmt"
	"slices"
	"time"

	"civicam/internal/policy"
)

// FindingRow is one finding of one camera as the store keeps it for the paged compliance
// report: which camera, which finding (its place Ord in the pack's list for the camera, and its
// code), and from when it holds. The message is computed again when the finding is served.
type FindingRow struct {
	CameraID       string
	Ord            int
	Code           string
	OrganisationID string
	DueAt          time.Time // zero: holds now; else holds once the clock is past DueAt
}

// FindingFilter narrows the findings the store lists or counts. Zero fields do not filter.
type FindingFilter struct {
	OrganisationID string
	CameraID       string
	Now            time.Time // findings with a DueAt at or after Now do not hold yet
	// After is the keyset cursor: rows after (AfterCamera, AfterOrd) in (camera id, ord) order.
	AfterCamera string
	AfterOrd    int
	Limit       int
}

// FindingCounts are the findings in force in a scope, counted.
type FindingCounts struct {
	Total          int            `json:"total"`
	Cameras        int            `json:"cameras"`
	ByCode         map[string]int `json:"by_code"`
	ByOrganisation map[string]int `json:"by_organisation"`
}

// FindingRepo keeps the findings per camera; *store.DB implements it.
type FindingRepo interface {
	// PutFindings replaces the rows of the cameras ids with rows, in one transaction.
	PutFindings(ctx context.Context, ids []string, rows []FindingRow) error
	// FindingRows lists the rows in force in the scope, in (camera id, ord) order.
	FindingRows(ctx context.Context, scope Scope, f FindingFilter) ([]FindingRow, error)
	// CountFindings counts the rows in force in the scope.
	CountFindings(ctx context.Context, scope Scope, f FindingFilter) (FindingCounts, error)
	// FindingsPack is the pack version the rows were computed with ("" when never).
	FindingsPack(ctx context.Context) (string, error)
	SetFindingsPack(ctx context.Context, version string) error
}

// findingRows are the rows c contributes: the findings that hold whatever the time, and the
// maintenance and sign-check findings with the dates they fall due, asked of the pack just after that date so
// that the pack alone decides whether the camera owes maintenance at all.
func (s *Service) findingRows(c *Camera) []FindingRow {
	facts := s.facts(c)
	var epoch time.Time
	fs := s.pack.Findings(facts, epoch)
	rows := make([]FindingRow, 0, len(fs)+1)
	for i, f := range fs {
		rows = append(rows, FindingRow{CameraID: c.ID, Ord: i, Code: f.Code, OrganisationID: c.OrganisationID})
	}
	holds := func(code string) bool {
		return slices.ContainsFunc(fs, func(f policy.Finding) bool { return f.Code == code })
	}
	later := func(code string, due time.Time) {
		for _, f := range s.pack.Findings(facts, due.Add(time.Microsecond)) {
			if f.Code == code {
				rows = append(rows, FindingRow{CameraID: c.ID, Ord: len(rows), Code: f.Code, OrganisationID: c.OrganisationID, DueAt: due})
			}
		}
	}
	base := c.LastMaintenanceAt
	if base.IsZero() {
		base = c.CreatedAt
	}
	if !base.IsZero() && !holds(policy.CodeMaintenanceOverdue) {
		later(policy.CodeMaintenanceOverdue, base.AddDate(0, 0, s.pack.EffectiveMaintenanceIntervalDays(facts)))
	}
	if due, owes := s.pack.SignCheckDue(facts); owes && !due.IsZero() && !holds(policy.CodeSignCheckOverdue) {
		later(policy.CodeSignCheckOverdue, due)
	}
	return rows
}

// storeFindings rewrites the findings of cams after they were written. A failure is logged,
// not returned: the camera is stored and its change traced, and the next Sync, which re-reads
// changed cameras, writes the findings again.
func (s *Service) storeFindings(ctx context.Context, cams ...*Camera) {
	if s.findings == nil || len(cams) == 0 {
		return
	}
	if err := s.putFindings(ctx, cams); err != nil {
		s.log.Error("registry: store compliance findings", "cameras", len(cams), "err", err)
	}
}

// findingsBatch is how many cameras' findings one transaction rewrites.
const findingsBatch = 2000

func (s *Service) putFindings(ctx context.Context, cams []*Camera) error {
	for start := 0; start < len(cams); start += findingsBatch {
		batch := cams[start:min(start+findingsBatch, len(cams))]
		ids := make([]string, len(batch))
		var rows []FindingRow
		for i, c := range batch {
			ids[i] = c.ID
			rows = append(rows, s.findingRows(c)...)
		}
		if err := s.findings.PutFindings(ctx, ids, rows); err != nil {
			return err
		}
	}
	return nil
}

// refreshFindings recomputes every camera's findings when the pack in force is not the one
// they were computed with (a new pack, or a database from before findings were kept).
func (s *Service) refreshFindings(ctx context.Context, cams []*Camera) error {
	if s.findings == nil {
		return nil
	}
	v, err := s.findings.FindingsPack(ctx)
	if err != nil {
		return err
	}
	if v == s.pack.Version() {
		return nil
	}
	if err := s.putFindings(ctx, cams); err != nil {
		return fmt.Errorf("recompute compliance findings for policy %s: %w", s.pack.Version(), err)
	}
	s.log.Info("compliance findings recomputed", "cameras", len(cams), "policy_version", s.pack.Version())
	return s.findings.SetFindingsPack(ctx, s.pack.Version())
}

// FindingsPage is one page of the compliance report.
type FindingsPage struct {
	Findings []Finding
	// Next is the key after which the next page starts; nil when this page is the last.
	Next *FindingKey
}

// FindingKey is a finding's place in the report's order: its camera, then its place among the
// camera's findings.
type FindingKey struct {
	CameraID string
	Ord      int
}

// Less orders keys as the report does.
func (k FindingKey) Less(o FindingKey) bool {
	return k.CameraID < o.CameraID || (k.CameraID == o.CameraID && k.Ord < o.Ord)
}

// KeyedFinding is a Finding with its place in the report.
type KeyedFinding struct {
	Finding
	Key FindingKey `json:"-"`
}

// CompliancePage is one page of the policy findings in scope, after the key after (nil: from the
// start), at most limit of them, optionally narrowed to one organisation or one camera. The
// findings come from the kept rows; their messages are the pack's as of now.
func (s *Service) CompliancePage(ctx context.Context, scope Scope, organisationID, cameraID string, after *FindingKey, limit int) ([]KeyedFinding, bool, error) {
	if cameraID != "" {
		if _, err := s.Camera(ctx, scope, cameraID); err != nil {
			return nil, false, err
		}
	}
	if organisationID != "" && !ValidID(organisationID) {
		return nil, false, invalid("organisation_id", "is not a valid id")
	}
	now := s.now()
	f := FindingFilter{OrganisationID: organisationID, CameraID: cameraID, Now: now, Limit: limit + 1}
	if after != nil {
		f.AfterCamera, f.AfterOrd = after.CameraID, after.Ord
	}
	rows, err := s.findings.FindingRows(ctx, scope, f)
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		if len(ids) == 0 || ids[len(ids)-1] != r.CameraID {
			ids = append(ids, r.CameraID)
		}
	}
	cams, err := s.repo.Cameras(ctx, scope, CameraFilter{IDs: ids})
	if err != nil {
		return nil, false, err
	}
	byID := make(map[string]*Camera, len(cams))
	for _, c := range cams {
		byID[c.ID] = c
	}
	out := make([]KeyedFinding, 0, len(rows))
	for _, r := range rows {
		c, ok := byID[r.CameraID]
		if !ok {
			continue
		}
		// The row says which finding; the pack, asked now, says what it is. A row the camera no
		// longer earns (written by a node with another pack, say) is left out rather than shown.
		for _, pf := range s.pack.Findings(s.facts(c), now) {
			if pf.Code == r.Code {
				out = append(out, KeyedFinding{Key: FindingKey{r.CameraID, r.Ord}, Finding: Finding{
					CameraID: c.ID, CameraName: c.Name, OrganisationID: c.OrganisationID,
					Code: pf.Code, Rule: pf.Rule, Message: pf.Message, PolicyVersion: pf.PolicyVersion,
				}})
				break
			}
		}
	}
	return out, more, nil
}

// ComplianceSummary counts the policy findings in force in scope, optionally narrowed to one
// organisation, without loading a camera.
func (s *Service) ComplianceSummary(ctx context.Context, scope Scope, organisationID string) (FindingCounts, error) {
	if organisationID != "" && !ValidID(organisationID) {
		return FindingCounts{}, invalid("organisation_id", "is not a valid id")
	}
	return s.findings.CountFindings(ctx, scope, FindingFilter{OrganisationID: organisationID, Now: s.now()})
}
