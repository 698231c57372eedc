// Package playbacktest records real footage for tests: a simulated RTSP camera (simcam) recorded
// by the recorder into a segment store and index, for a few seconds, optionally with the camera
// going off the air in between so the recording has a gap.
package playbacktest

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store"
)

// Options shape a recording.
type Options struct {
	SegmentLength time.Duration // default 2 s
	Parts         int64         // parts to record before the gap (or in all); default 4
	// GapParts, when positive, takes the camera offline after Parts, keeps it off for a while,
	// and records GapParts more parts after it returns.
	GapParts int64
}

// Record records camera cameraID into d and db and returns its sealed segments, in time order.
func Record(t testing.TB, db *store.DB, d *segment.Disk, cameraID string, o Options) []segment.Record {
	t.Helper()
	r := Start(t, db, d, cameraID, o)
	return r.Stop(t)
}

// Running is a recording in progress.
type Running struct {
	cameraID string
	db       *store.DB
	rec      *recorder.Recorder
	stop     func() error
}

// Status is the recorder's status of the camera.
func (r *Running) Status() recorder.Status { st, _ := r.rec.Status(r.cameraID); return st }

// WaitParts waits until the recorder has written at least n parts in all.
func (r *Running) WaitParts(t testing.TB, n int64) {
	t.Helper()
	waitFor(t, "parts recorded", func() bool { return r.Status().Parts >= n })
}

// Stop ends the recording (sealing the open segment) and returns the sealed segments.
func (r *Running) Stop(t testing.TB) []segment.Record {
	t.Helper()
	if err := r.stop(); err != nil {
		t.Fatalf("recorder Run = %v", err)
	}
	segs, err := r.db.RecordingSegments(context.Background(), r.cameraID, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil || len(segs) == 0 {
		t.Fatalf("RecordingSegments = %d, %v; want some", len(segs), err)
	}
	return segs
}

// Start records camera cameraID into d and db until Stop (or the test's end): Options.Parts
// parts, and the gap and the parts after it when asked, before it returns.
func Start(t testing.TB, db *store.DB, d *segment.Disk, cameraID string, o Options) *Running {
	t.Helper()
	if o.SegmentLength <= 0 {
		o.SegmentLength = 2 * time.Second
	}
	if o.Parts <= 0 {
		o.Parts = 4
	}
	cam := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: 1, Codec: simcam.H264, Bitrate: 500_000}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); cam.Run(ctx) }()
	select {
	case <-cam.Ready():
	case <-time.After(30 * time.Second):
		cancel()
		wg.Wait()
		t.Fatal("simcam did not start")
	}
	rec := recorder.New(recorder.Config{SegmentLength: o.SegmentLength, BackoffMin: 100 * time.Millisecond, BackoffMax: 300 * time.Millisecond},
		recorder.Deps{Store: d, Index: db})
	rec.Sync([]recorder.Camera{{ID: cameraID, SourceURL: cam.URL(1), Transport: recorder.TransportTCP}})
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(rctx) }()
	var once sync.Once
	var runErr error
	r := &Running{cameraID: cameraID, db: db, rec: rec, stop: func() error {
		once.Do(func() {
			rcancel()
			runErr = <-done
			cancel()
			wg.Wait()
		})
		return runErr
	}}
	t.Cleanup(func() { r.stop() })
	r.WaitParts(t, o.Parts)
	if o.GapParts > 0 {
		if err := cam.SetOnline(1, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "camera offline", func() bool { return r.Status().State == recorder.StateOffline })
		n := r.Status().Reconnects
		waitFor(t, "failed reconnects", func() bool { return r.Status().Reconnects >= n+3 })
		if err := cam.SetOnline(1, true); err != nil {
			t.Fatal(err)
		}
		r.WaitParts(t, r.Status().Parts+o.GapParts)
	}
	return r
}

// waitFor polls cond; the limit only keeps a broken recorder from hanging the test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Retime builds a long recording from a short one without waiting for it: the parts of the
// recorded segment src are written again and again, with decode times continued, into
// segments of segLen from start until total is covered, through segment.Writer, and indexed as
// sealed. It returns the segments written.
func Retime(t testing.TB, db *store.DB, d *segment.Disk, cameraID string, src segment.Record, start time.Time, total, segLen time.Duration) []segment.Record {
	t.Helper()
	in, err := d.Scan(src.Path)
	if err != nil {
		t.Fatalf("Scan(%s) = %v", src.Path, err)
	}
	f, err := d.OpenFile(src.Path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	type part struct {
		samples  []segment.Sample
		duration uint64
	}
	var parts []part
	for _, p := range in.Parts {
		var fp fmp4.Parts
		if err := fp.Unmarshal(raw[p.Offset : p.Offset+p.Size]); err != nil {
			t.Fatalf("parse part: %v", err)
		}
		var ss []segment.Sample
		for _, s := range fp[0].Tracks[0].Samples {
			var au h264.AVCC
			if err := au.Unmarshal(s.Payload); err != nil {
				t.Fatalf("parse sample: %v", err)
			}
			ss = append(ss, segment.Sample{Duration: s.Duration, PTSOffset: s.PTSOffset, NonSync: s.IsNonSyncSample, NALUs: au})
		}
		if len(parts) == 0 && ss[0].NonSync {
			continue
		}
		parts = append(parts, part{samples: ss, duration: p.Duration})
	}
	if len(parts) == 0 {
		t.Fatal("no parts to retime")
	}
	var out []segment.Record
	next := 0
	for at := start; at.Before(start.Add(total)); {
		key, err := segment.Key(cameraID, at)
		if err != nil {
			t.Fatal(err)
		}
		file, err := d.Create(key)
		if err != nil {
			t.Fatal(err)
		}
		w, err := segment.NewWriter(unsynced{file}, &in.Init)
		if err != nil {
			t.Fatal(err)
		}
		var base uint64
		for {
			p := parts[next%len(parts)]
			if segment.Ticks(base) >= segLen && !p.samples[0].NonSync {
				break
			}
			if err := w.WritePart(base, p.samples); err != nil {
				t.Fatal(err)
			}
			base += p.duration
			next++
		}
		sum, size, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		rec := segment.Record{CameraID: cameraID, Path: key, Start: at, End: at.Add(segment.Ticks(base)), Bytes: size, SHA256: sum, Sealed: true}
		if err := db.SegmentSealed(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
		at = rec.End
	}
	return out
}

// unsynced skips the per-part fsync: a fixture does not need to survive a crash, and an hour of
// parts synced one by one would dominate the benchmark's setup.
type unsynced struct{ f segment.File }

func (u unsynced) Write(b []byte) (int, error)              { return u.f.Write(b) }
func (u unsynced) WriteAt(b []byte, off int64) (int, error) { return u.f.WriteAt(b, off) }
func (u unsynced) ReadAt(b []byte, off int64) (int, error)  { return u.f.ReadAt(b, off) }
func (u unsynced) Sync() error                              { return nil }
func (u unsynced) Close() error                             { return u.f.Close() }
