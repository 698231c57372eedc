// Package health says what each camera's connection is doing now, for the pages that show it
// and for the work that follows from it (maintenance): recording, connecting, offline or in
// error as the recorder finds it, or why the platform does not record the camera at all.
package health

import (
	"strings"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/registry"
)

// State is a camera's health.
type State string

// The states, from the recorder's for a camera it records, else why it is not recorded.
const (
	Recording  State = "recording"  // parts are being written
	Connecting State = "connecting" // connecting, or waiting for the first keyframe
	Offline    State = "offline"    // the source cannot be reached or stopped sending
	Error      State = "error"      // the source or the storage cannot be used as configured
	// NotRecorded is a camera the platform does not pull: planned, decommissioned, not
	// networked or without a source it can pull (Status.Why says which).
	NotRecorded State = "not_recorded"
)

// Why a camera is not recorded.
const (
	WhyNotActive    = "not_active"    // planned or decommissioned
	WhyNotNetworked = "not_networked" // the camera is not connected to the platform
	WhyNoSource     = "no_source"     // no RTSP or GB/T 28181 source to pull
	WhyNotAssigned  = "not_assigned"  // recordable, but not (yet) given to the recorder
)

// Status is one camera's health now.
type Status struct {
	CameraID string    `json:"camera_id"`
	State    State     `json:"state"`
	Why      string    `json:"why,omitempty"`    // for NotRecorded: one of the Why constants
	Reason   string    `json:"reason,omitempty"` // the recorder's words for Offline and Error
	Since    time.Time `json:"since,omitzero"`   // when State was entered, when known
	LastPart time.Time `json:"last_part,omitzero"`
	// Codec and AudioCodec are what the recorder keeps of the stream (recorder.Status), empty
	// until it knows, and AudioCodec when the camera sends no audio that is kept.
	Codec      string `json:"codec,omitempty"`
	AudioCodec string `json:"audio_codec,omitempty"`
}

// Down reports whether the camera should be recording and is not.
func (s Status) Down() bool { return s.State == Offline || s.State == Error }

// Recorder is the recorder as health reads it (*recorder.Recorder).
type Recorder interface {
	Status(id string) (recorder.Status, bool)
	Statuses() []recorder.Status
}

// Checker reads cameras' health from the recorder. The zero of its recorder (nil) finds every
// recordable camera not assigned, as on a node that does not record.
type Checker struct {
	rec Recorder
}

// New returns a Checker over rec.
func New(rec Recorder) *Checker { return &Checker{rec: rec} }

// Of is camera c's health now.
func (h *Checker) Of(c *registry.Camera) Status {
	st := Status{CameraID: c.ID, State: NotRecorded}
	switch {
	case c.Status != registry.StatusActive:
		st.Why = WhyNotActive
		return st
	case !c.Networked:
		st.Why = WhyNotNetworked
		return st
	case !Pullable(c.SourceURL):
		st.Why = WhyNoSource
		return st
	}
	if h == nil || h.rec == nil {
		st.Why = WhyNotAssigned
		return st
	}
	rs, ok := h.rec.Status(c.ID)
	if !ok {
		st.Why = WhyNotAssigned
		return st
	}
	st.Why, st.Reason, st.Since, st.LastPart = "", rs.Reason, rs.Since, rs.LastPart
	st.Codec, st.AudioCodec = rs.Codec, rs.AudioCodec
	switch rs.State {
	case recorder.StateRecording:
		st.State = Recording
	case recorder.StateConnecting:
		st.State = Connecting
	case recorder.StateError:
		st.State = Error
	default:
		st.State = Offline
	}
	return st
}

// Down lists the cameras the recorder holds that are offline or in error, by id; the
// caller checks them against the registry (Of on the camera says Down only while it is still
// active and networked). Only cameras the recorder holds can be down, so this costs what the
// recorder holds, not what the city registered: the dashboards count by it.
func (h *Checker) Down() []string {
	if h == nil || h.rec == nil {
		return nil
	}
	var ids []string
	for _, rs := range h.rec.Statuses() {
		if rs.State != recorder.StateRecording && rs.State != recorder.StateConnecting {
			ids = append(ids, rs.CameraID)
		}
	}
	return ids
}

// Pullable reports whether the platform can pull a source URL: RTSP(S) or a GB/T 28181 channel.
func Pullable(source string) bool {
	for _, p := range []string{"rtsp://", "rtsps://", "gb28181://"} {
		if strings.HasPrefix(source, p) {
			return true
		}
	}
	return false
}
