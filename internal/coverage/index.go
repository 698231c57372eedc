package coverage

import (
	"math"
	"slices"
	"sync"

	"civicam/internal/spatial"
)

// View is a camera's field of view on the globe: its position in degrees, its compass bearing
// and angle in degrees, its range in metres.
type View struct {
	Lat, Lon, Bearing, FOV, RangeM float64
}

// Overlap is how much of the asked view one other camera already sees.
type Overlap struct {
	ID      string
	AreaM2  float64 // the area both see
	Percent float64 // AreaM2 as a share of the asked view's area, 0 to 100
}

// Index holds every camera's field of view beside the spatial index of their positions, which
// it keeps: Set and Delete update both, so that the candidates the tree returns always have a
// view to compare. It is safe for concurrent use.
type Index struct {
	pos *spatial.Index

	mu       sync.RWMutex
	views    map[string]View
	maxRange float64 // the longest range held: how far from a view another can reach into it
}

// NewIndex returns an index that keeps pos in step with the views it holds.
func NewIndex(pos *spatial.Index) *Index {
	return &Index{pos: pos, views: make(map[string]View)}
}

// Set holds v as camera id's view, moving its position in the spatial index.
func (x *Index) Set(id string, v View) error {
	if err := x.pos.Set(id, v.Lat, v.Lon); err != nil {
		return err
	}
	x.mu.Lock()
	x.views[id] = v
	// The maximum only grows: a range that shrank leaves the search a little wider, never short.
	x.maxRange = max(x.maxRange, v.RangeM)
	x.mu.Unlock()
	return nil
}

// Delete removes camera id.
func (x *Index) Delete(id string) {
	x.pos.Delete(id)
	x.mu.Lock()
	delete(x.views, id)
	x.mu.Unlock()
}

// View returns the view held for camera id.
func (x *Index) View(id string) (View, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.views[id]
	return v, ok
}

// Overlaps returns the cameras whose views overlap v, except those skip says to leave out (nil:
// none), largest overlap first, ties by id. Only the spatial index's candidates within v's range
// plus the longest range held are compared.
func (x *Index) Overlaps(v View, skip func(id string) bool) ([]Overlap, error) {
	own := Sector{Bearing: v.Bearing, FOV: v.FOV, Range: v.RangeM}
	area := own.Area()
	if area == 0 {
		return nil, nil
	}
	x.mu.RLock()
	reach := v.RangeM + x.maxRange
	x.mu.RUnlock()
	hits, err := x.pos.Near(v.Lat, v.Lon, reach, 0)
	if err != nil {
		return nil, err
	}
	cosLat := math.Cos(v.Lat * deg)
	var out []Overlap
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, h := range hits {
		o, ok := x.views[h.ID]
		if !ok || h.DistanceM >= v.RangeM+o.RangeM || (skip != nil && skip(h.ID)) {
			continue
		}
		dLon := o.Lon - v.Lon
		if dLon > 180 {
			dLon -= 360
		} else if dLon < -180 {
			dLon += 360
		}
		other := Sector{
			X: dLon * deg * cosLat * spatial.EarthRadiusM, Y: (o.Lat - v.Lat) * deg * spatial.EarthRadiusM,
			Bearing: o.Bearing, FOV: o.FOV, Range: o.RangeM,
		}
		if a := Intersection(own, other); a > 0 {
			out = append(out, Overlap{ID: h.ID, AreaM2: a, Percent: min(100, 100*a/area)})
		}
	}
	slices.SortFunc(out, func(a, b Overlap) int {
		if a.AreaM2 != b.AreaM2 {
			if a.AreaM2 > b.AreaM2 {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}
