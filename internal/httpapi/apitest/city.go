package apitest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/trace"
)

// City is the size of the data FillCity builds.
type City struct {
	Cameras  int // active cameras, alternating between the organisations given
	Segments int // sealed one-minute segments per camera
	Trail    int // trail entries, appended through the running trail
}

// FillCity writes a city's worth of data behind the services' backs, the way a long-running
// deployment accumulates it, for the benchmarks that time routes and pages at that size
// (`make bench-scale`). Cameras and segments are bulk-inserted; trail entries go through the
// trail itself, so the Merkle tree, the chain and the camera index are real. It returns the
// cameras, with the registry reloaded.
func FillCity(t testing.TB, st *Stack, orgs []string, c City) []*registry.Camera {
	t.Helper()
	db, ctx := st.DB, context.Background()
	start := time.Now()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cams := make([]*registry.Camera, c.Cameras)
	for i := range cams {
		cams[i] = &registry.Camera{ID: registry.NewID(), Name: fmt.Sprintf("S%06d", i), OrganisationID: orgs[i%len(orgs)],
			Investment: "government", Lat: 27.8 + float64(i%1000)/10000, Lon: 113.1 + float64(i/1000)/10000, PlaceCategory: "public_square",
			Networked: true, SignInstalled: i%3 != 0, RetentionDays: 90, Status: registry.StatusActive, CreatedAt: base, UpdatedAt: base}
	}
	if err := db.CreateCameras(ctx, cams); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cameras in %v", c.Cameras, time.Since(start))
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
		c.Segments, b, minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO recording_spans (camera_id, start_at, end_at) SELECT id, CAST($1 AS BIGINT), CAST($2 AS BIGINT) FROM cameras`,
		b, b+int64(c.Segments)*minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d segments in %v", c.Cameras*c.Segments, time.Since(start))
	start = time.Now()
	appendTrail(t, st.Trail, cams, c.Trail)
	t.Logf("%d trail entries in %v", c.Trail, time.Since(start))
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
	if err := st.Registry.Load(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("registry loaded in %v", time.Since(start))
	return cams
}

// appendTrail appends n playback entries over the cameras from enough goroutines that the
// trail's group commit writes them in large batches, as under a busy city's load.
func appendTrail(t testing.TB, trail *trace.Log, cams []*registry.Camera, n int) {
	const writers = 2048 // four of the trail's largest batches waiting
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				cam := cams[i%len(cams)]
				at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
				_, err := trail.Append(ctx, trace.Entry{Time: at,
					Actor:  trace.Actor{UserID: "scale", Username: "scale", Role: "police_reviewer", OrganisationID: cam.OrganisationID, ClientAddr: "127.0.0.1"},
					Action: trace.ActionPlayback, CameraIDs: []string{cam.ID}, From: at.Add(-time.Hour), To: at,
					Purpose: "case review", Reference: fmt.Sprintf("case-%d", i%1000), Outcome: trace.Allowed})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
