package webui

import (
	"net/http"

	"civicam/internal/httpapi"
	"civicam/internal/registry"
)

// maxFindingRows bounds the findings table; the CSV has them all.
const maxFindingRows = 500

type complianceData struct {
	Organisations []option
	Total         int
	Cameras       int
	ByCode        chart
	ByOrg         chart
	Rows          []complianceRow
	Truncated     bool
	CSV           string
	PolicyVersion string
}

type complianceRow struct {
	CameraID, CameraName, Organisation, Code, Label, Rule, Message string
}

// complianceDashboard charts the findings in the user's scope (the API's compliance rules) by
// kind and by organisation, and links the API's CSV, which the session cookie opens.
func (u *UI) complianceDashboard(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	scope := httpapi.ScopeOf(userOf(r))
	org := r.URL.Query().Get("organisation_id")
	if org != "" && !registry.ValidID(org) {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	findings, err := u.reg.Compliance(ctx, scope, org, "")
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	d := complianceData{Total: len(findings), PolicyVersion: u.reg.Pack().Version(),
		CSV: query("/api/v1/compliance", "format", "csv", "organisation_id", org)}
	d.Organisations = []option{{Value: "", Label: m.T("filter.all")}}
	for _, o := range orgs {
		if scope.Allows(o.ID) {
			names[o.ID] = o.Name
			d.Organisations = append(d.Organisations, option{Value: o.ID, Label: o.Name, Selected: o.ID == org})
		}
	}
	byCode, byOrg, cams := map[string]int{}, map[string]int{}, map[string]bool{}
	for _, f := range findings {
		byCode[f.Code]++
		byOrg[f.OrganisationID]++
		cams[f.CameraID] = true
		if len(d.Rows) < maxFindingRows {
			d.Rows = append(d.Rows, complianceRow{CameraID: f.CameraID, CameraName: f.CameraName, Organisation: names[f.OrganisationID],
				Code: f.Code, Label: m.Label("code", f.Code), Rule: f.Rule, Message: f.Message})
		}
	}
	d.Truncated = len(findings) > len(d.Rows)
	d.Cameras = len(cams)
	d.ByCode = barChart(labelled(byCount(byCode), m, "code"))
	orgCounts := byCount(byOrg)
	for i := range orgCounts {
		orgCounts[i].Label = names[orgCounts[i].Key]
		if orgCounts[i].Label == "" {
			orgCounts[i].Label = orgCounts[i].Key
		}
	}
	d.ByOrg = barChart(orgCounts)
	u.render(w, r, http.StatusOK, "compliance", "compliance.title", d)
	return nil
}
