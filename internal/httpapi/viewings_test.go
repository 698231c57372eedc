package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"civicam/internal/footage"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestViewings: a viewing is traced once when it opens; the ranges its player asks for inside
// its extent are served untraced and kept with it; what lies outside it, another user's use of
// it, and a right taken away since it opened are refused and traced.
func TestViewings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { testViewings(t, newFootageStackOn(t, db)) })
}

func testViewings(t *testing.T, fs *footageStack) {
	first, last := fs.segs[0], fs.segs[len(fs.segs)-1]
	from, to := first.Start.Add(-time.Minute), last.End.Add(time.Minute)
	open := func(tok string, cams ...string) (int, footage.Viewing, []trace.Entry) {
		t.Helper()
		n := fs.size()
		body, _ := json.Marshal(map[string]any{"camera_ids": cams, "start": from, "end": to, "purpose": "incident 9"})
		r := fs.do("POST", "/api/v1/viewings", tok, "", string(body))
		var v footage.Viewing
		if r.status == http.StatusCreated {
			if err := json.Unmarshal(r.body, &v); err != nil {
				t.Fatal(err)
			}
		}
		return r.status, v, fs.entriesSince(n)
	}
	seek := func(v footage.Viewing, cam string, start, end time.Time) string {
		q := url.Values{"viewing": {v.ID}, "start": {start.UTC().Format(time.RFC3339Nano)}, "end": {end.UTC().Format(time.RFC3339Nano)}}
		return "/api/v1/cameras/" + cam + "/playback.mp4?" + q.Encode()
	}

	status, v, es := open(fs.tokens["operator"], fs.cam)
	if status != http.StatusCreated {
		t.Fatalf("POST /api/v1/viewings as the camera's operator = %d; want 201", status)
	}
	if len(es) != 1 || es[0].Action != trace.ActionPlayback || es[0].Outcome != trace.Allowed || es[0].Purpose != "incident 9" ||
		!es[0].From.Equal(from) || !es[0].To.Equal(to) || !strings.Contains(es[0].Reason, v.ID) {
		t.Fatalf("opening traced %+v; want one playback entry over the extent naming the viewing", es)
	}

	// Seeks: two ranges, one asked twice and once in bytes, as a browser does. None is traced.
	n := fs.size()
	a, b := seek(v, fs.cam, first.Start, last.End), seek(v, fs.cam, first.Start.Add(time.Second), last.End)
	for _, tc := range []struct {
		path   string
		header []string
		want   int
	}{{a, nil, 200}, {a, []string{"Range", "bytes=100-"}, 206}, {b, nil, 200}} {
		res, body := fs.get(tc.path, fs.tokens["operator"], tc.header...)
		if res.StatusCode != tc.want || res.Header.Get("Content-Type") != "video/mp4" || res.Header.Get("X-Civicam-Spans") == "" {
			t.Errorf("GET %s %v in the viewing = %d %s; want %d video with its spans", tc.path, tc.header, res.StatusCode, body[:min(len(body), 200)], tc.want)
		}
	}
	if got := actions(fs.entriesSince(n)); len(got) != 0 {
		t.Errorf("seeks inside the viewing traced %v; want nothing", got)
	}
	r := fs.do("GET", "/api/v1/viewings/"+v.ID, fs.tokens["operator"], "", "")
	var read struct {
		footage.Viewing
		Seeks []footage.ViewingSeek `json:"seek_ranges"`
	}
	if err := json.Unmarshal(r.body, &read); r.status != 200 || err != nil {
		t.Fatalf("GET the viewing = %d %s", r.status, r.body)
	}
	if read.Seeks == nil || len(read.Seeks) != 2 || read.Viewing.Seeks != 2 || !read.Seeks[0].Start.Equal(first.Start) {
		t.Errorf("the viewing's seeks = %d %+v; want the two ranges asked, each once", read.Viewing.Seeks, read.Seeks)
	}
	for who, want := range map[string]int{"auditor": 200, "operator2": 404, "owner": 404} {
		if r := fs.do("GET", "/api/v1/viewings/"+v.ID, fs.tokens[who], "", ""); r.status != want {
			t.Errorf("GET the viewing as %s = %d; want %d", who, r.status, want)
		}
	}

	// Refusals, each traced once.
	for _, tc := range []struct {
		name, who, path string
		want            int
	}{
		{"before the extent", "operator", seek(v, fs.cam, from.Add(-time.Minute), first.End), 400},
		{"after the extent", "operator", seek(v, fs.cam, first.Start, to.Add(time.Second)), 400},
		{"a camera not in it", "operator", seek(v, registry.NewID(), first.Start, first.End), 400},
		{"another user's viewing", "operator2", seek(v, fs.cam, first.Start, first.End), 404},
		{"no such viewing", "operator", strings.Replace(seek(v, fs.cam, first.Start, first.End), v.ID, registry.NewID(), 1), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := fs.size()
			res, body := fs.get(tc.path, fs.tokens[tc.who])
			if res.StatusCode != tc.want || res.Header.Get("Content-Type") == "video/mp4" {
				t.Errorf("GET %s as %s = %d %s; want %d and no video", tc.path, tc.who, res.StatusCode, body, tc.want)
			}
			if got := actions(fs.entriesSince(n)); fmt.Sprint(got) != "[playback:denied]" {
				t.Errorf("trail = %v; want [playback:denied]", got)
			}
		})
	}

	// Opening: at most four cameras, each one the user may see.
	for _, tc := range []struct {
		name, who string
		cams      []string
		want      int
		actions   string
	}{
		{"five cameras", "operator", []string{fs.cam, registry.NewID(), registry.NewID(), registry.NewID(), registry.NewID()}, 400, "[playback:denied]"},
		{"one camera twice", "operator", []string{fs.cam, fs.cam}, 400, "[playback:denied]"},
		{"another organisation's camera", "owner", []string{fs.cam}, 404, "[playback:denied]"},
		{"an auditor", "auditor", []string{fs.cam}, 403, "[playback:denied]"},
		{"a reviewer without an application", "reviewer", []string{fs.cam}, 403, "[playback:denied]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, es := open(fs.tokens[tc.who], tc.cams...)
			if status != tc.want || fmt.Sprint(actions(es)) != tc.actions {
				t.Errorf("open %v as %s = %d, trail %v; want %d, %s", tc.cams, tc.who, status, actions(es), tc.want, tc.actions)
			}
		})
	}

	// A grant revoked after the viewing opened ends what the grantee may seek.
	grant := mustCreate(t, fs.do("POST", "/api/v1/grants", fs.tokens["admin"], "", grantJSON(fs.cam, fs.orgB)))
	status, hv, _ := open(fs.tokens["owner"], fs.cam)
	if status != http.StatusCreated {
		t.Fatalf("open a viewing under a grant = %d; want 201", status)
	}
	if res, _ := fs.get(seek(hv, fs.cam, first.Start, first.End), fs.tokens["owner"]); res.StatusCode != 200 {
		t.Fatalf("seek under the grant = %d; want 200", res.StatusCode)
	}
	if r := fs.do("DELETE", "/api/v1/grants/"+grant, fs.tokens["admin"], "", ""); r.status != http.StatusOK {
		t.Fatalf("DELETE grant = %d %s", r.status, r.body)
	}
	n = fs.size()
	if res, _ := fs.get(seek(hv, fs.cam, first.Start, first.End), fs.tokens["owner"]); res.StatusCode != http.StatusNotFound {
		t.Errorf("seek after the grant was revoked = %d; want 404", res.StatusCode)
	}
	if got := actions(fs.entriesSince(n)); fmt.Sprint(got) != "[playback:denied]" {
		t.Errorf("trail after a seek under a revoked grant = %v; want [playback:denied]", got)
	}
}
