package webui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserApplicationPath drives chromium through the whole lost-person path: the applicant
// registers from the portal with the code from the outbox and applies; a pet case is refused
// with its reason; the reviewer accepts, searches candidates, plays a candidate's recording
// inside the window and is refused outside it and on an unrelated camera; writes the result;
// the applicant then sees the notice and nothing of the police side.
func TestBrowserApplicationPath(t *testing.T) {
	skipWithoutBrowser(t)
	s := newAppStack(t, true)
	shots := os.Getenv(EnvScreenshots)
	br := newChromium(t, 120*time.Second)
	ctx := br.ctx
	do := br.do
	evalF := br.eval
	evalS := br.evalString
	shot := func(name string) {
		if shots == "" {
			return
		}
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "application-"+name+".png"), png, 0o644)
		}
	}
	login := func(username string, then string) {
		t.Helper()
		br.login(s.srv.URL, username, "#logout")
		if then != "" {
			do("open "+then, chromedp.Navigate(s.srv.URL+then), chromedp.WaitReady(chromedp.CSS("main")))
		}
	}
	logout := br.logout

	// The applicant: portal → register → code → log in → the form.
	do("register from the portal",
		chromedp.Navigate(s.srv.URL+"/portal"),
		chromedp.WaitVisible(chromedp.CSS("#portal-stats-table")),
		chromedp.Click(chromedp.CSS("#portal-register")),
		chromedp.WaitVisible(chromedp.CSS("#register-form")),
		chromedp.SendKeys(chromedp.CSS("#reg-username"), "mother1"),
		chromedp.SendKeys(chromedp.CSS("#reg-password"), password),
		chromedp.SendKeys(chromedp.CSS("#reg-contact"), "mother@example.cn"),
		chromedp.Click(chromedp.CSS("#register-submit")),
		chromedp.WaitVisible(chromedp.CSS("#verify-form")),
	)
	regID := evalS(`document.querySelector("#verify-form input[name=registration_id]").value`)
	do("enter the code and log in",
		chromedp.SendKeys(chromedp.CSS("#code"), s.code(regID)),
		chromedp.Click(chromedp.CSS("#verify-submit")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), "mother1"),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#apply-form")),
	)
	lastSeen := time.Now().Add(-10 * time.Minute).UTC().Format("2006-01-02T15:04")
	do("apply for a lost pet",
		chromedp.SetValue(chromedp.CSS("#relationship"), "guardian"),
		chromedp.SetValue(chromedp.CSS("#subject"), "pet"),
		chromedp.SetValue(chromedp.CSS("#last-seen"), lastSeen),
		chromedp.SendKeys(chromedp.CSS("#address"), "Shennong Park east gate"),
		chromedp.SendKeys(chromedp.CSS("#lat"), fmt.Sprint(lastSeenLat)),
		chromedp.SendKeys(chromedp.CSS("#lon"), fmt.Sprint(lastSeenLon)),
		chromedp.SendKeys(chromedp.CSS("#description"), "grey coat, walking stick"),
		chromedp.Click(chromedp.CSS("#apply-submit")),
		chromedp.WaitVisible(chromedp.CSS("#refusal")),
	)
	if reason, refer := evalS(`document.getElementById("refusal-reason").textContent`), evalS(`document.getElementById("refer-to").textContent`); !strings.Contains(reason, "pet") || !strings.Contains(refer, "110") {
		t.Errorf("pet refusal reads %q / %q; want the reason and the police", reason, refer)
	}
	shot("refused")
	doc := filepath.Join(t.TempDir(), "id.png")
	os.WriteFile(doc, pngBytes, 0o644)
	do("apply for a lost elderly person and upload a document",
		chromedp.SetValue(chromedp.CSS("#subject"), "elderly"),
		chromedp.SendKeys(chromedp.CSS("#relationship-detail"), "daughter"),
		chromedp.Click(chromedp.CSS("#apply-submit")),
		chromedp.WaitVisible(chromedp.CSS("#submitted")),
		chromedp.SetUploadFiles(chromedp.CSS("#doc-file"), []string{doc}),
		chromedp.Click(chromedp.CSS("#upload-submit")),
		chromedp.WaitVisible(chromedp.CSS("#uploaded")),
	)
	id := strings.TrimPrefix(evalS(`location.pathname`), "/applications/")
	if strings.Contains(id, "/") || id == "" {
		t.Fatalf("application page at %q", evalS(`location.pathname`))
	}
	logout()

	// The reviewer.
	login("rev1", "/applications")
	do("accept and search",
		chromedp.Click(chromedp.CSS(`#review-queue a[data-id="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#decision-form")),
		// The identity document is uploaded; the relationship's was shown at the desk.
		chromedp.SendKeys(chromedp.CSS("#shown-note-relationship"), "household register seen"),
		chromedp.Click(chromedp.CSS("#shown-submit-relationship")),
		chromedp.WaitVisible(chromedp.CSS(`#required-documents li[data-kind="relationship"][data-provided="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#decision-reason"), "eligible, documents in order"),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.WaitVisible(chromedp.CSS("#search-candidates")),
		chromedp.Click(chromedp.CSS("#search-candidates")),
		chromedp.WaitVisible(chromedp.CSS("#candidate-table")),
	)
	if n := evalF(`document.querySelectorAll("#candidate-table .candidate-link").length`); n != 1 {
		t.Errorf("candidates shown = %v; want 1 (the near camera)", n)
	}
	shot("candidates")
	do("play a candidate's recording",
		chromedp.Click(chromedp.CSS("#candidate-0-range-0")),
		chromedp.WaitVisible(chromedp.CSS("#playback-video")),
	)
	if got := evalS(`document.getElementById("play-application").value`); got != id {
		t.Errorf("camera page's application field = %q; want %s", got, id)
	}
	deadline := time.Now().Add(30 * time.Second)
	for evalF(`document.getElementById("playback-video").readyState`) < 2 || evalF(`document.getElementById("playback-video").currentTime`) < 0.5 {
		if code := evalF(`document.getElementById("playback-video").error ? document.getElementById("playback-video").error.code : 0`); code != 0 {
			t.Fatalf("video element error code %v (src %s)", code, evalS(`document.getElementById("playback-video").src`))
		}
		if time.Now().After(deadline) {
			t.Fatalf("video did not play: readyState %v, currentTime %v", evalF(`document.getElementById("playback-video").readyState`),
				evalF(`document.getElementById("playback-video").currentTime`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	shot("playback")
	// Outside the window, and on a camera the search did not propose: refused.
	seen, _ := time.Parse("2006-01-02T15:04", lastSeen)
	before := seen.Add(-time.Hour - 10*time.Minute)
	first := s.segs[0]
	for _, tc := range []struct {
		name, cam  string
		start, end time.Time
	}{
		{"before the window", s.near, before, before.Add(5 * time.Minute)},
		{"unrelated camera", s.far, first.Start, first.End},
	} {
		q := fmt.Sprintf(`fetch("/api/v1/cameras/%s/playback.mp4?start=%s&end=%s&purpose=x&application_id=%s").then(r => r.status)`,
			tc.cam, tc.start.UTC().Format(time.RFC3339), tc.end.UTC().Format(time.RFC3339), id)
		if got := evalF(q); got != 403 {
			t.Errorf("playback %s in the browser = %v; want 403", tc.name, got)
		}
	}
	do("record a finding and the result",
		chromedp.Navigate(s.srv.URL+"/applications/"+id),
		chromedp.WaitVisible(chromedp.CSS("#finding-form")),
		chromedp.SendKeys(chromedp.CSS("#finding-body"), "finding-secret: seen passing the east gate camera"),
		chromedp.Click(chromedp.CSS("#finding-submit")),
		chromedp.WaitVisible(chromedp.CSS("#finding-list")),
		chromedp.SetValue(chromedp.CSS("#outcome"), "sighted"),
		chromedp.SendKeys(chromedp.CSS("#notice"), "She was seen walking north on Shennong Road."),
		chromedp.Click(chromedp.CSS("#result-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#notice-list li[data-status="draft"]`)),
	)
	if n := evalF(`document.querySelectorAll(".approve-notice").length`); n != 0 {
		t.Errorf("the author is offered %v approve buttons; want none", n)
	}
	logout()
	// A second reviewer approves: the notice is sent.
	approve := func(who string) {
		login(who, "/applications/"+id)
		do("approve as "+who,
			chromedp.WaitVisible(chromedp.CSS(".approve-notice")),
			chromedp.Click(chromedp.CSS(".approve-notice")),
			chromedp.WaitVisible(chromedp.CSS(`#notice-list li[data-status="sent"]`)),
		)
	}
	approve("rev2")
	logout()

	// The applicant sees the notice, and nothing of the police side.
	login("mother1", "/applications")
	do("open the application",
		chromedp.Click(chromedp.CSS("#my-applications a.application-link")),
		chromedp.WaitVisible(chromedp.CSS("#result-notice")),
	)
	if got := evalS(`document.getElementById("result-notice").textContent`); !strings.Contains(got, "Shennong Road") {
		t.Errorf("applicant's notice reads %q", got)
	}
	if n := evalF(`document.querySelectorAll("video, img, #candidate-table, #finding-list").length`); n != 0 {
		t.Errorf("applicant's page has %v video, image, candidate or finding elements; want none", n)
	}
	shot("notice")
	s.leakCheck("applicant's page in the browser", evalS(`document.documentElement.outerHTML`), "finding-secret", "eligible, documents in order")
	logout()

	// A correction, written by rev1 and approved by rev2; the guardian sees it marked, and the
	// first notice superseded.
	login("rev1", "/applications/"+id)
	do("write a correction",
		chromedp.WaitVisible(chromedp.CSS("#result-form")),
		chromedp.SetValue(chromedp.CSS("#outcome"), "found"),
		chromedp.SendKeys(chromedp.CSS("#notice"), "Correction: she was found safe and is at home."),
		chromedp.Click(chromedp.CSS("#result-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#notice-list li[data-status="draft"]`)),
	)
	logout()
	approve("rev2")
	logout()
	login("mother1", "/applications/"+id)
	do("see the correction",
		chromedp.WaitVisible(chromedp.CSS("#result-correction")),
		chromedp.WaitVisible(chromedp.CSS("#superseded-notices")),
	)
	if got := evalS(`document.getElementById("result-notice").textContent`); !strings.Contains(got, "found safe and is at home") {
		t.Errorf("applicant's corrected notice reads %q", got)
	}
	if got := evalS(`document.getElementById("superseded-notices").textContent`); !strings.Contains(got, "Shennong Road") {
		t.Errorf("superseded notices read %q; want the first notice", got)
	}
	shot("correction")
	s.leakCheck("applicant's corrected page in the browser", evalS(`document.documentElement.outerHTML`), "finding-secret", "eligible, documents in order")
}
