// Package coverage answers how much of a camera's field of view other cameras already see
// (REG-3, duplicate construction): a field of view is a circular sector (apex, compass bearing,
// angle, range), and the overlap of two is the exact area of their intersection, computed on the
// candidates the spatial index finds near the camera asked about.
//
// The area is exact for plane sectors: the intersection's boundary is made of the pieces of each
// sector's boundary (two radii and an arc) that lie inside the other, and Green's theorem turns
// it into a sum over those pieces of closed-form terms. Positions are projected onto the plane
// tangent at the camera asked about; over a camera's range (at most 10 km) that projection is
// far more exact than the positions themselves.
package coverage

import (
	"math"
	"slices"
)

// Sector is a field of view in a plane: apex (X, Y) in metres east and north of a reference
// point, Bearing in degrees clockwise from north, FOV the angle seen in degrees (0 to 360) and
// Range the distance seen in metres. A sector with no angle or no range sees nothing.
type Sector struct {
	X, Y, Bearing, FOV, Range float64
}

const deg = math.Pi / 180

// Area is the sector's area in square metres.
func (s Sector) Area() float64 {
	if s.empty() {
		return 0
	}
	return 0.5 * s.Range * s.Range * min(s.FOV, 360) * deg
}

func (s Sector) empty() bool { return !(s.FOV > 0) || !(s.Range > 0) }

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec             { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec             { return vec{a.x + b.x, a.y + b.y} }
func (a vec) scale(k float64) vec       { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64         { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64       { return a.x*b.y - a.y*b.x }
func polar(t float64) vec               { s, c := math.Sincos(t); return vec{c, s} }
func dist2(a, b vec) float64            { d := a.sub(b); return d.dot(d) }
func angleOf(v vec) float64             { return math.Atan2(v.y, v.x) }
func (s Sector) apex() vec              { return vec{s.X, s.Y} }
func (s Sector) full() bool             { return s.FOV >= 360 }
func (s Sector) mid() float64           { return (90 - s.Bearing) * deg } // mathematical angle of the bearing
func (s Sector) half() float64          { return min(s.FOV, 360) / 2 * deg }
func (s Sector) ends() (t0, t1 float64) { return s.mid() - s.half(), s.mid() + s.half() }

// prim is one piece of a sector's boundary, walked counter-clockwise (the sector on its left):
// a segment from p to q, or an arc of the circle (c, r) from angle t0 up to t1.
type prim struct {
	arc    bool
	p, q   vec
	c      vec
	r      float64
	t0, t1 float64
}

// shape is a sector prepared for the boundary walk.
type shape struct {
	s      Sector
	apex   vec
	r2     float64
	mid    float64
	half   float64
	prims  [3]prim
	n      int
	verts  [3]vec
	nverts int
}

func prepare(s Sector) shape {
	sh := shape{s: s, apex: s.apex(), r2: s.Range * s.Range, mid: s.mid(), half: s.half()}
	if s.full() {
		sh.prims[0] = prim{arc: true, c: sh.apex, r: s.Range, t0: 0, t1: 2 * math.Pi}
		sh.n = 1
		return sh
	}
	t0, t1 := s.ends()
	e0 := sh.apex.add(polar(t0).scale(s.Range))
	e1 := sh.apex.add(polar(t1).scale(s.Range))
	sh.prims[0] = prim{p: sh.apex, q: e0}
	sh.prims[1] = prim{arc: true, c: sh.apex, r: s.Range, t0: t0, t1: t1}
	sh.prims[2] = prim{p: e1, q: sh.apex}
	sh.n = 3
	sh.verts = [3]vec{sh.apex, e0, e1}
	sh.nverts = 3
	return sh
}

// contains reports whether v lies in the closed sector.
func (sh *shape) contains(v vec) bool {
	d := v.sub(sh.apex)
	if d.dot(d) > sh.r2 {
		return false
	}
	if sh.s.full() || (d.x == 0 && d.y == 0) {
		return true
	}
	diff := math.Remainder(angleOf(d)-sh.mid, 2*math.Pi)
	return math.Abs(diff) <= sh.half
}

// Intersection is the area in square metres that sectors a and b both see.
func Intersection(a, b Sector) float64 {
	if a.empty() || b.empty() {
		return 0
	}
	if r := a.Range + b.Range; dist2(a.apex(), b.apex()) >= r*r {
		return 0
	}
	sa, sb := prepare(a), prepare(b)
	// eps is how far off a boundary piece its sides are probed: far above the rounding of
	// coordinates (about 1e-13 m for a few km) and far below any piece that matters.
	eps := 1e-9 * max(a.Range, b.Range)
	var sum float64
	var params []float64
	for i := range sa.n {
		sum += walk(&sa.prims[i], &sb, eps, false, &params)
	}
	for i := range sb.n {
		sum += walk(&sb.prims[i], &sa, eps, true, &params)
	}
	return max(sum, 0)
}

// walk splits pr where the other shape's boundary meets it and adds ½∮(x dy − y dx) of the
// pieces that bound the intersection. A piece bounds it when the side on its left (inside its
// own sector) is inside the other sector. A piece lying on the other's boundary is counted once:
// from the first sector when both walk it the same way, from neither when they walk it opposite
// ways (the two then touch along it without overlapping); second says which one pr belongs to.
func walk(pr *prim, other *shape, eps float64, second bool, params *[]float64) float64 {
	ps := (*params)[:0]
	if pr.arc {
		ps = append(ps, pr.t0, pr.t1)
	} else {
		ps = append(ps, 0, 1)
	}
	for j := range other.n {
		ps = cut(pr, &other.prims[j], eps, ps)
	}
	for k := range other.nverts {
		if t, ok := on(pr, other.verts[k], eps); ok {
			ps = append(ps, t)
		}
	}
	slices.Sort(ps)
	*params = ps
	var sum float64
	for k := 1; k < len(ps); k++ {
		u, v := ps[k-1], ps[k]
		if v-u <= 0 {
			continue
		}
		m, left := probe(pr, (u+v)/2)
		in := other.contains(m.add(left.scale(eps)))
		if second && in {
			in = other.contains(m.sub(left.scale(eps)))
		}
		if in {
			sum += term(pr, u, v)
		}
	}
	return sum
}

// probe is the point of pr at parameter t and the unit normal on its left.
func probe(pr *prim, t float64) (vec, vec) {
	if pr.arc {
		u := polar(t)
		return pr.c.add(u.scale(pr.r)), u.scale(-1)
	}
	d := pr.q.sub(pr.p)
	l := math.Hypot(d.x, d.y)
	return pr.p.add(d.scale(t)), vec{-d.y / l, d.x / l}
}

// term is ½∫(x dy − y dx) along pr from parameter u to v.
func term(pr *prim, u, v float64) float64 {
	if pr.arc {
		su, cu := math.Sincos(u)
		sv, cv := math.Sincos(v)
		return 0.5 * (pr.r*(pr.c.x*(sv-su)-pr.c.y*(cv-cu)) + pr.r*pr.r*(v-u))
	}
	d := pr.q.sub(pr.p)
	a, b := pr.p.add(d.scale(u)), pr.p.add(d.scale(v))
	return 0.5 * a.cross(b)
}

// inArc maps angle t into the arc's range and reports whether it falls there.
func inArc(pr *prim, t, eps float64) (float64, bool) {
	t = pr.t0 + math.Mod(math.Mod(t-pr.t0, 2*math.Pi)+2*math.Pi, 2*math.Pi)
	tol := eps / pr.r
	switch {
	case t <= pr.t1+tol:
		return min(t, pr.t1), true
	case t >= pr.t0+2*math.Pi-tol: // just below t0, by rounding
		return pr.t0, true
	}
	return 0, false
}

// on reports where v lies on pr, if it does.
func on(pr *prim, v vec, eps float64) (float64, bool) {
	if pr.arc {
		d := v.sub(pr.c)
		if math.Abs(math.Hypot(d.x, d.y)-pr.r) > eps {
			return 0, false
		}
		return inArc(pr, angleOf(d), eps)
	}
	d := pr.q.sub(pr.p)
	l2 := d.dot(d)
	t := v.sub(pr.p).dot(d) / l2
	if t < 0 || t > 1 || dist2(pr.p.add(d.scale(t)), v) > eps*eps {
		return 0, false
	}
	return t, true
}

// cut appends to ps the parameters on pr where o crosses it. Pieces that lie on one another
// (the same circle, the same line) do not cross; their ends are found by on.
func cut(pr, o *prim, eps float64, ps []float64) []float64 {
	switch {
	case !pr.arc && !o.arc:
		d, e := pr.q.sub(pr.p), o.q.sub(o.p)
		den := d.cross(e)
		if math.Abs(den) <= 1e-12*math.Sqrt(d.dot(d)*e.dot(e)) {
			return ps
		}
		w := o.p.sub(pr.p)
		t, s := w.cross(e)/den, w.cross(d)/den
		if t >= 0 && t <= 1 && s >= 0 && s <= 1 {
			ps = append(ps, t)
		}
	case !pr.arc:
		for _, t := range lineCircle(pr.p, pr.q, o.c, o.r) {
			if t < 0 || t > 1 {
				continue
			}
			pt := pr.p.add(pr.q.sub(pr.p).scale(t))
			if _, ok := inArc(o, angleOf(pt.sub(o.c)), eps); ok {
				ps = append(ps, t)
			}
		}
	case !o.arc:
		for _, s := range lineCircle(o.p, o.q, pr.c, pr.r) {
			if s < 0 || s > 1 {
				continue
			}
			pt := o.p.add(o.q.sub(o.p).scale(s))
			if t, ok := inArc(pr, angleOf(pt.sub(pr.c)), eps); ok {
				ps = append(ps, t)
			}
		}
	default:
		for _, pt := range circleCircle(pr.c, pr.r, o.c, o.r, eps) {
			if _, ok := inArc(o, angleOf(pt.sub(o.c)), eps); !ok {
				continue
			}
			if t, ok := inArc(pr, angleOf(pt.sub(pr.c)), eps); ok {
				ps = append(ps, t)
			}
		}
	}
	return ps
}

// lineCircle returns the parameters t at which p + t(q−p) is on the circle (c, r).
func lineCircle(p, q, c vec, r float64) []float64 {
	d, f := q.sub(p), p.sub(c)
	a, b, cc := d.dot(d), 2*f.dot(d), f.dot(f)-r*r
	disc := b*b - 4*a*cc
	if disc < 0 {
		return nil
	}
	sq := math.Sqrt(disc)
	// The form that avoids cancellation between b and the root.
	qq := -0.5 * (b + math.Copysign(sq, b))
	if qq == 0 {
		return []float64{0}
	}
	return []float64{qq / a, cc / qq}
}

// circleCircle returns the points where two circles meet; none when they coincide.
func circleCircle(c1 vec, r1 float64, c2 vec, r2 float64, eps float64) []vec {
	d := c2.sub(c1)
	dd := math.Hypot(d.x, d.y)
	if dd <= eps || dd > r1+r2 || dd < math.Abs(r1-r2) {
		return nil
	}
	a := (r1*r1 - r2*r2 + dd*dd) / (2 * dd)
	h := math.Sqrt(max(r1*r1-a*a, 0))
	m := c1.add(d.scale(a / dd))
	o := vec{-d.y / dd * h, d.x / dd * h}
	return []vec{m.add(o), m.sub(o)}
}
