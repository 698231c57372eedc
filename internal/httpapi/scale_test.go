package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"civicam/internal/httpapi/apitest"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestScale times the API's list routes over a city's worth of data when CIVICAM_SCALE names
// the number of cameras (`make bench-scale`: 100,000, with 100 sealed segments each and 100
// trail entries per camera, CIVICAM_SCALE_TRAIL to change that); without
// it, it is skipped: TestPaging checks the paging itself over a few thousand rows in every run.
// Each route's figure is the median of CIVICAM_SCALE_CALLS calls (default 7).
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CIVICAM_SCALE"))
	if n <= 0 {
		t.Skip("set CIVICAM_SCALE=100000 (make bench-scale) to time the routes at a city's size")
	}
	segs := 100
	if v, err := strconv.Atoi(os.Getenv("CIVICAM_SCALE_SEGMENTS")); err == nil && v > 0 {
		segs = v
	}
	trail := n * 100
	if v, err := strconv.Atoi(os.Getenv("CIVICAM_SCALE_TRAIL")); err == nil && v >= 0 {
		trail = v
	}
	calls := 7
	if v, err := strconv.Atoi(os.Getenv("CIVICAM_SCALE_CALLS")); err == nil && v > 0 {
		calls = v
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cams := apitest.FillCity(t, f.Stack, []string{f.orgA, f.orgB}, apitest.City{Cameras: n, Segments: segs, Trail: trail})
		mid := cams[n/2].ID
		routes := []string{
			"/api/v1/cameras", "/api/v1/cameras?limit=100", "/api/v1/cameras?near=27.85,113.15&radius_m=500",
			"/api/v1/compliance", "/api/v1/compliance/summary", "/api/v1/storage", "/api/v1/storage/summary",
			"/api/v1/organisations", "/api/v1/users", "/api/v1/holds", "/api/v1/grants", "/api/v1/groups",
			"/api/v1/exports", "/api/v1/gb28181/devices",
			"/api/v1/maintenance/orders", "/api/v1/places/coverage", "/api/v1/portal",
			"/api/v1/trace?limit=100", "/api/v1/trace?limit=100&camera_id=" + mid, "/api/v1/trace?limit=100&action=export",
			"/api/v1/trace/checkpoint", "/api/v1/trace/proof/inclusion?seq=" + strconv.Itoa(trail/2) + "&tree_size=" + strconv.Itoa(trail+1),
			"/api/v1/cameras/" + mid, "/api/v1/cameras/" + mid + "/recordings", "/api/v1/cameras/" + mid + "/maintenance",
		}
		for _, p := range routes {
			var ds []time.Duration
			var size, status int
			for range calls {
				t0 := time.Now()
				r := f.do("GET", p, f.admin, "", "")
				ds = append(ds, time.Since(t0))
				size, status = len(r.body), r.status
			}
			slices.Sort(ds)
			med := ds[len(ds)/2]
			note := ""
			if status != http.StatusOK {
				note = fmt.Sprintf(" (status %d)", status)
			}
			t.Logf("%-60s median %8.1f ms  %9d bytes%s", p, float64(med.Microseconds())/1000, size, note)
		}
	})
}
