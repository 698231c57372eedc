package webui

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/inspection"
	"civicam/internal/registry"
)

// The staff's pages of hidden-camera inspections (REG-2): the list of establishments that must
// inspect, with every overdue room group (the public security organ sees all establishments,
// an owner or operator its own), and each establishment's page with its plan, its records and,
// for its owners and the admins, the forms to change the plan and enter an inspection. They call
// the inspection service as the API does, so the service's scoping and tracing are theirs.

// maxInspectionForm bounds the record form's body: a photo and the fields. The service bounds
// the photo itself by the pack's limit.
const maxInspectionForm = 12 << 20

func (u *UI) inspectionRoutes() []*page {
	if u.inspections == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /inspections", APIRoute: "GET /api/v1/inspections/overdue", Handler: u.inspectionList},
		{Pattern: "GET /inspections/{org}", APIRoute: "GET /api/v1/inspections/records", Handler: u.inspectionPage},
		{Pattern: "POST /inspections/{org}/plan", APIRoute: "PUT /api/v1/inspections/plans/{organisation_id}", Handler: u.postInspectionPlan},
		{Pattern: "POST /inspections/{org}/records", APIRoute: "POST /api/v1/inspections/records", Handler: u.postInspectionRecord,
			MaxBody: maxInspectionForm},
		{Pattern: "GET /inspections/records/{id}/photo", APIRoute: "GET /api/v1/inspections/records/{id}/photo", Handler: u.inspectionPhoto},
	}
}

// overdueRow is one overdue finding on a page.
type overdueRow struct {
	OrganisationID, Organisation, RoomGroup, LastInspected, Message string
}

// establishmentRow is one establishment of the list.
type establishmentRow struct {
	ID, Name, Type string
	RoomGroups     int
	HasPlan        bool
	Overdue        int
}

type inspectionListData struct {
	IntervalDays   int
	Rule           string
	Establishments []establishmentRow
	Overdue        []overdueRow
}

func (u *UI) overdueRow(m Messages, o inspection.Overdue) overdueRow {
	msg := o.Finding.Message
	if o.RoomGroup == "" {
		msg = m.T("insp.no_plan")
	}
	return overdueRow{OrganisationID: o.OrganisationID, Organisation: o.OrganisationName, RoomGroup: o.RoomGroup,
		LastInspected: m.Time(o.LastInspectedOn), Message: msg}
}

func (u *UI) inspectionList(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	usr := userOf(r)
	ctx := r.Context()
	od, err := u.inspections.Overdue(ctx, usr)
	if err != nil {
		return err
	}
	plans, err := u.inspections.Plans(ctx, usr)
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	in := u.reg.Pack().Inspections()
	d := inspectionListData{IntervalDays: in.IntervalDays, Rule: in.Rule}
	overdueOf := map[string]int{}
	for _, o := range od {
		d.Overdue = append(d.Overdue, u.overdueRow(m, o))
		overdueOf[o.OrganisationID]++
	}
	planOf := map[string]*inspection.Plan{}
	for _, p := range plans {
		planOf[p.OrganisationID] = p
	}
	scope := access.ScopeOf(usr)
	for _, o := range orgs {
		// The establishments the pack asks to inspect, and any that keeps a plan from a pack
		// that asked it before a switch, as far as the user sees them.
		p := planOf[o.ID]
		if !(scope.All || scope.OrganisationID == o.ID) || (!in.Required(o.EstablishmentType) && p == nil) {
			continue
		}
		row := establishmentRow{ID: o.ID, Name: o.Name, Type: m.Label("establishment", o.EstablishmentType), Overdue: overdueOf[o.ID]}
		if p != nil {
			row.HasPlan, row.RoomGroups = true, len(p.RoomGroups)
		}
		d.Establishments = append(d.Establishments, row)
	}
	u.render(w, r, http.StatusOK, "inspections", "insp.title", d)
	return nil
}

// recordRow is one inspection record on the establishment's page.
type recordRow struct {
	ID, Date, RoomGroup, Inspector, Result, Notes, Recorded string
	Found, HasPhoto                                         bool
}

// roomGroupRow is one room group of the plan, with when it was last inspected.
type roomGroupRow struct {
	Name, Last string
	Overdue    bool
}

type inspectionPageData struct {
	OrganisationID, Name, Type string
	Required                   bool
	IntervalDays               int
	HasPlan                    bool
	PlanUpdated                string
	Groups                     []roomGroupRow
	GroupNames                 []string
	PlanText                   string // the plan form's text: one room group a line
	Records                    []recordRow
	MayChange                  bool
	Today                      string
	Error                      string
	// The record form's fields, kept when it is refused.
	Form inspection.RecordInput
}

func (u *UI) inspectionPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderInspection(w, r, http.StatusOK, "", nil)
}

// renderInspection draws an establishment's page; msg is a refusal of one of its forms, and form
// what the refused record form held.
func (u *UI) renderInspection(w http.ResponseWriter, r *http.Request, status int, msg string, form *inspection.RecordInput) error {
	m := u.messages(r)
	usr := userOf(r)
	ctx := r.Context()
	orgID := r.PathValue("org")
	if !registry.ValidID(orgID) {
		return errNotFound
	}
	// Records checks that the user may read this establishment's records and traces the look:
	// first, so that nothing else of it is read for a user who may not.
	recs, err := u.inspections.Records(ctx, usr, orgID, 500)
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	o, err := u.reg.Organisation(ctx, orgID)
	if err != nil {
		return notFoundPage(err)
	}
	in := u.reg.Pack().Inspections()
	d := inspectionPageData{OrganisationID: o.ID, Name: o.Name, Type: m.Label("establishment", o.EstablishmentType),
		Required: in.Required(o.EstablishmentType), IntervalDays: in.IntervalDays, Today: u.now().Format(time.DateOnly), Error: msg}
	d.MayChange = d.Required && u.allowed(usr, "PUT /api/v1/inspections/plans/{organisation_id}") &&
		(usr.Role == auth.RoleAdmin || usr.OrganisationID == o.ID)
	if form != nil {
		d.Form = *form
	}
	plans, err := u.inspections.Plans(ctx, usr)
	if err != nil {
		return err
	}
	od, err := u.inspections.Overdue(ctx, usr)
	if err != nil {
		return err
	}
	overdue := map[string]bool{}
	for _, x := range od {
		if x.OrganisationID == o.ID {
			overdue[x.RoomGroup] = true
		}
	}
	last := map[string]time.Time{}
	for _, rec := range recs {
		if rec.InspectedOn.After(last[rec.RoomGroup]) {
			last[rec.RoomGroup] = rec.InspectedOn
		}
	}
	if i := slices.IndexFunc(plans, func(p *inspection.Plan) bool { return p.OrganisationID == o.ID }); i >= 0 {
		p := plans[i]
		d.HasPlan, d.PlanUpdated, d.GroupNames = true, m.Time(p.UpdatedAt), p.RoomGroups
		d.PlanText = strings.Join(p.RoomGroups, "\n")
		for _, g := range p.RoomGroups {
			row := roomGroupRow{Name: g, Last: "—", Overdue: overdue[g]}
			if t := last[g]; !t.IsZero() {
				row.Last = t.Format(time.DateOnly)
			}
			d.Groups = append(d.Groups, row)
		}
	}
	for _, rec := range recs {
		d.Records = append(d.Records, recordRow{ID: rec.ID, Date: rec.InspectedOn.Format(time.DateOnly), RoomGroup: rec.RoomGroup,
			Inspector: rec.Inspector, Result: m.Label("insp.result", rec.Result), Notes: rec.Notes, Recorded: m.Time(rec.CreatedAt),
			Found: rec.Result == inspection.ResultFound, HasPhoto: rec.PhotoID != ""})
	}
	u.render(w, r, status, "inspection", "insp.establishment_title", d)
	return nil
}

// refusedOnInspection shows the establishment's page again with a form's refusal.
func (u *UI) refusedOnInspection(w http.ResponseWriter, r *http.Request, err error, form *inspection.RecordInput) error {
	return showRefusal(u.messages(r), err, func(status int, msg string) error {
		return u.renderInspection(w, r, status, msg, form)
	})
}

func (u *UI) postInspectionPlan(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("org")
	var groups []string
	for _, line := range strings.Split(r.PostFormValue("room_groups"), "\n") {
		if g := strings.TrimSpace(line); g != "" {
			groups = append(groups, g)
		}
	}
	if _, err := u.inspections.SetPlan(r.Context(), userOf(r), orgID, groups); err != nil {
		return u.refusedOnInspection(w, r, err, nil)
	}
	http.Redirect(w, r, "/inspections/"+orgID+"#plan", http.StatusSeeOther)
	return nil
}

// postInspectionRecord takes the record form (multipart, with an optional photo); the wrapper
// has bounded the body and its CSRF check parsed the form.
func (u *UI) postInspectionRecord(w http.ResponseWriter, r *http.Request) error {
	orgID := r.PathValue("org")
	in := inspection.RecordInput{OrganisationID: orgID, RoomGroup: r.FormValue("room_group"), InspectedOn: r.FormValue("inspected_on"),
		Inspector: r.FormValue("inspector"), Result: r.FormValue("result"), Notes: r.FormValue("notes")}
	var photo []byte
	if f, _, err := r.FormFile("photo"); err == nil {
		photo, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
	} else if !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart) {
		return err
	}
	if _, err := u.inspections.AddRecord(r.Context(), userOf(r), in, photo); err != nil {
		return u.refusedOnInspection(w, r, err, &in)
	}
	http.Redirect(w, r, "/inspections/"+orgID+"#records", http.StatusSeeOther)
	return nil
}

// inspectionPhoto serves the photo of a record; the service checks the reader and traces the look.
func (u *UI) inspectionPhoto(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	p, err := u.inspections.RecordPhoto(r.Context(), userOf(r), id)
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(p.Data)
	return nil
}
