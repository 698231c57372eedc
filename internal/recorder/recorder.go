// Package recorder pulls each camera's RTSP stream and keeps it, without re-encoding, as fMP4
// segments (package segment): parts of about a second, each synced as it completes, in segments of
// a configurable length cut on keyframes. One supervisor per camera connects, reconnects with
// backoff and reports its state; every segment is entered in an Index as it starts and again when
// it is sealed with its size and SHA-256, and at start-up the segments a crash left unsealed are
// cut to their last complete part and sealed.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"sync"
	"time"

	"civicam/internal/segment"
)

// Transport chooses how RTP is carried from the camera.
type Transport string

const (
	TransportAuto Transport = "auto" // UDP first, TCP if no packets arrive
	TransportTCP  Transport = "tcp"
	TransportUDP  Transport = "udp"
)

// Camera is one camera to record, as its owner configured it.
type Camera struct {
	ID        string
	SourceURL string // rtsp://…, or a scheme of Deps.Sources (gb28181://device/channel)
	// SegmentLength is the target length of a segment; a segment ends on the first keyframe at or
	// after it. Zero takes Config.SegmentLength.
	SegmentLength time.Duration
	Transport     Transport // empty means auto
	// Node and Token are the camera's lease this recorder writes under (package lease): every
	// index write carries them, and one refused (lease.ErrLost) stops the camera. A zero Token
	// writes unfenced. A new token restarts the camera's supervisor.
	Node  string
	Token int64
}

// Config tunes every supervisor.
type Config struct {
	PartLength    time.Duration // default 1 s
	SegmentLength time.Duration // default 60 s
	BackoffMin    time.Duration // default 1 s
	BackoffMax    time.Duration // default 30 s
	ReadTimeout   time.Duration // RTSP read timeout; default 10 s
	// LiveCache bounds the bytes of the current groups of pictures kept, over all cameras nobody
	// watches, so that the first viewer of such a camera sees a picture at once instead of
	// waiting up to a whole group for a keyframe (default 64 MiB: about a hundred 4 Mbit/s
	// cameras with 2 s groups; the others start at their next keyframe). Negative keeps groups
	// only of watched cameras. Watched cameras' groups (each at most 1 MiB) are not bounded by it.
	LiveCache int64
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PartLength, time.Second)
	def(&c.SegmentLength, time.Minute)
	def(&c.BackoffMin, time.Second)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	if c.LiveCache == 0 {
		c.LiveCache = DefaultLiveCache
	}
	return c
}

// SegmentStore keeps segment files by key; *segment.Disk is the local-disk one.
type SegmentStore interface {
	Create(key string) (segment.File, error)
	// Repair cuts the segment to its last complete part; a missing file gives fs.ErrNotExist and
	// a file with nothing playable segment.ErrNoInit.
	Repair(key string) (*segment.Info, error)
	Remove(key string) error
}

// Index records segments; *store.DB implements it.
type Index interface {
	// StartSegment is called before the segment's file is created, so that no file exists
	// the index does not know of. With rec.Token set, it is refused with lease.ErrLost when the
	// camera's lease is no longer rec.Node's with that token.
	StartSegment(ctx context.Context, rec segment.Record) error
	// SegmentSealed completes the entry (End, Bytes, SHA256) and marks it sealed; fenced as
	// StartSegment is.
	SegmentSealed(ctx context.Context, rec segment.Record) error
	// UnsealedSegments lists a camera's segments not yet sealed, oldest first; every camera's
	// when cameraID is empty.
	UnsealedSegments(ctx context.Context, cameraID string) ([]segment.Record, error)
	// DeleteSegment removes the entry at path.
	DeleteSegment(ctx context.Context, path string) error
}

// Deps are the Recorder's collaborators.
type Deps struct {
	Store  SegmentStore
	Index  Index
	Logger *slog.Logger
	Now    func() time.Time // wall clock for segment times; default time.Now
	// Sources record cameras whose source URL has another scheme than rtsp, by scheme
	// (gb28181 for GB/T 28181 channels).
	Sources map[string]MediaSource
}

// Recorder runs one supervisor per camera in the desired set.
type Recorder struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	syncMu  sync.Mutex // serialises Sync and Run's start and stop
	mu      sync.Mutex
	desired map[string]Camera
	sups    map[string]*supervisor
	runCtx  context.Context
	live    liveHub // live viewers, fed from the recording connections
	wg      sync.WaitGroup
}

// New returns a Recorder; nothing is recorded until Run.
func New(cfg Config, deps Deps) *Recorder {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	r := &Recorder{
		cfg:     cfg.withDefaults(),
		deps:    deps,
		log:     deps.Logger,
		desired: map[string]Camera{},
		sups:    map[string]*supervisor{},
	}
	r.live.budget = max(r.cfg.LiveCache, 0)
	return r
}

// Run records the cameras given to Sync until ctx is done; it returns once every supervisor has
// sealed its segment and stopped. Each supervisor first repairs what an earlier crash left
// unsealed of its camera.
func (r *Recorder) Run(ctx context.Context) error {
	r.syncMu.Lock()
	r.mu.Lock()
	r.runCtx = ctx
	r.mu.Unlock()
	r.apply()
	r.syncMu.Unlock()

	<-ctx.Done()

	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.mu.Lock()
	for _, s := range r.sups {
		s.cancel()
	}
	r.runCtx = nil
	r.mu.Unlock()
	r.wg.Wait()
	r.mu.Lock()
	r.sups = map[string]*supervisor{}
	r.mu.Unlock()
	return nil
}

// Sync makes the set of recorded cameras equal to cams: supervisors of cameras no longer listed,
// or whose configuration changed, are stopped (their segment sealed) before the new ones start.
// It may be called before Run; the set then starts with Run.
func (r *Recorder) Sync(cams []Camera) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.mu.Lock()
	r.desired = make(map[string]Camera, len(cams))
	for _, c := range cams {
		if c.Transport == "" {
			c.Transport = TransportAuto
		}
		r.desired[c.ID] = c
	}
	r.mu.Unlock()
	r.apply()
}

// apply stops and starts supervisors to match r.desired; the caller holds syncMu.
func (r *Recorder) apply() {
	r.mu.Lock()
	if r.runCtx == nil {
		r.mu.Unlock()
		return
	}
	var stopping []*supervisor
	for id, s := range r.sups {
		if c, ok := r.desired[id]; !ok || c != s.cam {
			s.cancel()
			stopping = append(stopping, s)
			delete(r.sups, id)
		}
	}
	r.mu.Unlock()
	for _, s := range stopping {
		<-s.done
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runCtx == nil {
		return
	}
	for id, c := range r.desired {
		if _, ok := r.sups[id]; ok {
			continue
		}
		s := newSupervisor(r, c)
		r.sups[id] = s
		ctx, cancel := context.WithCancel(r.runCtx)
		s.cancel = cancel
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer close(s.done)
			s.run(ctx)
		}()
	}
}

// Status reports camera id's recording state; false when the camera is not being recorded.
func (r *Recorder) Status(id string) (Status, bool) {
	r.mu.Lock()
	s, ok := r.sups[id]
	r.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	return s.status(), true
}

// Statuses reports every recorded camera, by ID.
func (r *Recorder) Statuses() []Status {
	r.mu.Lock()
	out := make([]Status, 0, len(r.sups))
	for _, s := range r.sups {
		out = append(out, s.status())
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CameraID < out[j].CameraID })
	return out
}

// RepairUnsealed seals, or removes when nothing playable is left, every segment of a camera
// (of every camera when cameraID is empty) that the index holds as unsealed. Supervisors call it
// for their camera before they record; it must not be called for a camera being recorded. Only
// the cameras this recorder is given are repaired, because with a shared index another node's
// open segments are not on this node's disk.
func (r *Recorder) RepairUnsealed(ctx context.Context, cameraID string) error {
	return r.repairUnsealed(ctx, Camera{ID: cameraID})
}

// repairUnsealed repairs cam's unsealed segments under its lease. Those another node wrote are
// on that node's disk, not this one's: they are left for it (or for its return).
func (r *Recorder) repairUnsealed(ctx context.Context, cam Camera) error {
	recs, err := r.deps.Index.UnsealedSegments(ctx, cam.ID)
	if err != nil {
		return fmt.Errorf("list unsealed segments: %w", err)
	}
	var errs []error
	for _, rec := range recs {
		if rec.Node != "" && rec.Node != cam.Node {
			continue
		}
		if cam.Token > 0 {
			rec.Node, rec.Token = cam.Node, cam.Token
		}
		if err := sealByRepair(ctx, r.deps.Store, r.deps.Index, rec); err != nil {
			errs = append(errs, err)
			continue
		}
		r.log.Info("recorder: repaired unsealed segment", "camera", rec.CameraID, "path", rec.Path)
	}
	return errors.Join(errs...)
}

// sealByRepair cuts a segment to its last complete part and seals it in the index; a segment
// left without any part is removed from the store and the index.
func sealByRepair(ctx context.Context, st SegmentStore, idx Index, rec segment.Record) error {
	info, err := st.Repair(rec.Path)
	empty := errors.Is(err, fs.ErrNotExist) || errors.Is(err, segment.ErrNoInit) || (err == nil && len(info.Parts) == 0)
	if err != nil && !empty {
		return fmt.Errorf("repair %s: %w", rec.Path, err)
	}
	if empty {
		if err := st.Remove(rec.Path); err != nil {
			return fmt.Errorf("remove empty segment %s: %w", rec.Path, err)
		}
		if err := idx.DeleteSegment(ctx, rec.Path); err != nil {
			return fmt.Errorf("unindex empty segment %s: %w", rec.Path, err)
		}
		return nil
	}
	rec.End = rec.Start.Add(info.Duration())
	rec.Bytes = info.Size
	rec.SHA256 = info.SHA256
	rec.Sealed = true
	if err := idx.SegmentSealed(ctx, rec); err != nil {
		return fmt.Errorf("seal repaired segment %s: %w", rec.Path, err)
	}
	return nil
}
