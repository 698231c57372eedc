package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"civicam/internal/config"
	"civicam/internal/trace"
)

// openOrigin starts a core on data (made with a trace key named keyName first, unless "") and
// returns the trail's origin and what was logged.
func openOrigin(t *testing.T, cfg config.Config, keyName string) (string, string) {
	t.Helper()
	if keyName != "" {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := trace.LoadOrCreateKey(filepath.Join(cfg.Data, "trace.key"), keyName); err != nil {
			t.Fatal(err)
		}
	}
	var logs syncBuffer
	core, err := OpenCore(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("OpenCore = %v", err)
	}
	defer core.Close()
	cp, err := core.Trail.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	origin, _, _ := strings.Cut(string(cp), "\n")
	if origin != core.Key.Name() {
		t.Errorf("checkpoint origin = %q; want the key's name %q", origin, core.Key.Name())
	}
	return origin, logs.String()
}

// TestTraceOrigin checks issue 13 point 7: by default each installation's log gets an origin of
// its own (public_url's host and a hash of its key), an existing trail keeps its origin, and the
// server warns at start when the origin is one other installations could share.
func TestTraceOrigin(t *testing.T) {
	const warning = "could be shared by other installations"
	base := func() config.Config {
		cfg := config.Default()
		cfg.Data = filepath.Join(t.TempDir(), "data")
		return cfg
	}
	t.Run("default is derived and unique", func(t *testing.T) {
		a, b := base(), base()
		a.PublicURL, b.PublicURL = "https://cctv.zhuzhou.example.cn", "https://cctv.zhuzhou.example.cn"
		oa, logs := openOrigin(t, a, "")
		ob, _ := openOrigin(t, b, "")
		if !strings.HasPrefix(oa, "cctv.zhuzhou.example.cn/trace/") {
			t.Errorf("default origin = %q; want public_url's host, /trace/ and a hash", oa)
		}
		if oa == ob {
			t.Errorf("two installations both got origin %q; want different origins", oa)
		}
		if strings.Contains(logs, warning) {
			t.Errorf("start with a derived origin logged %q; want no warning", logs)
		}
		again, _ := openOrigin(t, a, "")
		if again != oa {
			t.Errorf("origin after a restart = %q; want %q kept", again, oa)
		}
	})
	t.Run("without public_url", func(t *testing.T) {
		o, logs := openOrigin(t, base(), "")
		if !strings.HasPrefix(o, "civicam/trace/") || o == trace.LegacyOrigin {
			t.Errorf("origin without public_url = %q; want civicam/trace/<hash>", o)
		}
		if strings.Contains(logs, warning) {
			t.Errorf("start logged %q; want no warning", logs)
		}
	})
	t.Run("an old trail keeps its origin and is warned about", func(t *testing.T) {
		o, logs := openOrigin(t, base(), trace.LegacyOrigin)
		if o != trace.LegacyOrigin {
			t.Errorf("origin of an existing trail = %q; want %q kept", o, trace.LegacyOrigin)
		}
		if !strings.Contains(logs, warning) || !strings.Contains(logs, "level=WARN") {
			t.Errorf("start with origin %q logged %q; want a warning %q", o, logs, warning)
		}
	})
	t.Run("a configured shared origin is warned about", func(t *testing.T) {
		cfg := base()
		cfg.Trace.Origin = "localhost/trace"
		o, logs := openOrigin(t, cfg, "")
		if o != "localhost/trace" || !strings.Contains(logs, warning) {
			t.Errorf("configured origin %q: got %q, logged %q; want it used and warned about", cfg.Trace.Origin, o, logs)
		}
	})
	t.Run("a configured unique origin", func(t *testing.T) {
		cfg := base()
		cfg.Trace.Origin = "cctv.zhuzhou.gov.cn/trace"
		o, logs := openOrigin(t, cfg, "")
		if o != cfg.Trace.Origin || strings.Contains(logs, warning) {
			t.Errorf("configured origin %q: got %q, logged %q; want it used without a warning", cfg.Trace.Origin, o, logs)
		}
	})
}
