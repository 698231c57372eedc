package retention_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
)

// benchCameras × (rows / benchCameras) one-minute segments make the benchmark's index.
const benchCameras = 100

// benchRows is the size of the benchmark's index: 1,000,000 unless CIVICAM_BENCH_ROWS says.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CIVICAM_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func segStart(i int) time.Time { return day0.Add(time.Duration(i) * time.Minute) }

func benchCam(c int) string { return fmt.Sprintf("cam%03d", c) }

// buildTemplate writes the index once: every camera's segment i starts at minute i.
func buildTemplate(dir string) (string, error) {
	path := filepath.Join(dir, "template.db")
	db, err := store.Open(context.Background(), store.Config{SQLitePath: path})
	if err != nil {
		return "", err
	}
	defer db.Close()
	tx, err := db.SQL().Begin()
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	st, err := tx.Prepare(`INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
		VALUES ($1, $2, $3, $4, 1000, '00', TRUE, 0)`)
	if err != nil {
		return "", err
	}
	// Camera by camera, in time order: every index is appended to, which keeps the build short.
	if _, err := tx.Exec(`PRAGMA cache_size = -262144`); err != nil {
		return "", err
	}
	per := benchRows() / benchCameras
	for c := 0; c < benchCameras; c++ {
		for i := 0; i < per; i++ {
			key, _ := segment.Key(benchCam(c), segStart(i))
			if _, err := st.Exec(benchCam(c), key, store.Micros(segStart(i)), store.Micros(segStart(i+1))); err != nil {
				return "", err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	if _, err := db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return "", err
	}
	return path, nil
}

// benchDB is a fresh copy of the index, with tiny files for the oldest k segments of every
// camera, the ones that expire at day0 + 30 days + k minutes.
func benchDB(b *testing.B, benchTemplate string, k int) (*store.DB, *segment.Disk) {
	b.Helper()
	dir := b.TempDir()
	dst := filepath.Join(dir, "civicam.db")
	in, err := os.Open(benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	in.Close()
	out.Close()
	db, err := store.Open(context.Background(), store.Config{SQLitePath: dst})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	disk := segment.NewDisk(filepath.Join(dir, "recordings"))
	for i := 0; i < k; i++ {
		for c := 0; c < benchCameras; c++ {
			key, _ := segment.Key(benchCam(c), segStart(i))
			p, _ := disk.Path(key)
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
				b.Fatal(err)
			}
		}
	}
	return db, disk
}

// BenchmarkRetentionDelete deletes b.N expired segments (rounded up to whole minutes of all 100
// cameras) from a 1M-row index with real files: the Cleaner (one trail entry per round, files
// then entries in batches), the named alternative of a per-segment loop (list, remove the file,
// delete its entry, one commit each), and the bare file unlinks as the floor.
// Run: go test -run '^$' -bench RetentionDelete -benchtime 20000x ./internal/retention/
func BenchmarkRetentionDelete(b *testing.B) {
	ctx := context.Background()
	// The index is written once (a closed SQLite database) and copied for every run.
	tmpl, err := buildTemplate(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	k := func(n int) int { return (n + benchCameras - 1) / benchCameras }
	now := func(n int) time.Time { return day0.Add(30*retention.Day + time.Duration(k(n))*time.Minute) }

	b.Run("cleaner", func(b *testing.B) {
		db, disk := benchDB(b, tmpl, k(b.N))
		f := newFixture(b, db)
		cl := retention.New(retention.Config{}, retention.Deps{Index: db, Files: disk, Registry: f.Registry, Tracer: f.Tracer,
			Now: func() time.Time { return now(b.N) }})
		b.ResetTimer()
		rep, err := cl.RunOnce(ctx)
		b.StopTimer()
		if err != nil || rep.Deleted != k(b.N)*benchCameras {
			b.Fatalf("RunOnce = %+v, %v; want %d deleted", rep, err, k(b.N)*benchCameras)
		}
		b.ReportMetric(float64(rep.Deleted)/b.Elapsed().Seconds(), "segments/s")
	})

	b.Run("per-segment", func(b *testing.B) {
		db, disk := benchDB(b, tmpl, k(b.N))
		cutoff := now(b.N).Add(-30 * retention.Day)
		b.ResetTimer()
		deleted := 0
		for c := 0; c < benchCameras; c++ {
			recs, err := db.SegmentsEndedBefore(ctx, benchCam(c), cutoff, 1<<30)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range recs {
				if err := disk.Remove(r.Path); err != nil {
					b.Fatal(err)
				}
				if err := db.DeleteSegment(ctx, r.Path); err != nil {
					b.Fatal(err)
				}
				deleted++
			}
		}
		b.StopTimer()
		if deleted != k(b.N)*benchCameras {
			b.Fatalf("deleted %d; want %d", deleted, k(b.N)*benchCameras)
		}
		b.ReportMetric(float64(deleted)/b.Elapsed().Seconds(), "segments/s")
	})

	b.Run("unlink-only", func(b *testing.B) {
		_, disk := benchDB(b, tmpl, k(b.N))
		b.ResetTimer()
		n := 0
		for i := 0; i < k(b.N); i++ {
			for c := 0; c < benchCameras; c++ {
				key, _ := segment.Key(benchCam(c), segStart(i))
				if err := disk.Remove(key); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "segments/s")
	})
}
