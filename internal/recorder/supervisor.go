package recorder

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"civicam/internal/lease"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
)

// State is a camera's recording state.
type State string

const (
	StateConnecting State = "connecting" // connecting, or waiting for the first keyframe
	StateRecording  State = "recording"
	StateOffline    State = "offline" // the source cannot be reached or stopped sending
	StateError      State = "error"   // the source or the storage cannot be used as configured
)

// ReasonStorageFull begins the Reason of a camera in StateError because its storage is full.
const ReasonStorageFull = "storage full"

// ReasonLeaseLost is the Reason of a camera in StateError whose index writes were refused
// because its lease is another node's now (lease.ErrLost).
const ReasonLeaseLost = "lease lost"

// Status is what a supervisor reports of its camera.
type Status struct {
	CameraID string
	State    State
	Reason   string    // why the camera is offline or in error
	Since    time.Time // when State was entered
	Codec    string    // "H264" or "H265", once known
	// Profile is an H.264 stream's profile-level-id (RFC 6184: six hex digits, e.g. 640028 for
	// High at level 4.0), once known; empty for H.265.
	Profile string
	Width   int
	Height  int
	// AudioCodec is the audio kept beside the video ("AAC", "Opus", "PCMA" or "PCMU" for G.711
	// A-law and µ-law), empty when the camera sends none or only audio that is not kept.
	AudioCodec string
	// Bitrate is the video bitrate in bits per second, measured over the last parts written.
	Bitrate      int64
	BytesWritten int64 // since the supervisor started
	Parts        int64 // parts written since the supervisor started
	Segments     int64 // segments sealed since the supervisor started
	PacketsLost  uint64
	Reconnects   int
	LastPart     time.Time // wall time of the end of the last part written
	// LastKeyframe is the wall time of the end of the part holding the last keyframe written;
	// parts are cut between keyframes when these are further apart than a few parts, so a part
	// is not a keyframe.
	LastKeyframe time.Time
	// StillSince is the wall time of the end of the part holding the first of the keyframes that
	// have all been the same bytes up to the last one, and StillKeyframes how many they are: a
	// source whose picture froze (a stuck encoder or frame buffer repeating one picture) sends
	// the same keyframe again and again, while any live scene's sensor noise changes it. Zero
	// while the last two keyframes of the session differ.
	StillSince     time.Time
	StillKeyframes int
	// SegmentStart is the start of the segment being written, zero when none is open. The index
	// holds a segment's end only once it is sealed, so [SegmentStart, LastPart) is the recording
	// that the index does not show yet.
	SegmentStart time.Time
}

// supervisor keeps one camera recorded until cancelled.
type supervisor struct {
	r      *Recorder
	cam    Camera
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	st Status
}

func newSupervisor(r *Recorder, cam Camera) *supervisor {
	return &supervisor{
		r: r, cam: cam, done: make(chan struct{}),
		st: Status{CameraID: cam.ID, State: StateConnecting, Since: r.deps.Now()},
	}
}

func (s *supervisor) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *supervisor) update(fn func(st *Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.st.State
	fn(&s.st)
	if s.st.State != prev {
		s.st.Since = s.r.deps.Now()
	}
}

func (s *supervisor) setState(st State, reason string) {
	s.update(func(x *Status) { x.State, x.Reason = st, reason })
}

// run connects, records until the session fails, and tries again after a backoff that doubles on
// each failure and starts over once a session has recorded something.
func (s *supervisor) run(ctx context.Context) {
	log := s.r.log.With("camera", s.cam.ID)
	if err := s.r.repairUnsealed(ctx, s.cam); err != nil {
		// Recording matters more than tidying: the entries stay unsealed for the next start.
		log.Error("recorder: repair unsealed segments", "err", err)
	}
	backoff := s.r.cfg.BackoffMin
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.update(func(x *Status) { x.Reconnects++ })
		}
		s.setState(StateConnecting, "")
		recorded, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		state := StateOffline
		var se *stateError
		if errors.As(err, &se) {
			state = se.state
		}
		reason := "stream ended"
		if err != nil {
			reason = err.Error()
		}
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			// Retrying after the backoff is what resumes recording once space returns.
			reason = ReasonStorageFull + ": " + reason
			log.Error("recorder: recording stopped, storage full", "err", err, "retry_in", backoff)
		}
		if errors.Is(err, lease.ErrLost) {
			// Another node records the camera now: writing on would be refused, and trying
			// again would only compete with it.
			s.setState(StateError, ReasonLeaseLost)
			log.Warn("recorder: camera's lease lost, recording stopped", "err", err)
			<-ctx.Done()
			return
		}
		s.setState(state, reason)
		log.Warn("recorder: session ended", "state", state, "err", err, "retry_in", backoff)
		if recorded {
			backoff = s.r.cfg.BackoffMin
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !recorded {
			backoff = min(backoff*2, s.r.cfg.BackoffMax)
		}
	}
}

// stateError marks a session error that is not a plain loss of the source.
type stateError struct {
	state State
	err   error
}

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

func asError(err error) error { return &stateError{state: StateError, err: err} }

// classifyRTSP tells a refused request (credentials, permissions, a bad request: the
// configuration is wrong, retrying will not help by itself) from a source that is away.
func classifyRTSP(err error) error {
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		switch bad.Code {
		case base.StatusUnauthorized, base.StatusForbidden, base.StatusBadRequest, base.StatusUnsupportedTransport:
			return asError(err)
		}
	}
	return err
}
