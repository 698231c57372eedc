package webui

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"civicam/internal/trace"
)

// block is a stretch of a camera's recordings, made without waiting for it (playbacktest.Retime).
type block struct{ start, end time.Time }

// timelineStack is the whole server with cameras whose recordings lie in blocks a timeline can
// be clicked on: each camera recorded a real clip from a simulated camera, then the clip's parts
// retimed into the blocks asked (minutes long, tens of minutes ago), with gaps between them.
type timelineStack struct {
	*stack
	cams []string
}

func newTimelineStack(t *testing.T, blocks [][]block) *timelineStack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	disk := segment.NewDisk(filepath.Join(t.TempDir(), "recordings"))
	api := st.NewAPI(t, apitest.Parts{Recordings: disk, ExportDir: filepath.Join(t.TempDir(), "exports"), Key: st.Key})
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
	org := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	other := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("op1", auth.RoleOperator, org)
	s.addUser("op-b", auth.RoleOperator, other)
	active := registry.StatusActive
	ts := &timelineStack{stack: s}
	for i, bs := range blocks {
		cam := s.addCamera(org, fmt.Sprintf("路口 %d", i+1), 27.83+float64(i)/1000, 113.15, func(in *registry.CameraInput) { in.Status = &active })
		clip := playbacktest.Record(t, db, disk, cam, playbacktest.Options{Parts: 2})
		for _, b := range bs {
			playbacktest.Retime(t, db, disk, cam, clip[0], b.start, b.end.Sub(b.start), 10*time.Second)
		}
		ts.cams = append(ts.cams, cam)
	}
	return ts
}

// wallOf reads a player's clock: the wall-clock time it says it shows, and its text.
func wallOf(t *testing.T, br *chromium, id string) (time.Time, string) {
	t.Helper()
	iso := br.evalString(`(document.getElementById("` + id + `").dataset.wall || "")`)
	if iso == "" {
		return time.Time{}, ""
	}
	w, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		t.Fatalf("%s data-wall %q: %v", id, iso, err)
	}
	return w, br.evalString(`document.getElementById("` + id + `").textContent`)
}

// shanghaiClock is how the pages write local time in Zhuzhou.
func shanghaiClock(t time.Time) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return t.In(loc).Format("2006-01-02 15:04:05") + " UTC+08:00"
}

// clickAt clicks the timeline at wall-clock time at and returns the moment the click stands
// for (a pixel is some seconds wide in an hour's window).
func clickAt(t *testing.T, br *chromium, at time.Time) time.Time {
	t.Helper()
	// A click lands only inside the viewport: the timeline is brought into it first.
	js := `(function(){var s=document.getElementById("timeline-svg");s.scrollIntoView({block:"center"});var r=s.getBoundingClientRect();` +
		`return JSON.stringify({l:r.left,t:r.top,w:r.width,h:r.height,vs:s.dataset.viewStart,ve:s.dataset.viewEnd});})()`
	var box struct {
		L, T, W, H float64
		VS, VE     string
	}
	if err := jsonInto(br.evalString(js), &box); err != nil {
		t.Fatal(err)
	}
	vs, _ := time.Parse(time.RFC3339Nano, box.VS)
	ve, _ := time.Parse(time.RFC3339Nano, box.VE)
	if at.Before(vs) || !at.Before(ve) {
		t.Fatalf("moment %s is outside the timeline's window %s–%s", at, vs, ve)
	}
	px := math.Round(box.L + float64(at.Sub(vs))/float64(ve.Sub(vs))*box.W)
	br.do("click the timeline", chromedp.MouseClickXY(px, box.T+box.H*0.2))
	return vs.Add(time.Duration((px - box.L) / box.W * float64(ve.Sub(vs))))
}

// waitPlaying waits until the player with the clock id plays: its video advances and its clock
// says a time after after (and before before, when it is set: what it played before a seek
// is not what the test waits for).
func waitPlaying(t *testing.T, br *chromium, video, clock string, after time.Time, before ...time.Time) time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		w, _ := wallOf(t, br, clock)
		if br.eval(`(function(){var v=document.getElementById("`+video+`");return v&&!v.paused&&v.readyState>=3?1:0})()`) == 1 && w.After(after) &&
			(len(before) == 0 || w.Before(before[0])) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not play past %s: clock %s, note %q, error %q, player %s", video, after, w,
				br.evalString(`(document.querySelector(".gapnote")||{}).textContent||""`), br.evalString(`document.getElementById("review-error").textContent`),
				br.evalString(`(function(){var v=document.getElementById("`+video+`");return v?JSON.stringify({src:v.currentSrc,rs:v.readyState,p:v.paused,ct:v.currentTime,e:v.error&&v.error.code,viewing:document.querySelector("[data-review]").dataset.viewing||""}):"no video "+(document.querySelector("[data-review]").dataset.viewing||"")})()`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func playbackEntries(es []trace.Entry) []trace.Entry {
	var out []trace.Entry
	for _, e := range es {
		if e.Action == trace.ActionPlayback {
			out = append(out, e)
		}
	}
	return out
}

// TestBrowserTimelineClickPlays drives the camera page in Chromium: zoom the timeline to an
// hour, click a moment of a recording, and the video plays from near that wall-clock time with
// its clock (local time, Asia/Shanghai) saying so; a second click inside the same viewing adds
// no trail entry; played up to a gap, the clock goes on after it with the next recording.
func TestBrowserTimelineClickPlays(t *testing.T) {
	skipWithoutBrowser(t)
	now := time.Now().UTC()
	a := block{now.Add(-40 * time.Minute), now.Add(-37 * time.Minute)}
	b := block{now.Add(-25 * time.Minute), now.Add(-22 * time.Minute)}
	s := newTimelineStack(t, [][]block{{a, b}})
	cam := s.cams[0]
	br := newChromium(t, 150*time.Second)
	br.login(s.srv.URL, "op1", "#logout")
	br.do("open the camera page", chromedp.Navigate(s.srv.URL+"/cameras/"+cam), chromedp.WaitVisible(chromedp.CSS("#tl-tools")))
	if span := br.evalString(`document.getElementById("timeline-svg").dataset.span`); span != fmt.Sprint(int64(24*time.Hour/time.Millisecond)) {
		t.Fatalf("the timeline opens over %s ms; want a day", span)
	}
	br.do("zoom in to an hour",
		chromedp.Click(chromedp.CSS("#tl-zoom-in")),
		chromedp.Click(chromedp.CSS("#tl-zoom-in")),
	)
	if span := br.evalString(`document.getElementById("timeline-svg").dataset.span`); span != fmt.Sprint(int64(time.Hour/time.Millisecond)) {
		t.Fatalf("after zooming in twice the timeline spans %s ms; want an hour", span)
	}
	if n := br.eval(`document.querySelectorAll("#timeline-svg rect.tl-rec").length`); n < 2 {
		t.Fatalf("the hour's timeline draws %v recorded stretches; want both blocks", n)
	}
	br.do("state the purpose", chromedp.SendKeys(chromedp.CSS("#play-purpose"), "review by time"))

	n := s.size()
	clicked := clickAt(t, br, a.start.Add(time.Minute))
	w := waitPlaying(t, br, "playback-video", "wallclock-0", clicked.Add(-5*time.Second), clicked.Add(20*time.Second))
	if d := w.Sub(clicked); d < -5*time.Second || d > 20*time.Second {
		t.Errorf("clicked %s; the player shows %s (%v from it)", clicked, w, d)
	}
	w, text := wallOf(t, br, "wallclock-0")
	if text != shanghaiClock(w) {
		t.Errorf("the player's clock reads %q; want %q, the time it plays in Asia/Shanghai", text, shanghaiClock(w))
	}
	es := playbackEntries(s.entriesSince(n))
	if len(es) != 1 || es[0].Purpose != "review by time" || len(es[0].CameraIDs) != 1 || es[0].CameraIDs[0] != cam ||
		es[0].From.After(clicked) || !es[0].To.After(clicked) {
		t.Fatalf("the click traced %+v; want one playback entry whose extent holds the moment", es)
	}

	// Another moment in the same hour: a seek inside the viewing, no new entry.
	n = s.size()
	clicked = clickAt(t, br, b.start.Add(90*time.Second))
	w = waitPlaying(t, br, "playback-video", "wallclock-0", clicked.Add(-5*time.Second), clicked.Add(20*time.Second))
	if d := w.Sub(clicked); d > 20*time.Second {
		t.Errorf("second click at %s; the player shows %s", clicked, w)
	}
	if es := playbackEntries(s.entriesSince(n)); len(es) != 0 {
		t.Errorf("a seek inside the viewing traced %+v; want nothing", es)
	}

	// Across the gap: played from just before the first block's end, the clock goes on in the
	// second block (the MP4 leaves the gap out; the clock does not pretend it played through it).
	clicked = clickAt(t, br, a.end.Add(-4*time.Second))
	waitPlaying(t, br, "playback-video", "wallclock-0", clicked.Add(-5*time.Second), a.end)
	w = waitPlaying(t, br, "playback-video", "wallclock-0", b.start)
	if w.After(b.start.Add(20 * time.Second)) {
		t.Errorf("after the gap the clock reads %s; want just after the second block's start %s", w, b.start)
	}
	if _, text := wallOf(t, br, "wallclock-0"); !strings.HasSuffix(text, "UTC+08:00") {
		t.Errorf("clock %q lacks the zone", text)
	}
	if shots := os.Getenv(EnvScreenshots); shots != "" {
		if png, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "timeline-camera.png"), png, 0o644)
		}
	}
}

// TestBrowserTwoCamerasInSync drives the review page: pick two cameras and a moment in the
// pickers (local time), and both play from it on one clock; a click where only one recorded
// plays that one while the other waits in its gap, and both go on together once it begins.
func TestBrowserTwoCamerasInSync(t *testing.T) {
	skipWithoutBrowser(t)
	now := time.Now().UTC()
	a1 := block{now.Add(-40 * time.Minute), now.Add(-36 * time.Minute)}
	a2 := block{now.Add(-39 * time.Minute), now.Add(-35 * time.Minute)}
	s := newTimelineStack(t, [][]block{{a1}, {a2}})
	br := newChromium(t, 150*time.Second)
	br.login(s.srv.URL, "op1", "#logout")
	at := a2.start.Add(30 * time.Second).Truncate(time.Second)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	n := s.size()
	br.do("pick two cameras and a moment",
		chromedp.Navigate(s.srv.URL+"/timeline"),
		chromedp.WaitVisible(chromedp.CSS("#timeline-form")),
		chromedp.Click(chromedp.CSS(`input[name="camera"][value="`+s.cams[0]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name="camera"][value="`+s.cams[1]+`"]`)),
		chromedp.SetValue(chromedp.CSS("#review-at"), at.In(loc).Format("2006-01-02T15:04:05")),
		chromedp.SendKeys(chromedp.CSS("#play-purpose"), "two cameras"),
		chromedp.Click(chromedp.CSS("#review-submit")),
		chromedp.WaitVisible(chromedp.CSS("#players video")),
	)
	es := playbackEntries(s.entriesSince(n))
	if len(es) != 1 || len(es[0].CameraIDs) != 2 || es[0].From.After(at) || !es[0].To.After(at) {
		t.Fatalf("opening the review traced %+v; want one playback entry for both cameras around the moment", es)
	}
	w0 := waitPlaying(t, br, "player-video-0", "wallclock-0", at.Add(-5*time.Second), at.Add(20*time.Second))
	waitPlaying(t, br, "player-video-1", "wallclock-1", at.Add(-5*time.Second))
	if d := w0.Sub(at); d < -3*time.Second || d > 20*time.Second {
		t.Errorf("asked for %s; the first camera plays %s", at, w0)
	}
	inSync := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			w0, t0 := wallOf(t, br, "wallclock-0")
			w1, _ := wallOf(t, br, "wallclock-1")
			d := w0.Sub(w1)
			if !w0.IsZero() && !w1.IsZero() && d > -time.Second && d < time.Second {
				if t0 != shanghaiClock(w0) {
					t.Errorf("%s: the clock reads %q; want %q", what, t0, shanghaiClock(w0))
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the players show %s and %s; want them within a second", what, w0, w1)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	inSync("from the moment picked")

	// Where only the first camera recorded: it plays, the second waits in its gap, then joins.
	n = s.size()
	br.do("zoom to the hour", chromedp.Click(chromedp.CSS("#tl-zoom-in")))
	clicked := clickAt(t, br, a2.start.Add(-4*time.Second))
	waitPlaying(t, br, "player-video-0", "wallclock-0", clicked.Add(-3*time.Second), clicked.Add(10*time.Second))
	note := br.evalString(`document.getElementById("gapnote-1").textContent`)
	w1, _ := wallOf(t, br, "wallclock-1")
	if w0, _ := wallOf(t, br, "wallclock-0"); w0.Before(a2.start.Add(-time.Second)) && (note == "" || !w1.IsZero()) {
		t.Errorf("before the second camera's recording its note is %q and clock %s; want the gap said, no time", note, w1)
	}
	waitPlaying(t, br, "player-video-1", "wallclock-1", a2.start)
	inSync("after the second camera's gap")
	if es := playbackEntries(s.entriesSince(n)); len(es) != 0 {
		t.Errorf("seeking both players inside the viewing traced %+v; want nothing", es)
	}
	if shots := os.Getenv(EnvScreenshots); shots != "" {
		if png, err := chromedp.Run(br.ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, "timeline-sync.png"), png, 0o644)
		}
	}
}

func jsonInto(s string, v any) error { return json.Unmarshal([]byte(s), v) }
