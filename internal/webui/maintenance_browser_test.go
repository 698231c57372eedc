package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestBrowserMaintenance: an operator, in chromium, opens the maintenance list from the menu,
// marks an open work order done with notes, and finds it in the camera page's history next to
// the sign's photo.
func TestBrowserMaintenance(t *testing.T) {
	skipWithoutBrowser(t)
	s := newStack(t)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, org)
	cam := s.addCamera(org, "火车站广场", 27.8305, 113.1510, nil)
	signFixture(t, s, cam)
	br := newChromium(t, 90*time.Second)
	br.login(s.srv.URL, "op1", "#logout")
	br.do("open the maintenance list from the menu",
		chromedp.Click(chromedp.CSS(`nav a[href="/maintenance"]`)),
		chromedp.WaitVisible(chromedp.CSS("#orders-open")),
	)
	br.do("mark the order done",
		chromedp.SendKeys(chromedp.CSS(`#orders-open input[name=notes]`), "擦拭镜头"),
		chromedp.Click(chromedp.CSS(`#orders-open .order-done button`)),
		chromedp.WaitVisible(chromedp.CSS("#orders-done")),
	)
	if got := br.evalString(`document.querySelector("#orders-done").textContent`); !strings.Contains(got, "擦拭镜头") {
		t.Errorf("camera page history reads %q; want the notes", got)
	}
	if w := br.eval(`document.querySelector("#sign-photo").naturalWidth`); w != 8 {
		t.Errorf("sign photo width = %v; want 8 (the photo shown)", w)
	}
}
