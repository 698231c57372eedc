package webui

import (
	"errors"
	"net/http"
	"time"

	"civicam/internal/consultation"
	"civicam/internal/fault"
)

// The public consultation pages (REG-8): every consultation's record is public, and so is its
// opinion form; the police answer each opinion and the admins publish drafts and finals. The
// pages show what the API's record shows, and nothing about who submitted an opinion.

// consultationRoutes are the consultation pages; none without the service.
func (u *UI) consultationRoutes() []*page {
	if u.consult == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /consultations", APIRoute: "GET /api/v1/consultations", Handler: u.consultationList},
		{Pattern: "POST /consultations", APIRoute: "POST /api/v1/consultations", Handler: u.publishConsultation},
		{Pattern: "GET /consultations/{id}", APIRoute: "GET /api/v1/consultations/{id}", Handler: u.consultationPage},
		{Pattern: "POST /consultations/{id}/opinions", APIRoute: "POST /api/v1/consultations/{id}/opinions", Handler: u.submitOpinion},
		{Pattern: "POST /consultations/receipt", APIRoute: "POST /api/v1/consultations/receipt", Handler: u.opinionByReceipt},
		{Pattern: "POST /consultations/{id}/opinions/{oid}/answer", APIRoute: "POST /api/v1/consultations/{id}/opinions/{oid}/answer", Handler: u.answerOpinion},
		{Pattern: "POST /consultations/{id}/final", APIRoute: "POST /api/v1/consultations/{id}/final", Handler: u.publishFinal},
	}
}

// notFoundPage is the not-found page for a consultation or receipt that does not exist.
func notFoundPage(err error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	return err
}

type consultationRow struct {
	ID, Title, Status, Deadline string
	Opinions, Unanswered        int
}

type consultationListData struct {
	Rows       []consultationRow
	CanPublish bool
	Error      string
	Title      string
	Draft      string
	Deadline   string
}

func (u *UI) consultationList(w http.ResponseWriter, r *http.Request) error {
	return u.renderConsultationList(w, r, http.StatusOK, consultationListData{})
}

func (u *UI) renderConsultationList(w http.ResponseWriter, r *http.Request, status int, d consultationListData) error {
	m := u.messages(r)
	cs, err := u.consult.Consultations(r.Context())
	if err != nil {
		return err
	}
	for _, c := range cs {
		d.Rows = append(d.Rows, consultationRow{ID: c.ID, Title: c.Title, Status: m.T("consultation.status." + string(c.Status)),
			Deadline: m.Time(c.Deadline), Opinions: c.Opinions, Unanswered: c.Unanswered})
	}
	d.CanPublish = u.allowed(userOf(r), "POST /api/v1/consultations")
	u.render(w, r, status, "consultations", "consultation.list_title", d)
	return nil
}

func (u *UI) publishConsultation(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	d := consultationListData{Title: r.PostFormValue("title"), Draft: r.PostFormValue("draft"), Deadline: r.PostFormValue("deadline")}
	deadline, err := time.ParseInLocation("2006-01-02T15:04", d.Deadline, time.UTC)
	if err != nil {
		d.Error = m.T("app.invalid", "deadline", m.T("consultation.deadline_format"))
		return u.renderConsultationList(w, r, http.StatusBadRequest, d)
	}
	c, err := u.consult.Publish(r.Context(), consultation.DraftInput{Title: d.Title, Draft: d.Draft, Deadline: deadline})
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			d.Error = msg
			return u.renderConsultationList(w, r, status, d)
		})
	}
	http.Redirect(w, r, "/consultations/"+c.ID, http.StatusSeeOther)
	return nil
}

type opinionRow struct {
	ID, Text, Submitted, Verdict, Answer, Answered string
	Answerable                                     bool
}

type consultationData struct {
	ID, Title, Draft, Final, Status, Deadline, Published, FinalAt string
	Open, CanAnswer, CanFinal                                     bool
	Opinions                                                      []opinionRow
	Unanswered                                                    int
	Receipt                                                       string // a receipt code just given
	Looked                                                        *opinionRow
	Error, Text                                                   string
}

func (u *UI) consultationPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderConsultation(w, r, http.StatusOK, r.PathValue("id"), consultationData{})
}

func (u *UI) renderConsultation(w http.ResponseWriter, r *http.Request, status int, id string, d consultationData) error {
	m := u.messages(r)
	rec, err := u.consult.Record(r.Context(), id)
	if err != nil {
		return notFoundPage(err)
	}
	c := rec.Consultation
	usr := userOf(r)
	d.ID, d.Title, d.Draft, d.Final, d.Status = c.ID, c.Title, c.Draft, c.Final, m.T("consultation.status."+string(c.Status))
	d.Deadline, d.Published, d.Unanswered = m.Time(c.Deadline), m.Time(c.PublishedAt), c.Unanswered
	if !c.FinalAt.IsZero() {
		d.FinalAt = m.Time(c.FinalAt)
	}
	d.Open = c.Status == consultation.StatusOpen && !u.now().After(c.Deadline)
	d.CanAnswer = c.Status == consultation.StatusOpen && u.allowed(usr, "POST /api/v1/consultations/{id}/opinions/{oid}/answer")
	d.CanFinal = c.Status == consultation.StatusOpen && !d.Open && u.allowed(usr, "POST /api/v1/consultations/{id}/final")
	for _, o := range rec.Opinions {
		d.Opinions = append(d.Opinions, u.opinionRow(m, o, d.CanAnswer))
	}
	u.render(w, r, status, "consultation", "consultation.title", d)
	return nil
}

func (u *UI) opinionRow(m Messages, o *consultation.Opinion, canAnswer bool) opinionRow {
	row := opinionRow{ID: o.ID, Text: o.Text, Submitted: m.Time(o.SubmittedAt), Answer: o.Answer, Answerable: canAnswer && o.Verdict == ""}
	if o.Verdict != "" {
		row.Verdict, row.Answered = m.T("consultation.verdict."+string(o.Verdict)), m.Time(o.AnsweredAt)
	}
	return row
}

func (u *UI) submitOpinion(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	id := r.PathValue("id")
	text := r.PostFormValue("text")
	rc, err := u.consult.Submit(r.Context(), clientAddr(r), id, text)
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			return u.renderConsultation(w, r, status, id, consultationData{Error: msg, Text: text})
		})
	}
	// The receipt is shown once, here; it is not in any URL.
	return u.renderConsultation(w, r, http.StatusCreated, id, consultationData{Receipt: rc.Code})
}

func (u *UI) opinionByReceipt(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	o, err := u.consult.ByReceipt(r.Context(), r.PostFormValue("receipt"))
	if err != nil {
		return notFoundPage(err)
	}
	row := u.opinionRow(m, o, false)
	return u.renderConsultation(w, r, http.StatusOK, o.ConsultationID, consultationData{Looked: &row})
}

func (u *UI) answerOpinion(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	id := r.PathValue("id")
	_, err := u.consult.Answer(r.Context(), id, r.PathValue("oid"), consultation.AnswerInput{
		Verdict: consultation.Verdict(r.PostFormValue("verdict")), Answer: r.PostFormValue("answer")})
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			return u.renderConsultation(w, r, status, id, consultationData{Error: msg})
		})
	}
	http.Redirect(w, r, "/consultations/"+id, http.StatusSeeOther)
	return nil
}

func (u *UI) publishFinal(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	id := r.PathValue("id")
	if _, err := u.consult.PublishFinal(r.Context(), id, consultation.FinalInput{Final: r.PostFormValue("final")}); err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			return u.renderConsultation(w, r, status, id, consultationData{Error: msg})
		})
	}
	http.Redirect(w, r, "/consultations/"+id, http.StatusSeeOther)
	return nil
}
