package coverage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"civicam/internal/spatial"
)

func TestOverlaps(t *testing.T) {
	x := NewIndex(spatial.New())
	const lat, lon = 27.83, 113.15 // Zhuzhou
	mPerDegLat := deg * spatial.EarthRadiusM
	set := func(id string, v View) {
		if err := x.Set(id, v); err != nil {
			t.Fatalf("Set(%s) = %v", id, err)
		}
	}
	set("same", View{lat, lon, 90, 60, 100})
	set("behind", View{lat, lon, 270, 60, 100})
	set("north", View{lat + 150/mPerDegLat, lon, 90, 60, 100}) // 150 m north: disjoint fans
	set("wide", View{lat, lon, 0, 360, 50})
	set("far", View{lat + 0.1, lon, 90, 60, 100})
	x.Delete("far")

	got, err := x.Overlaps(View{lat, lon, 90, 60, 100}, func(id string) bool { return id == "skipme" })
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range got {
		ids = append(ids, o.ID)
	}
	if want := []string{"same", "wide"}; !slices.Equal(ids, want) {
		t.Fatalf("Overlaps ids = %v; want %v", ids, want)
	}
	if math.Abs(got[0].Percent-100) > 1e-6 {
		t.Errorf("Overlaps same Percent = %v; want 100", got[0].Percent)
	}
	if want := 25.0; math.Abs(got[1].Percent-want) > 1e-6 { // a 50 m disc holds a quarter of the 100 m fan
		t.Errorf("Overlaps wide Percent = %v; want %v", got[1].Percent, want)
	}
}

// city fills an index with n cameras spread evenly over a square city of side km kilometres.
func city(b testing.TB, n int, km float64) (*Index, *rand.Rand) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := NewIndex(spatial.New())
	const lat0, lon0 = 27.7, 113.0
	dLat := km * 1000 / (deg * spatial.EarthRadiusM)
	dLon := dLat / math.Cos(lat0*deg)
	for i := range n {
		v := View{lat0 + rng.Float64()*dLat, lon0 + rng.Float64()*dLon, rng.Float64() * 360, []float64{60, 90, 120, 360}[rng.IntN(4)], 20 + rng.Float64()*80}
		if err := x.Set(fmt.Sprintf("c%07d", i), v); err != nil {
			b.Fatal(err)
		}
	}
	return x, rng
}

// BenchmarkDuplicateCheck is one duplicate check against a million cameras over a 30 km
// square (about 1,100 a square kilometre); it reports the median time of a check.
func BenchmarkDuplicateCheck(b *testing.B) {
	x, rng := city(b, 1_000_000, 30)
	dLat := 30000 / (deg * spatial.EarthRadiusM)
	b.ResetTimer()
	var times []time.Duration
	var found int
	for b.Loop() {
		v := View{27.7 + rng.Float64()*dLat, 113.0 + rng.Float64()*dLat, rng.Float64() * 360, 90, 100}
		start := time.Now()
		o, err := x.Overlaps(v, nil)
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		found += len(o)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(found)/float64(len(times)), "overlaps/check")
}
