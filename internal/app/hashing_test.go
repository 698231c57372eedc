package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"civicam/internal/config"
	"civicam/internal/procfs"
)

var measureRSS = flag.Bool("rss", false, "run TestRegistrationMemory, which measures the process's resident memory (make bench-hashing)")

// TestRegistrationMemory: 32 concurrent registrations reached 2.1 GiB resident and 64 reached
// 4.2 GiB, because registration hashed passwords (64 MiB each) outside the bound logins had.
// Against the running server, 64 at once must keep the process under 512 MiB: every argon2id
// use waits for one of the process's few slots, or is refused with 503. It measures this test
// process (the server runs in it), so it runs alone: go test -run TestRegistrationMemory -rss.
func TestRegistrationMemory(t *testing.T) {
	if !*measureRSS {
		t.Skip("measures resident memory; run with -rss (make bench-hashing)")
	}
	cfg := config.Default()
	cfg.Applications.RegistrationsPerAddress = 1000 // all from this one address
	addr, _ := serve(t, cfg)

	// Peak resident memory from here on: writing 5 to clear_refs resets VmHWM.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset peak RSS: %v", err)
	}
	before := status(t, "VmRSS:")
	const n = 64
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"username":"mother%d","password":"a long enough password","contact":"m%d@example.cn"}`, i, i)
			res, err := http.Post("http://"+addr+"/api/v1/applicants", "application/json", strings.NewReader(body))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes[0]++
				return
			}
			res.Body.Close()
			codes[res.StatusCode]++
		})
	}
	wg.Wait()
	peak, after := status(t, "VmHWM:"), status(t, "VmRSS:")
	t.Logf("%d concurrent registrations: answers %v; resident %d MiB before, peak %d MiB, %d MiB after",
		n, codes, before>>10, peak>>10, after>>10)
	if peak >= 512<<10 {
		t.Errorf("peak resident memory = %d MiB; want under 512 MiB", peak>>10)
	}
	if codes[http.StatusAccepted] == 0 {
		t.Errorf("answers %v; want some registrations accepted", codes)
	}
}

// status is a field of /proc/self/status, in kB.
func status(t *testing.T, key string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	return procfs.Field(b, key)
}

// serve runs the server on cfg, its data in a temporary directory, until
// the test ends. It returns the server's address and a context that ends when the server stops.
func serve(t *testing.T, cfg config.Config) (string, context.Context) {
	t.Helper()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	cfg.Listen = "127.0.0.1:0"
	core, err := OpenCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(core)
	if err != nil {
		core.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; core.Close() })
	return srv.Addr(), ctx
}
