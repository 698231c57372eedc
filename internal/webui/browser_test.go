package webui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// chromiumPath is Debian's chromium, which CI installs (scripts/install-deps.sh).
const chromiumPath = "/usr/bin/chromium"

// EnvScreenshots names a directory to keep the end-to-end test's screenshots in (for a person
// to look at); without it they go to the test's temporary directory.
const EnvScreenshots = "CIVICAM_WEBUI_SCREENSHOTS"

// TestBrowserEndToEnd drives a real browser through the UI: log in, the camera list and a
// camera page, log out, and the trace viewer as an auditor, where the log-ins are found.
func TestBrowserEndToEnd(t *testing.T) {
	skipWithoutBrowser(t)
	s := newStack(t)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("chief", auth.RoleAdmin, "")
	s.addUser("aud1", auth.RoleAuditor, "")
	active := registry.StatusActive
	s.addCamera(org, "火车站广场", 27.8305, 113.1510, func(in *registry.CameraInput) { in.Status = &active })
	s.addCamera(org, "神农公园东门", 27.8350, 113.1580, func(in *registry.CameraInput) {
		b, a, r := 200.0, 90.0, 120.0
		in.Bearing, in.FOVAngle, in.RangeM = &b, &a, &r
	})

	shots := os.Getenv(EnvScreenshots)
	if shots == "" {
		shots = t.TempDir()
	}
	br := newChromium(t, 60*time.Second)
	ctx := br.ctx

	do := br.do
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG; below it is JPEG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(shots, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	login := func(username string) {
		t.Helper()
		br.login(s.srv.URL, username, "#camera-table")
	}

	// Log in as the admin: the camera list with its map.
	login("chief")
	if got := text("#camera-table"); !strings.Contains(got, "火车站广场") || !strings.Contains(got, "神农公园东门") {
		t.Errorf("camera list reads %q; want both cameras", got)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.map a.map-cam").length`))
	if err != nil || n != 2 {
		t.Errorf("cameras on the map = %d, %v; want 2", n, err)
	}
	shot("cameras")

	// A camera page, reached by its link.
	do("open a camera",
		chromedp.Click(chromedp.CSS(`#camera-table a.camera-link`)),
		chromedp.WaitVisible(chromedp.CSS("#camera-name")),
	)
	if got := text("#camera-name"); got != "神农公园东门" && got != "火车站广场" {
		t.Errorf("camera page heading %q; want a camera's name", got)
	}
	// Chromium asks for English (Accept-Language en-US), so the page is in English.
	if got := text("#footage"); !strings.Contains(got, "Watch live") {
		t.Errorf("footage section reads %q; want the live view's form", got)
	}
	if os.Getenv(EnvScreenshots) != "" {
		shot("camera")
	}

	// Log out, then the auditor finds both log-ins in the trace viewer.
	do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-link")))
	login("aud1")
	do("open the trace viewer",
		chromedp.Navigate(s.srv.URL+"/trace"),
		chromedp.WaitVisible(chromedp.CSS("#trace-filters")),
		chromedp.SetValue(chromedp.CSS("#trace-action"), "login"),
		chromedp.Click(chromedp.CSS("#trace-apply")),
	)
	// The unfiltered table is on the page before the click: wait for the filtered page itself.
	waitFor(t, ctx, `location.search.includes("action=login") && document.readyState === "complete"`)
	do("see the filtered trail", chromedp.WaitVisible(chromedp.CSS("#trace-table")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "action=login") {
		t.Errorf("trace viewer location %q, %v; want the filter in the URL", loc, err)
	}
	table := text("#trace-table")
	for _, who := range []string{"chief", "aud1"} {
		if !strings.Contains(table, who) {
			t.Errorf("trace viewer filtered to log-ins does not show %s:\n%s", who, table)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#trace-table tr.entry").length`))
	if err != nil || rows != 2 {
		t.Errorf("log-in entries = %d, %v; want 2 (chief's and aud1's)", rows, err)
	}
	if os.Getenv(EnvScreenshots) != "" {
		shot("trace")
		do("landing", chromedp.Navigate(s.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#trail")))
		shot("landing")
		do("compliance in Chinese", chromedp.Navigate(s.srv.URL+"/lang/zh?next=/compliance"), chromedp.WaitVisible(chromedp.CSS("#findings-table")))
		shot("compliance-zh")
		do("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(s.srv.URL+"/cameras"), chromedp.WaitVisible(chromedp.CSS("#camera-table")))
		shot("phone-cameras")
	}
}

// waitFor polls a JavaScript condition in the page until it holds, for up to 20 seconds.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", cond, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// skipWithoutBrowser skips a browser test where chromium is not installed, and in -short mode.
func skipWithoutBrowser(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Skip("chromium is not installed at " + chromiumPath + " (apt-get install chromium; CI installs it via scripts/install-deps.sh)")
	}
	if testing.Short() {
		t.Skip("end-to-end browser test skipped in -short mode")
	}
}

// chromium is a test's headless browser and the steps every browser test takes with it; each ends the
// test at the first step that fails.
type chromium struct {
	t   *testing.T
	ctx context.Context
}

// newChromium starts a browser for t (startBrowser) whose steps are bounded by timeout.
func newChromium(t *testing.T, timeout time.Duration) *chromium {
	t.Helper()
	return &chromium{t: t, ctx: startBrowser(t, timeout)}
}

// do runs steps, what saying what they do for the failure's message.
func (b *chromium) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates js to a number, awaiting it when it is a promise.
func (b *chromium) eval(js string) float64 {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// evalString evaluates js to a string.
func (b *chromium) evalString(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// login logs username in through the login form at base with the tests' password and waits for
// ready, a selector of the page it lands on.
func (b *chromium) login(base, username, ready string) {
	b.t.Helper()
	b.do("log in as "+username,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	)
}

// logout logs out through the page's button.
func (b *chromium) logout() {
	b.t.Helper()
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-link")))
}

// startBrowser starts a headless Chromium for the test (closed at its end) and returns a context
// that bounds the test's steps to timeout. The flags are those this machine's closed network
// and root user need; autoplay lets muted videos start without a click.
func startBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests may run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// No WebRTC flags: the browser hides its addresses behind mDNS names as it does for any
		// user, and the server (on loopback only) reaches it through peer-reflexive candidates.
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelCtx)
	// Start the browser on the un-timed context (a timeout on the first run would bound the
	// browser's whole life), then bound the test's steps.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}
