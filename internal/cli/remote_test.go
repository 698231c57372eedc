package cli_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// pythonVerifier is docs/trace-verify.py, the verifier written from docs/trace-format.md alone.
var pythonVerifier = filepath.Join("..", "..", "docs", "trace-verify.py")

// runPython runs the independent verifier with Debian's python3.
func runPython(t *testing.T, token string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{pythonVerifier}, args...)...)
	cmd.Env = append(os.Environ(), "CIVICAM_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run python3: %v", err)
	}
	return string(out), 0
}

// TestTraceVerifyRemote is issue 13 point 6: the trail of a running server is checked through
// its API only — by `civicam trace verify --remote` (signatures, leaves, tree) and by a Python
// script sharing no code with civicam — and after an entry's bytes are edited in the database
// both see it, and civicam names the entry.
func TestTraceVerifyRemote(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	data := t.TempDir()
	s := startServer(t, data)
	for _, u := range []struct{ name, role string }{{"chief", "admin"}, {"inspector", "auditor"}} {
		if out, code := runCLI(t, "a long enough password\n", "user", "add", "--data", data, "--username", u.name, "--role", u.role, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s = %d: %s", u.name, code, out)
		}
	}
	admin := login(t, s.url, "chief", "a long enough password")
	for i := range 5 {
		if code, b := request(t, "POST", s.url+"/api/v1/organisations", admin, fmt.Sprintf(`{"name":"Hotel %d 湘","kind":"establishment","establishment_type":"hotel"}`, i)); code != 201 {
			t.Fatalf("create organisation = %d %s", code, b)
		}
	}
	auditor := login(t, s.url, "inspector", "a long enough password")

	// The leaves are the auditors': a visitor and an admin's lesser colleagues get none.
	if code, _ := request(t, "GET", s.url+"/api/v1/trace/leaves?start=0", "", ""); code != 401 {
		t.Errorf("GET leaves without a token = %d; want 401", code)
	}
	code, kept := request(t, "POST", s.url+"/api/v1/trace/checkpoint", auditor, "")
	if code != 201 {
		t.Fatalf("POST checkpoint = %d %s", code, kept)
	}
	keptFile := filepath.Join(t.TempDir(), "checkpoint")
	if err := os.WriteFile(keptFile, kept, 0o600); err != nil {
		t.Fatal(err)
	}
	_, vkey := request(t, "GET", s.url+"/api/v1/trace/key", "", "")
	key := strings.TrimSpace(string(vkey))

	out, code := runCLI(t, "", "trace", "verify", "--remote", s.url, "--token", auditor, "--key", key, "--checkpoint", keptFile)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("trace verify --remote on an intact trail = %d %s; want 0, intact", code, out)
	}
	if out, code := runPython(t, auditor, s.url, keptFile); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("trace-verify.py on an intact trail = %d %s; want 0, intact", code, out)
	}
	if out, code := runCLI(t, "", "trace", "verify", "--remote", s.url, "--key", key); code == 0 {
		t.Errorf("trace verify --remote without a token = 0 %s; want refused (the leaves are the auditors')", out)
	}

	// Edit one entry's bytes in the database, as someone with the database but not the key
	// would: an organisation's name.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "civicam.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq int64
	var entry string
	if err := db.QueryRow(`SELECT seq, entry FROM trace_entries WHERE entry LIKE '%Hotel 2 湘%' ORDER BY seq LIMIT 1`).Scan(&seq, &entry); err != nil {
		t.Fatalf("find the entry to edit: %v", err)
	}
	for _, q := range []string{"DROP TRIGGER trace_entries_no_update",
		`UPDATE trace_entries SET entry = '` + strings.ReplaceAll(strings.Replace(entry, "Hotel 2 湘", "Hotel 9 湘", 1), "'", "''") + fmt.Sprintf(`' WHERE seq = %d`, seq)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}

	out, code = runCLI(t, "", "trace", "verify", "--remote", s.url, "--token", auditor, "--key", key, "--checkpoint", keptFile)
	t.Logf("trace verify --remote on the edited trail: %s", out)
	if want := fmt.Sprintf("first bad entry: %d\n", seq); code != 3 || !strings.Contains(out, want) {
		t.Errorf("trace verify --remote on an edited trail = %d %s; want 3 and %q", code, out, want)
	}
	if out, code := runPython(t, auditor, s.url, keptFile); code != 3 || !strings.Contains(out, "DAMAGED") {
		t.Errorf("trace-verify.py on an edited trail = %d %s; want 3, DAMAGED", code, out)
	}
}
