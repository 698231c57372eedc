package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestBrowserDuplicateAndCoverage drives Chromium through issue 17's main pages: an operator
// finds its planned camera duplicates a public-security camera, the public security organ
// approves its construction, and the key places' coverage page draws the gap on its map.
func TestBrowserDuplicateAndCoverage(t *testing.T) {
	skipWithoutBrowser(t)
	s := newStack(t)
	psb := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	um := s.addOrg("城市管理局", registry.KindDepartment, "urban_management")
	s.addUser("umop", auth.RoleOperator, um)
	s.addUser("psbadmin", auth.RoleAdmin, psb)
	active := registry.StatusActive
	s.addCamera(psb, "火车站广场", 27.8305, 113.1510, func(in *registry.CameraInput) { in.Status = &active })
	cam := s.addCamera(um, "火车站广场（城管）", 27.8305, 113.1510, nil)
	if _, err := s.reg.ImportPlaces(setupCtx, "csv", strings.NewReader("name,place_category,lat,lon\nRiver dike,flood_control_area,27.85,113.17\n")); err != nil {
		t.Fatal(err)
	}
	br := newChromium(t, 60*time.Second)

	br.login(s.srv.URL, "umop", "#camera-table")
	br.do("open the planned camera and its duplicate check",
		chromedp.Navigate(s.srv.URL+"/cameras/"+cam),
		chromedp.WaitVisible(chromedp.CSS("#duplicate-link")),
		chromedp.Click(chromedp.CSS("#duplicate-link")),
		chromedp.WaitVisible(chromedp.CSS("#duplicate-table")),
	)
	if got := br.evalString(`document.querySelector("#duplicate-table").innerText`); !strings.Contains(got, "株洲市公安局") || !strings.Contains(got, "100%") {
		t.Errorf("duplicate table reads %q; want the PSB camera at 100%%", got)
	}
	if n := br.eval(`document.querySelectorAll("#duplicate-warning").length + document.querySelectorAll("#construction-decision").length`); n != 1 {
		t.Errorf("warning and decision form on the operator's page = %v; want the warning alone", n)
	}
	br.logout()

	br.login(s.srv.URL, "psbadmin", "#camera-table")
	br.do("approve the construction",
		chromedp.Navigate(s.srv.URL+"/cameras/"+cam+"/duplicates"),
		chromedp.WaitVisible(chromedp.CSS("#construction-approve")),
		chromedp.SendKeys(chromedp.CSS(`#construction-decision input[name="note"]`), "night coverage of the square"),
		chromedp.Click(chromedp.CSS("#construction-approve")),
		chromedp.WaitVisible(chromedp.CSS("#duplicate-clear")),
	)
	if got := br.evalString(`document.querySelector("#duplicate-approval").innerText`); !strings.Contains(got, "night coverage") {
		t.Errorf("approval line reads %q; want the note", got)
	}
	br.do("open the coverage report", chromedp.Navigate(s.srv.URL+"/coverage"), chromedp.WaitVisible(chromedp.CSS("#coverage-table")))
	if n := br.eval(`document.querySelectorAll("svg.map g.map-place.place-uncovered").length`); n != 1 {
		t.Errorf("uncovered places on the map = %v; want 1", n)
	}
}
