package webui

import (
	"bytes"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/trace"
	"civicam/policies"
)

// cameraForm is a complete add-camera form.
func cameraForm(name string, edit func(url.Values)) url.Values {
	f := url.Values{"name": {name}, "investment": {"government"}, "lat": {"27.8301"}, "lon": {"113.1502"},
		"place_category": {"public_square"}, "bearing": {"45"}, "fov_angle": {"60"}, "range_m": {"50"},
		"source_url": {"rtsp://u:pw@10.0.0.5/s"}, "status": {"planned"}, "interface_reserved": {"yes"}}
	if edit != nil {
		edit(f)
	}
	return f
}

func (w *sharingWorld) camera(id string) *registry.Camera {
	w.s.t.Helper()
	c, err := w.s.reg.Camera(setupCtx, registry.Scope{All: true}, id)
	if err != nil {
		w.s.t.Fatalf("Camera(%s) = %v", id, err)
	}
	return c
}

// countCameras is how many cameras the registry holds in all.
func (w *sharingWorld) countCameras() int {
	w.s.t.Helper()
	cs, err := w.s.reg.Cameras(setupCtx, registry.Scope{All: true}, registry.CameraFilter{})
	if err != nil {
		w.s.t.Fatal(err)
	}
	return len(cs)
}

var locationID = regexp.MustCompile(`^/cameras/([0-9a-f-]{36})\?done=`)

// TestCameraManagementRoles: the roles that may manage cameras (the API's POST/PATCH/DELETE
// /api/v1/cameras) see the controls and use them; the others see none, and their posts are
// refused and traced as denials; another organisation's camera is not found.
func TestCameraManagementRoles(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	for _, tc := range []struct {
		user    string
		manages bool
	}{{"admin1", true}, {"op1", true}, {"owner1", true}, {"rev1", false}, {"aud1", false}} {
		t.Run(tc.user, func(t *testing.T) {
			b := s.loggedIn(tc.user)
			list := b.get("/cameras")
			if list.status != http.StatusOK {
				t.Fatalf("GET /cameras as %s = %d", tc.user, list.status)
			}
			for _, ctl := range []string{`id="camera-new"`, `id="camera-import"`, `id="bulk-form"`} {
				if got := strings.Contains(list.body, ctl); got != tc.manages {
					t.Errorf("camera list as %s shows %s = %v; want %v", tc.user, ctl, got, tc.manages)
				}
			}
			cam := w.camA
			if tc.user == "owner1" {
				cam = w.camB
			}
			page := b.get("/cameras/" + cam)
			if got := strings.Contains(page.body, `id="camera-edit"`); got != tc.manages {
				t.Errorf("camera page as %s shows the edit link = %v; want %v", tc.user, got, tc.manages)
			}
			if tc.manages {
				return
			}
			n := s.size()
			for _, p := range []string{"/cameras/new", "/cameras/" + cam + "/edit", "/cameras/" + cam + "/decommission", "/cameras/bulk"} {
				form := cameraForm("x", func(f url.Values) { f.Set("confirm", "yes"); f.Set("action", "networked"); f.Set("camera_id", cam) })
				if r := b.post(p, form); r.status != http.StatusForbidden {
					t.Errorf("POST %s as %s = %d; want 403", p, tc.user, r.status)
				}
			}
			if r := b.get("/cameras/import"); r.status != http.StatusForbidden {
				t.Errorf("GET /cameras/import as %s = %d; want 403", tc.user, r.status)
			}
			if got := actions(s.entriesSince(n)); len(got) != 5 || slices.ContainsFunc(got, func(a string) bool { return a != "access_denied:denied" }) {
				t.Errorf("trail after the refused posts = %v; want 5 access_denied:denied", got)
			}
			if c := w.camera(cam); c.Name != map[string]string{w.camA: "Gate A", w.camB: "Lobby B"}[cam] || c.Status != registry.StatusPlanned {
				t.Errorf("camera after refused posts = %q %s; want unchanged", c.Name, c.Status)
			}
		})
	}
	t.Run("another organisation's camera", func(t *testing.T) {
		b := s.loggedIn("opC")
		for _, p := range []string{"/cameras/" + w.camA + "/edit", "/cameras/" + w.camA + "/decommission"} {
			if r := b.get(p); r.status != http.StatusNotFound {
				t.Errorf("GET %s as another organisation's operator = %d; want 404", p, r.status)
			}
		}
		if r := b.post("/cameras/"+w.camA+"/decommission", url.Values{"confirm": {"yes"}}); r.status != http.StatusNotFound {
			t.Errorf("POST decommission of another organisation's camera = %d; want 404", r.status)
		}
		if w.camera(w.camA).Status == registry.StatusDecommissioned {
			t.Error("another organisation's operator decommissioned the camera")
		}
	})
}

// TestCameraAddEditDecommission: the forms go through the registry service as the API does:
// created and changed cameras are traced, the policy's refusal is shown in the reader's
// language on the form (and traced), credentials never reach the edit form, and decommissioning
// needs its confirmation.
func TestCameraAddEditDecommission(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	b := s.loggedIn("op1")
	if r := b.get("/cameras/new"); r.status != http.StatusOK || !strings.Contains(r.body, "广场") || strings.Contains(r.body, `>public_square<`) {
		t.Errorf("GET /cameras/new = %d; want 200 with place categories by their names (广场), never codes", r.status)
	}

	n := s.size()
	r := b.post("/cameras/new", cameraForm("东门", nil))
	m := locationID.FindStringSubmatch(r.res.Header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("POST /cameras/new = %d → %q; want 303 to the new camera\n%s", r.status, r.res.Header.Get("Location"), r.body)
	}
	id := m[1]
	c := w.camera(id)
	if c.OrganisationID != w.orgA || c.Name != "东门" || c.Lat != 27.8301 || !c.InterfaceReserved || c.Networked || c.SourceURL != "rtsp://u:pw@10.0.0.5/s" {
		t.Errorf("created camera = %+v; want op1's organisation, the form's values", c)
	}
	if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_create") {
		t.Errorf("trail after create = %v; want camera_create", got)
	}
	if p := b.get("/cameras/" + id + "?done=created"); !strings.Contains(p.body, "摄像机已登记") {
		t.Error("camera page after create does not say the camera was registered")
	}

	t.Run("refused by the policy", func(t *testing.T) {
		n := s.size()
		before := w.countCameras()
		r := b.post("/cameras/new", cameraForm("客房", func(f url.Values) { f.Set("place_category", "hotel_guest_room") }))
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="form-error"`) || !strings.Contains(r.body, `value="客房"`) {
			t.Errorf("POST a camera in a guest room = %d; want 422, the refusal on the form as filled in\n%s", r.status, r.body)
		}
		if w.countCameras() != before {
			t.Error("a refused camera was registered")
		}
		if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_create:denied") {
			t.Errorf("trail after the refusal = %v; want camera_create:denied", got)
		}
		if r := b.post("/cameras/new", cameraForm("x", func(f url.Values) { f.Set("lat", "north") })); r.status != http.StatusBadRequest || !strings.Contains(r.body, "纬度：请填写数字") {
			t.Errorf("POST with a latitude that is no number = %d; want 400 saying which field", r.status)
		}
	})

	t.Run("edit", func(t *testing.T) {
		form := b.get("/cameras/" + id + "/edit")
		if form.status != http.StatusOK || !strings.Contains(form.body, `value="东门"`) {
			t.Fatalf("GET edit = %d; want 200 with the camera's values", form.status)
		}
		mustNotContain(t, "edit form", form.body, "pw@")
		n := s.size()
		r := b.post("/cameras/"+id+"/edit", cameraForm("东门（新）", func(f url.Values) { f.Del("source_url"); f.Set("networked", "yes") }))
		if r.status != http.StatusSeeOther {
			t.Fatalf("POST edit = %d; want 303\n%s", r.status, r.body)
		}
		c := w.camera(id)
		if c.Name != "东门（新）" || !c.Networked || c.SourceURL != "rtsp://u:pw@10.0.0.5/s" {
			t.Errorf("edited camera = %q networked=%v source=%q; want renamed, networked, the source kept", c.Name, c.Networked, c.SourceURL)
		}
		if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_update") {
			t.Errorf("trail after edit = %v; want camera_update", got)
		}
	})

	t.Run("decommission", func(t *testing.T) {
		confirm := b.get("/cameras/" + id + "/decommission")
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `id="decommission-confirm"`) {
			t.Fatalf("GET decommission = %d; want the confirmation step", confirm.status)
		}
		if r := b.post("/cameras/"+id+"/decommission", nil); r.status != http.StatusBadRequest || w.camera(id).Status == registry.StatusDecommissioned {
			t.Errorf("POST decommission unconfirmed = %d; want 400 and the camera kept", r.status)
		}
		n := s.size()
		if r := b.post("/cameras/"+id+"/decommission", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
			t.Fatalf("POST decommission confirmed = %d; want 303", r.status)
		}
		if st := w.camera(id).Status; st != registry.StatusDecommissioned {
			t.Errorf("status after decommission = %s; want decommissioned", st)
		}
		if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_decommission") {
			t.Errorf("trail after decommission = %v; want camera_decommission", got)
		}
		if p := b.get("/cameras/" + id); strings.Contains(p.body, `id="camera-edit"`) {
			t.Error("a decommissioned camera's page still offers the edit link")
		}
		if r := b.get("/cameras/" + id + "/edit"); r.status != http.StatusConflict {
			t.Errorf("GET edit of a decommissioned camera = %d; want 409", r.status)
		}
	})
}

// postFile uploads a CSV import through the page's form.
func postFile(b *browser, path, csv string) resp {
	b.s.t.Helper()
	if b.cookie(auth.CSRFCookie) == "" {
		b.get("/login")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.cookie(auth.CSRFCookie))
	fw, _ := mw.CreateFormFile("file", "cameras.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest("POST", b.s.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// TestCameraImportAllOrNone: a file with bad rows imports nothing and lists every problem by
// row, in the reader's language; the same file corrected imports every row.
func TestCameraImportAllOrNone(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	b := s.loggedIn("op1")
	header := "name,investment,lat,lon,place_category\n"
	bad := header + "北门,government,27.83,113.15,public_square\n" +
		"客房,government,27.83,113.15,hotel_guest_room\n" +
		"南门,government,north,113.15,public_square\n" +
		"西门,government,27.84,113.16,main_road\n"
	before := w.countCameras()
	n := s.size()
	r := postFile(b, "/cameras/import", bad)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("import with bad rows = %d; want 422\n%s", r.status, r.body)
	}
	if w.countCameras() != before {
		t.Errorf("cameras after a refused import = %d; want %d (none imported)", w.countCameras(), before)
	}
	mustContain(t, "import report", r.body, `id="import-nothing"`, "未导入任何摄像机", `data-row="3" data-code="prohibited_place"`,
		`data-row="4" data-code="invalid"`, "禁止场所", "取值无效")
	mustNotContain(t, "import report", r.body, `data-row="2"`, `data-row="5"`)
	if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_import:denied") || slices.Contains(got, "camera_import") {
		t.Errorf("trail after the refused import = %v; want camera_import:denied only", got)
	}

	good := header + "北门,government,27.83,113.15,public_square\n西门,government,27.84,113.16,main_road\n"
	n = s.size()
	r = postFile(b, "/cameras/import", good)
	if r.status != http.StatusCreated || !strings.Contains(r.body, "已导入 2 台摄像机") {
		t.Fatalf("import of a good file = %d; want 201 saying 2 imported\n%s", r.status, r.body)
	}
	if got := w.countCameras(); got != before+2 {
		t.Errorf("cameras after the import = %d; want %d", got, before+2)
	}
	if got := actions(s.entriesSince(n)); !slices.Contains(got, "camera_import") {
		t.Errorf("trail after the import = %v; want camera_import", got)
	}
	if r := postFile(s.loggedIn("aud1"), "/cameras/import", good); r.status != http.StatusForbidden {
		t.Errorf("import as an auditor = %d; want 403", r.status)
	}
}

// TestCameraBulk: each selected camera gets its own change through the service, traced, with a
// result per camera; a camera of another organisation slipped into the form is reported, not
// changed.
func TestCameraBulk(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	cam2 := s.addCamera(w.orgA, "Gate A2", 27.831, 113.151, nil)
	b := s.loggedIn("op1")

	n := s.size()
	r := b.post("/cameras/bulk", url.Values{"action": {"networked"}, "camera_id": {w.camA, cam2, w.camB}})
	if r.status != http.StatusOK {
		t.Fatalf("bulk networked = %d\n%s", r.status, r.body)
	}
	for _, id := range []string{w.camA, cam2} {
		if !w.camera(id).Networked {
			t.Errorf("camera %s after bulk networked: not networked", id)
		}
		mustContain(t, "bulk result", r.body, `data-camera="`+id+`" data-ok="true"`)
	}
	if w.camera(w.camB).Networked {
		t.Error("bulk action networked another organisation's camera")
	}
	mustContain(t, "bulk result", r.body, `data-camera="`+w.camB+`" data-ok="false"`, "2 / 3 台已完成")
	var updates int
	for _, e := range s.entriesSince(n) {
		if e.Action == trace.ActionCameraUpdate && e.Outcome == trace.Allowed {
			updates++
		}
	}
	if updates != 2 {
		t.Errorf("camera_update entries after bulk networked = %d; want 2, one per camera", updates)
	}

	t.Run("maintenance", func(t *testing.T) {
		r := b.post("/cameras/bulk", url.Values{"action": {"maintenance"}, "detail": {"清洁镜头"}, "camera_id": {w.camA, cam2}})
		if r.status != http.StatusOK || strings.Count(r.body, `data-ok="true"`) != 2 {
			t.Fatalf("bulk maintenance = %d; want 2 cameras done\n%s", r.status, r.body)
		}
		for _, id := range []string{w.camA, cam2} {
			os, err := s.reg.WorkOrders(setupCtx, registry.Scope{All: true}, registry.WorkOrderFilter{CameraID: id})
			if err != nil || len(os) != 1 || os[0].Detail != "清洁镜头" {
				t.Errorf("work orders of %s = %v, %v; want one with the detail", id, os, err)
			}
		}
	})

	t.Run("group", func(t *testing.T) {
		grp, err := s.sharing.CreateGroup(setupCtx, w.users["op1"], sharing.GroupInput{Name: "gates", Kind: sharing.GroupPicked, CameraIDs: []string{w.camA}})
		if err != nil {
			t.Fatal(err)
		}
		if list := b.get("/cameras"); !strings.Contains(list.body, `<option value="`+grp.ID+`">gates</option>`) {
			t.Error("the bulk form does not offer the picked group")
		}
		n := s.size()
		r := b.post("/cameras/bulk", url.Values{"action": {"group"}, "group_id": {grp.ID}, "camera_id": {w.camA, cam2}})
		if r.status != http.StatusOK || !strings.Contains(r.body, "已在分组中") || !strings.Contains(r.body, "已加入分组") {
			t.Fatalf("bulk add to group = %d; want one already in, one added\n%s", r.status, r.body)
		}
		g, err := s.sharing.Group(setupCtx, w.users["op1"], grp.ID)
		if err != nil || !slices.Contains(g.CameraIDs, cam2) {
			t.Errorf("group after bulk add = %v, %v; want cam2 in it", g, err)
		}
		if got := actions(s.entriesSince(n)); slices.Index(got, "group_update") < 0 {
			t.Errorf("trail after bulk add = %v; want group_update", got)
		}
	})

	if r := b.post("/cameras/bulk", url.Values{"action": {"explode"}, "camera_id": {w.camA}}); r.status != http.StatusBadRequest {
		t.Errorf("bulk with an unknown action = %d; want 400", r.status)
	}
	if r := b.post("/cameras/bulk", url.Values{"action": {"networked"}}); r.status != http.StatusBadRequest {
		t.Errorf("bulk with no camera = %d; want 400", r.status)
	}
}

// TestCameraTree: the device tree groups the cameras the user sees by organisation and by place
// category, naming categories in the reader's language, never by code; every category of the
// packs carries both names.
func TestCameraTree(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	s.addCamera(w.orgA, "Road A", 27.835, 113.155, func(in *registry.CameraInput) {
		c := "main_road"
		in.PlaceCategory = &c
	})
	b := s.loggedIn("admin1")
	byOrg := b.get("/cameras/tree")
	if byOrg.status != http.StatusOK {
		t.Fatalf("GET /cameras/tree = %d", byOrg.status)
	}
	mustContain(t, "tree by organisation", byOrg.body, "PSB", "Hotel", "广场", "主要道路", "Gate A", "Road A", "Lobby B")
	byCat := b.get("/cameras/tree?by=category")
	mustContain(t, "tree by category", byCat.body, "公共安全重点区域", "广场", "主要道路")
	for _, p := range []resp{byOrg, byCat} {
		mustNotContain(t, "tree", p.body, ">public_square<", ">main_road<", "key_area<")
	}
	en := s.loggedIn("op1")
	en.get("/lang/en")
	p := en.get("/cameras/tree?by=category")
	mustContain(t, "English tree", p.body, "Public square", "Main road", "key public-safety areas")
	mustNotContain(t, "operator's tree", p.body, "Lobby B") // another organisation's, not shared
	if r := b.get("/cameras/tree?by=colour"); r.status != http.StatusBadRequest {
		t.Errorf("GET /cameras/tree?by=colour = %d; want 400", r.status)
	}
	names, err := fs.Glob(policies.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("the shipped packs: %v, %v", names, err)
	}
	for _, name := range names {
		data, err := policies.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := policy.Parse(data, name)
		if err != nil {
			t.Fatalf("policy.Parse(%s) = %v", name, err)
		}
		for _, c := range pk.Categories() {
			if c.Label == "" || c.LabelZH == "" {
				t.Errorf("pack %s: category %s has label %q, label_zh %q; want both", pk.Version(), c.ID, c.Label, c.LabelZH)
			}
		}
	}
}

// TestGroupEditDelete: groups are editable and deletable through the sharing service; a group a
// grant in force shares is kept with the reason; place categories are named, not coded.
func TestGroupEditDelete(t *testing.T) {
	w := newSharingWorld(t)
	s := w.s
	cam2 := s.addCamera(w.orgA, "Gate A2", 27.831, 113.151, nil)
	op := w.users["op1"]
	grp, err := s.sharing.CreateGroup(setupCtx, op, sharing.GroupInput{Name: "gates", Kind: sharing.GroupPicked, CameraIDs: []string{w.camA}})
	if err != nil {
		t.Fatal(err)
	}
	place, err := s.sharing.CreateGroup(setupCtx, op, sharing.GroupInput{Name: "squares", Kind: sharing.GroupPlace, Criterion: "public_square"})
	if err != nil {
		t.Fatal(err)
	}
	b := s.loggedIn("op1")
	list := b.get("/sharing/groups")
	mustContain(t, "groups page", list.body, `href="/sharing/groups/`+grp.ID+`"`, "广场")
	mustNotContain(t, "groups page", list.body, "<td>public_square</td>")

	n := s.size()
	r := b.post("/sharing/groups/"+grp.ID, url.Values{"name": {"all gates"}, "camera_id": {w.camA, cam2}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST group edit = %d\n%s", r.status, r.body)
	}
	g, _ := s.sharing.Group(setupCtx, op, grp.ID)
	if g.Name != "all gates" || len(g.CameraIDs) != 2 {
		t.Errorf("group after edit = %q %v; want renamed with 2 cameras", g.Name, g.CameraIDs)
	}
	if got := actions(s.entriesSince(n)); !slices.Contains(got, "group_update") {
		t.Errorf("trail after group edit = %v; want group_update", got)
	}
	if r := b.post("/sharing/groups/"+grp.ID, url.Values{"name": {""}, "camera_id": {w.camA}}); r.status != http.StatusBadRequest {
		t.Errorf("POST group edit with no name = %d; want 400", r.status)
	}
	if r := b.post("/sharing/groups/"+place.ID, url.Values{"name": {"roads"}, "criterion": {"main_road"}}); r.status != http.StatusSeeOther {
		t.Errorf("POST place group edit = %d; want 303", r.status)
	}

	grant, err := s.sharing.CreateGrant(setupCtx, op, sharing.GrantInput{GroupID: grp.ID, GranteeOrganisationID: w.orgC,
		Scopes: []string{"live"}, Purpose: "fixture", StartsAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.post("/sharing/groups/"+grp.ID+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusConflict || !strings.Contains(r.body, "请先撤销授权") {
		t.Errorf("delete of a group a grant shares = %d; want 409 with the reason", r.status)
	}
	if _, err := s.sharing.RevokeGrant(setupCtx, op, grant.ID); err != nil {
		t.Fatal(err)
	}
	if r := b.post("/sharing/groups/"+grp.ID+"/delete", nil); r.status != http.StatusBadRequest {
		t.Errorf("delete unconfirmed = %d; want 400", r.status)
	}
	n = s.size()
	if r := b.post("/sharing/groups/"+grp.ID+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete = %d; want 303", r.status)
	}
	if got := actions(s.entriesSince(n)); !slices.Contains(got, "group_delete") {
		t.Errorf("trail after delete = %v; want group_delete", got)
	}
	if list := b.get("/sharing/groups?done=deleted"); strings.Contains(list.body, grp.ID) || !strings.Contains(list.body, "分组已删除") {
		t.Error("groups page after delete lists the group or does not say it was deleted")
	}
	for _, who := range []string{"opC", "aud1"} {
		want := map[string]int{"opC": http.StatusNotFound, "aud1": http.StatusForbidden}[who]
		if r := s.loggedIn(who).post("/sharing/groups/"+place.ID, url.Values{"name": {"mine"}}); r.status != want {
			t.Errorf("group edit by %s = %d; want %d", who, r.status, want)
		}
	}
}
