// Package spatial answers "which cameras are near this point / inside this box" from memory.
//
// The index holds only camera ids and positions; the store stays the source of truth and its
// user (the registry) keeps the index in step: it loads every camera at start with Set and calls
// Set or Delete whenever a camera is created, moved or removed. Positions are stored in an R-tree
// (github.com/tidwall/rtree) keyed by degrees; a radius query searches the degree box that
// encloses the circle and then keeps only the points whose great-circle distance is within the
// radius, so results are exact on the sphere, also near the poles and across the ±180° meridian.
//
// Every method that takes an id or coordinates validates them and returns an *InputError naming
// the offending argument, so an HTTP handler can map the error to a 400 with its field.
package spatial

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/tidwall/rtree"
)

// EarthRadiusM is the mean Earth radius (IUGG) used for all distances.
const EarthRadiusM = 6371008.8

// boxSlackDeg widens every search box slightly so that rounding in the box arithmetic can never
// drop a point that lies exactly on the circle; the distance filter removes the extra.
const boxSlackDeg = 1e-9

// InputError reports an argument that is out of range or not a finite number.
type InputError struct {
	Field  string // the argument, spelt as in the API: id, lat, lon, radius_m, min_lat, min_lon, max_lat, max_lon
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("spatial: invalid %s: %s", e.Field, e.Reason)
}

// Hit is one result of Near.
type Hit struct {
	ID        string
	DistanceM float64 // great-circle distance from the query point, metres
}

type point struct{ lat, lon float64 }

// rect is the point's key in the tree. Longitude -180 is stored as 180 (the same meridian) so
// that every search only has to look on one side.
func (p point) rect() [2]float64 {
	if p.lon == -180 {
		return [2]float64{180, p.lat}
	}
	return [2]float64{p.lon, p.lat}
}

// Index is an in-memory spatial index of camera positions. It is safe for concurrent use;
// queries take a read lock and do not block each other.
type Index struct {
	mu   sync.RWMutex
	tree rtree.RTreeG[string] // x = lon, y = lat, degrees; one zero-size rect per id
	pos  map[string]point     // where each id currently is, so a move can delete the old rect
}

// New returns an empty index.
func New() *Index {
	return &Index{pos: make(map[string]point)}
}

// Len returns the number of positions held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.pos)
}

// Set inserts id at (lat, lon), or moves it there if it is already present.
func (x *Index) Set(id string, lat, lon float64) error {
	if id == "" {
		return &InputError{Field: "id", Reason: "empty"}
	}
	if err := checkLatLon("lat", "lon", lat, lon); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.pos[id]; ok {
		if old == (point{lat, lon}) {
			return nil
		}
		r := old.rect()
		x.tree.Delete(r, r, id)
	}
	r := point{lat, lon}.rect()
	x.tree.Insert(r, r, id)
	x.pos[id] = point{lat, lon}
	return nil
}

// Delete removes id and reports whether it was present.
func (x *Index) Delete(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, ok := x.pos[id]
	if !ok {
		return false
	}
	r := old.rect()
	x.tree.Delete(r, r, id)
	delete(x.pos, id)
	return true
}

// Get returns the position held for id.
func (x *Index) Get(id string) (lat, lon float64, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p, ok := x.pos[id]
	return p.lat, p.lon, ok
}

// Near returns the ids within radiusM metres (great-circle) of (lat, lon), nearest first, ties
// broken by id. limit > 0 keeps only the limit nearest; limit <= 0 returns them all.
func (x *Index) Near(lat, lon, radiusM float64, limit int) ([]Hit, error) {
	if err := checkLatLon("lat", "lon", lat, lon); err != nil {
		return nil, err
	}
	if math.IsNaN(radiusM) || math.IsInf(radiusM, 0) || radiusM <= 0 {
		return nil, &InputError{Field: "radius_m", Reason: "must be a positive finite number of metres"}
	}
	q := newCircle(lat, lon, radiusM)
	s := scratchPool.Get().(*scratch)
	defer s.release()

	// DistanceM holds the haversine value until sortHits converts it: the filter needs no asin.
	hits := s.hits[:0]
	visit := func(min, _ [2]float64, id string) bool {
		if h, ok := q.hav(min[1], min[0]); ok {
			hits = append(hits, Hit{ID: id, DistanceM: h})
		}
		return true
	}
	boxes, nb := q.boxes()
	x.mu.RLock()
	for _, b := range boxes[:nb] {
		x.tree.Search(b.min, b.max, visit)
	}
	x.mu.RUnlock()
	s.hits = hits

	var out []Hit
	if limit <= 0 || limit >= len(hits) {
		out = make([]Hit, len(hits))
		s.sortHits(q.maxHav, out)
	} else {
		s.sorted = slices.Grow(s.sorted[:0], len(hits))[:len(hits)]
		s.sortHits(q.maxHav, s.sorted)
		out = make([]Hit, limit)
		copy(out, s.sorted)
		clear(s.sorted)
	}
	clear(s.hits) // drop the id references held by the pooled buffer
	return out, nil
}

// scratch holds the buffers of one Near call, reused through scratchPool: a query over a
// million cameras must not leave garbage for a collector that then scans the whole index.
type scratch struct {
	hits, sorted []Hit
	starts       []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release returns s to the pool unless a huge query grew it: those buffers go to the collector
// rather than staying pinned.
func (s *scratch) release() {
	if cap(s.hits) <= 1<<16 && cap(s.sorted) <= 1<<16 {
		scratchPool.Put(s)
	}
}

// sortHits writes s.hits (DistanceM holding haversine values ≤ maxHav) into dst (of the same
// length) nearest first, ties by id, with DistanceM in metres. Sorting dominated the cost of a
// query, so it is a bucket sort: a point's share of the radius squared is spread evenly over
// [0, 1] when points are spread evenly over the disc, so n buckets hold about one hit each, and
// an insertion pass finishes the order in linear time. Should the data defeat that (many
// cameras at one spot), the insertion pass gives up after a linear budget and a comparison
// sort takes over.
func (s *scratch) sortHits(maxHav float64, dst []Hit) {
	n := len(s.hits)
	if n == 0 {
		return
	}
	for i := range s.hits {
		s.hits[i].DistanceM = havToMetres(s.hits[i].DistanceM)
	}
	maxM := havToMetres(maxHav)
	scale := float64(n) / (maxM * maxM)
	bucket := func(d float64) int {
		f := d * d * scale
		switch {
		case !(f > 0): // also NaN, from a radius so small that maxHav underflows
			return 0
		case f >= float64(n-1):
			return n - 1
		}
		return int(f)
	}
	s.starts = slices.Grow(s.starts[:0], n+1)[:n+1]
	clear(s.starts)
	for _, h := range s.hits {
		s.starts[bucket(h.DistanceM)+1]++
	}
	for i := 1; i <= n; i++ {
		s.starts[i] += s.starts[i-1]
	}
	for _, h := range s.hits {
		b := bucket(h.DistanceM)
		dst[s.starts[b]] = h
		s.starts[b]++
	}
	budget := 4*n + 64
	for i := 1; i < n; i++ {
		for j := i; j > 0 && hitCmp(dst[j], dst[j-1]) < 0; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
			if budget--; budget == 0 {
				slices.SortFunc(dst, hitCmp)
				return
			}
		}
	}
}

func hitCmp(a, b Hit) int {
	if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// InBox returns the ids whose position lies inside the box, edges included, in ascending id
// order so that a limited answer is stable. A box with minLon > maxLon crosses the ±180°
// meridian (as GeoJSON bounding boxes do). limit > 0 keeps only the first limit ids.
func (x *Index) InBox(minLat, minLon, maxLat, maxLon float64, limit int) ([]string, error) {
	if err := checkLatLon("min_lat", "min_lon", minLat, minLon); err != nil {
		return nil, err
	}
	if err := checkLatLon("max_lat", "max_lon", maxLat, maxLon); err != nil {
		return nil, err
	}
	if minLat > maxLat {
		return nil, &InputError{Field: "min_lat", Reason: "greater than max_lat"}
	}
	var boxes []box
	if minLon <= maxLon {
		boxes = []box{{[2]float64{minLon, minLat}, [2]float64{maxLon, maxLat}}}
	} else {
		boxes = []box{
			{[2]float64{minLon, minLat}, [2]float64{180, maxLat}},
			{[2]float64{-180, minLat}, [2]float64{maxLon, maxLat}},
		}
	}
	if minLon == -180 && maxLon != 180 {
		// Points on the antimeridian are stored at +180 (see point.rect).
		boxes = append(boxes, box{[2]float64{180, minLat}, [2]float64{180, maxLat}})
	}

	var ids []string
	top := smallest{k: limit}
	visit := func(_, _ [2]float64, id string) bool {
		if limit <= 0 {
			ids = append(ids, id)
		} else {
			top.add(id)
		}
		return true
	}
	x.mu.RLock()
	for _, b := range boxes {
		x.tree.Search(b.min, b.max, visit)
	}
	x.mu.RUnlock()

	if limit > 0 {
		ids = top.heap
	}
	slices.Sort(ids)
	return ids, nil
}

// Distance returns the great-circle (haversine) distance in metres between two points given in
// degrees. It does not validate its arguments.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	c := newCircle(lat1, lon1, 1)
	h, _ := c.hav(lat2, lon2)
	return havToMetres(h)
}

const deg = math.Pi / 180

func havToMetres(h float64) float64 {
	return 2 * EarthRadiusM * asin(math.Sqrt(h))
}

// The distance filter runs once per candidate, and over short distances every angle in the
// haversine formula is small, where a few terms of the Taylor series are as exact as the math
// package (the first omitted term is below a tenth of an ulp) and several times faster. Larger
// angles go to the math package. TestSeries holds the two to within a few ulps.

const smallAngle = 0.1 // radians, ≈ 640 km of arc

// sinPoly is sin(x) for |x| ≤ smallAngle.
func sinPoly(x float64) float64 {
	x2 := x * x
	return x + x*x2*(-1.0/6+x2*(1.0/120+x2*(-1.0/5040+x2*(1.0/362880))))
}

// cosPoly is cos(x) for |x| ≤ smallAngle.
func cosPoly(x float64) float64 {
	x2 := x * x
	return 1 + x2*(-1.0/2+x2*(1.0/24+x2*(-1.0/720+x2*(1.0/40320+x2*(-1.0/3628800)))))
}

// sin is math.Sin, faster for small angles.
func sin(x float64) float64 {
	if x > smallAngle || x < -smallAngle {
		return math.Sin(x)
	}
	return sinPoly(x)
}

// cos is math.Cos, faster for small angles.
func cos(x float64) float64 {
	if x > smallAngle || x < -smallAngle {
		return math.Cos(x)
	}
	return cosPoly(x)
}

// asin is math.Asin, faster for 0 ≤ y ≤ smallAngle/2.
func asin(y float64) float64 {
	if y > smallAngle/2 || y < 0 {
		return math.Asin(y)
	}
	y2 := y * y
	return y + y*y2*(1.0/6+y2*(3.0/40+y2*(5.0/112+y2*(35.0/1152+y2*(63.0/2816)))))
}

type box struct{ min, max [2]float64 }

// circle is a precomputed radius query.
type circle struct {
	lat, lon       float64 // degrees
	latR, lonR     float64 // radians
	sinLat, cosLat float64
	maxHav         float64 // haversine of the radius' central angle: compare without asin
	angle          float64 // central angle of the radius, radians
}

func newCircle(lat, lon, radiusM float64) circle {
	angle := radiusM / EarthRadiusM
	c := circle{lat: lat, lon: lon, latR: lat * deg, lonR: lon * deg, angle: angle}
	c.sinLat, c.cosLat = math.Sincos(c.latR)
	if angle >= math.Pi {
		c.maxHav = 1 // the whole sphere
	} else {
		s := math.Sin(angle / 2)
		c.maxHav = s * s
	}
	return c
}

// hav returns the haversine of the distance to (lat, lon) in degrees and whether it lies
// within the circle.
func (c *circle) hav(lat, lon float64) (float64, bool) {
	dLat := lat*deg - c.latR
	dLon := lon*deg - c.lonR
	if dLon > math.Pi { // across the antimeridian: the same angle, but small
		dLon -= 2 * math.Pi
	} else if dLon < -math.Pi {
		dLon += 2 * math.Pi
	}
	// cos(lat) from the angle sum, so that only the small differences meet trigonometry; it is
	// never negative, but rounding at a pole could make it so.
	var sLat, sLon, cosLat2 float64
	if dLat <= smallAngle && dLat >= -smallAngle && dLon <= smallAngle && dLon >= -smallAngle {
		sLat, sLon = sinPoly(dLat/2), sinPoly(dLon/2)
		cLat := cosPoly(dLat / 2)
		cosLat2 = c.cosLat*(1-2*sLat*sLat) - c.sinLat*(2*sLat*cLat)
	} else {
		sLat, sLon = math.Sin(dLat/2), math.Sin(dLon/2)
		cosLat2 = math.Cos(lat * deg)
	}
	cosLat2 = max(cosLat2, 0)
	h := min(sLat*sLat+c.cosLat*cosLat2*sLon*sLon, 1)
	return h, h <= c.maxHav
}

// boxes returns the one or two degree boxes that together enclose the circle.
func (c *circle) boxes() (b [2]box, n int) {
	dLat := c.angle / deg
	minLat, maxLat := c.lat-dLat-boxSlackDeg, c.lat+dLat+boxSlackDeg
	// A cap that reaches a pole spans every longitude; otherwise its widest longitude offset
	// from the centre is asin(sin δ / cos φ) (tangent meridians), which is valid exactly when
	// the cap does not contain a pole.
	if maxLat >= 90 || minLat <= -90 {
		return [2]box{{[2]float64{-180, max(minLat, -90)}, [2]float64{180, min(maxLat, 90)}}}, 1
	}
	s := math.Sin(c.angle) / math.Cos(c.lat*deg)
	if s >= 1 {
		return [2]box{{[2]float64{-180, minLat}, [2]float64{180, maxLat}}}, 1
	}
	dLon := math.Asin(s)/deg + boxSlackDeg
	west, east := c.lon-dLon, c.lon+dLon
	switch {
	case west <= -180:
		return [2]box{
			{[2]float64{-180, minLat}, [2]float64{east, maxLat}},
			{[2]float64{west + 360, minLat}, [2]float64{180, maxLat}},
		}, 2
	case east >= 180:
		return [2]box{
			{[2]float64{west, minLat}, [2]float64{180, maxLat}},
			{[2]float64{-180, minLat}, [2]float64{east - 360, maxLat}},
		}, 2
	}
	return [2]box{{[2]float64{west, minLat}, [2]float64{east, maxLat}}}, 1
}

func checkLatLon(latField, lonField string, lat, lon float64) error {
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return &InputError{Field: latField, Reason: "must be a number from -90 to 90"}
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return &InputError{Field: lonField, Reason: "must be a number from -180 to 180"}
	}
	return nil
}

// IsInputError reports whether err is (or wraps) an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// smallest keeps the k smallest strings added, in a max-heap so the largest kept is at the top.
type smallest struct {
	k    int
	heap []string
}

func (t *smallest) add(id string) {
	h := t.heap
	if len(h) < t.k {
		h = append(h, id)
		for i := len(h) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if h[p] >= h[i] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.heap = h
		return
	}
	if id >= h[0] {
		return
	}
	h[0] = id
	for i := 0; ; { // sift down
		l, r, big := 2*i+1, 2*i+2, i
		if l < len(h) && h[l] > h[big] {
			big = l
		}
		if r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == i {
			break
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
