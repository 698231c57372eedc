package trace

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/transparency-dev/merkle/rfc6962"
)

// Remote is a trail read through a server's API rather than its database: the signed checkpoint
// and the proofs, which are public, and the leaves, which are the auditors'.
type Remote interface {
	// Checkpoint returns the server's newest signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Leaves returns the leaves from start, at most limit, in order (fewer at the trail's end).
	Leaves(ctx context.Context, start int64, limit int) ([]Leaf, error)
	// Consistency returns the proof that the tree of size2 extends the tree of size1.
	Consistency(ctx context.Context, size1, size2 int64) ([][]byte, error)
	// Inclusion returns the leaf hash at seq in the tree of size and the proof of it.
	Inclusion(ctx context.Context, seq, size int64) (leafHash []byte, hashes [][]byte, err error)
}

// VerifyRemote checks a trail through its API: it recomputes every leaf hash from the leaf bytes
// served, the RFC 6962 tree from them, and holds the root against the server's signed checkpoint
// and, when given, an external one saved earlier (both checked with verifierKey). When a root
// differs it asks the server's consistency proofs which prefix of the leaves the signed tree
// still vouches for, and its inclusion proof which leaf hash the signed tree holds after it, so
// that the Report names the first entry whose bytes were edited. The error is for failures to
// read or an external checkpoint that does not open; a damaged trail gives Intact false.
func VerifyRemote(ctx context.Context, r Remote, verifierKey string, external []byte) (Report, error) {
	rep := Report{FirstBad: -1, BadUntil: -1}
	var claims []claim
	if len(external) > 0 {
		c, err := OpenCheckpoint(external, verifierKey)
		if err != nil {
			return rep, fmt.Errorf("external checkpoint: %w", err)
		}
		rep.External = &c
		claims = append(claims, claim{cp: c, external: true})
	}
	note, err := r.Checkpoint(ctx)
	if err != nil {
		return rep, fmt.Errorf("read checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint(note, verifierKey)
	if err != nil {
		rep.fail(-1, -1, "the server's checkpoint does not verify: %v", err)
		return rep, nil
	}
	claims = append(claims, claim{cp: cp})
	target := cp.Size
	if rep.External != nil {
		target = max(target, rep.External.Size)
	}

	var leaves [][]byte
	rng := rangeFactory.NewEmptyRange(0)
	buf := make([]byte, 0, 512)
	// check holds the claims of the current size against the tree; false at a fault.
	check := func() (bool, error) {
		for _, c := range claims {
			if c.cp.Size == int64(len(leaves)) && !equalHash(c.cp.Root, rootOf(rng)) {
				return false, locate(ctx, r, &rep, &c, leaves)
			}
		}
		return true, nil
	}
	if ok, err := check(); !ok {
		return rep, err
	}
	for int64(len(leaves)) < target {
		page, err := r.Leaves(ctx, int64(len(leaves)), MaxLeaves)
		if err != nil {
			return rep, fmt.Errorf("read leaves from %d: %w", len(leaves), err)
		}
		if len(page) == 0 {
			break
		}
		for _, l := range page {
			next := int64(len(leaves))
			if next == target {
				break
			}
			switch {
			case l.Index > next:
				rep.fail(next, next+1, "entry %d is missing (the server serves entry %d next): deleted", next, l.Index)
				return rep, nil
			case l.Index < next:
				rep.fail(l.Index, l.Index+1, "entry %d is served out of order after entry %d", l.Index, next-1)
				return rep, nil
			}
			buf = append(append(buf[:0], rfc6962.RFC6962LeafHashPrefix), l.Data...)
			h := sha256.Sum256(buf)
			leaves = append(leaves, h[:])
			if err := rng.Append(h[:], nil); err != nil {
				return rep, err
			}
			rep.Entries++
			if ok, err := check(); !ok {
				return rep, err
			}
		}
	}
	if n := int64(len(leaves)); n < target {
		rep.fail(n, target, "the server serves %d entries but a signed checkpoint covers %d: entries from %d were removed", n, target, n)
		return rep, nil
	}
	rep.Intact, rep.Root, rep.Checkpoints = true, rootOf(rng), 1
	return rep, nil
}

// locate names the first bad entry below claim c, whose root the recomputed leaves do not give:
// the longest prefix the server's consistency proofs tie to the signed root is intact, and the
// entry after it is the first bad one when the server's inclusion proof shows the signed tree
// holding another leaf hash there. Proofs that do not verify leave the fault bounded to a range.
func locate(ctx context.Context, r Remote, rep *Report, c *claim, leaves [][]byte) error {
	size := c.cp.Size
	good, bad := int64(0), size // the prefix of good entries is intact; that of bad is not
	for bad-good > 1 {
		mid := good + (bad-good)/2
		proof, err := r.Consistency(ctx, mid, size)
		if err != nil {
			return fmt.Errorf("read consistency proof %d/%d: %w", mid, size, err)
		}
		if VerifyConsistency(mid, size, proof, treeRoot(leaves[:mid]), c.cp.Root) == nil {
			good = mid
		} else {
			bad = mid
		}
	}
	leaf, proof, err := r.Inclusion(ctx, good, size)
	if err != nil {
		return fmt.Errorf("read inclusion proof %d/%d: %w", good, size, err)
	}
	if VerifyInclusion(good, size, leaf, proof, c.cp.Root) == nil && !equalHash(leaf, leaves[good]) {
		rep.fail(good, good+1, "entry %d was edited: its leaf bytes hash to %x, but %s (size %d) holds %x there",
			good, leaves[good], c.what(), size, leaf)
		return nil
	}
	rep.fail(good, size, "the leaves do not give the root of %s (size %d), and the server's proofs do not show which of entries [%d, %d) was changed",
		c.what(), size, good, size)
	return nil
}

// treeRoot is the RFC 6962 root of the leaf hashes.
func treeRoot(leaves [][]byte) []byte {
	rng := rangeFactory.NewEmptyRange(0)
	for _, h := range leaves {
		rng.Append(h, nil) // appending to a range that starts at 0 cannot fail
	}
	return rootOf(rng)
}
