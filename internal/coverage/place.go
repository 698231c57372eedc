package coverage

import (
	"math"

	"civicam/internal/spatial"
)

// Area is a place on the globe: a point, or a polygon (its outer ring, as GeoJSON writes it:
// longitude then latitude, the first point repeated at the end or not). Lat and Lon are the
// point, or a point of the polygon (its vertices' mean) that candidates are searched around.
type Area struct {
	Lat, Lon float64
	Ring     [][2]float64
}

// radius is how far from (Lat, Lon) the area extends, metres.
func (a Area) radius() float64 {
	var r float64
	for _, p := range a.Ring {
		r = max(r, spatial.Distance(a.Lat, a.Lon, p[1], p[0]))
	}
	return r
}

// Reaching returns the cameras whose field of view reaches area a: contains the point, or meets
// the polygon. Only the spatial index's candidates within the longest range held are compared.
func (x *Index) Reaching(a Area) ([]string, error) {
	x.mu.RLock()
	reach := x.maxRange + a.radius()
	x.mu.RUnlock()
	if reach <= 0 {
		return nil, nil
	}
	hits, err := x.pos.Near(a.Lat, a.Lon, reach, 0)
	if err != nil {
		return nil, err
	}
	cosLat := math.Cos(a.Lat * deg)
	project := func(lat, lon float64) vec {
		dLon := lon - a.Lon
		if dLon > 180 {
			dLon -= 360
		} else if dLon < -180 {
			dLon += 360
		}
		return vec{dLon * deg * cosLat * spatial.EarthRadiusM, (lat - a.Lat) * deg * spatial.EarthRadiusM}
	}
	ring := make([]vec, 0, len(a.Ring))
	for _, p := range a.Ring {
		ring = append(ring, project(p[1], p[0]))
	}
	if n := len(ring); n > 1 && ring[0] == ring[n-1] {
		ring = ring[:n-1]
	}
	var out []string
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, h := range hits {
		v, ok := x.views[h.ID]
		if !ok {
			continue
		}
		apex := project(v.Lat, v.Lon)
		s := Sector{X: apex.x, Y: apex.y, Bearing: v.Bearing, FOV: v.FOV, Range: v.RangeM}
		if s.empty() {
			continue
		}
		sh := prepare(s)
		if len(ring) < 3 {
			if sh.contains(vec{}) {
				out = append(out, h.ID)
			}
			continue
		}
		if meets(&sh, ring) {
			out = append(out, h.ID)
		}
	}
	return out, nil
}

// meets reports whether the sector and the polygon share a point.
func meets(sh *shape, ring []vec) bool {
	for _, p := range ring {
		if sh.contains(p) {
			return true
		}
	}
	if inPolygon(sh.apex, ring) {
		return true
	}
	eps := 1e-9 * sh.s.Range
	var ps []float64
	for i := range ring {
		e := prim{p: ring[i], q: ring[(i+1)%len(ring)]}
		for j := range sh.n {
			if ps = cut(&e, &sh.prims[j], eps, ps[:0]); len(ps) > 0 {
				return true
			}
		}
	}
	return false
}

// inPolygon is the even-odd rule.
func inPolygon(v vec, ring []vec) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a.y > v.y) != (b.y > v.y) && v.x < (b.x-a.x)*(v.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}
