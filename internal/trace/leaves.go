package trace

import (
	"context"
	"fmt"
)

// Leaf is one entry as a verifier off the platform reads it: the exact bytes the tree's leaf
// hashes, SHA-256(0x00 || Data) (docs/trace-format.md).
type Leaf struct {
	Index int64
	// Data is the entry's encoding as stored (layout 2), or, for an entry migrated from
	// layout 1, its fields' layout-1 encoding. A migrated row that no longer decodes is served as
	// stored, so that its hash, not the server, tells that it was edited.
	Data []byte
}

// MaxLeaves bounds one page of Leaves.
const MaxLeaves = 1000

// Leaves returns the leaves of the committed entries from start, at most limit of them (at most
// MaxLeaves), and the size of the tree they were read from. A page stops early at an entry
// missing from the database; the verifier then finds the gap from the indexes.
func (l *Log) Leaves(ctx context.Context, start int64, limit int) ([]Leaf, int64, error) {
	size, err := l.Size(ctx)
	if err != nil {
		return nil, 0, err
	}
	limit = min(max(limit, 1), MaxLeaves)
	end := min(size, start+int64(limit))
	var out []Leaf
	if start >= end {
		return []Leaf{}, size, nil
	}
	err = l.store.ScanTrace(ctx, start, end, func(r *Row) error {
		out = append(out, Leaf{Index: r.Seq, Data: LeafData(r.Data)})
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("trace leaves [%d, %d): %w", start, end, err)
	}
	if out == nil {
		out = []Leaf{}
	}
	return out, size, nil
}

// LeafData is the leaf bytes of a stored encoding: the encoding itself, or a migrated layout-1
// row's layout-1 encoding (the stored bytes when they no longer decode).
func LeafData(data []byte) []byte {
	if !isLegacy(data) {
		return append([]byte(nil), data...)
	}
	f, err := decodeLegacy(data)
	if err != nil {
		return append([]byte(nil), data...)
	}
	return f.encode(nil)
}
