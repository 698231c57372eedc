package webui

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestScale times every page an administrator opens over a city's worth of data when
// CIVICAM_SCALE names the number of cameras (`make bench-scale`: 100,000 cameras, 100 sealed
// segments and 100 trail entries each; CIVICAM_SCALE_SEGMENTS and CIVICAM_SCALE_TRAIL change
// those); without it, it is skipped. Each page's figure is the median of CIVICAM_SCALE_CALLS
// loads (default 7), the whole HTML page as the browser receives it.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CIVICAM_SCALE"))
	if n <= 0 {
		t.Skip("set CIVICAM_SCALE=100000 (make bench-scale) to time the pages at a city's size")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
			return v
		}
		return def
	}
	segs, trail, calls := env("CIVICAM_SCALE_SEGMENTS", 100), env("CIVICAM_SCALE_TRAIL", n*100), max(env("CIVICAM_SCALE_CALLS", 7), 1)
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		st := apitest.New(t, db)
		s := serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Sharing, d.GB28181, d.Inspections = st.Sharing, st.GB, st.Inspections }})
		orgs := []string{s.addOrg("株洲市公安局", registry.KindDepartment, "public_security"), s.addOrg("湘江宾馆", registry.KindEstablishment, "hotel")}
		s.addUser("chief", auth.RoleAdmin, "")
		cams := apitest.FillCity(t, st, orgs, apitest.City{Cameras: n, Segments: segs, Trail: trail})
		b := s.loggedIn("chief")
		mid := cams[n/2].ID
		pages := []string{
			"/", "/cameras", "/cameras?page=50", "/cameras/" + mid, "/compliance", "/trace", "/trace?camera_id=" + mid,
			"/admin/users", "/admin/organisations", "/sharing/grants", "/sharing/groups", "/sharing/accesses", "/sharing/accesses?organisation_id=" + orgs[0],
			"/exports", "/gb28181", "/maintenance", "/coverage", "/consultations", "/me",
		}
		for _, p := range pages {
			var ds []time.Duration
			var size, status int
			for range calls {
				t0 := time.Now()
				r := b.get(p)
				ds = append(ds, time.Since(t0))
				size, status = len(r.body), r.status
			}
			slices.Sort(ds)
			note := ""
			if status != http.StatusOK {
				note = fmt.Sprintf(" (status %d)", status)
			}
			t.Logf("%-50s median %8.1f ms  %9d bytes%s", p, float64(ds[len(ds)/2].Microseconds())/1000, size, note)
		}
	})
}
