package httpapi

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"

	"civicam/internal/auth"
	"civicam/internal/footage"
	"civicam/internal/grid"
)

// The live grid (issue 16): the cameras the caller may put into its tiles, its own saved views,
// and a tile's snapshot. Each tile's video is an ordinary WHEP live view (live.go) carrying the
// grid session (?grid=), so it is decided and traced as any other.

// gridRoles may watch live: the roles a grid is any use to.
var gridRoles = managers

func (s *Server) gridRoutes() []Route {
	rs := []Route{
		{"POST", "/api/v1/cameras/{id}/whep/{session}/snapshot", footageRoute, s.snapshot},
	}
	if s.grid == nil {
		return rs
	}
	return append(rs,
		Route{"GET", "/api/v1/live/cameras", gridRoles, s.gridCameras},
		Route{"GET", "/api/v1/live/views", gridRoles, s.listLiveViews},
		Route{"POST", "/api/v1/live/views", gridRoles, s.saveLiveView},
		Route{"GET", "/api/v1/live/views/{id}", gridRoles, s.getLiveView},
		Route{"DELETE", "/api/v1/live/views/{id}", gridRoles, s.deleteLiveView},
	)
}

// SnapshotSHA256Header names the SHA-256 of a snapshot's JPEG, as its trail entry does.
const SnapshotSHA256Header = "X-Civicam-Snapshot-Sha256"

// gridOps document gridRoutes.
func (s *Server) gridOps(c *schemas) map[string]op {
	out := func(v any) schema { return c.of(reflect.TypeOf(v), true) }
	in := func(v any) schema { return c.of(reflect.TypeOf(v), false) }
	view := out(grid.View{})
	return map[string]op{
		"POST /api/v1/cameras/{id}/whep/{session}/snapshot": {Summary: "Take a still of the caller's own live view: the browser's current frame as a JPEG " +
			"(at most 8 MiB), answered re-encoded without metadata once its SHA-256 is traced; needs the export right; the server keeps no copy",
			ContentType: "image/jpeg", Status: http.StatusOK, ResultType: "image/jpeg"},
		"GET /api/v1/live/cameras": {Summary: "The cameras the caller may watch live now, for the live grid's tiles (its organisation's, then those shared with it)",
			Status: http.StatusOK, Result: object(map[string]schema{"cameras": list(out(grid.Camera{}))})},
		"GET /api/v1/live/views": {Summary: "The caller's own saved live grid views, by name",
			Status: http.StatusOK, Result: object(map[string]schema{"views": list(view)})},
		"POST /api/v1/live/views": {Summary: "Save a live grid view of the caller's (name, layout of 1, 4, 9 or 16 tiles, the tiles' cameras); the same name replaces it",
			Body: in(grid.Input{}), Status: http.StatusCreated, Result: view},
		"GET /api/v1/live/views/{id}":    {Summary: "One of the caller's saved live grid views", Status: http.StatusOK, Result: view},
		"DELETE /api/v1/live/views/{id}": {Summary: "Delete one of the caller's saved live grid views", Status: http.StatusNoContent},
	}
}

func (s *Server) gridCameras(w http.ResponseWriter, r *http.Request) error {
	cams, err := s.grid.Cameras(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cameras": cams})
	return nil
}

func (s *Server) listLiveViews(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.grid.Views(r.Context(), auth.UserFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": vs})
	return nil
}

func (s *Server) saveLiveView(w http.ResponseWriter, r *http.Request) error {
	var in grid.Input
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.grid.Save(r.Context(), auth.UserFrom(r.Context()), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) getLiveView(w http.ResponseWriter, r *http.Request) error {
	v, err := s.grid.View(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) deleteLiveView(w http.ResponseWriter, r *http.Request) error {
	if err := s.grid.Delete(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// snapshot takes a still of the caller's own live view (footage.Service.Snapshot).
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, footage.MaxSnapshotBytes+1))
	var mbe *http.MaxBytesError
	if err != nil && !errors.As(err, &mbe) { // a body too large is refused, and traced, below
		return err
	}
	snap, err := s.footage.Snapshot(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"), r.PathValue("session"), body)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(snap.JPEG)))
	h.Set("Cache-Control", "no-store")
	h.Set(SnapshotSHA256Header, snap.SHA256)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(snap.JPEG); err != nil {
		s.log.Debug("write snapshot", "err", err)
	}
	return nil
}
