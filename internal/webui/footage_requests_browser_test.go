package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserOwnerApprovesFootageRequest: the hotel's operator, in chromium, finds the police's
// footage request from the menu, approves it with a note, and sees it approved; the reviewer's
// candidates then mark the lobby camera open.
func TestBrowserOwnerApprovesFootageRequest(t *testing.T) {
	skipWithoutBrowser(t)
	s, id, lobby, rev := footageRequestWorld(t)
	br := newChromium(t, 90*time.Second)
	br.login(s.srv.URL, "hotel-op", "#logout")
	br.do("open the footage requests from the menu",
		chromedp.Click(chromedp.CSS(`nav a[href="/footage-requests"]`)),
		chromedp.WaitVisible(chromedp.CSS("#footage-requests")),
	)
	if got := br.evalString(`document.querySelector("#footage-requests .request-status").dataset.status`); got != "pending" {
		t.Fatalf("request status = %q; want pending", got)
	}
	br.do("approve with a note",
		chromedp.SendKeys(chromedp.CSS(`#footage-requests input[name=note]`), "lobby only"),
		chromedp.Click(chromedp.CSS(`#footage-requests .approve-request`)),
		chromedp.WaitVisible(chromedp.CSS(`#footage-requests .request-status[data-status=approved]`)),
	)
	if got := br.evalString(`document.querySelector("#footage-requests").textContent`); !strings.Contains(got, "lobby only") {
		t.Errorf("approved request shows %q; want the note", got)
	}
	r := rev.post("/applications/"+id+"/candidates", nil)
	mustContain(t, "candidates after approval", r.body, `data-camera="`+lobby+`"`, `data-basis="footage_request_approved"`)
}
