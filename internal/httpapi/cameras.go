package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
)

// maxImport bounds an import upload: 100,000 cameras are about 25 MB of CSV.
const maxImport = 64 << 20

// uploadTime is how long reading an upload (an import, a document) may take.
const uploadTime = 10 * time.Minute

func publicCameras(cams []*registry.Camera) []registry.Camera {
	out := make([]registry.Camera, len(cams))
	for i, c := range cams {
		out[i] = c.Public()
	}
	return out
}

func (s *Server) createCamera(w http.ResponseWriter, r *http.Request) error {
	var in registry.CameraInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.reg.CreateCamera(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c.Public())
	return nil
}

func (s *Server) getCamera(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	u := auth.UserFrom(r.Context())
	c, err := s.reg.Camera(r.Context(), access.ScopeOf(u), id)
	if errors.Is(err, fault.ErrNotFound) {
		c, err = s.footage.SharedCamera(r.Context(), u, id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

func (s *Server) updateCamera(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in registry.CameraInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.reg.UpdateCamera(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), id, &in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

// deleteCamera decommissions: a camera's record, recordings and trail outlive it.
func (s *Server) deleteCamera(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	c, err := s.reg.DecommissionCamera(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

// camerasList names the camera list's cursors.
const camerasList = "cameras"

// listCameras lists cameras in the caller's scope: all of them, those near a point
// (?near=LAT,LON&radius_m=R) or those in a box (?bbox=MINLAT,MINLON,MAXLAT,MAXLON).
func (s *Server) listCameras(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	scope := access.ScopeOf(auth.UserFrom(r.Context()))
	limit, err := intParam(q.Get("limit"), "limit", 1000, 1, 10000)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch {
	case q.Get("near") != "":
		ll, err := floats(q.Get("near"), "near", 2)
		if err != nil {
			return err
		}
		radius := 500.0
		if v := q.Get("radius_m"); v != "" {
			if radius, err = strconv.ParseFloat(v, 64); err != nil {
				return badRequest("radius_m", "is not a number")
			}
		}
		cams, dists, err := s.reg.Near(ctx, scope, ll[0], ll[1], radius, limit)
		if err != nil {
			return err
		}
		type near struct {
			registry.Camera
			DistanceM float64 `json:"distance_m"`
		}
		out := make([]near, len(cams))
		for i, c := range cams {
			out[i] = near{c.Public(), dists[i]}
		}
		writeJSON(w, http.StatusOK, map[string]any{"cameras": out})
	case q.Get("bbox") != "":
		b, err := floats(q.Get("bbox"), "bbox", 4)
		if err != nil {
			return err
		}
		cams, err := s.reg.InBox(ctx, scope, b[0], b[1], b[2], b[3], limit)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"cameras": publicCameras(cams)})
	default:
		f := registry.CameraFilter{
			OrganisationID: q.Get("organisation_id"),
			Status:         q.Get("status"),
			PlaceCategory:  q.Get("place_category"),
			After:          q.Get("after"), // the older cursor, a bare id, still taken
			Limit:          limit,
		}
		if c := q.Get("cursor"); c != "" {
			keys, err := decodeCursor(camerasList, c, 1)
			if err != nil {
				return err
			}
			f.After = keys[0]
		}
		if f.OrganisationID != "" && !registry.ValidID(f.OrganisationID) {
			return badRequest("organisation_id", "is not a valid id")
		}
		cams, err := s.reg.Cameras(ctx, scope, f)
		if err != nil {
			return err
		}
		body := map[string]any{"cameras": publicCameras(cams)}
		if len(cams) == limit {
			body["next"] = cams[len(cams)-1].ID
			body["next_cursor"] = encodeCursor(camerasList, cams[len(cams)-1].ID)
		}
		writeJSON(w, http.StatusOK, body)
	}
	return nil
}

// importCameras takes a CSV file (text/csv) and registers all its rows or none.
func (s *Server) importCameras(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send text/csv"}
	}
	// The server's read deadline bounds an ordinary request; a file of up to 64 MiB gets longer.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	body := http.MaxBytesReader(w, r.Body, maxImport)
	cams, err := s.reg.ImportCSV(r.Context(), access.WriteScope(auth.UserFrom(r.Context())), body, nil)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the file is larger than 64 MiB; split it"}
		}
		return err
	}
	ids := make([]string, len(cams))
	for i, c := range cams {
		ids[i] = c.ID
	}
	writeJSON(w, http.StatusCreated, map[string]any{"imported": len(cams), "ids": ids})
	return nil
}

func intParam(v, name string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func floats(v, name string, n int) ([]float64, error) {
	parts := strings.Split(v, ",")
	if len(parts) != n {
		return nil, badRequest(name, "must be %d comma-separated numbers", n)
	}
	out := make([]float64, n)
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, badRequest(name, "%q is not a number", p)
		}
		out[i] = f
	}
	return out, nil
}

// proposeLegalBasis records one of the pack's legal bases for a camera, pending approval.
func (s *Server) proposeLegalBasis(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var p registry.LegalBasisProposal
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	u := auth.UserFrom(r.Context())
	c, err := s.reg.ProposeLegalBasis(r.Context(), access.WriteScope(u), u, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

// approveLegalBasis puts a camera's pending legal basis in force.
func (s *Server) approveLegalBasis(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	c, err := s.reg.ApproveLegalBasis(r.Context(), auth.UserFrom(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

// declineLegalBasis refuses a camera's pending legal basis; the body may give a note.
func (s *Server) declineLegalBasis(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	var in struct {
		Note string `json:"note"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	c, err := s.reg.DeclineLegalBasis(r.Context(), auth.UserFrom(r.Context()), id, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}
