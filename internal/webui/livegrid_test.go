package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestLiveGridPage: the grid page draws the layout and the tiles' cameras from its query, offers
// only the cameras the user may watch live, saves a view of the user's own and opens it again;
// another user neither sees nor opens nor deletes it (not found, traced as a denied access).
// Reviewers and auditors, who never watch live, get no grid.
func TestLiveGridPage(t *testing.T) {
	s := newStack(t)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	hotel := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	active := registry.StatusActive
	activate := func(in *registry.CameraInput) { in.Status = &active }
	cam1 := s.addCamera(org, "火车站广场", 27.83, 113.15, activate)
	cam2 := s.addCamera(org, "神农公园东门", 27.835, 113.158, activate)
	private := s.addCamera(hotel, "Lobby", 27.84, 113.16, func(in *registry.CameraInput) {
		inv, cat := registry.InvestmentPrivate, "hotel_lobby"
		in.Status, in.Investment, in.PlaceCategory = &active, &inv, &cat
	})
	s.addUser("op1", auth.RoleOperator, org)
	s.addUser("op2", auth.RoleOperator, org)
	s.addUser("rev1", auth.RoleReviewer, "")
	s.addUser("aud1", auth.RoleAuditor, "")

	op1 := s.loggedIn("op1")
	op1.header.Set("Accept-Language", "en")
	p := op1.get("/live?layout=9&camera=" + cam1 + "&camera=&camera=" + cam2)
	if p.status != http.StatusOK {
		t.Fatalf("GET /live = %d\n%s", p.status, p.body)
	}
	mustContain(t, "the grid page", p.body, `class="lg-tiles lg-9"`, `id="tile-0" data-tile="0" data-camera="`+cam1+`"`,
		`id="tile-2" data-tile="2" data-camera="`+cam2+`"`, `id="tile-9" data-tile="9" data-camera="" hidden`, "火车站广场", `href="/live"`)
	mustNotContain(t, "the grid page", p.body, private, "Lobby", "s3cr3t-pw")

	n := s.size()
	save := op1.post("/live/views", url.Values{"name": {"Station"}, "layout": {"9"}, "camera": {cam1, "", cam2}})
	if save.status != http.StatusSeeOther || !strings.HasPrefix(save.res.Header.Get("Location"), "/live?view=") {
		t.Fatalf("save view = %d %s; want 303 to the view", save.status, save.res.Header.Get("Location"))
	}
	if es := s.entriesSince(n); len(es) != 0 {
		t.Errorf("saving a view traced %v; a layout is no look", actions(es))
	}
	viewPath := save.res.Header.Get("Location")
	viewID := strings.TrimSuffix(strings.TrimPrefix(viewPath, "/live?view="), "&done=saved")
	p = op1.get(viewPath)
	mustContain(t, "the saved view", p.body, `class="lg-tiles lg-9"`, `data-camera="`+cam2+`"`, `id="grid-notice"`, `href="/live?view=`+viewID+`"`,
		`value="Station"`)
	// A camera the user may not watch is refused, in the reader's words.
	bad := op1.post("/live/views", url.Values{"name": {"x"}, "layout": {"4"}, "camera": {private}})
	if bad.status != http.StatusBadRequest {
		t.Errorf("save a view of another organisation's camera = %d; want 400", bad.status)
	}
	mustContain(t, "the refused save", bad.body, "Put at least one camera you may watch live into the view.")

	op2 := s.loggedIn("op2")
	mustNotContain(t, "op2's grid page", op2.get("/live").body, viewID, "Station")
	n = s.size()
	if p := op2.get("/live?view=" + viewID); p.status != http.StatusNotFound {
		t.Errorf("op2 opens op1's view = %d; want 404", p.status)
	}
	if p := op2.post("/live/views/"+viewID+"/delete", nil); p.status != http.StatusNotFound {
		t.Errorf("op2 deletes op1's view = %d; want 404", p.status)
	}
	if got := actions(s.entriesSince(n)); len(got) != 2 || got[0] != "access_denied:denied" || got[1] != "access_denied:denied" {
		t.Errorf("op2's attempts traced %v; want two access_denied:denied", got)
	}
	if p := op1.get(viewPath); p.status != http.StatusOK {
		t.Errorf("op1's view after op2's attempt = %d; want 200", p.status)
	}
	if p := op1.post("/live/views/"+viewID+"/delete", nil); p.status != http.StatusSeeOther {
		t.Errorf("op1 deletes its view = %d; want 303", p.status)
	}
	if p := op1.get(viewPath); p.status != http.StatusNotFound {
		t.Errorf("the deleted view = %d; want 404", p.status)
	}

	for _, who := range []string{"rev1", "aud1"} {
		b := s.loggedIn(who)
		if p := b.get("/live"); p.status != http.StatusForbidden {
			t.Errorf("%s GET /live = %d; want 403", who, p.status)
		}
		mustNotContain(t, who+"'s menu", b.get("/me").body, `href="/live"`)
	}
	mustContain(t, "op1's menu", op1.get("/me").body, `href="/live"`)
	zh := s.loggedIn("op1")
	zh.header.Set("Accept-Language", "zh-CN")
	mustContain(t, "the Chinese grid page", zh.get("/live").body, "多画面实时监看", "全部实时播放", "已保存的视图")
}
