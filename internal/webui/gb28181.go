package webui

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/gb28181"
	"civicam/internal/registry"
)

// The GB/T 28181 device tree (issue 14): devices that registered with the platform, each with
// its channels, the catalog refresh and the adoption of a pending device into an organisation.
// Every read and change is the gb28181 service's, with the scopes the API's handlers give it,
// so the tree shows what GET /api/v1/gb28181/devices would and an adoption through the form is
// checked and traced as one through the API.

// gbRoutes are present when the UI is given the GB/T 28181 platform.
func (u *UI) gbRoutes() []*page {
	if u.gb == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /gb28181", APIRoute: "GET /api/v1/gb28181/devices", Handler: u.gbDevicesPage},
		{Pattern: "POST /gb28181/devices/{id}/catalog", APIRoute: "POST /api/v1/gb28181/devices/{id}/catalog", Handler: u.gbCatalog},
		{Pattern: "POST /gb28181/devices/{id}/adopt", APIRoute: "POST /api/v1/gb28181/devices/{id}/adopt", Handler: u.gbAdopt},
		{Pattern: "POST /gb28181/devices/{id}/auth", APIRoute: "PUT /api/v1/gb28181/devices/{id}/auth", Handler: u.gbAuth},
	}
}

type gbChannelRow struct {
	ID, Name, Status, StatusLabel, StatusClass string
	CameraID, Parent                           string
	Created                                    bool // its camera was made by the adoption just done
}

type gbDeviceRow struct {
	ID, Name, Status, StatusLabel, StatusClass string
	Connection                                 string // online or offline, also for a pending device
	Transport, RemoteAddr, LastSeen            string
	Organisation, Maker                        string
	Auth, AuthLabel                            string // how it authenticates (gb28181.AuthGlobal, …)
	Pending                                    bool
	Channels                                   []gbChannelRow
}

type gbCreated struct {
	CameraID, Name string
}

type gbDevicesData struct {
	Devices       []gbDeviceRow
	Orgs          []option // where the user may adopt into
	Manage        bool     // the user may refresh catalogs and adopt
	SetAuth       bool     // the user may set how a device authenticates (admins)
	Created       []gbCreated
	Error, Notice string
}

// gbStatusClass styles a device's or channel's status as the camera statuses are styled.
var gbStatusClass = map[string]string{gb28181.StatusOnline: "status-active", gb28181.StatusPending: "status-planned"}

func (u *UI) gbDevicesPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderGBDevices(w, r, http.StatusOK, "")
}

// renderGBDevices draws the tree. After an adoption (?adopted=DEVICE&camera=…) it lists the
// cameras made, named by their channels; cameras not among that device's are not shown.
func (u *UI) renderGBDevices(w http.ResponseWriter, r *http.Request, status int, errMsg string) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	ds, err := u.gb.Devices(ctx, access.ScopeOf(usr))
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	orgName := map[string]string{}
	d := gbDevicesData{Error: errMsg, Manage: u.allowed(usr, "POST /api/v1/gb28181/devices/{id}/adopt"),
		SetAuth: u.allowed(usr, "PUT /api/v1/gb28181/devices/{id}/auth")}
	for _, o := range orgs {
		orgName[o.ID] = o.Name
		// Admins adopt into any organisation, operators into theirs (as gb28181.Adopt decides).
		if usr.Role == auth.RoleAdmin || o.ID == usr.OrganisationID {
			d.Orgs = append(d.Orgs, option{Value: o.ID, Label: o.Name})
		}
	}
	q := r.URL.Query()
	switch q.Get("done") {
	case "queried":
		d.Notice = m.T("gb.queried")
	case "adopted":
		d.Notice = m.T("gb.adopted")
	case "auth":
		d.Notice = m.T("gb.auth_saved")
	}
	for _, dev := range ds {
		row := gbDeviceRow{ID: dev.ID, Name: dev.Name, Status: dev.Status, StatusLabel: m.Label("gb_status", dev.Status),
			StatusClass: gbStatusClass[dev.Status], Transport: dev.Transport, RemoteAddr: dev.RemoteAddr,
			LastSeen: m.Time(dev.LastSeen), Organisation: orgName[dev.OrganisationID], Pending: dev.Status == gb28181.StatusPending,
			Maker: dev.Manufacturer, Auth: dev.Auth, AuthLabel: m.Label("gb_auth", dev.Auth)}
		if row.StatusClass == "" {
			row.StatusClass = "status-decommissioned"
		}
		if dev.Model != "" {
			row.Maker += " " + dev.Model
		}
		row.Connection = gb28181.StatusOffline
		if dev.Online {
			row.Connection = gb28181.StatusOnline
		}
		row.Connection = m.Label("gb_status", row.Connection)
		adopted := q.Get("adopted") == dev.ID
		for _, ch := range dev.Channels {
			cr := gbChannelRow{ID: ch.ID, Name: ch.Name, Status: ch.Status, StatusLabel: m.Label("gb_status", ch.Status),
				StatusClass: gbStatusClass[ch.Status], CameraID: ch.CameraID, Parent: ch.ParentID}
			if cr.StatusClass == "" {
				cr.StatusClass = "status-decommissioned"
			}
			if cr.Name == "" {
				cr.Name = ch.ID
			}
			if adopted && ch.CameraID != "" && slices.Contains(q["camera"], ch.CameraID) {
				cr.Created = true
				d.Created = append(d.Created, gbCreated{CameraID: ch.CameraID, Name: cr.Name})
			}
			row.Channels = append(row.Channels, cr)
		}
		d.Devices = append(d.Devices, row)
	}
	u.render(w, r, status, "gbdevices", "gb.title", d)
	return nil
}

// gbCatalog asks a device for its catalog again, as the API's POST …/catalog does; the channels
// arrive over SIP, so the page says the query went out.
func (u *UI) gbCatalog(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !gb28181.ValidDeviceID(id) {
		return errNotFound
	}
	m := u.messages(r)
	show := func(status int, msg string) error { return u.renderGBDevices(w, r, status, msg) }
	if err := u.gb.RefreshCatalog(r.Context(), access.WriteScope(userOf(r)), id); err != nil {
		// A device that does not answer is the person's to know about, not a broken page.
		if fe, ok := fault.As(err); ok && fe.Kind == fault.Unavailable {
			return show(http.StatusServiceUnavailable, m.T("gb.unreachable"))
		}
		if fe, ok := fault.As(err); ok && fe.Kind == fault.Conflict {
			return show(http.StatusConflict, m.T("gb.not_registered"))
		}
		return showRefusal(m, err, show)
	}
	http.Redirect(w, r, "/gb28181?done=queried", http.StatusSeeOther)
	return nil
}

// gbAdopt adopts a pending device (or the new channels of an adopted one) into an organisation,
// as the API's POST …/adopt does: each channel becomes a planned camera, which the page then
// links to, to be completed like any camera.
func (u *UI) gbAdopt(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !gb28181.ValidDeviceID(id) {
		return errNotFound
	}
	ctx := r.Context()
	scope := access.WriteScope(userOf(r))
	show := func(status int, msg string) error { return u.renderGBDevices(w, r, status, msg) }
	// The channels without a camera before are the ones the adoption makes cameras for.
	before, err := u.gb.Device(ctx, access.ScopeOf(userOf(r)), id)
	if err != nil {
		return showRefusal(u.messages(r), err, show)
	}
	had := map[string]bool{}
	for _, ch := range before.Channels {
		if ch.CameraID != "" {
			had[ch.ID] = true
		}
	}
	d, err := u.gb.Adopt(ctx, scope, id, gb28181.AdoptInput{OrganisationID: r.PostForm.Get("organisation_id")})
	if err != nil {
		return showRefusal(u.messages(r), err, show)
	}
	v := url.Values{"done": {"adopted"}, "adopted": {id}}
	for _, ch := range d.Channels {
		if ch.CameraID != "" && !had[ch.ID] {
			v.Add("camera", ch.CameraID)
		}
	}
	http.Redirect(w, r, "/gb28181?"+v.Encode(), http.StatusSeeOther)
	return nil
}

// gbAuth sets how a device authenticates its REGISTERs, as the API's PUT …/auth does, through
// the same service call: digest with the global password, with a password of its own, or none
// (which lets anyone who knows the id pose as the device, so the form says so before it is sent).
func (u *UI) gbAuth(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !gb28181.ValidDeviceID(id) {
		return errNotFound
	}
	in := gb28181.DeviceAuth{Auth: r.PostForm.Get("auth")}
	if in.Auth == gb28181.AuthPassword {
		in.Password = r.PostForm.Get("password")
	}
	show := func(status int, msg string) error { return u.renderGBDevices(w, r, status, msg) }
	if _, err := u.gb.SetAuth(r.Context(), access.WriteScope(userOf(r)), id, in); err != nil {
		return showRefusal(u.messages(r), err, show)
	}
	http.Redirect(w, r, "/gb28181?done=auth", http.StatusSeeOther)
	return nil
}

// beijing is the time devices keep their recordings in: GB/T 28181 is China's standard, and a
// RecordInfo query is asked, and answered, in the device's local time.
var beijing = time.FixedZone("CST", 8*3600)

// deviceRecordsView is the camera page's list of what a GB channel keeps on its device's own
// storage (RecordInfo) for one day, asked for only when the person picks the day: every query
// is a SIP round trip to the device and traced as a read of recordings, as the API's is.
type deviceRecordsView struct {
	Day      string // YYYY-MM-DD, the form's value
	Asked    bool
	Records  []deviceRecordRow
	Complete bool
	Error    string
}

type deviceRecordRow struct{ Start, End, Type, Size string }

// deviceRecordsPanel returns the panel for a camera recorded from a GB/T 28181 channel the user
// may ask about, nil for any other; with ?device_records=DAY it asks the device.
func (u *UI) deviceRecordsPanel(r *http.Request, m Messages, usr *auth.User, c *registry.Camera) *deviceRecordsView {
	if u.gb == nil || !u.allowed(usr, "GET /api/v1/gb28181/devices/{id}/channels/{cid}/records") {
		return nil
	}
	device, channel, err := gb28181.ParseSourceURL(c.SourceURL)
	if err != nil {
		return nil
	}
	v := &deviceRecordsView{Day: r.URL.Query().Get("device_records")}
	if v.Day == "" {
		v.Day = time.Now().In(beijing).Format(time.DateOnly)
		return v
	}
	day, err := time.ParseInLocation(time.DateOnly, v.Day, beijing)
	if err != nil {
		v.Error = m.T("gb.records_bad_day")
		return v
	}
	v.Asked = true
	recs, err := u.gb.RecordInfo(r.Context(), access.ScopeOf(usr), device, channel, day, day.AddDate(0, 0, 1))
	if err != nil {
		switch fe, ok := fault.As(err); {
		case ok && fe.Kind == fault.Unavailable:
			v.Error = m.T("gb.unreachable")
		case ok && fe.Kind == fault.Conflict:
			v.Error = m.T("gb.not_registered")
		default:
			u.log.Warn("device records", "camera", c.ID, "err", err)
			v.Error = m.T("gb.records_failed")
		}
		return v
	}
	v.Complete = recs.Complete
	for _, rec := range recs.Records {
		row := deviceRecordRow{Start: rec.Start.In(beijing).Format(time.DateTime), End: rec.End.In(beijing).Format(time.DateTime), Type: rec.Type}
		if rec.FileSize > 0 {
			row.Size = bytesText(rec.FileSize)
		}
		v.Records = append(v.Records, row)
	}
	return v
}
