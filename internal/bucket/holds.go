package bucket

import (
	"context"
	"errors"
	"fmt"
	"time"

	"civicam/internal/segment"
	"civicam/internal/timespan"
)

// HoldIndex is what LegalHolds reads of the index; *store.DB implements it.
type HoldIndex interface {
	RecordingSegments(ctx context.Context, cameraID string, start, end time.Time) ([]segment.Record, error)
	ActiveHoldRanges(ctx context.Context, cameraID string) ([]timespan.Range, error)
	Locator
}

// LegalHolds keeps the bucket's Object Lock legal holds as the index's legal holds say, so that
// held footage cannot be deleted from the bucket even with the key.
type LegalHolds struct {
	Index  HoldIndex
	Bucket *Client
}

// SyncLegalHolds sets the legal hold of the object of each of cameraID's segments in the
// bucket overlapping r when an active hold of the camera covers any of it, and clears it when
// none does (another hold may still cover a segment a released hold covered).
func (l *LegalHolds) SyncLegalHolds(ctx context.Context, cameraID string, r timespan.Range) error {
	segs, err := l.Index.RecordingSegments(ctx, cameraID, r.Start, r.End)
	if err != nil {
		return err
	}
	holds, err := l.Index.ActiveHoldRanges(ctx, cameraID)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range segs {
		loc, err := l.Index.SegmentLocation(ctx, s.Path)
		if err != nil || loc != "bucket" {
			continue // not uploaded yet: the uploader sets its hold
		}
		// A missing object is one retention deleted and has not unindexed yet.
		if err := l.Bucket.SetLegalHold(ctx, s.Path, held(holds, s)); err != nil && !errors.Is(err, ErrMissing) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("legal holds of %s: %w", cameraID, err)
	}
	return nil
}

// held reports whether one of holds overlaps segment s.
func held(holds []timespan.Range, s segment.Record) bool {
	for _, h := range holds {
		if h.Start.Before(s.End) && h.End.After(s.Start) {
			return true
		}
	}
	return false
}
