package health

import (
	"slices"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/registry"
)

type fakeRecorder map[string]recorder.Status

func (f fakeRecorder) Status(id string) (recorder.Status, bool) {
	st, ok := f[id]
	return st, ok
}

func (f fakeRecorder) Statuses() []recorder.Status {
	var out []recorder.Status
	for id, st := range f {
		st.CameraID = id
		out = append(out, st)
	}
	return out
}

func TestOf(t *testing.T) {
	since := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	rec := fakeRecorder{
		"rec":  {State: recorder.StateRecording, Since: since},
		"conn": {State: recorder.StateConnecting, Since: since},
		"off":  {State: recorder.StateOffline, Since: since, Reason: "connection refused"},
		"err":  {State: recorder.StateError, Since: since, Reason: "401 Unauthorized"},
	}
	cam := func(id, status string, networked bool, src string) *registry.Camera {
		return &registry.Camera{ID: id, Status: status, Networked: networked, SourceURL: src}
	}
	const rtsp = "rtsp://10.0.0.9/stream"
	for _, tc := range []struct {
		name string
		cam  *registry.Camera
		want Status
	}{
		{"recording", cam("rec", registry.StatusActive, true, rtsp), Status{CameraID: "rec", State: Recording, Since: since}},
		{"connecting", cam("conn", registry.StatusActive, true, "gb28181://34020000001320000001"), Status{CameraID: "conn", State: Connecting, Since: since}},
		{"offline", cam("off", registry.StatusActive, true, rtsp), Status{CameraID: "off", State: Offline, Since: since, Reason: "connection refused"}},
		{"error", cam("err", registry.StatusActive, true, rtsp), Status{CameraID: "err", State: Error, Since: since, Reason: "401 Unauthorized"}},
		{"planned", cam("rec", registry.StatusPlanned, true, rtsp), Status{CameraID: "rec", State: NotRecorded, Why: WhyNotActive}},
		{"not networked", cam("rec", registry.StatusActive, false, rtsp), Status{CameraID: "rec", State: NotRecorded, Why: WhyNotNetworked}},
		{"no source", cam("rec", registry.StatusActive, true, "http://x/"), Status{CameraID: "rec", State: NotRecorded, Why: WhyNoSource}},
		{"not assigned", cam("new", registry.StatusActive, true, rtsp), Status{CameraID: "new", State: NotRecorded, Why: WhyNotAssigned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := New(rec).Of(tc.cam); got != tc.want {
				t.Errorf("Of(%+v) = %+v; want %+v", tc.cam, got, tc.want)
			}
		})
	}
	if got := New(nil).Of(cam("rec", registry.StatusActive, true, rtsp)); got.State != NotRecorded || got.Why != WhyNotAssigned {
		t.Errorf("Of on a node that does not record = %+v; want not recorded, not assigned", got)
	}
}

func TestDown(t *testing.T) {
	rec := fakeRecorder{
		"rec":  {State: recorder.StateRecording},
		"conn": {State: recorder.StateConnecting},
		"off":  {State: recorder.StateOffline},
		"err":  {State: recorder.StateError},
	}
	got := New(rec).Down()
	slices.Sort(got)
	if want := []string{"err", "off"}; !slices.Equal(got, want) {
		t.Errorf("Down() = %v; want %v", got, want)
	}
	if got := New(nil).Down(); got != nil {
		t.Errorf("Down() on a node that does not record = %v; want none", got)
	}
}
