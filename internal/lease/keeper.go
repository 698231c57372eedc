package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config sets a Keeper's node and timings.
type Config struct {
	Node       string
	MaxStreams int           // 0: no bound but the fair share
	TTL        time.Duration // how long a lease lasts unrenewed; default 10 s
	Renew      time.Duration // how often leases are renewed and free cameras taken; default 2 s
}

// Deps are a Keeper's collaborators.
type Deps struct {
	Store Store
	// Wanted lists the cameras to be recorded by some node (the registry's recordable ones).
	Wanted func(ctx context.Context) ([]string, error)
	// Apply is given the leases this node holds after each round: record exactly these.
	Apply  func(held []Lease)
	Logger *slog.Logger
	Now    func() time.Time
}

// Keeper holds this node's share of the camera leases.
type Keeper struct {
	cfg  Config
	deps Deps
}

// New returns a Keeper; nothing is taken until Run.
func New(cfg Config, deps Deps) *Keeper {
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Renew <= 0 {
		cfg.Renew = 2 * time.Second
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Keeper{cfg: cfg, deps: deps}
}

// Run renews and takes leases every Renew until ctx ends. It does not hand them back: the caller
// calls Release once the recorder has sealed its segments.
//
// With a Store that is also a ReleaseWatcher, a release by any node starts a round at once, so
// that a node stopped gracefully (or handing back cameras above its share) has its cameras
// recorded again without waiting up to Renew for the others' next round.
func (k *Keeper) Run(ctx context.Context) error {
	t := time.NewTicker(k.cfg.Renew)
	defer t.Stop()
	wake := make(chan struct{}, 1)
	var watching sync.WaitGroup
	if w, ok := k.deps.Store.(ReleaseWatcher); ok {
		watching.Add(1)
		go func() {
			defer watching.Done()
			k.watch(ctx, w, wake)
		}()
	}
	defer watching.Wait()
	for {
		if err := k.Round(ctx); err != nil && ctx.Err() == nil {
			k.deps.Logger.Error("camera leases", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-wake:
		}
	}
}

// watch signals wake at each release until ctx ends, listening again a Renew after a failure;
// the rounds every Renew cover what was missed meanwhile.
func (k *Keeper) watch(ctx context.Context, w ReleaseWatcher, wake chan<- struct{}) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default: // a round is due already; it sees this release too
		}
	}
	for {
		err := w.WatchReleases(ctx, signal)
		if ctx.Err() != nil || errors.Is(err, errors.ErrUnsupported) {
			return
		}
		k.deps.Logger.Warn("camera leases: not told of releases, taking them at each round", "err", err, "retry_in", k.cfg.Renew)
		select {
		case <-ctx.Done():
			return
		case <-time.After(k.cfg.Renew):
		}
	}
}

// Round renews this node's leases, hands back those of cameras no longer wanted and those above
// its fair share, and takes free cameras up to it; Apply is given what is held.
func (k *Keeper) Round(ctx context.Context) error {
	now := k.deps.Now()
	exp := now.Add(k.cfg.TTL)
	st := k.deps.Store
	if err := st.Heartbeat(ctx, k.cfg.Node, k.cfg.MaxStreams, exp); err != nil {
		return err
	}
	held, err := st.RenewLeases(ctx, k.cfg.Node, now, exp)
	if err != nil {
		// What was held may have expired meanwhile: record nothing rather than unfenced.
		k.deps.Apply(nil)
		return err
	}
	wanted, err := k.deps.Wanted(ctx)
	if err != nil {
		k.deps.Apply(held)
		return fmt.Errorf("cameras to record: %w", err)
	}
	want := make(map[string]bool, len(wanted))
	for _, id := range wanted {
		want[id] = true
	}
	nodes, err := st.LiveNodes(ctx, now)
	if err != nil {
		k.deps.Apply(held)
		return err
	}
	share := FairShare(len(wanted), nodes, k.cfg.MaxStreams)
	slices.SortFunc(held, func(a, b Lease) int { return strings.Compare(a.CameraID, b.CameraID) })
	var keep []Lease
	var drop []string
	for _, l := range held {
		if !want[l.CameraID] || len(keep) >= share {
			drop = append(drop, l.CameraID)
			continue
		}
		keep = append(keep, l)
	}
	if len(drop) > 0 {
		// Stopped before they are handed back, so that their last segments are sealed under
		// the lease.
		k.deps.Apply(keep)
		if err := st.ReleaseLeases(ctx, k.cfg.Node, drop); err != nil {
			return err
		}
	}
	if room := share - len(keep); room > 0 {
		mine := make(map[string]bool, len(keep))
		for _, l := range keep {
			mine[l.CameraID] = true
		}
		var others []string
		for _, id := range wanted {
			if !mine[id] {
				others = append(others, id)
			}
		}
		free, err := st.FreeCameras(ctx, others, now)
		if err != nil {
			k.deps.Apply(keep)
			return err
		}
		got, err := st.AcquireLeases(ctx, k.cfg.Node, free, now, exp, room)
		keep = append(keep, got...)
		if err != nil {
			k.deps.Apply(keep)
			return err
		}
	}
	k.deps.Apply(keep)
	return nil
}

// Release hands back every lease this node holds, for a graceful stop: the others take the
// cameras at their next round instead of after the lease expires.
func (k *Keeper) Release(ctx context.Context) error {
	// The node leaves the live ones too, so that the fair share of the others grows at once.
	if err := k.deps.Store.Heartbeat(ctx, k.cfg.Node, k.cfg.MaxStreams, time.Time{}); err != nil {
		return err
	}
	return k.deps.Store.ReleaseLeases(ctx, k.cfg.Node, nil)
}

// Holder names the node recording camera now (holding its lease), "" when none is.
func (k *Keeper) Holder(ctx context.Context, camera string) (string, error) {
	return k.deps.Store.LeaseHolder(ctx, camera, k.deps.Now())
}
