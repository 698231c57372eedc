package httpapi

import (
	"net/http"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

// maxRangeWindow bounds one recordings query: a month and a little, the retention floor's span.
const maxRangeWindow = 32 * 24 * time.Hour

// cameraRecordings answers what was recorded of a camera in [start, end) (default: the last 24
// hours), as ranges and gaps. The segment being written is not yet in the index; the recorder's
// status supplies it, so the last minute is not shown as a gap.
func (s *Server) cameraRecordings(w http.ResponseWriter, r *http.Request) error {
	cam, err := s.cameraInScope(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	end, err := timeParam(q.Get("end"), "end")
	if err != nil {
		return err
	}
	if end.IsZero() {
		end = s.now().UTC()
	}
	start, err := timeParam(q.Get("start"), "start")
	if err != nil {
		return err
	}
	if start.IsZero() {
		start = end.Add(-24 * time.Hour)
	}
	if !end.After(start) {
		return badRequest("end", "must be after start")
	}
	if end.Sub(start) > maxRangeWindow {
		return badRequest("start", "the window may be at most 32 days")
	}
	cov, err := s.footage.RecordedFor(r.Context(), auth.UserFrom(r.Context()), cam, start, end, q.Get("application_id"), q.Get("case_ref"))
	if err != nil {
		return err
	}
	out := map[string][]timespan.Range{"ranges": {}, "gaps": {}}
	for _, rg := range cov.Ranges {
		out["ranges"] = append(out["ranges"], timespan.Range{Start: rg.Start.UTC(), End: rg.End.UTC()})
	}
	for _, g := range cov.Gaps {
		out["gaps"] = append(out["gaps"], timespan.Range{Start: g.Start.UTC(), End: g.End.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// cameraRecording reports the recorder's state for a camera: recording, connecting, offline or
// error with the reason, and what it measured of the stream.
func (s *Server) cameraRecording(w http.ResponseWriter, r *http.Request) error {
	cam, err := s.cameraInScope(r)
	if err != nil {
		return err
	}
	body := map[string]any{"camera_id": cam.ID, "state": "not_recording",
		"reason": footage.NotRecordingReason(cam)}
	if s.recorder != nil {
		if st, ok := s.recorder.Status(cam.ID); ok {
			body = map[string]any{"camera_id": cam.ID, "state": st.State, "reason": st.Reason, "since": st.Since,
				"codec": st.Codec, "audio_codec": st.AudioCodec, "audio_live": footage.AudioLive(st.AudioCodec), "width": st.Width, "height": st.Height, "bitrate_bps": st.Bitrate,
				"bytes_written": st.BytesWritten, "segments": st.Segments, "reconnects": st.Reconnects,
				"packets_lost": st.PacketsLost, "last_part": st.LastPart}
		}
	}
	body["node"] = ""
	if s.leases != nil {
		node, err := s.leases.Holder(r.Context(), cam.ID)
		if err != nil {
			return err
		}
		body["node"] = node
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// cameraInScope is the camera named in the path, if the caller's scope reaches it.
func (s *Server) cameraInScope(r *http.Request) (*registry.Camera, error) {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return nil, errNotFound
	}
	return s.reg.Camera(r.Context(), access.ScopeOf(auth.UserFrom(r.Context())), id)
}
