package footage

import (
	"context"
	"errors"
	"slices"
	"strings"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/live"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/trace"
)

// Live opens and ends live sessions; *live.Service implements it. Nil when this process serves
// none.
type Live interface {
	Offer(ctx context.Context, req live.Request) (*live.Session, string, error)
	Sessions() []*live.Session
	Revoke(match func(*live.Session) bool, reason string) int
}

var (
	errLiveOff  = &fault.Error{Kind: fault.Unavailable, Code: "live_unavailable", Message: "live view is not enabled on this server"}
	errLiveBusy = &fault.Error{Kind: fault.Unavailable, Code: "live_unavailable", Message: "live view cannot take a session now; try again"}
)

// DecideLive checks a live view of a camera now: the footage rule for live use, a stated
// purpose, and a camera this node records in H.264 or H.265.
func (s *Service) DecideLive(ctx context.Context, u *auth.User, req Request) (*Look, error) {
	now := s.d.Now()
	req.Start, req.End = now, now
	l, err := s.Decide(ctx, u, access.Live, req)
	if err != nil {
		return nil, err
	}
	if s.d.Live == nil {
		return nil, errLiveOff
	}
	if err := s.cameraLive(l.Camera); err != nil {
		return nil, err
	}
	return l, nil
}

// cameraLive refuses a camera whose video this node cannot pass on.
func (s *Service) cameraLive(cam *registry.Camera) error {
	var st recorder.Status
	ok := false
	if s.d.Recorder != nil {
		st, ok = s.d.Recorder.Status(cam.ID)
	}
	switch {
	case !ok:
		return &fault.Error{Kind: fault.Unavailable, Code: "camera_not_live", Message: "the camera is not recorded on this server: " + NotRecordingReason(cam)}
	case st.State != recorder.StateRecording:
		return &fault.Error{Kind: fault.Unavailable, Code: "camera_not_live", Message: "the camera is " + string(st.State) + ": " + st.Reason}
	case st.Codec != "H264" && st.Codec != "H265":
		return &fault.Error{Kind: fault.Refused, Code: "codec_unsupported", Message: "live view carries H.264 and H.265; the camera sends " + st.Codec}
	}
	return nil
}

// NotRecordingReason says why the recorder does not pull a camera.
func NotRecordingReason(c *registry.Camera) string {
	switch {
	case c.Status != registry.StatusActive:
		return "camera is " + c.Status
	case !c.Networked:
		return "camera is not networked to the platform"
	case c.SourceURL == "":
		return "camera has no stream source"
	}
	return "not assigned to this node's recorder"
}

// Watch answers a decided live look's SDP offer. The session is traced before its answer is
// returned and media let through; a session that cannot be traced is closed unused. The
// session re-checks the viewer's right while it lasts (MayStillWatch). tokenHash is the login
// the session lives as long as.
func (s *Service) Watch(ctx context.Context, l *Look, u *auth.User, offer string, tokenHash []byte) (*live.Session, string, error) {
	var st recorder.Status
	if s.d.Recorder != nil {
		st, _ = s.d.Recorder.Status(l.Camera.ID)
	}
	sess, answer, err := s.d.Live.Offer(ctx, live.Request{
		CameraID: l.Camera.ID, Purpose: l.Purpose, User: u, TokenHash: tokenHash, Offer: offer,
		Codec: st.Codec, Profile: st.Profile,
		Recheck: func(ctx context.Context, cur *auth.User) error { return s.MayStillWatch(l.ctx(ctx), cur, l.Camera.ID) },
	})
	switch {
	case errors.Is(err, live.ErrBadOffer):
		return nil, "", &fault.Error{Kind: fault.Invalid, Code: "invalid", Field: "body", Message: err.Error()}
	case errors.Is(err, live.ErrIncompatible):
		return nil, "", &fault.Error{Kind: fault.Refused, Code: "codec_unsupported", Message: strings.TrimPrefix(err.Error(), "live: "), Err: err}
	case errors.Is(err, live.ErrUnavailable):
		return nil, "", errLiveBusy
	case err != nil:
		return nil, "", err
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionLiveView, CameraIDs: []string{l.Camera.ID},
		From: l.Start, Purpose: l.Purpose, Reference: sess.ID, Outcome: trace.Allowed, Reason: l.traceReason(caseReason(l.CaseRef))}); err != nil {
		sess.Close("the access could not be traced")
		return nil, "", err
	}
	sess.Start()
	return sess, answer, nil
}

func caseReason(caseRef string) string {
	if caseRef == "" {
		return ""
	}
	return "for case " + caseRef
}

// Refused lists the live views of organisation org's users that the access rule, asked again
// in ctx, refuses now: a revocation asks it (see sharing.ViewEnder) before it is written.
func (s *Service) Refused(ctx context.Context, org string) []string {
	if s.d.Live == nil {
		return nil
	}
	var ids []string
	for _, ss := range s.d.Live.Sessions() {
		if ss.OrganisationID != org {
			continue
		}
		viewer := &auth.User{ID: ss.UserID, Username: ss.Username, Role: ss.Role, OrganisationID: ss.OrganisationID}
		if s.MayStillWatch(ctx, viewer, ss.CameraID) != nil {
			ids = append(ids, ss.ID)
		}
	}
	return ids
}

// EndViews closes the live views with these ids at once and says how many.
func (s *Service) EndViews(ids []string, reason string) int {
	if s.d.Live == nil {
		return 0
	}
	return s.d.Live.Revoke(func(ss *live.Session) bool { return slices.Contains(ids, ss.ID) }, reason)
}

var _ sharing.ViewEnder = (*Service)(nil)
