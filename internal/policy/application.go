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
