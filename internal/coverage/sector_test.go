package coverage

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lens is the area two full circles share, the textbook formula.
func lens(r1, r2, d float64) float64 {
	if d >= r1+r2 {
		return 0
	}
	if d <= math.Abs(r1-r2) {
		r := min(r1, r2)
		return math.Pi * r * r
	}
	a1 := r1 * r1 * math.Acos((d*d+r1*r1-r2*r2)/(2*d*r1))
	a2 := r2 * r2 * math.Acos((d*d+r2*r2-r1*r1)/(2*d*r2))
	return a1 + a2 - 0.5*math.Sqrt((-d+r1+r2)*(d+r1-r2)*(d-r1+r2)*(d+r1+r2))
}

func TestIntersectionKnown(t *testing.T) {
	quarter := math.Pi * 100 * 100 / 4
	tests := []struct {
		name string
		a, b Sector
		want float64
	}{
		{"identical", Sector{0, 0, 45, 60, 100}, Sector{0, 0, 45, 60, 100}, Sector{0, 0, 45, 60, 100}.Area()},
		{"identical far from the origin", Sector{5000, -3000, 359, 90, 80}, Sector{5000, -3000, 359, 90, 80}, Sector{0, 0, 0, 90, 80}.Area()},
		{"identical wide", Sector{0, 0, 10, 270, 100}, Sector{0, 0, 10, 270, 100}, Sector{0, 0, 0, 270, 100}.Area()},
		{"same circle", Sector{0, 0, 0, 360, 100}, Sector{0, 0, 0, 360, 100}, math.Pi * 100 * 100},
		{"too far apart", Sector{0, 0, 0, 90, 100}, Sector{250, 0, 0, 90, 100}, 0},
		{"back to back", Sector{0, 0, 0, 180, 100}, Sector{0, 0, 180, 180, 100}, 0},
		{"touching radii", Sector{0, 0, 45, 90, 100}, Sector{0, 0, 135, 90, 100}, 0},
		{"half discs at right angles", Sector{0, 0, 0, 180, 100}, Sector{0, 0, 90, 180, 100}, quarter},
		{"sector inside a disc", Sector{0, 0, 30, 60, 100}, Sector{10, 10, 0, 360, 500}, Sector{0, 0, 0, 60, 100}.Area()},
		{"shorter range on the same axis", Sector{0, 0, 90, 40, 100}, Sector{0, 0, 90, 40, 60}, Sector{0, 0, 0, 40, 60}.Area()},
		{"narrower angle inside", Sector{0, 0, 90, 40, 100}, Sector{0, 0, 95, 20, 100}, Sector{0, 0, 0, 20, 100}.Area()},
		{"no angle", Sector{0, 0, 0, 0, 100}, Sector{0, 0, 0, 90, 100}, 0},
		{"no range", Sector{0, 0, 0, 90, 0}, Sector{0, 0, 0, 90, 100}, 0},
		{"lens", Sector{0, 0, 0, 360, 100}, Sector{120, 0, 0, 360, 70}, lens(100, 70, 120)},
		{"lens, circle inside", Sector{0, 0, 0, 360, 100}, Sector{20, 0, 0, 360, 30}, lens(100, 30, 20)},
		// Two half discs facing each other along the x axis: the part of the lens between them.
		{"facing half discs", Sector{0, 0, 90, 180, 100}, Sector{100, 0, 270, 180, 100}, lens(100, 100, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][2]Sector{{tt.a, tt.b}, {tt.b, tt.a}} {
				got := Intersection(order[0], order[1])
				if math.Abs(got-tt.want) > 1e-6*max(tt.want, 1) {
					t.Errorf("Intersection(%+v, %+v) = %v; want %v", order[0], order[1], got, tt.want)
				}
			}
		})
	}
}

// grid integrates the intersection numerically: the area of the cells whose centres both
// sectors contain, over a fine grid covering a.
func grid(a, b Sector, n int) float64 {
	sa, sb := prepare(a), prepare(b)
	x0, y0 := a.X-a.Range, a.Y-a.Range
	h := 2 * a.Range / float64(n)
	var in int
	for i := range n {
		for j := range n {
			v := vec{x0 + (float64(i)+0.5)*h, y0 + (float64(j)+0.5)*h}
			if sa.contains(v) && sb.contains(v) {
				in++
			}
		}
	}
	return float64(in) * h * h
}

func TestIntersectionAgainstIntegration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() Sector {
		fov := []float64{30, 60, 90, 120, 180, 200, 300, 360}[rng.IntN(8)]
		return Sector{X: rng.Float64()*200 - 100, Y: rng.Float64()*200 - 100, Bearing: rng.Float64() * 360, FOV: fov, Range: 20 + rng.Float64()*150}
	}
	const n = 1200
	for i := range 60 {
		a, b := random(), random()
		got := Intersection(a, b)
		want := grid(a, b, n)
		// The grid's error is at most the cells along the boundaries: perimeters × cell size.
		h := 2 * a.Range / n
		tol := 2 * h * (2*a.Range + a.Range*a.FOV*deg + 2*b.Range + b.Range*b.FOV*deg)
		if math.Abs(got-want) > tol {
			t.Errorf("case %d: Intersection(%+v, %+v) = %.2f; want %.2f ± %.2f (grid)", i, a, b, got, want, tol)
		}
		if rev := Intersection(b, a); math.Abs(rev-got) > 1e-6*max(got, 1) {
			t.Errorf("case %d: Intersection(b, a) = %v; want Intersection(a, b) = %v", i, rev, got)
		}
		if got > min(a.Area(), b.Area())*(1+1e-9) {
			t.Errorf("case %d: Intersection = %v; more than the smaller sector (%v, %v)", i, got, a.Area(), b.Area())
		}
	}
}
