package recorder_test

import (
	"testing"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
)

// TestFrozenPicture records two simulated cameras, one of whose picture is frozen (every frame
// the same keyframe): only that one reports a still picture, from the keyframes it wrote, and it
// stops doing so once its picture moves again. The moving camera's looping clip repeats its
// keyframes too, but never two in a row.
func TestFrozenPicture(t *testing.T) {
	for _, codec := range []simcam.Codec{simcam.H264, simcam.H265} {
		t.Run(string(codec), func(t *testing.T) {
			sim, _ := startSimcam(t, codec, 2)
			if err := sim.SetStill(1, true); err != nil {
				t.Fatal(err)
			}
			db := storetest.SQLite(t)
			d := segment.NewDisk(t.TempDir())
			cams := []recorder.Camera{{ID: "still", SourceURL: sim.URL(1), Transport: recorder.TransportTCP},
				{ID: "moving", SourceURL: sim.URL(2), Transport: recorder.TransportTCP}}
			r := startRecorder(t, recorder.Config{}, d, db, cams)
			status := func(id string) recorder.Status {
				st, _ := r.rec.Status(id)
				return st
			}
			// The moving clip has a keyframe a second; five of them, all different from the one
			// before, are what a frozen picture would have repeated five times.
			waitFor(t, "five seconds of both cameras", func() bool {
				return status("still").StillKeyframes >= 5 && status("moving").Parts >= 5
			})
			if st := status("moving"); st.StillKeyframes != 0 || !st.StillSince.IsZero() || st.LastKeyframe.IsZero() {
				t.Errorf("moving camera: StillKeyframes %d, StillSince %v, LastKeyframe %v; want no still picture and a last keyframe",
					st.StillKeyframes, st.StillSince, st.LastKeyframe)
			}
			if st := status("still"); st.StillSince.IsZero() || st.StillSince.After(st.LastKeyframe) {
				t.Errorf("still camera: StillSince %v, LastKeyframe %v; want the picture still since before the last keyframe",
					st.StillSince, st.LastKeyframe)
			}
			if err := sim.SetStill(1, false); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the picture to move again", func() bool { return status("still").StillSince.IsZero() })
			r.stop(t)
			for _, c := range cams {
				if segs := checkSegments(t, d, db, c.ID); len(segs) == 0 {
					t.Errorf("camera %s recorded no segment", c.ID)
				}
			}
		})
	}
}
