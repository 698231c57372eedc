package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// civicamBin is the real binary, built once for the tests that run it as a user would.
var civicamBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "civicam-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	civicamBin = filepath.Join(dir, "civicam")
	build := exec.Command("go", "build", "-o", civicamBin, "civicam")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build civicam:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs one civicam command to completion.
func runCLI(t *testing.T, stdin string, args ...string) (stdout string, code int) {
	t.Helper()
	cmd := exec.Command(civicamBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String() + errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String() + errb.String(), 0
}

// server is a running `civicam serve`.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var createdName = regexp.MustCompile(`created: name "([^"]+)"`)

var runningRE = regexp.MustCompile(`open (http://[0-9.:]+)/`)

func startServer(t *testing.T, data string, extraEnv ...string) *server {
	t.Helper()
	cmd := exec.Command(civicamBin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := runningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case s.url = <-found:
	case <-s.done:
		t.Fatal("civicam serve exited before it was ready")
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("civicam serve did not start in 30 s")
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); <-s.done })
	return s
}

func (s *server) kill9(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func request(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func login(t *testing.T, url, user, pw string) string {
	t.Helper()
	code, b := request(t, "POST", url+"/api/v1/sessions", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
	if code != 201 {
		t.Fatalf("login = %d %s", code, b)
	}
	var r struct{ Token string }
	json.Unmarshal(b, &r)
	return r.Token
}

// TestNewUserPath is the foundation's "done when": start the server, add the first admin from the
// command line while it runs, create organisations and cameras through the API and the CLI, see a
// prohibited placement refused with its reason, read a compliance report, verify the trail.
func TestNewUserPath(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	if code, _ := request(t, "GET", s.url+"/healthz", "", ""); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if out, code := runCLI(t, "a long admin password\n", "user", "add", "--data", data, "--username", "chief", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add = %d: %s", code, out)
	}
	if out, code := runCLI(t, "", "user", "add", "--data", data, "--username", "x", "--role", "admin", "--password", "p"); code != 2 {
		t.Fatalf("user add with a password flag = %d: %s; want 2 (passwords never on the command line)", code, out)
	}
	tok := login(t, s.url, "chief", "a long admin password")
	code, b := request(t, "POST", s.url+"/api/v1/organisations", tok, `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`)
	if code != 201 {
		t.Fatalf("create organisation = %d %s", code, b)
	}
	var org struct{ ID string }
	json.Unmarshal(b, &org)
	psb, code := runCLI(t, "", "org", "add", "--data", data, "--name", "PSB", "--kind", "department", "--department-type", "public_security")
	if code != 0 {
		t.Fatalf("org add = %d %s", code, psb)
	}
	psbID := strings.TrimSpace(psb)

	code, b = request(t, "POST", s.url+"/api/v1/cameras", tok, fmt.Sprintf(`{"name":"Room 1203","organisation_id":%q,"investment":"private","lat":27.83,"lon":113.14,"place_category":"hotel_guest_room"}`, org.ID))
	if code != 422 || !strings.Contains(string(b), `"code":"prohibited_place"`) || !strings.Contains(string(b), "guest") {
		t.Fatalf("guest-room camera = %d %s; want 422 prohibited_place with its reason", code, b)
	}
	csvPath := filepath.Join(t.TempDir(), "cams.csv")
	os.WriteFile(csvPath, []byte("name,organisation_id,investment,lat,lon,place_category,status\n"+
		"Square,"+psbID+",government,27.83,113.14,public_square,active\n"+
		"Crossing,"+psbID+",government,27.84,113.15,road_intersection,active\n"), 0o600)
	if out, code := runCLI(t, "", "camera", "import", "--data", data, csvPath); code != 0 || !strings.Contains(out, "imported 2 cameras") {
		t.Fatalf("camera import = %d %s", code, out)
	}
	// The server's spatial index learns of the command line's cameras within its sync interval.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := request(t, "GET", s.url+"/api/v1/cameras?near=27.83,113.14&radius_m=50", tok, "")
		if code == 200 && strings.Contains(string(b), `"name":"Square"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("near query never found the imported camera: %d %s", code, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, code := runCLI(t, "", "compliance", "--data", data, "--format", "csv")
	if code != 0 || strings.Count(out, "not_networked") != 2 || strings.Count(out, "no_sign") != 2 {
		t.Fatalf("compliance = %d %s; want not_networked and no_sign for both cameras", code, out)
	}
	code, b = request(t, "GET", s.url+"/api/v1/compliance?organisation_id="+psbID, tok, "")
	if code != 200 || strings.Count(string(b), `"code":"not_networked"`) != 2 {
		t.Fatalf("GET compliance = %d %s", code, b)
	}
	// Everything the CLI did is in the server's trail, and it verifies.
	code, b = request(t, "GET", s.url+"/api/v1/trace?action=camera_import", tok, "")
	if code != 200 || !strings.Contains(string(b), `"username":"cli:`) {
		t.Fatalf("trace of camera_import = %d %s; want the CLI's entry", code, b)
	}
	if out, code := runCLI(t, "", "trace", "verify", "--data", data); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("trace verify = %d %s", code, out)
	}
}

// TestTrailSurvivesKill9 appends to the trail from concurrent clients while the real server is
// killed with SIGKILL, again and again: every append acknowledged to a client must be present
// after the restart, and the trail must verify.
func TestTrailSurvivesKill9(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 3
	}
	data := t.TempDir()
	if out, code := runCLI(t, "a long admin password\n", "user", "add", "--data", data, "--username", "chief", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add = %d: %s", code, out)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	token := ""
	for round := 0; round < kills; round++ {
		s := startServer(t, data, "CIVICAM_TRACE_CHECKPOINT_EVERY=50")
		if token == "" {
			token = login(t, s.url, "chief", "a long admin password")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					name := fmt.Sprintf("org-r%d-w%d-%d", round, w, i)
					req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/api/v1/organisations",
						strings.NewReader(`{"name":"`+name+`","kind":"enterprise"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						return // the server is gone
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == 201 {
						mu.Lock()
						acked[name] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+round*37%300) * time.Millisecond)
		s.kill9(t)
		cancel()
		wg.Wait()
	}
	if len(acked) < kills {
		t.Fatalf("only %d appends acknowledged over %d rounds; the test did not exercise the server", len(acked), kills)
	}
	if out, code := runCLI(t, "", "trace", "verify", "--data", data); code != 0 {
		t.Fatalf("trace verify after %d kills = %d: %s", kills, code, out)
	}
	s := startServer(t, data)
	tok := login(t, s.url, "chief", "a long admin password")
	found := map[string]bool{}
	cursor := ""
	for {
		code, b := request(t, "GET", s.url+"/api/v1/trace?action=organisation_create&order=oldest&limit=10000"+cursor, tok, "")
		if code != 200 {
			t.Fatalf("trace query = %d %s", code, b)
		}
		var page struct {
			Entries []struct{ Reason string }
			Next    *int64 `json:"next_cursor"`
		}
		json.Unmarshal(b, &page)
		for _, e := range page.Entries {
			// The entry names every field of the organisation: `… created: name "org-…"; kind …`.
			if m := createdName.FindStringSubmatch(e.Reason); m != nil {
				found[m[1]] = true
			}
		}
		if page.Next == nil {
			break
		}
		cursor = fmt.Sprintf("&cursor=%d", *page.Next)
	}
	// Every organisation, page by page.
	orgs := map[string]bool{}
	for next := ""; ; {
		code, b := request(t, "GET", s.url+"/api/v1/organisations?limit=1000"+next, tok, "")
		var page struct {
			Organisations []struct{ Name string } `json:"organisations"`
			Next          string                  `json:"next_cursor"`
		}
		if code != 200 || json.Unmarshal(b, &page) != nil {
			t.Fatalf("organisations = %d %s", code, b)
		}
		for _, o := range page.Organisations {
			orgs[o.Name] = true
		}
		if page.Next == "" {
			break
		}
		next = "&cursor=" + url.QueryEscape(page.Next)
	}
	missing := 0
	for name := range acked {
		if !found[name] || !orgs[name] {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged organisation %s is missing after kill -9 (trace %v)", name, found[name])
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged appends lost", missing, len(acked))
	}
	t.Logf("%d kills, %d acknowledged appends, all present; trail verifies", kills, len(acked))
}

// TestBadPolicyPackStopsServer: a pack that does not validate stops the server at start with a
// message naming the file and line.
func TestBadPolicyPackStopsServer(t *testing.T) {
	dir := t.TempDir()
	pack := filepath.Join(dir, "city.yaml")
	os.WriteFile(pack, []byte("version: \"x-1\"\nregulation:\n  nmae: oops\n"), 0o600)
	cmd := exec.Command(civicamBin, "serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CIVICAM_POLICY="+pack)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("serve with a bad pack = %v; want a non-zero exit", err)
	}
	if !strings.Contains(string(out), "city.yaml:3") {
		t.Fatalf("serve with a bad pack said %q; want the file and line (city.yaml:3)", out)
	}
}

// An administrative command never makes a data directory: one made afresh would hold a user no
// running server knows, under a trail and keys of its own (issue 16: `civicam user add` without
// --data silently wrote ./civicam-data).
func TestAdminCommandsNeedTheServersData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, args := range [][]string{
		{"user", "add", "--data", missing, "--username", "chief", "--role", "admin", "--password-stdin"},
		{"org", "add", "--data", missing, "--name", "PSB", "--kind", "department", "--department-type", "public_security"},
		{"recordings", "status", "--data", missing},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			out, code := runCLI(t, "a long admin password\n", args...)
			if code == 0 || !strings.Contains(out, "no civicam data directory at "+missing) {
				t.Errorf("civicam %v = %d %q; want a failure naming the missing directory", args, code, out)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Errorf("civicam %v made %s", args, missing)
			}
		})
	}
}
