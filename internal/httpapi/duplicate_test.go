package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestDuplicateConstructionAPI is issue 17's case through the server: an urban-management
// camera proposed at the spot, bearing and field of view of a public-security camera.
func TestDuplicateConstructionAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		psb := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		um := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Urban management","kind":"department","department_type":"urban_management"}`))
		_, psbAdmin := s.addUser("psbadmin", auth.RoleAdmin, psb)
		_, umOp := s.addUser("umop", auth.RoleOperator, um)
		view := `"lat":27.83,"lon":113.15,"bearing":90,"fov_angle":60,"range_m":100,"place_category":"public_square","investment":"government","networked":true`
		existing := mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "",
			`{"name":"PSB gate","organisation_id":"`+psb+`","status":"active","source_url":"rtsp://user:secret@10.0.0.9/stream",`+view+`}`))
		proposed := mustCreate(t, s.do("POST", "/api/v1/cameras", umOp, "", `{"name":"UM gate",`+view+`}`))

		r := s.do("GET", "/api/v1/cameras/"+proposed+"/duplicate-check", umOp, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("GET duplicate-check = %d %s; want 200", r.status, r.body)
		}
		rep := r.json(t)
		overlaps, _ := rep["overlaps"].([]any)
		if rep["duplicate"] != true || len(overlaps) != 1 {
			t.Fatalf("duplicate-check = %s; want a duplicate with one overlap", r.body)
		}
		o := overlaps[0].(map[string]any)
		if o["camera_id"] != existing || o["organisation_name"] != "PSB" || o["overlap_percent"] != 100.0 || o["shareable"] != true {
			t.Errorf("duplicate-check overlap = %v; want the PSB camera at 100%%, shareable", o)
		}
		for _, secret := range []string{"rtsp", "secret", "source_url"} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("duplicate-check body = %s; want no %q (stream details stay with the owner)", r.body, secret)
			}
		}

		activate := func(tok string) response {
			return s.do("PATCH", "/api/v1/cameras/"+proposed, tok, "", `{"status":"active"}`)
		}
		if r := activate(umOp); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "duplicate_coverage") {
			t.Fatalf("PATCH status active = %d %s; want 422 duplicate_coverage", r.status, r.body)
		}
		if r := s.do("POST", "/api/v1/cameras/"+proposed+"/construction-approval", adminTok, "", `{"decision":"approve"}`); r.status != http.StatusForbidden {
			t.Errorf("approval by an admin of no public-security organisation = %d %s; want 403", r.status, r.body)
		}
		if r := s.do("POST", "/api/v1/cameras/"+proposed+"/construction-approval", psbAdmin, "", `{"decision":"maybe"}`); r.status != http.StatusBadRequest {
			t.Errorf("approval with decision maybe = %d %s; want 400", r.status, r.body)
		}
		r = s.do("POST", "/api/v1/cameras/"+proposed+"/construction-approval", psbAdmin, "", `{"decision":"approve","note":"night coverage"}`)
		if r.status != http.StatusOK || r.json(t)["status"] != "approved" {
			t.Fatalf("approval by the PSB admin = %d %s; want 200 approved", r.status, r.body)
		}
		if r := activate(umOp); r.status != http.StatusOK {
			t.Errorf("PATCH status active after the approval = %d %s; want 200", r.status, r.body)
		}
	})
}

// TestKeyPlacesAPI: a key place imported as GeoJSON is a gap until an active, networked camera
// looks at it.
func TestKeyPlacesAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		psb := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		geo := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Station square","place_category":"transport_hub"},
			"geometry":{"type":"Point","coordinates":[113.15,27.8304]}}]}`
		if r := s.do("POST", "/api/v1/places/import", adminTok, "application/geo+json", geo); r.status != http.StatusCreated {
			t.Fatalf("POST places/import = %d %s; want 201", r.status, r.body)
		}
		if r := s.do("POST", "/api/v1/places/import", adminTok, "text/plain", "x"); r.status != http.StatusUnsupportedMediaType {
			t.Errorf("POST places/import as text/plain = %d; want 415", r.status)
		}
		gaps := func() []any {
			t.Helper()
			r := s.do("GET", "/api/v1/places/coverage", adminTok, "", "")
			if r.status != http.StatusOK {
				t.Fatalf("GET places/coverage = %d %s; want 200", r.status, r.body)
			}
			g, _ := r.json(t)["gaps"].([]any)
			return g
		}
		if g := gaps(); len(g) != 1 || g[0].(map[string]any)["coverage"] != "uncovered" {
			t.Fatalf("coverage gaps = %v; want the station square uncovered", g)
		}
		mustCreate(t, s.do("POST", "/api/v1/cameras", adminTok, "", `{"name":"North","organisation_id":"`+psb+`","status":"active",`+
			`"lat":27.83,"lon":113.15,"bearing":0,"fov_angle":60,"range_m":100,"place_category":"transport_hub","investment":"government","networked":true}`))
		if g := gaps(); len(g) != 0 {
			t.Errorf("coverage gaps with a camera looking at it = %v; want none", g)
		}
	})
}
