package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"civicam/internal/config"
	"civicam/internal/policy"
	"civicam/internal/trace"
)

// restartUnder starts and stops a server on cfg, and returns the trail's pack_in_force entries,
// newest first.
func restartUnder(t *testing.T, cfg config.Config) []trace.Entry {
	t.Helper()
	core, err := OpenCore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	srv, err := NewServer(core)
	if err != nil {
		t.Fatalf("NewServer = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Run(ctx)
	got, _, err := core.Trail.Query(context.Background(), trace.Filter{Action: trace.ActionPackInForce})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPackInForceTraced checks issue 13 point 5: the server traces the pack it starts with
// (name, version, SHA-256) when it differs from the last one traced, and a restart under the
// same pack adds nothing.
func TestPackInForceTraced(t *testing.T) {
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	cfg.Listen = "127.0.0.1:0"
	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	got := restartUnder(t, cfg)
	if len(got) != 1 {
		t.Fatalf("pack_in_force entries after the first start = %d; want 1", len(got))
	}
	if d := got[0].Detail; d["sha256"] != def.Digest() || d["version"] != def.Version() || d["name"] != def.Regulation().Name {
		t.Errorf("pack_in_force detail = %v; want name %q, version %q, sha256 %s", d, def.Regulation().Name, def.Version(), def.Digest())
	}
	if got := restartUnder(t, cfg); len(got) != 1 {
		t.Errorf("pack_in_force entries after a restart under the same pack = %d; want still 1", len(got))
	}

	other := filepath.Join(t.TempDir(), "othercity.yaml")
	data, err := os.ReadFile(filepath.Join("..", "policy", "testdata", "othercity.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, data, 0o600); err != nil {
		t.Fatal(err)
	}
	oc, err := policy.Load(other)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = other
	got = restartUnder(t, cfg)
	if len(got) != 2 {
		t.Fatalf("pack_in_force entries after switching packs = %d; want 2", len(got))
	}
	if d := got[0].Detail; d["sha256"] != oc.Digest() || d["version"] != oc.Version() || d["previous_sha256"] != def.Digest() {
		t.Errorf("pack_in_force detail after the switch = %v; want sha256 %s, version %s, previous_sha256 %s", d, oc.Digest(), oc.Version(), def.Digest())
	}
	cfg.Policy = ""
	if got := restartUnder(t, cfg); len(got) != 3 || got[0].Detail["sha256"] != def.Digest() {
		t.Errorf("pack_in_force entries after switching back = %d (newest %v); want 3, the newest the default pack", len(got), got)
	}
}

// TestEmbeddedPackChosen checks that config chooses a shipped pack by name, so switching to the
// second pack needs no file and no code.
func TestEmbeddedPackChosen(t *testing.T) {
	tests := []struct{ policy, version string }{
		{"", "zhuzhou-2024.1"},
		{"embedded:zhuzhou.yaml", "zhuzhou-2024.1"},
		{"embedded:typical.yaml", "typical-2026.1"},
	}
	for _, tt := range tests {
		p, err := loadPack(tt.policy)
		if err != nil {
			t.Fatalf("loadPack(%q) = %v", tt.policy, err)
		}
		if p.Version() != tt.version {
			t.Errorf("loadPack(%q).Version() = %q; want %q", tt.policy, p.Version(), tt.version)
		}
	}
	if _, err := loadPack("embedded:nocity.yaml"); err == nil {
		t.Errorf("loadPack(embedded:nocity.yaml) = nil error; want one")
	}
}
