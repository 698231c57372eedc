package bucket_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/bucket"
	"civicam/internal/bucket/buckettest"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/timespan"
)

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// recorded writes sealed segments of cam to disk and the index, as the recorder leaves them, and
// returns their records and bytes.
func recorded(t *testing.T, db *store.DB, disk *segment.Disk, cam string, sizes ...int) ([]segment.Record, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(len(sizes)), 7))
	var recs []segment.Record
	data := map[string][]byte{}
	for i, n := range sizes {
		start := t0.Add(time.Duration(i) * time.Minute)
		key, err := segment.Key(cam, start)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if err := db.SegmentStarted(ctx, cam, key, start); err != nil {
			t.Fatal(err)
		}
		f, err := disk.Create(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
		f.Close()
		sum := sha256.Sum256(b)
		rec := segment.Record{CameraID: cam, Path: key, Start: start, End: start.Add(time.Minute), Bytes: int64(n),
			SHA256: hex.EncodeToString(sum[:]), Sealed: true}
		if err := db.SegmentSealed(ctx, rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		data[key] = b
	}
	return recs, data
}

func newUploader(t *testing.T, cfg bucket.Config, q bucket.Queue, disk *segment.Disk, floorDays int) (*bucket.Uploader, *bucket.Client) {
	t.Helper()
	cfg.PartSize = 5 << 20 // the smallest S3 allows, so a test segment goes up in parts
	c, err := bucket.New(cfg)
	if err != nil {
		t.Fatalf("bucket.New = %v", err)
	}
	u := bucket.NewUploader(bucket.UploaderConfig{Interval: time.Millisecond, Workers: 2},
		bucket.UploaderDeps{Queue: q, Disk: disk, Bucket: c, FloorDays: func() int { return floorDays }})
	return u, c
}

// readAll reads key through Segments as playback does: the whole, and pieces at offsets.
func checkReads(t *testing.T, segs *bucket.Segments, key string, want []byte) {
	t.Helper()
	r, err := segs.Open(key)
	if err != nil {
		t.Fatalf("Open(%s) = %v", key, err)
	}
	defer r.Close()
	if n, err := r.Size(); err != nil || n != int64(len(want)) {
		t.Fatalf("Size(%s) = %d, %v; want %d", key, n, err, len(want))
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, int64(len(want))))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %s whole = %d bytes, %v; want its %d bytes", key, len(got), err, len(want))
	}
	for _, off := range []int64{int64(len(want)) / 2, 17, int64(len(want)) - 100, 20, 20 + 4096 + 1000} {
		if off+100 > int64(len(want)) {
			continue
		}
		p := make([]byte, 100)
		if n, err := r.ReadAt(p, off); n != 100 || err != nil || !bytes.Equal(p, want[off:off+100]) {
			t.Errorf("ReadAt(%s, %d) = %d, %v; want its 100 bytes there", key, off, n, err)
		}
	}
	if _, err := r.ReadAt(make([]byte, 10), int64(len(want))); err != io.EOF {
		t.Errorf("ReadAt(%s, end) = %v; want io.EOF", key, err)
	}
}

func TestUploadReadRemove(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	recs, data := recorded(t, db, disk, "cam1", 12<<20, 300_000, 1_000)
	u, c := newUploader(t, cfg, db, disk, 0)
	ctx := context.Background()
	if n, err := u.RunOnce(ctx); n != 3 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 3, nil", n, err)
	}
	segs := &bucket.Segments{Disk: disk, Bucket: c, Index: db}
	for _, r := range recs {
		if _, err := os.Stat(must(disk.Path(r.Path))); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("local copy of %s after upload: %v; want removed", r.Path, err)
		}
		if loc, err := db.SegmentLocation(ctx, r.Path); loc != "bucket" || err != nil {
			t.Errorf("SegmentLocation(%s) = %q, %v; want bucket", r.Path, loc, err)
		}
		checkReads(t, segs, r.Path, data[r.Path])
	}
	if st := u.Status(); st.Waiting != 0 || !st.Reachable || st.LastUpload.IsZero() {
		t.Errorf("Status() = %+v; want nothing waiting, reachable, an upload", st)
	}
	// Retention's deletion: the object and every version go.
	if err := segs.Remove(recs[1].Path); err != nil {
		t.Fatalf("Remove(%s) = %v", recs[1].Path, err)
	}
	if _, err := segs.Open(recs[1].Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(removed) = %v; want fs.ErrNotExist", err)
	}
	if err := segs.Remove(recs[1].Path); err != nil {
		t.Errorf("Remove(removed again) = %v; want nil", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWrongCredentials(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	recs, data := recorded(t, db, disk, "cam1", 1000, 1000)
	for _, tc := range []struct {
		name   string
		change func(*bucket.Config)
	}{
		{"wrong secret", func(c *bucket.Config) { c.SecretKey += "x" }},
		{"unknown key", func(c *bucket.Config) { c.AccessKey = "nobody" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := cfg
			tc.change(&bad)
			u, c := newUploader(t, bad, db, disk, 0)
			n, err := u.RunOnce(context.Background())
			if n != 0 || !errors.Is(err, bucket.ErrRefused) {
				t.Fatalf("RunOnce = %d, %v; want 0, ErrRefused", n, err)
			}
			if err := c.Check(context.Background()); !errors.Is(err, bucket.ErrRefused) {
				t.Errorf("Check() = %v; want ErrRefused", err)
			}
			st := u.Status()
			if st.Reachable || st.Waiting != 2 || !strings.Contains(st.LastError, "refused the credentials") {
				t.Errorf("Status() = %+v; want unreachable, 2 waiting, the error", st)
			}
			for _, r := range recs {
				got, err := os.ReadFile(must(disk.Path(r.Path)))
				if err != nil || !bytes.Equal(got, data[r.Path]) {
					t.Errorf("local %s = %d bytes, %v; want kept whole", r.Path, len(got), err)
				}
			}
		})
	}
}

func TestLockedObjectDeleteRefused(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	ctx := context.Background()
	// Segments of 2026-12-01 with a 3650-day floor: retained until 2036.
	locked, _ := recorded(t, db, disk, "cam1", 1000)
	u, c := newUploader(t, cfg, db, disk, 3650)
	if n, err := u.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", n, err)
	}
	segs := &bucket.Segments{Disk: disk, Bucket: c, Index: db}
	if err := segs.Remove(locked[0].Path); err == nil {
		t.Fatalf("Remove(inside its floor) = nil; want refused by Object Lock")
	}
	if _, err := segs.Open(locked[0].Path); err != nil {
		t.Errorf("Open(after refused delete) = %v; want the object still there", err)
	}

	// A legal hold outlasts the floor: with the floor passed, the hold alone refuses.
	held, _ := recorded(t, db, disk, "cam2", 1000)
	u, c = newUploader(t, cfg, db, disk, 0)
	if n, err := u.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", n, err)
	}
	segs = &bucket.Segments{Disk: disk, Bucket: c, Index: db}
	if err := c.SetLegalHold(ctx, held[0].Path, true); err != nil {
		t.Fatalf("SetLegalHold(on) = %v", err)
	}
	if err := segs.Remove(held[0].Path); err == nil {
		t.Fatalf("Remove(under legal hold) = nil; want refused")
	}
	if err := c.SetLegalHold(ctx, held[0].Path, false); err != nil {
		t.Fatalf("SetLegalHold(off) = %v", err)
	}
	if err := segs.Remove(held[0].Path); err != nil {
		t.Errorf("Remove(hold released, floor passed) = %v; want nil", err)
	}
}

// recordingQueue notes the order in which segments are marked uploaded.
type recordingQueue struct {
	*store.DB
	mu    sync.Mutex
	order []string
}

func (q *recordingQueue) SegmentUploaded(ctx context.Context, path string) error {
	err := q.DB.SegmentUploaded(ctx, path)
	if err == nil {
		q.mu.Lock()
		q.order = append(q.order, path)
		q.mu.Unlock()
	}
	return err
}

// cutter forwards connections to a server and calls cut once, closing every connection, when
// more than after bytes have gone towards it: the server dies in the middle of an upload.
type cutter struct {
	ln    net.Listener
	to    string
	after int64
	cut   func()
	sent  atomic.Int64
	once  sync.Once
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, to string, after int64, cut func()) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, to: to, after: after, cut: cut}
	t.Cleanup(func() { ln.Close() })
	go c.serve()
	return c
}

func (c *cutter) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", c.to)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, in, out)
		c.mu.Unlock()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := in.Read(buf)
				if n > 0 {
					if c.sent.Add(int64(n)) > c.after && c.after >= 0 {
						c.once.Do(func() {
							c.cut()
							c.mu.Lock()
							for _, x := range c.conns {
								x.Close()
							}
							c.mu.Unlock()
						})
						return
					}
					if _, err := out.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					out.Close()
					return
				}
			}
		}()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

func TestServerStoppedMidUpload(t *testing.T) {
	srv := buckettest.Start(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	var recs []segment.Record
	data := map[string][]byte{}
	for _, cam := range []string{"cam1", "cam2"} {
		r, d := recorded(t, db, disk, cam, 7<<20, 7<<20, 7<<20)
		recs = append(recs, r...)
		for k, v := range d {
			data[k] = v
		}
	}
	// The server is killed after 16 MiB have gone towards it: inside a camera's second segment,
	// part-way through one of its parts.
	cut := newCutter(t, strings.TrimPrefix(srv.Config.Endpoint, "http://"), 16<<20, srv.Stop)
	cfg := srv.Config
	cfg.Endpoint = "http://" + cut.ln.Addr().String()
	q := &recordingQueue{DB: db}
	u, c := newUploader(t, cfg, q, disk, 1)
	ctx := context.Background()
	n, err := u.RunOnce(ctx)
	if err == nil || n >= len(recs) {
		t.Fatalf("RunOnce with the server killed = %d, %v; want fewer than %d and an error", n, err, len(recs))
	}
	for _, r := range recs {
		loc, err := db.SegmentLocation(ctx, r.Path)
		if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(must(disk.Path(r.Path)))
		if loc == "local" && statErr != nil {
			t.Errorf("%s waits for the bucket but its local copy is gone: %v", r.Path, statErr)
		}
	}
	if st := u.Status(); st.Waiting != int64(len(recs)-n) || st.LastError == "" {
		t.Errorf("Status() = %+v; want %d waiting and the error", st, len(recs)-n)
	}
	// While it is down, passes fail and nothing moves.
	if n2, err := u.RunOnce(ctx); n2 != 0 || err == nil {
		t.Errorf("RunOnce with the server down = %d, %v; want 0 and an error", n2, err)
	}
	srv.Restart()
	cut.after = -1 // pass everything from now on
	for pass := 0; ; pass++ {
		if _, err := u.RunOnce(ctx); err != nil {
			t.Fatalf("RunOnce after restart = %v", err)
		}
		if st := u.Status(); st.Waiting == 0 {
			break
		}
		if pass > 3 {
			t.Fatalf("Status() = %+v after %d passes; want nothing waiting", u.Status(), pass)
		}
	}
	// Nothing lost: every segment reads back whole from the bucket.
	segs := &bucket.Segments{Disk: disk, Bucket: c, Index: db}
	for _, r := range recs {
		checkReads(t, segs, r.Path, data[r.Path])
	}
	// Order kept: each camera's segments were marked uploaded in the order they were recorded.
	for _, cam := range []string{"cam1", "cam2"} {
		var got, want []string
		for _, p := range q.order {
			if strings.HasPrefix(p, cam+"/") {
				got = append(got, p)
			}
		}
		for _, r := range recs {
			if r.CameraID == cam {
				want = append(want, r.Path)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("upload order of %s = %v; want %v", cam, got, want)
		}
	}
}

// A legal hold placed after upload reaches the object, and its release frees it (the floor
// having passed), so retention's delete goes through.
func TestLegalHoldsFollowTheIndex(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	ctx := context.Background()
	recs, _ := recorded(t, db, disk, "cam1", 1000, 1000)
	u, c := newUploader(t, cfg, db, disk, 0)
	if n, err := u.RunOnce(ctx); n != 2 || err != nil {
		t.Fatalf("RunOnce = %d, %v; want 2, nil", n, err)
	}
	hold := &retention.Hold{ID: "h1", CameraIDs: []string{"cam1"}, Start: recs[0].Start, End: recs[0].End.Add(-time.Second),
		Reference: "case 1", CreatedAt: t0}
	if err := db.CreateHold(ctx, hold); err != nil {
		t.Fatalf("CreateHold = %v", err)
	}
	lh := &bucket.LegalHolds{Index: db, Bucket: c}
	whole := timespan.Range{Start: recs[0].Start, End: recs[1].End}
	if err := lh.SyncLegalHolds(ctx, "cam1", whole); err != nil {
		t.Fatalf("SyncLegalHolds(placed) = %v", err)
	}
	segs := &bucket.Segments{Disk: disk, Bucket: c, Index: db}
	if err := segs.Remove(recs[0].Path); err == nil {
		t.Fatalf("Remove(held segment) = nil; want refused by its legal hold")
	}
	if err := segs.Remove(recs[1].Path); err != nil {
		t.Errorf("Remove(segment outside the hold) = %v; want nil", err)
	}
	if err := db.ReleaseHold(ctx, "h1", "u1", "admin", t0.Add(time.Hour), "case closed"); err != nil {
		t.Fatalf("ReleaseHold = %v", err)
	}
	if err := lh.SyncLegalHolds(ctx, "cam1", whole); err != nil {
		t.Fatalf("SyncLegalHolds(released) = %v", err)
	}
	if err := segs.Remove(recs[0].Path); err != nil {
		t.Errorf("Remove(hold released) = %v; want nil", err)
	}
}

// A segment whose local bytes no longer match its indexed SHA-256 is not taken as uploaded: its
// local file stays, it stays queued, and the camera's later segments still go up.
func TestDamagedSegmentStaysLocal(t *testing.T) {
	cfg := buckettest.Config(t)
	db := storetest.SQLite(t)
	disk := segment.NewDisk(t.TempDir())
	ctx := context.Background()
	recs, _ := recorded(t, db, disk, "cam1", 1000, 1000)
	p := must(disk.Path(recs[0].Path))
	if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, 1000), 0o640); err != nil {
		t.Fatal(err)
	}
	u, _ := newUploader(t, cfg, db, disk, 0)
	n, err := u.RunOnce(ctx)
	if n != 1 || !errors.Is(err, bucket.ErrChanged) {
		t.Fatalf("RunOnce = %d, %v; want 1 (the intact one), ErrChanged", n, err)
	}
	if loc, _ := db.SegmentLocation(ctx, recs[0].Path); loc != "local" {
		t.Errorf("SegmentLocation(damaged) = %q; want local", loc)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("damaged local file: %v; want kept", err)
	}
	if loc, _ := db.SegmentLocation(ctx, recs[1].Path); loc != "bucket" {
		t.Errorf("SegmentLocation(later, intact) = %q; want bucket", loc)
	}
}
