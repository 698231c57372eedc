package policy

import (
	"fmt"
	"strings"
	"time"
)

// Applications is the lost-person part of a pack (REG-6): who may apply, for whom, and how long
// the police may take over each step.
type Applications struct {
	Rule          string
	Subjects      []Subject
	Relationships []Relationship
	Steps         []Step
	Limits        Limits
	// Outcomes are what a result notice may state; Documents what an application must show
	// before it is accepted. A pack that names none gets DefaultOutcomes and DefaultDocuments.
	Outcomes  []ResultOutcome
	Documents []RequiredDocument
}

// ResultOutcome is one outcome a result notice may state.
type ResultOutcome struct {
	ID      string
	Label   string
	LabelZH string
	// Sighting is whether a notice with this outcome may give the time of the last sighting.
	Sighting bool
}

// RequiredDocument is a document an application needs before the police accept it.
type RequiredDocument struct {
	ID      string // the kind an applicant uploads it as
	Label   string
	LabelZH string
}

// DefaultOutcomes are the outcomes of a pack that names none.
func DefaultOutcomes() []ResultOutcome {
	return []ResultOutcome{
		{ID: "found", Label: "Found safe", LabelZH: "已找到，人员安全", Sighting: true},
		{ID: "sighted", Label: "Seen in the footage", LabelZH: "在录像中发现行踪", Sighting: true},
		{ID: "no_relevant_footage", Label: "Not seen in the footage", LabelZH: "未在录像中发现", Sighting: false},
		{ID: "referred_to_case", Label: "Referred to a police case", LabelZH: "已转为案件办理", Sighting: true},
	}
}

// DefaultDocuments are the documents of a pack that names none: proof of the applicant's
// identity and of the relationship to the lost person.
func DefaultDocuments() []RequiredDocument {
	return []RequiredDocument{
		{ID: "identity", Label: "Proof of identity", LabelZH: "身份证明"},
		{ID: "relationship", Label: "Proof of relationship", LabelZH: "关系证明"},
	}
}

// Outcome looks an outcome up by id.
func (a Applications) Outcome(id string) (ResultOutcome, bool) {
	for _, o := range a.Outcomes {
		if o.ID == id {
			return o, true
		}
	}
	return ResultOutcome{}, false
}

// Document looks a required document up by id.
func (a Applications) Document(id string) (RequiredDocument, bool) {
	for _, d := range a.Documents {
		if d.ID == id {
			return d, true
		}
	}
	return RequiredDocument{}, false
}

// Limits bound what one applicant may put on the platform, so that uploads and applications
// cannot fill its disk or its reviewers' queue.
type Limits struct {
	DocumentsPerApplication      int
	BytesPerApplication          int64
	OpenApplicationsPerApplicant int // submitted or accepted, not yet closed
}

// DefaultLimits hold for a pack that sets none: 10 documents and 25 MiB per application, 10 open
// applications per applicant.
func DefaultLimits() Limits {
	return Limits{DocumentsPerApplication: 10, BytesPerApplication: 25 << 20, OpenApplicationsPerApplicant: 10}
}

// Subject is a category of lost person.
type Subject struct {
	ID       string
	Label    string
	LabelZH  string
	Eligible bool
	Urgent   bool   // the urgent step deadlines apply
	Reason   string // why an ineligible category does not qualify
	ReasonZH string
}

// Relationship is the applicant's relationship to the lost person.
type Relationship struct {
	ID       string
	Label    string
	LabelZH  string
	Eligible bool
	Reason   string
	ReasonZH string
}

// Step is one stage of handling an application, with its deadline.
type Step struct {
	ID          string
	Label       string
	LabelZH     string
	Hours       int
	UrgentHours int // never 0 after parsing: equals Hours when the pack sets none
}

// Deadline is how long the step may take.
func (s Step) Deadline(urgent bool) time.Duration {
	if urgent {
		return time.Duration(s.UrgentHours) * time.Hour
	}
	return time.Duration(s.Hours) * time.Hour
}

// Subject looks a subject category up by id.
func (a Applications) Subject(id string) (Subject, bool) {
	for _, s := range a.Subjects {
		if s.ID == id {
			return s, true
		}
	}
	return Subject{}, false
}

// Relationship looks a relationship up by id.
func (a Applications) Relationship(id string) (Relationship, bool) {
	for _, r := range a.Relationships {
		if r.ID == id {
			return r, true
		}
	}
	return Relationship{}, false
}

// Step looks a step up by id.
func (a Applications) Step(id string) (Step, bool) {
	for _, s := range a.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Applications is the pack's lost-person section; the slices are the caller's to keep.
func (p *Pack) Applications() Applications {
	a := p.applications
	a.Subjects = append([]Subject(nil), a.Subjects...)
	a.Relationships = append([]Relationship(nil), a.Relationships...)
	a.Steps = append([]Step(nil), a.Steps...)
	a.Outcomes = append([]ResultOutcome(nil), a.Outcomes...)
	a.Documents = append([]RequiredDocument(nil), a.Documents...)
	return a
}

// CheckApplication answers whether someone with the given relationship to a lost person of the
// given subject category may apply. An empty result means eligible.
func (p *Pack) CheckApplication(relationship, subjectCategory string) []Decision {
	a := &p.applications
	var out []Decision
	if s, ok := a.Subject(subjectCategory); !ok {
		out = append(out, p.decision(CodeIneligibleSubject, a.Rule, FieldSubjectCategory,
			fmt.Sprintf("subject category %q is not one of policy pack %s; eligible: %s",
				subjectCategory, p.version, eligibleList(a.Subjects, func(s Subject) (string, bool) { return s.ID, s.Eligible }))))
	} else if !s.Eligible {
		out = append(out, p.decision(CodeIneligibleSubject, a.Rule, FieldSubjectCategory, s.Reason))
	}
	if r, ok := a.Relationship(relationship); !ok {
		out = append(out, p.decision(CodeIneligibleApplicant, a.Rule, FieldRelationship,
			fmt.Sprintf("relationship %q is not one of policy pack %s; eligible: %s",
				relationship, p.version, eligibleList(a.Relationships, func(r Relationship) (string, bool) { return r.ID, r.Eligible }))))
	} else if !r.Eligible {
		out = append(out, p.decision(CodeIneligibleApplicant, a.Rule, FieldRelationship, r.Reason))
	}
	return out
}

func eligibleList[T any](items []T, f func(T) (string, bool)) string {
	var ids []string
	for _, it := range items {
		if id, ok := f(it); ok {
			ids = append(ids, id)
		}
	}
	return strings.Join(ids, ", ")
}
