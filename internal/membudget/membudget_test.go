package membudget

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// restoreRuntime puts the collector's settings back after a test that changes them.
func restoreRuntime(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	})
}

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestSet(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: the budget is off by design")
	}
	restoreRuntime(t)
	b := New(Config{PerStream: 1 << 20, Floor: 64 << 20, GCPercent: 300}, slog.New(slog.DiscardHandler))
	tests := []struct {
		name     string
		streams  int
		wantOn   bool
		maxLimit int64
	}{
		{"no streams: defaults", 0, false, 0},
		{"a few streams: fixed costs dominate, defaults", 10, false, 0},
		{"many streams: the budget less what lies outside the runtime", 10_000, true, 10_000 << 20 * 9 / 10},
		{"back to few", 5, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Set(tt.streams)
			limit := debug.SetMemoryLimit(-1)
			if !tt.wantOn {
				if b.Limit() != 0 || limit != math.MaxInt64 || gcPercent() != 100 {
					t.Errorf("Set(%d): Limit() = %d, runtime limit %d, GOGC %d; want 0, none, 100", tt.streams, b.Limit(), limit, gcPercent())
				}
				return
			}
			// What lies outside the runtime is this test binary's code and C memory: far less
			// than a gigabyte.
			if b.Limit() != limit || limit > tt.maxLimit || limit < tt.maxLimit-(1<<30) || gcPercent() != 300 {
				t.Errorf("Set(%d): Limit() = %d, runtime limit %d, GOGC %d; want one limit in (%d-1GiB, %d], GOGC 300",
					tt.streams, b.Limit(), limit, gcPercent(), tt.maxLimit, tt.maxLimit)
			}
		})
	}
}

func TestOperatorSettingsWin(t *testing.T) {
	restoreRuntime(t)
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "200")
			debug.SetMemoryLimit(math.MaxInt64)
			b := New(Config{PerStream: 1 << 20}, slog.New(slog.DiscardHandler))
			b.Set(100_000)
			if b.Limit() != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
				t.Errorf("with %s set: Limit() = %d, runtime limit %d; want the runtime left alone", env, b.Limit(), debug.SetMemoryLimit(-1))
			}
		})
	}
}

func TestResidentOutsideRuntime(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	// The test binary's code is resident and not the runtime's.
	if got := residentOutsideRuntime(); got <= 0 || got > 1<<30 {
		t.Errorf("residentOutsideRuntime() = %d; want some megabytes", got)
	}
}
