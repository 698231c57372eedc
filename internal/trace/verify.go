package trace

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Source is what Verify reads: the stored trail.
type Source interface {
	// TraceHead returns the head row: the size the writers last committed and its root.
	TraceHead(ctx context.Context) (size int64, root []byte, err error)
	// ScanTrace calls fn for every stored entry with from <= seq < to in ascending sequence
	// order. The Row and its slices are the scan's: valid only until fn returns.
	ScanTrace(ctx context.Context, from, to int64, fn func(*Row) error) error
	// ScanTraceCameras calls fn for every row of the camera index with from <= seq < to,
	// ordered by sequence number and camera id; cameraID is valid only until fn returns.
	ScanTraceCameras(ctx context.Context, from, to int64, fn func(seq int64, cameraID []byte) error) error
	// TraceCheckpoints returns every stored checkpoint, ordered by size.
	TraceCheckpoints(ctx context.Context) ([]StoredCheckpoint, error)
}

// Report is what Verify found.
type Report struct {
	// Entries is how many stored entries were read before the check ended.
	Entries int64
	// Root is the recomputed root of the whole trail (when intact).
	Root []byte
	// Checkpoints is how many stored signed checkpoints matched the recomputed tree.
	Checkpoints int
	// External is the external checkpoint checked, when one was given.
	External *Checkpoint
	// Unsigned is how many of the newest entries no signed checkpoint covers: a rewrite of them
	// can only be caught with a later external checkpoint.
	Unsigned int64
	Intact   bool
	// FirstBad is the first entry found bad, -1 when intact or when the fault is not in an entry
	// (a forged checkpoint, an edited head). When the entries were rewritten together with their
	// hashes, only the signed checkpoints tell, and they bound the first bad entry to
	// [FirstBad, BadUntil); otherwise BadUntil is FirstBad+1.
	FirstBad int64
	BadUntil int64
	Problem  string
}

// Err is nil for an intact trail and otherwise names the problem.
func (r Report) Err() error {
	if r.Intact {
		return nil
	}
	return errors.New(r.Problem)
}

func (r *Report) fail(first, until int64, format string, args ...any) {
	r.Intact = false
	r.FirstBad, r.BadUntil = first, until
	r.Problem = fmt.Sprintf(format, args...)
}

// VerifyGCPercent is the garbage collector setting for a process that only verifies (`civicam
// trace verify`). Reading a trail through database/sql leaves a few hundred bytes of garbage per
// entry (the driver's copy of each column) beside a small live heap, so at the default of 100
// the collector runs every few megabytes and takes about a tenth of the time; at 400 the heap
// stays in the tens of megabytes.
const VerifyGCPercent = 400

// Verify recomputes the trail from src: every entry's leaf hash from its encoding, its chain
// value (or, for a migrated layout-1 entry, the tree root after it), the root at every stored
// checkpoint (whose signatures it checks with verifierKey), the head, and the camera index.
// With external (a signed checkpoint saved earlier, e.g. fetched from the public endpoint) it
// also checks that the trail still holds the tree that checkpoint signed, which catches a
// rewrite of the newest entries. The error is for
// failures to read; a damaged trail gives a Report with Intact false.
func Verify(ctx context.Context, src Source, verifierKey string, external []byte) (Report, error) {
	v := &verifier{rep: Report{FirstBad: -1, BadUntil: -1}, rng: rangeFactory.NewEmptyRange(0), roots: newRootJobs()}
	stored, err := src.TraceCheckpoints(ctx)
	if err != nil {
		return v.rep, fmt.Errorf("verify: read checkpoints: %w", err)
	}
	if ok, err := v.claimCheckpoints(stored, external, verifierKey); !ok {
		if err != nil {
			err = fmt.Errorf("verify: %w", err)
		}
		return v.rep, err
	}
	headSize, headRoot, err := src.TraceHead(ctx)
	if err != nil {
		return v.rep, fmt.Errorf("verify: read head: %w", err)
	}
	defer v.roots.wait()
	scanned, err := v.checkEntries(ctx, src, headSize)
	v.rep.Entries = v.size
	if err != nil {
		return v.rep, fmt.Errorf("verify: scan entries: %w", err)
	}
	// The roots are checked even when the scan stopped at a fault, which a wrong root before it
	// overrides.
	if !v.checkLegacyRoots() || !scanned {
		return v.rep, nil
	}
	root := rootOf(v.rng)
	if v.checkCovered() && v.checkOrphans() && v.checkHead(headSize, headRoot, root) {
		v.rep.Intact, v.rep.Root, v.rep.Unsigned = true, root, v.size-v.lastGood
	}
	return v.rep, nil
}

// verifier is the state of one Verify: the tree recomputed so far and the checkpoints it is held
// against. Each check method checks one thing; one that finds a fault records it in rep and
// returns false, so that Verify stops at the first.
type verifier struct {
	rep Report
	// claims are the checkpoints to hold against the tree, by size; next is the first the tree
	// has not reached yet.
	claims []claim
	next   int
	rng    *compact.Range // the tree of the entries checked so far
	size   int64          // how many entries were checked: the sequence number of the next
	// lastGood is the size up to which a signed checkpoint vouches for the trail.
	lastGood int64
	// prevChain is the stored chain value of the entry before the next (nil before entry 0).
	prevChain []byte
	// orphan is the first camera index row found naming no stored entry; the scan workers match
	// the others to their entries.
	orphan *camRow
	// roots check the stored roots of migrated layout-1 entries, which take folding the tree
	// after each: that is done in parallel, for each chunk from a copy of the tree at its start.
	roots *rootJobs
}

// claim is a checkpoint to hold against the recomputed tree.
type claim struct {
	cp       Checkpoint
	external bool
}

func (c *claim) what() string {
	if c.external {
		return "the external checkpoint"
	}
	return "a stored signed checkpoint"
}

// claimCheckpoints opens the stored checkpoints and the external one, if given, to hold against
// the tree. It returns false when a stored one is forged (a fault in the trail) and, with an
// error, when the external one does not open (a fault in what the caller gave).
func (v *verifier) claimCheckpoints(stored []StoredCheckpoint, external []byte, verifierKey string) (bool, error) {
	var ext *Checkpoint
	if len(external) > 0 {
		c, err := OpenCheckpoint(external, verifierKey)
		if err != nil {
			return false, fmt.Errorf("external checkpoint: %w", err)
		}
		ext = &c
		v.rep.External = ext
	}
	for _, s := range stored {
		if !v.claimStored(s, verifierKey) {
			return false, nil
		}
	}
	// Claimed last and sorted stably, the external checkpoint is held against the tree after a
	// stored one of the same size, which then names the fault.
	if ext != nil {
		v.claims = append(v.claims, claim{cp: *ext, external: true})
	}
	slices.SortStableFunc(v.claims, func(a, b claim) int { return cmp.Compare(a.cp.Size, b.cp.Size) })
	return true, nil
}

// claimStored checks a stored checkpoint's signature, and that its columns, which the log goes
// by rather than the note, say what the note does.
func (v *verifier) claimStored(s StoredCheckpoint, verifierKey string) bool {
	c, err := OpenCheckpoint(s.Note, verifierKey)
	if err != nil {
		v.rep.fail(-1, -1, "stored checkpoint at size %d does not verify: %v", s.Size, err)
		return false
	}
	if c.Size != s.Size || !equalHash(c.Root, s.Root) {
		v.rep.fail(-1, -1, "stored checkpoint at size %d: its columns (size %d) differ from its signed note", c.Size, s.Size)
		return false
	}
	v.claims = append(v.claims, claim{cp: c})
	return true
}

// checkEntries has the trail scanned in parallel chunks, up to the head's size and whatever is
// stored beyond, and takes the chunks in sequence order for what must be sequential: the tree,
// the chain across chunks and the checkpoints along the way. It returns false at a fault, and an
// error when the trail cannot be read.
func (v *verifier) checkEntries(ctx context.Context, src Source, headSize int64) (bool, error) {
	if !v.checkCheckpoints() {
		return false, nil
	}
	chunks, stop := scanParallel(ctx, src, headSize)
	defer stop()
	for c := range chunks {
		<-c.done
		if c.err != nil {
			return false, c.err
		}
		if ok, err := v.checkChunk(c.chunkResult); !ok {
			return false, err
		}
		if c.span > 0 && int64(len(c.rows)) < c.span {
			// Fewer entries than the head promised: whatever is stored after them is read
			// in one scan rather than chunk by chunk up to a head that may be made up.
			stop()
			res, err := checkRows(ctx, src, v.size, math.MaxInt64)
			if err != nil {
				return false, err
			}
			return v.checkChunk(res)
		}
	}
	return true, nil
}

// checkChunk checks a chunk's entries in turn, and keeps its first orphan row of the camera
// index for after the scan: a fault in an entry comes first, wherever it is.
func (v *verifier) checkChunk(res chunkResult) (bool, error) {
	if res.legacy {
		v.roots.start(v.rng, res.rows)
	}
	for i := range res.rows {
		if ok, err := v.checkEntry(&res.rows[i]); !ok {
			return false, err
		}
	}
	if v.orphan == nil && len(res.orphans) > 0 {
		v.orphan = &res.orphans[0]
	}
	return true, nil
}

// checkEntry adds the next entry to the tree if it is sound, and holds the checkpoints of the
// new size against the tree.
func (v *verifier) checkEntry(r *checkedRow) (bool, error) {
	if !v.checkSeq(r.seq) || !v.checkScanned(r) || !v.checkLink(r) {
		return false, nil
	}
	v.prevChain = r.chain
	if err := v.rng.Append(r.leaf, nil); err != nil {
		return false, err
	}
	v.size++
	return v.checkCheckpoints(), nil
}

// checkSeq checks that seq is the next entry: that none before it is missing and that it is not
// one already checked.
func (v *verifier) checkSeq(seq int64) bool {
	switch {
	case seq > v.size:
		v.rep.fail(v.size, v.size+1, "entry %d is missing (the next stored entry is %d): deleted", v.size, seq)
	case seq < v.size:
		v.rep.fail(seq, seq+1, "entry %d is stored out of order after entry %d", seq, v.size-1)
	default:
		return true
	}
	return false
}

// checkScanned reports what the scan worker found wrong with the entry: its leaf hash, its
// encoding, its rows of the camera index, or its chain value within the chunk.
func (v *verifier) checkScanned(r *checkedRow) bool {
	if r.problem == "" {
		return true
	}
	v.rep.fail(r.seq, r.seq+1, "entry %d %s", r.seq, r.problem)
	return false
}

// checkLink checks the chain value of the first entry of a chunk, whose worker did not have the
// entry before it. A migrated layout-1 entry holds the tree root instead, which a root job checks.
func (v *verifier) checkLink(r *checkedRow) bool {
	if r.legacy || r.linked {
		return true
	}
	if h := chainHash(v.prevChain, r.leaf); equalHash(h[:], r.chain) {
		return true
	}
	v.rep.fail(r.seq, r.seq+1, "entry %d %s", r.seq, badChain)
	return false
}

// checkCheckpoints holds the checkpoints of the tree's size against its root. A mismatch means
// the entries since the last good checkpoint were rewritten together with their hashes, which
// only the signature tells, and it cannot tell which.
func (v *verifier) checkCheckpoints() bool {
	for ; v.next < len(v.claims) && v.claims[v.next].cp.Size == v.size; v.next++ {
		c := &v.claims[v.next]
		if !equalHash(c.cp.Root, rootOf(v.rng)) {
			v.rep.fail(v.lastGood, v.size, "the recomputed root at size %d differs from %s: entries in [%d, %d) were rewritten together with their hashes",
				v.size, c.what(), v.lastGood, v.size)
			return false
		}
		v.lastGood = v.size
		if !c.external {
			v.rep.Checkpoints++
		}
	}
	return true
}

// checkLegacyRoots waits for the root jobs and checks that no migrated layout-1 entry has a wrong
// stored root. Such a root names an exact entry: it wins over a fault found after it, and over a
// range that a checkpoint could only bound.
func (v *verifier) checkLegacyRoots() bool {
	seq := v.roots.wait()
	if seq < 0 || (v.rep.Problem != "" && seq >= v.rep.BadUntil) {
		return true
	}
	v.rep.fail(seq, seq+1, "entry %d: the stored tree root after it is not the recomputed one: its hashes were changed", seq)
	return false
}

// checkCovered checks that the trail reaches the size of every checkpoint.
func (v *verifier) checkCovered() bool {
	if v.next == len(v.claims) {
		return true
	}
	c := &v.claims[v.next]
	v.rep.fail(v.size, c.cp.Size, "the trail ends after %d entries but %s covers %d: entries from %d were removed", v.size, c.what(), c.cp.Size, v.size)
	return false
}

// checkOrphans checks that every row of the camera index names a stored entry.
func (v *verifier) checkOrphans() bool {
	if v.orphan == nil {
		return true
	}
	v.rep.fail(v.orphan.seq, v.orphan.seq+1, "the camera index lists camera %q for entry %d, which is not stored", v.orphan.camera, v.orphan.seq)
	return false
}

// checkHead checks the head row, size and root, against the trail as stored and recomputed.
func (v *verifier) checkHead(size int64, root, recomputed []byte) bool {
	switch {
	case size > v.size:
		v.rep.fail(v.size, size, "the head records %d entries but only %d are stored: entries from %d were removed", size, v.size, v.size)
	case size < v.size:
		v.rep.fail(size, v.size, "%d entries are stored beyond the head's %d: entries from %d were inserted", v.size-size, size, size)
	case v.size > 0 && !equalHash(root, recomputed):
		v.rep.fail(-1, -1, "the head's root differs from the recomputed root at size %d: the head was edited", v.size)
	default:
		return true
	}
	return false
}

// rootJobs check the stored running roots, one goroutine per chunk, at most GOMAXPROCS at once.
type rootJobs struct {
	sem  chan struct{}
	jobs []*rootJob
}

type rootJob struct {
	bad  int64 // first entry whose stored root is wrong, -1 if none
	done chan struct{}
}

func newRootJobs() *rootJobs {
	return &rootJobs{sem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

// start checks the roots after each of rows, the tree before them being rng (copied).
func (r *rootJobs) start(rng *compact.Range, rows []checkedRow) {
	from, _ := rangeFactory.NewRange(0, rng.End(), slices.Clone(rng.Hashes()))
	j := &rootJob{bad: -1, done: make(chan struct{})}
	r.jobs = append(r.jobs, j)
	r.sem <- struct{}{}
	go func() {
		defer close(j.done)
		defer func() { <-r.sem }()
		for i := range rows {
			row := &rows[i]
			// Rows the sequential pass rejects (a gap, a bad leaf) end the job: that pass
			// reports them, and the roots after them mean nothing.
			if row.problem != "" || row.seq != int64(from.End()) {
				return
			}
			if from.Append(row.leaf, nil) != nil {
				return
			}
			if !row.legacy {
				continue
			}
			if root := foldRoot(from); !equalHash(root[:], row.chain) {
				j.bad = row.seq
				return
			}
		}
	}()
}

// wait waits for every job and returns the first entry with a wrong root, -1 if none.
func (r *rootJobs) wait() int64 {
	bad := int64(-1)
	for _, j := range r.jobs {
		<-j.done
		if j.bad >= 0 && (bad < 0 || j.bad < bad) {
			bad = j.bad
		}
	}
	return bad
}

// rootOf is the root of the tree the compact range (starting at 0) covers.
func rootOf(rng *compact.Range) []byte {
	if len(rng.Hashes()) == 0 {
		return hasher.EmptyRoot()
	}
	r := foldRoot(rng)
	return r[:]
}

// foldRoot folds a non-empty compact range's hashes into the root on the stack, allocating
// nothing: Verify does this after every migrated layout-1 entry.
func foldRoot(rng *compact.Range) [sha256.Size]byte {
	hs := rng.Hashes()
	var acc [sha256.Size]byte
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(acc[:], hs[len(hs)-1])
	for i := len(hs) - 2; i >= 0; i-- {
		copy(b[1:], hs[i])
		copy(b[1+sha256.Size:], acc[:])
		acc = sha256.Sum256(b[:])
	}
	return acc
}

// checkedRow is an entry as a scan worker leaves it: hashed, its leaf and its cameras in the
// camera index checked, and its chain value when the entry before it is in the same chunk.
type checkedRow struct {
	seq         int64
	leaf, chain []byte // as stored
	legacy      bool   // layout 1: chain holds the tree root after the entry
	linked      bool   // the chain value was checked
	problem     string // why the entry is bad on its own, if it is
}

const badChain = "has a chain hash that is not the one recomputed from the entry before it: its hashes were changed"

// chunkResult is what a scan worker found in a range of sequence numbers.
type chunkResult struct {
	rows []checkedRow
	// orphans are camera index rows of the range whose entry is not stored.
	orphans []camRow
	legacy  bool // some rows are of layout 1
}

type camRow struct {
	seq    int64
	camera string
}

type scanChunk struct {
	span int64 // entries the chunk should hold; 0 for the open-ended last one
	chunkResult
	err  error
	done chan struct{} // closed when rows and err are set
}

// scanChunkSize is the entries one worker reads and hashes at a time (a variable for tests).
var scanChunkSize int64 = 16384

// scanParallel reads the trail in chunks of sequence numbers, hashing each in its own goroutine
// (as many as GOMAXPROCS at a time), and hands the chunks out in order. The chunks are cut at
// the head's size, the last one open-ended, so nothing stored is skipped whatever the head says.
// stop cancels the scan and waits for every goroutine.
func scanParallel(ctx context.Context, src Source, size int64) (<-chan *scanChunk, func()) {
	ctx, cancel := context.WithCancel(ctx)
	workers := max(1, runtime.GOMAXPROCS(0))
	out := make(chan *scanChunk, workers)
	go func() {
		defer close(out)
		var wg sync.WaitGroup
		defer wg.Wait()
		sem := make(chan struct{}, workers)
		for from := int64(0); ; from += scanChunkSize {
			to := from + scanChunkSize
			last := to >= size
			if last {
				to = math.MaxInt64
			}
			c := &scanChunk{done: make(chan struct{})}
			if !last {
				c.span = to - from
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer close(c.done)
				c.chunkResult, c.err = checkRows(ctx, src, from, to)
			}()
			if last {
				return
			}
		}
	}()
	return out, func() {
		cancel()
		for c := range out {
			<-c.done
		}
	}
}

// checkRows reads entries [from, to) and their rows of the camera index, and checks each entry
// against its own leaf hash and the index against the entry's cameras.
func checkRows(ctx context.Context, src Source, from, to int64) (chunkResult, error) {
	idx, err := readCameraIndex(ctx, src, from, to)
	if err != nil {
		return chunkResult{}, err
	}
	n := min(to-from, scanChunkSize)
	res := chunkResult{rows: make([]checkedRow, 0, n)}
	// The hashes outlive the scan's row: they are copied into blocks rather than one by one.
	var hashes []byte
	keep := func(h []byte) []byte {
		if len(hashes)+len(h) > cap(hashes) {
			hashes = make([]byte, 0, max(64*n, int64(len(h))))
		}
		hashes = append(hashes, h...)
		return hashes[len(hashes)-len(h) : len(hashes) : len(hashes)]
	}
	buf := make([]byte, 0, 1024)
	var cams [][]byte
	err = src.ScanTrace(ctx, from, to, func(r *Row) error {
		c := checkedRow{seq: r.Seq, leaf: keep(r.LeafHash), chain: keep(r.Chain), legacy: isLegacy(r.Data)}
		res.legacy = res.legacy || c.legacy
		res.orphans = idx.takeBefore(r.Seq, res.orphans)
		var (
			leaf [sha256.Size]byte
			err  error
			seq  int64
		)
		leaf, buf, err = leafHash(r.Data, buf)
		switch {
		case err != nil:
			c.problem = fmt.Sprintf("cannot be decoded: %v", err)
		case !equalHash(leaf[:], r.LeafHash):
			c.problem = "does not match its leaf hash: its content or position was changed"
		default:
			seq, cams, err = entryHeadViews(r.Data, cams[:0])
			switch {
			case err != nil:
				c.problem = fmt.Sprintf("cannot be decoded: %v", err)
			case seq != r.Seq:
				c.problem = fmt.Sprintf("holds the content of entry %d: it was moved", seq)
			default:
				c.problem = idx.match(r.Seq, cams)
			}
			if prev := len(res.rows) - 1; c.problem == "" && !c.legacy && prev >= 0 && res.rows[prev].seq == r.Seq-1 {
				c.linked = true
				if h := chainHash(res.rows[prev].chain, leaf[:]); !equalHash(h[:], c.chain) {
					c.problem = badChain
				}
			}
		}
		idx.skip(r.Seq)
		res.rows = append(res.rows, c)
		return nil
	})
	if err != nil {
		return chunkResult{}, fmt.Errorf("scan entries %d..%d: %w", from, to, err)
	}
	res.orphans = idx.takeBefore(math.MaxInt64, res.orphans)
	return res, nil
}

// cameraIndex is a range of the camera index in memory: the ids in one block, no string each.
type cameraIndex struct {
	ids  []byte
	rows []indexRow
	next int // the first row not yet matched to an entry
}

// indexRow is a camera index row: its entry and where its id lies in ids.
type indexRow struct {
	seq      int64
	from, to int
}

func readCameraIndex(ctx context.Context, src Source, from, to int64) (*cameraIndex, error) {
	// Sized for about one camera of twenty bytes per entry, which most entries have.
	n := min(to-from, scanChunkSize)
	idx := &cameraIndex{ids: make([]byte, 0, 20*n)}
	idx.rows = slices.Grow(idx.rows, int(n))
	err := src.ScanTraceCameras(ctx, from, to, func(seq int64, id []byte) error {
		idx.rows = append(idx.rows, indexRow{seq, len(idx.ids), len(idx.ids) + len(id)})
		idx.ids = append(idx.ids, id...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan camera index %d..%d: %w", from, to, err)
	}
	return idx, nil
}

// takeBefore moves past the rows of entries before seq, appending them to orphans: Verify has
// passed those entries, so no stored entry matches them.
func (idx *cameraIndex) takeBefore(seq int64, orphans []camRow) []camRow {
	for ; idx.next < len(idx.rows) && idx.rows[idx.next].seq < seq; idx.next++ {
		orphans = append(orphans, idx.row(idx.next))
	}
	return orphans
}

// skip moves past the rows of entry seq.
func (idx *cameraIndex) skip(seq int64) {
	for idx.next < len(idx.rows) && idx.rows[idx.next].seq == seq {
		idx.next++
	}
}

func (idx *cameraIndex) id(i int) []byte { return idx.ids[idx.rows[i].from:idx.rows[i].to] }

func (idx *cameraIndex) row(i int) camRow {
	return camRow{seq: idx.rows[i].seq, camera: string(idx.id(i))}
}

// match compares the index rows of entry seq, which start at idx.next, with the entry's cameras
// (sorted and made unique here) and says what differs, "" when nothing does.
func (idx *cameraIndex) match(seq int64, cams [][]byte) string {
	slices.SortFunc(cams, bytes.Compare)
	cams = slices.CompactFunc(cams, bytes.Equal)
	i, ok := idx.next, true
	for _, c := range cams {
		if i >= len(idx.rows) || idx.rows[i].seq != seq || !bytes.Equal(idx.id(i), c) {
			ok = false
			break
		}
		i++
	}
	if ok && (i >= len(idx.rows) || idx.rows[i].seq != seq) {
		return ""
	}
	var indexed []string
	for i := idx.next; i < len(idx.rows) && idx.rows[i].seq == seq; i++ {
		indexed = append(indexed, string(idx.id(i)))
	}
	named := make([]string, len(cams))
	for i, c := range cams {
		named[i] = string(c)
	}
	return fmt.Sprintf("is not what the camera index lists: the index lists %q, the entry %q", indexed, named)
}

// entryHead reads the sequence number and the cameras an encoded entry names.
func entryHead(data []byte) (int64, []string, error) {
	seq, views, err := entryHeadViews(data, nil)
	if err != nil {
		return 0, nil, err
	}
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = string(v)
	}
	return seq, ids, nil
}

// entryHeadViews is entryHead with the ids appended to dst as slices of data, where it can:
// layout 2 puts the sequence number and the cameras first, so Verify reads them without
// decoding the rest or allocating. A camera id with an escape sends the entry through the JSON
// decoder.
func entryHeadViews(data []byte, dst [][]byte) (int64, [][]byte, error) {
	decoded := func(seq int64, ids []string) (int64, [][]byte, error) {
		for _, id := range ids {
			dst = append(dst, []byte(id))
		}
		return seq, dst, nil
	}
	if isLegacy(data) {
		f, err := decodeLegacy(data)
		if err != nil {
			return 0, nil, err
		}
		var ids []string
		if err := json.Unmarshal([]byte(f.CameraIDs), &ids); err != nil {
			return 0, nil, fmt.Errorf("camera ids are not a JSON list: %w", err)
		}
		return decoded(f.Seq, ids)
	}
	const head, cams = `{"v":2,"seq":`, `,"camera_ids":[`
	rest, ok := bytes.CutPrefix(data, []byte(head))
	if !ok {
		return 0, nil, errors.New("not an entry of a known layout")
	}
	var seq int64
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		seq = seq*10 + int64(rest[i]-'0')
	}
	if i == 0 || i > 18 || (i > 1 && rest[0] == '0') {
		return 0, nil, errors.New("no canonical sequence number")
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(cams)); !ok {
		return 0, nil, errors.New("no camera ids after the sequence number")
	}
	start := len(dst)
	for len(rest) > 0 && rest[0] != ']' {
		if len(dst) > start {
			if rest[0] != ',' {
				return 0, nil, errors.New("malformed camera ids")
			}
			rest = rest[1:]
		}
		if len(rest) == 0 || rest[0] != '"' {
			return 0, nil, errors.New("malformed camera ids")
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return 0, nil, errors.New("malformed camera ids")
		}
		id := rest[1 : 1+end]
		if bytes.IndexByte(id, '\\') >= 0 {
			dst = dst[:start]
			var w wireEntry
			if err := json.Unmarshal(data, &w); err != nil {
				return 0, nil, err
			}
			return decoded(w.Seq, w.CameraIDs)
		}
		dst = append(dst, id)
		rest = rest[2+end:]
	}
	if len(rest) == 0 {
		return 0, nil, errors.New("malformed camera ids")
	}
	return seq, dst, nil
}
