package livetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/live"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
)

// Rig is what a live view stands on, wired as the app wires it: a simulated H.264 camera on
// loopback, a recorder writing it to the test's disk, and a live service fed by the recorder.
// Everything it starts stops, and is waited for, when the test ends.
type Rig struct {
	Camera   *simcam.Server
	Recorder *recorder.Recorder
	Live     *live.Service
	stopLive func()
}

// RigDeps are the rig's parts that belong to the test: the recordings' index and the logins the
// live service re-checks (the test's database, for both), and optionally the metrics registry.
type RigDeps struct {
	Index   recorder.Index
	Logins  live.Logins
	Metrics prometheus.Registerer
	// Codec is the simulated camera's; empty means H.264.
	Codec simcam.Codec
	// Sources are the recorder's sources of other schemes than rtsp (gb28181), as the app
	// gives them; RecordSource records from one.
	Sources map[string]recorder.MediaSource
}

// NewRig starts a rig whose live service has cfg.
func NewRig(t testing.TB, cfg live.Config, deps RigDeps) *Rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	codec := deps.Codec
	if codec == "" {
		codec = simcam.H264
	}
	cam := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: 1, Codec: codec, Bitrate: 1_000_000}, nil)
	wg.Go(func() { cam.Run(ctx) })
	<-cam.Ready()
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: segment.NewDisk(t.TempDir()), Index: deps.Index, Sources: deps.Sources})
	wg.Go(func() { rec.Run(ctx) })
	svc, err := live.New(cfg, live.Deps{Source: rec, Logins: deps.Logins, Metrics: deps.Metrics})
	if err != nil {
		t.Fatalf("live.New = %v", err)
	}
	liveCtx, stopLive := context.WithCancel(ctx)
	liveDone := make(chan struct{})
	wg.Go(func() { defer close(liveDone); svc.Run(liveCtx) })
	// Run binds the ICE port before it takes offers.
	for limit := time.Now().Add(30 * time.Second); svc.ICEAddr() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(limit) {
			t.Fatal("gave up waiting for the live service to run")
		}
	}
	return &Rig{Camera: cam, Recorder: rec, Live: svc, stopLive: func() { stopLive(); <-liveDone }}
}

// Record has the recorder pull the simulated camera as cameraID and waits until it records;
// the limit only keeps a broken test from hanging.
func (r *Rig) Record(t testing.TB, cameraID string) {
	t.Helper()
	r.RecordSource(t, cameraID, r.Camera.URL(1))
}

// RecordSource has the recorder record cameraID from sourceURL (a gb28181:// channel through
// RigDeps.Sources, say) and waits until it records.
func (r *Rig) RecordSource(t testing.TB, cameraID, sourceURL string) {
	t.Helper()
	r.Recorder.Sync([]recorder.Camera{{ID: cameraID, SourceURL: sourceURL, Transport: recorder.TransportTCP}})
	limit := time.Now().Add(30 * time.Second)
	for st, ok := r.Recorder.Status(cameraID); !ok || st.State != recorder.StateRecording; st, ok = r.Recorder.Status(cameraID) {
		if time.Now().After(limit) {
			t.Fatal("gave up waiting for the camera to be recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StopLive stops the live service before the test ends (a shutdown, as the app's), and waits
// until it has.
func (r *Rig) StopLive() { r.stopLive() }

// RecordAll has the recorder pull the simulated camera as every one of cameraIDs at once (each
// its own RTSP session, as distinct cameras would be) and waits until all record.
func (r *Rig) RecordAll(t testing.TB, cameraIDs ...string) {
	t.Helper()
	var cams []recorder.Camera
	for _, id := range cameraIDs {
		cams = append(cams, recorder.Camera{ID: id, SourceURL: r.Camera.URL(1), Transport: recorder.TransportTCP})
	}
	r.Recorder.Sync(cams)
	limit := time.Now().Add(30 * time.Second)
	for _, id := range cameraIDs {
		for st, ok := r.Recorder.Status(id); !ok || st.State != recorder.StateRecording; st, ok = r.Recorder.Status(id) {
			if time.Now().After(limit) {
				t.Fatalf("gave up waiting for camera %s to be recorded", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
