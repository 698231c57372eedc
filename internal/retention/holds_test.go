package retention_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestHoldsPlace checks the desk's validation, scope and trace-before-write rule.
func TestHoldsPlace(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	cam := f.camera(t, "gate", 30)
	other := &registry.Organisation{Name: "Hotel", Kind: "establishment", EstablishmentType: "hotel"}
	if err := f.Registry.CreateOrganisation(setupCtx, other); err != nil {
		t.Fatal(err)
	}
	admin := &auth.User{ID: registry.NewID(), Username: "chief", Role: auth.RoleAdmin}
	owner := &auth.User{ID: registry.NewID(), Username: "hotelier", Role: auth.RoleOwner, OrganisationID: other.ID}
	start := day0
	ok := retention.HoldInput{CameraIDs: []string{cam, cam}, Start: start, End: start.Add(time.Hour), Reference: "case 7"}
	tests := []struct {
		name  string
		u     *auth.User
		edit  func(*retention.HoldInput)
		field string // the invalid field, or "" for another failure
		want  error  // the failure errors.Is sees, nil for success
	}{
		{"ok", admin, nil, "", nil},
		{"no cameras", admin, func(in *retention.HoldInput) { in.CameraIDs = nil }, "camera_ids", nil},
		{"bad camera id", admin, func(in *retention.HoldInput) { in.CameraIDs = []string{"../x"} }, "camera_ids", nil},
		{"no start", admin, func(in *retention.HoldInput) { in.Start = time.Time{} }, "start", nil},
		{"end before start", admin, func(in *retention.HoldInput) { in.End = in.Start }, "end", nil},
		{"no reference", admin, func(in *retention.HoldInput) { in.Reference = "  " }, "reference", nil},
		{"long reason", admin, func(in *retention.HoldInput) { in.Reason = strings.Repeat("长", retention.MaxHoldReason+1) }, "reason", nil},
		{"another organisation's camera", owner, nil, "", fault.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			if tt.edit != nil {
				tt.edit(&in)
			}
			h, err := f.Holds.Place(setupCtx, tt.u, in)
			switch fe, isFault := fault.As(err); {
			case tt.field != "":
				if !isFault || fe.Kind != fault.Invalid || fe.Field != tt.field {
					t.Fatalf("Place(%s) = %v; want invalid %s", tt.name, err, tt.field)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) {
					t.Fatalf("Place(%s) = %v; want %v", tt.name, err, tt.want)
				}
			case err != nil:
				t.Fatalf("Place(%s) = %v; want a hold", tt.name, err)
			default:
				if len(h.CameraIDs) != 1 || h.CreatedBy != admin.ID || !h.Active() {
					t.Errorf("Place(%s) = %+v; want one camera, placed by %s, active", tt.name, h, admin.ID)
				}
			}
		})
	}

	t.Run("trail down", func(t *testing.T) {
		before, err := f.Holds.List(setupCtx, admin, retention.HoldFilter{})
		if err != nil {
			t.Fatal(err)
		}
		f.Tracer.Fail.Store(true)
		defer f.Tracer.Fail.Store(false)
		if _, err := f.Holds.Place(setupCtx, admin, ok); !errors.Is(err, trace.ErrUnavailable) {
			t.Fatalf("Place with the trail down = %v; want trace.ErrUnavailable", err)
		}
		f.Tracer.Fail.Store(false)
		after, err := f.Holds.List(setupCtx, admin, retention.HoldFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("holds after an untraced placement = %d; want %d (nothing stored)", len(after), len(before))
		}
	})
}

// TestHoldsRelease checks who may release a hold, and that a release happens once.
func TestHoldsRelease(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	cam := f.camera(t, "gate", 30)
	admin := &auth.User{ID: registry.NewID(), Username: "chief", Role: auth.RoleAdmin}
	reviewer := &auth.User{ID: registry.NewID(), Username: "officer", Role: auth.RoleReviewer}
	op := &auth.User{ID: registry.NewID(), Username: "op", Role: auth.RoleOperator, OrganisationID: f.org}
	op2 := &auth.User{ID: registry.NewID(), Username: "op2", Role: auth.RoleOperator, OrganisationID: f.org}
	place := func(by *auth.User) string {
		t.Helper()
		h, err := f.Holds.Place(setupCtx, by, retention.HoldInput{CameraIDs: []string{cam}, Start: day0, End: day0.Add(time.Hour), Reference: "case"})
		if err != nil {
			t.Fatalf("Place = %v", err)
		}
		return h.ID
	}
	tests := []struct {
		name     string
		placedBy *auth.User
		by       *auth.User
		kind     fault.Kind // 0: released
	}{
		{"reviewer releases the police's hold", reviewer, reviewer, 0},
		{"admin releases an operator's hold", op, admin, 0},
		{"operator releases its own hold", op, op, 0},
		{"operator may not release the police's hold", reviewer, op, fault.Forbidden},
		{"operator may not release a colleague's hold", op2, op, fault.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := place(tt.placedBy)
			h, err := f.Holds.Release(setupCtx, tt.by, id, "case closed")
			if tt.kind == 0 {
				if err != nil || h.Active() || h.ReleasedBy != tt.by.ID {
					t.Fatalf("Release = %+v, %v; want released by %s", h, err, tt.by.ID)
				}
				if _, err := f.Holds.Release(setupCtx, tt.by, id, "again"); !errors.Is(err, fault.ErrConflict) {
					t.Errorf("Release twice = %v; want fault.ErrConflict", err)
				}
				return
			}
			if fe, ok := fault.As(err); !ok || fe.Kind != tt.kind {
				t.Fatalf("Release = %v; want a %v failure", err, tt.kind)
			}
		})
	}
	if _, err := f.Holds.Release(setupCtx, admin, place(admin), " "); err == nil {
		t.Errorf("Release without a reason = nil; want an invalid reason")
	}
	if _, err := f.Holds.Release(setupCtx, admin, registry.NewID(), "x"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Release of no hold = %v; want fault.ErrNotFound", err)
	}
}
