package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestSharingStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 30, 10, 0, 0, 123456000, time.UTC)
		var orgs []string
		for _, name := range []string{"A", "B", "C"} {
			o := &registry.Organisation{ID: registry.NewID(), Name: name, Kind: registry.KindEnterprise, CreatedAt: t0, UpdatedAt: t0}
			if err := db.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		terms, err := db.CurrentTerms(ctx)
		if err != nil || terms.Version != 1 || terms.Body == "" {
			t.Fatalf("CurrentTerms = %+v, %v; want the shipped version 1", terms, err)
		}
		grp := &sharing.Group{ID: registry.NewID(), OrganisationID: orgs[0], Name: "picked", Kind: sharing.GroupPicked,
			CameraIDs: []string{"c1", "c2"}, CreatedBy: "u1", CreatedAt: t0}
		if err := db.CreateGroup(ctx, grp); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Group(ctx, grp.ID); err != nil || got.Name != "picked" || !slices.Equal(got.CameraIDs, grp.CameraIDs) || !got.CreatedAt.Equal(t0) {
			t.Errorf("Group = %+v, %v; want %+v", got, err, grp)
		}
		if gs, err := db.Groups(ctx, orgs[1]); err != nil || len(gs) != 0 {
			t.Errorf("Groups(another organisation) = %v, %v; want none", gs, err)
		}
		end := t0.Add(time.Hour)
		g1 := &sharing.Grant{ID: registry.NewID(), OwnerOrganisationID: orgs[0], GranteeOrganisationID: orgs[1], CameraIDs: []string{"c1"},
			Scopes: []string{"live", "playback"}, Purpose: "p", StartsAt: t0, EndsAt: end, GrantedBy: "u1", GrantedAt: t0, TermsVersion: 1}
		g2 := &sharing.Grant{ID: registry.NewID(), OwnerOrganisationID: orgs[0], GranteeOrganisationID: orgs[2], GroupID: grp.ID,
			Scopes: []string{"emergency"}, Purpose: "q", StartsAt: t0, GrantedBy: "u1", GrantedAt: t0.Add(time.Second), TermsVersion: 1}
		for _, g := range []*sharing.Grant{g1, g2} {
			if err := db.CreateSharingGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.SharingGrant(ctx, g1.ID)
		if err != nil || !slices.Equal(got.Scopes, g1.Scopes) || !got.EndsAt.Equal(end) || !got.RevokedAt.IsZero() || got.GroupID != "" {
			t.Errorf("SharingGrant = %+v, %v; want %+v", got, err, g1)
		}
		ids := func(gs []*sharing.Grant) (out []string) {
			for _, g := range gs {
				out = append(out, g.ID)
			}
			return out
		}
		tests := []struct {
			owner, grantee string
			want           []string
		}{
			{orgs[0], "", []string{g1.ID, g2.ID}},
			{orgs[0], orgs[2], []string{g2.ID}},
			{"", orgs[1], []string{g1.ID}},
			{orgs[1], "", nil},
		}
		for _, tc := range tests {
			gs, err := db.GrantsBetween(ctx, tc.owner, tc.grantee)
			if err != nil || !slices.Equal(ids(gs), tc.want) {
				t.Errorf("GrantsBetween(%q, %q) = %v, %v; want %v", tc.owner, tc.grantee, ids(gs), err, tc.want)
			}
		}
		if err := db.RevokeSharingGrant(ctx, g1.ID, "u2", end); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeSharingGrant(ctx, g1.ID, "u3", end.Add(time.Hour)); err != nil {
			t.Errorf("RevokeSharingGrant(again) = %v; want nil", err)
		}
		if got, _ := db.SharingGrant(ctx, g1.ID); !got.RevokedAt.Equal(end) || got.RevokedBy != "u2" {
			t.Errorf("revoked grant = %+v; want the first revocation kept", got)
		}
		if err := db.RevokeSharingGrant(ctx, registry.NewID(), "u2", end); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("RevokeSharingGrant(missing) = %v; want store.ErrNotFound, which is fault.ErrNotFound", err)
		}
		n := &sharing.Notification{OrganisationID: orgs[0], GrantID: g2.ID, CameraID: "c1", UserID: "u9", CaseRef: "K-1", CreatedAt: t0}
		for i := range 2 {
			n.ID = registry.NewID()
			if err := db.AddNotification(ctx, n); err != nil {
				t.Fatalf("AddNotification #%d = %v", i+1, err)
			}
		}
		n.ID, n.CaseRef = registry.NewID(), "K-2"
		if err := db.AddNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		if ns, err := db.Notifications(ctx, orgs[0]); err != nil || len(ns) != 2 {
			t.Errorf("Notifications = %d, %v; want 2 (one per case)", len(ns), err)
		}
		if v, err := db.PublishTerms(ctx, "v2", t0); err != nil || v.Version != 2 {
			t.Errorf("PublishTerms = %+v, %v; want version 2", v, err)
		}
		if cur, err := db.CurrentTerms(ctx); err != nil || cur.Version != 2 || cur.Body != "v2" {
			t.Errorf("CurrentTerms after publishing = %+v, %v; want version 2", cur, err)
		}
	})
}
