package coverage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"civicam/internal/spatial"
)

// reportCity is n cameras and m places scattered over a city of 30 km by 30 km around Zhuzhou: a
// camera sees 30 to 120 m at 40 to 120 degrees; a third of the places are polygons of 50 to
// 300 m a side, the rest points.
func reportCity(tb testing.TB, n, m int) (*Index, []Area) {
	tb.Helper()
	r := rand.New(rand.NewPCG(17, 4))
	const lat0, lon0, span = 27.70, 113.00, 0.27
	x := NewIndex(spatial.New())
	for i := range n {
		v := View{Lat: lat0 + r.Float64()*span, Lon: lon0 + r.Float64()*span, Bearing: r.Float64() * 360, FOV: 40 + r.Float64()*80, RangeM: 30 + r.Float64()*90}
		if err := x.Set(fmt.Sprintf("cam-%d", i), v); err != nil {
			tb.Fatal(err)
		}
	}
	places := make([]Area, m)
	mPerDeg := deg * spatial.EarthRadiusM
	for i := range places {
		a := Area{Lat: lat0 + r.Float64()*span, Lon: lon0 + r.Float64()*span}
		if i%3 == 0 {
			side := (50 + r.Float64()*250) / mPerDeg
			dLon := side / math.Cos(a.Lat*deg)
			a.Ring = [][2]float64{{a.Lon - dLon/2, a.Lat - side/2}, {a.Lon + dLon/2, a.Lat - side/2}, {a.Lon + dLon/2, a.Lat + side/2},
				{a.Lon - dLon/2, a.Lat + side/2}, {a.Lon - dLon/2, a.Lat - side/2}}
		}
		places[i] = a
	}
	return x, places
}

// report is the coverage report's work: which cameras reach each place.
func report(tb testing.TB, x *Index, places []Area, reaching func(Area) ([]string, error)) (covered int) {
	for _, p := range places {
		ids, err := reaching(p)
		if err != nil {
			tb.Fatal(err)
		}
		if len(ids) > 0 {
			covered++
		}
	}
	return covered
}

// naiveReaching is Reaching without the tree: every camera compared with the place.
func (x *Index) naiveReaching(a Area) ([]string, error) {
	cosLat := math.Cos(a.Lat * deg)
	project := func(lat, lon float64) vec {
		return vec{(lon - a.Lon) * deg * cosLat * spatial.EarthRadiusM, (lat - a.Lat) * deg * spatial.EarthRadiusM}
	}
	var ring []vec
	for _, p := range a.Ring {
		ring = append(ring, project(p[1], p[0]))
	}
	if n := len(ring); n > 1 && ring[0] == ring[n-1] {
		ring = ring[:n-1]
	}
	var out []string
	x.mu.RLock()
	defer x.mu.RUnlock()
	for id, v := range x.views {
		apex := project(v.Lat, v.Lon)
		sh := prepare(Sector{X: apex.x, Y: apex.y, Bearing: v.Bearing, FOV: v.FOV, Range: v.RangeM})
		if len(ring) < 3 && sh.contains(vec{}) || len(ring) >= 3 && meets(&sh, ring) {
			out = append(out, id)
		}
	}
	return out, nil
}

// TestReportMatchesNaive: the tree's candidates miss no camera an all-pairs scan finds, on a
// small city (the benchmark's short version).
func TestReportMatchesNaive(t *testing.T) {
	x, places := reportCity(t, 5000, 500)
	covered := 0
	for i, p := range places {
		got, err := x.Reaching(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := x.naiveReaching(p)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Reaching(place %d) = %v; want %v (all pairs)", i, got, want)
		}
		if len(got) > 0 {
			covered++
		}
	}
	if covered == 0 || covered == len(places) {
		t.Errorf("covered places = %d of %d; want some and not all, or the test shows nothing", covered, len(places))
	}
}

// BenchmarkCoverageReport is the key places' report at the city's size, 100,000 cameras and
// 10,000 places, through the tree; ns/op is one whole report.
func BenchmarkCoverageReport(b *testing.B) {
	x, places := reportCity(b, 100_000, 10_000)
	b.ResetTimer()
	for b.Loop() {
		report(b, x, places, x.Reaching)
	}
}

// BenchmarkCoverageReportVsNaive runs the tree and an all-pairs scan side by side on a tenth of
// the size in each dimension (10,000 cameras, 1,000 places), for the ratio.
func BenchmarkCoverageReportVsNaive(b *testing.B) {
	x, places := reportCity(b, 10_000, 1_000)
	b.Run("rtree", func(b *testing.B) {
		for b.Loop() {
			report(b, x, places, x.Reaching)
		}
	})
	b.Run("all-pairs", func(b *testing.B) {
		for b.Loop() {
			report(b, x, places, x.naiveReaching)
		}
	})
}
