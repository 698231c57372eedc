package webui

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"civicam/internal/auth"
	"civicam/internal/httpapi"
	"civicam/internal/registry"
	"civicam/internal/store"
)

type option struct {
	Value, Label string
	Selected     bool
}

type cameraRow struct {
	ID, Name, Organisation, Category, Investment, Status, StatusKey string
	Findings                                                        int
}

type cameraListData struct {
	Organisations []option
	Statuses      []option
	Categories    []option
	Cameras       []cameraRow
	Map           mapView
	Next          string
	Filter        registry.CameraFilter
}

// cameraList lists the cameras in the user's scope (the API's GET /api/v1/cameras rules), with
// filters and a map of positions and fields of view.
func (u *UI) cameraList(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	scope := httpapi.ScopeOf(usr)
	q := r.URL.Query()
	f := registry.CameraFilter{OrganisationID: q.Get("organisation_id"), Status: q.Get("status"),
		PlaceCategory: q.Get("place_category"), After: q.Get("after"), Limit: u.cfg.CameraPageSize + 1}
	if (f.OrganisationID != "" && !registry.ValidID(f.OrganisationID)) || (f.After != "" && !registry.ValidID(f.After)) {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	statuses := []string{registry.StatusPlanned, registry.StatusActive, registry.StatusDecommissioned}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	cams, err := u.reg.Cameras(ctx, scope, f)
	if err != nil {
		return err
	}
	d := cameraListData{Filter: f}
	if len(cams) > u.cfg.CameraPageSize {
		cams = cams[:u.cfg.CameraPageSize]
		d.Next = cams[len(cams)-1].ID
	}

	orgNames := map[string]string{}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	d.Organisations = []option{{Value: "", Label: m.T("filter.all")}}
	for _, o := range orgs {
		if !scope.Allows(o.ID) {
			continue // an operator's menu names no other organisation
		}
		orgNames[o.ID] = o.Name
		d.Organisations = append(d.Organisations, option{Value: o.ID, Label: o.Name, Selected: o.ID == f.OrganisationID})
	}
	d.Statuses = []option{{Value: "", Label: m.T("filter.all")}}
	for _, s := range statuses {
		d.Statuses = append(d.Statuses, option{Value: s, Label: m.Label("status", s), Selected: s == f.Status})
	}
	pack := u.reg.Pack()
	d.Categories = []option{{Value: "", Label: m.T("filter.all")}}
	for _, c := range pack.Categories() {
		d.Categories = append(d.Categories, option{Value: c.ID, Label: categoryLabel(c, m), Selected: c.ID == f.PlaceCategory})
	}
	now := u.now()
	for _, c := range cams {
		d.Cameras = append(d.Cameras, cameraRow{ID: c.ID, Name: c.Name, Organisation: orgNames[c.OrganisationID],
			Category: u.categoryName(c.PlaceCategory, m), Investment: m.Label("investment", c.Investment),
			Status: m.Label("status", c.Status), StatusKey: c.Status,
			Findings: len(pack.Findings(registry.Facts(c), now))})
	}
	d.Map = buildMap(cams, u.cfg.TileURL)
	u.render(w, r, http.StatusOK, "cameras", "cameras.title", d)
	return nil
}

func (u *UI) categoryName(id string, m Messages) string {
	if c, ok := u.reg.Pack().Category(id); ok {
		return categoryLabel(c, m)
	}
	return id
}

type field struct{ Label, Value string }

type cameraPageData struct {
	Camera       registry.Camera
	Organisation string
	Fields       []field
	Findings     []findingRow
	Map          mapView
	Footage      bool // the role may, in principle, see footage (placeholders shown)
}

type findingRow struct {
	Code, Label, Rule, Message string
}

// footageRoles may be shown the footage controls; an auditor never sees footage, and an
// applicant never sees the registry at all.
var footageRoles = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner, auth.RoleReviewer}

// cameraPage shows one camera in the user's scope: another organisation's camera is not found.
func (u *UI) cameraPage(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	scope := httpapi.ScopeOf(usr)
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	c, err := u.reg.Camera(ctx, scope, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	pub := c.Public() // the stream source without its credentials
	d := cameraPageData{Camera: pub, Footage: slices.Contains(footageRoles, usr.Role), Map: buildMap([]*registry.Camera{&pub}, u.cfg.TileURL)}
	if o, err := u.reg.Organisation(ctx, c.OrganisationID); err == nil {
		d.Organisation = o.Name
	}
	yes := func(b bool) string {
		if b {
			return m.T("yes")
		}
		return m.T("no")
	}
	d.Fields = []field{
		{m.T("camera.organisation"), d.Organisation},
		{m.T("camera.status"), m.Label("status", pub.Status)},
		{m.T("camera.investment"), m.Label("investment", pub.Investment)},
		{m.T("camera.category"), u.categoryName(pub.PlaceCategory, m)},
		{m.T("camera.position"), num6(pub.Lat) + ", " + num6(pub.Lon)},
		{m.T("camera.address"), pub.Address},
		{m.T("camera.fov"), m.T("camera.fov_value", pub.Bearing, pub.FOVAngle, pub.RangeM)},
		{m.T("camera.source"), pub.SourceURL},
		{m.T("camera.networked"), yes(pub.Networked)},
		{m.T("camera.interface_reserved"), yes(pub.InterfaceReserved)},
		{m.T("camera.sign_installed"), yes(pub.SignInstalled)},
		{m.T("camera.retention"), m.T("camera.days", pub.RetentionDays)},
		{m.T("camera.last_maintenance"), m.Time(pub.LastMaintenanceAt)},
		{m.T("camera.legal_basis"), pub.LegalBasis},
		{m.T("camera.gb_device_id"), pub.GBDeviceID},
		{m.T("camera.updated"), m.Time(pub.UpdatedAt)},
	}
	findings, err := u.reg.Compliance(ctx, scope, "", id)
	if err != nil {
		return err
	}
	for _, f := range findings {
		d.Findings = append(d.Findings, findingRow{Code: f.Code, Label: m.Label("code", f.Code), Rule: f.Rule, Message: f.Message})
	}
	u.render(w, r, http.StatusOK, "camera", "camera.title", d)
	return nil
}

func num6(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
