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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/config"
	"civicam/internal/registry"
	"civicam/internal/simcam"
)

// setupCtx acts as an admin at the console, for fixtures.
var setupCtx = auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})

// addCamera registers, through the registry service, a camera pulling from source.
func addCamera(t *testing.T, core *Core, source string) *registry.Camera {
	t.Helper()
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := core.Registry.CreateOrganisation(setupCtx, org); err != nil {
		t.Fatal(err)
	}
	name, inv, cat, lat, lon, networked := "Gate", registry.InvestmentGovernment, "public_square", 27.83, 113.15, true
	c, err := core.Registry.CreateCamera(setupCtx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &org.ID,
		Investment: &inv, PlaceCategory: &cat, Lat: &lat, Lon: &lon, SourceURL: &source, Networked: &networked})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The key sealing stream credentials is made at first start, 0600, in the data directory; a
// node pointed at a copy of it (secret_key_file, as nodes sharing a database are) reads the
// credentials; a node with another key does not start, and says which key is at fault.
func TestOpenCoreStreamCredentialsKey(t *testing.T) {
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	log := slog.New(slog.DiscardHandler)
	core, err := OpenCore(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("OpenCore = %v", err)
	}
	const source = "rtsp://admin:hunter2@10.0.0.1/cam/2?password=hunter3"
	cam := addCamera(t, core, source)
	core.Close()
	keyPath := filepath.Join(cfg.Data, "secret.key")
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s = %v, %v; want a key file of mode 0600", keyPath, st, err)
	}

	shared := filepath.Join(t.TempDir(), "shared.key")
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shared, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(keyPath)
	cfg.SecretKeyFile = shared
	core, err = OpenCore(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("OpenCore(secret_key_file = a copy of the key) = %v", err)
	}
	got, err := core.Registry.Camera(context.Background(), registry.Scope{All: true}, cam.ID)
	core.Close()
	if err != nil || got.SourceURL != source {
		t.Fatalf("Camera().SourceURL with the shared key = %v, %v; want %q", got, err, source)
	}

	cfg.SecretKeyFile = "" // DATA/secret.key, removed above: a new, wrong key is made
	core, err = OpenCore(context.Background(), cfg, log)
	if err == nil {
		core.Close()
		t.Fatal("OpenCore(another key) = nil error; want it refused at start")
	}
	if msg := err.Error(); !strings.Contains(msg, keyPath) || !strings.Contains(msg, "secret_key_file") || !strings.Contains(msg, cam.ID) || strings.Contains(msg, "hunter") {
		t.Errorf("OpenCore(another key) = %q; want it to name the key file, secret_key_file and the camera, not the password", msg)
	}
}

// syncBuffer is a log sink several goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// apiDo sends an API request with a bearer token and returns the status and body.
func apiDo(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func apiLogin(t *testing.T, base, username string) string {
	t.Helper()
	status, body := apiDo(t, "POST", base+"/api/v1/sessions", "", fmt.Sprintf(`{"username":%q,"password":%q}`, username, userPassword))
	var res struct{ Token string }
	if status != http.StatusCreated || json.Unmarshal(body, &res) != nil {
		t.Fatalf("POST /api/v1/sessions as %s = %d %s", username, status, body)
	}
	return res.Token
}

// TestAttackStreamSecretsNeverLeave: a camera's stream credentials (user:pass@ and
// ?password=… in its source URL) must reach the recorder and nothing else. Against the running
// server, recording a simulated camera under such a URL: the camera in the API and on its page,
// the trail, the export's files, the log at debug level and every file of the data directory
// (the SQLite database and its journal included) hold neither password.
func TestAttackStreamSecretsNeverLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("records a simulated camera for a few seconds")
	}
	sim := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: 1, Codec: simcam.H264, Bitrate: 500_000}, nil)
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan struct{})
	go func() { defer close(simDone); sim.Run(simCtx) }()
	t.Cleanup(func() { stopSim(); <-simDone })
	select {
	case <-sim.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("simcam did not start")
	}
	passwords := []string{"hunter2", "hunter3"}
	source := strings.Replace(sim.URL(1), "rtsp://", "rtsp://admin:hunter2@", 1) + "?user=admin&password=hunter3"

	logs := &syncBuffer{}
	var data string
	srv := startServerLogging(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		func(c *config.Config) { data = c.Data })
	base := srv.URL()
	admin := apiLogin(t, base, "chief")
	status, body := apiDo(t, "POST", base+"/api/v1/organisations", admin, `{"name":"PSB","kind":"department","department_type":"public_security"}`)
	var org struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(body, &org) != nil {
		t.Fatalf("POST /api/v1/organisations = %d %s", status, body)
	}
	status, body = apiDo(t, "POST", base+"/api/v1/cameras", admin, fmt.Sprintf(`{"name":"Gate","organisation_id":%q,"investment":"government",
		"lat":27.83,"lon":113.15,"place_category":"public_square","networked":true,"interface_reserved":true,"sign_installed":true,
		"status":"active","source_url":%q}`, org.ID, source))
	var cam struct{ ID string }
	if status != http.StatusCreated || json.Unmarshal(body, &cam) != nil {
		t.Fatalf("POST /api/v1/cameras = %d %s", status, body)
	}
	answers := map[string][]byte{"POST /api/v1/cameras": body}

	// The recorder, and only it, gets the clear URL: it records.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body = apiDo(t, "GET", base+"/api/v1/cameras/"+cam.ID+"/recording", admin, "")
		var st struct {
			State        string
			BytesWritten int64 `json:"bytes_written"`
		}
		json.Unmarshal(body, &st)
		if st.State == "recording" && st.BytesWritten > 200_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the camera did not record: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	answers["GET /api/v1/cameras/{id}/recording"] = body

	_, answers["GET /api/v1/cameras/{id}"] = apiDo(t, "GET", base+"/api/v1/cameras/"+cam.ID, admin, "")
	_, answers["GET /api/v1/cameras"] = apiDo(t, "GET", base+"/api/v1/cameras", admin, "")
	_, answers["GET /api/v1/cameras/{id}/recordings"] = apiDo(t, "GET", base+"/api/v1/cameras/"+cam.ID+"/recordings", admin, "")
	_, answers["PATCH /api/v1/cameras/{id}"] = apiDo(t, "PATCH", base+"/api/v1/cameras/"+cam.ID, admin, `{"name":"Gate 2"}`)

	now := time.Now().UTC()
	status, body = apiDo(t, "POST", base+"/api/v1/cameras/"+cam.ID+"/exports", admin,
		fmt.Sprintf(`{"start":%q,"end":%q,"purpose":"incident 7","case_ref":"C-7"}`, now.Add(-time.Minute).Format(time.RFC3339), now.Format(time.RFC3339)))
	var exp struct{ ID, Download string }
	if status != http.StatusCreated || json.Unmarshal(body, &exp) != nil {
		t.Fatalf("POST /api/v1/cameras/{id}/exports = %d %s", status, body)
	}
	answers["POST /api/v1/cameras/{id}/exports"] = body
	status, zipped := apiDo(t, "GET", base+"/api/v1/exports/"+exp.ID, admin, "")
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/exports/{id} = %d", status)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("export is no zip: %v", err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		answers["export file "+f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}

	web := &http.Client{Timeout: 30 * time.Second}
	cookies := loginAs(t, web, base, "chief")
	req, _ := http.NewRequest("GET", base+"/cameras/"+cam.ID, nil)
	req.AddCookie(cookies["civicam_session"])
	res, err := web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answers["web UI camera page"], _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(answers["web UI camera page"]), "password=***") {
		t.Errorf("GET /cameras/{id} = %d; want 200 showing the source with its password masked", res.StatusCode)
	}

	_, answers["GET /api/v1/trace"] = apiDo(t, "GET", base+"/api/v1/trace?limit=1000", apiLogin(t, base, "li.wei"), "")
	if !strings.Contains(string(answers["GET /api/v1/trace"]), cam.ID) {
		t.Errorf("GET /api/v1/trace = %.300s; want the camera's entries", answers["GET /api/v1/trace"])
	}
	answers["the log"] = []byte(logs.String())
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(path, ".mp4") && !strings.HasSuffix(path, ".zip") {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
			}
			answers["data file "+strings.TrimPrefix(path, data)] = b
		}
		return nil
	})
	if _, ok := answers["data file /civicam.db"]; !ok {
		t.Fatalf("found no database in %s", data)
	}
	for where, b := range answers {
		for _, pw := range passwords {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("%s holds the stream password %q", where, pw)
			}
		}
	}
	t.Logf("checked %d answers and files", len(answers))
}
