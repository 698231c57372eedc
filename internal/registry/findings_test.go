package registry_test

import (
	"context"
	"testing"
	"time"

	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestKeptFindings checks the findings kept per camera against the pack's own answer: written
// with the camera, changed with it, a maintenance finding coming into force when it falls due
// with no write at all, and every row recomputed when the pack's version is not theirs.
func TestKeptFindings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pack, err := policy.Default()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		reg := registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: &countingTracer{}, Now: clock})
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := reg.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		str := func(s string) *string { return &s }
		yes, no := true, false
		maint := now.Add(-24 * time.Hour)
		c, err := reg.CreateCamera(ctx, registry.Scope{All: true}, &registry.CameraInput{Name: str("C"), OrganisationID: &org.ID,
			Investment: str("government"), Lat: new(27.8), Lon: new(113.1), PlaceCategory: str("public_square"),
			Networked: &yes, SignInstalled: &no, Status: str("active"), LastMaintenanceAt: &maint})
		if err != nil {
			t.Fatal(err)
		}
		codes := func() []string {
			t.Helper()
			page, _, err := reg.CompliancePage(ctx, registry.Scope{All: true}, "", "", nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, f := range page {
				out = append(out, f.Code)
			}
			sum, err := reg.ComplianceSummary(ctx, registry.Scope{All: true}, "")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Total != len(out) {
				t.Errorf("ComplianceSummary().Total = %d; want %d, the findings paged", sum.Total, len(out))
			}
			return out
		}
		want := func(what string, got []string, codes ...string) {
			t.Helper()
			if len(got) != len(codes) {
				t.Errorf("%s: findings = %v; want %v", what, got, codes)
				return
			}
			for i := range got {
				if got[i] != codes[i] {
					t.Errorf("%s: findings = %v; want %v", what, got, codes)
				}
			}
		}
		want("created", codes(), policy.CodeNoSign)
		if _, err := reg.UpdateCamera(ctx, registry.Scope{All: true}, c.ID, &registry.CameraInput{SignInstalled: &yes}); err != nil {
			t.Fatal(err)
		}
		want("sign installed", codes())
		now = maint.AddDate(0, 0, pack.EffectiveMaintenanceIntervalDays(registry.Facts(c))).Add(time.Hour)
		want("maintenance fallen due", codes(), policy.CodeMaintenanceOverdue)
		// Rows written by another pack are recomputed on Load; until then they may be stale.
		if err := db.PutFindings(ctx, []string{c.ID}, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.SetFindingsPack(ctx, "older"); err != nil {
			t.Fatal(err)
		}
		if err := reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		want("after a pack change", codes(), policy.CodeMaintenanceOverdue)
	})
}
