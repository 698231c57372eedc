package recorder_test

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
)

// TestLiveFromRecordingConnection records a simulated camera through the real RTSP path with
// one viewer that reads and one that never does: the reader gets the stream from a keyframe
// carrying SPS and PPS, and the recording is complete and valid all the same.
func TestLiveFromRecordingConnection(t *testing.T) {
	cam, _ := startSimcam(t, simcam.H264, 1)
	d := segment.NewDisk(t.TempDir())
	db := storetest.SQLite(t)
	r := startRecorder(t, recorder.Config{SegmentLength: 2 * time.Second}, d, db,
		[]recorder.Camera{{ID: "cam1", SourceURL: cam.URL(1), Transport: recorder.TransportTCP}})
	stuck := r.rec.Subscribe("cam1", 2)
	defer stuck.Close()
	reader := r.rec.Subscribe("cam1", 0)
	defer reader.Close()

	var frames []recorder.Frame
	for len(frames) < 75 { // three seconds
		frames = append(frames, <-reader.C)
	}
	first := frames[0]
	var sps, pps bool
	for _, n := range first.NALUs {
		sps = sps || h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS
		pps = pps || h264.NALUType(n[0]&0x1f) == h264.NALUTypePPS
	}
	if !first.Key || !sps || !pps || first.Codec != "H264" {
		t.Errorf("first live frame: key %v, SPS %v, PPS %v, codec %s; want an H.264 keyframe with both", first.Key, sps, pps, first.Codec)
	}
	for i := 1; i < len(frames); i++ {
		if d := frames[i].PTS - frames[i-1].PTS; d != 3600 {
			t.Fatalf("live frame %d follows the previous by %d ticks; want 3600 (none lost)", i, d)
		}
	}
	waitFor(t, "two sealed segments", func() bool {
		st, ok := r.rec.Status("cam1")
		return ok && st.Segments >= 2
	})
	r.stop(t)
	if stuck.Dropped() == 0 {
		t.Errorf("the viewer that never read lost no frame; want it to lose them rather than hold the recorder")
	}
	checkSegments(t, d, db, "cam1")
}
