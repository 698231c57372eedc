package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"image/jpeg"
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
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// EnvGridBrowserRuns repeats starting the 4-tile grid in the browser that many times and logs
// the median time from the click to each tile's first frame (loadeddata).
const EnvGridBrowserRuns = "CIVICAM_BENCH_GRID_BROWSER"

// newGridBrowserStack is the whole server with four cameras recorded from the demo's simulated
// camera (each its own RTSP session) and the live service fed by the recorder, as the app wires
// them.
func newGridBrowserStack(t *testing.T) (*stack, []string) {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	rig := livetest.NewRig(t, live.Config{}, livetest.RigDeps{Index: db, Logins: db})
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
	s := &stack{t: t, db: db, accounts: st.Accounts, reg: st.Registry, trail: st.Trail, tracer: st.Tracer, api: api, ui: ui, srv: srv, live: rig.Live}
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	active, yes := registry.StatusActive, true
	var cams []string
	for i, name := range []string{"火车站广场", "神农公园东门", "建设路口", "株洲大桥"} {
		cams = append(cams, s.addCamera(org, name, 27.83+float64(i)*0.002, 113.15, func(in *registry.CameraInput) { in.Status, in.Networked = &active, &yes }))
	}
	rig.RecordAll(t, cams...)
	return s, cams
}

// TestBrowserLiveGrid: in Debian's chromium, an operator opens a 2×2 grid of four cameras, states
// one purpose and every tile plays (its video's currentTime grows); the trail has one live view
// per tile with that purpose, naming the grid session. A tile and the grid go full screen. A
// tile's snapshot comes back as a valid JPEG of the video's size, traced with its SHA-256. The
// view is saved, opened again from the list of saved views with its four cameras, and plays.
func TestBrowserLiveGrid(t *testing.T) {
	skipWithoutBrowser(t)
	s, cams := newGridBrowserStack(t)
	s.addUser("chief", auth.RoleAdmin, "")

	br := newChromium(t, 120*time.Second)
	q := "/live?layout=4"
	for _, c := range cams {
		q += "&camera=" + c
	}
	br.login(s.srv.URL, "chief", "#camera-table")
	br.do("open the grid", chromedp.Navigate(s.srv.URL+q), chromedp.WaitVisible(chromedp.CSS("#grid-tiles")))
	if n := br.eval(`document.querySelectorAll("#grid-tiles .lg-tile:not([hidden])").length`); n != 4 {
		t.Fatalf("visible tiles = %v; want 4", n)
	}
	playing := func() int {
		return int(br.eval(`Array.from(document.querySelectorAll("#grid-tiles .lg-tile:not([hidden]) video")).filter(v => v.currentTime > 0).length`))
	}
	waitPlaying := func(what string) []time.Duration {
		t.Helper()
		for limit := time.Now().Add(30 * time.Second); playing() < 4; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(limit) {
				st := br.evalString(`Array.from(document.querySelectorAll(".lg-status")).slice(0, 4).map(p => p.textContent).join(" | ")`)
				t.Fatalf("%s: %d of 4 tiles play; statuses %q", what, playing(), st)
			}
		}
		var firsts []time.Duration
		for i := 0; i < 4; i++ {
			if ms := br.eval(`Number(document.getElementById("tile-` + strconv.Itoa(i) + `").dataset.firstFrameMs || -1)`); ms >= 0 {
				firsts = append(firsts, time.Duration(ms)*time.Millisecond)
			}
		}
		return firsts
	}

	n := s.size()
	br.do("state the grid's purpose and start", chromedp.SendKeys(chromedp.CSS("#grid-purpose"), "patrol"), chromedp.Click(chromedp.CSS("#grid-start")))
	firsts := waitPlaying("first start")
	if w := br.eval(`Math.min(...Array.from(document.querySelectorAll("#grid-tiles .lg-tile:not([hidden]) video")).map(v => v.videoWidth))`); w <= 0 {
		t.Errorf("a tile's videoWidth = %v; want the decoded picture's width", w)
	}
	grid := br.evalString(`document.getElementById("live-grid").dataset.grid`)
	if len(grid) != 32 {
		t.Fatalf("grid session id = %q; want 32 hexadecimal digits", grid)
	}
	var tiled []string
	for _, e := range s.entriesSince(n) {
		if e.Action == trace.ActionLiveView && e.Outcome == trace.Allowed && e.To.IsZero() && e.Purpose == "patrol" &&
			strings.Contains(e.Reason, "tile of live grid "+grid) && len(e.CameraIDs) == 1 {
			tiled = append(tiled, e.CameraIDs[0])
		}
	}
	slices.Sort(tiled)
	want := slices.Sorted(slices.Values(cams))
	if !slices.Equal(tiled, want) {
		t.Errorf("live views traced in grid %s: %v; want one per tile %v", grid, tiled, want)
	}

	// Full screen: a tile, then the grid.
	br.do("a tile full screen", chromedp.Click(chromedp.CSS("#tile-1 .lg-tile-fullscreen")))
	waitFor(t, br.ctx, `document.fullscreenElement && document.fullscreenElement.id === "tile-1"`)
	br.do("leave full screen", chromedp.Evaluate[chromedp.Void](`document.exitFullscreen()`, chromedp.EvalAwaitPromise))
	waitFor(t, br.ctx, `document.fullscreenElement === null`)
	br.do("the grid full screen", chromedp.Click(chromedp.CSS("#grid-fullscreen")))
	waitFor(t, br.ctx, `document.fullscreenElement && document.fullscreenElement.id === "grid-tiles"`)
	br.do("leave full screen", chromedp.Evaluate[chromedp.Void](`document.exitFullscreen()`, chromedp.EvalAwaitPromise))
	waitFor(t, br.ctx, `document.fullscreenElement === null`)

	// A snapshot of tile 0.
	n = s.size()
	br.do("take a snapshot", chromedp.Click(chromedp.CSS("#tile-0 .lg-snapshot")))
	waitFor(t, br.ctx, `!document.querySelector("#tile-0 .lg-still").hidden`)
	b64, err := chromedp.Run(br.ctx, chromedp.Evaluate[string](`document.querySelector("#tile-0 .lg-still").href.split(",")[1]`))
	if err != nil {
		t.Fatal(err)
	}
	pic, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("the snapshot link is not base64 data: %v", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(pic))
	vw, vh := br.eval(`document.querySelector("#tile-0 video").videoWidth`), br.eval(`document.querySelector("#tile-0 video").videoHeight`)
	if err != nil || float64(cfg.Width) != vw || float64(cfg.Height) != vh {
		t.Errorf("snapshot decodes as %+v, %v; want a %v×%v JPEG", cfg, err, vw, vh)
	}
	if _, err := jpeg.Decode(bytes.NewReader(pic)); err != nil {
		t.Errorf("snapshot does not decode: %v", err)
	}
	sum := sha256.Sum256(pic)
	if got := br.evalString(`document.getElementById("tile-0").dataset.snapshotSha256`); got != hex.EncodeToString(sum[:]) {
		t.Errorf("the tile's snapshot SHA-256 %q; want the picture's %x", got, sum)
	}
	var snaps int
	for _, e := range s.entriesSince(n) {
		if e.Action == trace.ActionSnapshot && e.Outcome == trace.Allowed && slices.Equal(e.CameraIDs, cams[:1]) && e.Purpose == "patrol" &&
			strings.Contains(e.Reason, hex.EncodeToString(sum[:])) {
			snaps++
		}
	}
	if snaps != 1 {
		t.Errorf("trail has %d snapshots of tile 0's camera with the picture's hash; want 1", snaps)
	}
	if dir := os.Getenv(EnvScreenshots); dir != "" {
		png, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "live-grid.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Save the view, leave, and open it again from the list.
	br.do("save the view",
		chromedp.SendKeys(chromedp.CSS("#grid-view-name"), "Station square"),
		chromedp.Click(chromedp.CSS("#grid-save-button")),
		chromedp.WaitVisible(chromedp.CSS("#grid-notice")),
	)
	br.do("open an empty grid", chromedp.Navigate(s.srv.URL+"/live"), chromedp.WaitVisible(chromedp.CSS("#grid-views")))
	if got := br.evalString(`Array.from(document.querySelectorAll(".lg-tile")).map(t => t.dataset.camera).join(",")`); strings.Trim(got, ",") != "" {
		t.Fatalf("the empty grid's tiles = %q; want none", got)
	}
	br.do("open the saved view", chromedp.Click(chromedp.CSS(`#grid-views a.grid-view-open`)), chromedp.WaitVisible(chromedp.CSS("#grid-tiles")))
	waitFor(t, br.ctx, `location.search.includes("view=") && document.readyState === "complete"`)
	got := br.evalString(`Array.from(document.querySelectorAll(".lg-tile:not([hidden])")).map(t => t.dataset.camera).join(",")`)
	if got != strings.Join(cams, ",") {
		t.Errorf("the reopened view's tiles = %q; want %q", got, strings.Join(cams, ","))
	}
	runs := 1
	if v, err := strconv.Atoi(os.Getenv(EnvGridBrowserRuns)); err == nil && v > 1 {
		runs = v
	}
	for i := 0; i < runs; i++ {
		if i > 0 {
			br.do("stop", chromedp.Click(chromedp.CSS("#grid-stop")), chromedp.WaitVisible(chromedp.CSS("#grid-start")))
			time.Sleep(time.Duration(i%10) * 97 * time.Millisecond)
		} else {
			br.do("state the purpose", chromedp.SendKeys(chromedp.CSS("#grid-purpose"), "patrol"))
		}
		br.do("start the reopened view", chromedp.Click(chromedp.CSS("#grid-start")))
		firsts = append(firsts, waitPlaying("the reopened view")...)
	}
	slices.Sort(firsts)
	if len(firsts) > 0 {
		t.Logf("grid of 4: click to each tile's first frame (loadeddata) over %d tiles: median %v, min %v, max %v",
			len(firsts), firsts[len(firsts)/2], firsts[0], firsts[len(firsts)-1])
	}
}
