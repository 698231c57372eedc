package httpapi

import (
	"net/http"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/footage"
)

type viewingInput struct {
	CameraIDs     []string  `json:"camera_ids"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Purpose       string    `json:"purpose"`
	ApplicationID string    `json:"application_id"`
	CaseRef       string    `json:"case_ref"`
}

// viewingResult is a viewing as the API answers it, with its seeks when read back.
type viewingResult struct {
	*footage.Viewing
	Seeks []footage.ViewingSeek `json:"seek_ranges,omitempty"`
}

func (s *Server) viewingRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/viewings", footageRoute, s.openViewing},
		{"GET", "/api/v1/viewings/{id}", staff, s.getViewing},
	}
}

// openViewing opens a viewing of up to four cameras over an extent (see package footage):
// POST {"camera_ids","start","end","purpose"} → 201 the viewing. Its playback requests then
// carry viewing=ID and are not traced one by one: the opening is.
func (s *Server) openViewing(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in viewingInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.footage.Malformed(ctx, access.Playback, footage.Request{}, err)
		return err
	}
	v, err := s.footage.OpenViewing(ctx, auth.UserFrom(ctx), footage.ViewingRequest{CameraIDs: in.CameraIDs, Start: in.Start, End: in.End,
		Purpose: in.Purpose, ApplicationID: in.ApplicationID, CaseRef: in.CaseRef})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewingResult{Viewing: v})
	return nil
}

// getViewing reads a viewing back with the ranges its players asked for: the caller's own, or
// any for an auditor.
func (s *Server) getViewing(w http.ResponseWriter, r *http.Request) error {
	v, seeks, err := s.footage.Viewing(r.Context(), auth.UserFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewingResult{Viewing: v, Seeks: seeks})
	return nil
}
