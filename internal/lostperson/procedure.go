package lostperson

import (
	"civicam/internal/trace"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Procedure is one published version of the conditions and procedure for applying. The text
// and the required documents are the police's; the conditions (who may apply, for whom) and the
// steps with their time limits are copied from the policy pack in force when it was published,
// so each version stays what the public read that day.
type Procedure struct {
	Version       int             `json:"version"`
	TitleZH       string          `json:"title_zh"`
	TitleEN       string          `json:"title_en"`
	BodyZH        string          `json:"body_zh"`
	BodyEN        string          `json:"body_en"`
	Documents     []RequiredDoc   `json:"documents"`
	Subjects      []Condition     `json:"subjects"`
	Relationships []Condition     `json:"relationships"`
	Steps         []ProcedureStep `json:"steps"`
	PolicyVersion string          `json:"policy_version"`
	PublishedAt   time.Time       `json:"published_at,omitzero"`
	PublishedBy   string          `json:"-"`
}

// RequiredDoc is a document an applicant must bring or upload.
type RequiredDoc struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Condition is one category of lost person or one relationship, and whether it qualifies.
type Condition struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	LabelZH  string `json:"label_zh"`
	Eligible bool   `json:"eligible"`
	Urgent   bool   `json:"urgent,omitempty"`
	Reason   string `json:"reason,omitempty"`
	ReasonZH string `json:"reason_zh,omitempty"`
}

// ProcedureStep is a step with its time limits in hours.
type ProcedureStep struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	LabelZH     string `json:"label_zh"`
	Hours       int    `json:"hours"`
	UrgentHours int    `json:"urgent_hours"`
}

// ProcedureInput is what an admin publishes.
type ProcedureInput struct {
	TitleZH   string        `json:"title_zh"`
	TitleEN   string        `json:"title_en"`
	BodyZH    string        `json:"body_zh"`
	BodyEN    string        `json:"body_en"`
	Documents []RequiredDoc `json:"documents"`
}

// fromPack fills the conditions and steps from the policy pack.
func (s *Service) fromPack(p *Procedure) {
	apps := s.pack.Applications()
	p.Subjects, p.Relationships, p.Steps = []Condition{}, []Condition{}, []ProcedureStep{}
	for _, x := range apps.Subjects {
		p.Subjects = append(p.Subjects, Condition{ID: x.ID, Label: x.Label, LabelZH: x.LabelZH, Eligible: x.Eligible,
			Urgent: x.Urgent, Reason: x.Reason, ReasonZH: x.ReasonZH})
	}
	for _, x := range apps.Relationships {
		p.Relationships = append(p.Relationships, Condition{ID: x.ID, Label: x.Label, LabelZH: x.LabelZH,
			Eligible: x.Eligible, Reason: x.Reason, ReasonZH: x.ReasonZH})
	}
	for _, x := range apps.Steps {
		p.Steps = append(p.Steps, ProcedureStep{ID: x.ID, Label: x.Label, LabelZH: x.LabelZH, Hours: x.Hours, UrgentHours: x.UrgentHours})
	}
	p.PolicyVersion = s.pack.Version()
}

// PublishProcedure stores a new version of the procedure, traced as a policy change.
func (s *Service) PublishProcedure(ctx context.Context, in *ProcedureInput) (*Procedure, error) {
	p := &Procedure{}
	var err error
	for _, f := range []struct {
		name string
		v    string
		dst  *string
		max  int
	}{
		{"title_zh", in.TitleZH, &p.TitleZH, 200}, {"title_en", in.TitleEN, &p.TitleEN, 200},
		{"body_zh", in.BodyZH, &p.BodyZH, 20000}, {"body_en", in.BodyEN, &p.BodyEN, 20000},
	} {
		if *f.dst, err = checkText(f.name, f.v, f.max); err != nil {
			return nil, err
		}
	}
	if len(in.Documents) == 0 || len(in.Documents) > 20 {
		return nil, invalid("documents", "list 1 to 20 required documents")
	}
	for i, d := range in.Documents {
		zh, en := strings.TrimSpace(d.ZH), strings.TrimSpace(d.EN)
		if zh == "" || en == "" || utf8.RuneCountInString(zh) > 500 || utf8.RuneCountInString(en) > 500 {
			return nil, invalid(fmt.Sprintf("documents[%d]", i), "needs zh and en, each at most 500 characters")
		}
		p.Documents = append(p.Documents, RequiredDoc{ZH: zh, EN: en})
	}
	s.fromPack(p)
	p.PublishedAt, p.PublishedBy = s.now().UTC(), actorID(ctx)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionPolicyChange, Outcome: trace.Allowed,
		Reason: "lost-person procedure published: " + p.TitleEN}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateProcedure(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// DefaultProcedure is shown, as version 0, until the police publish one: the pack's conditions
// and time limits with a plain text.
func (s *Service) DefaultProcedure() *Procedure {
	p := &Procedure{
		TitleZH: "走失人员公共安全视频查询申请的条件和程序",
		TitleEN: "Conditions and procedure for a footage search for a lost person",
		BodyZH: "老年人、未成年人、智力障碍者走失的，其监护人或者近亲属可以向公安机关申请查询公共安全视频图像信息。" +
			"公安机关查看后将结果告知申请人；申请人不观看录像。财物、宠物丢失不属于申请范围。",
		BodyEN: "When an elderly person, a child or a person with an intellectual disability is lost, the guardian or a close " +
			"relative may apply to the public security organ to have public-safety footage searched. The police check the " +
			"footage themselves and tell the applicant the result; the applicant does not watch. Lost property and lost pets do not qualify.",
		Documents: []RequiredDoc{
			{ZH: "申请人身份证件", EN: "The applicant's identity document"},
			{ZH: "与走失人员关系的证明（户口簿、出生证明、监护证明等）", EN: "Proof of the relationship to the lost person (household register, birth certificate, guardianship document)"},
		},
	}
	s.fromPack(p)
	return p
}

// Procedures returns the current procedure and every version, newest first. Before any is
// published, the current one is DefaultProcedure and the history is empty.
func (s *Service) Procedures(ctx context.Context) (*Procedure, []*Procedure, error) {
	ps, err := s.repo.Procedures(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(ps) == 0 {
		return s.DefaultProcedure(), []*Procedure{}, nil
	}
	return ps[0], ps, nil
}

// Month is one month of public statistics.
type Month struct {
	Month    string         `json:"month"` // "2026-11"
	Received int            `json:"received"`
	Refused  map[string]int `json:"refused"` // by reason: ineligible_subject, ineligible_applicant, rejected_on_review
	Accepted int            `json:"accepted"`
	Results  int            `json:"results"`
	// MedianHoursToResult is over the applications received that month that have a result;
	// null when none has.
	MedianHoursToResult *float64 `json:"median_hours_to_result"`
}

// Statistics is what the public is told about the applications (REG-8), per month of receipt.
type Statistics struct {
	Months  []Month `json:"months"` // newest first
	Open    int     `json:"open"`
	Overdue int     `json:"overdue"`
}

// Statistics counts the applications of the last `months` months, newest month first.
func (s *Service) Statistics(ctx context.Context, months int) (*Statistics, error) {
	if months <= 0 {
		months = 12
	}
	now := s.now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(months - 1), 0)
	as, err := s.repo.ApplicationsSince(ctx, first)
	if err != nil {
		return nil, err
	}
	st := &Statistics{Months: make([]Month, months)}
	idx := map[string]int{}
	for i := range months {
		m := first.AddDate(0, months-1-i, 0).Format("2006-01")
		st.Months[i] = Month{Month: m, Refused: map[string]int{}}
		idx[m] = i
	}
	hours := make([][]float64, months)
	for _, a := range as {
		i, ok := idx[a.SubmittedAt.UTC().Format("2006-01")]
		if !ok {
			continue
		}
		m := &st.Months[i]
		m.Received++
		switch a.Status {
		case StatusIneligible:
			m.Refused[a.RefusalCode]++
		case StatusRejected:
			m.Refused["rejected_on_review"]++
		case StatusAccepted, StatusCompleted:
			m.Accepted++
		}
		if a.Status == StatusSubmitted || a.Status == StatusAccepted {
			st.Open++
			if s.Overdue(a, now) {
				st.Overdue++
			}
		}
		if a.Status == StatusCompleted {
			m.Results++
			hours[i] = append(hours[i], a.ResultAt.Sub(a.SubmittedAt).Hours())
		}
	}
	for i, h := range hours {
		if med, ok := median(h); ok {
			st.Months[i].MedianHoursToResult = &med
		}
	}
	return st, nil
}

func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

// Portal is the public page's content: the current procedure and the statistics.
type Portal struct {
	Procedure  *Procedure  `json:"procedure"`
	Statistics *Statistics `json:"statistics"`
}

// Portal returns what the public page at /portal shows.
func (s *Service) Portal(ctx context.Context) (*Portal, error) {
	cur, _, err := s.Procedures(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.Statistics(ctx, 12)
	if err != nil {
		return nil, err
	}
	return &Portal{Procedure: cur, Statistics: st}, nil
}
