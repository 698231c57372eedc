package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"civicam/internal/bucket/buckettest"
	"civicam/internal/config"
	"civicam/internal/segment"
)

// With recordings.s3, the server's uploader takes a sealed segment to the bucket and removes the
// local copy, and GET /api/v1/storage shows the bucket's queue to an admin.
func TestServeUploadsToTheBucket(t *testing.T) {
	bc := buckettest.Config(t)
	srv := startServer(t, func(c *config.Config) {
		c.Recordings.S3 = config.S3Config{Endpoint: bc.Endpoint, Bucket: bc.Bucket, AccessKey: bc.AccessKey, SecretKey: bc.SecretKey,
			PathStyle: true, ObjectLock: true}
	})
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	key, err := segment.Key("cam1", start)
	if err != nil {
		t.Fatal(err)
	}
	disk := segment.NewDisk(filepath.Join(srv.core.Config.Data, "recordings"))
	if err := srv.core.DB.SegmentStarted(ctx, "cam1", key, start); err != nil {
		t.Fatal(err)
	}
	f, err := disk.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("a sealed segment")
	f.Write(body)
	f.Close()
	sum := sha256.Sum256(body)
	if err := srv.core.DB.SegmentSealed(ctx, segment.Record{CameraID: "cam1", Path: key, Start: start, End: start.Add(time.Minute),
		Bytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Sealed: true}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if loc, err := srv.core.DB.SegmentLocation(ctx, key); err == nil && loc == "bucket" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("segment %s not uploaded by the server's uploader", key)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(must(disk.Path(key))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("local copy after upload: %v; want removed", err)
	}
	base := "http://" + srv.Addr()
	tok := apiLogin(t, base, "chief")
	status, raw := apiDo(t, "GET", base+"/api/v1/storage", tok, "")
	var rep struct {
		Bucket *struct {
			Bucket    string `json:"bucket"`
			Waiting   int64  `json:"waiting_segments"`
			Reachable bool   `json:"reachable"`
		} `json:"bucket"`
	}
	if err := json.Unmarshal(raw, &rep); status != 200 || err != nil || rep.Bucket == nil || rep.Bucket.Bucket != bc.Bucket || !rep.Bucket.Reachable {
		t.Errorf("GET /api/v1/storage = %d %s; want the bucket %s, reachable", status, raw, bc.Bucket)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
