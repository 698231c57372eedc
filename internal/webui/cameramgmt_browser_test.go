package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestBrowserCameraManagement: an operator, in chromium, adds a camera through the form, edits
// it, marks it and another camera networked from the list in one bulk action, and decommissions
// it through the confirmation step.
func TestBrowserCameraManagement(t *testing.T) {
	skipWithoutBrowser(t)
	s := newStack(t)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, org)
	other := s.addCamera(org, "火车站广场", 27.8305, 113.1510, nil)
	br := newChromium(t, 90*time.Second)
	br.login(s.srv.URL, "op1", "#logout")
	br.do("add a camera through the form",
		chromedp.Navigate(s.srv.URL+"/cameras"),
		chromedp.Click(chromedp.CSS("#camera-new")),
		chromedp.WaitVisible(chromedp.CSS("#camera-form")),
		chromedp.SendKeys(chromedp.CSS("#f-name"), "神农公园东门"),
		chromedp.SetValue(chromedp.CSS("#f-category"), "public_square"),
		chromedp.SendKeys(chromedp.CSS("#f-lat"), "27.8312"),
		chromedp.SendKeys(chromedp.CSS("#f-lon"), "113.1523"),
		chromedp.SendKeys(chromedp.CSS("#f-bearing"), "90"),
		chromedp.SendKeys(chromedp.CSS("#f-fov"), "60"),
		chromedp.SendKeys(chromedp.CSS("#f-range"), "50"),
		chromedp.SendKeys(chromedp.CSS("#f-source"), "rtsp://10.0.0.7/stream"),
		chromedp.Click(chromedp.CSS("#camera-save")),
		chromedp.WaitVisible(chromedp.CSS("#camera-done")),
	)
	if got := br.evalString(`document.querySelector("#camera-name").textContent`); got != "神农公园东门" {
		t.Fatalf("camera page after add names %q; want the new camera", got)
	}
	id := strings.TrimPrefix(br.evalString(`location.pathname`), "/cameras/")
	br.do("edit it",
		chromedp.Click(chromedp.CSS("#camera-edit")),
		chromedp.WaitVisible(chromedp.CSS("#camera-form")),
		chromedp.SetValue(chromedp.CSS("#f-name"), "神农公园东门（北侧）"),
		chromedp.Click(chromedp.CSS("#camera-save")),
		chromedp.WaitVisible(chromedp.CSS("#camera-done")),
	)
	if got := br.evalString(`document.querySelector("#camera-name").textContent`); got != "神农公园东门（北侧）" {
		t.Errorf("camera page after edit names %q; want the new name", got)
	}
	br.do("mark both cameras networked from the list",
		chromedp.Navigate(s.srv.URL+"/cameras"),
		chromedp.WaitVisible(chromedp.CSS("#bulk-form")),
		chromedp.Click(chromedp.CSS(`input.bulk-pick[value="`+id+`"]`)),
		chromedp.Click(chromedp.CSS(`input.bulk-pick[value="`+other+`"]`)),
		chromedp.SetValue(chromedp.CSS("#bulk-action"), "networked"),
		chromedp.Click(chromedp.CSS("#bulk-submit")),
		chromedp.WaitVisible(chromedp.CSS("#bulk-results")),
	)
	if n := br.eval(`document.querySelectorAll('#bulk-results tr[data-ok="true"]').length`); n != 2 {
		t.Errorf("bulk results done = %v; want 2", n)
	}
	for _, cid := range []string{id, other} {
		if c, err := s.reg.Camera(setupCtx, registry.Scope{All: true}, cid); err != nil || !c.Networked {
			t.Errorf("camera %s after the bulk action: %v, %v; want networked", cid, c, err)
		}
	}
	br.do("decommission it after confirming",
		chromedp.Navigate(s.srv.URL+"/cameras/"+id),
		chromedp.Click(chromedp.CSS("#camera-decommission")),
		chromedp.WaitVisible(chromedp.CSS("#decommission-form")),
		chromedp.Click(chromedp.CSS("#decommission-confirm")),
		chromedp.Click(chromedp.CSS("#decommission-submit")),
		chromedp.WaitVisible(chromedp.CSS("#camera-done")),
	)
	if c, err := s.reg.Camera(setupCtx, registry.Scope{All: true}, id); err != nil || c.Status != registry.StatusDecommissioned {
		t.Errorf("camera after decommissioning: %v, %v; want decommissioned", c, err)
	}
	if n := br.eval(`document.querySelectorAll("#camera-edit").length`); n != 0 {
		t.Errorf("decommissioned camera's page offers %v edit links; want 0", n)
	}
}
