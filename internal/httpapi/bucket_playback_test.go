package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"civicam/internal/bucket"
	"civicam/internal/bucket/buckettest"
	"civicam/internal/footage"
	"civicam/internal/playback"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// Playback and export through the API of a range whose segments are all in the bucket, their
// local copies gone: read with range requests, the MP4 is whole and ffprobe reads it.
func TestPlaybackFromBucket(t *testing.T) {
	cfg := buckettest.Config(t)
	client, err := bucket.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	fs := newFootageStackFiles(t, db, func(d *segment.Disk) footage.Files {
		return &bucket.Segments{Disk: d, Bucket: client, Index: db}
	})
	up := bucket.NewUploader(bucket.UploaderConfig{}, bucket.UploaderDeps{Queue: db, Disk: fs.disk, Bucket: client})
	if n, err := up.RunOnce(context.Background()); err != nil || n != len(fs.segs) {
		t.Fatalf("RunOnce = %d, %v; want all %d segments uploaded", n, err, len(fs.segs))
	}
	for _, r := range fs.segs {
		p, _ := fs.disk.Path(r.Path)
		if _, err := os.Stat(p); !errors.Is(err, iofs.ErrNotExist) {
			t.Fatalf("local %s after upload: %v; want gone, so playback reads the bucket", r.Path, err)
		}
	}
	first, last := fs.segs[0], fs.segs[len(fs.segs)-1]
	res, body := fs.get(fs.playbackURL(first.Start, last.End, "from the bucket"), fs.tokens["operator"])
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("GET playback = %d %s", res.StatusCode, body)
	}
	f, err := playback.Inspect(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Inspect = %v", err)
	}
	if err := f.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
	if gaps := res.Header.Get("X-Civicam-Gaps"); gaps == "" {
		t.Errorf("X-Civicam-Gaps empty; want the recording's gap reported")
	}
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Log("ffprobe not installed: only the strict parse ran")
	} else {
		path := filepath.Join(t.TempDir(), "bucket.mp4")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v: %s", err, out)
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if want := segment.Ticks(f.Duration()).Seconds(); err != nil || secs < want-0.1 || secs > want+0.1 {
			t.Errorf("ffprobe duration = %q, %v; want %.2f s", out, err, want)
		}
	}
	// A part of the range, asked by byte range, is the same bytes.
	part, pbody := fs.get(fs.playbackURL(first.Start, last.End, "from the bucket"), fs.tokens["operator"], "Range", "bytes=1000-")
	if part.StatusCode != 206 || !bytes.Equal(pbody, body[1000:]) {
		t.Errorf("GET bytes=1000- = %d, %d bytes; want 206 and the MP4 from byte 1000", part.StatusCode, len(pbody))
	}
}
