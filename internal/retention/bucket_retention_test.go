package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"testing"
	"time"

	"civicam/internal/bucket"
	"civicam/internal/bucket/buckettest"
	"civicam/internal/clocktest"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// sealedSegment records a sealed segment with its true SHA-256, as the recorder does.
func sealedSegment(t *testing.T, db *store.DB, disk *segment.Disk, cam string, start, end time.Time) segment.Record {
	t.Helper()
	key, err := segment.Key(cam, start)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("segment " + key)
	f, err := disk.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(body)
	f.Close()
	sum := sha256.Sum256(body)
	rec := segment.Record{CameraID: cam, Path: key, Start: start, End: end, Bytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Sealed: true}
	if err := db.SegmentSealed(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// Retention deletes segments in the bucket, objects and index entries; an object the bucket
// refuses to delete (a legal hold set on it) keeps its entry, and the run reports it failed.
func TestRetentionDeletesBucketObjects(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	cam := f.camera(t, "c", 30)
	disk := segment.NewDisk(t.TempDir())
	ctx := context.Background()
	old := sealedSegment(t, db, disk, cam, day0, day0.Add(time.Hour))
	locked := sealedSegment(t, db, disk, cam, day0.Add(time.Hour), day0.Add(2*time.Hour))
	client, err := bucket.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	up := bucket.NewUploader(bucket.UploaderConfig{}, bucket.UploaderDeps{Queue: db, Disk: disk, Bucket: client})
	if n, err := up.RunOnce(ctx); n != 2 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 2 uploaded", n, err)
	}
	if err := client.SetLegalHold(ctx, locked.Path, true); err != nil {
		t.Fatal(err)
	}
	files := &bucket.Segments{Disk: disk, Bucket: client, Index: db}
	clk := clocktest.New(day0.Add(40 * retention.Day))
	cleaner := retention.New(retention.Config{}, retention.Deps{Index: db, Files: files, Registry: f.Registry, Tracer: f.Tracer, Now: clk.Now})
	rep, err := cleaner.RunOnce(ctx)
	if err != nil || rep.Deleted != 1 || rep.Failed != 1 {
		t.Fatalf("RunOnce = %+v, %v; want 1 deleted, 1 failed (the locked object)", rep, err)
	}
	if indexed(t, db, old.Path) {
		t.Errorf("%s still indexed after retention", old.Path)
	}
	if _, err := client.Size(ctx, old.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("bucket object %s after retention: %v; want gone", old.Path, err)
	}
	if !indexed(t, db, locked.Path) {
		t.Errorf("%s unindexed though the bucket refused to delete it", locked.Path)
	}
	if _, err := files.Open(locked.Path); err != nil {
		t.Errorf("Open(%s) = %v; want still readable", locked.Path, err)
	}
}
