package sharing_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// tracer is the service's trail in these tests: it keeps what it was given, calls before (when
// set) as each record arrives, and fails when fail is set.
type tracer struct {
	mu     sync.Mutex
	recs   []trace.Record
	fail   bool
	before func(trace.Record)
}

func (tr *tracer) Record(_ context.Context, r trace.Record) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.before != nil {
		tr.before(r)
	}
	if tr.fail {
		return fmt.Errorf("%w: trail down (test)", trace.ErrUnavailable)
	}
	tr.recs = append(tr.recs, r)
	return nil
}

// take returns the records kept since the last take.
func (tr *tracer) take() []trace.Record {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	rs := tr.recs
	tr.recs = nil
	return rs
}

// view is a live view open in the fake live service.
type view struct {
	id  string
	org string
	cam *registry.Camera
}

// views is a live service with views, re-checked as the app's adapter does: by the access rule,
// asked in the context the service gives (the rule's sharing part being the service itself).
type views struct {
	svc    *sharing.Service
	now    func() time.Time
	open   []view
	ended  []string
	reason string
}

func (v *views) Refused(ctx context.Context, org string) []string {
	chk := &access.Checker{Grants: v.svc}
	var ids []string
	for _, x := range v.open {
		viewer := &auth.User{ID: "viewer-" + x.id, Role: auth.RoleOperator, OrganisationID: x.org}
		if x.org == org && chk.Check(ctx, viewer, x.cam, access.Live, v.now(), v.now(), "") != nil {
			ids = append(ids, x.id)
		}
	}
	return ids
}

func (v *views) EndViews(ids []string, reason string) int {
	v.ended, v.reason = append(v.ended, ids...), reason
	return len(ids)
}

// TestCreateGrantTracesFirst: a grant is traced before it is written, with the grant's account;
// with the trail down nothing is granted; a refused grant is not traced.
func TestCreateGrantTracesFirst(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		tests := []struct {
			name      string
			in        sharing.GrantInput
			trailDown bool
			wantErr   error // nil: granted
			wantTrace bool
		}{
			{"granted", sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live", "playback"},
				Purpose: "lobby", StartsAt: t0}, false, nil, true},
			{"trail down", sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live"},
				Purpose: "back door", StartsAt: t0}, true, trace.ErrUnavailable, false},
			{"refused", sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"peek"},
				Purpose: "x", StartsAt: t0}, false, fault.InvalidField("scopes", ""), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w.tracer.take()
				var storedAtTrace []*sharing.Grant
				w.tracer.before = func(trace.Record) { storedAtTrace, _ = db.GrantsBetween(ctx, w.owner, w.hotel) }
				w.tracer.fail = tt.trailDown
				defer func() { w.tracer.before, w.tracer.fail = nil, false }()
				before, _ := db.GrantsBetween(ctx, w.owner, w.hotel)

				g, err := w.svc.CreateGrant(ctx, w.ownerUser, tt.in)
				after, _ := db.GrantsBetween(ctx, w.owner, w.hotel)
				switch fe, _ := fault.As(tt.wantErr); {
				case tt.wantErr == nil && err != nil:
					t.Fatalf("CreateGrant(%s) = %v; want a grant", tt.name, err)
				case fe != nil:
					if got, ok := fault.As(err); !ok || got.Kind != fe.Kind || got.Field != fe.Field {
						t.Errorf("CreateGrant(%s) = %v; want %v on %s", tt.name, err, fe.Kind, fe.Field)
					}
				case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
					t.Errorf("CreateGrant(%s) = %v; want %v", tt.name, err, tt.wantErr)
				}
				recs := w.tracer.take()
				if !tt.wantTrace {
					if len(recs) != 0 {
						t.Errorf("CreateGrant(%s) traced %+v; want nothing", tt.name, recs)
					}
					if len(after) != len(before) {
						t.Errorf("CreateGrant(%s) left %d grants; want %d (nothing granted)", tt.name, len(after), len(before))
					}
					return
				}
				if len(storedAtTrace) != len(before) {
					t.Errorf("CreateGrant(%s): the grant was stored before it was traced", tt.name)
				}
				if len(after) != len(before)+1 {
					t.Errorf("CreateGrant(%s) left %d grants; want %d", tt.name, len(after), len(before)+1)
				}
				wantReason := fmt.Sprintf("grant %s: organisation %s shares with %s scopes live,playback; consent under terms version 1", g.ID, w.owner, w.hotel)
				if len(recs) != 1 || recs[0].Action != trace.ActionGrantCreate || recs[0].Outcome != trace.Allowed || recs[0].Reference != g.ID ||
					!slices.Equal(recs[0].CameraIDs, g.CameraIDs) || !recs[0].From.Equal(t0) || recs[0].Purpose != "lobby" || recs[0].Reason != wantReason {
					t.Errorf("CreateGrant(%s) traced %+v; want one grant_create of %s reading %q", tt.name, recs, g.ID, wantReason)
				}
			})
		}
	})
}

// TestRevokeGrantEndsLiveViews: a revocation is traced before it is written, saying how many live
// views it ends; it ends the grantee's views that nothing else covers, and only those; with the
// trail down the revocation still stands and the views still end, and the caller hears of the
// trail's failure.
func TestRevokeGrantEndsLiveViews(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		for _, trailDown := range []bool{false, true} {
			t.Run(fmt.Sprintf("trail down %v", trailDown), func(t *testing.T) {
				w.views.ended = nil
				g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID, w.camPrivate2.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
				// camPrivate2 stays shared with the hotel by another grant.
				w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate2.ID}, GranteeOrganisationID: w.hotel, Scopes: []string{"live"}})
				w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"live"}})
				w.views.open = []view{{"hotel-1", w.hotel, w.camPrivate}, {"hotel-2", w.hotel, w.camPrivate}, {"hotel-3", w.hotel, w.camPrivate2},
					{"psb-1", w.psb, w.camPrivate}}
				w.tracer.take()
				var revokedAtTrace bool
				w.tracer.before = func(trace.Record) {
					got, err := db.SharingGrant(ctx, g.ID)
					revokedAtTrace = err != nil || !got.RevokedAt.IsZero()
				}
				w.tracer.fail = trailDown
				at := w.clock.Now().Add(time.Hour)
				w.clock.Set(at)

				got, err := w.svc.RevokeGrant(ctx, w.ownerUser, g.ID)
				w.tracer.before, w.tracer.fail = nil, false
				if trailDown {
					if !errors.Is(err, trace.ErrUnavailable) {
						t.Errorf("RevokeGrant(trail down) = %+v, %v; want trace.ErrUnavailable", got, err)
					}
				} else if err != nil || got.RevokedAt.IsZero() || got.RevokedBy != w.ownerUser.ID {
					t.Fatalf("RevokeGrant = %+v, %v; want the grant revoked by %s", got, err, w.ownerUser.ID)
				}
				if revokedAtTrace {
					t.Errorf("RevokeGrant: the revocation was written before it was traced")
				}
				stored, err := db.SharingGrant(ctx, g.ID)
				if err != nil || !stored.RevokedAt.Equal(at) {
					t.Errorf("SharingGrant after RevokeGrant = %+v, %v; want revoked at %v", stored, err, at)
				}
				if want := []string{"hotel-1", "hotel-2"}; !slices.Equal(w.views.ended, want) || w.views.reason != "sharing grant "+g.ID+" revoked" {
					t.Errorf("RevokeGrant ended %v (%q); want %v (sharing grant %s revoked)", w.views.ended, w.views.reason, want, g.ID)
				}
				recs := w.tracer.take()
				if trailDown {
					if len(recs) != 0 {
						t.Errorf("RevokeGrant(trail down) kept %+v in the trail; want nothing", recs)
					}
					return
				}
				if len(recs) != 1 || recs[0].Action != trace.ActionGrantRevoke || recs[0].Reference != g.ID ||
					!strings.HasSuffix(recs[0].Reason, "; consent under terms version 1; revoked, 2 live view(s) ended") {
					t.Errorf("RevokeGrant traced %+v; want one grant_revoke of %s that ended 2 live views", recs, g.ID)
				}

				// Revoking again writes nothing new but is traced again.
				w.views.ended = nil
				w.clock.Set(at.Add(time.Hour))
				again, err := w.svc.RevokeGrant(ctx, w.ownerUser, g.ID)
				if err != nil || !again.RevokedAt.Equal(at) {
					t.Errorf("RevokeGrant(revoked) = %+v, %v; want it as revoked at %v", again, err, at)
				}
				if recs := w.tracer.take(); len(recs) != 1 || recs[0].Action != trace.ActionGrantRevoke {
					t.Errorf("RevokeGrant(revoked) traced %+v; want one grant_revoke", recs)
				}
			})
		}
	})
}

// TestAccessesTracesTheRead: the owners' view is traced before the trail is read, and refused
// untraced when it is malformed or not the caller's to read.
func TestAccessesTracesTheRead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		tests := []struct {
			name      string
			u         *auth.User
			org       string
			trailDown bool
			want      func(error) bool
			traced    bool
		}{
			{"owner", w.ownerUser, w.owner, false, func(err error) bool { return err == nil }, true},
			{"no organisation", w.ownerUser, "", false, isInvalid("organisation_id"), false},
			{"another's", w.user(w.hotel), w.owner, false, func(err error) bool { return errors.Is(err, fault.ErrNotFound) }, false},
			{"trail down", w.ownerUser, w.owner, true, func(err error) bool { return errors.Is(err, trace.ErrUnavailable) }, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w.tracer.take()
				w.tracer.fail = tt.trailDown
				defer func() { w.tracer.fail = false }()
				as, err := w.svc.Accesses(ctx, tt.u, tt.org)
				if !tt.want(err) {
					t.Errorf("Accesses(%s) = %v, %v; want otherwise", tt.name, as, err)
				}
				recs := w.tracer.take()
				want := 0
				if tt.traced {
					want = 1
				}
				if len(recs) != want || (want == 1 && (recs[0].Action != trace.ActionTraceRead ||
					recs[0].Reason != "accesses to organisation "+w.owner+"'s cameras by other organisations")) {
					t.Errorf("Accesses(%s) traced %+v; want %d trace_read", tt.name, recs, want)
				}
			})
		}
	})
}

// TestNotifications: the owner reads the emergency uses of its cameras; nobody else does.
func TestNotifications(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.psb, Scopes: []string{"emergency"}})
		if !allowed(t, w.svc, sharing.WithCaseRef(ctx, "CASE-9"), w.user(w.psb), w.camPrivate, access.Playback) {
			t.Fatal("Granted(emergency with a case) = false; want true")
		}
		tests := []struct {
			name string
			u    *auth.User
			org  string
			want func(error) bool
			n    int
		}{
			{"owner", w.ownerUser, w.owner, func(err error) bool { return err == nil }, 1},
			{"admin", &auth.User{ID: "a", Role: auth.RoleAdmin}, w.owner, func(err error) bool { return err == nil }, 1},
			{"no organisation", w.ownerUser, "", isInvalid("organisation_id"), 0},
			{"the grantee", w.user(w.psb), w.owner, func(err error) bool { return errors.Is(err, fault.ErrNotFound) }, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ns, err := w.svc.Notifications(ctx, tt.u, tt.org)
				if !tt.want(err) || len(ns) != tt.n || (tt.n == 1 && (ns[0].GrantID != g.ID || ns[0].CaseRef != "CASE-9")) {
					t.Errorf("Notifications(%s) = %+v, %v; want %d for case CASE-9", tt.name, ns, err, tt.n)
				}
			})
		}
	})
}

func isInvalid(field string) func(error) bool {
	return func(err error) bool {
		fe, ok := fault.As(err)
		return ok && fe.Kind == fault.Invalid && fe.Field == field
	}
}
