package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"civicam/internal/registry"
)

// placeRoutes are the city's register of places and the key places' coverage (REG-1).
func (s *Server) placeRoutes() []Route {
	return []Route{
		{"POST", "/api/v1/places/import", admins, s.importPlaces},
		{"GET", "/api/v1/places", staff, s.listPlaces},
		{"GET", "/api/v1/places/coverage", staff, s.placeCoverage},
	}
}

// importPlaces adds places from a CSV or GeoJSON file, told apart by the content type.
func (s *Server) importPlaces(w http.ResponseWriter, r *http.Request) error {
	var format string
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/csv"):
		format = "csv"
	case strings.HasPrefix(ct, "application/geo+json"), strings.HasPrefix(ct, "application/json"):
		format = "geojson"
	default:
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send text/csv or application/geo+json"}
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTime))
	ps, err := s.reg.ImportPlaces(r.Context(), format, http.MaxBytesReader(w, r.Body, maxImport))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the file is larger than 64 MiB; split it"}
		}
		return err
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	writeJSON(w, http.StatusCreated, map[string]any{"imported": len(ps), "ids": ids})
	return nil
}

func (s *Server) listPlaces(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.reg.Places(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*registry.Place{}
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

// placeCoverage is the key places' coverage report; the look is traced.
func (s *Server) placeCoverage(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.reg.KeyPlaceCoverage(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
