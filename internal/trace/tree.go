package trace

import (
	"context"
	"fmt"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

var rangeFactory = &compact.RangeFactory{Hash: hashChildren}

// leafReader fetches stored leaf hashes [from, to) in order.
type leafReader func(ctx context.Context, from, to int64) ([][]byte, error)

// tree is the Merkle tree's in-memory part. It keeps every complete node at level memLevel and
// above (2^(1-memLevel) hashes of 32 bytes per entry: 64 B/entry at level 0, 4 B at level 4,
// 1 B at level 6) and the leaf hashes of the last, incomplete tile; a node below memLevel inside
// a complete tile is recomputed from its 2^memLevel stored leaf hashes, read in one range query.
type tree struct {
	mu       sync.RWMutex
	memLevel uint
	rng      *compact.Range
	levels   [][]byte // levels[i] holds the nodes of level memLevel+i, 32 bytes each
	tail     [][]byte // leaf hashes of the last incomplete tile (memLevel > 0 only)
	read     leafReader
}

func newTree(memLevel uint, read leafReader) *tree {
	return &tree{memLevel: memLevel, rng: rangeFactory.NewEmptyRange(0), read: read}
}

func (t *tree) size() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return int64(t.rng.End())
}

// add appends leaf hashes that start at index from; the part already present is skipped, so that
// the writer and a reader catching up from the database can both add the same committed leaves.
func (t *tree) add(from int64, leaves [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addLocked(from, leaves)
}

func (t *tree) addLocked(from int64, leaves [][]byte) error {
	end := int64(t.rng.End())
	if from > end {
		return fmt.Errorf("trace tree: leaves from %d leave a gap after %d", from, end)
	}
	for i := end - from; i < int64(len(leaves)); i++ {
		if err := t.rng.Append(leaves[i], t.visit); err != nil {
			return fmt.Errorf("trace tree: append leaf %d: %w", from+i, err)
		}
	}
	return nil
}

func (t *tree) visit(id compact.NodeID, hash []byte) {
	if id.Level == 0 && t.memLevel > 0 {
		t.tail = append(t.tail, hash)
		if len(t.tail) == 1<<t.memLevel {
			t.tail = t.tail[:0]
		}
	}
	if id.Level < t.memLevel {
		return
	}
	i := int(id.Level - t.memLevel)
	for len(t.levels) <= i {
		t.levels = append(t.levels, nil)
	}
	t.levels[i] = append(t.levels[i], hash...)
}

// rangeClone copies the compact range so a batch can be hashed without touching the tree until
// it is committed.
func (t *tree) rangeClone() *compact.Range {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, _ := rangeFactory.NewRange(0, t.rng.End(), append([][]byte(nil), t.rng.Hashes()...))
	return r
}

// root returns the root hash of the tree of the given size (<= the current size).
func (t *tree) root(ctx context.Context, size int64) ([]byte, error) {
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, uint64(size), nil)
	hashes, err := t.nodes(ctx, ids, size)
	if err != nil {
		return nil, err
	}
	r, err := rangeFactory.NewRange(0, uint64(size), hashes)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// inclusion builds the inclusion proof of leaf index in the tree of the given size and returns
// the leaf's hash beside it (fetched with the proof's nodes, so in the same tile read).
func (t *tree) inclusion(ctx context.Context, index, size int64) ([][]byte, []byte, error) {
	n, err := proof.Inclusion(uint64(index), uint64(size))
	if err != nil {
		return nil, nil, err
	}
	ids := append(append(make([]compact.NodeID, 0, len(n.IDs)+1), n.IDs...), compact.NewNodeID(0, uint64(index)))
	hashes, err := t.nodes(ctx, ids, size)
	if err != nil {
		return nil, nil, err
	}
	leaf := hashes[len(hashes)-1]
	p, err := n.Rehash(hashes[:len(hashes)-1], hashChildren)
	return p, leaf, err
}

// consistency builds the consistency proof between two tree sizes.
func (t *tree) consistency(ctx context.Context, size1, size2 int64) ([][]byte, error) {
	n, err := proof.Consistency(uint64(size1), uint64(size2))
	if err != nil {
		return nil, err
	}
	hashes, err := t.nodes(ctx, n.IDs, size2)
	if err != nil {
		return nil, err
	}
	return n.Rehash(hashes, hashChildren)
}

// nodes returns the hashes of complete nodes, reading leaves from the store for nodes below the
// memory level (one query per tile touched; a proof touches at most two).
func (t *tree) nodes(ctx context.Context, ids []compact.NodeID, size int64) ([][]byte, error) {
	t.mu.RLock()
	cur := int64(t.rng.End())
	if size > cur {
		t.mu.RUnlock()
		return nil, fmt.Errorf("trace tree: size %d beyond the tree's %d entries", size, cur)
	}
	out := make([][]byte, len(ids))
	tileSize := int64(1) << t.memLevel
	tailStart := cur - int64(len(t.tail))
	var missing map[int64][]int // tile start -> indexes into ids
	for i, id := range ids {
		if id.Level >= t.memLevel {
			var lv []byte
			if l := int(id.Level - t.memLevel); l < len(t.levels) {
				lv = t.levels[l]
			}
			off := int(id.Index) * 32
			if off+32 > len(lv) {
				t.mu.RUnlock()
				return nil, fmt.Errorf("trace tree: node %d/%d not complete", id.Level, id.Index)
			}
			out[i] = lv[off : off+32 : off+32]
			continue
		}
		begin, end := id.Coverage()
		if int64(begin) >= tailStart && int64(end) <= cur {
			out[i] = subtreeHash(t.tail[int64(begin)-tailStart : int64(end)-tailStart])
			continue
		}
		if missing == nil {
			missing = map[int64][]int{}
		}
		tile := int64(begin) &^ (tileSize - 1)
		missing[tile] = append(missing[tile], i)
	}
	t.mu.RUnlock()
	for tile, idx := range missing {
		leaves, err := t.read(ctx, tile, tile+tileSize)
		if err != nil {
			return nil, fmt.Errorf("trace tree: read leaves %d..%d: %w", tile, tile+tileSize, err)
		}
		if int64(len(leaves)) != tileSize {
			return nil, fmt.Errorf("trace tree: read leaves %d..%d: got %d", tile, tile+tileSize, len(leaves))
		}
		for _, i := range idx {
			begin, end := ids[i].Coverage()
			out[i] = subtreeHash(leaves[int64(begin)-tile : int64(end)-tile])
		}
	}
	return out, nil
}

// subtreeHash is the root of a perfect subtree over the given leaf hashes (a power of two).
func subtreeHash(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	level := make([][]byte, len(leaves)/2)
	for i := range level {
		level[i] = hashChildren(leaves[2*i], leaves[2*i+1])
	}
	for len(level) > 1 {
		for i := 0; i < len(level)/2; i++ {
			level[i] = hashChildren(level[2*i], level[2*i+1])
		}
		level = level[:len(level)/2]
	}
	return level[0]
}
