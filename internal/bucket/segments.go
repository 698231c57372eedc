package bucket

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"civicam/internal/segment"
)

// Segments reads and deletes a segment wherever it lives: on local disk while it is written and
// until it is uploaded, in the bucket after. It implements the Files interfaces of playback,
// export, footage and retention, so none of them knows where a segment is.
type Segments struct {
	Disk   *segment.Disk
	Bucket *Client
	// Index, when set, tells where a segment lives, so that deleting a segment never uploaded
	// needs no bucket (and works while it is unreachable).
	Index Locator
}

// Locator says where the segment at path lives: "local" or "bucket"; *store.DB implements it.
type Locator interface {
	SegmentLocation(ctx context.Context, path string) (string, error)
}

// Open opens the segment at key: the local file when there is one, else the bucket's object.
// The local copy is removed only after the upload is checked and indexed, so a segment missing
// locally is in the bucket; a missing object gives an error satisfying
// errors.Is(err, fs.ErrNotExist).
func (s *Segments) Open(key string) (segment.Reader, error) {
	r, err := s.Disk.Open(key)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	return s.Bucket.Open(context.Background(), key)
}

// Remove deletes the segment at key from local disk and from the bucket. Deleting a segment
// already gone is not an error; an object the bucket refuses to delete (Object Lock) is, and the
// caller keeps its index entry.
func (s *Segments) Remove(key string) error {
	ctx := context.Background()
	if s.Index != nil {
		if loc, err := s.Index.SegmentLocation(ctx, key); err == nil && loc == "local" {
			return s.Disk.Remove(key)
		}
	}
	if err := s.Bucket.Remove(ctx, key); err != nil {
		return fmt.Errorf("remove segment %s: %w", key, err)
	}
	return s.Disk.Remove(key)
}
