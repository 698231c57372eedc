package registry

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"civicam/internal/coverage"
	"civicam/internal/trace"
)

// Place is one of the city's places (REG-1): a name, one of the pack's place categories, and a
// point or a polygon. The pack says which categories are key areas, which the coverage report
// looks at.
type Place struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	PlaceCategory string       `json:"place_category"`
	Lat           float64      `json:"lat"` // the point, or the polygon's vertices' mean
	Lon           float64      `json:"lon"`
	Polygon       [][2]float64 `json:"polygon,omitempty"` // outer ring, [lon, lat] as GeoJSON writes it
	CreatedAt     time.Time    `json:"created_at"`
}

// PlaceRepo keeps the register of places; *store.DB implements it.
type PlaceRepo interface {
	CreatePlaces(ctx context.Context, ps []*Place) error
	Places(ctx context.Context) ([]*Place, error)
}

// Liveness says whether a camera is offline now (the recorder's view); nil counts none offline.
type Liveness interface {
	Offline(cameraID string) bool
}

// UseLiveness sets how the coverage report learns which cameras are offline; call it once,
// before serving.
func (s *Service) UseLiveness(l Liveness) { s.liveness = l }

// maxPlaceVertices bounds one polygon, so that an import cannot make the report's work unbounded.
const maxPlaceVertices = 10000

// validatePlace checks a place against the shape rules and the pack's categories.
func (s *Service) validatePlace(p *Place) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || len([]rune(p.Name)) > 200 {
		return invalid("name", "is required, at most 200 characters")
	}
	if _, ok := s.pack.Category(p.PlaceCategory); !ok {
		return invalid("place_category", "%q is not one of policy pack %s's place categories", p.PlaceCategory, s.pack.Version())
	}
	if len(p.Polygon) > 0 {
		if len(p.Polygon) < 3 || len(p.Polygon) > maxPlaceVertices {
			return invalid("polygon", "needs 3 to %d points", maxPlaceVertices)
		}
		var sumLat, sumLon float64
		for _, v := range p.Polygon {
			if err := ValidateLatLon(v[1], v[0]); err != nil {
				return invalid("polygon", "a point is out of range: %v", err)
			}
			sumLat, sumLon = sumLat+v[1], sumLon+v[0]
		}
		p.Lat, p.Lon = sumLat/float64(len(p.Polygon)), sumLon/float64(len(p.Polygon))
	}
	return ValidateLatLon(p.Lat, p.Lon)
}

// ImportPlaces adds places to the register from CSV (columns name, place_category, lat, lon,
// and optionally polygon as "lon lat, lon lat, ...") or GeoJSON (a FeatureCollection of Point
// or Polygon features with properties name and place_category). All or none are stored; the
// import is traced.
func (s *Service) ImportPlaces(ctx context.Context, format string, r io.Reader) ([]*Place, error) {
	if s.placeRepo == nil {
		return nil, errors.New("places are not kept by this store")
	}
	var ps []*Place
	var err error
	switch format {
	case "csv":
		ps, err = parsePlacesCSV(r)
	case "geojson":
		ps, err = parsePlacesGeoJSON(r)
	default:
		return nil, invalid("format", "must be csv or geojson")
	}
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, invalid("body", "no places")
	}
	now := s.now().UTC()
	for i, p := range ps {
		if err := s.validatePlace(p); err != nil {
			return nil, fmt.Errorf("place %d: %w", i+1, err)
		}
		p.ID, p.CreatedAt = NewID(), now
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionPlaceImport, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("%d places imported (%s)", len(ps), format)}); err != nil {
		return nil, err
	}
	if err := s.placeRepo.CreatePlaces(ctx, ps); err != nil {
		s.recordNotStored(ctx, trace.ActionPlaceImport, nil, err)
		return nil, err
	}
	return ps, nil
}

// Places lists the register.
func (s *Service) Places(ctx context.Context) ([]*Place, error) {
	if s.placeRepo == nil {
		return []*Place{}, nil
	}
	return s.placeRepo.Places(ctx)
}

func parsePlacesCSV(r io.Reader) ([]*Place, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, invalid("body", "no CSV header: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"name", "place_category"} {
		if _, ok := col[need]; !ok {
			return nil, invalid("body", "the CSV header has no %s column", need)
		}
	}
	var ps []*Place
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return ps, nil
		}
		if err != nil {
			return nil, invalid("body", "line %d: %v", line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := &Place{Name: get("name"), PlaceCategory: get("place_category")}
		if poly := get("polygon"); poly != "" {
			for _, pair := range strings.Split(poly, ",") {
				f := strings.Fields(pair)
				if len(f) != 2 {
					return nil, invalid("polygon", "line %d: a point is not \"lon lat\"", line)
				}
				lon, err1 := strconv.ParseFloat(f[0], 64)
				lat, err2 := strconv.ParseFloat(f[1], 64)
				if err1 != nil || err2 != nil {
					return nil, invalid("polygon", "line %d: a point is not two numbers", line)
				}
				p.Polygon = append(p.Polygon, [2]float64{lon, lat})
			}
		} else {
			var err1, err2 error
			p.Lat, err1 = strconv.ParseFloat(get("lat"), 64)
			p.Lon, err2 = strconv.ParseFloat(get("lon"), 64)
			if err1 != nil || err2 != nil {
				return nil, invalid("lat", "line %d: give lat and lon, or polygon", line)
			}
		}
		ps = append(ps, p)
	}
}

func parsePlacesGeoJSON(r io.Reader) ([]*Place, error) {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties struct {
				Name          string `json:"name"`
				PlaceCategory string `json:"place_category"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, invalid("body", "not GeoJSON: %v", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, invalid("body", "not a GeoJSON FeatureCollection")
	}
	var ps []*Place
	for i, f := range fc.Features {
		p := &Place{Name: f.Properties.Name, PlaceCategory: f.Properties.PlaceCategory}
		switch f.Geometry.Type {
		case "Point":
			var c [2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil {
				return nil, invalid("geometry", "feature %d: a Point is [lon, lat]", i+1)
			}
			p.Lon, p.Lat = c[0], c[1]
		case "Polygon":
			var rings [][][2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil || len(rings) == 0 {
				return nil, invalid("geometry", "feature %d: a Polygon is a list of rings of [lon, lat]", i+1)
			}
			p.Polygon = rings[0] // holes do not make a place less reached
		default:
			return nil, invalid("geometry", "feature %d: %q is not Point or Polygon", i+1, f.Geometry.Type)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Key-place coverage states.
const (
	CoverageNone = "uncovered" // no active camera's field of view reaches it
	CoverageWeak = "weak"      // only cameras that are offline or not networked reach it
)

// KeyPlaceGap is a key place the report names.
type KeyPlaceGap struct {
	Place
	Coverage  string   `json:"coverage"`   // CoverageNone or CoverageWeak
	CameraIDs []string `json:"camera_ids"` // the offline or not-networked cameras that reach it
}

// CoverageReport is the key places' coverage (REG-1).
type CoverageReport struct {
	KeyPlaces     int           `json:"key_places"`
	Covered       int           `json:"covered"`
	Gaps          []KeyPlaceGap `json:"gaps"`
	PolicyVersion string        `json:"policy_version"`
	At            time.Time     `json:"at"`
}

// camState is what the report needs of a camera, kept in memory beside its field of view so
// that the report reads no camera rows (reading 100,000 of them cost a second on SQLite).
type camState struct {
	active, networked bool
}

// KeyPlaceCoverage reports the key places that no active camera's field of view reaches, and
// those reached only by cameras that are offline or not networked. The look is traced.
func (s *Service) KeyPlaceCoverage(ctx context.Context) (*CoverageReport, error) {
	places, err := s.Places(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.coverageOf(places)
	if err != nil {
		return nil, err
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCoverageReport, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("key places %d, covered %d, gaps %d", r.KeyPlaces, r.Covered, len(r.Gaps))}); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Service) coverageOf(places []*Place) (*CoverageReport, error) {
	r := &CoverageReport{Gaps: []KeyPlaceGap{}, PolicyVersion: s.pack.Version(), At: s.now().UTC()}
	for _, p := range places {
		if !s.pack.IsKeyArea(p.PlaceCategory) {
			continue
		}
		r.KeyPlaces++
		ids, err := s.views.Reaching(coverage.Area{Lat: p.Lat, Lon: p.Lon, Ring: p.Polygon})
		if err != nil {
			return nil, fmt.Errorf("place %s: %w", p.ID, err)
		}
		var weak []string
		good := false
		s.statesMu.RLock()
		for _, id := range ids {
			st := s.states[id]
			switch {
			case !st.active:
			case st.networked && (s.liveness == nil || !s.liveness.Offline(id)):
				good = true
			default:
				weak = append(weak, id)
			}
		}
		s.statesMu.RUnlock()
		switch {
		case good:
			r.Covered++
		case len(weak) > 0:
			slices.Sort(weak)
			r.Gaps = append(r.Gaps, KeyPlaceGap{Place: *p, Coverage: CoverageWeak, CameraIDs: weak})
		default:
			r.Gaps = append(r.Gaps, KeyPlaceGap{Place: *p, Coverage: CoverageNone, CameraIDs: []string{}})
		}
	}
	return r, nil
}
