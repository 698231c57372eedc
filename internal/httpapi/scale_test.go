package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestScale times the API's list routes over a city's worth of data when CIVICAM_SCALE names
// the number of cameras (`make bench-scale`: 100,000, with 100 sealed segments each); without
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
	calls := 7
	if v, err := strconv.Atoi(os.Getenv("CIVICAM_SCALE_CALLS")); err == nil && v > 0 {
		calls = v
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		start := time.Now()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		cams := make([]*registry.Camera, n)
		for i := range cams {
			cams[i] = &registry.Camera{ID: registry.NewID(), Name: fmt.Sprintf("S%06d", i), OrganisationID: []string{f.orgA, f.orgB}[i%2],
				Investment: "government", Lat: 27.8 + float64(i%1000)/10000, Lon: 113.1 + float64(i/1000)/10000, PlaceCategory: "public_square",
				Networked: true, SignInstalled: i%3 != 0, RetentionDays: 90, Status: registry.StatusActive, CreatedAt: base, UpdatedAt: base}
		}
		if err := db.CreateCameras(ctx, cams); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d cameras in %v", n, time.Since(start))
		start = time.Now()
		series := `WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $1)`
		if db.Dialect() == store.Postgres {
			series = `WITH s(n) AS (SELECT generate_series(0, $1 - 1))`
		}
		b := base.UnixMicro()
		const minute = int64(60_000_000)
		if _, err := db.SQL().ExecContext(ctx, series+` INSERT INTO recordings (camera_id, path, start_at, end_at, bytes, sha256, sealed, created_at)
			SELECT c.id, c.id || '/' || CAST(s.n AS TEXT), CAST($2 AS BIGINT) + s.n * CAST($3 AS BIGINT), CAST($2 AS BIGINT) + (s.n + 1) * CAST($3 AS BIGINT),
				30000000, '', TRUE, CAST($2 AS BIGINT) FROM cameras c CROSS JOIN s`,
			segs, b, minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at) SELECT id, CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM cameras`,
			b, b+int64(segs)*minute); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d segments in %v", n*segs, time.Since(start))
		start = time.Now()
		// The findings of cameras written behind the registry's back are computed as after a change
		// of the policy pack (on a tree without kept findings this does nothing).
		if fp, ok := any(db).(interface {
			SetFindingsPack(context.Context, string) error
		}); ok {
			if err := fp.SetFindingsPack(ctx, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("registry loaded in %v", time.Since(start))
		routes := []string{
			"/api/v1/cameras", "/api/v1/cameras?limit=100", "/api/v1/compliance", "/api/v1/compliance/summary",
			"/api/v1/storage", "/api/v1/storage/summary", "/api/v1/organisations", "/api/v1/users", "/api/v1/holds",
			"/api/v1/grants", "/api/v1/trace?limit=100", "/api/v1/cameras/" + cams[n/2].ID,
			"/api/v1/cameras/" + cams[n/2].ID + "/recordings",
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
