package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// countingTracer records what the registry asks to trace.
type countingTracer struct{ records []trace.Record }

func (c *countingTracer) Record(_ context.Context, r trace.Record) error {
	c.records = append(c.records, r)
	return nil
}

func newService(t testing.TB, db *store.DB, tr trace.Tracer) *registry.Service {
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: tr})
}

// importFile makes an import file of n cameras spread over Zhuzhou.
func importFile(org string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("name,organisation_id,investment,lat,lon,address,place_category,bearing,fov_angle,range_m,source_url,networked,interface_reserved,sign_installed,retention_days,status,gb_device_id\n")
	r := rand.New(rand.NewPCG(1, 2))
	cats := []string{"public_square", "road_intersection", "transport_hub", "school_perimeter", "hospital", "shopping_mall", "hotel_lobby"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Camera %d,%s,government,%.6f,%.6f,Road %d,%s,%d,70,80,rtsp://10.%d.%d.%d/s,true,true,true,30,active,430200000013200%05d\n",
			i, org, 27.5+r.Float64()*0.7, 112.9+r.Float64(), i, cats[i%len(cats)], i%360, i/65536%256, i/256%256, i%256, i)
	}
	return b.Bytes()
}

func TestImportCSVStoresEveryRow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		tr := &countingTracer{}
		svc := newService(t, db, tr)
		ctx := context.Background()
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := svc.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		cams, err := svc.ImportCSV(ctx, registry.Scope{All: true}, bytes.NewReader(importFile(org.ID, 500)), nil)
		if err != nil {
			t.Fatalf("ImportCSV() = %v", err)
		}
		stored, err := db.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cams) != 500 || len(stored) != 500 {
			t.Fatalf("imported %d, stored %d; want 500", len(cams), len(stored))
		}
		// The spatial index knows them at once.
		near, _, err := svc.Near(ctx, registry.Scope{All: true}, cams[7].Lat, cams[7].Lon, 1, 0)
		if err != nil || len(near) != 1 || near[0].ID != cams[7].ID {
			t.Fatalf("Near(camera 7) = %v, %v; want camera 7", near, err)
		}
		// A second import repeating a device id is refused whole, and stores nothing.
		_, err = svc.ImportCSV(ctx, registry.Scope{All: true}, bytes.NewReader(importFile(org.ID, 3)), nil)
		if err == nil {
			t.Fatal("re-import of the same GB device ids succeeded; want a conflict")
		}
		if stored, _ := db.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{}); len(stored) != 500 {
			t.Fatalf("after a refused import %d cameras are stored; want 500", len(stored))
		}
		// The database finds the conflict after the allowed entry was written: a second entry
		// says it was not stored.
		last := tr.records[len(tr.records)-1]
		if last.Action != "camera_import" || last.Outcome != "denied" || !strings.Contains(last.Reason, "not stored") {
			t.Fatalf("last trace record = %+v; want a denied camera_import saying it was not stored", last)
		}
	})
}

// BenchmarkImport100k imports 100,000 cameras from CSV (issue 2: ≤ 10 s on SQLite), on SQLite
// and, when configured, PostgreSQL, in the same run.
func BenchmarkImport100k(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var db *store.DB
				if dialect == "sqlite" {
					db = storetest.SQLite(b)
				} else {
					db = storetest.Postgres(b)
				}
				svc := newService(b, db, &countingTracer{})
				ctx := context.Background()
				org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
				if err := svc.CreateOrganisation(ctx, org); err != nil {
					b.Fatal(err)
				}
				file := importFile(org.ID, 100_000)
				b.StartTimer()
				start := time.Now()
				cams, err := svc.ImportCSV(ctx, registry.Scope{All: true}, bytes.NewReader(file), nil)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s/import")
				b.ReportMetric(float64(len(cams))/time.Since(start).Seconds(), "cameras/s")
			}
		})
	}
}

// TestSyncSeesOtherWriters: two services on one database, as two nodes (or the server and the
// command line) are; each one's spatial index learns the other's changes on Sync.
func TestSyncSeesOtherWriters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := newService(t, db, &countingTracer{}), newService(t, db, &countingTracer{})
		for _, s := range []*registry.Service{a, b} {
			if err := s.Load(ctx); err != nil {
				t.Fatal(err)
			}
		}
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := a.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		cams, err := a.ImportCSV(ctx, registry.Scope{All: true}, bytes.NewReader(importFile(org.ID, 3)), nil)
		if err != nil {
			t.Fatal(err)
		}
		all := registry.Scope{All: true}
		if got, _, _ := b.Near(ctx, all, cams[0].Lat, cams[0].Lon, 1, 0); len(got) != 0 {
			t.Fatalf("b.Near() before Sync = %d cameras; want 0", len(got))
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := b.Near(ctx, all, cams[0].Lat, cams[0].Lon, 1, 0); len(got) != 1 {
			t.Fatalf("b.Near() after Sync = %d cameras; want 1", len(got))
		}
		if _, err := a.DecommissionCamera(ctx, all, cams[0].ID); err != nil {
			t.Fatal(err)
		}
		b.Sync(ctx)
		if got, _, _ := b.Near(ctx, all, cams[0].Lat, cams[0].Lon, 1, 0); len(got) != 0 {
			t.Fatalf("b.Near() after a decommission elsewhere = %d cameras; want 0", len(got))
		}
	})
}
