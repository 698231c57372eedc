package webui

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// footageStack is the whole server with recordings: organisation A's camera recorded from a
// simulated camera for a few seconds, and users of A, of B and of the other roles.
type footageStack struct {
	*stack
	cam  string
	segs []segment.Record
}

func newFootageStack(t *testing.T) *footageStack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	key := st.Key // the trail's, which signs exports in the server too
	disk := segment.NewDisk(filepath.Join(t.TempDir(), "recordings"))
	api := st.NewAPI(t, apitest.Parts{Recordings: disk, ExportDir: filepath.Join(t.TempDir(), "exports"), Key: key})
	ui, err := New(Config{}, stackDeps(st, api, nil))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler())
	mux.Handle("/", ui.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &stack{t: t, db: db, accounts: st.Accounts, reg: st.Registry, trail: st.Trail, tracer: st.Tracer, api: api, ui: ui, srv: srv}
	orgA := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	orgB := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("op1", auth.RoleOperator, orgA)
	s.addUser("op-b", auth.RoleOperator, orgB)
	s.addUser("aud1", auth.RoleAuditor, "")
	s.addUser("rev1", auth.RoleReviewer, "")
	active := registry.StatusActive
	cam := s.addCamera(orgA, "火车站广场", 27.8305, 113.1510, func(in *registry.CameraInput) { in.Status = &active })
	segs := playbacktest.Record(t, db, disk, cam, playbacktest.Options{Parts: 4})
	return &footageStack{stack: s, cam: cam, segs: segs}
}

var videoSrc = regexp.MustCompile(`<video id="playback-video"[^>]* src="([^"]+)"`)

// TestCameraPageFootage checks the camera page's timeline, playback form and video, by role, in
// both languages.
func TestCameraPageFootage(t *testing.T) {
	s := newFootageStack(t)
	first, last := s.segs[0], s.segs[len(s.segs)-1]
	op := s.loggedIn("op1")
	p := op.get("/cameras/" + s.cam)
	if p.status != http.StatusOK {
		t.Fatalf("GET camera page = %d", p.status)
	}
	mustContain(t, "operator's camera page", p.body, `id="timeline-svg"`, `class="tl-rec"`, `id="range-0"`, `id="playback-form"`,
		`id="export-form"`, "/static/footage.js", "已录制", "回放", `id="footage"`, `id="live-form"`, "/static/live.js")
	mustNotContain(t, "operator's camera page", p.body, `id="playback-video"`)

	// Play a range that begins before the recording: the video is linked and the gap named.
	start := first.Start.Add(-5 * time.Second).UTC().Truncate(time.Second)
	end := last.End.UTC().Truncate(time.Second)
	// The form's pickers hold local time (Asia/Shanghai); links carry RFC 3339, both are read.
	q := fmt.Sprintf("/cameras/%s?play=1&start=%s&end=%s&purpose=%s", s.cam, start.Format(time.RFC3339), end.Format(time.RFC3339), "patrol+check")
	n := s.size()
	p = op.get(q)
	m := videoSrc.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("playback page has no video element:\n%s", p.body)
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	mustContain(t, "playback page", p.body, `id="play-gaps"`, `type="datetime-local"`, `value="`+start.In(shanghai).Format("2006-01-02T15:04:05.000")+`"`)
	// Opening the page's player is the viewing: one playback entry with the purpose, for the range.
	var opened []string
	for _, e := range s.entriesSince(n) {
		if e.Action == "playback" {
			opened = append(opened, e.Purpose+" "+e.From.UTC().Format(time.RFC3339)+"/"+e.To.UTC().Format(time.RFC3339))
		}
	}
	if want := "patrol check " + start.Format(time.RFC3339) + "/" + end.Format(time.RFC3339); fmt.Sprint(opened) != "["+want+"]" {
		t.Errorf("playback entries of the page = %v; want [%s]", opened, want)
	}
	src := html.UnescapeString(m[1])
	if !strings.HasPrefix(src, "/api/v1/cameras/"+s.cam+"/playback.mp4?") || !strings.Contains(src, "viewing=") {
		t.Errorf("video src = %q; want the playback route inside the viewing", src)
	}
	// The session cookie authenticates the video element's request, and its seeks (byte ranges
	// and other ranges of the viewing) add no entry: the viewing's is the one.
	n = s.size()
	v := op.get(src)
	if v.status != http.StatusOK || v.res.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("GET %s with the session cookie = %d %s; want 200 video/mp4", src, v.status, v.res.Header.Get("Content-Type"))
	}
	later := strings.Replace(src, "start="+url.QueryEscape(start.Format(time.RFC3339Nano)), "start="+url.QueryEscape(first.Start.Add(time.Second).UTC().Format(time.RFC3339Nano)), 1)
	if later == src {
		t.Fatalf("could not move the start of %s", src)
	}
	if v := op.get(later); v.status != http.StatusOK {
		t.Errorf("GET a later range in the viewing = %d; want 200", v.status)
	}
	if got := actions(s.entriesSince(n)); len(got) != 0 {
		t.Errorf("entries after the viewing's seeks = %v; want none", got)
	}

	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"no purpose", "?play=1&start=" + start.Format(time.RFC3339) + "&end=" + end.Format(time.RFC3339), "请说明查看录像的用途"},
		{"bad time", "?play=1&start=yesterday&end=" + end.Format(time.RFC3339) + "&purpose=x", "当地时间"},
	} {
		p := op.get("/cameras/" + s.cam + tc.query)
		mustContain(t, tc.name, p.body, `id="play-error"`, tc.want)
		mustNotContain(t, tc.name, p.body, `id="playback-video"`)
	}

	// English.
	op.header.Set("Accept-Language", "en")
	p = op.get("/cameras/" + s.cam)
	mustContain(t, "English camera page", p.body, "Recorded ranges", "Case reference")

	// An auditor sees the note, a reviewer the refusal and the application field, another
	// organisation nothing at all.
	a := s.loggedIn("aud1").get("/cameras/" + s.cam)
	mustContain(t, "auditor's camera page", a.body, `id="no-footage"`)
	mustNotContain(t, "auditor's camera page", a.body, `id="timeline"`, `id="playback-form"`, `class="tl-rec"`)
	r := s.loggedIn("rev1").get("/cameras/" + s.cam)
	mustContain(t, "reviewer's camera page", r.body, `id="footage-denied"`, `id="play-application"`)
	mustNotContain(t, "reviewer's camera page", r.body, `class="tl-rec"`)
	b := s.loggedIn("op-b")
	if p := b.get("/cameras/" + s.cam); p.status != http.StatusNotFound {
		t.Errorf("another organisation's camera page = %d; want 404", p.status)
	}
	if p := b.get(src); p.status != http.StatusNotFound || strings.Contains(p.body, "ftyp") {
		t.Errorf("another organisation's playback = %d; want 404 and no video", p.status)
	}
}

// TestBrowserPlaybackExport drives chromium: log in, open a camera with recordings, play a
// recorded range in the <video> element until it advances, export it, and find the playback and
// the export in the trace viewer; a user of another organisation gets nothing for that camera.
func TestBrowserPlaybackExport(t *testing.T) {
	skipWithoutBrowser(t)
	s := newFootageStack(t)
	shots := os.Getenv(EnvScreenshots)
	br := newChromium(t, 90*time.Second)
	ctx := br.ctx
	do := br.do
	eval := br.eval
	shot := func(name string) {
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
	}
	login := func(username string) {
		t.Helper()
		br.login(s.srv.URL, username, "#logout")
	}
	logout := br.logout

	login("op1")
	do("open the camera and pick its recorded range",
		chromedp.Navigate(s.srv.URL+"/cameras"),
		chromedp.Click(chromedp.CSS(`#camera-table a.camera-link`)),
		chromedp.WaitVisible(chromedp.CSS("#timeline-svg")),
		chromedp.Click(chromedp.CSS("#range-0")),
		chromedp.WaitVisible(chromedp.CSS("#playback-form")),
		chromedp.SendKeys(chromedp.CSS("#play-purpose"), "patrol check"),
		chromedp.Click(chromedp.CSS("#play-submit")),
		chromedp.WaitVisible(chromedp.CSS("#playback-video")),
	)
	// The video plays: enough data to render, and the clock moves.
	deadline := time.Now().Add(30 * time.Second)
	for eval(`document.getElementById("playback-video").readyState`) < 2 || eval(`document.getElementById("playback-video").currentTime`) < 0.5 {
		if err := eval(`document.getElementById("playback-video").error ? document.getElementById("playback-video").error.code : 0`); err != 0 {
			t.Fatalf("video element error code %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("video did not play: readyState %v, currentTime %v", eval(`document.getElementById("playback-video").readyState`),
				eval(`document.getElementById("playback-video").currentTime`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	shot("playback")
	// Seeking: jump near the end (the browser fetches that byte range) and play on from there.
	dur := eval(`document.getElementById("playback-video").duration`)
	if !(dur > 2) {
		t.Fatalf("video duration %v; want the recorded range's seconds", dur)
	}
	target := dur - 1.5
	eval(fmt.Sprintf(`document.getElementById("playback-video").currentTime = %f`, target))
	deadline = time.Now().Add(30 * time.Second)
	for eval(`document.getElementById("playback-video").seeking ? 1 : 0`) == 1 || eval(`document.getElementById("playback-video").currentTime`) < target {
		if time.Now().After(deadline) {
			t.Fatalf("seek to %v did not complete: currentTime %v", target, eval(`document.getElementById("playback-video").currentTime`))
		}
		time.Sleep(100 * time.Millisecond)
	}

	do("export the range",
		chromedp.SendKeys(chromedp.CSS("#export-purpose"), "patrol check"),
		chromedp.SendKeys(chromedp.CSS("#export-case"), "CASE-42"),
		chromedp.Click(chromedp.CSS("#export-submit")),
		chromedp.WaitVisible(chromedp.CSS("#export-download")),
	)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("export-download").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(href, "/api/v1/exports/") {
		t.Errorf("export download link = %q, %v", href, err)
	}
	status := eval(`fetch("` + href + `").then(r => r.status)`)
	if status != 200 {
		t.Errorf("download of the export in the browser = %v; want 200", status)
	}
	shot("export")

	// The exports page lists it; its holder checks the zip there, and a zip with a byte changed
	// is named as not verifying.
	exportID := strings.TrimPrefix(href, "/api/v1/exports/")
	do("the exports page", chromedp.Navigate(s.srv.URL+"/exports"), chromedp.WaitVisible(chromedp.CSS(`#exports tr[data-export="`+exportID+`"]`)))
	zipBody := s.loggedIn("op1").get(href).body
	good := filepath.Join(t.TempDir(), "export.zip")
	bad := filepath.Join(t.TempDir(), "tampered.zip")
	os.WriteFile(good, []byte(zipBody), 0o644)
	tampered := []byte(zipBody)
	tampered[len(tampered)/3] ^= 0x40
	os.WriteFile(bad, tampered, 0o644)
	for _, tc := range []struct {
		file, want string
	}{{good, "true"}, {bad, "false"}} {
		do("check "+filepath.Base(tc.file),
			chromedp.Navigate(s.srv.URL+"/exports"),
			chromedp.SetUploadFiles(chromedp.CSS("#verify-file"), []string{tc.file}),
			chromedp.Click(chromedp.CSS(`#verify-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#export-check")),
		)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("export-check").dataset.verified`))
		if err != nil || got != tc.want {
			t.Errorf("checking %s on the exports page: verified = %q, %v; want %s", filepath.Base(tc.file), got, err, tc.want)
		}
		shot("export-check-" + tc.want)
	}
	logout()

	// The auditor finds both in the trace viewer.
	login("aud1")
	for _, action := range []string{"playback", "export"} {
		do("trace viewer: "+action,
			chromedp.Navigate(s.srv.URL+"/trace?action="+action),
			chromedp.WaitVisible(chromedp.CSS("#trace-table")),
		)
		table, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#trace-table")))
		if err != nil || !strings.Contains(table, "op1") || !strings.Contains(table, "patrol check") {
			t.Errorf("trace viewer for %s reads %q, %v; want op1's entry with its purpose", action, table, err)
		}
	}
	logout()

	// A user of another organisation: no camera page, no video.
	login("op-b")
	do("another organisation's camera", chromedp.Navigate(s.srv.URL+"/cameras/"+s.cam), chromedp.WaitReady(chromedp.CSS("body")))
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if strings.Contains(body, "火车站广场") {
		t.Errorf("another organisation's operator sees the camera page: %q", body)
	}
	q := fmt.Sprintf(`fetch("/api/v1/cameras/%s/playback.mp4?start=%s&end=%s&purpose=x").then(r => r.status)`, s.cam,
		s.segs[0].Start.UTC().Format(time.RFC3339), s.segs[0].End.UTC().Format(time.RFC3339))
	if got := eval(q); got != 404 {
		t.Errorf("another organisation's playback in the browser = %v; want 404", got)
	}
}
