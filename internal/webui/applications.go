package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
)

// The lost-person application pages (REG-6): the public portal, registration, the applicant's
// form and pages, and the reviewers' queue and application page. The applicant's pages are built
// only from lostperson.ApplicantView, the one shape the desk lets out to an applicant, so nothing
// about cameras, footage or reviewers can reach them.

// applicationRoutes are the pages of the application desk; none without the service.
func (u *UI) applicationRoutes() []*page {
	if u.req == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /portal", APIRoute: "GET /api/v1/portal", Handler: u.portal},
		{Pattern: "GET /register", APIRoute: "POST /api/v1/applicants", Handler: u.registerForm},
		{Pattern: "POST /register", APIRoute: "POST /api/v1/applicants", Handler: u.registerSubmit},
		{Pattern: "POST /register/verify", APIRoute: "POST /api/v1/applicants/verify", Handler: u.verifySubmit},
		{Pattern: "GET /applications", APIRoute: "GET /api/v1/applications", Handler: u.applicationList},
		{Pattern: "GET /applications/new", APIRoute: "POST /api/v1/applications", Handler: u.applyForm},
		{Pattern: "POST /applications", APIRoute: "POST /api/v1/applications", Handler: u.applySubmit},
		{Pattern: "GET /applications/{id}", APIRoute: "GET /api/v1/applications/{id}", Handler: u.applicationPage},
		{Pattern: "POST /applications/{id}/documents", APIRoute: "POST /api/v1/applications/{id}/documents", Handler: u.uploadDocument,
			MaxBody: u.req.MaxUpload() + 64<<10},
		{Pattern: "POST /applications/{id}/decision", APIRoute: "POST /api/v1/applications/{id}/decision", Handler: u.decide},
		{Pattern: "POST /applications/{id}/candidates", APIRoute: "GET /api/v1/applications/{id}/candidates", Handler: u.searchCandidates},
		{Pattern: "POST /applications/{id}/findings", APIRoute: "POST /api/v1/applications/{id}/findings", Handler: u.addFinding},
		{Pattern: "POST /applications/{id}/result", APIRoute: "POST /api/v1/applications/{id}/result", Handler: u.writeResult},
		{Pattern: "POST /applications/{id}/footage-requests", APIRoute: "POST /api/v1/applications/{id}/footage-requests", Handler: u.requestFootage},
		{Pattern: "GET /footage-requests", APIRoute: "GET /api/v1/footage-requests", Handler: u.footageRequests},
		{Pattern: "POST /footage-requests/{id}/decision", APIRoute: "POST /api/v1/footage-requests/{id}/decision", Handler: u.decideFootageRequest},
		{Pattern: "POST /applications/{id}/notices/{nid}/approve", APIRoute: "POST /api/v1/applications/{id}/notices/{nid}/approve", Handler: u.approveNotice},
		{Pattern: "POST /applications/{id}/documents/shown", APIRoute: "POST /api/v1/applications/{id}/documents/shown", Handler: u.documentShown},
		{Pattern: "GET /admin/procedure", APIRoute: "POST /api/v1/procedures", Handler: u.procedureEditor},
		{Pattern: "POST /admin/procedure", APIRoute: "POST /api/v1/procedures", Handler: u.publishProcedure},
	}
}

// pick is the text of the reader's language.
func pick(m Messages, en, zh string) string {
	if m.Lang == "zh" && zh != "" {
		return zh
	}
	return en
}

// --- the public portal ---

type portalData struct {
	Title, Body    string
	Version        int
	Published      string
	PolicyVersion  string
	Documents      []string
	Eligible       []conditionRow
	Ineligible     []conditionRow
	Relationships  []conditionRow
	Steps          []stepRow
	Versions       []versionLink
	Months         []monthRow
	Chart          chart
	Open, Overdue  int
	Current        bool
	RegisterHref   string
	ApplyHref      string
	ShowApplyLinks bool
}

type conditionRow struct{ Label, Reason string }

type stepRow struct {
	Label         string
	Hours, Urgent int
}

type versionLink struct {
	Label, Href string
	Current     bool
}

type monthRow struct {
	Month                            string
	Received, Accepted, Results      int
	RefusedSubject, RefusedApplicant int
	RejectedOnReview                 int
	Median                           string
}

func (u *UI) portal(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	p, err := u.req.Portal(r.Context())
	if err != nil {
		return err
	}
	_, versions, err := u.req.Procedures(r.Context())
	if err != nil {
		return err
	}
	proc := p.Procedure
	d := portalData{Current: true, Open: p.Statistics.Open, Overdue: p.Statistics.Overdue,
		RegisterHref: "/register", ApplyHref: "/applications/new"}
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errNotFound
		}
		found := false
		for _, x := range versions {
			if x.Version == n {
				proc, found = x, true
			}
		}
		if !found {
			return errNotFound
		}
		d.Current = proc.Version == p.Procedure.Version
	}
	usr := userOf(r)
	d.ShowApplyLinks = usr == nil || usr.Role == auth.RoleApplicant
	d.Title, d.Body, d.Version, d.PolicyVersion = pick(m, proc.TitleEN, proc.TitleZH), pick(m, proc.BodyEN, proc.BodyZH), proc.Version, proc.PolicyVersion
	if proc.PublishedAt.IsZero() {
		d.Published = m.T("portal.default_version")
	} else {
		d.Published = m.Time(proc.PublishedAt)
	}
	for _, doc := range proc.Documents {
		d.Documents = append(d.Documents, pick(m, doc.EN, doc.ZH))
	}
	for _, c := range proc.Subjects {
		row := conditionRow{Label: pick(m, c.Label, c.LabelZH), Reason: pick(m, c.Reason, c.ReasonZH)}
		if c.Eligible {
			if c.Urgent {
				row.Reason = m.T("portal.urgent")
			}
			d.Eligible = append(d.Eligible, row)
		} else {
			d.Ineligible = append(d.Ineligible, row)
		}
	}
	for _, c := range proc.Relationships {
		if c.Eligible {
			d.Relationships = append(d.Relationships, conditionRow{Label: pick(m, c.Label, c.LabelZH)})
		}
	}
	for _, s := range proc.Steps {
		d.Steps = append(d.Steps, stepRow{Label: pick(m, s.Label, s.LabelZH), Hours: s.Hours, Urgent: s.UrgentHours})
	}
	for _, x := range versions {
		d.Versions = append(d.Versions, versionLink{Label: m.T("portal.version_label", x.Version, m.Time(x.PublishedAt)),
			Href: query("/portal", "version", strconv.Itoa(x.Version)), Current: x.Version == proc.Version})
	}
	var counts []count
	for _, mo := range p.Statistics.Months {
		row := monthRow{Month: mo.Month, Received: mo.Received, Accepted: mo.Accepted, Results: mo.Results,
			RefusedSubject: mo.Refused["ineligible_subject"], RefusedApplicant: mo.Refused["ineligible_applicant"],
			RejectedOnReview: mo.Refused["rejected_on_review"], Median: "—"}
		if mo.MedianHoursToResult != nil {
			row.Median = strconv.FormatFloat(*mo.MedianHoursToResult, 'f', 1, 64)
		}
		d.Months = append(d.Months, row)
		counts = append(counts, count{Key: mo.Month, N: mo.Received, Label: m.T("portal.chart_label", mo.Month, mo.Received, mo.Accepted)})
	}
	d.Chart = barChart(counts)
	u.render(w, r, http.StatusOK, "portal", "portal.title", d)
	return nil
}

// --- registration ---

type registerData struct {
	Username, Contact string
	Error             string
	Pending           *lostperson.Pending
	Expires           string
}

func (u *UI) registerForm(w http.ResponseWriter, r *http.Request) error {
	u.render(w, r, http.StatusOK, "register", "register.title", registerData{})
	return nil
}

func (u *UI) registerSubmit(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	d := registerData{Username: r.PostFormValue("username"), Contact: r.PostFormValue("contact")}
	p, err := u.req.Register(r.Context(), d.Username, r.PostFormValue("password"), d.Contact)
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			d.Error = msg
			u.render(w, r, status, "register", "register.title", d)
			return nil
		})
	}
	d.Pending, d.Expires = p, m.Time(p.ExpiresAt)
	u.render(w, r, http.StatusOK, "register", "register.title", d)
	return nil
}

func (u *UI) verifySubmit(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	id := r.PostFormValue("registration_id")
	if _, err := u.req.Verify(r.Context(), id, r.PostFormValue("code")); err != nil {
		status, msg, page := formRefusal(m, err)
		if errors.Is(err, lostperson.ErrNotFound) {
			// An unknown registration reads as a wrong code: the form does not tell which ids exist.
			status, msg, page = http.StatusBadRequest, m.T("app.err_code"), nil
		}
		if page != nil {
			return page
		}
		u.render(w, r, status, "register", "register.title", registerData{Error: msg,
			Pending: &lostperson.Pending{RegistrationID: id, SentTo: r.PostFormValue("sent_to")}})
		return nil
	}
	http.Redirect(w, r, "/login?"+url.Values{"next": {"/applications/new"}, "registered": {"1"}}.Encode(), http.StatusSeeOther)
	return nil
}

// --- the applicant's pages ---

type applyData struct {
	Subjects, Relationships []option
	Form                    map[string]string
	Error                   string
	Refusal                 *refusalView
}

type refusalView struct {
	Code, Reason, ReferTo, Rule, PolicyVersion string
}

func (u *UI) applyOptions(r *http.Request, form map[string]string) (*applyData, error) {
	m := u.messages(r)
	cur, _, err := u.req.Procedures(r.Context())
	if err != nil {
		return nil, err
	}
	d := &applyData{Form: form}
	for _, c := range cur.Subjects {
		d.Subjects = append(d.Subjects, option{Value: c.ID, Label: pick(m, c.Label, c.LabelZH), Selected: form["subject_category"] == c.ID})
	}
	for _, c := range cur.Relationships {
		d.Relationships = append(d.Relationships, option{Value: c.ID, Label: pick(m, c.Label, c.LabelZH), Selected: form["relationship"] == c.ID})
	}
	return d, nil
}

func (u *UI) applyForm(w http.ResponseWriter, r *http.Request) error {
	d, err := u.applyOptions(r, map[string]string{"last_seen_at": u.now().UTC().Truncate(time.Minute).Format("2006-01-02T15:04")})
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "apply", "apply.title", d)
	return nil
}

var applyFields = []string{"relationship", "relationship_detail", "subject_category", "last_seen_at", "lat", "lon", "address", "description"}

func (u *UI) applySubmit(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	form := map[string]string{}
	for _, f := range applyFields {
		form[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	d, err := u.applyOptions(r, form)
	if err != nil {
		return err
	}
	fail := func(status int, msg string) error {
		d.Error = msg
		u.render(w, r, status, "apply", "apply.title", d)
		return nil
	}
	in := &lostperson.ApplicationInput{Relationship: form["relationship"], RelationshipDetail: form["relationship_detail"],
		SubjectCategory: form["subject_category"], Address: form["address"], Description: form["description"]}
	// datetime-local has no zone; the form says the time is UTC. RFC 3339 is taken as well.
	t, err := time.ParseInLocation("2006-01-02T15:04", form["last_seen_at"], time.UTC)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, form["last_seen_at"]); err != nil {
			return fail(http.StatusBadRequest, m.T("apply.bad_time"))
		}
	}
	in.LastSeenAt = t
	for _, c := range []struct {
		name string
		dst  **float64
	}{{"lat", &in.Lat}, {"lon", &in.Lon}} {
		if form[c.name] == "" {
			continue
		}
		v, err := strconv.ParseFloat(form[c.name], 64)
		if err != nil {
			return fail(http.StatusBadRequest, m.T("apply.bad_coordinate", c.name))
		}
		*c.dst = &v
	}
	a, err := u.req.Submit(r.Context(), userOf(r).ID, in)
	var ie *lostperson.IneligibleError
	switch {
	case errors.As(err, &ie):
		dec := ie.Decisions[0]
		d.Refusal = &refusalView{Code: dec.Code, Reason: pick(m, dec.Reason, ie.ReasonZH), ReferTo: pick(m, ie.ReferTo, ie.ReferToZH),
			Rule: dec.Rule, PolicyVersion: dec.PolicyVersion}
		u.render(w, r, http.StatusUnprocessableEntity, "apply", "apply.title", d)
		return nil
	case err != nil:
		return showRefusal(m, err, fail)
	}
	http.Redirect(w, r, "/applications/"+a.ID+"?submitted=1", http.StatusSeeOther)
	return nil
}

// appRow is one line of a list: the applicant's own or the reviewers' queue.
type appRow struct {
	ID, Href, Status, Subject, Submitted, NextDue string
	Urgent, Overdue                               bool
}

type listData struct {
	Reviewer bool
	Rows     []appRow
	Overdue  int
	Filter   string
	Filters  []versionLink
}

func (u *UI) applicationList(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	usr := userOf(r)
	if usr.Role == auth.RoleApplicant {
		as, err := u.req.MyApplications(r.Context(), usr.ID)
		if err != nil {
			return err
		}
		d := listData{}
		for _, a := range as {
			d.Rows = append(d.Rows, appRow{ID: a.ID, Href: "/applications/" + a.ID, Status: m.Label("app.status", string(a.Status)),
				Subject: m.Label("app.subject", a.SubjectCategory), Submitted: m.Time(a.SubmittedAt), Urgent: a.Urgent,
				NextDue: nextDeadline(m, a.Deadlines)})
		}
		u.render(w, r, http.StatusOK, "applications", "applications.title", d)
		return nil
	}
	filter := r.URL.Query().Get("status")
	sts, err := lostperson.ParseStatuses(filter)
	if err != nil {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	q, err := u.req.ReviewQueue(r.Context(), sts, 500)
	if err != nil {
		return err
	}
	d := listData{Reviewer: true, Overdue: q.Overdue, Filter: filter}
	for _, f := range []string{"", "rejected,completed"} {
		d.Filters = append(d.Filters, versionLink{Label: m.T("queue.filter." + map[string]string{"": "open", "rejected,completed": "closed"}[f]),
			Href: query("/applications", "status", f), Current: f == filter})
	}
	for _, a := range q.Applications {
		d.Rows = append(d.Rows, appRow{ID: a.ID, Href: "/applications/" + a.ID, Status: m.Label("app.status", string(a.Status)),
			Subject: m.Label("app.subject", a.SubjectCategory), Submitted: m.Time(a.SubmittedAt), Urgent: a.Urgent, Overdue: a.Overdue,
			NextDue: nextDeadline(m, a.Deadlines)})
	}
	u.render(w, r, http.StatusOK, "review_queue", "queue.title", d)
	return nil
}

// nextDeadline is the first open step's due time, with the step's name.
func nextDeadline(m Messages, ds []lostperson.Deadline) string {
	for _, d := range ds {
		if !d.Done && !d.Due.IsZero() {
			return pick(m, d.Label, d.LabelZH) + ": " + m.Time(d.Due)
		}
	}
	return "—"
}

type deadlineRow struct {
	Label, Due    string
	Done, Overdue bool
}

func deadlineRows(m Messages, ds []lostperson.Deadline) []deadlineRow {
	out := make([]deadlineRow, 0, len(ds))
	for _, d := range ds {
		out = append(out, deadlineRow{Label: pick(m, d.Label, d.LabelZH), Due: m.Time(d.Due), Done: d.Done, Overdue: d.Overdue})
	}
	return out
}

type docRow struct {
	Kind, Type, Size, Created, Href string
}

// applicantPage is what the applicant sees of its application: no camera, footage or reviewer.
type applicantPage struct {
	ID, Status, StatusCode, Relationship, Subject, LastSeen, Place, Description, Submitted string
	Urgent                                                                                 bool
	Deadlines                                                                              []deadlineRow
	Documents                                                                              []docRow
	RejectionReason, Outcome, Notice, ResultAt, PDF                                        string
	LastSighting                                                                           string
	CanUpload, Submitted1, Corrected                                                       bool
	// Earlier are the notices the one in force corrected, newest first, marked superseded.
	Earlier         []sentNoticeRow
	Error, Uploaded string
}

func (u *UI) applicationPage(w http.ResponseWriter, r *http.Request) error {
	if userOf(r).Role == auth.RoleApplicant {
		return u.applicantApplication(w, r, http.StatusOK, "")
	}
	return u.reviewerApplication(w, r, http.StatusOK, reviewExtras{})
}

func (u *UI) applicantApplication(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	m := u.messages(r)
	a, err := u.req.ForApplicant(r.Context(), userOf(r).ID, r.PathValue("id"))
	if errors.Is(err, lostperson.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	p := applicantPage{ID: a.ID, Status: m.Label("app.status", string(a.Status)), StatusCode: string(a.Status),
		Relationship: m.Label("app.relationship", a.Relationship), Subject: m.Label("app.subject", a.SubjectCategory),
		LastSeen: m.Time(a.LastSeenAt), Place: placeText(a.Address, a.Lat, a.Lon), Description: a.Description,
		Submitted: m.Time(a.SubmittedAt), Urgent: a.Urgent, Deadlines: deadlineRows(m, a.Deadlines),
		RejectionReason: a.RejectionReason, Notice: a.ResultNotice, CanUpload: a.Status == lostperson.StatusSubmitted,
		Submitted1: r.URL.Query().Get("submitted") == "1", Error: errMsg}
	if r.Method == http.MethodGet && r.URL.Query().Get("uploaded") == "1" {
		p.Uploaded = m.T("app.uploaded")
	}
	if a.RelationshipDetail != "" {
		p.Relationship += " (" + a.RelationshipDetail + ")"
	}
	if a.ResultOutcome != "" {
		p.Outcome, p.ResultAt = m.Label("app.outcome", string(a.ResultOutcome)), m.Time(a.ResultAt)
		p.PDF = "/api/v1/applications/" + a.ID + "/notice.pdf"
	}
	for i, n := range a.Notices {
		if i == 0 {
			p.Outcome, p.Corrected = pick(m, n.OutcomeLabel, n.OutcomeLabelZH), n.Correction
			if !n.LastSightingAt.IsZero() {
				p.LastSighting = m.Time(n.LastSightingAt)
			}
			continue
		}
		row := sentNoticeRow{Outcome: pick(m, n.OutcomeLabel, n.OutcomeLabelZH), Message: n.Message, Sent: m.Time(n.SentAt)}
		if !n.LastSightingAt.IsZero() {
			row.LastSighting = m.Time(n.LastSightingAt)
		}
		p.Earlier = append(p.Earlier, row)
	}
	for _, d := range a.Documents {
		p.Documents = append(p.Documents, docRow{Kind: m.Label("app.doc", d.Kind), Type: d.ContentType, Size: bytesText(d.Bytes), Created: m.Time(d.CreatedAt)})
	}
	u.render(w, r, status, "application", "application.title", p)
	return nil
}

// sentNoticeRow is a notice the applicant was sent and that a correction replaced.
type sentNoticeRow struct{ Outcome, Message, Sent, LastSighting string }

func placeText(address string, lat, lon float64) string {
	ll := fmt.Sprintf("%.5f, %.5f", lat, lon)
	if address == "" {
		return ll
	}
	return address + " (" + ll + ")"
}

// uploadDocument takes the page's multipart form (kind, file). The wrapper has bounded the body
// (page.MaxBody) and its CSRF check parsed the form; AddDocument bounds the file's size and
// judges its type by content.
func (u *UI) uploadDocument(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	f, _, err := r.FormFile("file")
	if err != nil {
		return u.applicantApplication(w, r, http.StatusBadRequest, m.T("app.no_file"))
	}
	defer f.Close()
	_, err = u.req.AddDocument(r.Context(), userOf(r).ID, r.PathValue("id"), r.FormValue("kind"), f)
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			return u.applicantApplication(w, r, status, msg)
		})
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id")+"?uploaded=1", http.StatusSeeOther)
	return nil
}

// --- the reviewers' pages ---

type reviewExtras struct {
	status     int
	errMsg     string
	candidates *lostperson.Candidates
}

type reviewPage struct {
	ID, Status, StatusCode, Applicant, Relationship, Subject, LastSeen, Place, Description string
	Submitted, PolicyVersion, DecisionReason, Decided, Outcome, Notice, ResultAt           string
	Urgent, Overdue, CanDecide, CanSearch, CanResult, CanFind                              bool
	Deadlines                                                                              []deadlineRow
	Documents                                                                              []docRow
	Findings                                                                               []noteRow
	Outcomes                                                                               []option
	Required                                                                               []requiredRow
	Notices                                                                                []noticeRow
	CanShow, Correcting                                                                    bool
	Error                                                                                  string
	Searched                                                                               bool
	Window                                                                                 string
	Candidates                                                                             []candidateRow
}

type noteRow struct{ Author, Body, Created string }

// requiredRow is a document the pack requires: provided by upload, shown in person, or missing.
type requiredRow struct {
	Kind, Label, How string
	Provided         bool
}

// noticeRow is a result notice on the police side, with the approve button for a draft.
type noticeRow struct {
	ID, Outcome, Message, Status, StatusCode, Author, Approver, Sighting, Created string
	Correction, CanApprove                                                        bool
}

type candidateRow struct {
	CameraID, Name, Distance, Coverage, Href string
	Ranges                                   []rangeRow
	// Basis says how the footage can be opened; Open whether it can be now; CanRequest whether
	// the owner can be asked (closed, and no request waiting); Request the newest request's state.
	Basis, BasisCode, Request string
	Open, CanRequest          bool
}

func (u *UI) reviewerApplication(w http.ResponseWriter, r *http.Request, status int, x reviewExtras) error {
	m := u.messages(r)
	a, err := u.req.ForReviewer(r.Context(), r.PathValue("id"))
	if errors.Is(err, lostperson.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	p := reviewPage{ID: a.ID, Status: m.Label("app.status", string(a.Status)), StatusCode: string(a.Status),
		Applicant: u.username(r, a.ApplicantID), Relationship: m.Label("app.relationship", a.Relationship),
		Subject: m.Label("app.subject", a.SubjectCategory), LastSeen: m.Time(a.LastSeenAt), Place: placeText(a.Address, a.Lat, a.Lon),
		Description: a.Description, Submitted: m.Time(a.SubmittedAt), PolicyVersion: a.PolicyVersion, Urgent: a.Urgent,
		Overdue: a.Overdue, Deadlines: deadlineRows(m, a.Deadlines), DecisionReason: a.DecisionReason,
		Notice: a.ResultNotice, Error: x.errMsg,
		CanDecide: a.Status == lostperson.StatusSubmitted, CanSearch: a.Status == lostperson.StatusAccepted,
		CanResult: a.Status == lostperson.StatusAccepted, CanFind: a.Status == lostperson.StatusAccepted}
	if a.RelationshipDetail != "" {
		p.Relationship += " (" + a.RelationshipDetail + ")"
	}
	if !a.DecidedAt.IsZero() {
		p.Decided = m.Time(a.DecidedAt) + " · " + u.username(r, a.DecidedBy)
	}
	if a.ResultOutcome != "" {
		p.Outcome, p.ResultAt = m.Label("app.outcome", string(a.ResultOutcome)), m.Time(a.ResultAt)+" · "+u.username(r, a.ResultBy)
	}
	for _, d := range a.Documents {
		p.Documents = append(p.Documents, docRow{Kind: m.Label("app.doc", d.Kind), Type: d.ContentType, Size: bytesText(d.Bytes),
			Created: m.Time(d.CreatedAt), Href: "/api/v1/applications/" + a.ID + "/documents/" + d.ID})
	}
	for _, f := range a.Findings {
		p.Findings = append(p.Findings, noteRow{Author: u.username(r, f.AuthorID), Body: f.Body, Created: m.Time(f.CreatedAt)})
	}
	for _, o := range u.req.Outcomes() {
		p.Outcomes = append(p.Outcomes, option{Value: o.ID, Label: pick(m, o.Label, o.LabelZH)})
	}
	p.CanShow = a.Status == lostperson.StatusSubmitted
	p.Correcting = a.Status == lostperson.StatusCompleted
	p.CanResult = p.CanResult || p.Correcting
	for _, rq := range a.Required {
		row := requiredRow{Kind: rq.Kind, Label: pick(m, rq.Label, rq.LabelZH), Provided: rq.Provided()}
		switch {
		case rq.Uploaded:
			row.How = m.T("review.doc_uploaded")
		case rq.Shown != nil:
			row.How = m.T("review.doc_shown", m.Time(rq.Shown.ShownAt), u.username(r, rq.Shown.ReviewerID))
		default:
			row.How = m.T("review.doc_missing")
		}
		p.Required = append(p.Required, row)
	}
	me := userOf(r).ID
	for _, n := range a.Notices {
		row := noticeRow{ID: n.ID, Outcome: m.Label("app.outcome", string(n.Outcome)), Message: n.Message,
			Status: m.Label("review.notice_status", string(n.Status)), StatusCode: string(n.Status), Author: u.username(r, n.AuthorID),
			Created: m.Time(n.CreatedAt), Correction: n.Supersedes != "",
			CanApprove: n.Status == lostperson.NoticeDraft && n.AuthorID != me}
		if n.ApprovedBy != "" {
			row.Approver = u.username(r, n.ApprovedBy)
		}
		if !n.LastSightingAt.IsZero() {
			row.Sighting = m.Time(n.LastSightingAt)
		}
		p.Notices = append(p.Notices, row)
	}
	if c := x.candidates; c != nil {
		p.Searched = true
		p.Window = m.T("camera.timeline_caption", m.Time(c.From), m.Time(c.To))
		for _, cam := range c.Cameras {
			row := candidateRow{CameraID: cam.CameraID, Name: cam.Name, Distance: fmt.Sprintf("%.0f m", cam.DistanceM),
				Coverage: fmt.Sprintf("%.1f%%", cam.Coverage*100),
				// The window pre-filled, bound to the application; the reviewer picks a range to play.
				Href: query("/cameras/"+cam.CameraID, "start", c.From.UTC().Format(time.RFC3339), "end", c.To.UTC().Format(time.RFC3339),
					"purpose", "lost-person application "+a.ID, "application_id", a.ID) + "#playback",
				Basis: m.Label("basis", cam.Basis), BasisCode: cam.Basis,
				Open: cam.Basis != lostperson.BasisNone && cam.Basis != lostperson.BasisEmergency}
			if cam.Request != nil {
				row.Request = m.T("review.request_status", m.Label("freq.status", string(cam.Request.Status)))
			}
			row.CanRequest = cam.Basis == lostperson.BasisNone && (cam.Request == nil || cam.Request.Status != lostperson.RequestPending)
			for _, rg := range cam.Ranges {
				row.Ranges = append(row.Ranges, rangeRow{Label: m.T("camera.timeline_caption", m.Time(rg.Start), m.Time(rg.End)),
					Href: query("/cameras/"+cam.CameraID, "play", "1", "start", rg.Start.UTC().Format(time.RFC3339),
						"end", rg.End.UTC().Add(time.Second-1).Truncate(time.Second).Format(time.RFC3339),
						"purpose", "lost-person application "+a.ID, "application_id", a.ID) + "#playback"})
			}
			p.Candidates = append(p.Candidates, row)
		}
	}
	if x.status != 0 {
		status = x.status
	}
	u.render(w, r, status, "review", "review.title", p)
	return nil
}

// username names a user for the police pages; an unknown id shows as itself.
func (u *UI) username(r *http.Request, id string) string {
	if id == "" {
		return "—"
	}
	usr, err := u.users.User(r.Context(), id)
	if err != nil {
		return id
	}
	return usr.Username
}

// reviewStep answers a reviewer's form: on a refusal the page again with the message, else a
// redirect back to the page.
func (u *UI) reviewStep(w http.ResponseWriter, r *http.Request, err error) error {
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.reviewerApplication(w, r, status, reviewExtras{status: status, errMsg: msg})
		})
	}
	http.Redirect(w, r, "/applications/"+r.PathValue("id"), http.StatusSeeOther)
	return nil
}

func (u *UI) decide(w http.ResponseWriter, r *http.Request) error {
	accept := r.PostFormValue("accept")
	if accept != "true" && accept != "false" {
		return u.reviewerApplication(w, r, http.StatusBadRequest, reviewExtras{status: http.StatusBadRequest, errMsg: u.messages(r).T("review.pick_decision")})
	}
	if accept == "false" && strings.TrimSpace(r.PostFormValue("reason")) == "" {
		// The applicant reads a refusal's reason: asked for in the reviewer's language.
		return u.reviewerApplication(w, r, http.StatusBadRequest, reviewExtras{status: http.StatusBadRequest, errMsg: u.messages(r).T("review.reject_needs_reason")})
	}
	_, err := u.req.Decide(r.Context(), r.PathValue("id"), accept == "true", r.PostFormValue("reason"))
	return u.reviewStep(w, r, err)
}

func (u *UI) addFinding(w http.ResponseWriter, r *http.Request) error {
	_, err := u.req.AddFinding(r.Context(), r.PathValue("id"), r.PostFormValue("body"))
	return u.reviewStep(w, r, err)
}

// writeResult drafts a result notice (or a correction of the sent one); a second reviewer sends
// it with the approve button.
func (u *UI) writeResult(w http.ResponseWriter, r *http.Request) error {
	in := lostperson.NoticeInput{Outcome: r.PostFormValue("outcome"), Message: r.PostFormValue("notice")}
	if v := strings.TrimSpace(r.PostFormValue("last_sighting_at")); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, time.UTC)
		if err != nil {
			m := u.messages(r)
			return u.reviewerApplication(w, r, http.StatusBadRequest, reviewExtras{status: http.StatusBadRequest,
				errMsg: fieldMessage(m, "last_sighting_at", m.T("review.bad_time"))})
		}
		in.LastSightingAt = &t
	}
	_, err := u.req.DraftNotice(r.Context(), r.PathValue("id"), in)
	return u.reviewStep(w, r, err)
}

func (u *UI) approveNotice(w http.ResponseWriter, r *http.Request) error {
	_, err := u.req.ApproveNotice(r.Context(), r.PathValue("id"), r.PathValue("nid"))
	return u.reviewStep(w, r, err)
}

func (u *UI) documentShown(w http.ResponseWriter, r *http.Request) error {
	_, err := u.req.RecordShown(r.Context(), r.PathValue("id"), r.PostFormValue("kind"), r.PostFormValue("note"))
	return u.reviewStep(w, r, err)
}

// searchCandidates runs the candidate search (traced, and granting this reviewer footage of the
// candidates in the window), so it is a POST; the page shows the result.
func (u *UI) searchCandidates(w http.ResponseWriter, r *http.Request) error {
	c, err := u.req.SearchCandidates(r.Context(), r.PathValue("id"))
	if err != nil {
		return u.reviewStep(w, r, err)
	}
	return u.reviewerApplication(w, r, http.StatusOK, reviewExtras{candidates: c})
}

// --- the admins' procedure editor ---

type procedureForm struct {
	TitleZH, TitleEN, BodyZH, BodyEN, Documents string
	Version                                     int
	Published, Error                            string
}

// procedureEditor shows the current procedure in a form; publishing makes a new version, the
// earlier ones stay on the portal.
func (u *UI) procedureEditor(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	cur, _, err := u.req.Procedures(r.Context())
	if err != nil {
		return err
	}
	f := procedureForm{TitleZH: cur.TitleZH, TitleEN: cur.TitleEN, BodyZH: cur.BodyZH, BodyEN: cur.BodyEN, Version: cur.Version,
		Published: m.Time(cur.PublishedAt)}
	var lines []string
	for _, d := range cur.Documents {
		lines = append(lines, d.ZH+" | "+d.EN)
	}
	f.Documents = strings.Join(lines, "\n")
	u.render(w, r, http.StatusOK, "procedure", "procedure.title", f)
	return nil
}

func (u *UI) publishProcedure(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	f := procedureForm{TitleZH: r.PostFormValue("title_zh"), TitleEN: r.PostFormValue("title_en"), BodyZH: r.PostFormValue("body_zh"),
		BodyEN: r.PostFormValue("body_en"), Documents: r.PostFormValue("documents")}
	in := &lostperson.ProcedureInput{TitleZH: f.TitleZH, TitleEN: f.TitleEN, BodyZH: f.BodyZH, BodyEN: f.BodyEN}
	for _, line := range strings.Split(f.Documents, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		zh, en, _ := strings.Cut(line, "|")
		in.Documents = append(in.Documents, lostperson.RequiredDoc{ZH: strings.TrimSpace(zh), EN: strings.TrimSpace(en)})
	}
	if _, err := u.req.PublishProcedure(r.Context(), in); err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			f.Error = msg
			u.render(w, r, status, "procedure", "procedure.title", f)
			return nil
		})
	}
	http.Redirect(w, r, "/portal", http.StatusSeeOther)
	return nil
}

// requestFootage sends a closed candidate camera's owner a request for its footage in the window.
func (u *UI) requestFootage(w http.ResponseWriter, r *http.Request) error {
	_, err := u.req.RequestFootage(r.Context(), r.PathValue("id"), r.PostFormValue("camera_id"), r.PostFormValue("reason"))
	return u.reviewStep(w, r, err)
}

// --- the owners' footage requests ---

type footageRequestsPage struct {
	Requests []footageRequestRow
	Error    string
}

type footageRequestRow struct {
	ID, Camera, Window, Reason, Status, StatusCode, Note, Created string
	Pending                                                       bool
}

func (u *UI) footageRequests(w http.ResponseWriter, r *http.Request) error {
	return u.renderFootageRequests(w, r, http.StatusOK, "")
}

func (u *UI) renderFootageRequests(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	m := u.messages(r)
	rs, err := u.req.OwnerRequests(r.Context(), userOf(r))
	if err != nil {
		return err
	}
	p := footageRequestsPage{Error: errMsg}
	for _, fr := range rs {
		name := fr.CameraName
		if name == "" {
			name = fr.CameraID
		}
		p.Requests = append(p.Requests, footageRequestRow{ID: fr.ID, Camera: name,
			Window: m.T("camera.timeline_caption", m.Time(fr.From), m.Time(fr.To)), Reason: fr.Reason,
			Status: m.Label("freq.status", string(fr.Status)), StatusCode: string(fr.Status), Note: fr.DecisionNote,
			Created: m.Time(fr.CreatedAt), Pending: fr.Status == lostperson.RequestPending})
	}
	u.render(w, r, status, "footage_requests", "freq.title", p)
	return nil
}

// decideFootageRequest is the owner's approval or refusal, from its list.
func (u *UI) decideFootageRequest(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	v := r.PostFormValue("approve")
	if v != "true" && v != "false" {
		return u.renderFootageRequests(w, r, http.StatusBadRequest, m.T("freq.pick"))
	}
	_, err := u.req.DecideRequest(r.Context(), userOf(r), r.PathValue("id"), v == "true", r.PostFormValue("note"))
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error {
			return u.renderFootageRequests(w, r, status, msg)
		})
	}
	http.Redirect(w, r, "/footage-requests", http.StatusSeeOther)
	return nil
}
