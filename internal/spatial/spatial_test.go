package spatial

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// boundaryTolM: brute force and index agree except possibly for points this close to the circle,
// where the two ways of computing the same distance may round differently.
const boundaryTolM = 1e-6

type pt struct {
	id       string
	lat, lon float64
}

// bruteNear is the reference: a scan of every point with the exported Distance.
func bruteNear(pts map[string]pt, lat, lon, r float64) (in, edge map[string]bool) {
	in, edge = map[string]bool{}, map[string]bool{}
	for id, p := range pts {
		d := Distance(lat, lon, p.lat, p.lon)
		if math.Abs(d-r) < boundaryTolM {
			edge[id] = true
		} else if d <= r {
			in[id] = true
		}
	}
	return in, edge
}

func bruteBox(pts map[string]pt, minLat, minLon, maxLat, maxLon float64) []string {
	var ids []string
	for id, p := range pts {
		if p.lat < minLat || p.lat > maxLat {
			continue
		}
		lon := p.lon
		var ok bool
		if minLon <= maxLon {
			ok = lon >= minLon && lon <= maxLon ||
				lon == -180 && maxLon == 180 || lon == 180 && minLon == -180
		} else {
			ok = lon >= minLon || lon <= maxLon
		}
		if ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// region generates points around a centre, spread over roughly spreadDeg degrees.
type region struct {
	name                string
	lat, lon, spreadDeg float64
}

func (g region) point(r *rand.Rand) (lat, lon float64) {
	lat = g.lat + (r.Float64()*2-1)*g.spreadDeg
	lon = g.lon + (r.Float64()*2-1)*g.spreadDeg*4 // wider in longitude: high latitudes squeeze it
	lat = max(-90, min(90, lat))
	for lon > 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return lat, lon
}

func TestNearMatchesBruteForce(t *testing.T) {
	regions := []region{
		{"zhuzhou", 27.83, 113.15, 0.05},
		{"equator", 0, 0, 0.05},
		{"antimeridian east side", 10, 179.99, 0.03},
		{"antimeridian west side", -45, -179.995, 0.03},
		{"antimeridian high latitude", 65, 180, 0.2},
		{"arctic", 84, 30, 1},
		{"near north pole", 89.99, -120, 0.02},
		{"near south pole", -89.995, 45, 0.01},
		{"whole world", 0, 0, 90},
	}
	radii := []float64{1, 50, 500, 5000, 200_000, 5_000_000, 25_000_000}

	for _, g := range regions {
		t.Run(g.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(g.name))))
			idx := New()
			pts := map[string]pt{}
			for i := range 1000 {
				lat, lon := g.point(r)
				id := fmt.Sprintf("c%04d", i)
				if err := idx.Set(id, lat, lon); err != nil {
					t.Fatalf("Set(%s, %v, %v) = %v", id, lat, lon, err)
				}
				pts[id] = pt{id, lat, lon}
			}
			for q := range 20 {
				lat, lon := g.point(r)
				if q == 0 { // a query exactly on a point
					p := pts["c0000"]
					lat, lon = p.lat, p.lon
				}
				for _, rad := range radii {
					checkNear(t, idx, pts, lat, lon, rad)
				}
			}
		})
	}
}

func checkNear(t *testing.T, idx *Index, pts map[string]pt, lat, lon, rad float64) {
	t.Helper()
	hits, err := idx.Near(lat, lon, rad, 0)
	if err != nil {
		t.Fatalf("Near(%v, %v, %v) error: %v", lat, lon, rad, err)
	}
	in, edge := bruteNear(pts, lat, lon, rad)
	got := map[string]bool{}
	for i, h := range hits {
		if got[h.ID] {
			t.Fatalf("Near(%v, %v, %v) returned %s twice", lat, lon, rad, h.ID)
		}
		got[h.ID] = true
		if i > 0 && hitCmp(h, hits[i-1]) < 0 {
			t.Fatalf("Near(%v, %v, %v) not sorted at %d: %v after %v", lat, lon, rad, i, h, hits[i-1])
		}
		p := pts[h.ID]
		if want := Distance(lat, lon, p.lat, p.lon); math.Abs(h.DistanceM-want) > 1e-6*max(1, want) {
			t.Fatalf("Near(%v, %v, %v): %s distance %v; want %v", lat, lon, rad, h.ID, h.DistanceM, want)
		}
		if !in[h.ID] && !edge[h.ID] {
			t.Fatalf("Near(%v, %v, %v) returned %s at %v m; want only points within the radius",
				lat, lon, rad, h.ID, h.DistanceM)
		}
	}
	for id := range in {
		if !got[id] {
			p := pts[id]
			t.Fatalf("Near(%v, %v, %v) missed %s at (%v, %v), %v m away",
				lat, lon, rad, id, p.lat, p.lon, Distance(lat, lon, p.lat, p.lon))
		}
	}
}

func TestNearLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	idx := New()
	g := region{"zhuzhou", 27.83, 113.15, 0.02}
	for i := range 3000 {
		lat, lon := g.point(r)
		if err := idx.Set(fmt.Sprintf("c%d", i), lat, lon); err != nil {
			t.Fatal(err)
		}
	}
	// Ties: several ids at the same place must come back in id order.
	for _, id := range []string{"tie-c", "tie-a", "tie-b"} {
		if err := idx.Set(id, 27.83, 113.15); err != nil {
			t.Fatal(err)
		}
	}
	all, err := idx.Near(27.83, 113.15, 3000, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 100 {
		t.Fatalf("Near returned %d hits; the test needs at least 100", len(all))
	}
	if got := []string{all[0].ID, all[1].ID, all[2].ID}; !slices.Equal(got, []string{"tie-a", "tie-b", "tie-c"}) {
		t.Errorf("first hits = %v; want tie-a, tie-b, tie-c", got)
	}
	for _, limit := range []int{1, 2, 3, 10, 99, len(all), len(all) + 5} {
		got, err := idx.Near(27.83, 113.15, 3000, limit)
		if err != nil {
			t.Fatal(err)
		}
		want := all[:min(limit, len(all))]
		if !slices.Equal(got, want) {
			t.Errorf("Near(limit=%d) = %d hits differing from the first %d of the unlimited answer", limit, len(got), len(want))
		}
	}
}

// Many cameras at one spot defeat the bucket sort (they share a bucket); the order must still
// be by distance, then id.
func TestNearManyAtOneSpot(t *testing.T) {
	idx := New()
	r := rand.New(rand.NewPCG(4, 4))
	var want []string
	for range 3000 {
		id := fmt.Sprintf("same-%05d", r.IntN(1_000_000))
		if err := idx.Set(id, 27.83, 113.15); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if err := idx.Set("near", 27.8301, 113.15); err != nil {
		t.Fatal(err)
	}
	want = append(want, "near")
	hits, err := idx.Near(27.83, 113.15, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, h.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Near = %d hits (first %v); want %d in id order, then near", len(got), got[:3], len(want))
	}
}

// Radii at the ends of the float range must neither panic nor lose the point at the centre.
func TestExtremeRadii(t *testing.T) {
	idx := New()
	for _, p := range []pt{{"here", 27.83, 113.15}, {"there", -27.83, -66.85}} {
		if err := idx.Set(p.id, p.lat, p.lon); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		radius float64
		want   []string
	}{
		{math.SmallestNonzeroFloat64, []string{"here"}},
		{1e-300, []string{"here"}},
		{1e-3, []string{"here"}},
		{EarthRadiusM * math.Pi, []string{"here", "there"}}, // "there" is the antipode
		{math.MaxFloat64, []string{"here", "there"}},
	}
	for _, tt := range tests {
		hits, err := idx.Near(27.83, 113.15, tt.radius, 0)
		if err != nil {
			t.Fatalf("Near(radius %g) error: %v", tt.radius, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Near(radius %g) = %v; want %v", tt.radius, got, tt.want)
		}
	}
}

func TestInBoxMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	idx := New()
	pts := map[string]pt{}
	add := func(id string, lat, lon float64) {
		if err := idx.Set(id, lat, lon); err != nil {
			t.Fatal(err)
		}
		pts[id] = pt{id, lat, lon}
	}
	for i := range 5000 {
		add(fmt.Sprintf("c%04d", i), r.Float64()*180-90, r.Float64()*360-180)
	}
	add("on-east-antimeridian", 1, 180)
	add("on-west-antimeridian", 2, -180)
	add("north-pole", 90, 0)
	add("box-corner", 10, 20)

	tests := []struct {
		name                           string
		minLat, minLon, maxLat, maxLon float64
	}{
		{"small", 5, 10, 10, 20},
		{"whole world", -90, -180, 90, 180},
		{"crossing antimeridian", -10, 170, 10, -170},
		{"touching +180", -10, 170, 10, 180},
		{"touching -180", -10, -180, 10, -170},
		{"polar cap", 80, -180, 90, 180},
		{"a line", 10, 20, 10, 20},
		{"southern band", -60, -30, -50, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := bruteBox(pts, tt.minLat, tt.minLon, tt.maxLat, tt.maxLon)
			got, err := idx.InBox(tt.minLat, tt.minLon, tt.maxLat, tt.maxLon, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("InBox(%v, %v, %v, %v) = %d ids; want %d (%s)", tt.minLat, tt.minLon, tt.maxLat, tt.maxLon,
					len(got), len(want), diff(got, want))
			}
			for _, limit := range []int{1, 7, len(want) + 1} {
				got, err := idx.InBox(tt.minLat, tt.minLon, tt.maxLat, tt.maxLon, limit)
				if err != nil {
					t.Fatal(err)
				}
				if w := want[:min(limit, len(want))]; !slices.Equal(got, w) {
					t.Errorf("InBox(limit=%d) = %v; want %v", limit, got, w)
				}
			}
		})
	}
}

func diff(got, want []string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var extra, missing []string
	for s := range g {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	for s := range w {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	sort.Strings(extra)
	sort.Strings(missing)
	return fmt.Sprintf("extra %v, missing %v", extra, missing)
}

func TestMovesAndDeletes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	idx := New()
	pts := map[string]pt{}
	g := region{"zhuzhou", 27.83, 113.15, 0.05}
	for step := range 20000 {
		id := fmt.Sprintf("c%d", r.IntN(500))
		switch r.IntN(3) {
		case 0, 1: // insert or move
			lat, lon := g.point(r)
			if err := idx.Set(id, lat, lon); err != nil {
				t.Fatal(err)
			}
			pts[id] = pt{id, lat, lon}
		case 2:
			_, had := pts[id]
			if got := idx.Delete(id); got != had {
				t.Fatalf("step %d: Delete(%s) = %v; want %v", step, id, got, had)
			}
			delete(pts, id)
		}
		if step%1000 == 0 {
			if idx.Len() != len(pts) {
				t.Fatalf("step %d: Len() = %d; want %d", step, idx.Len(), len(pts))
			}
			lat, lon := g.point(r)
			checkNear(t, idx, pts, lat, lon, 3000)
		}
	}
	for id, p := range pts {
		lat, lon, ok := idx.Get(id)
		if !ok || lat != p.lat || lon != p.lon {
			t.Fatalf("Get(%s) = %v, %v, %v; want %v, %v, true", id, lat, lon, ok, p.lat, p.lon)
		}
	}
	// The tree must hold exactly one entry per id: stale entries from moves would show up here.
	all, err := idx.InBox(-90, -180, 90, 180, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(pts) || idx.tree.Len() != len(pts) {
		t.Fatalf("after moves: InBox(world) = %d ids, tree holds %d; want %d", len(all), idx.tree.Len(), len(pts))
	}
	if _, _, ok := idx.Get("never-set"); ok {
		t.Errorf("Get(never-set) ok = true; want false")
	}
	if idx.Delete("never-set") {
		t.Errorf("Delete(never-set) = true; want false")
	}
}

func TestMoveAcrossAntimeridian(t *testing.T) {
	idx := New()
	steps := []struct{ lat, lon float64 }{{0, -180}, {0, 180}, {0, 179.5}, {0, -180}, {1, -180}}
	for _, s := range steps {
		if err := idx.Set("a", s.lat, s.lon); err != nil {
			t.Fatal(err)
		}
		hits, err := idx.Near(s.lat, s.lon, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].ID != "a" {
			t.Fatalf("after Set(a, %v, %v): Near = %v; want [a]", s.lat, s.lon, hits)
		}
		if idx.tree.Len() != 1 {
			t.Fatalf("after Set(a, %v, %v): tree holds %d entries; want 1", s.lat, s.lon, idx.tree.Len())
		}
	}
	if !idx.Delete("a") || idx.tree.Len() != 0 {
		t.Fatalf("Delete(a) left %d entries in the tree; want 0", idx.tree.Len())
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tol              float64
	}{
		{"same point", 27.83, 113.15, 27.83, 113.15, 0, 0},
		{"one degree of latitude", 0, 0, 1, 0, EarthRadiusM * math.Pi / 180, 1e-6},
		{"quarter meridian", 0, 0, 90, 0, EarthRadiusM * math.Pi / 2, 1e-6},
		{"antipodes", 0, 0, 0, 180, EarthRadiusM * math.Pi, 1e-6},
		{"across the antimeridian", 0, 179.5, 0, -179.5, EarthRadiusM * math.Pi / 180, 1e-6},
		// Zhuzhou to Changsha railway station; the flat-earth estimate at this scale,
		// hypot(0.3665° of latitude, 0.1422° of longitude × cos 28°), is 43.08 km.
		{"zhuzhou to changsha", 27.8295, 113.1542, 28.1960, 113.0120, 43_080, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Distance(%v, %v, %v, %v) = %v; want %v ± %v", tt.lat1, tt.lon1, tt.lat2, tt.lon2, got, tt.want, tt.tol)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	idx := New()
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"set empty id", func() error { return idx.Set("", 0, 0) }, "id"},
		{"set lat 91", func() error { return idx.Set("a", 91, 0) }, "lat"},
		{"set lat NaN", func() error { return idx.Set("a", nan, 0) }, "lat"},
		{"set lon -181", func() error { return idx.Set("a", 0, -181) }, "lon"},
		{"set lon +Inf", func() error { return idx.Set("a", 0, inf) }, "lon"},
		{"near lat -Inf", func() error { _, err := idx.Near(-inf, 0, 1, 0); return err }, "lat"},
		{"near lon NaN", func() error { _, err := idx.Near(0, nan, 1, 0); return err }, "lon"},
		{"near radius 0", func() error { _, err := idx.Near(0, 0, 0, 0); return err }, "radius_m"},
		{"near radius negative", func() error { _, err := idx.Near(0, 0, -5, 0); return err }, "radius_m"},
		{"near radius NaN", func() error { _, err := idx.Near(0, 0, nan, 0); return err }, "radius_m"},
		{"near radius Inf", func() error { _, err := idx.Near(0, 0, inf, 0); return err }, "radius_m"},
		{"box min_lat", func() error { _, err := idx.InBox(-91, 0, 0, 0, 0); return err }, "min_lat"},
		{"box max_lon", func() error { _, err := idx.InBox(0, 0, 1, 200, 0); return err }, "max_lon"},
		{"box inverted lat", func() error { _, err := idx.InBox(10, 0, 5, 1, 0); return err }, "min_lat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v; want an *InputError", err)
			}
			if ie.Field != tt.field {
				t.Errorf("error field = %q; want %q", ie.Field, tt.field)
			}
			if !IsInputError(fmt.Errorf("wrapped: %w", err)) {
				t.Errorf("IsInputError(wrapped %v) = false; want true", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name the field %q", err, tt.field)
			}
		})
	}
	if idx.Len() != 0 {
		t.Errorf("Len() after rejected Sets = %d; want 0", idx.Len())
	}
}

// TestConcurrentUse runs writers and readers together; it is meant for -race.
func TestConcurrentUse(t *testing.T) {
	idx := New()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 2000 {
				id := fmt.Sprintf("w%d-%d", w, r.IntN(200))
				if i%5 == 4 {
					idx.Delete(id)
					continue
				}
				if err := idx.Set(id, 27.8+r.Float64()*0.1, 113.1+r.Float64()*0.1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 500 {
				hits, err := idx.Near(27.85, 113.15, 2000, 20)
				if err != nil {
					t.Error(err)
					return
				}
				if len(hits) > 20 {
					t.Errorf("Near(limit 20) returned %d hits", len(hits))
					return
				}
				if _, err := idx.InBox(27.8, 113.1, 27.9, 113.2, 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := idx.InBox(-90, -180, 90, 180, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != idx.Len() {
		t.Errorf("InBox(world) = %d ids; Len() = %d", len(all), idx.Len())
	}
}

// TestSeries checks the small-angle series against the math package to within a few ulps.
func TestSeries(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ulps := func(got, want float64) float64 {
		if got == want {
			return 0
		}
		return math.Abs(got-want) / math.Abs(math.Nextafter(want, math.Inf(1))-want)
	}
	tests := []struct {
		name  string
		f, fm func(float64) float64
		lo    float64
		hi    float64
	}{
		{"sin", sin, math.Sin, -0.12, 0.12},
		{"cos", cos, math.Cos, -0.12, 0.12},
		{"asin", asin, math.Asin, 0, 0.06},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 100_000 {
				x := tt.lo + r.Float64()*(tt.hi-tt.lo)
				if i%2 == 0 { // also tiny arguments
					x *= math.Pow(10, -float64(r.IntN(8)))
				}
				if got, want := tt.f(x), tt.fm(x); ulps(got, want) > 4 {
					t.Fatalf("%s(%v) = %v; want %v (%.1f ulps off)", tt.name, x, got, want, ulps(got, want))
				}
			}
		})
	}
}
