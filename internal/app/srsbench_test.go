package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/config"
)

// srsBenchDir is the small module that builds srs-bench's GB/T 28181 device.
var srsBenchDir = filepath.Join("..", "gb28181", "testdata", "srsbench")

// buildSRSBench builds srs-bench's device from the module proxy into a temporary directory and
// returns the binary and the module's directory (which holds the clips it sends). It skips the
// test, saying why, only when the module cannot be fetched.
func buildSRSBench(t *testing.T) (bin, moduleDir string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "srsbench")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = srsBenchDir
	if out, err := build.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("proxy")) || bytes.Contains(out, []byte("dial tcp")) || bytes.Contains(out, []byte("no such host")) {
			t.Skipf("srs-bench cannot be fetched from the module proxy: %s", out)
		}
		t.Fatalf("build srs-bench: %v: %s", err, out)
	}
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ossrs/srs-bench")
	list.Dir = srsBenchDir
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list srs-bench: %v", err)
	}
	return bin, strings.TrimSpace(string(out))
}

// lockedBuffer collects a process's output for the test's failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGB28181SRSBenchDevice: srs-bench's device, an implementation independent of ours,
// registers over TCP without digest (the platform has a global password; an admin set this
// device to need none), answers no catalog (so it is its own channel), answers the
// INVITE with a 200 that has no To tag and no SDP, names an unreachable address in Via and
// Contact, and streams H.264 + AAC in PS over RTP/TCP. Adopted and activated, it is recorded,
// and its playback decodes in ffprobe.
func TestGB28181SRSBenchDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds srs-bench and records it")
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	bin, mod := buildSRSBench(t)
	srv := startServer(t, func(c *config.Config) {
		withGB28181(c) // with the global password: srs-bench's device alone is let in without digest
		c.GB28181.MediaPorts = "31700-31799"
	})
	base := srv.URL()
	admin := apiLogin(t, base, "chief")
	const device = "43020000001320000077"
	// srs-bench registers without digest: before it first registers, an admin says it may.
	if status, body := apiDo(t, "PUT", base+"/api/v1/gb28181/devices/"+device+"/auth", admin, `{"auth":"none"}`); status != http.StatusOK {
		t.Fatalf("PUT auth none = %d %s", status, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-sfu", "gb28181", "-pr", "tcp://"+srv.gb.Addr(), "-user", device,
		"-server", gbPlatformID, "-domain", gbDomain, "-sa", filepath.Join(mod, "avatar.aac"),
		"-sv", filepath.Join(mod, "avatar.h264"), "-fps", "25")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("srs-bench said:\n%s", out.String())
		}
	})

	devURL := base + "/api/v1/gb28181/devices/" + device
	waitJSON(t, devURL, admin, 30*time.Second, func(b []byte) bool {
		var d struct{ Status, Transport string }
		return json.Unmarshal(b, &d) == nil && d.Status == "pending" && d.Transport == "tcp"
	})
	status, body := apiDo(t, "POST", base+"/api/v1/organisations", admin, `{"name":"株洲市交警支队","kind":"department","department_type":"public_security"}`)
	var org struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(body, &org) != nil {
		t.Fatalf("POST /api/v1/organisations = %d %s", status, body)
	}
	// Its catalog query goes unanswered (10 s); from then on the device is its own channel.
	var adopted struct {
		Channels []struct {
			ID       string
			CameraID string `json:"camera_id"`
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		status, body = apiDo(t, "POST", devURL+"/adopt", admin, fmt.Sprintf(`{"organisation_id":%q,"lat":27.83,"lon":113.15}`, org.ID))
		if status != http.StatusOK || json.Unmarshal(body, &adopted) != nil {
			t.Fatalf("POST adopt = %d %s", status, body)
		}
		if len(adopted.Channels) == 1 && adopted.Channels[0].CameraID != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST adopt = %d %s; want the device as its own channel, with a camera", status, body)
		}
	}
	cam := adopted.Channels[0].CameraID
	if status, body := apiDo(t, "PATCH", base+"/api/v1/cameras/"+cam, admin,
		`{"place_category":"public_square","interface_reserved":true,"sign_installed":true,"status":"active"}`); status != http.StatusOK {
		t.Fatalf("PATCH camera to active = %d %s", status, body)
	}
	waitJSON(t, base+"/api/v1/cameras/"+cam+"/recording", admin, 60*time.Second, func(b []byte) bool {
		var st struct {
			State        string
			Codec        string
			BytesWritten int64 `json:"bytes_written"`
		}
		return json.Unmarshal(b, &st) == nil && st.State == "recording" && st.Codec == "H264" && st.BytesWritten > 200_000
	})
	start, end := time.Now().UTC().Add(-2*time.Minute).Format(time.RFC3339), time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	status, body = apiDo(t, "GET", fmt.Sprintf("%s/api/v1/cameras/%s/playback.mp4?start=%s&end=%s&purpose=srs-bench", base, cam, start, end), admin, "")
	if status != http.StatusOK {
		t.Fatalf("GET playback.mp4 = %d %.200s", status, body)
	}
	p := filepath.Join(t.TempDir(), "playback.mp4")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := ffprobeFrames(t, p); n < 10 {
		t.Errorf("ffprobe of srs-bench's recording decoded %d frames; want at least 10", n)
	}
}
