package webui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"civicam/internal/access"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/retention"
)

// Storage is what the dashboard asks of the storage planner.
type Storage interface {
	Current(ctx context.Context) ([]retention.Forecast, error)
	ComplianceFindings(ctx context.Context, scope registry.Scope, organisationID, cameraID string) ([]registry.Finding, error)
}

// storageRow is one storage location as the dashboard shows it.
type storageRow struct {
	Location                  string
	Free, Kept, IntakePerDay  string
	DaysForecast              string
	FloorDays                 int
	BelowFloor, BelowRetained bool
	// NoForecast: nothing recorded yet to measure an intake by, so neither the floor's being
	// held nor its being at risk can be said.
	NoForecast bool
	Error      string
}

// maxFindingRows is the findings table's page; the CSV has them all.
const maxFindingRows = 500

type complianceData struct {
	Organisations []option
	Total         int
	Cameras       int
	Down          int // active cameras offline or in error now (the health tile)
	ByCode        chart
	ByOrg         chart
	Rows          []complianceRow
	Truncated     bool
	Next, First   string // links to the next and the first page of findings
	CSV           string
	PolicyVersion string
	Storage       []storageRow
	StorageChart  chart
}

type complianceRow struct {
	CameraID, CameraName, Organisation, Code, Label, Rule, Message string
}

// complianceDashboard charts the findings in the user's scope (the API's compliance rules) by
// kind and by organisation, and links the API's CSV, which the session cookie opens.
func (u *UI) complianceDashboard(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	scope := access.ScopeOf(userOf(r))
	org := r.URL.Query().Get("organisation_id")
	if org != "" && !registry.ValidID(org) {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	// A page of findings and the counts of them all: the city's findings never pass through here.
	var after *registry.FindingKey
	if c := r.URL.Query().Get("cursor"); c != "" {
		cam, ordText, ok := strings.Cut(c, ".")
		ord, err := strconv.Atoi(ordText)
		if !ok || err != nil || !registry.ValidID(cam) {
			return &errPage{http.StatusBadRequest, "error.bad_filter"}
		}
		after = &registry.FindingKey{CameraID: cam, Ord: ord}
	}
	page, more, err := u.reg.CompliancePage(ctx, scope, org, "", after, maxFindingRows)
	if err != nil {
		return err
	}
	counts, err := u.reg.ComplianceSummary(ctx, scope, org)
	if err != nil {
		return err
	}
	findings := make([]registry.Finding, 0, len(page))
	for _, f := range page {
		findings = append(findings, f.Finding)
	}
	var forecasts []retention.Forecast
	if u.storage != nil {
		more, err := u.storage.ComplianceFindings(ctx, scope, org, "")
		if err != nil {
			return err
		}
		// Storage findings (only while a location is below its floor) are counted, and listed on
		// the first page.
		for _, f := range more {
			counts.Total++
			counts.ByCode[f.Code]++
			counts.ByOrganisation[f.OrganisationID]++
			if after == nil && len(findings) < maxFindingRows {
				findings = append(findings, f)
			}
		}
		if forecasts, err = u.storage.Current(ctx); err != nil {
			return err
		}
	}
	// The health tile: of the cameras that should record, those that do not now.
	down, err := u.downCameras(ctx, scope, org)
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	d := complianceData{Total: counts.Total, Cameras: counts.Cameras, PolicyVersion: u.reg.Pack().Version(), Down: down,
		CSV: query("/api/v1/compliance", "format", "csv", "organisation_id", org)}
	if after != nil {
		d.First = query("/compliance", "organisation_id", org)
	}
	if more && len(page) > 0 {
		k := page[len(page)-1].Key
		d.Next = query("/compliance", "organisation_id", org, "cursor", k.CameraID+"."+strconv.Itoa(k.Ord))
	}
	d.Organisations = []option{{Value: "", Label: m.T("filter.all")}}
	for _, o := range orgs {
		if scope.Allows(o.ID) {
			names[o.ID] = o.Name
			d.Organisations = append(d.Organisations, option{Value: o.ID, Label: o.Name, Selected: o.ID == org})
		}
	}
	for _, f := range findings {
		d.Rows = append(d.Rows, complianceRow{CameraID: f.CameraID, CameraName: f.CameraName, Organisation: names[f.OrganisationID],
			Code: f.Code, Label: m.Label("code", f.Code), Rule: f.Rule, Message: f.Message})
	}
	byCode, byOrg := counts.ByCode, counts.ByOrganisation
	d.ByCode = barChart(labelled(byCount(byCode), m, "code"))
	orgCounts := byCount(byOrg)
	for i := range orgCounts {
		orgCounts[i].Label = names[orgCounts[i].Key]
		if orgCounts[i].Label == "" {
			orgCounts[i].Label = orgCounts[i].Key
		}
	}
	d.ByOrg = barChart(orgCounts)
	d.Storage, d.StorageChart = storageView(forecasts, m)
	u.render(w, r, http.StatusOK, "compliance", "compliance.title", d)
	return nil
}

// storageView tabulates the forecast per location and charts, for each, the days it holds at the
// current intake beside the retention floor it must hold.
func storageView(fs []retention.Forecast, m Messages) ([]storageRow, chart) {
	var rows []storageRow
	var bars []count
	for _, f := range fs {
		r := storageRow{Location: f.Location, Free: bytesText(f.FreeBytes), Kept: bytesText(f.KeptBytes),
			IntakePerDay: bytesText(f.IntakeBytesPerDay), DaysForecast: "—", FloorDays: f.FloorDays,
			BelowFloor: f.BelowFloor, BelowRetained: f.BelowRetention, Error: f.Error}
		r.NoForecast = f.DaysForecast == nil && f.Error == ""
		if f.DaysForecast != nil {
			r.DaysForecast = fmt.Sprintf("%.0f", *f.DaysForecast)
			bars = append(bars, count{Key: f.Location + "/held", N: int(math.Min(*f.DaysForecast, 1e6)),
				Label: f.Location + ": " + m.T("storage.days_held")})
		}
		bars = append(bars, count{Key: f.Location + "/floor", N: f.FloorDays, Label: f.Location + ": " + m.T("storage.floor")})
		rows = append(rows, r)
	}
	return rows, barChart(bars)
}

// bytesText writes a byte count for people (binary units).
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// downCameras counts the cameras in scope (of org, when given) that should record and do not.
// It starts from the few the recorder finds down, never from the city's list of cameras.
func (u *UI) downCameras(ctx context.Context, scope registry.Scope, org string) (int, error) {
	var n int
	for _, id := range u.health.Down() {
		c, err := u.reg.Camera(ctx, scope, id)
		if errors.Is(err, fault.ErrNotFound) {
			continue // outside the scope, or gone since
		}
		if err != nil {
			return 0, err
		}
		if (org == "" || c.OrganisationID == org) && u.health.Of(c).Down() {
			n++
		}
	}
	return n, nil
}
