package webui

import (
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
