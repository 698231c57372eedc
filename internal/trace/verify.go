package trace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
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

var errStop = errors.New("stop")

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
	rep := Report{FirstBad: -1, BadUntil: -1}
	stored, err := src.TraceCheckpoints(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: read checkpoints: %w", err)
	}
	var ext *Checkpoint
	if len(external) > 0 {
		c, err := OpenCheckpoint(external, verifierKey)
		if err != nil {
			return rep, fmt.Errorf("verify: external checkpoint: %w", err)
		}
		ext = &c
		rep.External = ext
	}
	// Every checkpoint to hold against the recomputed tree, by size.
	type claim struct {
		cp       Checkpoint
		external bool
	}
	var claims []claim
	for _, s := range stored {
		c, err := OpenCheckpoint(s.Note, verifierKey)
		if err != nil {
			rep.fail(-1, -1, "stored checkpoint at size %d does not verify: %v", s.Size, err)
			return rep, nil
		}
		if c.Size != s.Size || !equalHash(c.Root, s.Root) {
			rep.fail(-1, -1, "stored checkpoint at size %d: its columns (size %d) differ from its signed note", c.Size, s.Size)
			return rep, nil
		}
		claims = append(claims, claim{cp: c})
	}
	if ext != nil {
		claims = append(claims, claim{cp: *ext, external: true})
	}
	sort.SliceStable(claims, func(i, j int) bool { return claims[i].cp.Size < claims[j].cp.Size })

	headSize, headRoot, err := src.TraceHead(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: read head: %w", err)
	}

	// Camera index rows that name no stored entry (the scan workers match the others).
	var orphan *camRow

	rng := rangeFactory.NewEmptyRange(0)
	var (
		expected int64
		lastGood int64 // size up to which a signed checkpoint vouches for the trail
		next     int   // next claim to check
		root     = hasher.EmptyRoot()
		// prevChain is the stored chain value of the entry before expected (nil before entry 0).
		prevChain []byte
	)
	checkClaims := func() bool {
		for ; next < len(claims) && claims[next].cp.Size == expected; next++ {
			c := claims[next]
			root = rootOf(rng)
			if !equalHash(c.cp.Root, root) {
				what := "a stored signed checkpoint"
				if c.external {
					what = "the external checkpoint"
				}
				rep.fail(lastGood, expected, "the recomputed root at size %d differs from %s: entries in [%d, %d) were rewritten together with their hashes",
					expected, what, lastGood, expected)
				return false
			}
			lastGood = expected
			if !c.external {
				rep.Checkpoints++
			}
		}
		return true
	}
	if !checkClaims() {
		return rep, nil
	}
	// Workers read and hash ranges of entries in parallel; this goroutine takes their results in
	// sequence order for what must be sequential: the running root and the index merge.
	chunks, stopScan := scanParallel(ctx, src, headSize)
	defer stopScan()
	check := func(r *checkedRow) (bool, error) {
		if r.seq != expected {
			if r.seq > expected {
				rep.fail(expected, expected+1, "entry %d is missing (the next stored entry is %d): deleted", expected, r.seq)
			} else {
				rep.fail(r.seq, r.seq+1, "entry %d is stored out of order after entry %d", r.seq, expected-1)
			}
			return false, nil
		}
		if r.problem != "" {
			rep.fail(r.seq, r.seq+1, "entry %d %s", r.seq, r.problem)
			return false, nil
		}
		// The workers check each chain value against the entry before it in their chunk; the
		// first entry of a chunk is checked here. (A migrated layout-1 entry holds the tree root
		// instead, which a root job checks.)
		if !r.legacy && !r.linked {
			if h := chainHash(prevChain, r.leaf); !equalHash(h[:], r.chain) {
				rep.fail(r.seq, r.seq+1, "entry %d %s", r.seq, badChain)
				return false, nil
			}
		}
		prevChain = r.chain
		if err := rng.Append(r.leaf, nil); err != nil {
			return false, err
		}
		expected++
		return checkClaims(), nil
	}
	// Migrated layout-1 entries hold the tree root after them, which takes folding the compact
	// range: root jobs do it for one chunk each, in parallel, from a copy of the range at the
	// chunk's start.
	roots := newRootJobs()
	defer roots.wait()
	process := func(res chunkResult) (bool, error) {
		if res.legacy {
			roots.start(rng, res.rows)
		}
		for i := range res.rows {
			if ok, err := check(&res.rows[i]); !ok {
				return false, err
			}
		}
		if orphan == nil && len(res.orphans) > 0 {
			orphan = &res.orphans[0]
		}
		return true, nil
	}
	for c := range chunks {
		<-c.done
		ok := c.err == nil
		if ok {
			ok, err = process(c.chunkResult)
		} else {
			err = c.err
		}
		if ok && c.span > 0 && int64(len(c.rows)) < c.span {
			// Fewer entries than the head promised: whatever is stored after them is read
			// in one scan rather than chunk by chunk up to a head that may be made up.
			stopScan()
			var res chunkResult
			if res, err = checkRows(ctx, src, expected, math.MaxInt64); err == nil {
				ok, err = process(res)
			} else {
				ok = false
			}
		}
		if !ok {
			if err == nil {
				err = errStop
			}
			break
		}
	}
	rep.Entries = expected
	if err != nil && !errors.Is(err, errStop) {
		return rep, fmt.Errorf("verify: scan entries: %w", err)
	}
	// A wrong stored root of a layout-1 entry names an exact entry: it wins over a later fault,
	// and over a range that a checkpoint could only bound.
	if seq := roots.wait(); seq >= 0 && (rep.Problem == "" || seq < rep.BadUntil) {
		rep.fail(seq, seq+1, "entry %d: the stored tree root after it is not the recomputed one: its hashes were changed", seq)
		return rep, nil
	}
	if errors.Is(err, errStop) {
		return rep, nil
	}
	root = rootOf(rng)
	size := expected
	if next < len(claims) {
		c := claims[next]
		what := "a stored signed checkpoint"
		if c.external {
			what = "the external checkpoint"
		}
		rep.fail(size, c.cp.Size, "the trail ends after %d entries but %s covers %d: entries from %d were removed", size, what, c.cp.Size, size)
		return rep, nil
	}
	if orphan != nil {
		rep.fail(orphan.seq, orphan.seq+1, "the camera index lists camera %q for entry %d, which is not stored", orphan.camera, orphan.seq)
		return rep, nil
	}
	switch {
	case headSize > size:
		rep.fail(size, headSize, "the head records %d entries but only %d are stored: entries from %d were removed", headSize, size, size)
		return rep, nil
	case headSize < size:
		rep.fail(headSize, size, "%d entries are stored beyond the head's %d: entries from %d were inserted", size-headSize, headSize, headSize)
		return rep, nil
	case size > 0 && !equalHash(headRoot, root):
		rep.fail(-1, -1, "the head's root differs from the recomputed root at size %d: the head was edited", size)
		return rep, nil
	}
	rep.Intact = true
	rep.Root = root
	rep.Unsigned = size - lastGood
	return rep, nil
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
