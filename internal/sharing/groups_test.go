package sharing_test

import (
	"context"
	"errors"
	"testing"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestGroupEdits: a picked group's grant follows the group as it is edited; a group a grant in
// force shares cannot be deleted, and once the grant is revoked it can, and is then found by
// nobody and listed nowhere; the wall between organisations holds for edits as for reads.
func TestGroupEdits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		grp, err := w.svc.CreateGroup(ctx, w.ownerUser, sharing.GroupInput{Name: "front", Kind: sharing.GroupPicked, CameraIDs: []string{w.camPrivate.ID}})
		if err != nil {
			t.Fatalf("CreateGroup = %v", err)
		}
		g := w.grant(t, sharing.GrantInput{GroupID: grp.ID, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
		hotel := w.user(w.hotel)
		w.tracer.take()

		added, err := w.svc.AddToGroup(ctx, w.ownerUser, grp.ID, w.camPrivate2.ID)
		if err != nil || !added {
			t.Fatalf("AddToGroup(camPrivate2) = %v, %v; want true, nil", added, err)
		}
		if !allowed(t, w.svc, ctx, hotel, w.camPrivate2, access.Live) {
			t.Errorf("Granted(camera added to the group) = false; want true")
		}
		if added, err := w.svc.AddToGroup(ctx, w.ownerUser, grp.ID, w.camPrivate2.ID); err != nil || added {
			t.Errorf("AddToGroup(again) = %v, %v; want false, nil", added, err)
		}
		if _, err := w.svc.AddToGroup(ctx, w.ownerUser, grp.ID, w.camGov.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("AddToGroup(another organisation's camera) = %v; want not found", err)
		}

		name, only := "front only", []string{w.camPrivate.ID}
		up, err := w.svc.UpdateGroup(ctx, w.ownerUser, grp.ID, sharing.GroupChange{Name: &name, CameraIDs: &only})
		if err != nil {
			t.Fatalf("UpdateGroup = %v", err)
		}
		if up.Name != name || len(up.CameraIDs) != 1 {
			t.Errorf("UpdateGroup = %q %v; want %q [camPrivate]", up.Name, up.CameraIDs, name)
		}
		if allowed(t, w.svc, ctx, hotel, w.camPrivate2, access.Live) {
			t.Errorf("Granted(camera removed from the group) = true; want false")
		}
		recs := w.tracer.take()
		var updates int
		for _, r := range recs {
			if r.Action == trace.ActionGroupUpdate && r.Outcome == trace.Allowed && r.Reference == grp.ID {
				updates++
			}
		}
		if updates != 2 {
			t.Errorf("group_update entries = %d; want 2 (the add and the edit; the repeated add changes nothing)", updates)
		}
		crit := "other"
		if _, err := w.svc.UpdateGroup(ctx, w.ownerUser, grp.ID, sharing.GroupChange{Criterion: &crit}); !isInvalid("criterion")(err) {
			t.Errorf("UpdateGroup(criterion of a picked group) = %v; want invalid", err)
		}
		other := &auth.User{ID: "o", Role: auth.RoleOperator, OrganisationID: w.urban}
		if _, err := w.svc.UpdateGroup(ctx, other, grp.ID, sharing.GroupChange{Name: &name}); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("UpdateGroup(by another organisation) = %v; want not found", err)
		}
		if err := w.svc.DeleteGroup(ctx, other, grp.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("DeleteGroup(by another organisation) = %v; want not found", err)
		}

		if err := w.svc.DeleteGroup(ctx, w.ownerUser, grp.ID); !errors.Is(err, sharing.ErrGroupInUse) {
			t.Fatalf("DeleteGroup(shared by a grant in force) = %v; want ErrGroupInUse", err)
		}
		if _, err := w.svc.RevokeGrant(ctx, w.ownerUser, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.DeleteGroup(ctx, w.ownerUser, grp.ID); err != nil {
			t.Fatalf("DeleteGroup(after revocation) = %v", err)
		}
		if _, err := w.svc.Group(ctx, w.ownerUser, grp.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("Group(deleted) = %v; want not found", err)
		}
		gs, err := w.svc.Groups(ctx, w.ownerUser)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range gs {
			if x.ID == grp.ID {
				t.Errorf("Groups() lists the deleted group")
			}
		}
		if _, err := w.svc.Grant(ctx, w.ownerUser, g.ID); err != nil {
			t.Errorf("Grant(revoked, over the deleted group) = %v; want it kept", err)
		}
		if err := w.svc.DeleteGroup(ctx, w.ownerUser, grp.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("DeleteGroup(again) = %v; want not found", err)
		}
	})
}
