package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserNewUserRoleIsChosen checks that the new-user form does not start on the admin
// role: the role is a choice the admin makes, and the form is not sent without one.
func TestBrowserNewUserRoleIsChosen(t *testing.T) {
	skipWithoutBrowser(t)
	w := newSharingWorld(t)
	br := newChromium(t, 60*time.Second)
	br.login(w.s.srv.URL, "admin1", "#logout")
	br.do("open the users page", chromedp.Navigate(w.s.srv.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("#create-user")))
	if got := br.evalString(`document.querySelector("#create-user select[name=role]").value`); got != "" {
		t.Errorf("new-user form's role starts as %q; want none chosen", got)
	}
	br.do("send the form without a role",
		chromedp.SendKeys(chromedp.CSS(`#create-user input[name=username]`), "newbie"),
		chromedp.SendKeys(chromedp.CSS(`#create-user input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`#create-user button[type=submit]`)),
	)
	if v := br.eval(`document.querySelector("#create-user select[name=role]").validity.valueMissing ? 1 : 0`); v != 1 {
		t.Errorf("role select valueMissing = %v; want 1 (the browser holds the form back)", v)
	}
	us, err := w.s.accounts.Users(setupCtx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == "newbie" {
			t.Errorf("a user was created without a role being chosen: role %s", u.Role)
		}
	}
}

// TestBrowserRevokeAsksFirst checks that revoking a grant asks for confirmation, naming the
// grantee: a refused confirmation sends nothing, an accepted one revokes.
func TestBrowserRevokeAsksFirst(t *testing.T) {
	skipWithoutBrowser(t)
	w := newSharingWorld(t)
	g := w.grant("owner1", []string{w.camB}, w.orgC, "live")
	br := newChromium(t, 60*time.Second)
	br.login(w.s.srv.URL, "owner1", "#logout")
	br.do("open the grants page", chromedp.Navigate(w.s.srv.URL+"/sharing/grants"), chromedp.WaitVisible(chromedp.CSS("#grants-table")))
	sel := `tr[data-grant="` + g.ID + `"] button.revoke`
	br.do("decline the confirmation",
		chromedp.Evaluate[chromedp.Void](`window.asked = ""; window.confirm = m => { window.asked = m; return false; }`),
		chromedp.Click(chromedp.CSS(sel)),
	)
	time.Sleep(300 * time.Millisecond) // a form sent in spite of the refusal would be on its way
	if asked := br.evalString(`window.asked`); !strings.Contains(asked, "Shop Co") {
		t.Errorf("revocation asked %q; want a confirmation naming the grantee", asked)
	}
	if got, err := w.s.sharing.Grant(setupCtx, w.users["owner1"], g.ID); err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("grant after a declined confirmation: revoked at %v, %v; want still in force", got.RevokedAt, err)
	}
	br.do("accept the confirmation",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if got, err := w.s.sharing.Grant(setupCtx, w.users["owner1"], g.ID); err != nil || got.RevokedAt.IsZero() {
		t.Errorf("grant after an accepted confirmation: revoked at %v, %v; want revoked", got.RevokedAt, err)
	}
}

// TestBrowserSharedCameraListed checks that a camera shared with an organisation is in its
// operator's camera list and map, marked shared with the grant's scopes and end, and that the
// grants page names it rather than showing its id.
func TestBrowserSharedCameraListed(t *testing.T) {
	skipWithoutBrowser(t)
	w := newSharingWorld(t)
	w.grant("owner1", []string{w.camB}, w.orgC, "live", "playback")
	br := newChromium(t, 60*time.Second)
	br.login(w.s.srv.URL, "opC", "#logout")
	br.do("open the camera list", chromedp.Navigate(w.s.srv.URL+"/cameras"), chromedp.WaitVisible(chromedp.CSS("#camera-table")))
	row := br.evalString(`(document.querySelector("#camera-table tr[data-shared=true]") || {textContent: ""}).textContent`)
	for _, want := range []string{"Lobby B", "shared", "Live", "Playback", "open-ended"} {
		if !strings.Contains(strings.ToLower(row), strings.ToLower(want)) {
			t.Errorf("shared camera's row reads %q; want %q in it", row, want)
		}
	}
	if n := br.eval(`document.querySelectorAll('svg.map a.map-cam[data-camera="` + w.camB + `"]').length`); n != 1 {
		t.Errorf("shared camera on the map %v times; want 1", n)
	}
	br.do("open the grants page", chromedp.Navigate(w.s.srv.URL+"/sharing/grants"), chromedp.WaitVisible(chromedp.CSS("#grants-table")))
	if got := br.evalString(`document.getElementById("grants-table").textContent`); !strings.Contains(got, "Lobby B") || strings.Contains(got, w.camB) {
		t.Errorf("grantee's grants page reads %q; want the camera's name, not its id %s", got, w.camB)
	}
}
