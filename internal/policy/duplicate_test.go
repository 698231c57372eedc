package policy

import (
	"slices"
	"testing"
)

func TestDuplicateConstruction(t *testing.T) {
	p := mustDefault(t)
	if got := p.DuplicateOverlapPercent(); got != 50 {
		t.Fatalf("DuplicateOverlapPercent() = %v; want 50", got)
	}
	tests := []struct {
		name     string
		status   string
		overlap  float64
		approved bool
		refused  bool // CheckCamera refuses with duplicate_coverage
		finding  bool // Findings lists duplicate_coverage
	}{
		{"planned duplicate", StatusPlanned, 80, false, false, true},
		{"planned at the limit", StatusPlanned, 50, false, false, false},
		{"planned approved", StatusPlanned, 80, true, false, false},
		{"activating duplicate", StatusActive, 80, false, true, false},
		{"activating approved", StatusActive, 80, true, false, false},
		{"activating below the limit", StatusActive, 30, false, false, false},
		{"decommissioned", StatusDecommissioned, 100, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compliant()
			c.Status, c.DuplicateOverlapPercent, c.ConstructionApproved = tt.status, tt.overlap, tt.approved
			c.CreatedAt, c.LastMaintenanceAt = now.AddDate(0, 0, -1), now.AddDate(0, 0, -1)
			got := slices.Contains(decisionCodes(p.CheckCamera(c)), CodeDuplicateCoverage)
			if got != tt.refused {
				t.Errorf("CheckCamera(%+v) refuses duplicate_coverage = %v; want %v", c, got, tt.refused)
			}
			got = slices.Contains(findingCodes(p.Findings(c, now)), CodeDuplicateCoverage)
			if got != tt.finding {
				t.Errorf("Findings(%+v) has duplicate_coverage = %v; want %v", c, got, tt.finding)
			}
		})
	}
}
