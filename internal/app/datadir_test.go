package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"civicam/internal/config"
)

// TestOpenCoreNarrowsTheDataDirectory: the database file was 0644 and the directory 0750; a
// data directory left wide by an earlier version or a careless copy is corrected at start.
func TestOpenCoreNarrowsTheDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // whatever the umask did
	cfg := config.Default()
	cfg.Data = dir
	var logged strings.Builder
	core, err := OpenCore(context.Background(), cfg, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatalf("OpenCore = %v", err)
	}
	defer core.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "stray.txt"): 0o600,
		filepath.Join(dir, "civicam.db"): 0o600, filepath.Join(dir, "trace.key"): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got&^want != 0 {
			t.Errorf("mode of %s = %#o; want at most %#o", path, got, want)
		}
	}
	if !strings.Contains(logged.String(), "permissions narrowed") {
		t.Errorf("OpenCore logged %q; want a warning that permissions were narrowed", logged.String())
	}
}
