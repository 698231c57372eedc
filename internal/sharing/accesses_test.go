package sharing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestAccesses: the owner's view lists exactly the trail's entries on its cameras by other
// organisations, each with the grant it was made under, and nothing of other owners' cameras.
func TestAccesses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		// The trail stamps entries with the real time; the grant is in force around it.
		g := w.grant(t, sharing.GrantInput{CameraIDs: []string{w.camPrivate.ID}, GranteeOrganisationID: w.hotel,
			Scopes: []string{"playback"}, StartsAt: time.Now().Add(-time.Hour), Purpose: "lobby incident"})
		admin := &auth.User{ID: "admin-1", Username: "admin1", Role: auth.RoleAdmin}
		record := func(u *auth.User, action trace.Action, outcome trace.Outcome, cams ...*registry.Camera) int64 {
			t.Helper()
			n := w.st.Size(t)
			var ids []string
			for _, c := range cams {
				ids = append(ids, c.ID)
			}
			uctx := auth.WithActor(ctx, auth.ActorOf(u, "127.0.0.1"))
			if err := w.st.Tracer.Record(uctx, trace.Record{Action: action, CameraIDs: ids, From: time.Now().Add(-time.Hour), To: time.Now(),
				Purpose: "p-" + string(action), Outcome: outcome}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		hotel, psb, transport := w.user(w.hotel), w.user(w.psb), w.user(w.transport)
		hotelPlayback := record(hotel, trace.ActionPlayback, trace.Allowed, w.camPrivate)
		record(w.ownerUser, trace.ActionPlayback, trace.Allowed, w.camPrivate) // the owner's own look
		psbLive := record(psb, trace.ActionLiveView, trace.Allowed, w.camGov)  // another owner's camera
		adminExport := record(admin, trace.ActionExport, trace.Allowed, w.camPrivate)
		transportDenied := record(transport, trace.ActionPlayback, trace.Denied, w.camPrivate2)
		hotelBoth := record(hotel, trace.ActionPlayback, trace.Allowed, w.camGov, w.camPrivate)

		as, err := w.svc.Accesses(ctx, w.ownerUser, w.owner)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			seq            int64
			cam, org, gran string
		}
		// Before the looks, the trail holds the console's registration of the owner's two cameras:
		// a change by someone outside the organisation, which the owner sees too.
		rows := func(as []sharing.Access) (setup []string, got []row) {
			for _, a := range as {
				if a.Seq < hotelPlayback {
					setup = append(setup, a.Action+" "+a.CameraID)
					continue
				}
				got = append(got, row{a.Seq, a.CameraID, a.ActorOrganisationID, a.GrantID})
			}
			return setup, got
		}
		setup, got := rows(as)
		if want := []string{"camera_create " + w.camPrivate.ID, "camera_create " + w.camPrivate2.ID}; !slices.Equal(setup, want) {
			t.Errorf("Accesses(owner) before the looks = %v; want %v", setup, want)
		}
		want := []row{
			{hotelPlayback, w.camPrivate.ID, w.hotel, g.ID},
			{adminExport, w.camPrivate.ID, "", ""},
			{transportDenied, w.camPrivate2.ID, w.transport, ""},
			{hotelBoth, w.camPrivate.ID, w.hotel, g.ID},
		}
		if !slices.Equal(got, want) {
			t.Errorf("Accesses(owner) =\n%+v\nwant\n%+v", got, want)
		}
		if len(as) > 2 && (as[2].Purpose != "p-playback" || as[2].UserID != hotel.ID || as[2].From.IsZero()) {
			t.Errorf("Accesses(owner)[2] = %+v; want who, range and purpose from the trail", as[2])
		}

		urban := &auth.User{ID: "urban-1", Role: auth.RoleOwner, OrganisationID: w.urban}
		as, err = w.svc.Accesses(ctx, urban, w.urban)
		if err != nil {
			t.Fatal(err)
		}
		setup, got = rows(as)
		if want := []string{"camera_create " + w.camGov.ID, "camera_create " + w.camGovForbidden.ID,
			"legal_basis_propose " + w.camGovForbidden.ID, "legal_basis_approve " + w.camGovForbidden.ID}; !slices.Equal(setup, want) {
			t.Errorf("Accesses(urban) before the looks = %v; want %v", setup, want)
		}
		want = []row{{psbLive, w.camGov.ID, w.psb, "policy"}, {hotelBoth, w.camGov.ID, w.hotel, ""}}
		if !slices.Equal(got, want) {
			t.Errorf("Accesses(urban) =\n%+v\nwant\n%+v", got, want)
		}

		if _, err := w.svc.Accesses(ctx, hotel, w.owner); err == nil {
			t.Errorf("Accesses(owner's cameras, asked by the grantee) = nil error; want a refusal")
		}

		var buf bytes.Buffer
		if err := sharing.WriteAccessesCSV(&buf, as); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		// The header, the four set-up rows (two cameras, the Depot's legal basis proposed and
		// approved), then the two looks, the first under policy.
		if err != nil || len(recs) != 7 || recs[0][0] != "seq" || recs[5][12] != "policy" {
			t.Errorf("WriteAccessesCSV = %v, %v; want a header and 6 rows, the fifth under policy", recs, err)
		}
	})
}
