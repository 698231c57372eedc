// Package retention keeps recordings for as long as the regulation and their camera ask, and no
// longer (REG-5). The Cleaner deletes, working from the recordings index and never by walking
// directories, every sealed segment older than its camera's retention (never less than the
// policy pack's floor), unless a legal hold covers it. The Planner forecasts, per storage
// location, how many days the disk can hold at the cameras' measured intake, raises the
// storage_below_floor compliance finding and metrics before the floor is at risk, and watches for
// cameras whose recording stopped because their storage is full.
//
// Nothing here ever deletes footage to make room: when a disk fills, recording stops (the
// recorder reports "storage full" and retries), and it resumes by itself once space returns.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/auth"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Day is the unit retention is counted in: 24 hours, whatever the calendar says.
const Day = 24 * time.Hour

// deleteChunk is how many files are removed before their index entries are deleted together.
const deleteChunk = 256

// Index is what the Cleaner needs of the recordings index; *store.DB implements it.
type Index interface {
	// SegmentsEndedBefore lists up to limit sealed segments of a camera that ended before t,
	// oldest first.
	SegmentsEndedBefore(ctx context.Context, cameraID string, t time.Time, limit int) ([]segment.Record, error)
	// DeleteSegments removes the entries at paths; entries already gone are not an error.
	DeleteSegments(ctx context.Context, paths []string) error
	// ActiveHoldRanges lists the time ranges of a camera's active legal holds, in start order.
	ActiveHoldRanges(ctx context.Context, cameraID string) ([]timespan.Range, error)
	RecordingSummaries(ctx context.Context, since time.Time) ([]RecordingSummary, error)
}

// RecordingSummary is what the index holds of one camera's sealed recordings.
type RecordingSummary struct {
	CameraID string
	Segments int64
	Bytes    int64
	Oldest   time.Time // start of the oldest segment
	Newest   time.Time // end of the newest segment
	// Recorded is the sum of the segments' durations.
	Recorded time.Duration
}

// Files removes segment files by key; *segment.Disk implements it. Removing a file that is
// already gone must not be an error.
type Files interface {
	Remove(key string) error
}

// Registry is where cameras' retention days and the policy pack come from; *registry.Service
// implements it.
type Registry interface {
	Cameras(ctx context.Context, scope registry.Scope, f registry.CameraFilter) ([]*registry.Camera, error)
	Pack() *policy.Pack
}

// Config tunes the Cleaner.
type Config struct {
	// Interval between runs; default 1 h.
	Interval time.Duration
	// Batch is how many segments one round deletes at most, across all cameras; each round is
	// traced as one entry before it deletes anything. Default 10000.
	Batch int
	// Node is this node's id: of the segments on local disk it deletes only those it wrote
	// (and those of no node, from before nodes were named), which are on its own disk. Empty
	// deletes every local segment (one node alone).
	Node string
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 10000
	}
	return c
}

// Deps are the Cleaner's collaborators.
type Deps struct {
	Index    Index
	Files    Files
	Registry Registry
	Tracer   trace.Tracer
	// MayDeleteBucket reports whether this node holds the cluster-wide cleaner lease, the one
	// node that deletes segments in the bucket; nil means it may (one node alone).
	MayDeleteBucket func(ctx context.Context) bool
	Metrics         prometheus.Registerer // optional
	Logger          *slog.Logger
	Now             func() time.Time
}

// Cleaner deletes recordings past their retention.
type Cleaner struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	deletedSegments prometheus.Counter
	deletedBytes    prometheus.Counter
	heldSegments    prometheus.Gauge
	failures        prometheus.Counter
}

// Report is what one RunOnce did.
type Report struct {
	Deleted      int   // segments deleted (file and index entry)
	DeletedBytes int64 // their size as indexed
	Held         int   // segments past retention kept because a legal hold covers them
	Failed       int   // segments whose deletion failed; the next run tries again
	Rounds       int   // traced rounds
	Cameras      []string
}

// Actor is who the trail names for retention's deletions.
var Actor = auth.Actor{Username: "system:retention", ClientAddr: "local"}

// New returns a Cleaner; nothing is deleted until Run or RunOnce.
func New(cfg Config, deps Deps) *Cleaner {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	c := &Cleaner{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger}
	c.deletedSegments = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_retention_deleted_segments_total",
		Help: "Segments deleted because they were past their camera's retention."})
	c.deletedBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_retention_deleted_bytes_total",
		Help: "Bytes of segments deleted because they were past their camera's retention."})
	c.heldSegments = prometheus.NewGauge(prometheus.GaugeOpts{Name: "civicam_retention_held_segments",
		Help: "Segments past retention kept at the last run because a legal hold covers them."})
	c.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_retention_delete_failures_total",
		Help: "Segment deletions that failed (retried at the next run)."})
	if deps.Metrics != nil {
		for _, m := range []prometheus.Collector{c.deletedSegments, c.deletedBytes, c.heldSegments, c.failures} {
			if err := deps.Metrics.Register(m); err != nil {
				c.log.Warn("retention: register metric", "err", err)
			}
		}
	}
	return c
}

// Run deletes what is past retention at once and then every Interval, until ctx is done. A
// failed run is logged and tried again at the next interval.
func (c *Cleaner) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		rep, err := c.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			c.log.Error("retention: run failed", "err", err, "deleted", rep.Deleted)
		case rep.Deleted > 0 || rep.Failed > 0:
			c.log.Info("retention: run", "deleted", rep.Deleted, "bytes", rep.DeletedBytes, "held", rep.Held, "failed", rep.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RetentionDays is a camera's effective retention: its own, never less than the floor.
func RetentionDays(cameraDays, floorDays int) int {
	return max(cameraDays, floorDays)
}

// RunOnce deletes every segment past retention not covered by an active hold, in rounds of at
// most Batch segments; each round is traced (retention_delete, its cameras and time range) before
// it deletes, and a trail failure stops the run with nothing of that round deleted.
func (c *Cleaner) RunOnce(ctx context.Context) (Report, error) {
	var rep Report
	retention, floor, err := c.retentions(ctx)
	if err != nil {
		return rep, err
	}
	sums, err := c.deps.Index.RecordingSummaries(ctx, time.Time{})
	if err != nil {
		return rep, err
	}
	now := c.deps.Now()
	var cams []string
	for _, s := range sums {
		cams = append(cams, s.CameraID)
	}
	// done marks cameras with nothing more to delete in this run.
	done := map[string]bool{}
	held := map[string]int{}   // held segments seen per camera, this run
	others := map[string]int{} // segments another node is to delete, seen per camera
	bucketToo := c.deps.MayDeleteBucket == nil || c.deps.MayDeleteBucket(ctx)
	touched := map[string]bool{}
	for {
		var round []segment.Record
		pending := false
		for _, cam := range cams {
			if done[cam] || len(round) >= c.cfg.Batch {
				pending = pending || !done[cam]
				continue
			}
			days, ok := retention[cam]
			if !ok {
				// A camera the registry does not know (another node's, or an index entry made
				// before its registration) is kept for the floor, the least the law allows.
				days = floor
			}
			cutoff := now.Add(-time.Duration(days) * Day)
			got, nHeld, nOthers, more, err := c.expired(ctx, cam, cutoff, c.cfg.Batch-len(round), held[cam], others[cam], bucketToo)
			if err != nil {
				return rep, err
			}
			held[cam], others[cam] = nHeld, nOthers
			if more {
				pending = true
			} else {
				done[cam] = true
			}
			round = append(round, got...)
		}
		if len(round) > 0 {
			if err := c.deleteRound(ctx, round, &rep); err != nil {
				return rep, err
			}
			for _, r := range round {
				touched[r.CameraID] = true
			}
		}
		if !pending || rep.Failed > 0 {
			// A failing disk or index is not retried in a loop: the next run tries again.
			break
		}
	}
	total := 0
	for _, n := range held {
		total += n
	}
	rep.Held += total
	c.heldSegments.Set(float64(total))
	for cam := range touched {
		rep.Cameras = append(rep.Cameras, cam)
	}
	slices.Sort(rep.Cameras)
	return rep, nil
}

// retentions maps every registered camera (decommissioned ones too: their recordings are kept
// for their retention like any other) to its effective retention days.
func (c *Cleaner) retentions(ctx context.Context) (map[string]int, int, error) {
	pack := c.deps.Registry.Pack()
	if pack == nil {
		return nil, 0, errors.New("retention: no policy pack")
	}
	floor := pack.RetentionFloorDays()
	cams, err := c.deps.Registry.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
	if err != nil {
		return nil, 0, fmt.Errorf("retention: list cameras: %w", err)
	}
	out := make(map[string]int, len(cams))
	for _, cam := range cams {
		out[cam.ID] = RetentionDays(cam.RetentionDays, floor)
	}
	return out, floor, nil
}

// expired lists up to want segments of cam that ended before cutoff and no active hold covers.
// Held segments stay in the index and come first in every listing, so the listing asks for as
// many more as it has seen held (prevHeld) to get past them. more reports that the camera may
// have further candidates.
func (c *Cleaner) expired(ctx context.Context, cam string, cutoff time.Time, want, prevHeld, prevOthers int, bucketToo bool) (out []segment.Record, nHeld, nOthers int, more bool, err error) {
	holds, err := c.deps.Index.ActiveHoldRanges(ctx, cam)
	if err != nil {
		return nil, prevHeld, prevOthers, false, err
	}
	limit := want + prevHeld + prevOthers
	recs, err := c.deps.Index.SegmentsEndedBefore(ctx, cam, cutoff, limit)
	if err != nil {
		return nil, prevHeld, prevOthers, false, fmt.Errorf("retention: list %s: %w", cam, err)
	}
	for _, r := range recs {
		if !c.mine(r, bucketToo) {
			nOthers++
			continue
		}
		if covered(holds, r.Start, r.End) {
			nHeld++
			continue
		}
		out = append(out, r)
	}
	return out, nHeld, nOthers, len(recs) == limit, nil
}

// mine reports whether this node deletes r: a local segment only from its own disk (with
// several nodes on one database, another node's local segment is on that node's disk, and
// deleting its entry here would leave its file unindexed there), a bucket segment only as the
// holder of the cleaner lease.
func (c *Cleaner) mine(r segment.Record, bucketToo bool) bool {
	if r.Location == segment.LocationBucket {
		return bucketToo
	}
	return c.cfg.Node == "" || r.Node == "" || r.Node == c.cfg.Node
}

// covered reports whether a segment [start, end) overlaps any of the hold ranges.
func covered(holds []timespan.Range, start, end time.Time) bool {
	for _, h := range holds {
		if start.Before(h.End) && h.Start.Before(end) {
			return true
		}
		// A zero-length segment at a hold's edge is kept too.
		if start.Equal(end) && !start.Before(h.Start) && !start.After(h.End) {
			return true
		}
	}
	return false
}

// deleteRound traces one round and deletes its segments: the file first, then the index entry,
// so a crash in between leaves an entry whose file is gone, which the next run deletes again
// (a missing file is fine). Holds are read again just before, so a hold placed while the round
// was planned still protects what it covers.
func (c *Cleaner) deleteRound(ctx context.Context, round []segment.Record, rep *Report) error {
	var camIDs []string
	seen := map[string]bool{}
	from, to := round[0].Start, round[0].End
	var bytes int64
	for _, r := range round {
		if !seen[r.CameraID] {
			seen[r.CameraID] = true
			camIDs = append(camIDs, r.CameraID)
		}
		from, to = minTime(from, r.Start), maxTime(to, r.End)
		bytes += r.Bytes
	}
	slices.Sort(camIDs)
	tctx := auth.WithActor(ctx, Actor)
	reason := fmt.Sprintf("retention: deleting %d segment(s), %d bytes, of %d camera(s) past their retention (floor %d days)",
		len(round), bytes, len(camIDs), c.deps.Registry.Pack().RetentionFloorDays())
	if err := c.deps.Tracer.Record(tctx, trace.Record{Action: trace.ActionRetentionDelete, CameraIDs: camIDs,
		From: from, To: to, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return fmt.Errorf("retention: trace deletion (nothing deleted): %w", err)
	}
	rep.Rounds++
	holds := map[string][]timespan.Range{}
	for _, cam := range camIDs {
		h, err := c.deps.Index.ActiveHoldRanges(ctx, cam)
		if err != nil {
			return err
		}
		holds[cam] = h
	}
	var failed []string
	// Files go first, then their entries in one statement per chunk: a crash in between leaves
	// entries whose files are gone, which the next run deletes (a missing file is no error).
	for start := 0; start < len(round); start += deleteChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		var removed []segment.Record
		for _, r := range round[start:min(start+deleteChunk, len(round))] {
			if covered(holds[r.CameraID], r.Start, r.End) {
				rep.Held++
				continue
			}
			if err := c.deps.Files.Remove(r.Path); err != nil {
				rep.Failed++
				c.failures.Inc()
				failed = append(failed, r.Path)
				c.log.Error("retention: remove segment file", "camera", r.CameraID, "path", r.Path, "err", err)
				continue
			}
			removed = append(removed, r)
		}
		if len(removed) == 0 {
			continue
		}
		paths := make([]string, len(removed))
		for i, r := range removed {
			paths[i] = r.Path
		}
		if err := c.deps.Index.DeleteSegments(ctx, paths); err != nil {
			rep.Failed += len(removed)
			c.failures.Add(float64(len(removed)))
			failed = append(failed, paths...)
			c.log.Error("retention: unindex segments", "segments", len(paths), "err", err)
			continue
		}
		for _, r := range removed {
			rep.Deleted++
			rep.DeletedBytes += r.Bytes
			c.deletedBytes.Add(float64(r.Bytes))
		}
		c.deletedSegments.Add(float64(len(removed)))
	}
	if len(failed) > 0 {
		// The trail said these would go; say that they did not, so it never claims a deletion
		// that did not happen.
		msg := fmt.Sprintf("retention: %d segment(s) of this round not deleted, retried at the next run: %s",
			len(failed), strings.Join(failed[:min(len(failed), 20)], ", "))
		if err := c.deps.Tracer.Record(tctx, trace.Record{Action: trace.ActionRetentionDelete, CameraIDs: camIDs,
			From: from, To: to, Outcome: trace.Denied, Reason: msg}); err != nil {
			c.log.Error("retention: trace failed deletions", "err", err)
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
