package webui

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/registry"
)

// TestCatalogueCoversEveryKey checks that every message key the templates and the Go code ask
// for exists (loadCatalogue already refuses languages that differ from each other).
func TestCatalogueCoversEveryKey(t *testing.T) {
	cat, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, k := range cat.keys() {
		have[k] = true
	}
	used := map[string]bool{}
	tmplKey := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	quoted := regexp.MustCompile(`"((?:error|login|admin|camera|cameras|compliance|trace|me|landing|nav|filter|paging|download|gb)\.[a-z_]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use; the scan is broken", len(used))
	}
	for k := range used {
		if !have[k] {
			t.Errorf("message key %q is used but not in the catalogue", k)
		}
	}
	// Labels built from values: every role, status, code and action has its words.
	for _, k := range []string{"role.admin", "role.applicant.about", "status.decommissioned", "code.maintenance_overdue", "action.access_denied", "outcome.denied"} {
		if !have[k] {
			t.Errorf("catalogue lacks %q", k)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                        "zh",
		"en":                      "en",
		"en-US,en;q=0.9":          "en",
		"zh-TW,zh;q=0.9":          "zh",
		"de, en;q=0.2, zh;q=0.1":  "en",
		"de, en;q=0.1, zh;q=0.2":  "zh",
		"en;q=0, zh;q=0.1":        "zh",
		"EN-gb":                   "en",
		"en;q=nonsense, zh;q=0.5": "zh",
		"*":                       "zh",
	} {
		if got := acceptLanguage(h); got != want {
			t.Errorf("acceptLanguage(%q) = %q; want %q", h, got, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]string{
		"/cameras?x=1":         "/cameras?x=1",
		"":                     "/",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"cameras":              "/",
		"/ok\r\nSet-Cookie:x":  "/",
		"/\t/evil.example":     "/",
		"/\n/evil.example":     "/",
		"/ /evil.example":      "/",
		"/x\\..\\\\evil":       "/",
		"/\u3000/evil.example": "/",
		"/%09/evil.example":    "/%09/evil.example", // stays a path: browsers do not decode it
		"/cameras#timeline":    "/cameras#timeline",
	} {
		if got := localPath(p, "/"); got != want {
			t.Errorf("localPath(%q) = %q; want %q", p, got, want)
		}
	}
}

func TestTileOrigin(t *testing.T) {
	for _, c := range []struct {
		tmpl, want string
		ok         bool
	}{
		{"", "", true},
		{"https://tiles.city.example/osm/{z}/{x}/{y}.png", " https://tiles.city.example", true},
		{"http://127.0.0.1:8081/{z}/{x}/{y}.png", " http://127.0.0.1:8081", true},
		{"https://tiles.example/{z}/{x}.png", "", false},
		{"/tiles/{z}/{x}/{y}.png", "", false},
		{"javascript:alert(1)//{z}{x}{y}", "", false},
	} {
		got, err := tileOrigin(c.tmpl)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("tileOrigin(%q) = %q, %v; want %q, ok=%v", c.tmpl, got, err, c.want, c.ok)
		}
	}
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBuildMap(t *testing.T) {
	cams := []*registry.Camera{
		{ID: "a", Name: "West", Lat: 27.83, Lon: 113.14, Bearing: 90, FOVAngle: 60, RangeM: 100, Status: "active"},
		{ID: "b", Name: "East", Lat: 27.83, Lon: 113.16, Bearing: 0, FOVAngle: 0, RangeM: 0, Status: "planned"},
		{ID: "c", Name: "North", Lat: 27.85, Lon: 113.15, Bearing: 180, FOVAngle: 360, RangeM: 50, Status: "active"},
	}
	m := buildMap(cams, "")
	w, h := parse(t, m.W), parse(t, m.H)
	if w > mapMaxW || h > mapMaxH || w < mapMaxW/2.5 && h < mapMaxH/2.5 {
		t.Errorf("map is %v×%v; want it to fill about %v×%v", w, h, mapMaxW, mapMaxH)
	}
	pos := map[string][2]float64{}
	for _, c := range m.Cameras {
		x, y := parse(t, c.X), parse(t, c.Y)
		if x < 0 || x > w || y < 0 || y > h {
			t.Errorf("camera %s at %v,%v is outside the %v×%v map", c.ID, x, y, w, h)
		}
		pos[c.ID] = [2]float64{x, y}
	}
	if !(pos["a"][0] < pos["b"][0]) || !(pos["c"][1] < pos["a"][1]) {
		t.Errorf("positions %v: want west left of east and north above", pos)
	}
	// Camera a looks east: its wedge reaches right of it, and not left.
	wedge := m.Cameras[0].Wedge
	nums := regexp.MustCompile(`-?[0-9.]+`).FindAllString(wedge, -1)
	minX, maxX := math.Inf(1), math.Inf(-1)
	for i := 0; i+1 < len(nums); i += 2 {
		x := parse(t, nums[i])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
	}
	if minX < pos["a"][0]-0.1 || maxX <= pos["a"][0]+1 {
		t.Errorf("east-looking wedge spans x %v..%v around the camera at %v; want it to the right", minX, maxX, pos["a"][0])
	}
	if m.Cameras[1].Wedge != "" {
		t.Errorf("camera without a field of view has wedge %q; want none", m.Cameras[1].Wedge)
	}
	if !strings.HasPrefix(m.Cameras[2].Wedge, "M") || len(m.Grid) == 0 || m.Tiled {
		t.Errorf("full-circle wedge %q, grid %d lines, tiled %v; want a path, a graticule and no tiles", m.Cameras[2].Wedge, len(m.Grid), m.Tiled)
	}
	if e := buildMap(nil, ""); !e.Empty {
		t.Error("map of no cameras is not Empty")
	}
}

func TestBuildMapTiles(t *testing.T) {
	cams := []*registry.Camera{{ID: "a", Lat: 27.83, Lon: 113.15, Bearing: 45, FOVAngle: 90, RangeM: 100}}
	m := buildMap(cams, "https://tiles.example/{z}/{x}/{y}.png")
	if !m.Tiled || len(m.Tiles) == 0 || len(m.Tiles) > 20 || len(m.Grid) != 0 {
		t.Fatalf("tiled map has %d tiles, %d grid lines; want 1..20 tiles and no grid", len(m.Tiles), len(m.Grid))
	}
	// The tile under the camera, by the standard slippy-map formula, is among them, drawn where
	// the camera is.
	tm := regexp.MustCompile(`^https://tiles\.example/(\d+)/(\d+)/(\d+)\.png$`)
	cx, cy := parse(t, m.Cameras[0].X), parse(t, m.Cameras[0].Y)
	found := false
	for _, tile := range m.Tiles {
		g := tm.FindStringSubmatch(tile.Href)
		if g == nil {
			t.Fatalf("tile href %q does not follow the template", tile.Href)
		}
		z, _ := strconv.Atoi(g[1])
		n := math.Exp2(float64(z))
		lat := 27.83 * math.Pi / 180
		wantX := int(math.Floor((113.15 + 180) / 360 * n))
		wantY := int(math.Floor((1 - math.Log(math.Tan(lat)+1/math.Cos(lat))/math.Pi) / 2 * n))
		x, y := parse(t, tile.X), parse(t, tile.Y)
		if g[2] == strconv.Itoa(wantX) && g[3] == strconv.Itoa(wantY) {
			found = true
			if cx < x || cx > x+tileSize || cy < y || cy > y+tileSize {
				t.Errorf("camera at %v,%v is not on its tile drawn at %v,%v", cx, cy, x, y)
			}
		}
	}
	if !found {
		t.Errorf("no tile under the camera among %+v", m.Tiles)
	}
}

func TestBarChart(t *testing.T) {
	c := barChart([]count{{Key: "a", N: 10}, {Key: "b", N: 5}, {Key: "c", N: 0}, {Key: "d", N: 1, Label: "一二三四五六七八九十一二三四五六七八九十"}})
	if len(c.Bars) != 4 || c.Empty {
		t.Fatalf("bars = %d, empty %v; want 4", len(c.Bars), c.Empty)
	}
	if c.Bars[0].W != chartBarMax || c.Bars[1].W != chartBarMax/2 || c.Bars[2].W != 0 || c.Bars[3].W < 2 {
		t.Errorf("bar widths %d, %d, %d, %d; want %d, %d, 0, ≥2", c.Bars[0].W, c.Bars[1].W, c.Bars[2].W, c.Bars[3].W, chartBarMax, chartBarMax/2)
	}
	if l := c.Bars[3].LabelShort; !strings.HasSuffix(l, "…") || len([]rune(l)) > 15 {
		t.Errorf("long CJK label shortened to %q; want at most 15 runes ending in …", l)
	}
	if !barChart(nil).Empty {
		t.Error("chart of nothing is not Empty")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	s := newStack(t)
	d := Deps{APIRoles: s.api.Roles(), Accounts: s.accounts, Registry: s.reg, Footage: s.looks, Trail: s.trail, Users: s.db, Tracer: s.tracer}
	for _, cfg := range []Config{{Language: "fr"}, {TileURL: "ftp://x/{z}/{x}/{y}"}} {
		if _, err := New(cfg, d); err == nil {
			t.Errorf("New(%+v) = nil error; want a refusal", cfg)
		}
	}
	if _, err := New(Config{}, Deps{APIRoles: s.api.Roles()}); err == nil {
		t.Error("New without its dependencies = nil error; want a refusal")
	}
}

// TestEveryPostFormCarriesCSRF reads the templates: each form that posts has the token field.
func TestEveryPostFormCarriesCSRF(t *testing.T) {
	if auth.CSRFFormField != "csrf_token" {
		t.Fatalf("auth.CSRFFormField = %q; the templates send csrf_token", auth.CSRFFormField)
	}
	form := regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>(.*?)</form>`)
	total := 0
	fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, p)
		for _, m := range form.FindAllStringSubmatch(string(b), -1) {
			total++
			if !strings.Contains(m[1], `name="csrf_token" value="{{`) {
				t.Errorf("%s: a POST form lacks the csrf_token field: %.120s", p, m[0])
			}
		}
		return nil
	})
	if total < 5 {
		t.Errorf("found %d POST forms; want at least 5 (login, logout, users ×2, organisations)", total)
	}
}
