package webui

// Cameras managed in the UI (issue 16 point 5): the add and edit forms, decommissioning with a
// confirmation step, the all-or-none CSV import with its report row by row, bulk actions on the
// camera list, and the device tree. Every change goes through the registry (or sharing) service
// the API's routes call, so validation, the policy pack and the trail apply as they do there; each
// page takes the roles of the API route it mirrors.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

func (u *UI) cameraMgmtRoutes() []*page {
	ps := []*page{
		{Pattern: "GET /cameras/new", APIRoute: "POST /api/v1/cameras", Handler: u.cameraNewForm},
		{Pattern: "POST /cameras/new", APIRoute: "POST /api/v1/cameras", Handler: u.cameraCreate},
		{Pattern: "GET /cameras/{id}/edit", APIRoute: "PATCH /api/v1/cameras/{id}", Handler: u.cameraEditForm},
		{Pattern: "POST /cameras/{id}/edit", APIRoute: "PATCH /api/v1/cameras/{id}", Handler: u.cameraEdit},
		{Pattern: "GET /cameras/{id}/decommission", APIRoute: "DELETE /api/v1/cameras/{id}", Handler: u.cameraDecommissionConfirm},
		{Pattern: "POST /cameras/{id}/decommission", APIRoute: "DELETE /api/v1/cameras/{id}", Handler: u.cameraDecommission},
		{Pattern: "GET /cameras/import", APIRoute: "POST /api/v1/cameras/import", Handler: u.cameraImportForm},
		{Pattern: "POST /cameras/import", APIRoute: "POST /api/v1/cameras/import", MaxBody: maxImportBody, Handler: u.cameraImport},
		// Each bulk action is a change to a camera the caller manages: the roles of the camera
		// PATCH, which are those of the work-order and group routes too.
		{Pattern: "POST /cameras/bulk", APIRoute: "PATCH /api/v1/cameras/{id}", Handler: u.cameraBulk},
		{Pattern: "GET /cameras/tree", APIRoute: "GET /api/v1/cameras", Handler: u.cameraTree},
	}
	if u.sharing != nil {
		ps = append(ps,
			&page{Pattern: "GET /sharing/groups/{id}", APIRoute: "PATCH /api/v1/groups/{id}", Handler: u.groupEditForm},
			&page{Pattern: "POST /sharing/groups/{id}", APIRoute: "PATCH /api/v1/groups/{id}", Handler: u.groupUpdate},
			&page{Pattern: "POST /sharing/groups/{id}/delete", APIRoute: "DELETE /api/v1/groups/{id}", Handler: u.groupDelete})
	}
	return ps
}

// maxImportBody bounds an import upload as the API bounds it (64 MiB: 100,000 cameras are
// about 25 MB of CSV).
const maxImportBody = 64 << 20

// maxBulk bounds one bulk action: one page of the camera list.
const maxBulk = 1000

// manageControls says which management controls the camera list shows the user.
type manageControls struct {
	Add, Import, Bulk bool
	Groups            []option // picked groups the bulk action can add cameras to
}

func (u *UI) manageControlsFor(r *http.Request) manageControls {
	usr := userOf(r)
	mc := manageControls{Add: u.allowed(usr, "POST /api/v1/cameras"), Import: u.allowed(usr, "POST /api/v1/cameras/import"),
		Bulk: u.allowed(usr, "PATCH /api/v1/cameras/{id}")}
	if mc.Bulk && u.sharing != nil {
		if gs, err := u.sharing.Groups(r.Context(), usr); err == nil {
			for _, g := range gs {
				if g.Kind == sharing.GroupPicked {
					mc.Groups = append(mc.Groups, option{Value: g.ID, Label: g.Name})
				}
			}
		} else {
			u.log.Error("groups for the bulk form", "err", err)
		}
	}
	return mc
}

// mayManageCamera reports whether the user may change camera c (the page's controls).
func (u *UI) mayManageCamera(usr *auth.User, c *registry.Camera) bool {
	return u.allowed(usr, "PATCH /api/v1/cameras/{id}") && access.WriteScope(usr).Allows(c.OrganisationID)
}

type cameraFormData struct {
	Edit          bool
	ID, Name      string
	Error         string
	Form          map[string]string
	Checks        map[string]bool
	Organisations []option // empty: the user's own organisation, not asked
	Investments   []option
	Categories    []option
	Statuses      []option
	SourceHint    string // the current source without its credentials (edit): empty keeps it
}

// cameraFields are the text fields of the camera form, by their API names.
var cameraFields = []string{"name", "organisation_id", "investment", "lat", "lon", "address", "place_category",
	"bearing", "fov_angle", "range_m", "source_url", "retention_days", "maintenance_interval_days", "status", "gb_device_id"}

// cameraChecks are its checkboxes.
var cameraChecks = []string{"networked", "interface_reserved", "sign_installed"}

func (u *UI) cameraFormData(r *http.Request, edit bool, form url.Values, checks map[string]bool) (*cameraFormData, error) {
	m := u.messages(r)
	usr := userOf(r)
	d := &cameraFormData{Edit: edit, Form: map[string]string{}, Checks: checks}
	for _, f := range cameraFields {
		d.Form[f] = strings.TrimSpace(form.Get(f))
	}
	if usr.Role == auth.RoleAdmin && !edit {
		orgs, err := u.reg.Organisations(r.Context())
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			d.Organisations = append(d.Organisations, option{Value: o.ID, Label: o.Name, Selected: o.ID == d.Form["organisation_id"]})
		}
	}
	for _, inv := range []string{registry.InvestmentGovernment, registry.InvestmentPrivate} {
		d.Investments = append(d.Investments, option{Value: inv, Label: m.Label("investment", inv), Selected: inv == d.Form["investment"]})
	}
	for _, c := range u.reg.Pack().Categories() {
		d.Categories = append(d.Categories, option{Value: c.ID, Label: categoryLabel(c, m), Selected: c.ID == d.Form["place_category"]})
	}
	for _, s := range []string{registry.StatusPlanned, registry.StatusActive} {
		d.Statuses = append(d.Statuses, option{Value: s, Label: m.Label("status", s), Selected: s == d.Form["status"]})
	}
	return d, nil
}

// badNumber is a number field of the form that does not read as one.
type badNumber struct{ field string }

func (e *badNumber) Error() string { return "not a number: " + e.field }

// cameraInput reads the form into the API's input. Empty number fields are left unset (the
// service says which it requires); on an edit, an empty source keeps the current one, whose
// credentials the form never shows.
func cameraInput(f url.Values, edit, admin bool) (*registry.CameraInput, error) {
	in := &registry.CameraInput{}
	str := func(name string) *string {
		v := strings.TrimSpace(f.Get(name))
		return &v
	}
	in.Name, in.Investment, in.Address, in.PlaceCategory = str("name"), str("investment"), str("address"), str("place_category")
	if v := str("gb_device_id"); *v != "" || edit {
		in.GBDeviceID = v
	}
	if v := str("status"); *v != "" {
		in.Status = v
	}
	if v := str("source_url"); *v != "" || !edit {
		in.SourceURL = v
	}
	if admin && !edit {
		in.OrganisationID = str("organisation_id")
	}
	floats := map[string]**float64{"lat": &in.Lat, "lon": &in.Lon, "bearing": &in.Bearing, "fov_angle": &in.FOVAngle, "range_m": &in.RangeM}
	for _, name := range []string{"lat", "lon", "bearing", "fov_angle", "range_m"} {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, &badNumber{name}
		}
		*floats[name] = &x
	}
	ints := map[string]**int{"retention_days": &in.RetentionDays, "maintenance_interval_days": &in.MaintenanceIntervalDays}
	for _, name := range []string{"retention_days", "maintenance_interval_days"} {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &badNumber{name}
		}
		*ints[name] = &n
	}
	for name, dst := range map[string]**bool{"networked": &in.Networked, "interface_reserved": &in.InterfaceReserved, "sign_installed": &in.SignInstalled} {
		b := f.Get(name) != ""
		*dst = &b
	}
	return in, nil
}

func formChecks(f url.Values) map[string]bool {
	out := map[string]bool{}
	for _, c := range cameraChecks {
		out[c] = f.Get(c) != ""
	}
	return out
}

func (u *UI) cameraNewForm(w http.ResponseWriter, r *http.Request) error {
	f := url.Values{"status": {registry.StatusPlanned}, "investment": {registry.InvestmentGovernment}}
	d, err := u.cameraFormData(r, false, f, map[string]bool{"interface_reserved": true})
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "camera_form", "camform.new_title", d)
	return nil
}

// cameraCreate registers a camera as POST /api/v1/cameras does.
func (u *UI) cameraCreate(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	in, err := cameraInput(r.PostForm, false, usr.Role == auth.RoleAdmin)
	var c *registry.Camera
	if err == nil {
		c, err = u.reg.CreateCamera(r.Context(), access.WriteScope(usr), in)
	}
	if err != nil {
		return u.cameraFormRefused(w, r, false, "", err)
	}
	http.Redirect(w, r, "/cameras/"+c.ID+"?done=created", http.StatusSeeOther)
	return nil
}

// cameraFormRefused draws the form again, as filled in, under the refusal.
func (u *UI) cameraFormRefused(w http.ResponseWriter, r *http.Request, edit bool, id string, err error) error {
	m := u.messages(r)
	var bn *badNumber
	status, msg := http.StatusBadRequest, ""
	if errors.As(err, &bn) {
		msg = m.T("camform.bad_number", m.T("camform.field_"+bn.field))
	} else {
		var page error
		if status, msg, page = formRefusal(m, err); page != nil {
			return page
		}
	}
	d, derr := u.cameraFormData(r, edit, r.PostForm, formChecks(r.PostForm))
	if derr != nil {
		return derr
	}
	d.Error, d.ID = msg, id
	if edit {
		if c, err := u.reg.Camera(r.Context(), access.WriteScope(userOf(r)), id); err == nil {
			d.Name, d.SourceHint = c.Name, c.Public().SourceURL
		}
	}
	title := "camform.new_title"
	if edit {
		title = "camform.edit_title"
	}
	u.render(w, r, status, "camera_form", title, d)
	return nil
}

// managedCamera is the camera of the path as the user may change it: outside the write scope
// it is not found.
func (u *UI) managedCamera(r *http.Request) (*registry.Camera, error) {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return nil, errNotFound
	}
	c, err := u.reg.Camera(r.Context(), access.WriteScope(userOf(r)), id)
	if err != nil {
		if _, _, page := formRefusal(u.messages(r), err); page != nil {
			return nil, page
		}
		return nil, err
	}
	return c, nil
}

func (u *UI) cameraEditForm(w http.ResponseWriter, r *http.Request) error {
	c, err := u.managedCamera(r)
	if err != nil {
		return err
	}
	if c.Status == registry.StatusDecommissioned {
		return &errPage{http.StatusConflict, "camform.decommissioned"}
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	f := url.Values{"name": {c.Name}, "investment": {c.Investment}, "lat": {num(c.Lat)}, "lon": {num(c.Lon)},
		"address": {c.Address}, "place_category": {c.PlaceCategory}, "bearing": {num(c.Bearing)}, "fov_angle": {num(c.FOVAngle)},
		"range_m": {num(c.RangeM)}, "retention_days": {strconv.Itoa(c.RetentionDays)},
		"maintenance_interval_days": {strconv.Itoa(c.MaintenanceIntervalDays)}, "status": {c.Status}, "gb_device_id": {c.GBDeviceID}}
	d, err := u.cameraFormData(r, true, f, map[string]bool{"networked": c.Networked, "interface_reserved": c.InterfaceReserved, "sign_installed": c.SignInstalled})
	if err != nil {
		return err
	}
	d.ID, d.Name, d.SourceHint = c.ID, c.Name, c.Public().SourceURL
	u.render(w, r, http.StatusOK, "camera_form", "camform.edit_title", d)
	return nil
}

// cameraEdit changes a camera as PATCH /api/v1/cameras/{id} does.
func (u *UI) cameraEdit(w http.ResponseWriter, r *http.Request) error {
	c, err := u.managedCamera(r)
	if err != nil {
		return err
	}
	in, err := cameraInput(r.PostForm, true, false)
	if err == nil {
		_, err = u.reg.UpdateCamera(r.Context(), access.WriteScope(userOf(r)), c.ID, in)
	}
	if err != nil {
		return u.cameraFormRefused(w, r, true, c.ID, err)
	}
	http.Redirect(w, r, "/cameras/"+c.ID+"?done=updated", http.StatusSeeOther)
	return nil
}

type decommissionData struct {
	ID, Name, Organisation, Error string
}

// cameraDecommissionConfirm is the confirmation step: what decommissioning does, and a box to tick.
func (u *UI) cameraDecommissionConfirm(w http.ResponseWriter, r *http.Request) error {
	return u.renderDecommission(w, r, http.StatusOK, "")
}

func (u *UI) renderDecommission(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	c, err := u.managedCamera(r)
	if err != nil {
		return err
	}
	if c.Status == registry.StatusDecommissioned {
		return &errPage{http.StatusConflict, "camform.decommissioned"}
	}
	u.render(w, r, status, "camera_decommission", "camform.decommission_title",
		decommissionData{ID: c.ID, Name: c.Name, Organisation: u.orgName(r.Context(), c.OrganisationID), Error: msg})
	return nil
}

// cameraDecommission retires the camera as DELETE /api/v1/cameras/{id} does, once confirmed.
func (u *UI) cameraDecommission(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return u.renderDecommission(w, r, http.StatusBadRequest, u.messages(r).T("camform.confirm_required"))
	}
	c, err := u.managedCamera(r)
	if err != nil {
		return err
	}
	if _, err := u.reg.DecommissionCamera(r.Context(), access.WriteScope(userOf(r)), c.ID); err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error { return u.renderDecommission(w, r, status, msg) })
	}
	http.Redirect(w, r, "/cameras/"+c.ID+"?done=decommissioned", http.StatusSeeOther)
	return nil
}

type importRow struct {
	Row                         int
	Column, Code, Label, Detail string
}

type importData struct {
	Columns   []string
	Error     string      // a refusal that is not about rows (the file missing, too large)
	Rows      []importRow // the all-or-none report: every problem found, nothing imported
	Truncated bool
	Imported  []option // the cameras registered, when the file was taken
}

// importColumnNames are the columns the import page lists (registry's importColumns).
var importColumnNames = []string{"name", "organisation_id", "investment", "lat", "lon", "address", "place_category", "bearing",
	"fov_angle", "range_m", "source_url", "networked", "interface_reserved", "sign_installed", "sign_checked_at", "retention_days",
	"maintenance_interval_days", "last_maintenance_at", "status", "legal_basis_id", "legal_basis_document_ref", "gb_device_id"}

func (u *UI) cameraImportForm(w http.ResponseWriter, r *http.Request) error {
	u.render(w, r, http.StatusOK, "camera_import", "camimport.title", importData{Columns: importColumnNames})
	return nil
}

// cameraImport takes a CSV file as POST /api/v1/cameras/import does: every row or none.
func (u *UI) cameraImport(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	d := importData{Columns: importColumnNames}
	f, _, err := r.FormFile("file")
	if err != nil {
		d.Error = m.T("camimport.no_file")
		u.render(w, r, http.StatusBadRequest, "camera_import", "camimport.title", d)
		return nil
	}
	defer f.Close()
	cams, err := u.reg.ImportCSV(r.Context(), access.WriteScope(userOf(r)), f, nil)
	var ie *registry.ImportError
	switch {
	case errors.As(err, &ie):
		for _, re := range ie.Rows {
			d.Rows = append(d.Rows, importRow{Row: re.Row, Column: re.Column, Code: re.Code, Label: importCodeLabel(m, re.Code), Detail: re.Message})
		}
		d.Truncated = ie.Truncated
		u.render(w, r, http.StatusUnprocessableEntity, "camera_import", "camimport.title", d)
		return nil
	case err != nil:
		return showRefusal(m, err, func(status int, msg string) error {
			d.Error = msg
			u.render(w, r, status, "camera_import", "camimport.title", d)
			return nil
		})
	}
	for _, c := range cams {
		d.Imported = append(d.Imported, option{Value: c.ID, Label: c.Name})
	}
	u.render(w, r, http.StatusCreated, "camera_import", "camimport.title", d)
	return nil
}

// importCodeLabel words a row's problem in the reader's language: the pack's decision codes
// as the findings name them, the file's own problems as the import page does.
func importCodeLabel(m Messages, code string) string {
	if s := m.Label("camimport.code", code); s != code {
		return s
	}
	return m.Label("code", code)
}

type bulkResult struct {
	ID, Name string
	OK       bool
	Message  string
}

type bulkData struct {
	Action  string // its words
	Results []bulkResult
	Done    int
}

var bulkActions = []string{"networked", "maintenance", "group"}

// cameraBulk applies one action to each selected camera, one service call per camera, so each
// is validated, decided by the pack and traced as the single change would be; the page reports
// what happened to each.
func (u *UI) cameraBulk(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	usr := userOf(r)
	ctx := r.Context()
	action := r.PostFormValue("action")
	ids := r.PostForm["camera_id"]
	switch {
	case !slices.Contains(bulkActions, action):
		return &errPage{http.StatusBadRequest, "bulk.bad_action"}
	case len(ids) == 0:
		return &errPage{http.StatusBadRequest, "bulk.none_selected"}
	case len(ids) > maxBulk:
		return &errPage{http.StatusBadRequest, "bulk.too_many"}
	case action == "group" && u.sharing == nil:
		return &errPage{http.StatusBadRequest, "bulk.bad_action"}
	}
	scope := access.WriteScope(usr)
	groupID := r.PostFormValue("group_id")
	detail := strings.TrimSpace(r.PostFormValue("detail"))
	d := bulkData{Action: m.T("bulk.action_" + action)}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		res := bulkResult{ID: id, Name: id}
		c, err := u.reg.Camera(ctx, scope, id)
		if err == nil {
			res.Name = c.Name
			switch action {
			case "networked":
				if c.Networked {
					res.OK, res.Message = true, m.T("bulk.already_networked")
					break
				}
				yes := true
				if _, err = u.reg.UpdateCamera(ctx, scope, id, &registry.CameraInput{Networked: &yes}); err == nil {
					res.OK, res.Message = true, m.T("bulk.networked_done")
				}
			case "maintenance":
				var o *registry.WorkOrder
				if o, err = u.reg.OpenWorkOrder(ctx, scope, usr, id, detail); err == nil {
					res.OK, res.Message = true, m.T("bulk.maintenance_done", o.ID)
				}
			case "group":
				var added bool
				if added, err = u.sharing.AddToGroup(ctx, usr, groupID, id); err == nil {
					res.OK, res.Message = true, m.T("bulk.group_done")
					if !added {
						res.Message = m.T("bulk.group_already")
					}
				}
			}
		}
		if errors.Is(err, fault.ErrNotFound) {
			// Another organisation's camera looks absent, but asking for it is a denied access.
			u.deny(ctx, r, "bulk "+action+": no such camera in the caller's scope: "+id)
		}
		if err != nil {
			res.Message, err = u.bulkRefusal(m, err)
			if err != nil {
				return err // the trail down, say: the rest is not tried untraced
			}
		}
		if res.OK {
			d.Done++
		}
		d.Results = append(d.Results, res)
	}
	u.render(w, r, http.StatusOK, "camera_bulk", "bulk.title", d)
	return nil
}

// bulkRefusal words one camera's refusal; what no form can explain is returned.
func (u *UI) bulkRefusal(m Messages, err error) (string, error) {
	if errors.Is(err, sharing.ErrGroupInUse) {
		return m.T("groups.in_use"), nil
	}
	_, msg, page := formRefusal(m, err)
	switch {
	case page == errNotFound:
		return m.T("bulk.not_found"), nil
	case page != nil:
		return "", page
	}
	return msg, nil
}

// treeNode is one branch of the device tree: a name, how many cameras are under it, and either
// branches or cameras.
type treeNode struct {
	Name     string
	Count    int
	Children []*treeNode
	Cameras  []cameraRow
}

type treeData struct {
	By    string // "organisation" or "category"
	Roots []*treeNode
	Total int
}

// cameraTree is the device tree: the cameras the user sees, by organisation then place category,
// or by place category (under its kind) then organisation; place categories by their names.
func (u *UI) cameraTree(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "organisation"
	}
	if by != "organisation" && by != "category" {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	cams, err := u.reg.Cameras(ctx, access.ScopeOf(usr), registry.CameraFilter{})
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	orgName := map[string]string{}
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	var rows []cameraRow
	var all []*registry.Camera
	for _, c := range cams {
		hs := u.health.Of(c)
		rows = append(rows, cameraRow{ID: c.ID, Name: c.Name, Organisation: orgName[c.OrganisationID], Category: u.categoryName(c.PlaceCategory, m),
			Status: m.Label("status", c.Status), StatusKey: c.Status, Health: string(hs.State), HealthLabel: healthLabel(m, hs)})
		all = append(all, c)
	}
	shared, err := u.sharedRows(r, m, registry.CameraFilter{}, orgs)
	if err != nil {
		return err
	}
	for _, sc := range shared {
		hs := u.health.Of(sc.cam)
		sc.row.Health, sc.row.HealthLabel = string(hs.State), healthLabel(m, hs)
		rows, all = append(rows, sc.row), append(all, sc.cam)
	}
	pack := u.reg.Pack()
	kindOf := func(cat string) string {
		if c, ok := pack.Category(cat); ok {
			return string(c.Kind)
		}
		return "other"
	}
	// Branches keep the order they are first met in, after sorting the cameras by the keys.
	type keyed struct {
		k1, k2 string
		row    cameraRow
	}
	var ks []keyed
	for i, c := range all {
		k := keyed{row: rows[i]}
		if by == "organisation" {
			k.k1, k.k2 = rows[i].Organisation, rows[i].Category
		} else {
			k.k1, k.k2 = m.Label("place_kind", kindOf(c.PlaceCategory)), rows[i].Category+"\x00"+rows[i].Organisation
		}
		ks = append(ks, k)
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return strings.Compare(a.k1+"\x01"+a.k2+"\x01"+a.row.Name, b.k1+"\x01"+b.k2+"\x01"+b.row.Name)
	})
	d := treeData{By: by, Total: len(ks)}
	var root, mid *treeNode
	for _, k := range ks {
		if root == nil || root.Name != k.k1 {
			root, mid = &treeNode{Name: k.k1}, nil
			d.Roots = append(d.Roots, root)
		}
		if by == "organisation" {
			if mid == nil || mid.Name != k.k2 {
				mid = &treeNode{Name: k.k2}
				root.Children = append(root.Children, mid)
			}
		} else {
			cat, org, _ := strings.Cut(k.k2, "\x00")
			if mid == nil || mid.Name != cat {
				mid = &treeNode{Name: cat}
				root.Children = append(root.Children, mid)
			}
			if n := len(mid.Children); n == 0 || mid.Children[n-1].Name != org {
				mid.Children = append(mid.Children, &treeNode{Name: org})
			}
			leaf := mid.Children[len(mid.Children)-1]
			leaf.Cameras, leaf.Count = append(leaf.Cameras, k.row), leaf.Count+1
			root.Count, mid.Count = root.Count+1, mid.Count+1
			continue
		}
		mid.Cameras, mid.Count, root.Count = append(mid.Cameras, k.row), mid.Count+1, root.Count+1
	}
	u.render(w, r, http.StatusOK, "camera_tree", "tree.title", d)
	return nil
}

type groupEditData struct {
	ID, Name, Kind, KindLabel, Criterion string
	Error                                string
	Places                               []option
	Cameras                              []checkOption
}

func (u *UI) groupEditForm(w http.ResponseWriter, r *http.Request) error {
	return u.renderGroupEdit(w, r, http.StatusOK, "", nil)
}

// renderGroupEdit draws a group's edit form; form, when not nil, is what was sent.
func (u *UI) renderGroupEdit(w http.ResponseWriter, r *http.Request, status int, msg string, form url.Values) error {
	m := u.messages(r)
	usr := userOf(r)
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	g, err := u.sharing.Group(r.Context(), usr, id)
	if err != nil {
		if _, _, page := formRefusal(m, err); page != nil {
			return page
		}
		return err
	}
	d := groupEditData{ID: g.ID, Name: g.Name, Kind: g.Kind, KindLabel: m.Label("group_kind", g.Kind), Criterion: g.Criterion, Error: msg}
	picked := g.CameraIDs
	if form != nil {
		d.Name, d.Criterion, picked = form.Get("name"), form.Get("criterion"), form["camera_id"]
	}
	if g.Kind == sharing.GroupPlace {
		for _, c := range u.reg.Pack().Categories() {
			d.Places = append(d.Places, option{Value: c.ID, Label: categoryLabel(c, m), Selected: c.ID == d.Criterion})
		}
	}
	if g.Kind == sharing.GroupPicked {
		cams, err := u.reg.Cameras(r.Context(), registry.Scope{OrganisationID: g.OrganisationID}, registry.CameraFilter{})
		if err != nil {
			return err
		}
		for _, c := range cams {
			d.Cameras = append(d.Cameras, checkOption{Value: c.ID, Label: c.Name, Checked: slices.Contains(picked, c.ID)})
		}
	}
	u.render(w, r, status, "group_edit", "groups.edit_title", d)
	return nil
}

// groupUpdate changes a group as PATCH /api/v1/groups/{id} does.
func (u *UI) groupUpdate(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	g, err := u.sharing.Group(r.Context(), usr, id)
	if err == nil {
		name := r.PostFormValue("name")
		ch := sharing.GroupChange{Name: &name}
		switch g.Kind {
		case sharing.GroupPlace:
			crit := r.PostFormValue("criterion")
			ch.Criterion = &crit
		case sharing.GroupPicked:
			ids := r.PostForm["camera_id"]
			ch.CameraIDs = &ids
		}
		_, err = u.sharing.UpdateGroup(r.Context(), usr, id, ch)
	}
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderGroupEdit(w, r, status, msg, r.PostForm)
		})
	}
	http.Redirect(w, r, "/sharing/groups?done=updated", http.StatusSeeOther)
	return nil
}

// groupDelete deletes a group as DELETE /api/v1/groups/{id} does, once confirmed.
func (u *UI) groupDelete(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	if r.PostFormValue("confirm") != "yes" {
		return u.renderGroupEdit(w, r, http.StatusBadRequest, m.T("groups.confirm_required"), nil)
	}
	err := u.sharing.DeleteGroup(r.Context(), userOf(r), r.PathValue("id"))
	if errors.Is(err, sharing.ErrGroupInUse) {
		return u.renderGroupEdit(w, r, http.StatusConflict, m.T("groups.in_use"), nil)
	}
	if err != nil {
		return showRefusal(m, err, func(status int, msg string) error { return u.renderGroupEdit(w, r, status, msg, nil) })
	}
	http.Redirect(w, r, "/sharing/groups?done=deleted", http.StatusSeeOther)
	return nil
}
