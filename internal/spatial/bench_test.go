package spatial

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// The benchmark city: Zhuzhou's extent (about 78 km × 98 km) with a million cameras, 80% spread
// evenly and 20% in a denser centre (a Gaussian of σ ≈ 4 km around the old town). Queries are
// 500 m circles, either anywhere in the city or in the centre (the worst case: most hits).
const (
	benchCameras = 1_000_000
	benchRadiusM = 500
	cityMinLat   = 27.5
	cityMaxLat   = 28.2
	cityMinLon   = 112.9
	cityMaxLon   = 113.9
	centreLat    = 27.83
	centreLon    = 113.15
	centreSigma  = 0.036 // degrees, ≈ 4 km
)

var bench struct {
	once    sync.Once
	idx     *Index
	queries map[string][]benchQuery
}

type benchQuery struct {
	lat, lon float64
	boxes    []box // the same boxes Near searches, for the raw R-tree benchmark
}

func benchSetup(b *testing.B) {
	b.Helper()
	bench.once.Do(func() {
		start := time.Now()
		r := rand.New(rand.NewPCG(2024, 3))
		idx := New()
		for i := range benchCameras {
			lat, lon := cityPoint(r, i%5 == 0)
			if err := idx.Set(fmt.Sprintf("cam-%07d", i), lat, lon); err != nil {
				panic(err)
			}
		}
		bench.idx = idx
		bench.queries = map[string][]benchQuery{}
		for _, kind := range []string{"city", "centre"} {
			qs := make([]benchQuery, 4096)
			for i := range qs {
				lat, lon := cityPoint(r, kind == "centre")
				c := newCircle(lat, lon, benchRadiusM)
				b, n := c.boxes()
				qs[i] = benchQuery{lat: lat, lon: lon, boxes: b[:n]}
			}
			bench.queries[kind] = qs
		}
		b.Logf("built the index of %d cameras in %v", idx.Len(), time.Since(start))
	})
}

func cityPoint(r *rand.Rand, centre bool) (lat, lon float64) {
	if centre {
		lat = centreLat + r.NormFloat64()*centreSigma
		lon = centreLon + r.NormFloat64()*centreSigma/math.Cos(centreLat*deg)
	} else {
		lat = cityMinLat + r.Float64()*(cityMaxLat-cityMinLat)
		lon = cityMinLon + r.Float64()*(cityMaxLon-cityMinLon)
	}
	return max(cityMinLat, min(cityMaxLat, lat)), max(cityMinLon, min(cityMaxLon, lon))
}

// BenchmarkNear1M is the figure: Index.Near, radius 500 m, over 1,000,000 cameras.
// Compare with BenchmarkRawRTree1M (same boxes, same tree, no wrapper) in the same run.
// Besides ns/op it reports the median and 99th percentile of single queries and the mean
// number of hits.
func BenchmarkNear1M(b *testing.B) {
	benchSetup(b)
	for _, kind := range []string{"city", "centre"} {
		b.Run(kind, func(b *testing.B) {
			qs := bench.queries[kind]
			hits := 0
			for i := 0; b.Loop(); i++ {
				q := qs[i%len(qs)]
				h, err := bench.idx.Near(q.lat, q.lon, benchRadiusM, 0)
				if err != nil {
					b.Fatal(err)
				}
				hits += len(h)
			}
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
			reportLatency(b, func(q benchQuery) int {
				h, _ := bench.idx.Near(q.lat, q.lon, benchRadiusM, 0)
				return len(h)
			}, qs)
		})
	}
}

// BenchmarkRawRTree1M searches the very same tree with the very same degree boxes through
// tidwall/rtree directly, counting the candidates: the floor under BenchmarkNear1M.
func BenchmarkRawRTree1M(b *testing.B) {
	benchSetup(b)
	tree := &bench.idx.tree
	for _, kind := range []string{"city", "centre"} {
		b.Run(kind, func(b *testing.B) {
			qs := bench.queries[kind]
			raw := func(q benchQuery) int {
				n := 0
				for _, bx := range q.boxes {
					tree.Search(bx.min, bx.max, func(_, _ [2]float64, _ string) bool { n++; return true })
				}
				return n
			}
			found := 0
			for i := 0; b.Loop(); i++ {
				found += raw(qs[i%len(qs)])
			}
			b.ReportMetric(float64(found)/float64(b.N), "candidates/op")
			reportLatency(b, raw, qs)
		})
	}
}

// reportLatency times each query of three passes over qs (outside the b.Loop measurement) and
// reports the median and p99, since the goal is stated as a median.
func reportLatency(b *testing.B, query func(benchQuery) int, qs []benchQuery) {
	b.Helper()
	d := make([]time.Duration, 0, 3*len(qs))
	for range 3 {
		for _, q := range qs {
			start := time.Now()
			query(q)
			d = append(d, time.Since(start))
		}
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkSet measures inserting (and, for existing ids, moving) a camera in an index that
// already holds 100,000.
func BenchmarkSet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	idx := New()
	baseIDs := make([]string, 100_000)
	for i := range baseIDs {
		baseIDs[i] = fmt.Sprintf("cam-%07d", i)
		lat, lon := cityPoint(r, i%5 == 0)
		if err := idx.Set(baseIDs[i], lat, lon); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("insert", func(b *testing.B) {
		ids := make([]string, 1<<16)
		for i := range ids {
			ids[i] = fmt.Sprintf("new-%07d", i)
		}
		pts := make([][2]float64, len(ids))
		for i := range pts {
			pts[i][0], pts[i][1] = cityPoint(r, false)
		}
		for i := 0; b.Loop(); i++ {
			j := i % len(ids)
			if j == 0 && i > 0 {
				b.StopTimer()
				for _, id := range ids {
					idx.Delete(id)
				}
				b.StartTimer()
			}
			if err := idx.Set(ids[j], pts[j][0], pts[j][1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("move", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			lat, lon := cityPoint(r, false)
			if err := idx.Set(baseIDs[i%len(baseIDs)], lat, lon); err != nil {
				b.Fatal(err)
			}
		}
	})
}
