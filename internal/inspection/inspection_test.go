package inspection_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/clocktest"
	"civicam/internal/fault"
	"civicam/internal/inspection"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// tracer keeps the actions it was given, and fails when down is set.
type tracer struct {
	actions []string
	down    bool
}

func (t *tracer) Record(_ context.Context, r trace.Record) error {
	if t.down {
		return trace.ErrUnavailable
	}
	t.actions = append(t.actions, string(r.Action)+":"+string(r.Outcome))
	return nil
}

type env struct {
	svc           *inspection.Service
	db            *store.DB
	tr            *tracer
	clock         *clocktest.Clock
	hotel, bank   string
	owner, other  *auth.User
	police, admin *auth.User
	auditor       *auth.User
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e := &env{db: db, tr: &tracer{}, clock: clocktest.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))}
	for _, o := range []*registry.Organisation{
		{ID: registry.NewID(), Name: "Hotel", Kind: registry.KindEstablishment, EstablishmentType: "hotel"},
		{ID: registry.NewID(), Name: "Bank", Kind: registry.KindEstablishment, EstablishmentType: "bank"},
	} {
		if err := db.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	orgs, _ := db.Organisations(ctx)
	for _, o := range orgs {
		if o.Name == "Hotel" {
			e.hotel = o.ID
		} else {
			e.bank = o.ID
		}
	}
	e.owner = &auth.User{ID: "u-owner", Role: auth.RoleOwner, OrganisationID: e.hotel}
	e.other = &auth.User{ID: "u-other", Role: auth.RoleOwner, OrganisationID: e.bank}
	e.police = &auth.User{ID: "u-police", Role: auth.RoleReviewer}
	e.admin = &auth.User{ID: "u-admin", Role: auth.RoleAdmin}
	e.auditor = &auth.User{ID: "u-aud", Role: auth.RoleAuditor}
	e.svc, err = inspection.New(inspection.Config{ReportsPerAddress: 3}, inspection.Deps{Repo: db, Organisations: db,
		Pack: func() *policy.Pack { return pack }, Tracer: e.tr, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func jpegWithGPS(t *testing.T) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	j := b.Bytes()
	payload := []byte("Exif\x00\x00GPSLatitude 27.83")
	seg := []byte{0xFF, 0xE1, 0, byte(len(payload) + 2)}
	return append(append(append(append([]byte{}, j[:2]...), seg...), payload...), j[2:]...)
}

func TestInspections(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if _, err := e.svc.SetPlan(ctx, e.other, e.bank, []string{"vault"}); err == nil {
			t.Errorf("SetPlan(bank) = nil; want a refusal: banks hold no private spaces")
		}
		if _, err := e.svc.SetPlan(ctx, e.other, e.hotel, []string{"floor 1"}); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("SetPlan(another's hotel) = %v; want not found", err)
		}
		// Before a plan, the hotel is overdue as a whole.
		od, err := e.svc.Overdue(ctx, e.police)
		if err != nil || len(od) != 1 || od[0].OrganisationID != e.hotel || od[0].RoomGroup != "" {
			t.Fatalf("Overdue before a plan = %+v, %v; want the hotel without a plan", od, err)
		}
		if _, err := e.svc.SetPlan(ctx, e.owner, e.hotel, []string{"floor 1", "floor 2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddRecord(ctx, e.owner, inspection.RecordInput{OrganisationID: e.hotel, RoomGroup: "floor 1",
			InspectedOn: "2026-12-01", Inspector: "Li", Result: inspection.ResultFound}, nil); err == nil {
			t.Errorf("AddRecord(found, no photo) = nil; want the photo required")
		}
		if _, err := e.svc.AddRecord(ctx, e.owner, inspection.RecordInput{OrganisationID: e.hotel, RoomGroup: "floor 1",
			InspectedOn: "2026-12-02", Inspector: "Li", Result: inspection.ResultClear}, nil); err == nil {
			t.Errorf("AddRecord(tomorrow) = nil; want a date in the future refused")
		}
		rec, err := e.svc.AddRecord(ctx, e.owner, inspection.RecordInput{OrganisationID: e.hotel, RoomGroup: "floor 1",
			InspectedOn: "2026-12-01", Inspector: "Li", Result: inspection.ResultFound, Notes: "pinhole in a smoke detector"}, jpegWithGPS(t))
		if err != nil {
			t.Fatal(err)
		}
		ph, err := e.svc.RecordPhoto(ctx, e.police, rec.ID)
		if err != nil || ph.ContentType != "image/jpeg" || bytes.Contains(ph.Data, []byte("GPS")) {
			t.Fatalf("RecordPhoto = %v, %v; want a JPEG without its EXIF", ph, err)
		}
		if _, err := e.svc.RecordPhoto(ctx, e.other, rec.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("RecordPhoto(another establishment) = %v; want not found", err)
		}
		od, _ = e.svc.Overdue(ctx, e.police)
		if len(od) != 1 || od[0].RoomGroup != "floor 2" {
			t.Errorf("Overdue after floor 1's inspection = %+v; want floor 2 only", od)
		}
		e.clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) // 31 days on
		od, _ = e.svc.Overdue(ctx, e.owner)
		if len(od) != 2 {
			t.Errorf("Overdue 31 days on = %+v; want both groups", od)
		}
		if od, _ := e.svc.Overdue(ctx, e.other); len(od) != 0 {
			t.Errorf("Overdue for another establishment's owner = %+v; want none of the hotel's", od)
		}
		want := []string{"inspection_plan:allowed", "inspection_record:allowed", "inspection_read:allowed"}
		if got := strings.Join(e.tr.actions, " "); got != strings.Join(want, " ") {
			t.Errorf("trail = %s; want %s", got, strings.Join(want, " "))
		}
		e.tr.down = true
		if _, err := e.svc.SetPlan(ctx, e.owner, e.hotel, []string{"x"}); !errors.Is(err, trace.ErrUnavailable) {
			t.Errorf("SetPlan with the trail down = %v; want ErrUnavailable", err)
		}
		if p, _ := db.InspectionPlan(ctx, e.hotel); len(p.RoomGroups) != 2 {
			t.Errorf("plan after a refused change = %v; want it unchanged", p.RoomGroups)
		}
	})
}

func TestReports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := auth.WithActor(context.Background(), auth.Actor{ClientAddr: "203.0.113.9"})
		rc, err := e.svc.SubmitReport(ctx, inspection.ReportInput{Place: "Hotel X room 305", Description: "a blinking light in the socket"}, jpegWithGPS(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []inspection.ReportInput{{Place: "", Description: "x"}, {Place: "x", Description: strings.Repeat("a", 5000)},
			{Place: "x\x00y", Description: "x"}} {
			if _, err := e.svc.SubmitReport(ctx, bad, nil); err == nil {
				t.Errorf("SubmitReport(%.20q) = nil; want invalid", bad.Place)
			}
		}
		// Three reports an address an hour: the fourth attempt is throttled.
		if _, err := e.svc.SubmitReport(ctx, inspection.ReportInput{Place: "a", Description: "b"}, nil); !isThrottled(err) {
			t.Errorf("SubmitReport after 3 = %v; want throttled", err)
		}
		other := auth.WithActor(context.Background(), auth.Actor{ClientAddr: "198.51.100.1"})
		if _, err := e.svc.SubmitReport(other, inspection.ReportInput{Place: "a", Description: "b"}, nil); err != nil {
			t.Errorf("SubmitReport from another address = %v; want it taken", err)
		}
		rs, err := e.svc.Reports(ctx, e.police, inspection.StatusReceived, 0)
		if err != nil || len(rs) != 2 {
			t.Fatalf("Reports = %d, %v; want 2", len(rs), err)
		}
		var id string
		for _, r := range rs {
			if r.Place == "Hotel X room 305" {
				id = r.ID
			}
		}
		if _, err := e.svc.Reports(ctx, e.owner, "", 0); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("Reports as an owner = %v; want forbidden", err)
		}
		if _, err := e.svc.HandleReport(ctx, e.police, id, inspection.ReportChange{Status: inspection.StatusVisited}); err == nil {
			t.Errorf("HandleReport(received → visited) = nil; want triage first")
		}
		for _, c := range []inspection.ReportChange{{Status: inspection.StatusTriaged}, {Status: inspection.StatusVisited, PoliceNote: "met manager Wang"},
			{Status: inspection.StatusClosed, Outcome: inspection.OutcomeRemoved, PublicNote: "A device was found and removed."}} {
			if _, err := e.svc.HandleReport(ctx, e.police, id, c); err != nil {
				t.Fatalf("HandleReport(%s) = %v", c.Status, err)
			}
		}
		v, err := e.svc.ReportStatus(context.Background(), strings.ToLower(rc.Code))
		if err != nil || v.Status != inspection.StatusClosed || v.Outcome != inspection.OutcomeRemoved {
			t.Fatalf("ReportStatus = %+v, %v; want closed, device removed", v, err)
		}
		if _, err := e.svc.ReportStatus(context.Background(), "AAAAA-AAAAA-AAAAA-AAAAA"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("ReportStatus(a guess) = %v; want not found", err)
		}
		ph, err := e.svc.ReportPhoto(ctx, e.police, id)
		if err != nil || bytes.Contains(ph.Data, []byte("GPS")) {
			t.Errorf("ReportPhoto = %v; want the sanitised photo", err)
		}
		c, _ := e.svc.ReportCounts(ctx)
		if c.Total != 2 || c.ByStatus["closed"] != 1 || c.ByOutcome[inspection.OutcomeRemoved] != 1 {
			t.Errorf("ReportCounts = %+v; want 2, one closed with the device removed", c)
		}
	})
}

func isThrottled(err error) bool {
	fe, ok := fault.As(err)
	return ok && fe.Kind == fault.Throttled
}
