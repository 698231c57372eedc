package footage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

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
	Session(id string) (*live.Session, bool)
	Revoke(match func(*live.Session) bool, reason string) int
}

var (
	errLiveOff  = &fault.Error{Kind: fault.Unavailable, Code: "live_unavailable", Message: "live view is not enabled on this server"}
	errLiveBusy = &fault.Error{Kind: fault.Unavailable, Code: "live_unavailable", Message: "live view cannot take a session now; try again"}
	// errNoSession is a live session the caller does not hold; the attempt is traced.
	errNoSession = &fault.Error{Kind: fault.NotFound, Code: "not_found", Message: "no such live session", Traced: true}
)

// DecideLive checks a live view of a camera now: the footage rule for live use, a stated
// purpose, and a camera this node records in H.264 or H.265. A look the rule allows but this
// node cannot serve is traced as refused, with why: the attempt is a look like any other.
func (s *Service) DecideLive(ctx context.Context, u *auth.User, req Request) (*Look, error) {
	now := s.d.Now()
	req.Start, req.End = now, now
	l, err := s.Decide(ctx, u, access.Live, req)
	if err != nil {
		return nil, err
	}
	if s.d.Live == nil {
		return nil, s.liveRefused(ctx, l, errLiveOff)
	}
	if err := s.cameraLive(l.Camera); err != nil {
		return nil, s.liveRefused(ctx, l, err)
	}
	return l, nil
}

// liveRefused traces a decided live look this node could not serve and returns err. The refusal
// is the answer, so a trail failure is only logged.
func (s *Service) liveRefused(ctx context.Context, l *Look, err error) error {
	reason := err.Error()
	if fe, ok := fault.As(err); ok {
		reason = fe.Message
	}
	if terr := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionLiveView, CameraIDs: []string{l.Camera.ID},
		From: l.Start, Reference: l.reference(), Purpose: l.Purpose, Outcome: trace.Denied, Reason: l.inGrid(reason)}); terr != nil {
		s.d.Logger.Error("trace refused live view", "camera", l.Camera.ID, "err", terr)
	}
	return err
}

// EndView ends u's own live session id of camera cameraID. The end of a look belongs to its
// record, and an attempt on a session the caller does not hold is a refusal like any other:
// both are traced (the end as every end of a look is, see Watch). Ending takes access away, so
// it is not held back when the trail is down.
func (s *Service) EndView(ctx context.Context, u *auth.User, cameraID, id string) error {
	sess, err := s.ownView(ctx, u, cameraID, id, "end of")
	if err != nil {
		return err
	}
	sess.Close(endedByViewer) // traced by the session's end (Watch)
	return nil
}

// OwnView returns u's own live session id of camera cameraID, for a change to it (trickled ICE
// candidates); an attempt on a session the caller does not hold is traced as refused.
func (s *Service) OwnView(ctx context.Context, u *auth.User, cameraID, id string) (*live.Session, error) {
	return s.ownView(ctx, u, cameraID, id, "change to")
}

func (s *Service) ownView(ctx context.Context, u *auth.User, cameraID, id, what string) (*live.Session, error) {
	var sess *live.Session
	if s.d.Live != nil {
		sess, _ = s.d.Live.Session(id)
	}
	if sess != nil && sess.CameraID == cameraID && u != nil && sess.UserID == u.ID {
		return sess, nil
	}
	rec := trace.Record{Action: trace.ActionLiveView, Reference: id, Outcome: trace.Denied,
		Reason: what + " a live session the caller does not hold"}
	if registry.ValidID(cameraID) {
		rec.CameraIDs = []string{cameraID}
	}
	if err := s.d.Tracer.Record(ctx, rec); err != nil {
		s.d.Logger.Error("trace refused "+what+" live view", "err", err)
	}
	return nil, errNoSession
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

// AudioLive reports whether live view carries a camera's audio of codec (recorder.Status's
// AudioCodec) to the browser: Opus and G.711 go as sent; AAC would need transcoding.
func AudioLive(codec string) bool { return live.Live(codec) }

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
	// The end of a look is traced only when its start was; the request's context carries the
	// actor but ends with the request, long before the look does.
	var started atomic.Bool
	var id string
	endCtx := context.WithoutCancel(ctx)
	sess, answer, err := s.d.Live.Offer(ctx, live.Request{
		CameraID: l.Camera.ID, Purpose: l.Purpose, User: u, TokenHash: tokenHash, Offer: offer,
		Codec: st.Codec, Profile: st.Profile, Audio: st.AudioCodec,
		Recheck: func(ctx context.Context, cur *auth.User) error { return s.MayStillWatch(l.ctx(ctx), cur, l.Camera.ID) },
		Ended: func(reason string) {
			if started.Load() {
				s.traceEnd(endCtx, l, id, reason)
			}
		},
	})
	switch {
	case errors.Is(err, live.ErrBadOffer):
		bad := &fault.Error{Kind: fault.Invalid, Code: "invalid", Field: "body", Message: err.Error()}
		s.Malformed(ctx, access.Live, l.Request, bad)
		return nil, "", bad
	case errors.Is(err, live.ErrIncompatible):
		return nil, "", s.liveRefused(ctx, l, &fault.Error{Kind: fault.Refused, Code: "codec_unsupported", Message: strings.TrimPrefix(err.Error(), "live: "), Err: err})
	case errors.Is(err, live.ErrUnavailable):
		return nil, "", s.liveRefused(ctx, l, errLiveBusy)
	case err != nil:
		return nil, "", err
	}
	if err := s.d.Tracer.Record(ctx, trace.Record{Action: trace.ActionLiveView, CameraIDs: []string{l.Camera.ID},
		From: l.Start, Purpose: l.Purpose, Reference: sess.ID, Outcome: trace.Allowed, Reason: l.traceReason(caseReason(l.CaseRef))}); err != nil {
		sess.Close("the access could not be traced")
		return nil, "", err
	}
	id = sess.ID
	started.Store(true)
	sess.Start()
	return sess, answer, nil
}

// endedByViewer is the reason a look's end carries when its viewer stopped it.
const endedByViewer = "ended by the viewer"

// traceEnd records the end of a look whose start is in the trail, however it ended (the viewer
// stopped it, the connection dropped, the right was revoked): one entry with the look's start and
// end. The end has already happened, so a trail failure is only logged.
func (s *Service) traceEnd(ctx context.Context, l *Look, id, reason string) {
	rec := trace.Record{Action: trace.ActionLiveView, CameraIDs: []string{l.Camera.ID}, From: l.Start, To: s.d.Now(),
		Reference: id, Purpose: l.Purpose, Outcome: trace.Allowed, Reason: "ended: " + reason}
	if reason == endedByViewer {
		rec.Reason = reason
	}
	rec.Reason = l.inGrid(rec.Reason)
	if err := s.d.Tracer.Record(ctx, rec); err != nil {
		s.d.Logger.Error("trace end of live view", "session", id, "err", err)
	}
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
