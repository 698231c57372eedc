package webui

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/gb28181"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// EnvLiveBrowserRuns repeats the live start in the browser that many times and logs the median
// time from the click to the first frame (loadeddata): the browser half of the live benchmark.
const EnvLiveBrowserRuns = "CIVICAM_BENCH_LIVE_BROWSER"

// newLiveStack is the whole server with a simulated camera recorded and the live service fed
// by the recorder, as the app wires them.
func newLiveStack(t *testing.T) (*stack, string) {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	rig := livetest.NewRig(t, live.Config{}, livetest.RigDeps{Index: db, Logins: db})
	rec, svc := rig.Recorder, rig.Live
	api := st.NewAPI(t, apitest.Parts{Recorder: rec, Live: svc})
	ui, err := New(Config{}, stackDeps(st, api, nil))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.Handler())
	mux.Handle("/", ui.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &stack{t: t, db: db, accounts: st.Accounts, reg: st.Registry, trail: st.Trail, tracer: st.Tracer, api: api, ui: ui, srv: srv, live: svc}

	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	active := registry.StatusActive
	// Networked: the platform records it, and a camera that is not says why nothing plays.
	yes := true
	camID := s.addCamera(org, "火车站广场", 27.8305, 113.1510, func(in *registry.CameraInput) { in.Status, in.Networked = &active, &yes })
	rig.Record(t, camID)
	return s, camID
}

// TestBrowserLiveView: in Debian's chromium, an operator logs in, opens the camera page, states a
// purpose and watches: the video's currentTime grows, and the look is in the trail.
func TestBrowserLiveView(t *testing.T) {
	skipWithoutBrowser(t)
	s, camID := newLiveStack(t)
	s.addUser("chief", auth.RoleAdmin, "")

	br := newChromium(t, 90*time.Second)
	ctx := br.ctx
	do := br.do
	eval := br.eval
	currentTime := func() float64 { return eval(`document.getElementById("live-video").currentTime`) }

	br.login(s.srv.URL, "chief", "#camera-table")
	do("open the camera page",
		chromedp.Navigate(s.srv.URL+"/cameras/"+camID),
		chromedp.WaitVisible(chromedp.CSS("#camera-name")),
	)
	if eval(`document.querySelectorAll("#live #live-video").length`) != 1 {
		t.Fatal(`the camera page has no live view: camera.html must include {{template "live" .}} and ` +
			`parseTemplates must parse templates/live.html with every page`)
	}
	n := s.size()
	runs := 2 // a second start: the first look's end is in the trail, and the second starts from the cached group
	if v, err := strconv.Atoi(os.Getenv(EnvLiveBrowserRuns)); err == nil && v > 1 {
		runs = v
	}
	var firsts []time.Duration
	for i := 0; i < runs; i++ {
		if i > 0 {
			do("stop", chromedp.Click(chromedp.CSS("#live-stop")), chromedp.WaitVisible(chromedp.CSS("#live-start")))
			time.Sleep(time.Duration(i%10) * 97 * time.Millisecond) // a different point of the camera's keyframe interval each time
		}
		if i == 0 {
			do("state a purpose", chromedp.SendKeys(chromedp.CSS("#live-purpose"), "patrol"))
		}
		do("watch live", chromedp.Click(chromedp.CSS("#live-start")))
		limit := time.Now().Add(30 * time.Second)
		for currentTime() <= 0 {
			if time.Now().After(limit) {
				status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#live-status")))
				t.Fatalf("the live video did not start; status %q", status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		ms := eval(`Number(document.getElementById("live").dataset.firstFrameMs || -1)`)
		if ms >= 0 {
			firsts = append(firsts, time.Duration(ms)*time.Millisecond)
		}
	}
	t0 := currentTime()
	time.Sleep(time.Second)
	if dir := os.Getenv(EnvScreenshots); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(dir, "camera-live.png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	if t1 := currentTime(); t1 <= t0 {
		t.Errorf("live video currentTime went from %.2f to %.2f in a second; want it to grow", t0, t1)
	}
	slices.Sort(firsts)
	if len(firsts) > 0 {
		t.Logf("click to first frame (loadeddata) in chromium over %d runs: median %v, min %v, max %v",
			len(firsts), firsts[len(firsts)/2], firsts[0], firsts[len(firsts)-1])
	}
	// Each look is one entry when it starts and, when the viewer stopped it (every run but the
	// last), one when it ends, with its end time (To).
	var looks, ends int
	for _, e := range s.entriesSince(n) {
		if e.Action == "live_view" && e.Outcome == "allowed" && e.Purpose == "patrol" && slices.Equal(e.CameraIDs, []string{camID}) {
			if !e.To.IsZero() {
				ends++
			} else {
				looks++
			}
		}
	}
	if looks != runs || ends != runs-1 {
		t.Errorf("trail has %d starts and %d ends of live_view for the camera with purpose patrol; want %d and %d", looks, ends, runs, runs-1)
	}

	// The look is in the trace viewer too, as an auditor would find it.
	do("open the trace viewer",
		chromedp.Navigate(s.srv.URL+"/trace"),
		chromedp.WaitVisible(chromedp.CSS("#trace-filters")),
		chromedp.SetValue(chromedp.CSS("#trace-action"), "live_view"),
		chromedp.Click(chromedp.CSS("#trace-apply")),
	)
	waitFor(t, ctx, `location.search.includes("action=live_view") && document.readyState === "complete"`)
	do("see the filtered trail", chromedp.WaitVisible(chromedp.CSS("#trace-table")))
	table, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#trace-table")))
	if err != nil || !strings.Contains(table, "patrol") || !strings.Contains(table, "chief") {
		t.Errorf("trace viewer filtered to live_view = %q, %v; want chief's look with purpose patrol", table, err)
	}

	// A user of another organisation gets nothing of this camera: no page, no live session.
	other := s.addOrg("Other Hotel", registry.KindEstablishment, "hotel")
	s.addUser("stranger", auth.RoleOwner, other)
	b := s.loggedIn("stranger")
	if p := b.get("/cameras/" + camID); p.status != http.StatusNotFound {
		t.Errorf("another organisation's owner GET camera page = %d; want 404", p.status)
	}
}

// TestBrowserLiveViewGB28181: a channel of a simulated GB/T 28181 device (registered over TCP,
// PS over RTP/TCP when invited) recorded through the platform's media source, as the app wires
// it, is watched live in chromium from its camera page as an RTSP camera is: the first frame is
// decoded (the video's currentTime grows) and the look is in the trail.
func TestBrowserLiveViewGB28181(t *testing.T) {
	skipWithoutBrowser(t)
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	src := gb28181.NewSource(gb28181.SourceConfig{IP: "127.0.0.1", PortLo: 37100, PortHi: 37199}, st.GB, nil)
	rig := livetest.NewRig(t, live.Config{}, livetest.RigDeps{Index: db, Logins: db,
		Sources: map[string]recorder.MediaSource{"gb28181": src}})
	api := st.NewAPI(t, apitest.Parts{Recorder: rig.Recorder, Live: rig.Live})
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

	device, chans := gbRegister(t, st, 1)
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	source := "gb28181://" + device + "/" + chans[0]
	camID := s.addCamera(org, "国标路口", 27.8305, 113.1510, func(in *registry.CameraInput) {
		// Networked, as a camera the platform records must be (an unnetworked one's live form
		// is disabled under the reason).
		active, yes := registry.StatusActive, true
		in.Status, in.Networked, in.SourceURL, in.GBDeviceID = &active, &yes, &source, &chans[0]
	})
	rig.RecordSource(t, camID, source)
	s.addUser("chief", auth.RoleAdmin, "")

	br := newChromium(t, 90*time.Second)
	currentTime := func() float64 { return br.eval(`document.getElementById("live-video").currentTime`) }
	br.login(s.srv.URL, "chief", "#camera-table")
	br.do("open the GB camera's page",
		chromedp.Navigate(s.srv.URL+"/cameras/"+camID),
		chromedp.WaitVisible(chromedp.CSS("#camera-name")),
	)
	n := s.size()
	br.do("state a purpose", chromedp.SendKeys(chromedp.CSS("#live-purpose"), "patrol"))
	br.do("watch live", chromedp.Click(chromedp.CSS("#live-start")))
	for limit := time.Now().Add(30 * time.Second); currentTime() <= 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(limit) {
			status, _ := chromedp.Run(br.ctx, chromedp.Text(chromedp.CSS("#live-status")))
			t.Fatalf("the GB channel's live video did not start; status %q", status)
		}
	}
	if w := br.eval(`document.getElementById("live-video").videoWidth`); w <= 0 {
		t.Errorf("videoWidth = %v; want the decoded picture's width", w)
	}
	t0 := currentTime()
	time.Sleep(time.Second)
	if t1 := currentTime(); t1 <= t0 {
		t.Errorf("GB live video currentTime went from %.2f to %.2f in a second; want it to grow", t0, t1)
	}
	looks := 0
	for _, e := range s.entriesSince(n) {
		if e.Action == "live_view" && e.Outcome == "allowed" && e.Purpose == "patrol" && slices.Equal(e.CameraIDs, []string{camID}) {
			looks++
		}
	}
	if looks != 1 {
		t.Errorf("trail has %d live_view entries for the GB camera with purpose patrol; want 1", looks)
	}
}
