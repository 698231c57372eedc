package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

type offline map[string]bool

func (o offline) Offline(id string) bool { return o[id] }

func TestKeyPlaceCoverage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tr := &countingTracer{}
		reg := newService(t, db, tr)
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := reg.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		str := func(s string) *string { return &s }
		// Four poles 0.01° of latitude (about 1.1 km) apart, each looking north 100 m.
		camera := func(lat float64, status string, networked bool) *registry.Camera {
			t.Helper()
			c, err := reg.CreateCamera(ctx, registry.Scope{All: true}, &registry.CameraInput{Name: str("C"), OrganisationID: &org.ID,
				Investment: str("private"), Lat: new(lat), Lon: new(113.1), PlaceCategory: str("public_square"), InterfaceReserved: new(true),
				Bearing: new(0.0), FOVAngle: new(90.0), RangeM: new(100.0), Networked: new(networked), Status: str(status)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		camera(27.80, registry.StatusActive, true)
		notNetworked := camera(27.81, registry.StatusActive, false)
		camera(27.82, registry.StatusPlanned, true)
		down := camera(27.83, registry.StatusActive, true)
		reg.UseLiveness(offline{down.ID: true})

		// Each place lies 50 m north of a pole; "Shop" is not a key area; "Park" is a polygon
		// north of the first pole whose vertices all lie outside the fan, cut by its arc.
		csv := "name,place_category,lat,lon\n" +
			"Square,public_square,27.80045,113.1\n" +
			"Crossing,road_intersection,27.81045,113.1\n" +
			"Station,transport_hub,27.82045,113.1\n" +
			"Bridge,tunnel_bridge,27.83045,113.1\n" +
			"Shop,enterprise_premises,27.84,113.1\n"
		if _, err := reg.ImportPlaces(ctx, "csv", strings.NewReader(csv)); err != nil {
			t.Fatal(err)
		}
		geo := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Park","place_category":"park_scenic_area"},
			"geometry":{"type":"Polygon","coordinates":[[[113.0995,27.8008],[113.1005,27.8008],[113.1005,27.8012],[113.0995,27.8012],[113.0995,27.8008]]]}},
			{"type":"Feature","properties":{"name":"Lake","place_category":"flood_control_area"},"geometry":{"type":"Point","coordinates":[113.2,27.9]}}]}`
		if _, err := reg.ImportPlaces(ctx, "geojson", strings.NewReader(geo)); err != nil {
			t.Fatal(err)
		}
		if last := tr.records[len(tr.records)-1]; last.Action != trace.ActionPlaceImport {
			t.Errorf("trail after ImportPlaces = %+v; want place_import", last)
		}
		if _, err := reg.ImportPlaces(ctx, "csv", strings.NewReader("name,place_category,lat,lon\nX,moon_base,27.8,113.1\n")); err == nil {
			t.Errorf("ImportPlaces(unknown category) = nil; want an error")
		}

		r, err := reg.KeyPlaceCoverage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, g := range r.Gaps {
			got[g.Name] = g.Coverage
			if g.Name == "Crossing" && !slices.Equal(g.CameraIDs, []string{notNetworked.ID}) {
				t.Errorf("gap Crossing cameras = %v; want the not-networked camera %s", g.CameraIDs, notNetworked.ID)
			}
		}
		want := map[string]string{"Crossing": registry.CoverageWeak, "Station": registry.CoverageNone, "Bridge": registry.CoverageWeak, "Lake": registry.CoverageNone}
		if fmt.Sprint(got) != fmt.Sprint(want) || r.KeyPlaces != 6 || r.Covered != 2 {
			t.Errorf("KeyPlaceCoverage() = key %d, covered %d, gaps %v; want key 6, covered 2 (Square, Park), gaps %v", r.KeyPlaces, r.Covered, got, want)
		}
		if last := tr.records[len(tr.records)-1]; last.Action != trace.ActionCoverageReport {
			t.Errorf("trail after KeyPlaceCoverage = %+v; want coverage_report", last)
		}
	})
}

// BenchmarkKeyPlaceCoverage is the coverage report over 100,000 active cameras and 10,000 key
// places spread over Zhuzhou, on SQLite: reading the cameras and finding what reaches each place.
func BenchmarkKeyPlaceCoverage(b *testing.B) {
	db := storetest.SQLite(b)
	ctx := context.Background()
	reg := newService(b, db, &countingTracer{})
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := reg.CreateOrganisation(ctx, org); err != nil {
		b.Fatal(err)
	}
	if _, err := reg.ImportCSV(ctx, registry.Scope{All: true}, bytes.NewReader(importFile(org.ID, 100_000)), nil); err != nil {
		b.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("name,place_category,lat,lon\n")
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 10_000 {
		fmt.Fprintf(&csv, "Place %d,public_square,%.6f,%.6f\n", i, 27.5+r.Float64()*0.7, 112.9+r.Float64())
	}
	if _, err := reg.ImportPlaces(ctx, "csv", strings.NewReader(csv.String())); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var gaps int
	for b.Loop() {
		rep, err := reg.KeyPlaceCoverage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		gaps = len(rep.Gaps)
	}
	b.ReportMetric(float64(gaps), "gaps")
}
