package webui

import (
	"civicam/internal/auth"
	"civicam/internal/health"
	"civicam/internal/live"
	"civicam/internal/registry"
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

// fakeHealth is a recorder's view of the cameras for the pages, by camera id; a camera it does
// not know is not assigned.
type fakeHealth map[string]health.Status

func (f fakeHealth) Of(c *registry.Camera) health.Status {
	if st, ok := f[c.ID]; ok {
		return st
	}
	return health.New(nil).Of(c)
}

func (f fakeHealth) Down() []string {
	var ids []string
	for id, st := range f {
		if st.Down() {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestBrowserCameraHealth checks that a camera whose source refuses connections reads offline,
// with the recorder's reason, in the camera list, on the map and in the offline-cameras view,
// where a recording camera is not; and that a camera that is not networked says why nothing
// plays, its live form disabled.
func TestBrowserCameraHealth(t *testing.T) {
	skipWithoutBrowser(t)
	hs := fakeHealth{}
	s := newStack(t, stackOpt{with: func(d *Deps) { d.Health = hs }})
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("op1", auth.RoleOperator, org)
	active := registry.StatusActive
	networked := func(in *registry.CameraInput) {
		yes := true
		in.Status, in.Networked = &active, &yes
	}
	refusing := s.addCamera(org, "Refusing Gate", 27.8305, 113.1510, networked)
	recording := s.addCamera(org, "Recording Square", 27.8350, 113.1580, networked)
	unwired := s.addCamera(org, "Unwired Lane", 27.8330, 113.1550, func(in *registry.CameraInput) { in.Status = &active })
	since := time.Now().Add(-20 * time.Minute)
	hs[refusing] = health.Status{CameraID: refusing, State: health.Offline, Since: since, Reason: "connection refused"}
	hs[recording] = health.Status{CameraID: recording, State: health.Recording, Since: since}

	br := newChromium(t, 60*time.Second)
	br.login(s.srv.URL, "op1", "#camera-table")
	cell := func(id string) string {
		return br.evalString(`(document.querySelector('#camera-table a[href="/cameras/` + id + `"]').closest("tr").querySelector(".health") || {textContent: ""}).textContent`)
	}
	if got := cell(refusing); !strings.Contains(got, "offline") || !strings.Contains(got, "connection refused") {
		t.Errorf("refusing camera's connection reads %q; want offline with the reason", got)
	}
	if got := cell(recording); !strings.Contains(got, "recording") {
		t.Errorf("recording camera's connection reads %q; want recording", got)
	}
	if got := cell(unwired); !strings.Contains(got, "not networked") {
		t.Errorf("unwired camera's connection reads %q; want not networked", got)
	}
	if got := br.evalString(`document.querySelector('svg.map a.map-cam[data-camera="` + refusing + `"]').dataset.health || ""`); got != "offline" {
		t.Errorf("refusing camera on the map: health %q; want offline", got)
	}
	br.do("open the offline cameras", chromedp.Click(chromedp.CSS("#down-cameras")), chromedp.WaitVisible(chromedp.CSS("#all-cameras")))
	if got := br.evalString(`document.getElementById("camera-table") ? document.getElementById("camera-table").textContent : ""`); !strings.Contains(got, "Refusing Gate") || strings.Contains(got, "Recording Square") || strings.Contains(got, "Unwired Lane") {
		t.Errorf("offline cameras view reads %q; want the refusing camera alone", got)
	}
	br.do("the dashboard's health tile", chromedp.Navigate(s.srv.URL+"/compliance"), chromedp.WaitVisible(chromedp.CSS("#health-tile")))
	if got := br.evalString(`(document.getElementById("health-down") || {textContent: ""}).textContent`); !strings.HasPrefix(got, "1 ") {
		t.Errorf("dashboard's health tile reads %q; want 1 camera down", got)
	}
	br.do("open the unwired camera", chromedp.Navigate(s.srv.URL+"/cameras/"+unwired), chromedp.WaitVisible(chromedp.CSS("#not-playing")))
	if got := br.evalString(`document.getElementById("not-playing").textContent`); !strings.Contains(got, "not networked") {
		t.Errorf("unwired camera page says %q; want why nothing plays", got)
	}
	if n := br.eval(`document.querySelector("#live-start") && !document.querySelector("#live-start").matches(":disabled") ? 1 : 0`); n != 0 {
		t.Errorf("unwired camera offers a live button that can be pressed")
	}
}

// TestBrowserAcceptNeedsNoReason checks that a reviewer accepts an application without a
// reason, and that a rejection without one is asked for its reason in the reader's language.
func TestBrowserAcceptNeedsNoReason(t *testing.T) {
	skipWithoutBrowser(t)
	s := newAppStack(t, false)
	b := s.registerApplicant("mother1", "mother@example.cn")
	accepted, rejected := s.apply(b), s.apply(b)
	br := newChromium(t, 60*time.Second)
	br.login(s.srv.URL, "rev1", "#logout")
	br.do("accept without a reason",
		chromedp.Navigate(s.srv.URL+"/applications/"+accepted),
		chromedp.WaitVisible(chromedp.CSS("#decision-form")),
		chromedp.SendKeys(chromedp.CSS("#shown-note-identity"), "ID card seen"),
		chromedp.Click(chromedp.CSS("#shown-submit-identity")),
		chromedp.WaitVisible(chromedp.CSS(`#required-documents li[data-kind="identity"][data-provided="true"]`)),
		chromedp.SendKeys(chromedp.CSS("#shown-note-relationship"), "household register seen"),
		chromedp.Click(chromedp.CSS("#shown-submit-relationship")),
		chromedp.WaitVisible(chromedp.CSS(`#required-documents li[data-kind="relationship"][data-provided="true"]`)),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.WaitReady(chromedp.CSS("main")),
	)
	waitFor(t, br.ctx, `document.querySelector("#search-candidates, #form-error") !== null`)
	if msg := br.evalString(`(document.getElementById("form-error") || {textContent: ""}).textContent`); msg != "" {
		t.Errorf("accepting without a reason is refused: %q", msg)
	}
	br.do("reject without a reason, in Chinese",
		chromedp.Navigate(s.srv.URL+"/lang/zh?next=/applications/"+rejected),
		chromedp.WaitVisible(chromedp.CSS("#decision-form")),
		chromedp.Click(chromedp.CSS("#reject")),
		chromedp.WaitVisible(chromedp.CSS("#form-error")),
	)
	if msg := br.evalString(`document.getElementById("form-error").textContent`); !strings.Contains(msg, "理由") || strings.Contains(msg, "required") {
		t.Errorf("rejection without a reason says %q; want it asked for in Chinese", msg)
	}
}

// TestBrowserPlaybackStartKeepsItsFraction checks that playing a recorded range from the camera
// page asks for it to the nanosecond: a start rounded down to the second lies before the
// recording and was reported as a zero-length gap.
func TestBrowserPlaybackStartKeepsItsFraction(t *testing.T) {
	skipWithoutBrowser(t)
	s := newFootageStack(t)
	if s.segs[0].Start.Nanosecond() == 0 {
		t.Skip("the recording began on a whole second: nothing to round") // one run in a billion
	}
	br := newChromium(t, 60*time.Second)
	br.login(s.srv.URL, "op1", "#logout")
	br.do("play the first recorded range",
		chromedp.Navigate(s.srv.URL+"/cameras/"+s.cam),
		chromedp.WaitVisible(chromedp.CSS("#range-0")),
		chromedp.Click(chromedp.CSS(`#recorded-ranges li:last-child a`)),
		chromedp.WaitVisible(chromedp.CSS("#play-purpose")),
		chromedp.SendKeys(chromedp.CSS("#play-purpose"), "incident review"),
		chromedp.Click(chromedp.CSS("#play-submit")),
		chromedp.WaitVisible(chromedp.CSS("#playback-video")),
	)
	// The picker holds local time to the millisecond, its finest step: the start is rounded up
	// to it, never down to before the recording.
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	start, err := time.ParseInLocation("2006-01-02T15:04:05.000", br.evalString(`document.getElementById("play-start").value`), shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if rec := s.segs[0].Start; start.Before(rec) || !start.Before(rec.Add(time.Millisecond)) {
		t.Errorf("playback form's start = %s; want the recording's start %s rounded up to the millisecond", start.Format(time.RFC3339Nano), rec.UTC().Format(time.RFC3339Nano))
	}
	if gaps := br.evalString(`(document.getElementById("play-gaps") || {textContent: ""}).textContent`); gaps != "" {
		t.Errorf("playing a recorded range reports gaps: %q", gaps)
	}
}

// TestBrowserLiveEndsAtOnce checks that when the server ends a live session (a revocation does,
// through live.Service.Revoke) the viewer's browser stops showing the video at once, not when
// its ICE consent times out seconds later. It logs the time taken.
func TestBrowserLiveEndsAtOnce(t *testing.T) {
	skipWithoutBrowser(t)
	s, camID := newLiveStack(t)
	s.addUser("chief", auth.RoleAdmin, "")
	br := newChromium(t, 90*time.Second)
	br.login(s.srv.URL, "chief", "#camera-table")
	br.do("watch live",
		chromedp.Navigate(s.srv.URL+"/cameras/"+camID),
		chromedp.WaitVisible(chromedp.CSS("#live-purpose")),
		chromedp.SendKeys(chromedp.CSS("#live-purpose"), "patrol"),
		chromedp.Click(chromedp.CSS("#live-start")),
	)
	waitFor(t, br.ctx, `document.getElementById("live-video").currentTime > 0.5`)
	revoked := time.Now()
	if n := s.live.Revoke(func(*live.Session) bool { return true }, "grant revoked"); n != 1 {
		t.Fatalf("Revoke = %d sessions; want 1", n)
	}
	waitFor(t, br.ctx, `document.getElementById("live-video").srcObject === null`)
	took := time.Since(revoked)
	t.Logf("server ended the session; the browser stopped the video %v later", took.Round(10*time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("the browser kept the video %v after the server ended the session; want it stopped at once", took.Round(10*time.Millisecond))
	}
}
