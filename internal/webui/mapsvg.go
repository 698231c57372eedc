package webui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"civicam/internal/registry"
)

// The camera map is drawn on the server as SVG in Web Mercator "world pixels" (256 per tile at
// zoom 0, doubling per zoom level), so that it lines up with standard {z}/{x}/{y} tiles when a
// tile server is configured, and is still a faithful plane of positions when none is.

const (
	mapMaxW  = 800.0
	mapMaxH  = 480.0
	tileSize = 256.0
	maxZoom  = 19
	// minSpanM keeps a map of one camera from zooming in to nothing.
	minSpanM = 300.0
	mPerDeg  = 111320.0
)

type mapView struct {
	W, H    string // the viewBox size
	WN, HN  float64
	Tiles   []mapTile
	Grid    []gridLine
	Cameras []mapCamera
	Places  []mapPlace // the coverage report's layer: key places without coverage
	Empty   bool
	Tiled   bool
}

type mapTile struct{ Href, X, Y string }

type gridLine struct {
	X1, Y1, X2, Y2 string
	Label          string
	LX, LY         string
}

type mapCamera struct {
	ID, Name, Status string
	Health           string // health.State, when the page knows it
	Shared           bool   // another organisation's camera shared with the user's
	X, Y             string
	Wedge            string // SVG path; empty when the camera records no field of view
}

// mapPlace is a place drawn on the map: a point (X, Y) or a polygon (Path).
type mapPlace struct {
	Name, Coverage string
	X, Y           string
	Path           string
}

// mapShape is a place to draw: a point, or a polygon ring of [lon, lat].
type mapShape struct {
	Name, Coverage string
	Lat, Lon       float64
	Ring           [][2]float64
}

// buildPlacesMap draws the coverage report's gaps.
func buildPlacesMap(gaps []registry.KeyPlaceGap, tileURL string) mapView {
	shapes := make([]mapShape, len(gaps))
	for i, g := range gaps {
		shapes[i] = mapShape{Name: g.Name, Coverage: g.Coverage, Lat: g.Lat, Lon: g.Lon, Ring: g.Polygon}
	}
	return buildLayers(nil, shapes, tileURL)
}

// project returns the world-pixel position of lat, lon at zoom z.
func project(lat, lon float64, z int) (x, y float64) {
	scale := tileSize * math.Exp2(float64(z))
	lat = math.Max(-85.05112878, math.Min(85.05112878, lat))
	phi := lat * math.Pi / 180
	x = (lon + 180) / 360 * scale
	y = (1 - math.Log(math.Tan(phi)+1/math.Cos(phi))/math.Pi) / 2 * scale
	return x, y
}

// unprojectLat and unprojectLon invert project.
func unprojectLat(y float64, z int) float64 {
	return math.Atan(math.Sinh(math.Pi*(1-2*y/(tileSize*math.Exp2(float64(z)))))) * 180 / math.Pi
}

func unprojectLon(x float64, z int) float64 {
	return x/(tileSize*math.Exp2(float64(z)))*360 - 180
}

// wedgePoints is the field of view as a polygon of lat/lon points: the camera, then an arc at its
// range from bearing-angle/2 to bearing+angle/2 (clockwise from north). Small ranges make the
// local flat-earth step exact enough for a drawing.
func wedgePoints(c *registry.Camera) [][2]float64 {
	if c.RangeM <= 0 || c.FOVAngle <= 0 {
		return nil
	}
	angle := math.Min(c.FOVAngle, 360)
	steps := int(math.Ceil(angle / 10))
	pts := make([][2]float64, 0, steps+2)
	if angle < 360 {
		pts = append(pts, [2]float64{c.Lat, c.Lon})
	}
	cosLat := math.Max(math.Cos(c.Lat*math.Pi/180), 1e-6)
	for i := 0; i <= steps; i++ {
		th := (c.Bearing - angle/2 + angle*float64(i)/float64(steps)) * math.Pi / 180
		pts = append(pts, [2]float64{
			c.Lat + c.RangeM*math.Cos(th)/mPerDeg,
			c.Lon + c.RangeM*math.Sin(th)/(mPerDeg*cosLat),
		})
	}
	return pts
}

// buildMap lays out the cameras (at most a page of them) with their fields of view, and the
// tiles under them when tileURL is set.
func buildMap(cams []*registry.Camera, tileURL string) mapView {
	return buildLayers(cams, nil, tileURL)
}

// buildLayers draws cameras and places on one map that holds them all.
func buildLayers(cams []*registry.Camera, places []mapShape, tileURL string) mapView {
	if len(cams) == 0 && len(places) == 0 {
		return mapView{Empty: true}
	}
	minLat, maxLat, minLon, maxLon := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	wedges := make([][][2]float64, len(cams))
	extend := func(lat, lon float64) {
		minLat, maxLat = math.Min(minLat, lat), math.Max(maxLat, lat)
		minLon, maxLon = math.Min(minLon, lon), math.Max(maxLon, lon)
	}
	for i, c := range cams {
		extend(c.Lat, c.Lon)
		wedges[i] = wedgePoints(c)
		for _, p := range wedges[i] {
			extend(p[0], p[1])
		}
	}
	for _, p := range places {
		extend(p.Lat, p.Lon)
		for _, v := range p.Ring {
			extend(v[1], v[0])
		}
	}
	// Pad by 10% and to the minimum span, around the centre.
	midLat, midLon := (minLat+maxLat)/2, (minLon+maxLon)/2
	cosLat := math.Max(math.Cos(midLat*math.Pi/180), 1e-6)
	halfLat := math.Max((maxLat-minLat)*0.55, minSpanM/2/mPerDeg)
	halfLon := math.Max((maxLon-minLon)*0.55, minSpanM/2/(mPerDeg*cosLat))
	minLat, maxLat = math.Max(midLat-halfLat, -85), math.Min(midLat+halfLat, 85)
	minLon, maxLon = math.Max(midLon-halfLon, -180), math.Min(midLon+halfLon, 180)

	// The deepest zoom at which the box fits the drawing.
	z := 0
	for ; z < maxZoom; z++ {
		x0, y0 := project(maxLat, minLon, z+1)
		x1, y1 := project(minLat, maxLon, z+1)
		if x1-x0 > mapMaxW || y1-y0 > mapMaxH {
			break
		}
	}
	ox, oy := project(maxLat, minLon, z)
	x1, y1 := project(minLat, maxLon, z)
	// Widen the short side to the drawing's proportions, so the map fills its frame.
	if w, h := x1-ox, y1-oy; w*mapMaxH < h*mapMaxW {
		pad := (h*mapMaxW/mapMaxH - w) / 2
		ox, x1 = ox-pad, x1+pad
	} else {
		pad := (w*mapMaxH/mapMaxW - h) / 2
		oy, y1 = oy-pad, y1+pad
	}
	minLat, maxLat, minLon, maxLon = unprojectLat(y1, z), unprojectLat(oy, z), unprojectLon(ox, z), unprojectLon(x1, z)
	mv := mapView{WN: x1 - ox, HN: y1 - oy}
	mv.W, mv.H = num(mv.WN), num(mv.HN)
	pt := func(lat, lon float64) (float64, float64) {
		x, y := project(lat, lon, z)
		return x - ox, y - oy
	}

	if tileURL != "" {
		mv.Tiled = true
		n := int(math.Exp2(float64(z)))
		for ty := int(oy / tileSize); float64(ty)*tileSize < y1 && ty < n; ty++ {
			for tx := int(ox / tileSize); float64(tx)*tileSize < x1 && tx < n; tx++ {
				href := strings.NewReplacer("{z}", strconv.Itoa(z), "{x}", strconv.Itoa(tx), "{y}", strconv.Itoa(ty)).Replace(tileURL)
				mv.Tiles = append(mv.Tiles, mapTile{Href: href, X: num(float64(tx)*tileSize - ox), Y: num(float64(ty)*tileSize - oy)})
			}
		}
	} else {
		mv.Grid = graticule(minLat, maxLat, minLon, maxLon, pt, mv.WN, mv.HN)
	}

	for i, c := range cams {
		x, y := pt(c.Lat, c.Lon)
		mc := mapCamera{ID: c.ID, Name: c.Name, Status: c.Status, X: num(x), Y: num(y)}
		if len(wedges[i]) > 0 {
			var b strings.Builder
			for j, p := range wedges[i] {
				px, py := pt(p[0], p[1])
				if j == 0 {
					b.WriteString("M")
				} else {
					b.WriteString(" L")
				}
				b.WriteString(num(px) + " " + num(py))
			}
			b.WriteString(" Z")
			mc.Wedge = b.String()
		}
		mv.Cameras = append(mv.Cameras, mc)
	}
	for _, p := range places {
		x, y := pt(p.Lat, p.Lon)
		mp := mapPlace{Name: p.Name, Coverage: p.Coverage, X: num(x), Y: num(y)}
		var b strings.Builder
		for j, v := range p.Ring {
			px, py := pt(v[1], v[0])
			if j == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			b.WriteString(num(px) + " " + num(py))
		}
		if b.Len() > 0 {
			mp.Path = b.String() + " Z"
		}
		mv.Places = append(mv.Places, mp)
	}
	return mv
}

// graticule draws meridians and parallels at a round step, labelled, so a map without tiles
// still reads as positions on the earth.
func graticule(minLat, maxLat, minLon, maxLon float64, pt func(lat, lon float64) (float64, float64), w, h float64) []gridLine {
	step := niceStep(math.Max(maxLat-minLat, maxLon-minLon) / 4)
	var out []gridLine
	for lon := math.Ceil(minLon/step) * step; lon <= maxLon; lon += step {
		x, _ := pt(minLat, lon)
		out = append(out, gridLine{X1: num(x), Y1: "0", X2: num(x), Y2: num(h), Label: coord(lon, step) + "°E", LX: num(x + 3), LY: num(h - 4)})
	}
	for lat := math.Ceil(minLat/step) * step; lat <= maxLat; lat += step {
		_, y := pt(lat, minLon)
		out = append(out, gridLine{X1: "0", Y1: num(y), X2: num(w), Y2: num(y), Label: coord(lat, step) + "°N", LX: "3", LY: num(y - 3)})
	}
	return out
}

// niceStep rounds s up to 1, 2 or 5 times a power of ten.
func niceStep(s float64) float64 {
	if s <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(s)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= s {
			return m * p
		}
	}
	return 10 * p
}

func coord(v, step float64) string {
	decimals := 0
	if step < 1 {
		decimals = int(math.Ceil(-math.Log10(step)))
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func num(f float64) string { return fmt.Sprintf("%.1f", f) }
