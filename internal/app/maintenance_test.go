package app

import (
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

func TestHealthOf(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name string
		st   recorder.Status
		cov  timespan.Coverage
		want registry.Health
	}{
		{"offline", recorder.Status{CameraID: "c", State: recorder.StateOffline, Since: at(3)}, timespan.Coverage{},
			registry.Health{CameraID: "c", OfflineSince: at(3)}},
		{"recording", recorder.Status{CameraID: "c", State: recorder.StateRecording, Since: at(1), LastPart: at(5), LastKeyframe: at(4)}, timespan.Coverage{},
			registry.Health{CameraID: "c", LastKeyframe: at(4)}},
		{"recording, before the first part", recorder.Status{CameraID: "c", State: recorder.StateRecording, Since: at(1)}, timespan.Coverage{},
			registry.Health{CameraID: "c", LastKeyframe: at(1)}},
		{"recording a still picture", recorder.Status{CameraID: "c", State: recorder.StateRecording, Since: at(1), LastPart: at(5), LastKeyframe: at(5),
			StillSince: at(2), StillKeyframes: 9000}, timespan.Coverage{},
			registry.Health{CameraID: "c", LastKeyframe: at(5), StillSince: at(2), StillKeyframes: 9000}},
		{"offline after a still picture", recorder.Status{CameraID: "c", State: recorder.StateOffline, Since: at(6), StillSince: at(2), StillKeyframes: 9000},
			timespan.Coverage{}, registry.Health{CameraID: "c", OfflineSince: at(6)}},
		{"connecting", recorder.Status{CameraID: "c", State: recorder.StateConnecting, Since: at(1)}, timespan.Coverage{},
			registry.Health{CameraID: "c"}},
		{"gaps after the first recording only", recorder.Status{CameraID: "c", State: recorder.StateConnecting},
			timespan.Coverage{Ranges: []timespan.Range{{Start: at(2), End: at(4)}, {Start: at(6), End: at(7)}},
				Gaps: []timespan.Range{{Start: at(0), End: at(2)}, {Start: at(4), End: at(6)}}},
			registry.Health{CameraID: "c", Missing: 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthOf(tt.st, tt.cov); got != tt.want {
				t.Errorf("healthOf(%+v) = %+v; want %+v", tt.st, got, tt.want)
			}
		})
	}
}
