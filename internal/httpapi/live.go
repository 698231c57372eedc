package httpapi

import (
	"cmp"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/live"
)

// Live view by WHEP (draft-ietf-wish-whep; WHIP, its publishing sibling, is RFC 9725): POST an
// SDP offer, get the answer and the session's URL; PATCH that URL with the viewer's trickled
// candidates; DELETE it to stop. OPTIONS answers what the endpoint takes, without a login, as a
// browser's CORS preflight asks it.

// LivePurposeHeader carries the purpose of a live view when the query has none.
const LivePurposeHeader = "X-Civicam-Purpose"

// maxOfferBytes bounds an SDP offer; browsers' offers are a few KiB.
const maxOfferBytes = 64 << 10

var (
	errLiveNotSDP  = &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send the offer as application/sdp"}
	errLiveNotFrag = &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send candidates as application/trickle-ice-sdpfrag"}
	errLiveETag    = &apiError{Status: http.StatusPreconditionFailed, Code: "precondition_failed", Message: "the session's ICE session has changed (If-Match)"}
	errLiveRestart = &apiError{Status: http.StatusUnprocessableEntity, Code: "ice_restart_unsupported", Message: "ICE restarts are not supported; start a new session"}
)

func (s *Server) liveRoutes() []Route {
	return []Route{
		{"OPTIONS", "/api/v1/cameras/{id}/whep", nil, whepOptions("OPTIONS, POST")},
		{"POST", "/api/v1/cameras/{id}/whep", footageRoute, s.whepOffer},
		{"OPTIONS", "/api/v1/cameras/{id}/whep/{session}", nil, whepOptions("OPTIONS, PATCH, DELETE")},
		{"PATCH", "/api/v1/cameras/{id}/whep/{session}", footageRoute, s.whepPatch},
		{"DELETE", "/api/v1/cameras/{id}/whep/{session}", footageRoute, s.whepDelete},
	}
}

// whepOffer starts a live session: access check (the footage rule, scope live), a stated
// purpose, a camera this node records in H.264 or H.265; then the answer is prepared, the look traced,
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
	grid := strings.TrimSpace(r.URL.Query().Get("grid"))
	if grid == "" {
		grid = strings.TrimSpace(r.Header.Get(LiveGridHeader))
	}
	look, err := s.footage.DecideLive(ctx, u, footage.Request{CameraID: r.PathValue("id"), Purpose: purpose, CaseRef: caseRef, Grid: grid})
	if err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/sdp" {
		s.footage.Malformed(ctx, access.Live, look.Request, errLiveNotSDP)
		return errLiveNotSDP
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		err := badRequest("body", "the offer must be at most %d bytes", maxOfferBytes)
		s.footage.Malformed(ctx, access.Live, look.Request, err)
		return err
	}
	sess, answer, err := s.footage.Watch(ctx, look, u, string(body), requestTokenHash(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/api/v1/cameras/"+look.Camera.ID+"/whep/"+sess.ID)
	w.Header().Set("ETag", sess.ETag())
	// What the viewer gets of the camera's audio, and why none when it sends some (AAC cannot
	// go live without transcoding): the video plays either way.
	w.Header().Set(LiveAudioHeader, cmp.Or(sess.AudioCodec(), "none"))
	if sess.AudioNote != "" {
		w.Header().Set(LiveAudioNoteHeader, sess.AudioNote)
	}
	w.WriteHeader(http.StatusCreated)
	if _, err := io.WriteString(w, answer); err != nil {
		s.log.Debug("write whep answer", "camera", look.Camera.ID, "err", err)
	}
	return nil
}

// LiveAudioHeader names the audio codec a live view carries ("Opus", "PCMA", "PCMU"), or
// "none"; LiveAudioNoteHeader says why a camera's audio is not carried.
const (
	LiveAudioHeader     = "X-Civicam-Audio"
	LiveAudioNoteHeader = "X-Civicam-Audio-Note"
)

// LiveCaseRefHeader carries the case a live view is for (or the case_ref query parameter):
// an emergency grant covers a look only under one.
const LiveCaseRefHeader = "X-Civicam-Case-Ref"

// LiveGridHeader carries the live grid session a live view is a tile of (or the grid query
// parameter): its trail entries name it.
const LiveGridHeader = "X-Civicam-Grid"

// whepOptions answers what a WHEP URL takes. It reads nothing and names no camera or session,
// so it needs no login (a CORS preflight carries none) and leaves no trace.
func whepOptions(allow string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		if strings.Contains(allow, "POST") {
			w.Header().Set("Accept-Post", "application/sdp")
		} else {
			w.Header().Set("Accept-Patch", "application/trickle-ice-sdpfrag")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// whepPatch takes the viewer's trickled ICE candidates for its own session (footage.OwnView
// traces an attempt on another's). Candidates are network addresses, not a new look: the look
// was traced when the session began.
func (s *Server) whepPatch(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.footage.OwnView(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), r.PathValue("session"))
	if err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/trickle-ice-sdpfrag" {
		return errLiveNotFrag
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != sess.ETag() {
		return errLiveETag
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		return badRequest("body", "the candidates must be at most %d bytes", maxOfferBytes)
	}
	switch err := sess.AddCandidates(string(body)); {
	case errors.Is(err, live.ErrICERestart):
		return errLiveRestart
	case errors.Is(err, live.ErrBadOffer):
		return badRequest("body", "%s", strings.TrimPrefix(err.Error(), "live: "))
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// whepDelete ends the caller's own live session (see footage.Service.EndView).
func (s *Server) whepDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.footage.EndView(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), r.PathValue("session")); err != nil {
		return err
	}
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
