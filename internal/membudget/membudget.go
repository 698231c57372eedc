// Package membudget fits a recording process to a memory budget of so many bytes per recorded
// stream (issue 4: at most 1 MiB per 4 Mbit/s camera) while the garbage collector runs as seldom
// as that budget allows.
//
// A recorder's live heap is small (about 0.15 MiB per stream) but it allocates about twice the
// bitrate it receives, so at Go's default setting (GOGC=100) the collector runs every few
// megabytes and is a good part of the recorder's CPU. Once the streams' budget (nine tenths of
// it, for the limit is soft) less what is resident outside the runtime (the binary's code, C
// allocations) leaves the runtime more than Floor, that becomes the runtime's soft memory limit
// and the proportional setting is raised: the collector then runs when the heap nears the limit
// or has grown fivefold since the last collection, whichever comes first, and costs less. Below
// that the process's fixed costs dominate the budget and the runtime keeps its defaults.
//
// An operator who sets GOGC or GOMEMLIMIT keeps them: the budget then changes nothing.
package membudget

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"civicam/internal/procfs"
)

// DefaultPerStream is issue 4's budget for a 4 Mbit/s stream.
const DefaultPerStream = 1 << 20

// Config says how much memory recording may take.
type Config struct {
	// PerStream is the budget per recorded stream, in bytes; 0 leaves the runtime alone.
	PerStream int64
	// Floor is the least limit (64 MiB when zero): with fewer streams than that buys, the
	// runtime keeps its defaults, since a server's fixed costs are more than their budget.
	Floor int64
	// GCPercent is the collector's proportional setting (GOGC) while the limit is far (400 when
	// zero).
	GCPercent int
}

// Budget applies a Config to the running process.
type Budget struct {
	cfg   Config
	log   *slog.Logger
	off   bool
	limit int64
}

// New sets the collector's proportional setting and returns the Budget; Set sets the limit.
func New(cfg Config, log *slog.Logger) *Budget {
	if cfg.Floor <= 0 {
		cfg.Floor = 64 << 20
	}
	if cfg.GCPercent <= 0 {
		cfg.GCPercent = 400
	}
	b := &Budget{cfg: cfg, log: log}
	if cfg.PerStream <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		b.off = true
		return b
	}
	return b
}

// Set fits the limit to streams recorded streams. It is cheap enough to call on every change of
// the recorded set, or periodically: the memory resident outside the runtime (mostly code, paged
// in as it first runs) is measured anew each time.
func (b *Budget) Set(streams int) {
	if b == nil || b.off {
		return
	}
	limit := int64(streams)*b.cfg.PerStream*9/10 - residentOutsideRuntime()
	if limit < b.cfg.Floor {
		limit = 0
	}
	// Small moves are not worth a log line or a change of the collector's pacing.
	if d := limit - b.limit; d > -(1<<20) && d < 1<<20 {
		return
	}
	if limit == 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
	} else {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(b.cfg.GCPercent)
	}
	b.limit = limit
	b.log.Debug("memory budget", "streams", streams, "limit_mib", limit>>20)
}

// Limit is the memory limit last set, 0 when the runtime keeps its defaults.
func (b *Budget) Limit() int64 {
	if b == nil || b.off {
		return 0
	}
	return b.limit
}

// residentOutsideRuntime is what the process has resident besides the runtime's memory: its
// file-backed pages (RssFile), which are mostly the binary's code. Anonymous memory from C
// allocations (SQLite's page cache) cannot be told apart from the runtime's and is left to the
// margin; 0 where /proc is not available.
func residentOutsideRuntime() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return int64(procfs.Field(status, "RssFile:")) << 10
}
