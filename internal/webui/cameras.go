package webui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/footage"
	"civicam/internal/health"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

type option struct {
	Value, Label string
	Selected     bool
}

type cameraRow struct {
	ID, Name, Organisation, Category, Investment, Status, StatusKey string
	Findings                                                        int
	// Shared marks another organisation's camera shared with the user's: what the grants let
	// it do (SharedScopes) and until when (SharedUntil). Its findings are its owner's business.
	Shared                    bool
	SharedScopes, SharedUntil string
	// Health is the connection's state now (health.State), HealthLabel its words with since when.
	Health, HealthLabel string
}

type cameraListData struct {
	Organisations []option
	Statuses      []option
	Categories    []option
	Cameras       []cameraRow
	Map           mapView
	Next          string
	Filter        registry.CameraFilter
	// Down is the offline-cameras view: only cameras that should record and do not.
	Down bool
	// Manage is which management controls the user gets (cameramgmt.go).
	Manage manageControls
}

// cameraList lists the cameras in the user's scope (the API's GET /api/v1/cameras rules), with
// filters and a map of positions and fields of view.
func (u *UI) cameraList(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	scope := access.ScopeOf(usr)
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
	down := q.Get("health") == "down"
	if h := q.Get("health"); h != "" && !down {
		return &errPage{http.StatusBadRequest, "error.bad_filter"}
	}
	cams, err := u.reg.Cameras(ctx, scope, f)
	if err != nil {
		return err
	}
	d := cameraListData{Filter: f, Down: down, Manage: u.manageControlsFor(r)}
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
	var mapped []*registry.Camera
	for _, c := range cams {
		d.Cameras = append(d.Cameras, cameraRow{ID: c.ID, Name: c.Name, Organisation: orgNames[c.OrganisationID],
			Category: u.categoryName(c.PlaceCategory, m), Investment: m.Label("investment", c.Investment),
			Status: m.Label("status", c.Status), StatusKey: c.Status,
			Findings: len(pack.Findings(registry.Facts(c), now))})
		mapped = append(mapped, c)
	}
	if f.After == "" {
		// Cameras shared with the user's organisation follow its own, on the first page.
		shared, err := u.sharedRows(r, m, f, orgs)
		if err != nil {
			return err
		}
		for _, sc := range shared {
			d.Cameras = append(d.Cameras, sc.row)
			mapped = append(mapped, sc.cam)
		}
	}
	healths := make([]health.Status, len(mapped))
	for i, c := range mapped {
		healths[i] = u.health.Of(c)
		d.Cameras[i].Health, d.Cameras[i].HealthLabel = string(healths[i].State), healthLabel(m, healths[i])
	}
	if down {
		var rows []cameraRow
		var cs []*registry.Camera
		for i, c := range mapped {
			if healths[i].Down() {
				rows, cs = append(rows, d.Cameras[i]), append(cs, c)
			}
		}
		d.Cameras, mapped = rows, cs
	}
	d.Map = buildMap(mapped, u.cfg.TileURL)
	for i, c := range mapped {
		d.Map.Cameras[i].Health = d.Cameras[i].Health
		d.Map.Cameras[i].Shared = d.Cameras[i].Shared
		d.Map.Cameras[i].Name = c.Name + " · " + d.Cameras[i].HealthLabel
	}
	u.render(w, r, http.StatusOK, "cameras", "cameras.title", d)
	return nil
}

type sharedRow struct {
	row cameraRow
	cam *registry.Camera
}

// sharedRows are the cameras of other organisations shared with the user's now that pass the
// list's filters, as the camera list shows them.
func (u *UI) sharedRows(r *http.Request, m Messages, f registry.CameraFilter, orgs []*registry.Organisation) ([]sharedRow, error) {
	usr := userOf(r)
	if u.sharing == nil || usr.OrganisationID == "" {
		return nil, nil
	}
	shared, err := u.sharing.SharedCameras(r.Context(), usr)
	if err != nil {
		return nil, err
	}
	orgName := map[string]string{}
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	var out []sharedRow
	for _, sc := range shared {
		c := sc.Camera
		if (f.OrganisationID != "" && c.OrganisationID != f.OrganisationID) || (f.Status != "" && c.Status != f.Status) ||
			(f.PlaceCategory != "" && c.PlaceCategory != f.PlaceCategory) {
			continue
		}
		var scopes []string
		for _, x := range sc.Scopes {
			scopes = append(scopes, m.Label("scope", x))
		}
		until := m.T("sharing.open_ended")
		if !sc.Until.IsZero() {
			until = m.Time(sc.Until)
		}
		out = append(out, sharedRow{cam: &c, row: cameraRow{ID: c.ID, Name: c.Name, Organisation: orgName[c.OrganisationID],
			Category: u.categoryName(c.PlaceCategory, m), Investment: m.Label("investment", c.Investment),
			Status: m.Label("status", c.Status), StatusKey: c.Status,
			Shared: true, SharedScopes: strings.Join(scopes, ", "), SharedUntil: until}})
	}
	return out, nil
}

// sharedScope reports whether the grants in force share camera id with the user's organisation
// for use scope (live, playback, export).
func (u *UI) sharedScope(r *http.Request, id, scope string) bool {
	if u.sharing == nil {
		return false
	}
	shared, err := u.sharing.SharedCameras(r.Context(), userOf(r))
	if err != nil {
		u.log.Error("shared cameras", "err", err)
		return false
	}
	for _, sc := range shared {
		if sc.Camera.ID == id {
			return slices.Contains(sc.Scopes, scope)
		}
	}
	return false
}

// audioLabel words the audio the recorder keeps of a camera: its codec, none, or not known
// while nothing is recorded.
func audioLabel(m Messages, st health.Status) string {
	switch {
	case st.AudioCodec != "":
		return m.T("camera.audio_kept", st.AudioCodec)
	case st.State == health.Recording:
		return m.T("camera.audio_none")
	}
	return ""
}

// healthLabel words a camera's health for a page: its state, since when, and why.
func healthLabel(m Messages, st health.Status) string {
	label := m.Label("health", string(st.State))
	switch {
	case st.State == health.NotRecorded:
		label += " (" + m.Label("health_why", st.Why) + ")"
	case !st.Since.IsZero():
		label += " · " + m.T("health.since", m.Time(st.Since))
	}
	if st.Down() && st.Reason != "" {
		label += ": " + st.Reason
	}
	return label
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
	Footage      bool // the role may, in principle, see footage
	// Live offers the live view: a role and, for a shared camera, a grant that allow it, on a
	// camera the platform pulls. NotPlaying says why nothing can play (the camera not recorded).
	Live       bool
	NotPlaying string
	// LiveAudio says what live view does with the camera's audio: plays it (Opus, G.711), or
	// not, as AAC cannot go live without transcoding; empty while the recorder knows none.
	LiveAudio   string
	Health      string // health.State
	Video       *footageView
	Basis       basisView
	Sign        *signView        // nil for a camera shared from another organisation
	Maintenance *maintenanceView // likewise
	SignError   string           // a refused sign or maintenance form
	// DeviceRecords is what a GB/T 28181 channel keeps on its device (nil for other cameras).
	DeviceRecords *deviceRecordsView
	// Manage offers the edit and decommission controls; Done says what the last change did.
	Manage bool
	Done   string
}

// basisView is the camera's legal basis and the forms that propose and decide it.
type basisView struct {
	Fields     []field
	Pending    bool
	Options    []option // the pack's legal bases
	MayPropose bool
	MayDecide  bool
	Error      string
}

type findingRow struct {
	Code, Label, Rule, Message string
}

// footageRoles may be shown the footage controls; an auditor never sees footage, and an
// applicant never sees the registry at all.
var footageRoles = []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleOwner, auth.RoleReviewer}

// cameraPage shows one camera in the user's scope: another organisation's camera is not found.
func (u *UI) cameraPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderCamera(w, r, http.StatusOK, "")
}

// renderCamera draws the camera page with status, and basisErr on the legal-basis forms.
func (u *UI) renderCamera(w http.ResponseWriter, r *http.Request, status int, basisErr string) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	scope := access.ScopeOf(usr)
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	c, err := u.reg.Camera(ctx, scope, id)
	shared := false
	if errors.Is(err, fault.ErrNotFound) {
		// Another organisation's camera shared with the user's: its video, not its compliance.
		c, err = u.footage.SharedCamera(ctx, usr, id)
		shared = err == nil
	}
	if errors.Is(err, fault.ErrNotFound) {
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
	d.Manage = !shared && c.Status != registry.StatusDecommissioned && u.mayManageCamera(usr, c)
	if done := r.URL.Query().Get("done"); slices.Contains([]string{"created", "updated", "decommissioned"}, done) {
		d.Done = m.T("camform.done_" + done)
	}
	yes := func(b bool) string {
		if b {
			return m.T("yes")
		}
		return m.T("no")
	}
	hs := u.health.Of(c)
	d.Health = string(hs.State)
	// A camera not yet given to a recorder may be within the next assignment; the others
	// cannot play live until their record changes.
	if hs.State == health.NotRecorded && hs.Why != health.WhyNotAssigned {
		d.NotPlaying = m.T("camera.not_playing", m.Label("health_why", hs.Why))
	}
	switch {
	case hs.AudioCodec != "" && !footage.AudioLive(hs.AudioCodec): // AAC
		d.LiveAudio = m.T("live.audio_aac")
	case hs.AudioCodec != "":
		d.LiveAudio = m.T("live.audio_on", hs.AudioCodec)
	}
	// The live form stays on a camera that cannot play, disabled, under the reason.
	d.Live = d.Footage && usr.Role != auth.RoleReviewer
	if d.Live && shared {
		d.Live = u.sharedScope(r, c.ID, string(access.Live))
	}
	d.Fields = []field{
		{m.T("camera.organisation"), d.Organisation},
		{m.T("camera.status"), m.Label("status", pub.Status)},
		{m.T("camera.health"), healthLabel(m, hs)},
		{m.T("camera.audio"), audioLabel(m, hs)},
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
	var findings []registry.Finding
	if !shared {
		if findings, err = u.reg.Compliance(ctx, scope, "", id); err != nil {
			return err
		}
	}
	for _, f := range findings {
		d.Findings = append(d.Findings, findingRow{Code: f.Code, Label: m.Label("code", f.Code), Rule: f.Rule, Message: f.Message})
	}
	if d.Footage && basisErr == "" {
		// A refused legal-basis form shows the page again: not a look at the footage.
		d.Video = u.footagePanel(r, m, usr, c)
	}
	if !shared {
		d.Basis = u.basisPanel(ctx, m, usr, c)
		d.Basis.Error = basisErr
		if d.Sign, d.Maintenance, err = u.signAndMaintenance(ctx, m, usr, c); err != nil {
			return err
		}
		if basisErr == "" {
			d.DeviceRecords = u.deviceRecordsPanel(r, m, usr, c)
		}
	}
	u.render(w, r, status, "camera", "camera.title", d)
	return nil
}

// basisPanel describes the camera's legal basis: which of the pack's, the document, who
// proposed and who decided; with the forms the user may use.
func (u *UI) basisPanel(ctx context.Context, m Messages, usr *auth.User, c *registry.Camera) basisView {
	b := c.Basis
	v := basisView{Pending: b.Status == registry.BasisPending}
	pack := u.reg.Pack()
	if b.Status != "" {
		name := b.ID
		if lb, ok := pack.LegalBasis(b.ID); ok {
			name = lb.ID + ": " + lb.Law + ", " + lb.Article
			if m.Lang == "zh" && lb.LawZH != "" {
				name = lb.ID + ": " + lb.LawZH + ", " + lb.Article
			}
		}
		v.Fields = []field{
			{m.T("basis.basis"), name},
			{m.T("basis.document"), b.DocumentRef},
			{m.T("basis.status"), m.T("basis.status_" + b.Status)},
			{m.T("basis.proposed"), u.orgName(ctx, b.ProposedOrganisationID) + " · " + m.Time(b.ProposedAt)},
		}
		if !b.DecidedAt.IsZero() {
			v.Fields = append(v.Fields, field{m.T("basis.decided"), u.orgName(ctx, b.DecidedOrganisationID) + " · " + m.Time(b.DecidedAt) + " " + b.Note})
		}
	}
	for _, lb := range pack.LegalBases() {
		v.Options = append(v.Options, option{Value: lb.ID, Label: lb.ID + ": " + lb.Law + ", " + lb.Article, Selected: lb.ID == b.ID})
	}
	v.MayPropose = u.allowed(usr, "POST /api/v1/cameras/{id}/legal-basis") && access.WriteScope(usr).Allows(c.OrganisationID)
	v.MayDecide = v.Pending && u.allowed(usr, "POST /api/v1/cameras/{id}/legal-basis/approve")
	return v
}

// orgName is an organisation's name for the page, its id when it cannot be read.
func (u *UI) orgName(ctx context.Context, id string) string {
	if id == "" {
		return "—"
	}
	if o, err := u.reg.Organisation(ctx, id); err == nil {
		return o.Name
	}
	return id
}

// proposeBasis records one of the pack's legal bases for the camera, pending approval.
func (u *UI) proposeBasis(w http.ResponseWriter, r *http.Request) error {
	usr := userOf(r)
	p := registry.LegalBasisProposal{BasisID: r.PostFormValue("basis_id"), DocumentRef: r.PostFormValue("document_ref")}
	_, err := u.reg.ProposeLegalBasis(r.Context(), access.WriteScope(usr), usr, r.PathValue("id"), p)
	return u.basisDone(w, r, err)
}

// approveBasis puts the camera's pending legal basis in force.
func (u *UI) approveBasis(w http.ResponseWriter, r *http.Request) error {
	_, err := u.reg.ApproveLegalBasis(r.Context(), userOf(r), r.PathValue("id"))
	return u.basisDone(w, r, err)
}

// declineBasis refuses the camera's pending legal basis with a note.
func (u *UI) declineBasis(w http.ResponseWriter, r *http.Request) error {
	_, err := u.reg.DeclineLegalBasis(r.Context(), userOf(r), r.PathValue("id"), r.PostFormValue("note"))
	return u.basisDone(w, r, err)
}

func (u *UI) basisDone(w http.ResponseWriter, r *http.Request, err error) error {
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderCamera(w, r, status, msg)
		})
	}
	http.Redirect(w, r, "/cameras/"+r.PathValue("id")+"#legal-basis", http.StatusSeeOther)
	return nil
}

func num6(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// footageView is the camera page's timeline, playback and export, for a role that may see
// footage. The page itself shows no video bytes: the <video> element asks the API's playback
// route, which checks access and traces the look before it serves anything.
type footageView struct {
	CameraID string
	Denied   string // why the access check refuses this user (the rest is then hidden)
	Windows  []windowLink
	Window   string
	Timeline timeline
	Ranges   []rangeRow
	Form     playForm
	FormErr  string
	Video    string   // the playback URL, once the form is filled in
	PlayGaps []string // what the played range lacks
	Reviewer bool
	// ReviewerOnly: the reviewer sees no timeline outside an application's window, so none is
	// drawn (an empty one would read "no recordings").
	ReviewerOnly bool
	// Review is what review.js works from (JSON): the cameras, the window, what was recorded,
	// the open viewing, the zone and the words.
	Review string
}

type windowLink struct {
	Label, Href string
	Current     bool
}

type rangeRow struct {
	Label, Href string
}

type playForm struct {
	Start, End, Purpose, ApplicationID string
}

// timeline is a server-drawn SVG of a window: recorded ranges over a band of gaps, with ticks.
type timeline struct {
	W, H    int
	Caption string
	Bars    []timelineBar
	Ticks   []timelineTick
	Empty   bool
}

type timelineBar struct {
	X, W  float64
	Title string
	Href  string
}

type timelineTick struct {
	X     float64
	Label string
}

// timelineWindows are the windows the timeline offers; the first is the default.
var timelineWindows = []struct {
	key string
	d   time.Duration
}{{"24h", 24 * time.Hour}, {"1h", time.Hour}, {"6h", 6 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

func (u *UI) footagePanel(r *http.Request, m Messages, usr *auth.User, c *registry.Camera) *footageView {
	q := r.URL.Query()
	v := &footageView{CameraID: c.ID, Reviewer: usr.Role == auth.RoleReviewer}
	now := u.now().UTC()
	win := timelineWindows[0]
	for _, w := range timelineWindows {
		if q.Get("window") == w.key {
			win = w
		}
	}
	v.Window = win.key
	for _, w := range timelineWindows {
		v.Windows = append(v.Windows, windowLink{Label: w.key, Href: query("/cameras/"+c.ID, "window", w.key) + "#timeline", Current: w.key == win.key})
	}
	appID := strings.TrimSpace(q.Get("application_id"))
	qs, errS := m.ParseTime(q.Get("start"))
	qe, errE := m.ParseTime(q.Get("end"))
	start, end := now.Add(-win.d), now
	bounded := v.Reviewer && appID != "" && errS == nil && errE == nil && qe.After(qs)
	if bounded {
		// A reviewer's timeline is the application's window the candidate's link carries.
		start, end = qs, qe
	}
	cov, err := u.footage.CoverageUnder(r.Context(), usr, c.ID, start, end, appID)
	var denial *access.Denial
	switch {
	case errors.As(err, &denial) && v.Reviewer:
		// A reviewer's timeline is an application's window, which the candidates' links play:
		// the city's timeline being closed to it is not "no right, no recordings".
		v.Denied, v.ReviewerOnly = m.T("camera.reviewer_window"), true
	case errors.As(err, &denial):
		v.Denied = m.T("camera.footage_denied", denial.Reason)
	case err != nil:
		u.log.Error("camera timeline", "camera", c.ID, "err", err)
		v.Denied = m.T("error.internal")
	}
	v.Timeline = drawTimeline(cov, start, end, c.ID, win.key, m)
	for i := len(cov.Ranges) - 1; i >= 0 && len(v.Ranges) < 10; i-- {
		rg := cov.Ranges[i]
		v.Ranges = append(v.Ranges, rangeRow{Label: m.T("camera.timeline_caption", m.LocalTime(rg.Start), m.LocalTime(rg.End)) +
			" (" + rg.End.Sub(rg.Start).Round(time.Second).String() + ")", Href: playHref(c.ID, win.key, rg.Start, rg.End)})
	}
	review := reviewData{Cameras: []reviewCamera{{ID: c.ID, Name: c.Name}}, Start: start, End: end, Now: now,
		Coverage: [][][2]time.Time{spans(cov)}, ApplicationID: appID}
	if bounded {
		review.BoundStart, review.BoundEnd = start, end
	}

	// The form: as given, else the last half minute of the newest recording.
	f := playForm{Purpose: q.Get("purpose"), ApplicationID: appID}
	switch {
	case errS == nil && errE == nil:
		f.Start, f.End = m.InputTime(qs, true), m.InputTime(qe, false)
	case q.Get("start") != "" || q.Get("end") != "":
		f.Start, f.End = q.Get("start"), q.Get("end") // shown back as typed, with the error below
	case len(cov.Ranges) > 0:
		last := cov.Ranges[len(cov.Ranges)-1]
		from := last.Start
		if last.End.Sub(from) > 30*time.Second {
			from = last.End.Add(-30 * time.Second)
		}
		f.Start, f.End = m.InputTime(from, true), m.InputTime(last.End, false)
	}
	v.Form = f
	defer func() { v.Review = review.attr(m, u.now) }()
	if !q.Has("play") {
		return v
	}
	ps, err1 := m.ParseTime(f.Start)
	pe, err2 := m.ParseTime(f.End)
	switch {
	case err1 != nil || err2 != nil || !pe.After(ps):
		v.FormErr = m.T("camera.bad_range")
		return v
	case strings.TrimSpace(f.Purpose) == "":
		v.FormErr = m.T("camera.purpose_required")
		return v
	}
	// One viewing for the range asked: traced once here, the player's seeks inside it are not.
	vw, err := u.footage.OpenViewing(r.Context(), usr, footage.ViewingRequest{CameraIDs: []string{c.ID}, Start: ps, End: pe,
		Purpose: f.Purpose, ApplicationID: appID})
	if err != nil {
		v.FormErr = u.viewingRefusal(m, err)
		return v
	}
	review.Viewing = vw
	pq := url.Values{"viewing": {vw.ID}, "start": {ps.UTC().Format(time.RFC3339Nano)}, "end": {pe.UTC().Format(time.RFC3339Nano)}}
	v.Video = "/api/v1/cameras/" + c.ID + "/playback.mp4?" + pq.Encode()
	if pc, err := u.footage.CoverageUnder(r.Context(), usr, c.ID, ps, pe, appID); err == nil {
		for _, g := range pc.Gaps {
			v.PlayGaps = append(v.PlayGaps, m.T("camera.timeline_caption", m.LocalTime(g.Start), m.LocalTime(g.End)))
		}
	}
	return v
}

// playHref plays [start, end) exactly: a bound rounded to the second lies outside the
// recording and would be reported as a gap of its own.
func playHref(camID, window string, start, end time.Time) string {
	return query("/cameras/"+camID, "window", window, "start", start.UTC().Format(time.RFC3339Nano),
		"end", end.UTC().Format(time.RFC3339Nano)) + "#playback"
}

// drawTimeline lays out the window [start, end) on a 1000-unit-wide band.
func drawTimeline(cov timespan.Coverage, start, end time.Time, camID, window string, m Messages) timeline {
	const w, h = 1000.0, 56.0
	tl := timeline{W: int(w), H: int(h), Caption: m.T("camera.timeline_caption", m.LocalTime(start), m.LocalTime(end)), Empty: len(cov.Ranges) == 0}
	span := end.Sub(start).Seconds()
	x := func(t time.Time) float64 { return w * t.Sub(start).Seconds() / span }
	for _, rg := range cov.Ranges {
		bx, bw := x(rg.Start), x(rg.End)-x(rg.Start)
		if bw < 2 { // a short recording in a long window still shows
			bw = 2
		}
		tl.Bars = append(tl.Bars, timelineBar{X: round1(bx), W: round1(bw),
			Title: m.T("camera.timeline_recorded") + ": " + m.T("camera.timeline_caption", m.LocalTime(rg.Start), m.LocalTime(rg.End)),
			Href:  playHref(camID, window, rg.Start, rg.End)})
	}
	step := time.Hour
	switch d := end.Sub(start); {
	case d <= time.Hour:
		step = 10 * time.Minute
	case d <= 6*time.Hour:
		step = time.Hour
	case d <= 24*time.Hour:
		step = 3 * time.Hour
	default:
		step = 24 * time.Hour
	}
	layout := "15:04"
	if step >= 24*time.Hour {
		layout = "01-02"
	}
	// Ticks fall on the local clock's hours and midnights, which is where the reader looks.
	ls := start.In(m.location())
	first := time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, 0, 0, ls.Location())
	for t := first; t.Before(end); t = t.Add(step) {
		if t.After(start) {
			tl.Ticks = append(tl.Ticks, timelineTick{X: round1(x(t)), Label: t.Format(layout)})
		}
	}
	return tl
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
