package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// AppendTx is one write transaction on the trail. LockHead must be called first: it locks the
// head row until the transaction ends, so that nodes sharing one database take turns and
// sequence numbers stay contiguous.
type AppendTx interface {
	// LockHead locks the head row and returns the trail's size (the next sequence number) and
	// the chain value of its last entry (nil when empty).
	LockHead(ctx context.Context) (size int64, chain []byte, err error)
	// LeafHashes returns the stored leaf hashes of entries [from, to), in order.
	LeafHashes(ctx context.Context, from, to int64) ([][]byte, error)
	// Insert writes rows (contiguous, starting at the locked size) and moves the head past them,
	// to the tree root given.
	Insert(ctx context.Context, rows []Row, root []byte) error
}

// StoredCheckpoint is a signed checkpoint as kept in the database.
type StoredCheckpoint struct {
	Size int64
	Root []byte
	Note []byte // the signed note
	At   time.Time
}

// Store is what the log needs from the database.
type Store interface {
	// AppendTrace runs fn in one transaction and commits (durably) when fn returns nil.
	AppendTrace(ctx context.Context, fn func(ctx context.Context, tx AppendTx) error) error
	// TraceLeafHashes returns the committed leaf hashes of entries [from, to) (fewer if the trail
	// is shorter).
	TraceLeafHashes(ctx context.Context, from, to int64) ([][]byte, error)
	// PutTraceCheckpoint stores a checkpoint; one that is already stored for the size is kept.
	PutTraceCheckpoint(ctx context.Context, c StoredCheckpoint) error
	// LatestTraceCheckpoint returns the checkpoint of the largest size, found=false when none.
	LatestTraceCheckpoint(ctx context.Context) (c StoredCheckpoint, found bool, err error)
	// ScanTrace is Source's: the stored rows [from, to), in order, each valid until fn returns.
	ScanTrace(ctx context.Context, from, to int64, fn func(*Row) error) error
	Querier
}

// ErrClosed is returned by Append when the log is not running (stopped, or failed to start).
var ErrClosed = errors.New("trace log closed")

// Config tunes the log. Zero values take the defaults.
type Config struct {
	// CheckpointEvery signs a checkpoint once this many entries were added since the last (1000).
	CheckpointEvery int64
	// CheckpointInterval signs a checkpoint this often when entries were added (10s).
	CheckpointInterval time.Duration
	// MaxBatch bounds the entries committed in one transaction (512).
	MaxBatch int
	// MemoryLevel is the lowest Merkle tree level held in memory. At 0 (the default) every node,
	// leaves included, is in memory: 64 B per entry (64 MB per million), and a proof needs no
	// query (~10-15 µs at a million entries). At level L memory is 64/2^L B per entry (4 B at 4,
	// 1 B at 6) and a proof reads the 2^L leaf hashes of one tile in one query (~60-130 µs).
	MemoryLevel int
	// QueueSize is how many appends may wait for the writer (4096).
	QueueSize int
	// WriteTimeout bounds one batch's transaction (30s); its appends then fail.
	WriteTimeout time.Duration
	// AnonymousDenials bounds the denials of unauthenticated requests one client address puts
	// in the trail per minute (60); the rest are counted in one summary entry per address and
	// minute, so that nobody outside can flood the trail and nothing is silently lost.
	AnonymousDenials int
}

func (c Config) withDefaults() Config {
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 1000
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = 10 * time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 512
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.AnonymousDenials <= 0 {
		c.AnonymousDenials = 60
	}
	c.MemoryLevel = min(max(c.MemoryLevel, 0), 20) // a proof must not read more than a million leaves
	return c
}

// Deps are the log's collaborators.
type Deps struct {
	Store  Store
	Key    *Key
	Logger *slog.Logger
	// Now is the clock that stamps entries without a time (time.Now when nil).
	Now func() time.Time
}

type result struct {
	seq int64
	err error
}

type request struct {
	entry Entry
	done  chan result // buffered(1): the writer never blocks on it
}

// Log is the trail: it assigns sequence numbers, group-commits appends, keeps the Merkle tree and
// signs checkpoints.
type Log struct {
	cfg   Config
	store Store
	key   *Key
	log   *slog.Logger
	now   func() time.Time

	queue chan *request
	anon  *anonLimiter
	ready chan struct{} // closed once the tree is loaded
	done  chan struct{} // closed when Run has returned
	tree  *tree

	cpMu   sync.Mutex
	lastCP int64 // size of the newest stored checkpoint
}

// New makes a log; Run loads it and writes appends until its context ends.
func New(cfg Config, deps Deps) *Log {
	cfg = cfg.withDefaults()
	l := &Log{
		cfg: cfg, store: deps.Store, key: deps.Key, log: deps.Logger, now: deps.Now,
		queue: make(chan *request, cfg.QueueSize),
		anon:  &anonLimiter{perMinute: cfg.AnonymousDenials, addrs: map[string]*anonWindow{}},
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.tree = newTree(uint(cfg.MemoryLevel), deps.Store.TraceLeafHashes)
	return l
}

// Run loads the tree from the database, then commits queued appends in batches and signs
// checkpoints until ctx ends; appends already queued then are still committed. It returns nil
// after a clean stop, or the error that kept it from starting.
func (l *Log) Run(ctx context.Context) error {
	defer close(l.done)
	if err := l.load(ctx); err != nil {
		l.failQueued(err)
		if ctx.Err() != nil {
			return nil // stopped while loading: a clean stop
		}
		return err
	}
	close(l.ready)
	ticker := time.NewTicker(l.cfg.CheckpointInterval)
	defer ticker.Stop()
	// A batch that has begun is finished even when ctx ends meanwhile (its callers are waiting
	// for the answer); WriteTimeout bounds how long a stuck database holds them.
	writeCtx := context.WithoutCancel(ctx)
	commit := func(batch []*request) {
		c, cancel := context.WithTimeout(writeCtx, l.cfg.WriteTimeout)
		defer cancel()
		l.commit(c, batch)
		if err := l.maybeCheckpoint(c, false); err != nil {
			l.log.Error("trace: checkpoint", "err", err)
		}
	}
	batch := make([]*request, 0, l.cfg.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			for {
				batch = l.collect(batch[:0], nil)
				if len(batch) == 0 {
					break
				}
				commit(batch)
			}
			if sums := l.summaries(true); len(sums) > 0 {
				commit(sums)
			}
			c, cancel := context.WithTimeout(writeCtx, l.cfg.WriteTimeout)
			defer cancel()
			if err := l.maybeCheckpoint(c, true); err != nil {
				l.log.Error("trace: checkpoint at stop", "err", err)
			}
			return nil
		case req := <-l.queue:
			commit(l.collect(batch[:0], req))
		case <-ticker.C:
			if sums := l.summaries(false); len(sums) > 0 {
				commit(sums)
			}
			if err := l.maybeCheckpoint(ctx, true); err != nil {
				l.log.Error("trace: checkpoint", "err", err)
			}
		}
	}
}

// summaries are the requests to append the anonymous-denial summaries now due (all of them at
// stop); nobody waits for their results.
func (l *Log) summaries(all bool) []*request {
	var out []*request
	for _, e := range l.anon.due(l.now(), all) {
		e.bound()
		e.Time = fromMicros(micros(e.Time))
		out = append(out, &request{entry: e, done: make(chan result, 1)})
	}
	return out
}

// collect takes first (if any) and whatever else is already queued, up to MaxBatch.
func (l *Log) collect(batch []*request, first *request) []*request {
	if first != nil {
		batch = append(batch, first)
	}
	for len(batch) < l.cfg.MaxBatch {
		select {
		case req := <-l.queue:
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

func (l *Log) failQueued(err error) {
	for {
		select {
		case req := <-l.queue:
			req.done <- result{err: fmt.Errorf("trace append: %w: %w", ErrClosed, err)}
		default:
			return
		}
	}
}

// loadChunk bounds the leaf hashes read per query when the tree is loaded.
const loadChunk = 65536

func (l *Log) load(ctx context.Context) error {
	for {
		from := l.tree.size()
		leaves, err := l.store.TraceLeafHashes(ctx, from, from+loadChunk)
		if err != nil {
			return fmt.Errorf("trace: load leaf hashes from %d: %w", from, err)
		}
		if err := l.tree.add(from, leaves); err != nil {
			return fmt.Errorf("trace: load: %w", err)
		}
		if len(leaves) < loadChunk {
			break
		}
	}
	cp, found, err := l.store.LatestTraceCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("trace: load latest checkpoint: %w", err)
	}
	if found {
		l.lastCP = cp.Size
	}
	l.log.Info("trace: loaded", "entries", l.tree.size(), "checkpoint", l.lastCP)
	return nil
}

// Append writes e to the trail and returns its sequence number once the entry is durable. An
// error means the entry may not be in the trail: the caller must refuse what it was tracing.
// (When ctx ends first the entry may still be written later; the error still means "refuse".)
// Text past its bounds is kept cut (see MaxEntryText). A denial of an unauthenticated request
// past the address's limit for the minute is only counted, for its summary entry, and Append
// returns -1.
func (l *Log) Append(ctx context.Context, e Entry) (int64, error) {
	e.bound()
	if err := e.Validate(); err != nil {
		return 0, err
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.Outcome == Denied && e.Actor.UserID == "" && !l.anon.allow(e.Actor.ClientAddr, e.Action, e.Time) {
		return -1, nil // counted in the address's summary entry
	}
	e.Time = fromMicros(micros(e.Time)) // the stored precision, and no monotonic reading
	req := &request{entry: e, done: make(chan result, 1)}
	select {
	case l.queue <- req:
	case <-l.done:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, fmt.Errorf("trace append: %w", ctx.Err())
	}
	select {
	case r := <-req.done:
		return r.seq, r.err
	case <-l.done:
		// Run writes every result before it returns, so one that is missing now never comes.
		select {
		case r := <-req.done:
			return r.seq, r.err
		default:
			return 0, ErrClosed
		}
	case <-ctx.Done():
		return 0, fmt.Errorf("trace append: %w", ctx.Err())
	}
}

// commit writes one batch in one transaction and answers every request in it.
func (l *Log) commit(ctx context.Context, batch []*request) {
	rows := make([]Row, len(batch))
	var start int64
	err := l.store.AppendTrace(ctx, func(ctx context.Context, tx AppendTx) error {
		size, chain, err := tx.LockHead(ctx)
		if err != nil {
			return err
		}
		if err := l.catchUp(ctx, size, tx.LeafHashes); err != nil {
			return err
		}
		rng := l.tree.rangeClone()
		if int64(rng.End()) != size {
			return fmt.Errorf("trace: tree has %d entries, head says %d", rng.End(), size)
		}
		for i, req := range batch {
			e := req.entry
			e.Seq = size + int64(i)
			rows[i] = NewRow(e)
			r := &rows[i]
			if err := rng.Append(r.LeafHash, nil); err != nil {
				return fmt.Errorf("trace: hash entry %d: %w", r.Seq, err)
			}
			r.Chain = ChainHash(chain, r.LeafHash)
			chain = r.Chain
		}
		start = size
		return tx.Insert(ctx, rows, rootOf(rng))
	})
	if err != nil {
		err = fmt.Errorf("trace append: %w", err)
		l.log.Error("trace: batch not written; its accesses are refused", "entries", len(batch), "err", err)
		for _, req := range batch {
			req.done <- result{err: err}
		}
		return
	}
	leaves := make([][]byte, len(rows))
	for i := range rows {
		leaves[i] = rows[i].LeafHash
	}
	if err := l.tree.add(start, leaves); err != nil {
		// Committed but not in memory: proofs for these fail until restart, the appends stand.
		l.log.Error("trace: tree out of step with database", "err", err)
	}
	for i, req := range batch {
		req.done <- result{seq: start + int64(i)}
	}
}

// catchUp adds to the tree the entries other nodes committed, up to size.
func (l *Log) catchUp(ctx context.Context, size int64, read leafReader) error {
	cur := l.tree.size()
	if size < cur {
		return fmt.Errorf("trace: the trail shrank from %d to %d entries", cur, size)
	}
	for cur < size {
		to := min(size, cur+loadChunk)
		leaves, err := read(ctx, cur, to)
		if err != nil {
			return fmt.Errorf("trace: catch up %d..%d: %w", cur, to, err)
		}
		if int64(len(leaves)) != to-cur {
			return fmt.Errorf("trace: catch up %d..%d: got %d leaf hashes", cur, to, len(leaves))
		}
		if err := l.tree.add(cur, leaves); err != nil {
			return err
		}
		cur = to
	}
	return nil
}

func (l *Log) waitReady(ctx context.Context) error {
	select {
	case <-l.ready:
		return nil
	case <-l.done:
		select {
		case <-l.ready:
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Size is the number of entries the log knows to be committed.
func (l *Log) Size(ctx context.Context) (int64, error) {
	if err := l.waitReady(ctx); err != nil {
		return 0, err
	}
	return l.tree.size(), nil
}

// ensure makes the tree cover size entries, reading what other nodes committed.
func (l *Log) ensure(ctx context.Context, size int64) error {
	if err := l.waitReady(ctx); err != nil {
		return err
	}
	if size <= l.tree.size() {
		return nil
	}
	err := l.catchUp(ctx, size, l.store.TraceLeafHashes)
	if err != nil {
		return fmt.Errorf("tree size %d: %w", size, err)
	}
	return nil
}

func (l *Log) maybeCheckpoint(ctx context.Context, timer bool) error {
	l.cpMu.Lock()
	due := l.tree.size() - l.lastCP
	l.cpMu.Unlock()
	if due <= 0 || (!timer && due < l.cfg.CheckpointEvery) {
		return nil
	}
	_, err := l.Checkpoint(ctx)
	return err
}

// Checkpoint signs and stores a checkpoint of the current tree and returns the signed note.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	if err := l.waitReady(ctx); err != nil {
		return nil, err
	}
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	size := l.tree.size()
	root, err := l.tree.root(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", size, err)
	}
	msg, err := SignCheckpoint(l.key, size, root)
	if err != nil {
		return nil, err
	}
	if err := l.store.PutTraceCheckpoint(ctx, StoredCheckpoint{Size: size, Root: root, Note: msg, At: l.now()}); err != nil {
		return nil, fmt.Errorf("store checkpoint %d: %w", size, err)
	}
	if size > l.lastCP {
		l.lastCP = size
	}
	return msg, nil
}

// Latest returns the newest stored signed checkpoint, signing one first if there is none.
func (l *Log) Latest(ctx context.Context) ([]byte, error) {
	cp, found, err := l.store.LatestTraceCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("latest checkpoint: %w", err)
	}
	if found {
		return cp.Note, nil
	}
	return l.Checkpoint(ctx)
}

// VerifierKey is the public key that checks this log's checkpoints.
func (l *Log) VerifierKey() string { return l.key.VerifierKey() }

// InclusionProof proves that entry seq is in the tree of treeSize entries.
type InclusionProof struct {
	Seq      int64
	TreeSize int64
	LeafHash []byte
	Hashes   [][]byte
	// Root is the root of the tree of TreeSize entries, to compare with a signed checkpoint.
	Root []byte
}

// Verify checks the proof against its own root; compare Root with a checkpoint's too.
func (p InclusionProof) Verify() error {
	return VerifyInclusion(p.Seq, p.TreeSize, p.LeafHash, p.Hashes, p.Root)
}

// InclusionProof builds the proof that entry seq is in the tree of treeSize entries.
func (l *Log) InclusionProof(ctx context.Context, seq, treeSize int64) (InclusionProof, error) {
	if seq < 0 || seq >= treeSize {
		return InclusionProof{}, fmt.Errorf("inclusion proof: entry %d not in a tree of %d", seq, treeSize)
	}
	if err := l.ensure(ctx, treeSize); err != nil {
		return InclusionProof{}, fmt.Errorf("inclusion proof: %w", err)
	}
	p := InclusionProof{Seq: seq, TreeSize: treeSize}
	var err error
	if p.Hashes, p.LeafHash, err = l.tree.inclusion(ctx, seq, treeSize); err != nil {
		return InclusionProof{}, fmt.Errorf("inclusion proof %d/%d: %w", seq, treeSize, err)
	}
	if p.Root, err = l.tree.root(ctx, treeSize); err != nil {
		return InclusionProof{}, fmt.Errorf("inclusion proof %d/%d: %w", seq, treeSize, err)
	}
	return p, nil
}

// ConsistencyProof proves that the tree of Size2 entries extends the tree of Size1.
type ConsistencyProof struct {
	Size1, Size2 int64
	Hashes       [][]byte
	Root1, Root2 []byte
}

// Verify checks the proof against its own roots; compare them with checkpoints too.
func (p ConsistencyProof) Verify() error {
	return VerifyConsistency(p.Size1, p.Size2, p.Hashes, p.Root1, p.Root2)
}

// ConsistencyProof builds the proof that the tree of size2 extends the tree of size1.
func (l *Log) ConsistencyProof(ctx context.Context, size1, size2 int64) (ConsistencyProof, error) {
	if size1 < 0 || size1 > size2 {
		return ConsistencyProof{}, fmt.Errorf("consistency proof: sizes %d, %d out of order", size1, size2)
	}
	if err := l.ensure(ctx, size2); err != nil {
		return ConsistencyProof{}, fmt.Errorf("consistency proof: %w", err)
	}
	p := ConsistencyProof{Size1: size1, Size2: size2}
	var err error
	if p.Hashes, err = l.tree.consistency(ctx, size1, size2); err != nil {
		return ConsistencyProof{}, fmt.Errorf("consistency proof %d/%d: %w", size1, size2, err)
	}
	if p.Root1, err = l.tree.root(ctx, size1); err != nil {
		return ConsistencyProof{}, fmt.Errorf("consistency proof %d/%d: %w", size1, size2, err)
	}
	if p.Root2, err = l.tree.root(ctx, size2); err != nil {
		return ConsistencyProof{}, fmt.Errorf("consistency proof %d/%d: %w", size1, size2, err)
	}
	return p, nil
}

// Query returns the entries matching f and the next page's cursor (see Filter and Query).
func (l *Log) Query(ctx context.Context, f Filter) ([]Entry, *int64, error) {
	return Query(ctx, l.store, f)
}
