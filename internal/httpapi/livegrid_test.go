package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// activeCamera registers an active camera of org and returns its id; a private camera (of a
// hotel) is not shared with the police by the pack's default.
func activeCamera(t *testing.T, s *stack, adminTok, org, name string, private bool) string {
	t.Helper()
	body := cameraJSON(org, name, "public_square")
	if private {
		body = privateCameraJSON(org, name)
	}
	id := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", body))
	if r := s.do("PATCH", "/api/v1/cameras/"+id, adminTok, "", `{"status":"active"}`); r.status != http.StatusOK {
		t.Fatalf("activate camera %s = %d %s", name, r.status, r.body)
	}
	return id
}

// TestLiveViewsPerUser: a saved view is its user's alone — another user of the same organisation
// neither lists, opens nor deletes it (404, traced as a denied access) — a view names only
// cameras its user may watch live, and the same name replaces the user's view.
func TestLiveViewsPerUser(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
		camA1 := activeCamera(t, s, adminTok, orgA, "A1", false)
		camA2 := activeCamera(t, s, adminTok, orgA, "A2", false)
		camB := activeCamera(t, s, adminTok, orgB, "B1", true)
		planned := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "planned", "public_square")))
		_, op1 := s.addUser("op1", auth.RoleOperator, orgA)
		_, op2 := s.addUser("op2", auth.RoleOperator, orgA)

		// The grid's cameras are the active ones the operator may watch: its organisation's.
		r := s.do("GET", "/api/v1/live/cameras", op1, "", "")
		var got []string
		for _, c := range r.json(t)["cameras"].([]any) {
			got = append(got, c.(map[string]any)["id"].(string))
		}
		slices.Sort(got)
		want := []string{camA1, camA2}
		slices.Sort(want)
		if r.status != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("GET /live/cameras as op1 = %d %v; want %v (not %s of another organisation, not the planned %s)", r.status, got, want, camB, planned)
		}

		view := mustCreate(t, s.do("POST", "/api/v1/live/views", op1, "", `{"name":"Station","layout":4,"camera_ids":["`+camA1+`","","`+camA2+`",""]}`))
		r = s.do("GET", "/api/v1/live/views/"+view, op1, "", "")
		if m := r.json(t); r.status != http.StatusOK || m["layout"] != float64(4) || len(m["camera_ids"].([]any)) != 3 {
			t.Errorf("GET own view = %d %s; want layout 4 with three tiles (the trailing empty one dropped)", r.status, r.body)
		}

		n := s.size()
		for _, tc := range []struct{ method, path string }{
			{"GET", "/api/v1/live/views/" + view},
			{"DELETE", "/api/v1/live/views/" + view},
		} {
			if r := s.do(tc.method, tc.path, op2, "", ""); r.status != http.StatusNotFound {
				t.Errorf("%s another user's view = %d %s; want 404", tc.method, r.status, r.body)
			}
		}
		var denials int
		for _, e := range s.entriesSince(n) {
			if e.Action == trace.ActionAccessDenied && e.Outcome == trace.Denied && e.Actor.Username == "op2" {
				denials++
			}
		}
		if denials != 2 {
			t.Errorf("op2's attempts on op1's view left %d access_denied entries; want 2", denials)
		}
		if r := s.do("GET", "/api/v1/live/views", op2, "", ""); r.status != http.StatusOK || len(r.json(t)["views"].([]any)) != 0 {
			t.Errorf("GET /live/views as op2 = %d %s; want none of op1's", r.status, r.body)
		}
		// op2's view of the same name is its own; op1's is untouched.
		mine := mustCreate(t, s.do("POST", "/api/v1/live/views", op2, "", `{"name":"Station","layout":1,"camera_ids":["`+camA2+`"]}`))
		if mine == view {
			t.Errorf("op2's view of the same name has op1's id %s", view)
		}
		r = s.do("GET", "/api/v1/live/views", op1, "", "")
		views := r.json(t)["views"].([]any)
		if len(views) != 1 || views[0].(map[string]any)["id"] != view || views[0].(map[string]any)["layout"] != float64(4) {
			t.Errorf("GET /live/views as op1 = %s; want its one view %s, layout 4", r.body, view)
		}
		// Saving under the same name replaces the view, keeping its id.
		again := s.do("POST", "/api/v1/live/views", op1, "", `{"name":"Station","layout":9,"camera_ids":["`+camA2+`"]}`)
		if again.status != http.StatusCreated || again.json(t)["id"] != view || again.json(t)["layout"] != float64(9) {
			t.Errorf("POST same name = %d %s; want view %s replaced with layout 9", again.status, again.body, view)
		}

		for _, tc := range []struct{ name, body, field string }{
			{"another organisation's camera", `{"name":"x","layout":4,"camera_ids":["` + camB + `"]}`, "camera_ids"},
			{"a camera that is not active", `{"name":"x","layout":4,"camera_ids":["` + planned + `"]}`, "camera_ids"},
			{"no such camera", `{"name":"x","layout":4,"camera_ids":["00000000-0000-4000-8000-000000000000"]}`, "camera_ids"},
			{"no camera", `{"name":"x","layout":4,"camera_ids":["",""]}`, "camera_ids"},
			{"more cameras than tiles", `{"name":"x","layout":1,"camera_ids":["` + camA1 + `","` + camA2 + `"]}`, "camera_ids"},
			{"a layout not offered", `{"name":"x","layout":6,"camera_ids":["` + camA1 + `"]}`, "layout"},
			{"no name", `{"name":"  ","layout":4,"camera_ids":["` + camA1 + `"]}`, "name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := s.do("POST", "/api/v1/live/views", op1, "", tc.body)
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
					t.Errorf("POST view with %s = %d %s; want 400 on %s", tc.name, r.status, r.body, tc.field)
				}
			})
		}
		// The other camera's message is the same whether it exists or not: saving tells nothing.
		a := s.do("POST", "/api/v1/live/views", op1, "", `{"name":"x","layout":4,"camera_ids":["`+camB+`"]}`)
		b := s.do("POST", "/api/v1/live/views", op1, "", `{"name":"x","layout":4,"camera_ids":["00000000-0000-4000-8000-000000000000"]}`)
		if !bytes.Equal(a.body, b.body) {
			t.Errorf("refusals differ for a hidden camera (%s) and none (%s)", a.body, b.body)
		}

		if r := s.do("DELETE", "/api/v1/live/views/"+view, op1, "", ""); r.status != http.StatusNoContent {
			t.Errorf("DELETE own view = %d %s; want 204", r.status, r.body)
		}
		if r := s.do("GET", "/api/v1/live/views/"+mine, op2, "", ""); r.status != http.StatusOK {
			t.Errorf("op2's view after op1 deleted its own = %d; want 200", r.status)
		}
	})
}

// gridStack is the API with two cameras of one organisation recorded from the simulated camera
// and the live service fed by the recorder, plus a camera of another organisation.
type gridStack struct {
	*stack
	svc                     *live.Service
	adminTok, opTok         string
	orgA, camA, camB, other string
}

func newGridStack(t *testing.T) *gridStack {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	rig := livetest.NewRig(t, live.Config{}, livetest.RigDeps{Index: db, Logins: db})
	api := st.NewAPI(t, apitest.Parts{Recorder: rig.Recorder, Live: rig.Live})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	s := &gridStack{stack: &stack{Stack: st, t: t, db: db, reg: st.Registry, trail: st.Trail, api: api, srv: srv}, svc: rig.Live}
	_, s.adminTok = s.addUser("admin1", auth.RoleAdmin, "")
	s.orgA = mustCreate(t, s.do("POST", "/api/v1/organisations", s.adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", s.adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	s.camA = activeCamera(t, s.stack, s.adminTok, s.orgA, "A1", false)
	s.camB = activeCamera(t, s.stack, s.adminTok, s.orgA, "A2", false)
	s.other = activeCamera(t, s.stack, s.adminTok, orgB, "B1", true)
	rig.RecordAll(t, s.camA, s.camB, s.other)
	_, s.opTok = s.addUser("op1", auth.RoleOperator, s.orgA)
	return s
}

// tile offers to watch cam as a tile of grid with purpose; it returns the viewer (connected and
// past its first keyframe when the offer was answered) and the answer.
func (s *gridStack) tile(ctx context.Context, token, cam, query string) (*livetest.Viewer, response, string) {
	s.t.Helper()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { v.Close() })
	req, err := http.NewRequest("POST", s.srv.URL+"/api/v1/cameras/"+cam+"/whep"+query, strings.NewReader(v.Offer))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, body: b, ctype: res.Header.Get("Content-Type")}
	if r.status != http.StatusCreated {
		return v, r, ""
	}
	if err := v.Accept(string(b)); err != nil {
		s.t.Fatalf("Accept = %v", err)
	}
	if _, err := v.Next(ctx); err != nil {
		s.t.Fatalf("tile of %s: no frame: %v", cam, err)
	}
	return v, r, res.Header.Get("Location")
}

const testGrid = "0123456789abcdef0123456789abcdef"

// TestLiveGridTilesTraced: each tile of a grid session is a live view of its own through the one
// WHEP endpoint — an entry per tile when it starts and when it ends, each with the grid's purpose
// and naming the grid session — and the access rule applies per tile: another organisation's
// camera in the same grid is refused, and that refusal names the grid too.
func TestLiveGridTilesTraced(t *testing.T) {
	s := newGridStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := s.size()
	q := "?purpose=patrol&grid=" + testGrid
	var sessions []string
	for _, cam := range []string{s.camA, s.camB} {
		_, r, loc := s.tile(ctx, s.opTok, cam, q)
		if r.status != http.StatusCreated {
			t.Fatalf("tile of %s = %d %s; want 201", cam, r.status, r.body)
		}
		sessions = append(sessions, loc)
	}
	if _, r, _ := s.tile(ctx, s.opTok, s.other, q); r.status != http.StatusNotFound {
		t.Errorf("tile of another organisation's camera = %d %s; want 404", r.status, r.body)
	}
	if _, r, _ := s.tile(ctx, s.opTok, s.camA, "?purpose=patrol&grid=not-a-grid"); r.status != http.StatusBadRequest {
		t.Errorf("tile with a malformed grid session = %d %s; want 400", r.status, r.body)
	}
	for _, loc := range sessions {
		if r := s.do("DELETE", loc, s.opTok, "", ""); r.status != http.StatusNoContent && r.status != http.StatusOK {
			t.Errorf("DELETE %s = %d %s", loc, r.status, r.body)
		}
	}
	inGrid := "tile of live grid " + testGrid
	// The ends are traced as the sessions close, just after the DELETE answers.
	type key struct {
		cam     string
		outcome trace.Outcome
		end     bool
	}
	var got map[key]int
	for limit := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got = map[key]int{}
		for _, e := range s.entriesSince(n) {
			if e.Action != trace.ActionLiveView || !strings.Contains(e.Reason, inGrid) {
				continue
			}
			if e.Purpose != "patrol" || len(e.CameraIDs) != 1 {
				t.Errorf("grid entry %d: purpose %q cameras %v; want patrol and one camera", e.Seq, e.Purpose, e.CameraIDs)
			}
			// A live view's end is the allowed entry with To; a refusal carries the moment asked.
			got[key{e.CameraIDs[0], e.Outcome, e.Outcome == trace.Allowed && !e.To.IsZero()}]++
		}
		if got[key{s.camB, trace.Allowed, true}] == 1 || time.Now().After(limit) {
			break
		}
	}
	want := map[key]int{
		{s.camA, trace.Allowed, false}: 1, {s.camA, trace.Allowed, true}: 1,
		{s.camB, trace.Allowed, false}: 1, {s.camB, trace.Allowed, true}: 1,
		{s.other, trace.Denied, false}: 1,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("entries naming the grid for camera %s, %s, end %v: %d; want %d (all: %v)", k.cam, k.outcome, k.end, got[k], w, got)
		}
	}
	var malformed bool
	for _, e := range s.entriesSince(n) {
		malformed = malformed || e.Action == trace.ActionLiveView && e.Outcome == trace.Denied && strings.Contains(e.Reason, "grid")
	}
	if !malformed {
		t.Error("the tile with a malformed grid session left no refused live_view entry")
	}
}

func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLiveGridSnapshot: a still of a tile is taken only on the caller's own live session; it is
// traced (camera, the session's purpose, the session, the picture's SHA-256) before the
// re-encoded JPEG is answered, and the server keeps none. A session of another user, a picture
// that is not a JPEG, and a user without the camera's export right are refused and traced.
func TestLiveGridSnapshot(t *testing.T) {
	s := newGridStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, op2 := s.addUser("op2", auth.RoleOperator, s.orgA)
	_, r, loc := s.tile(ctx, s.opTok, s.camA, "?purpose=patrol&grid="+testGrid)
	if r.status != http.StatusCreated {
		t.Fatalf("tile = %d %s", r.status, r.body)
	}
	sessionID := loc[strings.LastIndex(loc, "/")+1:]
	post := func(token, path, ctype string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", s.srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}

	n := s.size()
	res, body := post(s.opTok, loc+"/snapshot", "image/jpeg", jpegOf(t, 64, 36))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("snapshot = %d %s %s; want 200 image/jpeg", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
	if err != nil || cfg.Width != 64 || cfg.Height != 36 {
		t.Errorf("snapshot answer decodes as %+v, %v; want a 64×36 JPEG", cfg, err)
	}
	sum := sha256.Sum256(body)
	if got := res.Header.Get(httpapi.SnapshotSHA256Header); got != hex.EncodeToString(sum[:]) {
		t.Errorf("%s = %q; want the answer's SHA-256 %x", httpapi.SnapshotSHA256Header, got, sum)
	}
	es := s.entriesSince(n)
	if len(es) != 1 || es[0].Action != trace.ActionSnapshot || es[0].Outcome != trace.Allowed || !slices.Equal(es[0].CameraIDs, []string{s.camA}) ||
		es[0].Purpose != "patrol" || es[0].Reference != sessionID || !strings.Contains(es[0].Reason, hex.EncodeToString(sum[:])) || es[0].Actor.Username != "op1" {
		t.Errorf("snapshot traced %+v; want one allowed snapshot of %s by op1 with purpose patrol, session %s and sha256 %x", es, s.camA, sessionID, sum)
	}

	var pngBody bytes.Buffer
	if err := png.Encode(&pngBody, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token, path, ctype string
		body                     []byte
		status                   int
	}{
		{"another user's session", op2, loc + "/snapshot", "image/jpeg", jpegOf(t, 8, 8), http.StatusNotFound},
		{"a session of another camera", s.opTok, "/api/v1/cameras/" + s.camB + "/whep/" + sessionID + "/snapshot", "image/jpeg", jpegOf(t, 8, 8), http.StatusNotFound},
		{"a PNG", s.opTok, loc + "/snapshot", "image/png", pngBody.Bytes(), http.StatusBadRequest},
		{"not a picture", s.opTok, loc + "/snapshot", "image/jpeg", []byte("\xff\xd8\xff\xe0 truncated"), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := s.size()
			res, b := post(tc.token, tc.path, tc.ctype, tc.body)
			if res.StatusCode != tc.status {
				t.Errorf("snapshot of %s = %d %s; want %d", tc.name, res.StatusCode, b, tc.status)
			}
			es := s.entriesSince(n)
			if len(es) != 1 || es[0].Action != trace.ActionSnapshot || es[0].Outcome != trace.Denied {
				t.Errorf("snapshot of %s traced %+v; want one refused snapshot", tc.name, es)
			}
		})
	}
}
