package store_test

import (
	"context"
	"testing"

	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestLegalBasisMigration: a free-text legal basis stored before 0013 becomes a pending basis
// with no pack id, its text kept as the document reference; a camera without one has none.
func TestLegalBasisMigration(t *testing.T) {
	storetest.ForEachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		old, err := store.OpenUntil(ctx, cfg, "0009_gb28181")
		if err != nil {
			t.Fatalf("OpenUntil(0009) = %v", err)
		}
		org, free, none := registry.NewID(), registry.NewID(), registry.NewID()
		if _, err := old.SQL().ExecContext(ctx, `INSERT INTO organisations (id, name, kind, created_at, updated_at) VALUES ($1, 'O', 'enterprise', 1, 1)`, org); err != nil {
			t.Fatal(err)
		}
		for id, basis := range map[string]string{free: "Article X of some law (test)", none: ""} {
			if _, err := old.SQL().ExecContext(ctx, `INSERT INTO cameras (id, name, organisation_id, investment, lat, lon, place_category,
				retention_days, status, legal_basis, created_at, updated_at) VALUES ($1, 'C', $2, 'government', 27.8, 113.1, 'public_square', 30, 'active', $3, 1, 1)`,
				id, org, basis); err != nil {
				t.Fatal(err)
			}
		}
		old.Close()

		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open (migrating to 0013) = %v", err)
		}
		defer db.Close()
		tests := []struct {
			id   string
			want registry.LegalBasisRecord
		}{
			{free, registry.LegalBasisRecord{DocumentRef: "Article X of some law (test)", Status: registry.BasisPending}},
			{none, registry.LegalBasisRecord{}},
		}
		for _, tt := range tests {
			c, err := db.Camera(ctx, registry.Scope{All: true}, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Basis != tt.want || c.Basis.InForce() || c.Public().LegalBasis != "" {
				t.Errorf("Camera(%s).Basis = %+v (in force %v, legal_basis %q); want %+v, not in force", tt.id, c.Basis, c.Basis.InForce(), c.Public().LegalBasis, tt.want)
			}
		}
	})
}
