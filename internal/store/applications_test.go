package store_test

import (
	"context"
	"errors"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestApplicationStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := &auth.User{ID: "11111111-1111-4111-8111-111111111111", Username: "citizen", PasswordHash: "x", Role: auth.RoleApplicant, CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		a := &lostperson.Application{ID: "22222222-2222-4222-8222-222222222222", ApplicantID: u.ID, Status: lostperson.StatusSubmitted,
			Relationship: "guardian", SubjectCategory: "child", Urgent: true, LastSeenAt: at(-3600), Lat: 27.8, Lon: 113.1,
			Description: "d", PolicyVersion: "v1", SubmittedAt: t0, TriageDue: at(7200), UpdatedAt: t0}
		if err := db.CreateApplication(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := db.Application(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastSeenAt != a.LastSeenAt || got.TriageDue != a.TriageDue || !got.ReviewDue.IsZero() || got.Lat != 27.8 || !got.Urgent {
			t.Errorf("Application = %+v; want %+v", got, a)
		}
		if _, err := db.Application(ctx, "33333333-3333-4333-8333-333333333333"); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, lostperson.ErrNotFound) {
			t.Errorf("Application(missing) = %v; want both packages' ErrNotFound", err)
		}
		a.Status, a.DecidedAt = lostperson.StatusAccepted, at(60)
		msg := &lostperson.Message{ID: "44444444-4444-4444-8444-444444444444", Kind: "result", Contact: lostperson.Contact{Kind: "email", Address: "a@b.cn"},
			Subject: "s", Body: "b", Status: lostperson.MessagePending, NextAt: t0, CreatedAt: t0}
		if err := db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, msg); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, nil); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("UpdateApplication(stale status) = %v; want ErrState", err)
		}
		if m, err := db.Message(ctx, msg.ID); err != nil || m.Body != "b" {
			t.Errorf("Message = %+v, %v; want the message enqueued with the update", m, err)
		}
		// A failed update enqueues nothing.
		msg2 := *msg
		msg2.ID = "55555555-5555-4555-8555-555555555555"
		db.UpdateApplication(ctx, a, lostperson.StatusSubmitted, &msg2)
		if _, err := db.Message(ctx, msg2.ID); !errors.Is(err, lostperson.ErrNotFound) {
			t.Errorf("Message after a refused update = %v; want not found", err)
		}
		// Two claimers of one due message: one wins.
		ok1, err1 := db.ClaimMessage(ctx, msg.ID, t0, at(60))
		ok2, err2 := db.ClaimMessage(ctx, msg.ID, t0, at(60))
		if err1 != nil || err2 != nil || !ok1 || ok2 {
			t.Errorf("ClaimMessage twice = %v %v, %v %v; want exactly one win", ok1, err1, ok2, err2)
		}
		as, err := db.Applications(ctx, lostperson.Filter{Statuses: []lostperson.Status{lostperson.StatusAccepted}})
		if err != nil || len(as) != 1 {
			t.Errorf("Applications(accepted) = %d, %v; want 1", len(as), err)
		}
		if err := db.PutGrants(ctx, []lostperson.FootageGrant{{ApplicationID: a.ID, ReviewerID: "r", CameraID: "c", From: at(0), To: at(60), CreatedAt: t0}}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutGrants(ctx, []lostperson.FootageGrant{{ApplicationID: a.ID, ReviewerID: "r", CameraID: "c", From: at(0), To: at(120), CreatedAt: at(1)}}); err != nil {
			t.Fatal(err)
		}
		if g, err := db.Grant(ctx, a.ID, "r", "c"); err != nil || !g.To.Equal(at(120)) {
			t.Errorf("Grant = %+v, %v; want the later window", g, err)
		}
	})
}
