package trace

import (
	"context"
	"errors"
	"fmt"
)

// Receipt proves, to anyone holding the platform's verifier key and nothing else, that one entry
// is in the trail: the entry's leaf bytes, a signed checkpoint of a tree that holds it, and the
// inclusion proof between the two. An export carries the receipt of its own trail entry, so the
// zip alone shows that the reproduction was recorded — and a trail later rewritten to drop that
// entry contradicts a checkpoint the platform signed.
type Receipt struct {
	Seq        int64    `json:"seq"`
	Leaf       []byte   `json:"leaf"`
	Checkpoint string   `json:"checkpoint"`
	Proof      [][]byte `json:"proof"`
}

// Receipt signs a checkpoint of the current tree and returns the receipt of entry seq in it.
// The entry must be committed (Append returned).
func (l *Log) Receipt(ctx context.Context, seq int64) (Receipt, error) {
	msg, err := l.Checkpoint(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of entry %d: %w", seq, err)
	}
	c, err := OpenCheckpoint(msg, l.key.VerifierKey())
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of entry %d: %w", seq, err)
	}
	p, err := l.InclusionProof(ctx, seq, c.Size)
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of entry %d: %w", seq, err)
	}
	r := Receipt{Seq: seq, Checkpoint: string(msg), Proof: p.Hashes}
	err = l.store.ScanTrace(ctx, seq, seq+1, func(row *Row) error {
		r.Leaf = LeafData(row.Data)
		return nil
	})
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of entry %d: %w", seq, err)
	}
	if r.Leaf == nil {
		return Receipt{}, fmt.Errorf("receipt of entry %d: the entry is not stored", seq)
	}
	return r, nil
}

// Check verifies the receipt with the verifier key alone: the checkpoint's signature, the leaf's
// inclusion in the checkpoint's tree, and the leaf's decoding. It returns the entry and the
// checkpoint it was proven in.
func (r Receipt) Check(verifierKey string) (Entry, Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(r.Checkpoint), verifierKey)
	if err != nil {
		return Entry{}, Checkpoint{}, err
	}
	if len(r.Leaf) == 0 {
		return Entry{}, c, errors.New("receipt holds no entry")
	}
	if err := VerifyInclusion(r.Seq, c.Size, hasher.HashLeaf(r.Leaf), r.Proof, c.Root); err != nil {
		return Entry{}, c, fmt.Errorf("entry %d is not in the signed tree of %d entries: %w", r.Seq, c.Size, err)
	}
	row := Row{Seq: r.Seq, Data: r.Leaf}
	e, err := row.Entry()
	if err != nil {
		return Entry{}, c, err
	}
	return e, c, nil
}
