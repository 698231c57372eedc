package httpapi_test

import (
	"encoding/json"
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
	"civicam/internal/httpapi/apitest"
	"civicam/internal/playback/playbacktest"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// BenchmarkPlaybackHour measures playback of a one-hour range (60 one-minute segments, re-timed
// from a real recording) through the whole API — authentication, access check, the trail entry
// written before the first byte, planning, streaming — side by side with the same bytes served
// as a plain static file by http.ServeFile:
//
//	ttfb/*:       time to the first byte of the response (goal for playback: < 100 ms)
//	throughput/*: the whole hour read over loopback (goal: playback ≥ 0.8 × static)
func BenchmarkPlaybackHour(b *testing.B) {
	db := storetest.SQLite(b)
	st := apitest.New(b, db)
	key := st.Key // the trail's, which signs exports in the server too
	dir := b.TempDir()
	disk := segment.NewDisk(filepath.Join(dir, "recordings"))
	api := st.NewAPI(b, apitest.Parts{Recordings: disk, ExportDir: filepath.Join(dir, "exports"), Key: key})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	st.AddUser(b, "admin1", auth.RoleAdmin, "")
	token := benchLogin(b, srv.URL)
	orgRes := benchPost(b, srv.URL+"/api/v1/organisations", token, `{"name":"PSB","kind":"department","department_type":"public_security"}`)
	cam := benchPost(b, srv.URL+"/api/v1/cameras", token, cameraJSON(orgRes, "A1", "public_square"))

	clip := playbacktest.Record(b, db, disk, cam, playbacktest.Options{Parts: 4, SegmentLength: time.Minute})
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hour := playbacktest.Retime(b, db, disk, cam, clip[0], t0, time.Hour, time.Minute)
	q := url.Values{"start": {t0.Format(time.RFC3339)}, "end": {t0.Add(time.Hour).Format(time.RFC3339)}, "purpose": {"benchmark"}}
	playURL := srv.URL + "/api/v1/cameras/" + cam + "/playback.mp4?" + q.Encode()

	// The same bytes as a static file.
	static := filepath.Join(dir, "hour.mp4")
	f, err := os.Create(static)
	if err != nil {
		b.Fatal(err)
	}
	res := benchGet(b, playURL, token)
	size, err := io.Copy(f, res.Body)
	res.Body.Close()
	f.Close()
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("playback of the hour = %d, %v", res.StatusCode, err)
	}
	b.Logf("one hour: %d segments, %d MB of MP4", len(hour), size>>20)
	staticSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, static) }))
	defer staticSrv.Close()

	ttfb := func(b *testing.B, u, tok string) {
		for b.Loop() {
			res := benchGet(b, u, tok)
			var one [1]byte
			if _, err := io.ReadFull(res.Body, one[:]); err != nil || res.StatusCode != 200 {
				b.Fatalf("first byte: %d, %v", res.StatusCode, err)
			}
			res.Body.Close() // abandons the rest, as a player seeking away would
		}
	}
	through := func(b *testing.B, u, tok string) {
		b.SetBytes(size)
		for b.Loop() {
			res := benchGet(b, u, tok)
			n, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil || n != size {
				b.Fatalf("read %d of %d bytes: %v", n, size, err)
			}
		}
	}
	b.Run("ttfb/playback", func(b *testing.B) { ttfb(b, playURL, token) })
	b.Run("ttfb/static", func(b *testing.B) { ttfb(b, staticSrv.URL, "") })
	b.Run("throughput/playback", func(b *testing.B) { through(b, playURL, token) })
	b.Run("throughput/static", func(b *testing.B) { through(b, staticSrv.URL, "") })
	// The machine is shared: alternating the two within one loop exposes both to the same load,
	// so their ratio is the figure to read.
	b.Run("throughput/alternating", func(b *testing.B) {
		var play, stat time.Duration
		for b.Loop() {
			for i, u := range []string{playURL, staticSrv.URL} {
				tok := token
				if i == 1 {
					tok = ""
				}
				start := time.Now()
				res := benchGet(b, u, tok)
				n, err := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || n != size {
					b.Fatalf("read %d of %d bytes: %v", n, size, err)
				}
				if i == 0 {
					play += time.Since(start)
				} else {
					stat += time.Since(start)
				}
			}
		}
		mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
		b.ReportMetric(mbps(play), "playback-MB/s")
		b.ReportMetric(mbps(stat), "static-MB/s")
		b.ReportMetric(stat.Seconds()/play.Seconds(), "ratio")
	})
}

func benchGet(b *testing.B, u, token string) *http.Response {
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func benchPost(b *testing.B, u, token, body string) string {
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != http.StatusCreated {
		b.Fatalf("POST %s = %d %v", u, res.StatusCode, m)
	}
	if id, ok := m["id"].(string); ok {
		return id
	}
	return m["token"].(string)
}

func benchLogin(b *testing.B, base string) string {
	return benchPost(b, base+"/api/v1/sessions", "", `{"username":"admin1","password":"`+apitest.Password+`"}`)
}
