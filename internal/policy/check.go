package policy

import (
	"fmt"
	"time"
)

// CheckCamera answers whether a camera may be created, activated or updated as described. An
// empty result means allowed; otherwise each Decision is one reason for refusal.
//
// A camera whose status is decommissioned is never refused: taking a camera out of service is
// the remedy for a bad placement (for instance one that a newer pack prohibits), so it must
// always be possible.
func (p *Pack) CheckCamera(c CameraFacts) []Decision {
	if c.Status == StatusDecommissioned {
		return nil
	}
	var out []Decision
	cat, known := p.Category(c.PlaceCategory)
	switch {
	case c.PlaceCategory == "":
		out = append(out, p.decision(CodeUnknownPlaceCategory, p.placementRule, FieldPlaceCategory,
			fmt.Sprintf("no place category given; policy pack %s needs one of its place categories", p.version)))
	case !known:
		out = append(out, p.decision(CodeUnknownPlaceCategory, p.placementRule, FieldPlaceCategory,
			fmt.Sprintf("place category %q is not one of policy pack %s", c.PlaceCategory, p.version)))
	case cat.Kind == KindProhibited && p.Permits(c, PermitProhibitedPlace):
	case cat.Kind == KindProhibited && c.Status == StatusPlanned && c.LegalBasisID != "" && p.pendingFor(c, PermitProhibitedPlace):
		// A planned camera may wait for its basis to be approved; it cannot be activated before.
	case cat.Kind == KindProhibited:
		out = append(out, p.decision(CodeProhibitedPlace, cat.Rule, FieldPlaceCategory,
			fmt.Sprintf("place category %q (%s) is a prohibited place and %s. %s",
				cat.ID, cat.Label, p.basisState(c, PermitProhibitedPlace), p.reason(cat.Rule))))
	}
	if c.Status == StatusActive && p.Duplicate(c) {
		out = append(out, p.decision(CodeDuplicateCoverage, p.duplicateRule, "status",
			fmt.Sprintf("%.1f%% of the camera's field of view is already seen by an existing camera (the limit is %v%%); it cannot become active until the public security organ approves its construction. %s",
				c.DuplicateOverlapPercent, p.duplicatePercent, p.reason(p.duplicateRule))))
	}
	if c.RetentionDays < p.floorDays {
		out = append(out, p.decision(CodeRetentionBelowFloor, p.retentionRule, FieldRetentionDays,
			fmt.Sprintf("retention %d days is below the %d-day floor. %s", c.RetentionDays, p.floorDays, p.reason(p.retentionRule))))
	}
	return out
}

// Findings lists what is wrong with a camera as it stands at now, for the compliance report.
//
// Which findings apply depends on the camera's status:
//   - decommissioned: none; the camera no longer records anything.
//   - planned: only those about what is decided before it is built, which CheckCamera would
//     refuse at activation: its place (unknown_place_category, prohibited_place,
//     prohibited_place_exempted) and its retention (retention_below_floor). A camera that does
//     not exist yet cannot be networked, signed or maintained, so reporting those would bury the
//     real findings under noise.
//   - active (and any status this package does not know, so that nothing is hidden by a typo):
//     all of the above, plus not_networked, no_network_interface, no_sign and
//     maintenance_overdue.
//
// A planned or active camera can be in a place the pack prohibits when it was registered under
// an older pack, or its category was removed: that is a finding too.
func (p *Pack) Findings(c CameraFacts, now time.Time) []Finding {
	if c.Status == StatusDecommissioned {
		return nil
	}
	var out []Finding
	add := func(code, rule, format string, args ...any) {
		out = append(out, Finding{Code: code, Rule: rule, Message: fmt.Sprintf(format, args...), PolicyVersion: p.version})
	}

	cat, known := p.Category(c.PlaceCategory)
	switch {
	case c.PlaceCategory == "":
		add(CodeUnknownPlaceCategory, p.placementRule, "no place category recorded; policy pack %s needs one of its place categories", p.version)
	case !known:
		add(CodeUnknownPlaceCategory, p.placementRule, "place category %q is not one of policy pack %s", c.PlaceCategory, p.version)
	case cat.Kind == KindProhibited && !p.Permits(c, PermitProhibitedPlace):
		add(CodeProhibitedPlace, cat.Rule, "camera in prohibited place category %q (%s): %s", cat.ID, cat.Label, p.basisState(c, PermitProhibitedPlace))
	case cat.Kind == KindProhibited:
		b, _ := p.LegalBasis(c.LegalBasisID)
		add(CodeProhibitedPlaceExempted, cat.Rule, "camera in prohibited place category %q (%s) is allowed by the approved legal basis %s: %s %s",
			cat.ID, cat.Label, b.ID, b.Law, b.Article)
	}
	if c.RetentionDays < p.floorDays {
		add(CodeRetentionBelowFloor, p.retentionRule, "retention %d days is below the %d-day floor", c.RetentionDays, p.floorDays)
	}
	if c.Status == StatusPlanned {
		if p.Duplicate(c) {
			add(CodeDuplicateCoverage, p.duplicateRule, "%.1f%% of the planned camera's field of view is already seen by an existing camera (limit %v%%); its construction awaits the public security organ's approval",
				c.DuplicateOverlapPercent, p.duplicatePercent)
		}
		return out
	}

	if duty, ok := p.NetworkingDuty(c.Investment); ok {
		switch {
		case duty.Duty == DutyNetworked && !c.Networked && p.Permits(c, PermitNotNetworked):
		case duty.Duty == DutyNetworked && !c.Networked && p.pendingFor(c, PermitNotNetworked):
			add(CodeNetworkingExemptionPending, duty.Rule, "%s-invested camera is not networked to the sharing platform; %s", c.Investment, p.basisState(c, PermitNotNetworked))
		case duty.Duty == DutyNetworked && !c.Networked:
			add(CodeNotNetworked, duty.Rule, "%s-invested camera is not networked to the sharing platform and %s", c.Investment, p.basisState(c, PermitNotNetworked))
		case duty.Duty == DutyInterfaceReserved && !c.InterfaceReserved && !c.Networked:
			add(CodeNoNetworkInterface, duty.Rule, "%s-invested camera has no networking interface reserved", c.Investment)
		}
	}
	if p.signsRequired && !c.SignInstalled {
		add(CodeNoSign, p.signsRule, "no reminder sign is recorded at the camera")
	}
	if f, ok := p.signCheckFinding(c, now); ok {
		out = append(out, f)
	}
	if f, ok := p.maintenanceFinding(c, now); ok {
		out = append(out, f)
	}
	if f, ok := p.filingFinding(c, now); ok {
		out = append(out, f)
	}
	return out
}

// FilingDue is when an accepted camera's filing falls overdue under the pack; false when the pack
// asks for no filing, the camera is filed, or its acceptance date is not known.
func (p *Pack) FilingDue(c CameraFacts) (time.Time, bool) {
	if p.filing.Days == 0 || !c.FiledAt.IsZero() || c.AcceptedAt.IsZero() {
		return time.Time{}, false
	}
	return c.AcceptedAt.AddDate(0, 0, p.filing.Days), true
}

func (p *Pack) filingFinding(c CameraFacts, now time.Time) (Finding, bool) {
	due, ok := p.FilingDue(c)
	if !ok || !now.After(due) {
		return Finding{}, false
	}
	return Finding{Code: CodeSystemFilingOverdue, Rule: p.filing.Rule, PolicyVersion: p.version,
		Message: fmt.Sprintf("not filed with the public security organ: accepted %s, filing due within %d days, by %s",
			c.AcceptedAt.UTC().Format(time.DateOnly), p.filing.Days, due.UTC().Format(time.DateOnly))}, true
}

// EffectiveMaintenanceIntervalDays is the interval a camera is held to: its own when it sets a
// shorter one than the pack, else the pack's. The pack's interval is a maximum, so a camera
// configured with a longer one is still due at the pack's.
func (p *Pack) EffectiveMaintenanceIntervalDays(c CameraFacts) int {
	if c.MaintenanceIntervalDays > 0 && c.MaintenanceIntervalDays < p.maintenanceDays {
		return c.MaintenanceIntervalDays
	}
	return p.maintenanceDays
}

func (p *Pack) maintenanceFinding(c CameraFacts, now time.Time) (Finding, bool) {
	interval := p.EffectiveMaintenanceIntervalDays(c)
	base, what := c.LastMaintenanceAt, "last maintained"
	if base.IsZero() {
		base, what = c.CreatedAt, "never maintained; registered"
	}
	f := Finding{Code: CodeMaintenanceOverdue, Rule: p.maintenanceRule, PolicyVersion: p.version}
	if base.IsZero() {
		// No date to count from: nothing shows the camera was ever looked after.
		f.Message = fmt.Sprintf("never maintained and registration date unknown; interval %d days", interval)
		return f, true
	}
	due := base.AddDate(0, 0, interval)
	if !now.After(due) {
		return Finding{}, false
	}
	late := int(now.Sub(due) / (24 * time.Hour))
	f.Message = fmt.Sprintf("maintenance overdue by %d days: %s %s, interval %d days, due %s",
		late, what, base.UTC().Format(time.DateOnly), interval, due.UTC().Format(time.DateOnly))
	return f, true
}

// SignCheckDue is when an installed sign's check falls due, and whether the camera owes checks
// at all (signs required, a sign installed, an interval set). A sign never checked counts from
// the camera's registration, as maintenance does; with neither date it is due at once (zero).
func (p *Pack) SignCheckDue(c CameraFacts) (time.Time, bool) {
	if !p.signsRequired || !c.SignInstalled || p.signsCheckDays == 0 {
		return time.Time{}, false
	}
	base := c.SignCheckedAt
	if base.IsZero() {
		base = c.CreatedAt
	}
	if base.IsZero() {
		return time.Time{}, true
	}
	return base.AddDate(0, 0, p.signsCheckDays), true
}

func (p *Pack) signCheckFinding(c CameraFacts, now time.Time) (Finding, bool) {
	due, owes := p.SignCheckDue(c)
	if !owes || (!due.IsZero() && !now.After(due)) {
		return Finding{}, false
	}
	f := Finding{Code: CodeSignCheckOverdue, Rule: p.signsRule, PolicyVersion: p.version}
	switch {
	case due.IsZero():
		f.Message = fmt.Sprintf("the reminder sign was never checked and the registration date is unknown; interval %d days", p.signsCheckDays)
	case c.SignCheckedAt.IsZero():
		f.Message = fmt.Sprintf("the reminder sign was never checked: registered %s, interval %d days, due %s",
			c.CreatedAt.UTC().Format(time.DateOnly), p.signsCheckDays, due.UTC().Format(time.DateOnly))
	default:
		f.Message = fmt.Sprintf("sign check overdue by %d days: last checked %s, interval %d days, due %s",
			int(now.Sub(due)/(24*time.Hour)), c.SignCheckedAt.UTC().Format(time.DateOnly), p.signsCheckDays, due.UTC().Format(time.DateOnly))
	}
	return f, true
}

func (p *Pack) decision(code, rule, field, reason string) Decision {
	return Decision{Code: code, Rule: rule, PolicyVersion: p.version, Reason: reason, Field: field}
}

// reason is the rule's human reason; validation guarantees the rule exists.
func (p *Pack) reason(id string) string {
	r, _ := p.Rule(id)
	return r.Reason
}
