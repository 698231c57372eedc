package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
)

// signRoutes are the pages of reminder signs (REG-7) and maintenance (REG-5): sections of the
// camera page, the sign photo, and the maintenance list.
func (u *UI) signRoutes() []*page {
	return []*page{
		{Pattern: "POST /cameras/{id}/sign", APIRoute: "PUT /api/v1/cameras/{id}/sign", Handler: u.postSign},
		{Pattern: "POST /cameras/{id}/sign/photo", APIRoute: "PUT /api/v1/cameras/{id}/sign/photo", Handler: u.postSignPhoto,
			MaxBody: registry.MaxSignPhotoBytes + 64<<10},
		{Pattern: "GET /cameras/{id}/sign/photo", APIRoute: "GET /api/v1/cameras/{id}/sign/photo", Handler: u.signPhoto},
		{Pattern: "POST /cameras/{id}/maintenance/orders", APIRoute: "POST /api/v1/cameras/{id}/maintenance/orders", Handler: u.postWorkOrder},
		{Pattern: "POST /maintenance/orders/{id}/done", APIRoute: "POST /api/v1/maintenance/orders/{id}/done", Handler: u.postWorkOrderDone},
		{Pattern: "GET /maintenance", APIRoute: "GET /api/v1/maintenance/orders", Handler: u.maintenanceList},
	}
}

// signView is the camera page's sign section.
type signView struct {
	Fields    []field
	HasPhoto  bool
	MayChange bool
	Today     string
}

// maintenanceView is the camera page's maintenance section.
type maintenanceView struct {
	Fields    []field
	Open      []orderRow
	History   []orderRow
	MayChange bool
}

// orderRow is one work order on a page.
type orderRow struct {
	ID, CameraID, Cause, Detail, Status, Opened, Done, Notes string
	IsOpen                                                   bool
}

func (u *UI) orderRow(m Messages, o *registry.WorkOrder) orderRow {
	return orderRow{ID: o.ID, CameraID: o.CameraID, Cause: m.T("maint.cause_" + o.Cause), Detail: o.Detail,
		Status: m.T("maint.status_" + o.Status), Opened: m.Time(o.OpenedAt), Done: m.Time(o.DoneAt), Notes: o.Notes, IsOpen: o.Status == registry.OrderOpen}
}

// signAndMaintenance fills the camera page's sign and maintenance sections for a camera of the
// user's scope.
func (u *UI) signAndMaintenance(ctx context.Context, m Messages, usr *auth.User, c *registry.Camera) (*signView, *maintenanceView, error) {
	scope := access.ScopeOf(usr)
	sg, err := u.reg.Sign(ctx, scope, c.ID)
	if err != nil {
		return nil, nil, err
	}
	yes := m.T("no")
	if sg.Installed {
		yes = m.T("yes")
	}
	sv := &signView{HasPhoto: sg.Photo != nil, Today: u.now().Format(time.DateOnly),
		MayChange: u.allowed(usr, "PUT /api/v1/cameras/{id}/sign") && access.WriteScope(usr).Allows(c.OrganisationID) && c.Status != registry.StatusDecommissioned}
	sv.Fields = []field{
		{m.T("sign.installed"), yes},
		{m.T("sign.checked"), m.Time(sg.CheckedAt)},
		{m.T("sign.checked_by"), sg.CheckedBy},
		{m.T("sign.due"), m.Time(sg.CheckDueAt)},
	}
	plan, err := u.reg.MaintenancePlan(ctx, scope, c.ID)
	if err != nil {
		return nil, nil, err
	}
	overdue := m.T("no")
	if plan.Overdue {
		overdue = m.T("yes")
	}
	mv := &maintenanceView{MayChange: u.allowed(usr, "POST /api/v1/maintenance/orders/{id}/done") && access.WriteScope(usr).Allows(c.OrganisationID)}
	mv.Fields = []field{
		{m.T("maint.interval"), m.T("camera.days", plan.IntervalDays)},
		{m.T("maint.last_done"), m.Time(plan.LastDoneAt)},
		{m.T("maint.next_due"), m.Time(plan.NextDueAt)},
		{m.T("maint.overdue"), overdue},
	}
	for _, o := range plan.Open {
		mv.Open = append(mv.Open, u.orderRow(m, o))
	}
	for _, o := range plan.History {
		mv.History = append(mv.History, u.orderRow(m, o))
	}
	return sv, mv, nil
}

// refusedOnCamera shows the camera page again with a refusal of one of its forms.
func (u *UI) refusedOnCamera(w http.ResponseWriter, r *http.Request, err error) error {
	return showRefusal(u.messages(r), err, func(status int, msg string) error {
		return u.renderCamera(w, r, status, msg)
	})
}

func (u *UI) postSign(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	installed := r.PostFormValue("installed") == "yes"
	in := &registry.SignInput{Installed: &installed}
	if d := r.PostFormValue("checked_at"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, time.Local)
		if err != nil {
			return u.refusedOnCamera(w, r, &registry.InvalidError{Field: "checked_at", Message: "is not a date"})
		}
		in.CheckedAt = &t
	}
	if _, err := u.reg.UpdateSign(r.Context(), access.WriteScope(usr), usr, r.PathValue("id"), in); err != nil {
		return u.refusedOnCamera(w, r, err)
	}
	http.Redirect(w, r, "/cameras/"+r.PathValue("id")+"#sign", http.StatusSeeOther)
	return nil
}

// postSignPhoto takes the page's multipart form (photo); the wrapper has bounded the body and
// its CSRF check parsed the form.
func (u *UI) postSignPhoto(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	// No file is an empty photo, which the service refuses after it has found the camera in
	// the user's scope: another organisation's camera is not found either way.
	b := []byte{}
	if f, _, err := r.FormFile("photo"); err == nil {
		defer f.Close()
		if b, err = io.ReadAll(io.LimitReader(f, registry.MaxSignPhotoBytes+1)); err != nil {
			return err
		}
	}
	if _, err := u.reg.UpdateSign(r.Context(), access.WriteScope(usr), usr, r.PathValue("id"), &registry.SignInput{Photo: b}); err != nil {
		return u.refusedOnCamera(w, r, err)
	}
	http.Redirect(w, r, "/cameras/"+r.PathValue("id")+"#sign", http.StatusSeeOther)
	return nil
}

// signPhoto serves the photo of a camera's sign; the service traces the look.
func (u *UI) signPhoto(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	p, err := u.reg.SignPhoto(r.Context(), access.ScopeOf(userOf(r)), id)
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", p.Type)
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(p.Data)
	return nil
}

func (u *UI) postWorkOrder(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	if _, err := u.reg.OpenWorkOrder(r.Context(), access.WriteScope(usr), usr, r.PathValue("id"), r.PostFormValue("detail")); err != nil {
		return u.refusedOnCamera(w, r, err)
	}
	http.Redirect(w, r, "/cameras/"+r.PathValue("id")+"#maintenance", http.StatusSeeOther)
	return nil
}

func (u *UI) postWorkOrderDone(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	m := u.messages(r)
	var done *time.Time
	if d := r.PostFormValue("done_at"); d != "" {
		t, err := time.ParseInLocation(time.DateOnly, d, time.Local)
		if err != nil {
			return u.renderMaintenance(w, r, http.StatusBadRequest, m.T("maint.bad_date"))
		}
		done = &t
	}
	o, err := u.reg.CompleteWorkOrder(r.Context(), access.WriteScope(usr), usr, r.PathValue("id"), done, r.PostFormValue("notes"))
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error { return u.renderMaintenance(w, r, status, msg) })
	}
	http.Redirect(w, r, "/cameras/"+o.CameraID+"#maintenance", http.StatusSeeOther)
	return nil
}

// maintenanceListData is the maintenance list page.
type maintenanceListData struct {
	Open, Done []orderRow
	MayChange  bool
	Today      string
	Error      string
}

func (u *UI) maintenanceList(w http.ResponseWriter, r *http.Request) error {
	return u.renderMaintenance(w, r, http.StatusOK, "")
}

func (u *UI) renderMaintenance(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	m := u.messages(r)
	usr := userOf(r)
	orders, err := u.reg.WorkOrders(r.Context(), access.ScopeOf(usr), registry.WorkOrderFilter{Limit: 500})
	if err != nil {
		return err
	}
	d := maintenanceListData{MayChange: u.allowed(usr, "POST /api/v1/maintenance/orders/{id}/done"), Today: u.now().Format(time.DateOnly), Error: msg}
	for _, o := range orders {
		if o.Status == registry.OrderOpen {
			d.Open = append(d.Open, u.orderRow(m, o))
		} else {
			d.Done = append(d.Done, u.orderRow(m, o))
		}
	}
	u.render(w, r, status, "maintenance", "maint.title", d)
	return nil
}
