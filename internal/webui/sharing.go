package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/sharing"
)

// The sharing pages (issue 7): grants between organisations, camera groups, and the owner's view
// of who used its cameras. Changes and the traced read are the sharing service's workflows, the
// same the API calls, so a grant made in a form is validated, traced and — when revoked — ends
// the grantee's live views exactly as one made through the API.

// sharingRoutes are present when the UI is given the sharing service.
func (u *UI) sharingRoutes() []*page {
	if u.sharing == nil {
		return nil
	}
	return []*page{
		{Pattern: "GET /sharing/grants", APIRoute: "GET /api/v1/grants", Handler: u.grantsPage},
		{Pattern: "POST /sharing/grants", APIRoute: "POST /api/v1/grants", Handler: u.grantCreate},
		{Pattern: "POST /sharing/grants/{id}/revoke", APIRoute: "DELETE /api/v1/grants/{id}", Handler: u.grantRevoke},
		{Pattern: "GET /sharing/groups", APIRoute: "GET /api/v1/groups", Handler: u.groupsPage},
		{Pattern: "POST /sharing/groups", APIRoute: "POST /api/v1/groups", Handler: u.groupCreate},
		{Pattern: "GET /sharing/accesses", APIRoute: "GET /api/v1/grants/accesses", Handler: u.accessesPage},
	}
}

// shareables is what both sharing forms are drawn from: the user's groups, the organisations
// with their names, and the cameras the user may share, as the form's check boxes.
type shareables struct {
	groups  []*sharing.Group
	orgs    []*registry.Organisation
	orgName map[string]string
	cams    []*registry.Camera
	camName map[string]string
	boxes   []checkOption
}

// shareables reads what the sharing forms offer the request's user: up to limit cameras of its
// write scope (an admin's: all, labelled with their owner), those in checked ticked.
func (u *UI) shareables(r *http.Request, limit int, checked []string) (*shareables, error) {
	ctx := r.Context()
	usr := userOf(r)
	groups, err := u.sharing.Groups(ctx, usr)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	cams, err := u.reg.Cameras(ctx, access.WriteScope(usr), registry.CameraFilter{Limit: limit})
	if err != nil {
		return nil, err
	}
	sh := &shareables{groups: groups, orgs: orgs, orgName: map[string]string{}, cams: cams, camName: map[string]string{}}
	for _, o := range orgs {
		sh.orgName[o.ID] = o.Name
	}
	for _, c := range cams {
		sh.camName[c.ID] = c.Name
		label := c.Name
		if usr.Role == auth.RoleAdmin {
			label += " · " + sh.orgName[c.OrganisationID]
		}
		sh.boxes = append(sh.boxes, checkOption{Value: c.ID, Label: label, Checked: slices.Contains(checked, c.ID)})
	}
	return sh, nil
}

// grantCamera names camera id of grant g for its page: from names (the user's own cameras),
// else as the owner's registry has it. sharing.Grants shows g only to its owner and grantee
// organisations (and admins), to whom the grant itself names the camera; a camera gone from the
// registry keeps its id.
func (u *UI) grantCamera(ctx context.Context, names map[string]string, g *sharing.Grant, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	if c, err := u.reg.Camera(ctx, registry.Scope{OrganisationID: g.OwnerOrganisationID}, id); err == nil {
		names[id] = c.Name
		return c.Name
	}
	return id
}

// Scopes in the order the form offers them.
var grantScopes = []string{sharing.ScopeLive, sharing.ScopePlayback, sharing.ScopeExport, sharing.ScopeEmergency}

type checkOption struct {
	Value, Label string
	Checked      bool
}

type grantRow struct {
	ID, Owner, Grantee, Direction string
	Cameras                       []string
	Group                         string
	Scopes                        []string
	Purpose, Starts, Ends         string
	GrantedBy, GrantedAt          string
	TermsVersion                  int
	Status, StatusLabel           string
	StatusClass                   string
	RevokedAt                     string
	Revocable                     bool
}

type grantsData struct {
	Grants   []grantRow
	Cameras  []checkOption
	Groups   []option
	Grantees []option
	Scopes   []checkOption
	Terms    *sharing.Terms
	Form     map[string]string
	Error    string
	Notice   string
}

// grantStatus is a grant's state at now.
func grantStatus(g *sharing.Grant, now time.Time) string {
	switch {
	case !g.RevokedAt.IsZero():
		return "revoked"
	case !g.EndsAt.IsZero() && !now.Before(g.EndsAt):
		return "expired"
	case now.Before(g.StartsAt):
		return "scheduled"
	}
	return "active"
}

// grantsPage lists the grants the user's organisation gave and received (admins: all), with the
// form to make one.
func (u *UI) grantsPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderGrants(w, r, http.StatusOK, "", nil)
}

func (u *UI) renderGrants(w http.ResponseWriter, r *http.Request, status int, errMsg string, form url.Values) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	grants, err := u.sharing.Grants(ctx, usr)
	if err != nil {
		return fmt.Errorf("grants: %w", err)
	}
	terms, err := u.sharing.Terms(ctx)
	if err != nil {
		return fmt.Errorf("sharing terms: %w", err)
	}
	if form == nil {
		form = url.Values{}
	}
	// Cameras the user may grant over: its organisation's (an admin's: all, one owner per grant).
	sh, err := u.shareables(r, 1000, form["camera_id"])
	if err != nil {
		return err
	}
	groups, orgs, orgName, camName := sh.groups, sh.orgs, sh.orgName, sh.camName
	d := grantsData{Terms: terms, Error: errMsg, Cameras: sh.boxes, Form: map[string]string{
		"grantee_organisation_id": form.Get("grantee_organisation_id"), "group_id": form.Get("group_id"),
		"purpose": form.Get("purpose"), "starts_at": form.Get("starts_at"), "ends_at": form.Get("ends_at")}}
	if d.Form["starts_at"] == "" {
		d.Form["starts_at"] = u.now().UTC().Format("2006-01-02T15:04")
	}
	groupName := map[string]string{}
	d.Groups = []option{{Value: "", Label: "—"}}
	for _, g := range groups {
		groupName[g.ID] = g.Name
		d.Groups = append(d.Groups, option{Value: g.ID, Label: g.Name + " (" + m.Label("group_kind", g.Kind) + ")", Selected: g.ID == form.Get("group_id")})
	}
	d.Grantees = []option{{Value: "", Label: "—"}}
	for _, o := range orgs {
		if o.ID != usr.OrganisationID {
			d.Grantees = append(d.Grantees, option{Value: o.ID, Label: o.Name, Selected: o.ID == form.Get("grantee_organisation_id")})
		}
	}
	for _, sc := range grantScopes {
		d.Scopes = append(d.Scopes, checkOption{Value: sc, Label: m.Label("scope", sc), Checked: slices.Contains(form["scope"], sc)})
	}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Notice = m.T("sharing.grant_created")
	case "revoked":
		d.Notice = m.T("sharing.grant_revoked")
	}
	who := map[string]string{}
	username := func(id string) string {
		if n, ok := who[id]; ok {
			return n
		}
		n := id
		if x, err := u.users.User(ctx, id); err == nil {
			n = x.Username
		}
		who[id] = n
		return n
	}
	now := u.now()
	for _, g := range grants {
		row := grantRow{ID: g.ID, Owner: orgName[g.OwnerOrganisationID], Grantee: orgName[g.GranteeOrganisationID],
			Purpose: g.Purpose, Starts: m.Time(g.StartsAt), Ends: m.T("sharing.open_ended"),
			GrantedBy: username(g.GrantedBy), GrantedAt: m.Time(g.GrantedAt), TermsVersion: g.TermsVersion,
			Status: grantStatus(g, now)}
		if !g.EndsAt.IsZero() {
			row.Ends = m.Time(g.EndsAt)
		}
		if !g.RevokedAt.IsZero() {
			row.RevokedAt = m.Time(g.RevokedAt)
		}
		row.StatusLabel = m.Label("grant_status", row.Status)
		row.StatusClass = map[string]string{"active": "status-active", "scheduled": "status-planned"}[row.Status]
		if row.StatusClass == "" {
			row.StatusClass = "status-decommissioned"
		}
		switch usr.OrganisationID {
		case g.OwnerOrganisationID:
			row.Direction = m.T("sharing.given")
		case g.GranteeOrganisationID:
			row.Direction = m.T("sharing.received")
		}
		for _, id := range g.CameraIDs {
			row.Cameras = append(row.Cameras, u.grantCamera(ctx, camName, g, id))
		}
		if g.GroupID != "" {
			row.Group = g.GroupID
			if n, ok := groupName[g.GroupID]; ok {
				row.Group = n
			}
		}
		for _, sc := range g.Scopes {
			row.Scopes = append(row.Scopes, m.Label("scope", sc))
		}
		// Only the owner organisation (or an admin) revokes, as sharing.RevokeGrant decides.
		row.Revocable = row.Status != "revoked" && (usr.Role == auth.RoleAdmin || usr.OrganisationID == g.OwnerOrganisationID)
		d.Grants = append(d.Grants, row)
	}
	// Newest first: the grant just made is at the top.
	slices.Reverse(d.Grants)
	u.render(w, r, status, "grants", "sharing.grants_title", d)
	return nil
}

// grantCreate makes a grant, as the API's POST /api/v1/grants does. The form shows the current
// terms and sends their version: submitting it is the grantor's consent to that text, and a
// change of the terms in between is refused rather than agreed to unseen.
func (u *UI) grantCreate(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	f := r.PostForm
	in := sharing.GrantInput{CameraIDs: f["camera_id"], GroupID: f.Get("group_id"),
		GranteeOrganisationID: f.Get("grantee_organisation_id"), Scopes: f["scope"], Purpose: f.Get("purpose")}
	fail := func(status int, msg string) error { return u.renderGrants(w, r, status, msg, f) }
	v, err := strconv.Atoi(f.Get("terms_version"))
	if err != nil || v <= 0 {
		return fail(http.StatusBadRequest, m.T("sharing.bad_terms"))
	}
	in.TermsVersion = v
	starts, ok := parseTimeInput(f.Get("starts_at"))
	if !ok || starts.IsZero() {
		return fail(http.StatusBadRequest, m.T("sharing.bad_start"))
	}
	in.StartsAt = starts
	ends, ok := parseTimeInput(f.Get("ends_at"))
	if !ok {
		return fail(http.StatusBadRequest, m.T("sharing.bad_end"))
	}
	if !ends.IsZero() {
		in.EndsAt = &ends
	}
	if _, err := u.sharing.CreateGrant(r.Context(), userOf(r), in); err != nil {
		return showRefusal(m, err, fail)
	}
	http.Redirect(w, r, "/sharing/grants?done=created", http.StatusSeeOther)
	return nil
}

// grantRevoke revokes, as the API's DELETE /api/v1/grants/{id} does; the service also ends the
// grantee's live views that nothing else covers.
func (u *UI) grantRevoke(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	if _, err := u.sharing.RevokeGrant(r.Context(), userOf(r), id); err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderGrants(w, r, status, msg, nil)
		})
	}
	http.Redirect(w, r, "/sharing/grants?done=revoked", http.StatusSeeOther)
	return nil
}

var groupKinds = []string{sharing.GroupOrganisation, sharing.GroupPlace, sharing.GroupKeyArea, sharing.GroupPicked}

type groupRow struct {
	ID, Name, Kind, Criterion, Organisation, CreatedBy, CreatedAt string
	Cameras                                                       []string
}

type groupsData struct {
	Groups        []groupRow
	Kinds         []option
	Places        []option
	Orgs          []option // admins name the organisation
	Cameras       []checkOption
	Form          map[string]string
	Error, Notice string
	Editable      bool // the user may edit and delete the groups listed
}

// groupsPage lists the organisation's camera groups (admins: all) with the form to make one.
func (u *UI) groupsPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderGroups(w, r, http.StatusOK, "", nil)
}

func (u *UI) renderGroups(w http.ResponseWriter, r *http.Request, status int, errMsg string, form url.Values) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	if form == nil {
		form = url.Values{}
	}
	sh, err := u.shareables(r, 10000, form["camera_id"])
	if err != nil {
		return err
	}
	groups, orgs, orgName, camName := sh.groups, sh.orgs, sh.orgName, sh.camName
	d := groupsData{Error: errMsg, Cameras: sh.boxes, Form: map[string]string{"name": form.Get("name")}}
	for _, k := range groupKinds {
		d.Kinds = append(d.Kinds, option{Value: k, Label: m.Label("group_kind", k), Selected: k == form.Get("kind")})
	}
	if usr.Role == auth.RoleAdmin {
		for _, o := range orgs {
			d.Orgs = append(d.Orgs, option{Value: o.ID, Label: o.Name, Selected: o.ID == form.Get("organisation_id")})
		}
	}
	d.Places = []option{{Value: "", Label: "—"}}
	var places []string
	for _, c := range sh.cams {
		if c.PlaceCategory != "" && !slices.Contains(places, c.PlaceCategory) {
			places = append(places, c.PlaceCategory)
		}
	}
	slices.Sort(places)
	for _, p := range places {
		d.Places = append(d.Places, option{Value: p, Label: u.categoryName(p, m), Selected: p == form.Get("criterion")})
	}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Notice = m.T("sharing.group_created")
	case "updated":
		d.Notice = m.T("groups.updated")
	case "deleted":
		d.Notice = m.T("groups.deleted")
	}
	d.Editable = u.allowed(usr, "PATCH /api/v1/groups/{id}")
	for _, g := range groups {
		row := groupRow{ID: g.ID, Name: g.Name, Kind: m.Label("group_kind", g.Kind), Criterion: g.Criterion,
			Organisation: orgName[g.OrganisationID], CreatedAt: m.Time(g.CreatedAt), CreatedBy: g.CreatedBy}
		if g.Criterion != "" {
			row.Criterion = u.categoryName(g.Criterion, m) // a place category by its name, never its code
		}
		if x, err := u.users.User(ctx, g.CreatedBy); err == nil {
			row.CreatedBy = x.Username
		}
		for _, id := range g.CameraIDs {
			if n, ok := camName[id]; ok {
				id = n
			}
			row.Cameras = append(row.Cameras, id)
		}
		d.Groups = append(d.Groups, row)
	}
	u.render(w, r, status, "groups", "sharing.groups_title", d)
	return nil
}

// groupCreate makes a group, as the API's POST /api/v1/groups does.
func (u *UI) groupCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	in := sharing.GroupInput{OrganisationID: f.Get("organisation_id"), Name: f.Get("name"), Kind: f.Get("kind")}
	// The form offers every kind's fields; only the chosen kind's are meant.
	switch in.Kind {
	case sharing.GroupPlace:
		in.Criterion = f.Get("criterion")
	case sharing.GroupPicked:
		in.CameraIDs = f["camera_id"]
	}
	if _, err := u.sharing.CreateGroup(r.Context(), userOf(r), in); err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderGroups(w, r, status, msg, f)
		})
	}
	http.Redirect(w, r, "/sharing/groups?done=created", http.StatusSeeOther)
	return nil
}

type accessRow struct {
	Seq                          int64
	Time, Action, Outcome        string
	OutcomeClass                 string
	Camera, Username, Org, Range string
	Purpose, Reference, Grant    string
	Policy                       bool
}

type accessesData struct {
	Organisation string // the owner whose cameras are shown; empty until an admin picks one
	Orgs         []option
	Accesses     []accessRow
	CSV          string
	Error        string
}

// accessesPage is the owner's view of every access to its cameras by other organisations. The
// sharing service traces the read as it does for the API's GET /api/v1/grants/accesses (and
// refuses it if the trail cannot take it). Admins pick the owner.
func (u *UI) accessesPage(w http.ResponseWriter, r *http.Request) error {
	m := u.messages(r)
	ctx := r.Context()
	usr := userOf(r)
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	orgName := map[string]string{}
	for _, o := range orgs {
		orgName[o.ID] = o.Name
	}
	var d accessesData
	org := usr.OrganisationID
	if usr.Role == auth.RoleAdmin {
		org = r.URL.Query().Get("organisation_id")
		d.Orgs = []option{{Value: "", Label: "—"}}
		for _, o := range orgs {
			d.Orgs = append(d.Orgs, option{Value: o.ID, Label: o.Name, Selected: o.ID == org})
		}
		if org == "" {
			u.render(w, r, http.StatusOK, "accesses", "sharing.accesses_title", d)
			return nil
		}
	}
	as, err := u.sharing.Accesses(ctx, usr, org)
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			d.Error = msg
			u.render(w, r, status, "accesses", "sharing.accesses_title", d)
			return nil
		})
	}
	d.Organisation = orgName[org]
	q := url.Values{"format": {"csv"}}
	if usr.Role == auth.RoleAdmin {
		q.Set("organisation_id", org)
	}
	d.CSV = "/api/v1/grants/accesses?" + q.Encode()
	// The names of the cameras these accesses touched, not of all the organisation's.
	camName := map[string]string{}
	for _, a := range as {
		if _, seen := camName[a.CameraID]; seen || a.CameraID == "" {
			continue
		}
		c, err := u.reg.Camera(ctx, registry.Scope{OrganisationID: org}, a.CameraID)
		switch {
		case err == nil:
			camName[a.CameraID] = c.Name
		case errors.Is(err, fault.ErrNotFound):
			camName[a.CameraID] = "" // gone: the id stands
		default:
			return err
		}
	}
	for _, a := range as {
		row := accessRow{Seq: a.Seq, Time: m.Time(a.Time), Action: m.Label("action", a.Action), Outcome: m.Label("outcome", a.Outcome),
			OutcomeClass: a.Outcome, Camera: a.CameraID, Username: a.Username, Org: orgName[a.ActorOrganisationID],
			Purpose: a.Purpose, Reference: a.Reference, Grant: a.GrantID, Policy: a.GrantID == "policy"}
		if n := camName[a.CameraID]; n != "" {
			row.Camera = n
		}
		if row.Org == "" {
			row.Org = a.ActorOrganisationID
		}
		if !a.From.IsZero() || !a.To.IsZero() {
			row.Range = m.Time(a.From) + " – " + m.Time(a.To)
		}
		d.Accesses = append(d.Accesses, row)
	}
	u.render(w, r, http.StatusOK, "accesses", "sharing.accesses_title", d)
	return nil
}
