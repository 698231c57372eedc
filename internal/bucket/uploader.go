package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/fault"
	"civicam/internal/segment"
	"civicam/internal/timespan"
)

// Queue is the index's side of uploading; *store.DB implements it.
type Queue interface {
	// SegmentsToUpload lists up to limit sealed segments still on local disk, oldest first.
	SegmentsToUpload(ctx context.Context, limit int) ([]segment.Record, error)
	// SegmentUploaded records that a segment is in the bucket; fault.ErrNotFound when it is no
	// longer indexed.
	SegmentUploaded(ctx context.Context, path string) error
	// SegmentUploadBacklog counts the sealed segments still on local disk.
	SegmentUploadBacklog(ctx context.Context) (segments, bytes int64, oldest time.Time, err error)
	// ActiveHoldRanges lists the time ranges of a camera's active legal holds.
	ActiveHoldRanges(ctx context.Context, cameraID string) ([]timespan.Range, error)
}

// UploaderConfig tunes the Uploader.
type UploaderConfig struct {
	// Interval between passes over the queue; default 5 s. A pass that found work is followed
	// by the next at once.
	Interval time.Duration
	// Batch is how many queued segments one pass takes at most; default 200.
	Batch int
	// Workers upload at once, each taking whole cameras so that a camera's segments go up in
	// order; default 4.
	Workers int
}

// UploaderDeps are the Uploader's collaborators.
type UploaderDeps struct {
	Queue  Queue
	Disk   *segment.Disk
	Bucket *Client
	// FloorDays is the retention floor the Object Lock retention lasts past a segment's end.
	FloorDays func() int
	Metrics   prometheus.Registerer // optional
	Logger    *slog.Logger
	Now       func() time.Time
}

// Uploader moves sealed segments from local disk to the bucket. Each is uploaded, its bytes
// hashed as they go and compared with the SHA-256 the index sealed it with, its stored size
// checked, then marked in the index as in the bucket, and only then its local file removed. A
// camera's segments go up in the order they were recorded: a failure stops that camera's queue
// until the next pass, so while the bucket is unreachable the segments wait on local disk, where
// retention and the storage planner see them as any other.
type Uploader struct {
	cfg  UploaderConfig
	deps UploaderDeps
	log  *slog.Logger

	mu     sync.Mutex
	status Status

	uploaded     prometheus.Counter
	uploadedB    prometheus.Counter
	failures     prometheus.Counter
	backlog      prometheus.Gauge
	backlogBytes prometheus.Gauge
	backlogAge   prometheus.Gauge
}

// Status is what the Uploader reports of the bucket and its queue.
type Status struct {
	Bucket       string    `json:"bucket"`
	Waiting      int64     `json:"waiting_segments"`
	WaitingBytes int64     `json:"waiting_bytes"`
	OldestEnd    time.Time `json:"oldest_waiting_end,omitzero"` // end of the oldest segment waiting
	LastUpload   time.Time `json:"last_upload,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
	// Reachable is false after a pass whose uploads failed, until one succeeds.
	Reachable bool `json:"reachable"`
}

// ErrChanged is a segment whose bytes on local disk no longer hash to its indexed SHA-256: it is
// not uploaded, and its local copy is kept.
var ErrChanged = errors.New("segment does not match its indexed SHA-256")

// NewUploader returns an Uploader; nothing moves until Run or RunOnce.
func NewUploader(cfg UploaderConfig, deps UploaderDeps) *Uploader {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.FloorDays == nil {
		deps.FloorDays = func() int { return 0 }
	}
	u := &Uploader{cfg: cfg, deps: deps, log: deps.Logger, status: Status{Bucket: deps.Bucket.Bucket(), Reachable: true}}
	u.uploaded = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_bucket_uploaded_segments_total",
		Help: "Sealed segments uploaded to the bucket, checked, and removed from local disk."})
	u.uploadedB = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_bucket_uploaded_bytes_total",
		Help: "Bytes of the segments uploaded to the bucket."})
	u.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "civicam_bucket_upload_failures_total",
		Help: "Segment uploads that failed; the segment stays on local disk and is tried again."})
	u.backlog = prometheus.NewGauge(prometheus.GaugeOpts{Name: "civicam_bucket_waiting_segments",
		Help: "Sealed segments waiting on local disk for the bucket."})
	u.backlogBytes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "civicam_bucket_waiting_bytes",
		Help: "Bytes of the sealed segments waiting on local disk for the bucket."})
	u.backlogAge = prometheus.NewGauge(prometheus.GaugeOpts{Name: "civicam_bucket_waiting_oldest_seconds",
		Help: "How long the oldest segment waiting for the bucket has been sealed; 0 when none waits."})
	if deps.Metrics != nil {
		deps.Metrics.MustRegister(u.uploaded, u.uploadedB, u.failures, u.backlog, u.backlogBytes, u.backlogAge)
	}
	return u
}

// Run uploads until ctx ends.
func (u *Uploader) Run(ctx context.Context) error {
	if err := u.deps.Bucket.Check(ctx); err != nil {
		u.log.Warn("bucket: not reachable; sealed segments wait on local disk", "err", err)
	}
	for {
		n, err := u.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			u.log.Warn("bucket: upload pass", "err", err)
		}
		wait := u.cfg.Interval
		if n > 0 && err == nil {
			wait = 0 // more may be queued
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// RunOnce takes one batch of the queue and uploads it, returning how many segments went up.
// The error is the first upload's failure, after every camera has been tried.
func (u *Uploader) RunOnce(ctx context.Context) (int, error) {
	defer u.refreshBacklog(ctx)
	queue, err := u.deps.Queue.SegmentsToUpload(ctx, u.cfg.Batch)
	if err != nil {
		return 0, err
	}
	lanes := make([][]segment.Record, u.cfg.Workers)
	for _, r := range queue {
		h := fnv.New32a()
		h.Write([]byte(r.CameraID))
		i := int(h.Sum32() % uint32(len(lanes)))
		lanes[i] = append(lanes[i], r)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		done     int
		firstErr error
	)
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Go(func() {
			stopped := map[string]bool{} // cameras whose earlier segment failed this pass
			for _, r := range lane {
				if ctx.Err() != nil || stopped[r.CameraID] {
					continue
				}
				err := u.upload(ctx, r)
				mu.Lock()
				if err != nil {
					// A damaged segment stays local for whoever looks into it, and does
					// not hold back the camera's later ones; any other failure does.
					stopped[r.CameraID] = !errors.Is(err, ErrChanged)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					done++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	u.mu.Lock()
	if firstErr != nil {
		u.status.LastError, u.status.LastErrorAt = firstErr.Error(), u.deps.Now()
		u.status.Reachable = done > 0
	} else if done > 0 {
		u.status.Reachable = true
	}
	u.mu.Unlock()
	return done, firstErr
}

// upload moves one sealed segment to the bucket.
func (u *Uploader) upload(ctx context.Context, r segment.Record) error {
	err := u.put(ctx, r)
	if err != nil {
		u.failures.Inc()
		u.log.Warn("bucket: segment stays on local disk", "camera", r.CameraID, "path", r.Path, "err", err)
		return err
	}
	if err := u.deps.Queue.SegmentUploaded(ctx, r.Path); err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			// Retention took the entry meanwhile: the object is not footage anyone can find.
			if err := u.deps.Bucket.Remove(ctx, r.Path); err != nil {
				u.log.Warn("bucket: remove unindexed object", "path", r.Path, "err", err)
			}
			return nil
		}
		u.failures.Inc()
		return err
	}
	if u.deps.Bucket.ObjectLock() {
		// A hold placed while the segment went up found it still local; look again now that
		// it is marked in the bucket, where LegalHolds finds every later one.
		if holds, err := u.deps.Queue.ActiveHoldRanges(ctx, r.CameraID); err == nil && held(holds, r) {
			if err := u.deps.Bucket.SetLegalHold(ctx, r.Path, true); err != nil {
				// Retention obeys the index's hold regardless; only the bucket's own
				// protection is missing, which the log says.
				u.log.Error("bucket: legal hold on uploaded segment", "path", r.Path, "err", err)
			}
		}
	}
	if err := u.deps.Disk.Remove(r.Path); err != nil {
		// The bucket holds it and the index says so; the local copy is only space.
		u.log.Warn("bucket: remove uploaded local copy", "path", r.Path, "err", err)
	}
	u.uploaded.Inc()
	u.uploadedB.Add(float64(r.Bytes))
	u.mu.Lock()
	u.status.LastUpload = u.deps.Now()
	u.mu.Unlock()
	return nil
}

// put uploads r's local file and checks what went up against the index: its bytes hash to the
// sealed SHA-256 as they are sent, and the bucket stores as many.
func (u *Uploader) put(ctx context.Context, r segment.Record) error {
	f, err := u.deps.Disk.OpenFile(r.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.Path, err)
	}
	defer f.Close()
	var o PutOptions
	if u.deps.Bucket.ObjectLock() {
		if days := u.deps.FloorDays(); days > 0 {
			o.RetainUntil = r.End.AddDate(0, 0, days)
			if !o.RetainUntil.After(u.deps.Now()) {
				o.RetainUntil = time.Time{} // its floor has passed already
			}
		}
		holds, err := u.deps.Queue.ActiveHoldRanges(ctx, r.CameraID)
		if err != nil {
			return err
		}
		o.LegalHold = held(holds, r)
	}
	h := sha256.New()
	body := io.TeeReader(io.NewSectionReader(f, 0, r.Bytes), h)
	if err := u.deps.Bucket.Put(ctx, r.Path, body, r.Bytes, o); err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != r.SHA256 {
		// What went up is not the sealed recording: it is taken back where the bucket allows
		// (Object Lock keeps it, beside the segment's later versions, until the floor passes);
		// the local file stays, and the next passes try again, failing while it is damaged,
		// which the log and the failures metric show.
		if err := u.deps.Bucket.Remove(ctx, r.Path); err != nil {
			u.log.Warn("bucket: remove mismatched upload", "path", r.Path, "err", err)
		}
		return fmt.Errorf("upload %s: sent bytes hash to %s, indexed as %s: %w", r.Path, sum, r.SHA256, ErrChanged)
	}
	size, err := u.deps.Bucket.Size(ctx, r.Path)
	if err != nil {
		return err
	}
	if size != r.Bytes {
		return fmt.Errorf("upload %s: bucket holds %d bytes, indexed as %d: %w", r.Path, size, r.Bytes, ErrChanged)
	}
	return nil
}

func (u *Uploader) refreshBacklog(ctx context.Context) {
	n, b, oldest, err := u.deps.Queue.SegmentUploadBacklog(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(u.deps.Now().Sub(oldest).Seconds(), 0)
	}
	u.backlog.Set(float64(n))
	u.backlogBytes.Set(float64(b))
	u.backlogAge.Set(age)
	u.mu.Lock()
	u.status.Waiting, u.status.WaitingBytes, u.status.OldestEnd = n, b, oldest
	u.mu.Unlock()
}

// Status reports the queue and the bucket's last answers.
func (u *Uploader) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status
}
