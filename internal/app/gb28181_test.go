package app

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/config"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/live/livetest"
)

const (
	gbPlatformID = "43020000002000000001"
	gbDomain     = "4302000000"
	gbPassword   = "gb-device-secret-7"
)

// gbDeviceRig is a simulated GB/T 28181 NVR running against a server until the test ends.
type gbDeviceRig struct {
	dev      *gbdevice.Device
	id       string
	channels []gbdevice.Channel
}

// startGBDevice runs a simulated NVR with n channels that registers with srv over transport.
func startGBDevice(t *testing.T, srv *Server, transport, id string, n int) *gbDeviceRig {
	t.Helper()
	r := &gbDeviceRig{id: id}
	for i := range n {
		r.channels = append(r.channels, gbdevice.Channel{ID: fmt.Sprintf("%s%03d", id[:17], 131+i), Name: fmt.Sprintf("通道 %d", i+1)})
	}
	d, err := gbdevice.New(gbdevice.Config{ID: id, Name: "模拟 NVR", Server: srv.gb.Addr(), ServerID: gbPlatformID, Domain: gbDomain,
		Transport: transport, Password: gbPassword, Channels: r.channels, Keepalive: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.dev = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gbdevice Run = %v", err)
		}
		d.Close()
	})
	return r
}

// withGB28181 turns the platform on, on a free loopback port.
func withGB28181(c *config.Config) {
	c.GB28181.Listen = "127.0.0.1:0"
	c.GB28181.ID, c.GB28181.Domain, c.GB28181.Password = gbPlatformID, gbDomain, gbPassword
	c.GB28181.MediaIP, c.GB28181.MediaPorts = "127.0.0.1", "31600-31699"
}

// waitJSON polls an API GET until ok accepts its decoded answer, or fails the test after d.
func waitJSON(t *testing.T, url, token string, d time.Duration, ok func(body []byte) bool) []byte {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		status, body := apiDo(t, "GET", url, token, "")
		if status == http.StatusOK && ok(body) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %s; gave up waiting after %v", url, status, body, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ffprobeFrames decodes a file's video with ffprobe and returns its frame count; it skips the test
// when ffprobe is missing.
func ffprobeFrames(t *testing.T, path string) int {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	var codec string
	var frames int
	if _, err := fmt.Sscanf(strings.TrimSpace(strings.ReplaceAll(string(out), ",", " ")), "%s %d", &codec, &frames); err != nil {
		t.Fatalf("ffprobe %s = %q: %v", path, out, err)
	}
	if codec != "h264" {
		t.Errorf("ffprobe %s codec = %q; want h264", path, codec)
	}
	return frames
}

// adoptAndActivate adopts a registered device into a new organisation and activates the
// camera its first channel became; it returns that camera's id.
func adoptAndActivate(t *testing.T, base, admin string, dev *gbDeviceRig) string {
	t.Helper()
	devURL := base + "/api/v1/gb28181/devices/" + dev.id
	waitJSON(t, devURL, admin, 30*time.Second, func(b []byte) bool {
		var d struct {
			Status   string
			Channels []struct{ ID string }
		}
		return json.Unmarshal(b, &d) == nil && d.Status == "pending" && len(d.Channels) == len(dev.channels)
	})
	status, body := apiDo(t, "POST", base+"/api/v1/organisations", admin, `{"name":"株洲市公安局","kind":"department","department_type":"public_security"}`)
	var org struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(body, &org) != nil {
		t.Fatalf("POST /api/v1/organisations = %d %s", status, body)
	}
	status, body = apiDo(t, "POST", devURL+"/adopt", admin, fmt.Sprintf(`{"organisation_id":%q,"lat":27.83,"lon":113.15}`, org.ID))
	var adopted struct {
		Status   string
		Channels []struct {
			ID       string
			CameraID string `json:"camera_id"`
		}
	}
	if status != http.StatusOK || json.Unmarshal(body, &adopted) != nil || len(adopted.Channels) == 0 {
		t.Fatalf("POST adopt = %d %s; want 200 with the channels' cameras", status, body)
	}
	var cam string
	for _, ch := range adopted.Channels {
		if ch.ID == dev.channels[0].ID {
			cam = ch.CameraID
		}
	}
	if cam == "" {
		t.Fatalf("POST adopt = %s; want a camera for channel %s", body, dev.channels[0].ID)
	}
	status, body = apiDo(t, "PATCH", base+"/api/v1/cameras/"+cam, admin,
		`{"place_category":"public_square","interface_reserved":true,"sign_installed":true,"status":"active"}`)
	if status != http.StatusOK {
		t.Fatalf("PATCH camera to active = %d %s", status, body)
	}
	return cam
}

// TestGB28181EndToEnd: a simulated NVR registers with the running server (digest), its catalog
// arrives, an admin adopts it and activates the camera its channel became; the recorder INVITEs
// the channel and writes fMP4 segments that ffprobe decodes; playback and an export of the
// recorded range come back through the API and decode; a WHEP viewer receives keyframes live;
// each look is in the trail.
func TestGB28181EndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("records a simulated GB/T 28181 channel for several seconds")
	}
	var data string
	srv := startServer(t, func(c *config.Config) { data = c.Data; withGB28181(c) })
	base := srv.URL()
	admin := apiLogin(t, base, "chief")
	dev := startGBDevice(t, srv, "udp", "43020000001320000001", 2)
	cam := adoptAndActivate(t, base, admin, dev)

	// Recording: a few parts written, which playback serves from the open segment.
	waitJSON(t, base+"/api/v1/cameras/"+cam+"/recording", admin, 60*time.Second, func(b []byte) bool {
		var st struct {
			State        string
			Codec        string
			BytesWritten int64 `json:"bytes_written"`
		}
		return json.Unmarshal(b, &st) == nil && st.State == "recording" && st.Codec == "H264" && st.BytesWritten > 1_000_000
	})
	start, end := time.Now().UTC().Add(-2*time.Minute).Format(time.RFC3339), time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	t.Run("playback", func(t *testing.T) {
		status, body := apiDo(t, "GET", fmt.Sprintf("%s/api/v1/cameras/%s/playback.mp4?start=%s&end=%s&purpose=gb+e2e", base, cam, start, end), admin, "")
		if status != http.StatusOK {
			t.Fatalf("GET playback.mp4 = %d %.200s", status, body)
		}
		p := filepath.Join(t.TempDir(), "playback.mp4")
		os.WriteFile(p, body, 0o600)
		if n := ffprobeFrames(t, p); n < 10 {
			t.Errorf("ffprobe playback.mp4 decoded %d frames; want at least 10", n)
		}
	})
	t.Run("export", func(t *testing.T) {
		status, body := apiDo(t, "POST", base+"/api/v1/cameras/"+cam+"/exports", admin,
			fmt.Sprintf(`{"start":%q,"end":%q,"purpose":"gb e2e","case_ref":"C-14"}`, start, end))
		var exp struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(body, &exp) != nil {
			t.Fatalf("POST exports = %d %s", status, body)
		}
		status, zipped := apiDo(t, "GET", base+"/api/v1/exports/"+exp.ID, admin, "")
		if status != http.StatusOK {
			t.Fatalf("GET /api/v1/exports/{id} = %d", status)
		}
		zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
		if err != nil {
			t.Fatalf("export is no zip: %v", err)
		}
		found := false
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".mp4") {
				continue
			}
			found = true
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			p := filepath.Join(t.TempDir(), "export.mp4")
			os.WriteFile(p, b, 0o600)
			if n := ffprobeFrames(t, p); n < 10 {
				t.Errorf("ffprobe %s of the export decoded %d frames; want at least 10", f.Name, n)
			}
		}
		if !found {
			t.Errorf("export holds no .mp4")
		}
	})
	t.Run("live", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		v, err := livetest.NewViewer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		req, _ := http.NewRequest("POST", base+"/api/v1/cameras/"+cam+"/whep?purpose=gb+e2e", strings.NewReader(v.Offer))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST whep = %d %s", res.StatusCode, answer)
		}
		if err := v.Accept(string(answer)); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			au, err := v.NextKey(ctx)
			if err != nil {
				t.Fatalf("live keyframe %d: %v", i, err)
			}
			if au.Codec != "H264" {
				t.Errorf("live codec = %s; want H264", au.Codec)
			}
		}
	})

	// A segment sealed (they are a minute long) is a file ffprobe decodes.
	waitJSON(t, base+"/api/v1/cameras/"+cam+"/recording", admin, 90*time.Second, func(b []byte) bool {
		var st struct {
			State    string
			Codec    string
			Segments int64
		}
		return json.Unmarshal(b, &st) == nil && st.State == "recording" && st.Codec == "H264" && st.Segments >= 1
	})
	var segments []string
	filepath.WalkDir(filepath.Join(data, "recordings", cam), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(path, ".mp4") {
			segments = append(segments, path)
		}
		return nil
	})
	if len(segments) == 0 {
		t.Fatalf("no segment under %s", filepath.Join(data, "recordings", cam))
	}
	slices.Sort(segments) // named by start time; the last is the open one
	for _, p := range segments[:1] {
		if n := ffprobeFrames(t, p); n < 10 {
			t.Errorf("ffprobe %s decoded %d frames; want at least 10", p, n)
		}
	}

	// Every look traced, under the camera, allowed.
	_, body := apiDo(t, "GET", base+"/api/v1/trace?limit=1000&camera_id="+cam, apiLogin(t, base, "li.wei"), "")
	var tr struct {
		Entries []struct {
			Action, Outcome string
		}
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("GET /api/v1/trace: %v: %s", err, body)
	}
	seen := map[string]bool{}
	for _, e := range tr.Entries {
		if e.Outcome == "allowed" {
			seen[e.Action] = true
		}
	}
	for _, a := range []string{"camera_create", "camera_update", "playback", "export", "live_view"} {
		if !seen[a] {
			t.Errorf("trail of camera %s has no allowed %s entry; has %v", cam, a, seen)
		}
	}

	// No longer networked, the camera is not recorded: its play ends with a BYE.
	if n := dev.dev.Playing(); n != 1 {
		t.Errorf("device plays %d sessions while recorded; want 1", n)
	}
	if status, body := apiDo(t, "PATCH", base+"/api/v1/cameras/"+cam, admin, `{"networked":false}`); status != http.StatusOK {
		t.Fatalf("PATCH networked false = %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for dev.dev.Playing() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("device still plays %d sessions after the camera stopped being recorded; want 0 (BYE)", dev.dev.Playing())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNewServerFailureFreesGBListeners: NewServer binds the SIP listeners early; when a later
// step fails (the HTTP or metrics listener taken, the TLS key unreadable) it must release
// them, or the next start on the same port fails with "address in use".
func TestNewServerFailureFreesGBListeners(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		edit func(c *config.Config)
	}{
		{"http listen taken", func(c *config.Config) { c.Listen = taken.Addr().String() }},
		{"metrics listen taken", func(c *config.Config) { c.MetricsListen = taken.Addr().String() }},
		{"tls key unreadable", func(c *config.Config) { c.TLSCertFile, c.TLSKeyFile = missing, missing }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data = filepath.Join(t.TempDir(), "data")
			cfg.Listen = "127.0.0.1:0"
			withGB28181(&cfg)
			udp, tcp, addr := freeUDPAndTCP(t)
			udp.Close()
			tcp.Close()
			cfg.GB28181.Listen = addr
			tt.edit(&cfg)
			core, err := OpenCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer core.Close()
			if srv, err := NewServer(core); err == nil {
				srv.ln.Close()
				t.Fatalf("NewServer(%s) = nil error; want it to fail", tt.name)
			}
			udp, err = net.ListenPacket("udp", addr)
			if err != nil {
				t.Errorf("after NewServer failed, listen udp %s = %v; want the SIP port free", addr, err)
			} else {
				udp.Close()
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("after NewServer failed, listen tcp %s = %v; want the SIP port free", addr, err)
			} else {
				l.Close()
			}
		})
	}
}

// freeUDPAndTCP binds one loopback port over UDP and TCP.
func freeUDPAndTCP(t *testing.T) (net.PacketConn, net.Listener, string) {
	t.Helper()
	for range 20 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, udp.LocalAddr().String()
		}
		udp.Close()
	}
	t.Fatal("no port free over both UDP and TCP")
	return nil, nil, ""
}
