package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"civicam/internal/config"
)

// TestMetricsInBaseUnits scrapes the running server's /metrics and checks every family the way
// Prometheus' own linter does: names in base units (seconds, bytes; never hours, days or
// percent), and, where promtool is installed (.ci/run installs it), `promtool check metrics`
// finds nothing.
func TestMetricsInBaseUnits(t *testing.T) {
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	cfg.Listen = "127.0.0.1:0"
	core, err := OpenCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	srv, err := NewServer(core)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The storage forecast is computed once the planner runs; wait for it so its families are in
	// the scrape.
	var body []byte
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + srv.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics = %d; want 200", resp.StatusCode)
		}
		if bytes.Contains(body, []byte("civicam_storage_free_bytes{")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /metrics has no civicam_storage_free_bytes after 20 s:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	badUnit := regexp.MustCompile(`_(hours?|days?|minutes?|milliseconds?|percent|kilobytes|megabytes)(_|$)`)
	families := 0
	for line := range strings.Lines(string(body)) {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if !strings.HasPrefix(name, "civicam_") {
			continue
		}
		families++
		if badUnit.MatchString(name) {
			t.Errorf("metric %s is not in a base unit (seconds, bytes, ratio)", name)
		}
	}
	if families < 10 {
		t.Errorf("scrape has %d civicam_ families; want the server's metrics (at least 10)", families)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed; `apt-get install prometheus` to run its check too")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
