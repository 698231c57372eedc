package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/live"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Live view by WHEP (RFC 9725): POST an SDP offer, get the answer and the session's URL;
// DELETE that URL to stop. The offer must be complete (no trickle ICE).

// LivePurposeHeader carries the purpose of a live view when the query has none.
const LivePurposeHeader = "X-Civicam-Purpose"

// maxOfferBytes bounds an SDP offer; browsers' offers are a few KiB.
const maxOfferBytes = 64 << 10

var (
	errLiveOff       = &apiError{Status: http.StatusServiceUnavailable, Code: "live_unavailable", Message: "live view is not enabled on this server"}
	errLiveBusy      = &apiError{Status: http.StatusServiceUnavailable, Code: "live_unavailable", Message: "live view cannot take a session now; try again"}
	errLiveNotSDP    = &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send the offer as application/sdp"}
	errLiveNoSession = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such live session"}
)

func (s *Server) liveRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/cameras/{id}/whep", footageRoute, s.whepOffer},
		{"DELETE", "/api/v1/cameras/{id}/whep/{session}", footageRoute, s.whepDelete},
	}
}

// whepOffer starts a live session: access check (the footage rule, scope live), a stated
// purpose, a camera this node records in H.264; then the answer is prepared, the look traced,
// and only then is the answer returned and media let through.
func (s *Server) whepOffer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := auth.UserFrom(ctx)
	purpose := strings.TrimSpace(r.URL.Query().Get("purpose"))
	if purpose == "" {
		purpose = strings.TrimSpace(r.Header.Get(LivePurposeHeader))
	}
	caseRef := strings.TrimSpace(r.URL.Query().Get("case_ref"))
	if caseRef == "" {
		caseRef = strings.TrimSpace(r.Header.Get(LiveCaseRefHeader))
	}
	now := s.now()
	fr := &footageRequest{start: now, end: now, purpose: purpose, caseRef: caseRef}
	if err := s.lookupFootage(r, trace.ActionLiveView, access.Live, fr); err != nil {
		return err
	}
	cam := fr.cam
	if err := checkPurpose(fr); err != nil {
		return err
	}
	if s.live == nil {
		return errLiveOff
	}
	if err := s.cameraLive(cam); err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/sdp" {
		return errLiveNotSDP
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		return badRequest("body", "the offer must be at most %d bytes", maxOfferBytes)
	}
	sess, answer, err := s.live.Offer(ctx, live.Request{
		CameraID: cam.ID, Purpose: purpose, User: u, TokenHash: requestTokenHash(r), Offer: string(body),
		Recheck: func(ctx context.Context, cur *auth.User) error { return s.mayStillWatch(fr.ctx(ctx), cur, cam.ID) },
	})
	switch {
	case errors.Is(err, live.ErrBadOffer):
		return badRequest("body", "%s", err.Error())
	case errors.Is(err, live.ErrUnavailable):
		return errLiveBusy
	case err != nil:
		return err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionLiveView, CameraIDs: []string{cam.ID},
		From: now, Purpose: purpose, Reference: sess.ID, Outcome: trace.Allowed, Reason: fr.traceReason(caseReason(caseRef))}); err != nil {
		sess.Close("the access could not be traced")
		return err
	}
	sess.Start()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/api/v1/cameras/"+cam.ID+"/whep/"+sess.ID)
	w.WriteHeader(http.StatusCreated)
	_, err = io.WriteString(w, answer)
	if err != nil {
		s.log.Debug("write whep answer", "camera", cam.ID, "err", err)
	}
	return nil
}

// cameraLive refuses a camera whose video this node cannot pass on.
func (s *Server) cameraLive(cam *registry.Camera) error {
	var st recorder.Status
	ok := false
	if s.recorder != nil {
		st, ok = s.recorder.Status(cam.ID)
	}
	switch {
	case !ok:
		return &apiError{Status: http.StatusServiceUnavailable, Code: "camera_not_live", Message: "the camera is not recorded on this server: " + notRecordingReason(cam)}
	case st.State != recorder.StateRecording:
		return &apiError{Status: http.StatusServiceUnavailable, Code: "camera_not_live", Message: "the camera is " + string(st.State) + ": " + st.Reason}
	case st.Codec != "H264":
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "codec_unsupported", Message: "live view carries H.264; the camera sends " + st.Codec}
	}
	return nil
}

// LiveCaseRefHeader carries the case a live view is for (or the case_ref query parameter):
// an emergency grant covers a look only under one.
const LiveCaseRefHeader = "X-Civicam-Case-Ref"

func caseReason(caseRef string) string {
	if caseRef == "" {
		return ""
	}
	return "for case " + caseRef
}

// mayStillWatch is the live session's periodic re-check: the same rule, with the viewer and
// the camera as they are now. Revoking a grant asks the same (app's adapter for sharing).
func (s *Server) mayStillWatch(ctx context.Context, u *auth.User, cameraID string) error {
	return s.footage.access.Recheck(ctx, s.reg, u, cameraID, s.now())
}

// whepDelete ends the caller's own live session.
func (s *Server) whepDelete(w http.ResponseWriter, r *http.Request) error {
	if s.live == nil {
		return errLiveNoSession
	}
	sess, ok := s.live.Session(r.PathValue("session"))
	if !ok || sess.CameraID != r.PathValue("id") || sess.UserID != auth.UserFrom(r.Context()).ID {
		return errLiveNoSession
	}
	sess.Close("the viewer ended it")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// requestTokenHash is the hash of the login token a request came with, as Authenticate found it.
func requestTokenHash(r *http.Request) []byte {
	if h := r.Header.Get("Authorization"); h != "" {
		t, _ := strings.CutPrefix(h, "Bearer ")
		return auth.HashToken(t)
	}
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		return auth.HashToken(c.Value)
	}
	return nil
}
