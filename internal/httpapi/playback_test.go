package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/export"
	"civicam/internal/footage"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/playback"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/policy"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// footageStack is the API with recordings: a camera of organisation A recorded from a simulated
// camera, with a gap, and users of every role.
type footageStack struct {
	*stack
	key       *trace.Key
	exportDir string
	cam       string
	orgA      string // the camera's organisation, a public-security department
	orgB      string // a hotel, which sees the camera only under a grant
	segs      []segment.Record
	disk      *segment.Disk
	tokens    map[string]string
	ids       map[string]string
}

func newFootageStack(t *testing.T) *footageStack {
	t.Helper()
	return newFootageStackOn(t, storetest.SQLite(t))
}

// newFootageStackOn is a footageStack on db.
func newFootageStackOn(t *testing.T, db *store.DB) *footageStack {
	t.Helper()
	return newFootageStackOf(t, db, policy.Options{}, nil)
}

// newFootageStackWith is a footageStack on db whose pack switches on the options.
func newFootageStackWith(t *testing.T, db *store.DB, opts policy.Options) *footageStack {
	return newFootageStackOf(t, db, opts, nil)
}

// newFootageStackFiles is a footageStack on db whose API reads the segments through
// files(disk) when files is not nil (the bucket's Segments over the disk).
func newFootageStackFiles(t *testing.T, db *store.DB, files func(*segment.Disk) footage.Files) *footageStack {
	return newFootageStackOf(t, db, policy.Options{}, files)
}

// newFootageStackOf is a footageStack on db with the pack's options and, when files is not nil,
// the segments read through files(disk).
func newFootageStackOf(t *testing.T, db *store.DB, opts policy.Options, files func(*segment.Disk) footage.Files) *footageStack {
	t.Helper()
	s := newStack(t, db)
	key := s.Key // the trail's, which signs exports in the server too
	disk := segment.NewDisk(filepath.Join(t.TempDir(), "recordings"))
	exportDir := filepath.Join(t.TempDir(), "exports")
	svc, err := lostperson.New(lostperson.Config{DataDir: t.TempDir()}, lostperson.Deps{Repo: db, Recordings: db,
		Cameras: s.reg, Pack: s.reg.Pack(), Tracer: s.Tracer, Hasher: s.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	var recordings footage.Files = disk
	if files != nil {
		recordings = files(disk)
	}
	api := s.NewAPI(t, apitest.Parts{Requests: svc, Recordings: recordings, ExportDir: exportDir, Key: key, Options: opts})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	s.api, s.API, s.srv = api, api, srv
	fs := &footageStack{stack: s, key: key, exportDir: exportDir, tokens: map[string]string{}, ids: map[string]string{}}
	var adminTok string
	fs.ids["admin"], adminTok = s.addUser("admin1", auth.RoleAdmin, "")
	orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	fs.orgA, fs.orgB, fs.tokens["admin"] = orgA, orgB, adminTok
	fs.ids["operator"], fs.tokens["operator"] = s.addUser("op1", auth.RoleOperator, orgA)
	fs.ids["operator2"], fs.tokens["operator2"] = s.addUser("op2", auth.RoleOperator, orgA)
	fs.ids["owner"], fs.tokens["owner"] = s.addUser("owner1", auth.RoleOwner, orgB)
	fs.ids["reviewer"], fs.tokens["reviewer"] = s.addUser("rev1", auth.RoleReviewer, "")
	fs.ids["auditor"], fs.tokens["auditor"] = s.addUser("aud1", auth.RoleAuditor, "")
	fs.ids["applicant"], fs.tokens["applicant"] = s.addUser("app1", auth.RoleApplicant, "")
	fs.cam = mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", cameraJSON(orgA, "A1", "public_square")))
	fs.segs = playbacktest.Record(t, db, disk, fs.cam, playbacktest.Options{SegmentLength: 2 * time.Second, Parts: 4, GapParts: 3})
	fs.disk = disk
	return fs
}

func (fs *footageStack) playbackURL(start, end time.Time, purpose string) string {
	q := url.Values{"start": {start.UTC().Format(time.RFC3339Nano)}, "end": {end.UTC().Format(time.RFC3339Nano)}}
	if purpose != "" {
		q.Set("purpose", purpose)
	}
	return "/api/v1/cameras/" + fs.cam + "/playback.mp4?" + q.Encode()
}

func (fs *footageStack) get(path, token string, header ...string) (*http.Response, []byte) {
	fs.t.Helper()
	req, err := http.NewRequest("GET", fs.srv.URL+path, nil)
	if err != nil {
		fs.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fs.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func actions(es []trace.Entry) []string {
	var out []string
	for _, e := range es {
		a := string(e.Action)
		if e.Outcome == trace.Denied {
			a += ":denied"
		}
		out = append(out, a)
	}
	return out
}

func TestPlaybackAndExport(t *testing.T) {
	fs := newFootageStack(t)
	first, last := fs.segs[0], fs.segs[len(fs.segs)-1]
	sub := fs.playbackURL(first.Start.Add(500*time.Millisecond), first.End.Add(1500*time.Millisecond), "incident 7")

	t.Run("who may play", func(t *testing.T) {
		tests := []struct {
			who     string
			path    string
			status  int
			actions []string
		}{
			{"admin", sub, 200, []string{"playback"}},
			{"operator", sub, 200, []string{"playback"}},
			{"owner", sub, 404, []string{"playback:denied"}}, // another organisation's camera
			{"reviewer", sub, 403, []string{"playback:denied"}},
			{"auditor", sub, 403, []string{"playback:denied"}},
			{"applicant", sub, 403, []string{"access_denied:denied"}},
			{"", sub, 401, []string{"access_denied:denied"}},
			{"operator", fs.playbackURL(first.Start, first.End, ""), 400, []string{"playback:denied"}},
			{"operator", strings.Replace(sub, "start=", "start=yesterday&x=", 1), 400, []string{"playback:denied"}},
			{"operator", fs.playbackURL(first.End, first.Start, "x"), 400, []string{"playback:denied"}},
			{"operator", fs.playbackURL(first.Start.Add(-2*time.Hour), first.Start.Add(-time.Hour), "x"), 404, []string{"playback"}},
			{"operator", strings.Replace(sub, fs.cam, "..%2F..%2F"+fs.cam, 1), 404, []string{"access_denied:denied"}},
			{"operator", strings.Replace(sub, fs.cam, fs.cam+"%2F..", 1), 404, []string{"access_denied:denied"}},
			{"operator", strings.Replace(sub, fs.cam, "%2e%2e", 1), 404, []string{"access_denied:denied"}},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s %d", tc.who, tc.status), func(t *testing.T) {
				n := fs.size()
				res, body := fs.get(tc.path, fs.tokens[tc.who])
				if res.StatusCode != tc.status {
					t.Fatalf("GET %s as %q = %d %s; want %d", tc.path, tc.who, res.StatusCode, body, tc.status)
				}
				if tc.status != 200 && (res.Header.Get("Content-Type") == "video/mp4" || bytes.Contains(body, []byte("moof"))) {
					t.Errorf("refused request served video")
				}
				if got := actions(fs.entriesSince(n)); fmt.Sprint(got) != fmt.Sprint(tc.actions) {
					t.Errorf("trail entries = %v; want %v", got, tc.actions)
				}
			})
		}
	})

	t.Run("reviewer under an accepted application", func(t *testing.T) {
		rev := fs.tokens["reviewer"]
		app := mustCreate(t, fs.do("POST", "/api/v1/applications", fs.tokens["applicant"], "", applicationJSON("elderly")))
		acceptWithDocs(t, fs.do, app, rev)
		if r := fs.do("GET", "/api/v1/applications/"+app+"/candidates", rev, "", ""); r.status != 200 || !strings.Contains(string(r.body), fs.cam) {
			t.Fatalf("candidates = %d %s; want the recorded camera among them", r.status, r.body)
		}
		n := fs.size()
		res, body := fs.get(sub+"&application_id="+app, rev)
		if res.StatusCode != 200 {
			t.Fatalf("reviewer playback under the application = %d %s; want 200", res.StatusCode, body)
		}
		es := fs.entriesSince(n)
		if len(es) != 1 || es[0].Action != trace.ActionPlayback || es[0].Reference != app {
			t.Errorf("entries = %+v; want one playback with the application as reference", es)
		}
		// Another reviewer, or another application, sees nothing.
		other := mustCreate(t, fs.do("POST", "/api/v1/applications", fs.tokens["applicant"], "", applicationJSON("child")))
		if res, _ := fs.get(sub+"&application_id="+other, rev); res.StatusCode != 403 {
			t.Errorf("playback under an application not accepted = %d; want 403", res.StatusCode)
		}
		_, rev2 := fs.addUser("rev2", auth.RoleReviewer, "")
		if res, _ := fs.get(sub+"&application_id="+app, rev2); res.StatusCode != 403 {
			t.Errorf("playback by a reviewer who did not search = %d; want 403", res.StatusCode)
		}
	})

	t.Run("valid fMP4 with the trail entry", func(t *testing.T) {
		n := fs.size()
		res, body := fs.get(sub, fs.tokens["operator"])
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "video/mp4" || res.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
			t.Fatalf("GET = %d %s, length %s of %d", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Length"), len(body))
		}
		f, err := playback.Inspect(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("Inspect = %v", err)
		}
		if err := f.Check(); err != nil {
			t.Errorf("Check = %v", err)
		}
		if d := segment.Ticks(f.Duration()); d < 2*time.Second || d > 5*time.Second {
			t.Errorf("duration %v; want about 3 s (2 s asked, cut at parts)", d)
		}
		if g := res.Header.Get("X-Civicam-Gaps"); g != "" {
			t.Errorf("X-Civicam-Gaps = %q; want none inside one recorded stretch", g)
		}
		es := fs.entriesSince(n)
		if len(es) != 1 {
			t.Fatalf("entries = %v; want one", actions(es))
		}
		e := es[0]
		if e.Action != trace.ActionPlayback || e.Outcome != trace.Allowed || len(e.CameraIDs) != 1 || e.CameraIDs[0] != fs.cam ||
			e.Purpose != "incident 7" || !e.From.Equal(first.Start.Add(500*time.Millisecond).Truncate(time.Microsecond)) || e.Actor.UserID != fs.ids["operator"] {
			t.Errorf("entry = %+v; want playback of %s by operator for incident 7 from %v", e, fs.cam, first.Start.Add(500*time.Millisecond))
		}
		// Asked from half a second into the segment, served from its keyframe at the start: the
		// answer and the trail say both.
		asked, served := res.Header.Get("X-Civicam-Requested"), res.Header.Get("X-Civicam-Served")
		wantStart := first.Start.UTC().Format(time.RFC3339Nano)
		if !strings.HasPrefix(asked, first.Start.Add(500*time.Millisecond).UTC().Format(time.RFC3339Nano)+"/") || !strings.HasPrefix(served, wantStart+"/") {
			t.Errorf("X-Civicam-Requested = %q, X-Civicam-Served = %q; want from %v, served from %s", asked, served, first.Start.Add(500*time.Millisecond), wantStart)
		}
		if !strings.Contains(e.Reason, "served "+wantStart+" to ") {
			t.Errorf("entry reason = %q; want the served range from %s", e.Reason, wantStart)
		}
	})

	t.Run("gap reported", func(t *testing.T) {
		res, body := fs.get(fs.playbackURL(first.Start, last.End, "whole"), fs.tokens["admin"])
		if res.StatusCode != 200 {
			t.Fatalf("GET = %d %s", res.StatusCode, body)
		}
		gaps := strings.Split(res.Header.Get("X-Civicam-Gaps"), ", ")
		spans := strings.Split(res.Header.Get("X-Civicam-Spans"), ", ")
		if len(gaps) != 1 || gaps[0] == "" || len(spans) != 2 {
			t.Fatalf("X-Civicam-Gaps = %q, X-Civicam-Spans = %q; want one gap, two spans", gaps, spans)
		}
		f, err := playback.Inspect(bytes.NewReader(body), int64(len(body)))
		if err != nil || f.Check() != nil {
			t.Fatalf("Inspect = %v", err)
		}
	})

	t.Run("range requests", func(t *testing.T) {
		_, whole := fs.get(sub, fs.tokens["operator"])
		for _, tc := range []struct {
			rng      string
			from, to int
		}{{"bytes=0-99", 0, 100}, {"bytes=1000-", 1000, len(whole)}, {"bytes=-64", len(whole) - 64, len(whole)}, {"bytes=50-9999999", 50, len(whole)}} {
			res, body := fs.get(sub, fs.tokens["operator"], "Range", tc.rng)
			if res.StatusCode != 206 || !bytes.Equal(body, whole[tc.from:tc.to]) {
				t.Errorf("Range %s = %d, %d bytes; want 206 and bytes %d-%d", tc.rng, res.StatusCode, len(body), tc.from, tc.to)
			}
			if want := fmt.Sprintf("bytes %d-%d/%d", tc.from, tc.to-1, len(whole)); res.Header.Get("Content-Range") != want {
				t.Errorf("Content-Range = %q; want %q", res.Header.Get("Content-Range"), want)
			}
		}
		res, _ := fs.get(sub, fs.tokens["operator"], "Range", fmt.Sprintf("bytes=%d-", len(whole)))
		if res.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("Range past the end = %d; want 416", res.StatusCode)
		}
	})

	t.Run("trail down: 503 and no video", func(t *testing.T) {
		fs.Tracer.Fail.Store(true)
		defer fs.Tracer.Fail.Store(false)
		res, body := fs.get(sub, fs.tokens["operator"])
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Content-Type") == "video/mp4" || bytes.Contains(body, []byte("ftyp")) {
			t.Errorf("GET with the trail down = %d %s (%d bytes); want 503 and no video", res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
		r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", fs.tokens["operator"], "", exportJSON(first.Start, first.End, "p", "c"))
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("POST export with the trail down = %d %s; want 503", r.status, r.body)
		}
		if ents, _ := os.ReadDir(fs.exportDir); len(ents) != 0 {
			t.Errorf("export dir holds %d files after a refused export; want none", len(ents))
		}
	})

	t.Run("export", func(t *testing.T) {
		for _, body := range []string{
			`{"start":"` + first.Start.Format(time.RFC3339Nano) + `","end":"` + first.End.Format(time.RFC3339Nano) + `","purpose":"p"}`,
			`{"start":"` + first.Start.Format(time.RFC3339Nano) + `","end":"` + first.End.Format(time.RFC3339Nano) + `","case_ref":"c"}`,
		} {
			if r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", fs.tokens["operator"], "", body); r.status != 400 {
				t.Errorf("POST export %s = %d; want 400", body, r.status)
			}
		}
		if r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", fs.tokens["owner"], "", exportJSON(first.Start, last.End, "p", "c")); r.status != 404 {
			t.Errorf("POST export by another organisation = %d; want 404", r.status)
		}
		n := fs.size()
		r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", fs.tokens["operator"], "", exportJSON(first.Start, last.End, "missing child", "CASE-2026-17"))
		if r.status != http.StatusCreated {
			t.Fatalf("POST export = %d %s; want 201", r.status, r.body)
		}
		var res struct{ ID, Download string }
		json.Unmarshal(r.body, &res)
		if res.ID == "" || res.Download != "/api/v1/exports/"+res.ID {
			t.Fatalf("export answer = %s", r.body)
		}
		es := fs.entriesSince(n)
		if len(es) != 1 || es[0].Action != trace.ActionExport || es[0].Reference != "CASE-2026-17" || es[0].Purpose != "missing child" {
			t.Fatalf("entries after export = %+v; want one export entry", es)
		}
		exportSeq := es[0].Seq

		// Someone else of the same organisation may not download it; the exporter and an admin may.
		if resp, _ := fs.get(res.Download, fs.tokens["operator2"]); resp.StatusCode != 404 {
			t.Errorf("download by another operator = %d; want 404", resp.StatusCode)
		}
		if resp, _ := fs.get(res.Download, fs.tokens["admin"]); resp.StatusCode != 200 {
			t.Errorf("download by an admin = %d; want 200", resp.StatusCode)
		}
		n = fs.size()
		resp, zipBytes := fs.get(res.Download, fs.tokens["operator"])
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("download = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got := actions(fs.entriesSince(n)); fmt.Sprint(got) != "[export]" {
			t.Errorf("entries after download = %v; want [export]", got)
		}
		m, err := export.Verify(bytes.NewReader(zipBytes), int64(len(zipBytes)), fs.key.VerifierKey())
		if err != nil {
			t.Fatalf("Verify(downloaded export) = %v", err)
		}
		if m.TraceSeq != exportSeq || m.CameraID != fs.cam || m.Exporter.UserID != fs.ids["operator"] || m.CaseRef != "CASE-2026-17" ||
			len(m.Gaps) != 1 || len(m.Segments) != len(fs.segs) {
			t.Errorf("manifest = seq %d camera %s exporter %s case %s, %d gaps, %d segments; want %d, %s, %s, CASE-2026-17, 1, %d",
				m.TraceSeq, m.CameraID, m.Exporter.UserID, m.CaseRef, len(m.Gaps), len(m.Segments), exportSeq, fs.cam, fs.ids["operator"], len(fs.segs))
		}
		if m.Recorded == nil || m.Recorded.Seq != exportSeq || m.Recorded.TreeSize <= exportSeq {
			t.Errorf("Verify(downloaded export).Recorded = %+v; want the receipt of entry %d in a signed checkpoint", m.Recorded, exportSeq)
		}
		// The caller's exports list it; the platform checks the zip its holder uploads, and names
		// a byte changed in the video.
		var list struct {
			Exports []struct{ ID, Download string } `json:"exports"`
		}
		if resp, body := fs.get("/api/v1/exports", fs.tokens["operator"]); resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil ||
			len(list.Exports) == 0 || list.Exports[0].ID != res.ID || list.Exports[0].Download != res.Download {
			t.Errorf("GET /api/v1/exports = %d %s; want the export %s first", resp.StatusCode, body, res.ID)
		}
		if resp, body := fs.get("/api/v1/exports", fs.tokens["reviewer"]); resp.StatusCode != 200 || strings.Contains(string(body), res.ID) {
			t.Errorf("GET /api/v1/exports as another user = %d %s; want 200 without the operator's export", resp.StatusCode, body)
		}
		tampered := append([]byte(nil), zipBytes...)
		tampered[len(tampered)/3] ^= 0x40
		for _, tc := range []struct {
			name     string
			zip      []byte
			verified bool
		}{{"as downloaded", zipBytes, true}, {"one byte changed", tampered, false}} {
			r := fs.do("POST", "/api/v1/exports/verify", fs.tokens["operator"], "application/zip", string(tc.zip))
			var v struct {
				Verified bool             `json:"verified"`
				Problems []string         `json:"problems"`
				Recorded *export.Recorded `json:"recorded"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &v) != nil || v.Verified != tc.verified || (tc.verified && (v.Recorded == nil || v.Recorded.Seq != exportSeq)) {
				t.Errorf("POST /api/v1/exports/verify (%s) = %d %s; want verified %v", tc.name, r.status, r.body, tc.verified)
			}
		}
		if _, err := os.Stat(filepath.Join(fs.exportDir, res.ID+".zip")); err != nil {
			t.Errorf("export not stored under the export directory: %v", err)
		}
		if resp, _ := fs.get("/api/v1/exports/..%2F"+res.ID, fs.tokens["operator"]); resp.StatusCode != 404 {
			t.Errorf("download of ../id = %d; want 404", resp.StatusCode)
		}
	})
}

func exportJSON(start, end time.Time, purpose, caseRef string) string {
	b, _ := json.Marshal(map[string]any{"start": start, "end": end, "purpose": purpose, "case_ref": caseRef})
	return string(b)
}
