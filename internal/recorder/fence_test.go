package recorder_test

import (
	"context"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// A node whose lease of a camera another node took (it was paused past its lease, or cut off)
// cannot write the camera's index any more: its next segment write is refused and it stops
// recording the camera, leaving it to the new holder.
func TestRecorderStopsWhenLeaseLost(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := segment.NewDisk(t.TempDir())
		cam, _ := startSimcam(t, simcam.H264, 1)
		now := time.Now()
		a, err := db.AcquireLeases(ctx, "a", []string{"cam1"}, now, now.Add(10*time.Second), 1)
		if err != nil || len(a) != 1 {
			t.Fatalf("AcquireLeases(a) = %+v, %v", a, err)
		}
		cfg := recorder.Config{SegmentLength: time.Second, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
		r := startRecorder(t, cfg, d, db, []recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1), Transport: recorder.TransportTCP,
			Node: "a", Token: a[0].Token}})
		defer r.stop(t)
		status := func() recorder.Status { st, _ := r.rec.Status("cam1"); return st }
		waitFor(t, "a sealed segment", func() bool { return status().Segments > 0 })
		// b takes the camera as if a's lease had expired.
		later := now.Add(time.Hour)
		b, err := db.AcquireLeases(ctx, "b", []string{"cam1"}, later, later.Add(10*time.Second), 1)
		if err != nil || len(b) != 1 {
			t.Fatalf("AcquireLeases(b) = %+v, %v", b, err)
		}
		waitFor(t, "a's recorder to stop on the lost lease", func() bool {
			return status().State == recorder.StateError && status().Reason == recorder.ReasonLeaseLost
		})
		taken := time.Now()
		segs, err := db.RecordingSegments(ctx, "cam1", time.Unix(0, 0), taken.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) == 0 {
			t.Fatal("no segment sealed under a's lease")
		}
		// Nothing of a's is indexed after the refusal, sealed or started.
		time.Sleep(1500 * time.Millisecond)
		after, err := db.RecordingSegments(ctx, "cam1", time.Unix(0, 0), taken.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(segs) {
			t.Errorf("RecordingSegments after a lost its lease = %d; want %d (a writes nothing more)", len(after), len(segs))
		}
		for _, s := range after {
			if s.Node != "a" {
				t.Errorf("segment %s of node %q; want a", s.Path, s.Node)
			}
		}
	})
}
