package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/gb28181"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// newGBStack is newStack with the device tree: the UI takes the GB/T 28181 platform the API
// serves, as the app wires it.
func newGBStack(t *testing.T) (*stack, *apitest.Stack) {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	if st.GB == nil {
		t.Fatal("the stack built no GB/T 28181 platform")
	}
	return serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.GB28181 = st.GB }}), st
}

var gbSeq atomic.Int64

// gbRegister registers a fresh simulated device with n channels (names in GBK on the wire) over
// TCP and waits until the platform has stored its catalog; it returns the device's id and its
// channels' ids.
func gbRegister(t *testing.T, st *apitest.Stack, n int) (string, []string) {
	t.Helper()
	k := int(gbSeq.Add(1))
	id := fmt.Sprintf("430200000011800%05d", k)
	chans := make([]gbdevice.Channel, n)
	ids := make([]string, n)
	for i := range chans {
		ids[i] = fmt.Sprintf("43020%03d001310%06d", k%1000, i+1)
		chans[i] = gbdevice.Channel{ID: ids[i], Name: fmt.Sprintf("路口%d-%d", k, i+1)}
	}
	d, err := gbdevice.New(gbdevice.Config{ID: id, Name: fmt.Sprintf("录像机%d", k), Server: st.GB.Addr(), ServerID: apitest.GBPlatformID,
		Domain: apitest.GBDomain, Transport: "tcp", Channels: chans}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Register(context.Background(), 3600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := st.GB.Device(context.Background(), registry.Scope{All: true}, id)
		if err == nil && len(got.Channels) == n && got.Name != "" {
			return id, ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s: catalog of %d channels never stored (%v)", id, n, err)
		}
	}
}

// gbWorld is two organisations (A, a department with operator op1; B, an enterprise with owner
// owner1 and operator opB), an admin, an auditor, a reviewer and an applicant.
type gbWorld struct {
	s          *stack
	st         *apitest.Stack
	orgA, orgB string
}

func newGBWorld(t *testing.T) *gbWorld {
	t.Helper()
	s, st := newGBStack(t)
	w := &gbWorld{s: s, st: st}
	w.orgA = s.addOrg("PSB", registry.KindDepartment, "public_security")
	w.orgB = s.addOrg("Mall", registry.KindEnterprise, "")
	for name, ro := range map[string]struct {
		role auth.Role
		org  string
	}{"admin1": {auth.RoleAdmin, ""}, "op1": {auth.RoleOperator, w.orgA}, "opB": {auth.RoleOperator, w.orgB},
		"owner1": {auth.RoleOwner, w.orgB}, "rev1": {auth.RoleReviewer, ""}, "aud1": {auth.RoleAuditor, ""}, "app1": {auth.RoleApplicant, ""}} {
		s.addUser(name, ro.role, ro.org)
	}
	return w
}

// TestGB28181PagesByRole is the device tree's authorization table: each page × each role, with
// the trail entries each request must leave, the roles those of the API routes the pages mirror.
func TestGB28181PagesByRole(t *testing.T) {
	w := newGBWorld(t)
	s := w.s
	browsers := map[string]*browser{anon: s.browser()}
	for role, name := range map[string]string{"admin": "admin1", "operator": "op1", "owner": "owner1", "reviewer": "rev1", "auditor": "aud1", "applicant": "app1"} {
		browsers[role] = s.loggedIn(name)
	}
	// A pending device for each manager to adopt, and one whose catalog everybody asks for.
	toAdopt := map[string]string{}
	toAdopt["admin"], _ = gbRegister(t, w.st, 2)
	toAdopt["operator"], _ = gbRegister(t, w.st, 2)
	other, _ := gbRegister(t, w.st, 1)
	into := map[string]string{"admin": w.orgB, "operator": w.orgA}

	type want struct {
		status  int
		actions []string
	}
	login := want{http.StatusSeeOther, []string{"access_denied:denied"}}
	denied := want{http.StatusForbidden, []string{"access_denied:denied"}}
	notLoggedIn := want{http.StatusUnauthorized, []string{"access_denied:denied"}}
	ok := want{http.StatusOK, nil}
	adopted := want{http.StatusSeeOther, []string{"gb_adopt", "camera_create"}}
	rows := []struct {
		method, pattern, path string
		form                  func(role string) url.Values
		want                  map[string]want
	}{
		{"GET", "/gb28181", "/gb28181", nil, map[string]want{anon: login, "admin": ok, "operator": ok, "auditor": ok,
			"owner": denied, "reviewer": denied, "applicant": denied}},
		{"POST", "/gb28181/devices/{id}/catalog", "/gb28181/devices/" + other + "/catalog", func(string) url.Values { return url.Values{} }, map[string]want{
			anon: notLoggedIn, "admin": {http.StatusSeeOther, []string{"gb_catalog"}}, "operator": {http.StatusSeeOther, []string{"gb_catalog"}},
			"auditor": denied, "owner": denied, "reviewer": denied, "applicant": denied}},
		{"POST", "/gb28181/devices/{id}/adopt", "/gb28181/devices/{id}/adopt", func(role string) url.Values {
			return url.Values{"organisation_id": {into[role]}}
		}, map[string]want{anon: notLoggedIn, "admin": adopted, "operator": adopted,
			"auditor": denied, "owner": denied, "reviewer": denied, "applicant": denied}},
		// How a device authenticates decides who may pose as it: admins only, as the API's PUT.
		{"POST", "/gb28181/devices/{id}/auth", "/gb28181/devices/" + other + "/auth", func(string) url.Values {
			return url.Values{"auth": {"password"}, "password": {"its own secret"}}
		}, map[string]want{anon: notLoggedIn, "admin": {http.StatusSeeOther, []string{"gb_device_auth"}}, "operator": denied,
			"auditor": denied, "owner": denied, "reviewer": denied, "applicant": denied}},
	}
	tested := map[string]bool{}
	for _, r := range rows {
		tested[r.method+" "+r.pattern] = true
		for role, wt := range r.want {
			t.Run(r.method+" "+r.path+" as "+role, func(t *testing.T) {
				b := browsers[role]
				path := r.path
				if id, ok := toAdopt[role]; ok {
					path = strings.Replace(path, "{id}", id, 1)
				} else {
					path = strings.Replace(path, "{id}", other, 1)
				}
				n := s.size()
				var p resp
				if r.method == "GET" {
					p = b.get(path)
				} else {
					p = b.post(path, r.form(role))
				}
				if p.status != wt.status {
					t.Fatalf("%s %s as %s = %d; want %d\n%.600s", r.method, path, role, p.status, wt.status, p.body)
				}
				if got := actions(s.entriesSince(n)); !slices.Equal(got, wt.actions) {
					t.Errorf("%s %s as %s left %v in the trail; want %v", r.method, path, role, got, wt.actions)
				}
			})
		}
	}
	for _, p := range s.ui.gbRoutes() {
		if !tested[p.Pattern] {
			t.Errorf("page %q is not in the authorization table", p.Pattern)
		}
	}
	// The nav links to the tree exactly for the roles the list's API route lets in.
	for role, b := range browsers {
		if role == anon {
			continue
		}
		has := strings.Contains(b.get("/me").body, `href="/gb28181"`)
		if want := slices.Contains([]string{"admin", "operator", "auditor"}, role); has != want {
			t.Errorf("nav of %s links to /gb28181: %v; want %v", role, has, want)
		}
	}
	// Only managers get the forms: the auditor reads the tree without them.
	body := browsers["auditor"].get("/gb28181").body
	mustContain(t, "the auditor's device tree", body, `data-device="`+other+`"`)
	mustNotContain(t, "the auditor's device tree", body, `class="inline gb-refresh"`, `class="inline gb-adopt"`)
}

// TestGB28181AdoptThroughForm adopts a pending device through the page's form: each channel
// becomes a planned camera of the organisation with its gb_device_id, the trail holds the
// adoption, and the page links to the cameras made. An operator cannot adopt into another
// organisation by editing the form, and does not see another organisation's devices.
func TestGB28181AdoptThroughForm(t *testing.T) {
	w := newGBWorld(t)
	s := w.s
	id, chans := gbRegister(t, w.st, 3)
	op := s.loggedIn("op1")

	tree := op.get("/gb28181")
	if tree.status != http.StatusOK {
		t.Fatalf("GET /gb28181 = %d; want 200\n%s", tree.status, tree.body)
	}
	mustContain(t, "the pending device's tree", tree.body, `data-device="`+id+`"`, `data-status="pending"`, "tcp",
		`action="/gb28181/devices/`+id+`/adopt"`, `<option value="`+w.orgA+`">PSB</option>`)
	for _, ch := range chans {
		mustContain(t, "the pending device's tree", tree.body, `data-channel="`+ch+`"`)
	}
	mustNotContain(t, "the operator's adopt form", tree.body, `<option value="`+w.orgB+`"`)

	n := s.size()
	if p := op.post("/gb28181/devices/"+id+"/adopt", url.Values{"organisation_id": {w.orgB}}); p.status != http.StatusForbidden {
		t.Errorf("adopt into another organisation through the form = %d; want 403", p.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Equal(got, []string{"gb_adopt:denied"}) {
		t.Errorf("adopt into another organisation left %v in the trail; want [gb_adopt:denied]", got)
	}

	n = s.size()
	p := op.post("/gb28181/devices/"+id+"/adopt", url.Values{"organisation_id": {w.orgA}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("adopt through the form = %d; want 303\n%.600s", p.status, p.body)
	}
	var adopt *trace.Entry
	es := s.entriesSince(n)
	for i := range es {
		if es[i].Action == trace.ActionGBAdopt {
			adopt = &es[i]
		}
	}
	if adopt == nil || adopt.Outcome != trace.Allowed || adopt.Reference != id || !strings.Contains(adopt.Reason, w.orgA) || adopt.Actor.Username != "op1" {
		t.Errorf("trail after adoption = %+v; want a gb_adopt entry by op1 for %s into %s", es, id, w.orgA)
	}

	done := op.get(p.res.Header.Get("Location"))
	if done.status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", p.res.Header.Get("Location"), done.status)
	}
	mustContain(t, "the page after adoption", done.body, `id="gb-created"`, `data-status="online"`)
	links := regexp.MustCompile(`<a href="/cameras/([^"]+)" data-camera=`).FindAllStringSubmatch(done.body, -1)
	if len(links) != len(chans) {
		t.Fatalf("the page after adoption links %d created cameras; want %d\n%s", len(links), len(chans), done.body)
	}
	var gbIDs []string
	for _, l := range links {
		c, err := s.reg.Camera(context.Background(), registry.Scope{All: true}, l[1])
		if err != nil {
			t.Fatalf("Camera(%s) = %v", l[1], err)
		}
		if c.Status != registry.StatusPlanned || c.OrganisationID != w.orgA {
			t.Errorf("Camera(%s) = status %s, organisation %s; want planned, %s", l[1], c.Status, c.OrganisationID, w.orgA)
		}
		gbIDs = append(gbIDs, c.GBDeviceID)
		if cp := op.get("/cameras/" + l[1]); cp.status != http.StatusOK {
			t.Errorf("GET /cameras/%s = %d; want 200", l[1], cp.status)
		}
	}
	slices.Sort(gbIDs)
	if !slices.Equal(gbIDs, chans) {
		t.Errorf("gb_device_id of the created cameras = %v; want the channels %v", gbIDs, chans)
	}

	// Adopted into A, the device is out of B's operator's tree; pending ones stay in.
	pending, _ := gbRegister(t, w.st, 1)
	body := s.loggedIn("opB").get("/gb28181").body
	mustNotContain(t, "another organisation's tree", body, `data-device="`+id+`"`)
	mustContain(t, "another organisation's tree", body, `data-device="`+pending+`"`)
}

// TestGB28181AuthThroughForm sets a device's authentication through the page's form, as
// PUT /api/v1/gb28181/devices/{id}/auth does through the same service: traced before stored, the
// password never shown back, a bad choice refused with the reason in the user's language, and the
// form offered to admins only.
func TestGB28181AuthThroughForm(t *testing.T) {
	w := newGBWorld(t)
	s := w.s
	id, _ := gbRegister(t, w.st, 1)
	admin := s.loggedIn("admin1")
	admin.header.Set("Accept-Language", "en")
	tree := admin.get("/gb28181")
	mustContain(t, "the admin's device tree", tree.body, `action="/gb28181/devices/`+id+`/auth"`,
		`<span data-auth="global">digest with the platform&#39;s password</span>`, "anyone who knows this device")
	mustNotContain(t, "the operator's device tree", s.loggedIn("op1").get("/gb28181").body, `class="gb-auth-form"`)

	steps := []struct {
		name   string
		form   url.Values
		status int
		auth   string // what the service then says
		trail  []string
		page   string // on the page that follows
	}{
		{"own password", url.Values{"auth": {"password"}, "password": {"s3cret-of-its-own"}}, http.StatusSeeOther, gb28181.AuthPassword,
			[]string{"gb_device_auth"}, `data-auth="password"`},
		{"own password left empty", url.Values{"auth": {"password"}}, http.StatusBadRequest, gb28181.AuthPassword, nil, `id="form-error"`},
		{"unknown choice", url.Values{"auth": {"maybe"}}, http.StatusBadRequest, gb28181.AuthPassword, nil, `id="form-error"`},
		{"no digest", url.Values{"auth": {"none"}, "password": {"ignored: not sent with none"}}, http.StatusSeeOther, gb28181.AuthNone,
			[]string{"gb_device_auth"}, `data-auth="none"`},
		{"back to global", url.Values{"auth": {"global"}}, http.StatusSeeOther, gb28181.AuthGlobal, []string{"gb_device_auth"}, `data-auth="global"`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n := s.size()
			p := admin.post("/gb28181/devices/"+id+"/auth", st.form)
			if p.status != st.status {
				t.Fatalf("POST auth %v = %d; want %d\n%.600s", st.form, p.status, st.status, p.body)
			}
			if got := actions(s.entriesSince(n)); !slices.Equal(got, st.trail) {
				t.Errorf("POST auth %v left %v in the trail; want %v", st.form, got, st.trail)
			}
			d, err := w.st.GB.Device(context.Background(), registry.Scope{All: true}, id)
			if err != nil || d.Auth != st.auth {
				t.Fatalf("Device(%s).Auth = %+v, %v; want %q", id, d, err, st.auth)
			}
			body := p.body
			if p.status == http.StatusSeeOther {
				body = admin.get("/gb28181?done=auth").body
				mustContain(t, "the page after saving", body, "applies from its next REGISTER")
			}
			mustContain(t, "the page", body, st.page)
			mustNotContain(t, "the page", body, "s3cret-of-its-own")
		})
	}
	zhb := s.loggedIn("admin1")
	zhb.header.Set("Accept-Language", "zh")
	zh := zhb.get("/gb28181")
	mustContain(t, "the device tree in Chinese", zh.body, "注册认证", "不认证（不建议）", "冒充")
}

// TestGB28181PageLanguages renders the tree in both languages.
func TestGB28181PageLanguages(t *testing.T) {
	w := newGBWorld(t)
	id, _ := gbRegister(t, w.st, 1)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"zh", []string{`lang="zh-CN"`, "国标设备", "待纳管", "刷新目录", "纳入单位", "传输方式"}},
		{"en", []string{`lang="en"`, "GB/T 28181 devices", "pending adoption", "Refresh catalog", "Adopt into organisation", "Transport"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := w.s.loggedIn("admin1")
			b.header.Set("Accept-Language", tc.lang)
			p := b.get("/gb28181")
			if p.status != http.StatusOK {
				t.Fatalf("GET /gb28181 in %s = %d; want 200", tc.lang, p.status)
			}
			mustContain(t, "the device tree in "+tc.lang, p.body, append(tc.want, `data-device="`+id+`"`)...)
			mustNotContain(t, "the device tree in "+tc.lang, p.body, "gb.", "gb_status.")
		})
	}
}

// TestGB28181DeviceRecordsOnCameraPage: the camera page of an adopted GB channel offers to ask
// its device what it keeps on its own storage (RecordInfo); asked for a day, it lists the
// device's recordings in Beijing time and traces the read as the API's route does. Merely
// opening the page asks the device nothing.
func TestGB28181DeviceRecordsOnCameraPage(t *testing.T) {
	w := newGBWorld(t)
	s := w.s
	id, _ := gbRegister(t, w.st, 1)
	op := s.loggedIn("op1")
	if p := op.post("/gb28181/devices/"+id+"/adopt", url.Values{"organisation_id": {w.orgA}}); p.status != http.StatusSeeOther {
		t.Fatalf("adopt = %d; want 303\n%.600s", p.status, p.body)
	}
	d, err := w.st.GB.Device(context.Background(), registry.Scope{All: true}, id)
	if err != nil || len(d.Channels) != 1 || d.Channels[0].CameraID == "" {
		t.Fatalf("Device(%s) = %+v, %v; want its channel adopted as a camera", id, d, err)
	}
	cam := "/cameras/" + d.Channels[0].CameraID
	// The page's own timeline is a read of civicam's recordings too; the device's is the one
	// that names the device and channel.
	deviceReads := func(es []trace.Entry) []trace.Entry {
		var out []trace.Entry
		for _, e := range es {
			if e.Action == trace.ActionRecordingsRead && e.Reference == id+"/"+d.Channels[0].ID {
				out = append(out, e)
			}
		}
		return out
	}

	n := s.size()
	page := op.get(cam)
	mustContain(t, "the GB camera's page", page.body, `id="device-records"`, `name="device_records"`)
	mustNotContain(t, "the GB camera's page before asking", page.body, `id="device-records-list"`)
	if got := deviceReads(s.entriesSince(n)); len(got) != 0 {
		t.Errorf("opening the camera page left %+v in the trail; want no read of the device's recordings before it is asked", got)
	}

	for _, tc := range []struct {
		lang, title string
	}{{"en", "Recordings kept on the device"}, {"zh", "设备端录像"}} {
		n = s.size()
		op.header.Set("Accept-Language", tc.lang)
		p := op.get(cam + "?device_records=2026-12-07")
		if p.status != http.StatusOK {
			t.Fatalf("GET %s?device_records = %d; want 200\n%.600s", cam, p.status, p.body)
		}
		// The simulated device records around the clock in files of an hour: 24 for a day.
		mustContain(t, "the device's recordings ("+tc.lang+")", p.body, tc.title, `id="device-records-list"`,
			"2026-12-07 00:00:00", "2026-12-07 23:00:00", "2026-12-08 00:00:00")
		if rows := strings.Count(p.body, "<tr><td>2026-12-0"); rows != 24 {
			t.Errorf("the device's recordings list %d rows; want 24", rows)
		}
		read := deviceReads(s.entriesSince(n))
		if len(read) != 1 || read[0].Outcome != trace.Allowed || read[0].Actor.Username != "op1" {
			t.Errorf("trail after asking the device = %+v; want one recordings_read by op1", read)
		}
	}
	if p := op.get(cam + "?device_records=yesterday"); !strings.Contains(p.body, `id="device-records-error"`) {
		t.Errorf("GET %s?device_records=yesterday shows no error\n%.600s", cam, p.body)
	}
	// A camera that is not a GB channel has no such section.
	other := s.addCamera(w.orgA, "rtsp", 27.8, 113.1, nil)
	mustNotContain(t, "an RTSP camera's page", op.get("/cameras/"+other).body, `id="device-records"`)
}
