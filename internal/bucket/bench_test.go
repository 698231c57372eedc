package bucket_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"civicam/internal/bucket"
	"civicam/internal/bucket/buckettest"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
)

// A stream-minute of a 4 Mbit/s camera: one one-minute segment, written in parts of a second.
const (
	streamMinuteBytes = 4_000_000 / 8 * 60
	partBytes         = streamMinuteBytes / 60
)

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOf is the user+system CPU of process pid so far.
func cpuOf(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// BenchmarkSealedSegments compares, per stream-minute, the CPU of writing a segment to local
// disk as the recorder does (parts of a second, each synced, hashed) with the CPU of uploading
// the sealed segment to versitygw (read, hash, multipart PUT) on this process and on the server.
// Run: bash scripts/with-s3.sh go test -run '^$' -bench SealedSegments -benchtime 40x ./internal/bucket
func BenchmarkSealedSegments(b *testing.B) {
	data := make([]byte, streamMinuteBytes)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(data)
	b.Run("local-disk", func(b *testing.B) {
		disk := segment.NewDisk(b.TempDir())
		b.SetBytes(streamMinuteBytes)
		c0 := cpuSelf()
		for i := range b.N {
			key, _ := segment.Key("cam1", time.Unix(int64(i*60), 0))
			f, err := disk.Create(key)
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			for off := 0; off < len(data); off += partBytes {
				p := data[off:min(off+partBytes, len(data))]
				if _, err := f.Write(p); err != nil {
					b.Fatal(err)
				}
				h.Write(p)
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			f.Close()
			disk.Remove(key)
		}
		b.ReportMetric((cpuSelf()-c0).Seconds()/float64(b.N), "cpu-s/stream-min")
	})
	b.Run("upload-versitygw", func(b *testing.B) {
		srv := buckettest.Start(b)
		db := storetest.SQLite(b)
		disk := segment.NewDisk(b.TempDir())
		ctx := context.Background()
		for i := range b.N {
			start := time.Unix(int64(i*60), 0)
			key, _ := segment.Key("cam1", start)
			if err := db.SegmentStarted(ctx, "cam1", key, start); err != nil {
				b.Fatal(err)
			}
			f, _ := disk.Create(key)
			f.Write(data)
			f.Close()
			if err := db.SegmentSealed(ctx, segment.Record{CameraID: "cam1", Path: key, Start: start, End: start.Add(time.Minute),
				Bytes: streamMinuteBytes, SHA256: hex.EncodeToString(sum[:]), Sealed: true}); err != nil {
				b.Fatal(err)
			}
		}
		c, err := bucket.New(srv.Config)
		if err != nil {
			b.Fatal(err)
		}
		u := bucket.NewUploader(bucket.UploaderConfig{Batch: b.N, Workers: 4},
			bucket.UploaderDeps{Queue: db, Disk: disk, Bucket: c, FloorDays: func() int { return 1 }})
		b.SetBytes(streamMinuteBytes)
		b.ResetTimer()
		c0, s0 := cpuSelf(), cpuOf(b, srv.Pid())
		n, err := u.RunOnce(ctx)
		if err != nil || n != b.N {
			b.Fatalf("RunOnce = %d, %v; want %d", n, err, b.N)
		}
		b.ReportMetric((cpuSelf()-c0).Seconds()/float64(b.N), "cpu-s/stream-min")
		b.ReportMetric((cpuOf(b, srv.Pid())-s0).Seconds()/float64(b.N), "server-cpu-s/stream-min")
	})
}
