package policy

import (
	"fmt"
	"slices"
	"time"
)

// CodeInspectionOverdue is the finding of an establishment whose room group has not been checked
// for hidden cameras within the pack's interval (REG-2: managers of private spaces must prevent
// illegal installation).
const CodeInspectionOverdue = "inspection_overdue"

// Inspections is what the pack asks of establishments holding private spaces (REG-2): which kinds
// of establishment must check their rooms for hidden cameras, how often, and how large a photo of
// what was found may be. A pack without the section asks nothing of anyone.
type Inspections struct {
	Rule string
	// EstablishmentTypes are the kinds of establishment (registry's establishment_type) that keep
	// an inspection plan.
	EstablishmentTypes []string
	// IntervalDays is the longest a room group may go without an inspection.
	IntervalDays int
	// PhotoMaxKiB bounds one photo of an inspection or a public report.
	PhotoMaxKiB int
}

// Required reports whether an establishment of this type must keep an inspection plan.
func (i Inspections) Required(establishmentType string) bool {
	return establishmentType != "" && slices.Contains(i.EstablishmentTypes, establishmentType)
}

// Inspections is the pack's inspection duty; zero when the pack has none.
func (p *Pack) Inspections() Inspections {
	i := p.inspections
	i.EstablishmentTypes = slices.Clone(i.EstablishmentTypes)
	return i
}

type rawInspections struct {
	Rule               string   `yaml:"rule"`
	EstablishmentTypes []string `yaml:"establishment_types"`
	IntervalDays       *int     `yaml:"interval_days"`
	PhotoMaxKiB        *int     `yaml:"photo_max_kib"`
}

// defaultPhotoMaxKiB is a photo's bound when the pack sets none: a phone's JPEG is 2-5 MiB.
const defaultPhotoMaxKiB = 8 << 10

func (v *validator) inspectionsSection(p *Pack, r *rawInspections) {
	if r == nil {
		return
	}
	v.ruleRef("inspections", r.Rule, true, "inspections", "rule")
	p.inspections.Rule = r.Rule
	if len(r.EstablishmentTypes) == 0 {
		v.addf(v.loc.line("inspections", "establishment_types"), "inspections: at least one establishment type is required")
	}
	seen := map[string]bool{}
	for i, t := range r.EstablishmentTypes {
		if t == "" || seen[t] {
			v.addf(v.loc.line("inspections", "establishment_types", i), "inspections: establishment type %q is empty or repeated", t)
			continue
		}
		seen[t] = true
		p.inspections.EstablishmentTypes = append(p.inspections.EstablishmentTypes, t)
	}
	p.inspections.IntervalDays = v.intIn("inspections", "interval_days", r.IntervalDays, 1, 3650, "inspections", "interval_days")
	p.inspections.PhotoMaxKiB = defaultPhotoMaxKiB
	if r.PhotoMaxKiB != nil {
		p.inspections.PhotoMaxKiB = v.intIn("inspections", "photo_max_kib", r.PhotoMaxKiB, 16, 64<<10, "inspections", "photo_max_kib")
	}
}

// InspectionOverdue is the finding of a room group last inspected at last (zero: never) as of
// now, or false when it is not overdue.
func (p *Pack) InspectionOverdue(roomGroup string, last, now time.Time) (Finding, bool) {
	i := p.inspections
	if i.IntervalDays == 0 {
		return Finding{}, false
	}
	if !last.IsZero() && !now.After(last.AddDate(0, 0, i.IntervalDays)) {
		return Finding{}, false
	}
	msg := fmt.Sprintf("room group %q has not been checked for hidden cameras within %d days", roomGroup, i.IntervalDays)
	if last.IsZero() {
		msg = fmt.Sprintf("room group %q has never been checked for hidden cameras", roomGroup)
	}
	return Finding{Code: CodeInspectionOverdue, Rule: i.Rule, Message: msg, PolicyVersion: p.version}, true
}
