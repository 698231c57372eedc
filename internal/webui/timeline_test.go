package webui

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"civicam/internal/registry"
	"civicam/internal/trace"
)

// TestTimelinePage checks the review page's handler: what it refuses (no camera, more than
// four, no purpose, a camera of another organisation) and that a valid pick opens one viewing,
// traced once for all its cameras, whose data review.js reads.
func TestTimelinePage(t *testing.T) {
	s := newFootageStack(t)
	op := s.loggedIn("op1")
	at := s.segs[0].Start.In(mustZone(t)).Format("2006-01-02T15:04:05")
	page := op.get("/timeline")
	mustContain(t, "the review page's form", page.body, `id="timeline-form"`, `type="datetime-local"`, `value="`+s.cam+`"`, "按时间回看")
	five := url.Values{"go": {"1"}, "at": {at}, "purpose": {"x"}}
	for i := 0; i < 5; i++ {
		five.Add("camera", registry.NewID())
	}
	for _, tc := range []struct {
		name string
		q    url.Values
		want string
	}{
		{"no camera", url.Values{"go": {"1"}, "at": {at}, "purpose": {"x"}}, "请至少选择一台摄像机"},
		{"five cameras", five, "最多同时播放 4 台摄像机"},
		{"no purpose", url.Values{"go": {"1"}, "at": {at}, "camera": {s.cam}}, "请说明查看录像的用途"},
		{"bad moment", url.Values{"go": {"1"}, "at": {"noon"}, "camera": {s.cam}, "purpose": {"x"}}, "当地时间"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := s.size()
			p := op.get("/timeline?" + tc.q.Encode())
			mustContain(t, tc.name, p.body, `id="form-error"`, tc.want)
			mustNotContain(t, tc.name, p.body, `data-review=`)
			for _, e := range s.entriesSince(n) {
				if e.Action == trace.ActionPlayback && e.Outcome == trace.Allowed {
					t.Errorf("%s opened a viewing: %+v", tc.name, e)
				}
			}
		})
	}
	n := s.size()
	p := op.get("/timeline?" + url.Values{"go": {"1"}, "at": {at}, "camera": {s.cam}, "purpose": {"patrol"}}.Encode())
	mustContain(t, "the review page", p.body, `data-review=`, `id="players"`, `data-camera="`+s.cam+`"`, "/static/review.js", "Asia/Shanghai")
	var opened []trace.Entry
	for _, e := range s.entriesSince(n) {
		if e.Action == trace.ActionPlayback {
			opened = append(opened, e)
		}
	}
	if len(opened) != 1 || opened[0].Outcome != trace.Allowed || opened[0].Purpose != "patrol" ||
		opened[0].From.After(s.segs[0].Start) || !opened[0].To.After(s.segs[0].Start) || !strings.Contains(opened[0].Reason, "viewing") {
		t.Errorf("the review page traced %+v; want one viewing around the moment", opened)
	}
	// Another organisation's operator: the camera is not its to play; refused, traced, nothing opened.
	n = s.size()
	b := s.loggedIn("op-b").get("/timeline?" + url.Values{"go": {"1"}, "at": {at}, "camera": {s.cam}, "purpose": {"x"}}.Encode())
	mustContain(t, "another organisation's review", b.body, `id="form-error"`)
	mustNotContain(t, "another organisation's review", b.body, `data-review=`, "火车站广场") // its id is in the page's own URL
	if es := s.entriesSince(n); len(es) == 0 || es[len(es)-1].Outcome != trace.Denied {
		t.Errorf("another organisation's review traced %+v; want the refusal", es)
	}
	// The timeline's read of what was recorded: its camera's for the operator, none for the other.
	from, to := s.segs[0].Start.Add(-time.Minute).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)
	r := op.get("/cameras/" + s.cam + "/recorded?start=" + from + "&end=" + to)
	if r.status != 200 || !strings.Contains(r.body, `"ranges":[[`) {
		t.Errorf("GET recorded = %d %s; want the recorded ranges", r.status, r.body)
	}
	if r := s.loggedIn("op-b").get("/cameras/" + s.cam + "/recorded?start=" + from + "&end=" + to); r.status != 404 || strings.Contains(r.body, "ranges") {
		t.Errorf("another organisation's GET recorded = %d; want 404", r.status)
	}
}

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
