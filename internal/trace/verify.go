package trace

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Source is what Verify reads: the stored trail.
type Source interface {
	// TraceHead returns the head row: the size the writers last committed and its root.
	TraceHead(ctx context.Context) (size int64, root []byte, err error)
	// ScanTrace calls fn for every stored entry with from <= seq < to in ascending sequence
	// order; the Row is reused between calls but its hash slices are not.
	ScanTrace(ctx context.Context, from, to int64, fn func(*Row) error) error
	// ScanTraceCameras calls fn for every row of the camera index, ordered by sequence number.
	ScanTraceCameras(ctx context.Context, fn func(seq int64, cameraID string) error) error
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

// Verify recomputes the trail from src: every entry's leaf hash from its columns, the running
// root after every entry, the root at every stored checkpoint (whose signatures it checks with
// verifierKey), the head, and the camera index. With external (a signed checkpoint saved
// earlier, e.g. fetched from the public endpoint) it also checks that the trail still holds the
// tree that checkpoint signed, which catches a rewrite of the newest entries. The error is for
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

	// The camera index is read beside the entries and merged by sequence number.
	cams, stopCams := scanCameras(ctx, src)
	defer stopCams()
	var pendingCam *camRow

	rng := rangeFactory.NewEmptyRange(0)
	var (
		expected int64
		lastGood int64 // size up to which a signed checkpoint vouches for the trail
		next     int   // next claim to check
		root     = hasher.EmptyRoot()
		indexed  []string
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
		// The stored root after the entry is checked by a root job (see below).
		if err := rng.Append(r.leaf, nil); err != nil {
			return false, err
		}
		// The camera index must list exactly the entry's cameras.
		indexed = indexed[:0]
		for {
			if pendingCam == nil {
				c, ok := <-cams
				if !ok {
					break
				}
				if c.err != nil {
					return false, c.err
				}
				pendingCam = &c
			}
			if pendingCam.seq > r.seq {
				break
			}
			if pendingCam.seq < r.seq {
				rep.fail(pendingCam.seq, pendingCam.seq+1, "the camera index lists camera %q for entry %d, which is not stored", pendingCam.camera, pendingCam.seq)
				return false, nil
			}
			indexed = append(indexed, pendingCam.camera)
			pendingCam = nil
		}
		slices.Sort(indexed)
		if !slices.Equal(r.cameras, indexed) {
			rep.fail(r.seq, r.seq+1, "entry %d: the camera index lists %q, the entry %q", r.seq, indexed, r.cameras)
			return false, nil
		}
		expected++
		return checkClaims(), nil
	}
	// Recomputing the root after every entry is most of the hashing; root jobs do it for one
	// chunk each, in parallel, from a copy of the compact range at the chunk's start.
	roots := newRootJobs()
	defer roots.wait()
	process := func(rows []checkedRow) (bool, error) {
		roots.start(rng, rows)
		for i := range rows {
			if ok, err := check(&rows[i]); !ok {
				return false, err
			}
		}
		return true, nil
	}
	for c := range chunks {
		<-c.done
		ok := c.err == nil
		if ok {
			ok, err = process(c.rows)
		} else {
			err = c.err
		}
		if ok && c.span > 0 && int64(len(c.rows)) < c.span {
			// Fewer entries than the head promised: whatever is stored after them is read
			// in one scan rather than chunk by chunk up to a head that may be made up.
			stopScan()
			var rows []checkedRow
			if rows, err = checkRows(ctx, src, expected, math.MaxInt64); err == nil {
				ok, err = process(rows)
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
	// A wrong stored root names an exact entry: it wins over a later fault, and over a range
	// that a checkpoint could only bound.
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
	if pendingCam == nil {
		if c, ok := <-cams; ok {
			if c.err != nil {
				return rep, fmt.Errorf("verify: scan camera index: %w", c.err)
			}
			pendingCam = &c
		}
	}
	if pendingCam != nil {
		rep.fail(pendingCam.seq, pendingCam.seq+1, "the camera index lists camera %q for entry %d, which is not stored", pendingCam.camera, pendingCam.seq)
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
			if root := rootOf(from); !equalHash(root, row.root) {
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

// rootOf is the root of the tree the compact range (starting at 0) covers, folded on the stack.
func rootOf(rng *compact.Range) []byte {
	hs := rng.Hashes()
	if len(hs) == 0 {
		return hasher.EmptyRoot()
	}
	var acc [sha256.Size]byte
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(acc[:], hs[len(hs)-1])
	for i := len(hs) - 2; i >= 0; i-- {
		copy(b[1:], hs[i])
		copy(b[1+sha256.Size:], acc[:])
		acc = sha256.Sum256(b[:])
	}
	return acc[:]
}

// checkedRow is an entry as a scan worker leaves it: hashed, its leaf checked, cameras parsed.
type checkedRow struct {
	seq        int64
	leaf, root []byte // as stored
	cameras    []string
	problem    string // why the entry is bad on its own, if it is
}

type scanChunk struct {
	span int64 // entries the chunk should hold; 0 for the open-ended last one
	rows []checkedRow
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
				c.rows, c.err = checkRows(ctx, src, from, to)
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

// checkRows reads entries [from, to) and checks each against its own leaf hash.
func checkRows(ctx context.Context, src Source, from, to int64) ([]checkedRow, error) {
	rows := make([]checkedRow, 0, min(to-from, scanChunkSize))
	buf := make([]byte, 0, 1024)
	err := src.ScanTrace(ctx, from, to, func(r *Row) error {
		c := checkedRow{seq: r.Seq, leaf: r.LeafHash, root: r.Root}
		var leaf []byte
		leaf, buf = leafHash(r, buf)
		switch {
		case !equalHash(leaf, r.LeafHash):
			c.problem = "does not match its leaf hash: its content or position was changed"
		case r.CameraIDs != "[]":
			var err error
			if c.cameras, err = parseCameraIDs(r.CameraIDs); err != nil {
				c.problem = fmt.Sprintf("has camera ids that are not a JSON list: %v", err)
				break
			}
			slices.Sort(c.cameras)
			c.cameras = slices.Compact(c.cameras)
		}
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan entries %d..%d: %w", from, to, err)
	}
	return rows, nil
}

type camRow struct {
	seq    int64
	camera string
	err    error
}

// scanCameras streams the camera index through a channel; stop ends the scan and waits for it.
func scanCameras(ctx context.Context, src Source) (<-chan camRow, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan camRow, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		err := src.ScanTraceCameras(ctx, func(seq int64, camera string) error {
			select {
			case ch <- camRow{seq: seq, camera: camera}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			select {
			case ch <- camRow{err: fmt.Errorf("scan camera index: %w", err)}:
			case <-ctx.Done():
			}
		}
	}()
	return ch, func() { cancel(); <-done }
}

// parseCameraIDs reads a JSON list of strings. The canonical form of plain ids (no escapes) is
// split directly: without a backslash no quote can sit inside a string, so `","` only separates.
func parseCameraIDs(s string) ([]string, error) {
	if len(s) >= 4 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) && !strings.ContainsAny(s, `\`) {
		inner := s[2 : len(s)-2]
		if !strings.Contains(inner, `"`) {
			return []string{inner}, nil
		}
		parts := strings.Split(inner, `","`)
		ok := true
		for _, p := range parts {
			if strings.Contains(p, `"`) {
				ok = false
				break
			}
		}
		if ok {
			return parts, nil
		}
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, err
	}
	return ids, nil
}
