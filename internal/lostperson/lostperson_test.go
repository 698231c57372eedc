package lostperson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/auth"
	"civicam/internal/lostperson"
	"civicam/internal/lostperson/lostpersontest"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestEligibility submits every subject category against every relationship of the pack (and
// names the pack does not know): eligible pairs are filed with the pack's deadlines, the rest
// refused with the pack's code and reason, traced as denied, and counted.
func TestEligibility(t *testing.T) {
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	apps := pack.Applications()
	type subject struct {
		id               string
		eligible, urgent bool
	}
	var subjects []subject
	for _, s := range apps.Subjects {
		subjects = append(subjects, subject{s.ID, s.Eligible, s.Urgent})
	}
	subjects = append(subjects, subject{"ghost", false, false})
	rels := map[string]bool{"ghost-relative": false}
	for _, r := range apps.Relationships {
		rels[r.ID] = r.Eligible
	}
	// The pack is the regulation: check it says what REG-6 says, so the table below means it.
	for _, want := range []struct {
		id       string
		eligible bool
	}{{"elderly", true}, {"child", true}, {"intellectual_disability", true}, {"pet", false}, {"property", false}, {"other_adult", false}} {
		if s, ok := apps.Subject(want.id); !ok || s.Eligible != want.eligible {
			t.Fatalf("pack subject %s eligible = %v (present %v); want %v", want.id, s.Eligible, ok, want.eligible)
		}
	}
	triage, _ := apps.Step(lostperson.StepTriage)
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		for _, s := range subjects {
			for rel, relOK := range rels {
				t.Run(s.id+"/"+rel, func(t *testing.T) {
					in := &lostperson.ApplicationInput{Relationship: rel, SubjectCategory: s.id, LastSeenAt: t0.Add(-time.Hour),
						Lat: ptr(27.83), Lon: ptr(113.15), Description: "red jacket"}
					a, err := e.svc.Submit(e.as(applicant), applicant.ID, in)
					var ie *lostperson.IneligibleError
					switch {
					case s.eligible && relOK:
						if err != nil {
							t.Fatalf("Submit(%s, %s) = %v; want filed", rel, s.id, err)
						}
						if a.Status != lostperson.StatusSubmitted || a.Urgent != s.urgent {
							t.Fatalf("Submit(%s, %s) = status %s urgent %v; want submitted, urgent %v", rel, s.id, a.Status, a.Urgent, s.urgent)
						}
						if got, want := a.TriageDue.Sub(a.SubmittedAt), triage.Deadline(s.urgent); got != want {
							t.Errorf("triage deadline = %v; want %v", got, want)
						}
						if r := e.trail.last(); r.Action != "application_decision" || r.Outcome != "allowed" || r.Reference != a.ID {
							t.Errorf("traced %+v; want application_decision allowed for %s", r, a.ID)
						}
					default:
						if !errors.As(err, &ie) {
							t.Fatalf("Submit(%s, %s) = %v; want an IneligibleError", rel, s.id, err)
						}
						want := policy.CodeIneligibleApplicant
						if !s.eligible {
							want = policy.CodeIneligibleSubject
						}
						d := ie.Decisions[0]
						if d.Code != want || d.Reason == "" || d.Rule == "" || ie.ReferTo == "" || ie.ReasonZH == "" {
							t.Fatalf("refusal = %+v refer %q zh %q; want code %s with reason, rule, referral", d, ie.ReferTo, ie.ReasonZH, want)
						}
						if ps, ok := apps.Subject(s.id); ok && !ps.Eligible && d.Reason != ps.Reason {
							t.Errorf("reason = %q; want the pack's %q", d.Reason, ps.Reason)
						}
						if r := e.trail.last(); r.Action != "application_decision" || r.Outcome != "denied" || r.Reference != ie.ApplicationID {
							t.Errorf("traced %+v; want application_decision denied", r)
						}
						// The refusal is counted but holds nothing of the missing person.
						stored, err := db.Application(e.ctx, ie.ApplicationID)
						if err != nil {
							t.Fatal(err)
						}
						if stored.Description != "" || stored.Lat != 0 || stored.RefusalCode != want {
							t.Errorf("stored refusal = %+v; want code only, no description or place", stored)
						}
					}
				})
			}
		}
	})
}

func TestSubmitValidates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		good := func() *lostperson.ApplicationInput {
			return &lostperson.ApplicationInput{Relationship: "guardian", SubjectCategory: "child", LastSeenAt: t0.Add(-time.Hour),
				Lat: ptr(27.8), Lon: ptr(113.1), Description: "blue cap"}
		}
		for _, tc := range []struct {
			field  string
			change func(*lostperson.ApplicationInput)
		}{
			{"last_seen_at", func(in *lostperson.ApplicationInput) { in.LastSeenAt = time.Time{} }},
			{"last_seen_at", func(in *lostperson.ApplicationInput) { in.LastSeenAt = t0.Add(time.Hour) }},
			{"lat", func(in *lostperson.ApplicationInput) { in.Lat = nil }},
			{"lat", func(in *lostperson.ApplicationInput) { in.Lat = ptr(95.0) }},
			{"description", func(in *lostperson.ApplicationInput) { in.Description = "  " }},
			{"relationship", func(in *lostperson.ApplicationInput) { in.Relationship = "" }},
		} {
			in := good()
			tc.change(in)
			_, err := e.svc.Submit(e.as(applicant), applicant.ID, in)
			var inv *registry.InvalidError
			if !errors.As(err, &inv) || inv.Field != tc.field {
				t.Errorf("Submit(bad %s) = %v; want InvalidError on %s", tc.field, err, tc.field)
			}
		}
	})
}

// TestFootageAllowed: the candidate search grants its reviewer exactly its cameras in exactly its
// window, for as long as the application is accepted.
func TestFootageAllowed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		other := e.user("officer2", auth.RoleReviewer)
		near := e.camera("Near", 27.8300, 113.1500)
		far := e.camera("Far", 27.9300, 113.1500) // 11 km north
		idle := e.camera("Idle", 27.8310, 113.1500)
		e.record(near, t0.Add(-3*time.Hour), t0)
		e.record(far, t0.Add(-3*time.Hour), t0)
		a := e.submit(applicant, "elderly", 27.8301, 113.1501)

		if err := e.svc.FootageAllowed(e.ctx, a.ID, rev.ID, near, t0.Add(-90*time.Minute), t0.Add(-80*time.Minute)); !errors.Is(err, lostperson.ErrFootageDenied) {
			t.Fatalf("FootageAllowed before acceptance = %v; want ErrFootageDenied", err)
		}
		if _, err := e.svc.SearchCandidates(e.as(rev), a.ID); !errors.Is(err, lostperson.ErrState) {
			t.Fatalf("SearchCandidates before acceptance = %v; want ErrState", err)
		}
		if _, err := e.decide(rev, a.ID, true, "urgent, documents in order"); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.SearchCandidates(e.as(rev), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Cameras) != 1 || c.Cameras[0].CameraID != near {
			t.Fatalf("candidates = %+v; want only the near camera with recordings", c.Cameras)
		}
		if r := e.trail.last(); r.Action != "search" || r.Reference != a.ID || len(r.CameraIDs) != 1 || r.CameraIDs[0] != near || !r.From.Equal(c.From) || !r.To.Equal(c.To) {
			t.Fatalf("traced %+v; want search for %s on [%s] in the window", r, a.ID, near)
		}
		wantFrom := a.LastSeenAt.Add(-time.Hour)
		if !c.From.Equal(wantFrom) || !c.To.Equal(t0) {
			t.Fatalf("window = %s..%s; want %s..%s", c.From, c.To, wantFrom, t0)
		}
		for _, tc := range []struct {
			name      string
			user, cam string
			from, to  time.Time
			allowed   bool
		}{
			{"inside", rev.ID, near, wantFrom, t0, true},
			{"inside part", rev.ID, near, t0.Add(-100 * time.Minute), t0.Add(-90 * time.Minute), true},
			{"starts before window", rev.ID, near, wantFrom.Add(-time.Second), t0.Add(-time.Hour), false},
			{"ends after window", rev.ID, near, t0.Add(-time.Minute), t0.Add(time.Minute), false},
			{"long before", rev.ID, near, t0.Add(-48 * time.Hour), t0.Add(-47 * time.Hour), false},
			{"unrelated camera", rev.ID, far, t0.Add(-100 * time.Minute), t0.Add(-90 * time.Minute), false},
			{"camera without footage", rev.ID, idle, t0.Add(-100 * time.Minute), t0.Add(-90 * time.Minute), false},
			{"another reviewer", other.ID, near, t0.Add(-100 * time.Minute), t0.Add(-90 * time.Minute), false},
			{"the applicant", applicant.ID, near, t0.Add(-100 * time.Minute), t0.Add(-90 * time.Minute), false},
			{"empty range", rev.ID, near, t0.Add(-100 * time.Minute), t0.Add(-100 * time.Minute), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := e.svc.FootageAllowed(e.ctx, a.ID, tc.user, tc.cam, tc.from, tc.to)
				if tc.allowed && err != nil {
					t.Fatalf("FootageAllowed = %v; want nil", err)
				}
				if !tc.allowed && !errors.Is(err, lostperson.ErrFootageDenied) {
					t.Fatalf("FootageAllowed = %v; want ErrFootageDenied", err)
				}
			})
		}
		if err := e.svc.FootageAllowed(e.ctx, registry.NewID(), rev.ID, near, wantFrom, t0); !errors.Is(err, lostperson.ErrFootageDenied) {
			t.Errorf("FootageAllowed(unknown application) = %v; want ErrFootageDenied", err)
		}
		if _, err := e.writeResult(rev, a.ID, lostperson.OutcomeSighted, "Seen on Renmin Road at 14:10."); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.FootageAllowed(e.ctx, a.ID, rev.ID, near, wantFrom, t0); !errors.Is(err, lostperson.ErrFootageDenied) {
			t.Errorf("FootageAllowed after the result = %v; want ErrFootageDenied (access ends with the application)", err)
		}
	})
}

// TestCandidateRanking: nearer and better-covered cameras first, ranges merged and clipped.
func TestCandidateRanking(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{SearchRadiusM: 2000})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		// 0.009° of latitude is about 1 km.
		closeFull := e.camera("close, full", 27.8300, 113.15)
		farFull := e.camera("far, full", 27.8300+0.0162, 113.15)   // ~1.8 km
		closeGap := e.camera("close, gap", 27.8300+0.0009, 113.15) // ~100 m, half the window
		e.record(closeFull, t0.Add(-5*time.Hour), t0.Add(time.Hour))
		e.record(farFull, t0.Add(-5*time.Hour), t0)
		e.record(closeGap, t0.Add(-2*time.Hour), t0.Add(-90*time.Minute))
		e.record(closeGap, t0.Add(-30*time.Minute), t0)
		a := e.submit(applicant, "child", 27.8300, 113.15)
		if _, err := e.decide(rev, a.ID, true, "ok"); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.SearchCandidates(e.as(rev), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range c.Cameras {
			got = append(got, x.Name)
		}
		want := []string{"close, full", "far, full", "close, gap"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("ranking = %q; want %q", got, want)
		}
		full := c.Cameras[0]
		if full.Coverage != 1 || len(full.Ranges) != 1 || !full.Ranges[0].Start.Equal(c.From) || !full.Ranges[0].End.Equal(c.To) {
			t.Errorf("full camera = coverage %v ranges %+v; want 1 and one range clipped to %s..%s", full.Coverage, full.Ranges, c.From, c.To)
		}
		gap := c.Cameras[2]
		if len(gap.Ranges) != 2 || gap.Coverage != 0.5 {
			t.Errorf("gappy camera = coverage %v ranges %+v; want 0.5 in 2 ranges", gap.Coverage, gap.Ranges)
		}
	})
}

func TestDecisionsAndStates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		a := e.submit(applicant, "intellectual_disability", 27.83, 113.15)
		if _, err := e.svc.WriteResult(e.as(rev), a.ID, lostperson.OutcomeFound, "x"); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("WriteResult before acceptance = %v; want ErrState", err)
		}
		if _, err := e.svc.AddFinding(e.as(rev), a.ID, "x"); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("AddFinding before acceptance = %v; want ErrState", err)
		}
		if _, err := e.decide(rev, a.ID, false, "The relationship document is illegible; apply again with a clear copy."); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Decide(e.as(rev), a.ID, true, "changed my mind"); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("second Decide = %v; want ErrState", err)
		}
		v, err := e.svc.ForApplicant(e.ctx, applicant.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != lostperson.StatusRejected || !strings.Contains(v.RejectionReason, "illegible") {
			t.Errorf("applicant view = %+v; want rejected with the reason", v)
		}
		if _, err := e.svc.ForApplicant(e.ctx, e.user("stranger", auth.RoleApplicant).ID, a.ID); !errors.Is(err, lostperson.ErrNotFound) {
			t.Errorf("ForApplicant(someone else's) = %v; want ErrNotFound", err)
		}
		e.trail.fail = true
		b := &lostperson.ApplicationInput{Relationship: "guardian", SubjectCategory: "child", LastSeenAt: t0, Lat: ptr(27.8), Lon: ptr(113.1), Description: "d"}
		if _, err := e.svc.Submit(e.as(applicant), applicant.ID, b); !errors.Is(err, trace.ErrUnavailable) {
			t.Errorf("Submit with the trail down = %v; want ErrTrail", err)
		}
		if as, _ := db.Applications(e.ctx, lostperson.Filter{ApplicantID: applicant.ID}); len(as) != 1 {
			t.Errorf("applications after a failed trail = %d; want 1 (nothing stored untraced)", len(as))
		}
	})
}

// TestDeadlines: urgent categories take the urgent limits; an open application past a step's
// limit is overdue, flagged and counted in the queue, and first in it.
func TestDeadlines(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		pack, _ := policy.Default()
		apps := pack.Applications()
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		urgent := e.submit(applicant, "child", 27.83, 113.15)
		triage, _ := apps.Step(lostperson.StepTriage)
		review, _ := apps.Step(lostperson.StepFootageReview)
		if got := urgent.TriageDue.Sub(urgent.SubmittedAt); got != triage.Deadline(true) {
			t.Fatalf("urgent triage limit = %v; want %v", got, triage.Deadline(true))
		}
		e.clock.Add(triage.Deadline(true) + time.Minute)
		fresh := e.submit(applicant, "elderly", 27.83, 113.15)
		q, err := e.svc.ReviewQueue(e.ctx, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		if q.Overdue != 1 || len(q.Applications) != 2 || q.Applications[0].ID != urgent.ID || !q.Applications[0].Overdue || q.Applications[1].Overdue {
			t.Fatalf("queue = %d overdue, first %s; want 1 overdue, %s first", q.Overdue, q.Applications[0].ID, urgent.ID)
		}
		st, err := e.svc.Statistics(e.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if st.Open != 2 || st.Overdue != 1 {
			t.Errorf("statistics open %d overdue %d; want 2, 1", st.Open, st.Overdue)
		}
		v, err := e.decide(rev, fresh.ID, true, "ok")
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Deadlines[1].Due.Sub(e.clock.Now()); got != review.Deadline(true) {
			t.Errorf("review deadline after acceptance = %v; want %v from the decision", got, review.Deadline(true))
		}
	})
}

// TestStatistics: per month received, refused by reason, accepted and the median time to result.
func TestStatistics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		e.clock.t = time.Date(2026, 10, 10, 9, 0, 0, 0, time.UTC)
		refuse := func(rel, subj string) {
			_, err := e.svc.Submit(e.as(applicant), applicant.ID, &lostperson.ApplicationInput{Relationship: rel, SubjectCategory: subj})
			var ie *lostperson.IneligibleError
			if !errors.As(err, &ie) {
				t.Fatalf("Submit(%s,%s) = %v; want refused", rel, subj, err)
			}
		}
		resolve := func(after time.Duration) {
			a := e.submit(applicant, "elderly", 27.83, 113.15)
			if _, err := e.decide(rev, a.ID, true, "ok"); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(after)
			if _, err := e.writeResult(rev, a.ID, lostperson.OutcomeNoRelevantFootage, "Nothing relevant was recorded."); err != nil {
				t.Fatal(err)
			}
		}
		refuse("guardian", "pet")
		refuse("other", "child")
		resolve(2 * time.Hour)
		resolve(4 * time.Hour)
		resolve(9 * time.Hour)
		e.clock.t = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
		refuse("guardian", "property")
		rej := e.submit(applicant, "child", 27.83, 113.15)
		if _, err := e.decide(rev, rej.ID, false, "no"); err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.Statistics(e.ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Months) != 3 || st.Months[0].Month != "2026-11" || st.Months[1].Month != "2026-10" || st.Months[2].Month != "2026-09" {
			t.Fatalf("months = %+v; want 2026-11, 2026-10, 2026-09", st.Months)
		}
		nov, oct := st.Months[0], st.Months[1]
		if oct.Received != 5 || oct.Accepted != 3 || oct.Results != 3 || oct.Refused["ineligible_subject"] != 1 || oct.Refused["ineligible_applicant"] != 1 {
			t.Errorf("October = %+v; want 5 received, 3 accepted, 3 results, 1+1 refused", oct)
		}
		if oct.MedianHoursToResult == nil || *oct.MedianHoursToResult != 4 {
			t.Errorf("October median = %v; want 4 h", oct.MedianHoursToResult)
		}
		if nov.Received != 2 || nov.Refused["ineligible_subject"] != 1 || nov.Refused["rejected_on_review"] != 1 || nov.MedianHoursToResult != nil {
			t.Errorf("November = %+v; want 2 received, 1 ineligible_subject, 1 rejected_on_review, no median", nov)
		}
	})
}

// TestRegisterVerify: the code goes only through the outbox, is stored hashed, expires, and
// wrong codes are limited.
func TestRegisterVerify(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{CodeAttempts: 3, CodeTTL: 10 * time.Minute})
		code := func(p *lostperson.Pending) string {
			var body string
			err := db.SQL().QueryRowContext(e.ctx, `SELECT body FROM outbox WHERE reference = $1`, p.RegistrationID).Scan(&body)
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`\b(\d{6})\b`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no code in %q", body)
			}
			return m[1]
		}
		p, err := e.svc.Register(e.ctx, "mother1", "a long enough password", "+86 138-0000-1234")
		if err != nil {
			t.Fatal(err)
		}
		if p.SentTo != "**********1234" {
			t.Errorf("SentTo = %q; want the number masked", p.SentTo)
		}
		c := code(p)
		var stored []byte
		if err := db.SQL().QueryRowContext(e.ctx, `SELECT code_hash FROM applicant_registrations WHERE id = $1`, p.RegistrationID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(c)) || len(stored) != 32 {
			t.Errorf("code_hash = %x; want a 32-byte hash, not the code", stored)
		}
		wrong := "000000"
		if c == wrong {
			wrong = "111111"
		}
		for i := range 2 {
			if _, err := e.svc.Verify(e.ctx, p.RegistrationID, wrong); !errors.Is(err, lostperson.ErrCode) {
				t.Fatalf("Verify(wrong #%d) = %v; want ErrCode", i, err)
			}
		}
		u, err := e.svc.Verify(e.ctx, p.RegistrationID, c)
		if err != nil {
			t.Fatalf("Verify(right, after 2 wrong) = %v", err)
		}
		if u.Role != auth.RoleApplicant || !passwordOK(u.PasswordHash, "a long enough password") {
			t.Errorf("user = %+v; want an applicant with the registered password", u)
		}
		if r := e.trail.last(); r.Action != "user_create" {
			t.Errorf("traced %+v; want user_create", r)
		}
		if _, err := e.svc.Verify(e.ctx, p.RegistrationID, c); !errors.Is(err, lostperson.ErrCode) {
			t.Errorf("Verify(used) = %v; want ErrCode", err)
		}
		if ct, err := db.ApplicantContact(e.ctx, u.ID); err != nil || ct.Address != "+8613800001234" {
			t.Errorf("contact = %+v, %v; want +8613800001234", ct, err)
		}
		// A taken username is answered as a free one; its contact is told, and no code verifies it.
		taken, err := e.svc.Register(e.ctx, "mother1", "a long enough password", "a@b.cn")
		if err != nil || taken.SentTo != "*@b.cn" || taken.Note != p.Note || !taken.ExpiresAt.Equal(p.ExpiresAt) {
			t.Errorf("Register(taken username) = %+v, %v; want the answer a free one gets (%+v)", taken, err, p)
		}
		var kind, body string
		if err := db.SQL().QueryRowContext(e.ctx, `SELECT kind, body FROM outbox WHERE reference = $1`, taken.RegistrationID).Scan(&kind, &body); err != nil {
			t.Fatal(err)
		}
		if kind != "username_taken" || regexp.MustCompile(`\b\d{6}\b`).MatchString(body) {
			t.Errorf("message for a taken username = %s %q; want username_taken without a code", kind, body)
		}
		for _, guess := range []string{"000000", c, "123456"} {
			if _, err := e.svc.Verify(e.ctx, taken.RegistrationID, guess); !errors.Is(err, lostperson.ErrCode) {
				t.Errorf("Verify(registration of a taken username, %s) = %v; want ErrCode", guess, err)
			}
		}

		// Exhausted attempts and expiry.
		p2, err := e.svc.Register(e.ctx, "father1", "a long enough password", "Father@Example.cn")
		if err != nil {
			t.Fatal(err)
		}
		c2 := code(p2)
		for range 3 {
			e.svc.Verify(e.ctx, p2.RegistrationID, wrong)
		}
		if _, err := e.svc.Verify(e.ctx, p2.RegistrationID, c2); !errors.Is(err, lostperson.ErrCode) {
			t.Errorf("Verify(right, after 3 wrong) = %v; want ErrCode", err)
		}
		p3, err := e.svc.Register(e.ctx, "father2", "a long enough password", "father@example.cn")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(10 * time.Minute)
		if _, err := e.svc.Verify(e.ctx, p3.RegistrationID, code(p3)); !errors.Is(err, lostperson.ErrCode) {
			t.Errorf("Verify(expired) = %v; want ErrCode", err)
		}
		if _, err := e.svc.Register(e.ctx, "father3", "a long enough password", "FATHER@example.cn"); err != nil {
			t.Fatalf("third code to one contact within the hour = %v; want sent", err)
		}
		if _, err := e.svc.Register(e.ctx, "father4", "a long enough password", "father@EXAMPLE.cn"); !errors.Is(err, lostperson.ErrTooMany) {
			t.Errorf("fourth code to one contact within the hour = %v; want ErrTooMany", err)
		}
		for _, bad := range []struct{ user, pass, contact, field string }{
			{"x", "a long enough password", "a@b.cn", "username"},
			{"okname", "short", "a@b.cn", "password"},
			{"okname", "a long enough password", "not a contact", "contact"},
			{"okname", "a long enough password", "12", "contact"},
		} {
			_, err := e.svc.Register(e.ctx, bad.user, bad.pass, bad.contact)
			var inv *registry.InvalidError
			if !errors.As(err, &inv) || inv.Field != bad.field {
				t.Errorf("Register(%q,%q,%q) = %v; want invalid %s", bad.user, bad.pass, bad.contact, err, bad.field)
			}
		}
	})
}

// TestOutboxRetry: a failing webhook is retried with doubling waits until it answers, and a
// message that never gets through is marked failed.
func TestOutboxRetry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var mu sync.Mutex
		failures := 2
		var got []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.Header.Get("Idempotency-Key") == "" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("webhook request lacks its headers: %v", r.Header)
			}
			if failures > 0 {
				failures--
				http.Error(w, "gateway busy", http.StatusServiceUnavailable)
				return
			}
			var m map[string]any
			json.NewDecoder(r.Body).Decode(&m)
			got = append(got, m)
		}))
		defer hook.Close()
		clk := &clock{t: t0}
		ob, err := lostperson.NewOutbox(lostperson.OutboxConfig{WebhookURL: hook.URL, BaseBackoff: time.Minute, MaxAttempts: 4},
			lostperson.OutboxDeps{Repo: db, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		m := &lostperson.Message{ID: registry.NewID(), Kind: "result", Contact: lostperson.Contact{Kind: "email", Address: "a@b.cn"},
			Subject: "s", Body: "your result", Status: lostperson.MessagePending, NextAt: t0, CreatedAt: t0}
		if err := db.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		pass := func(wantDelivered int) *lostperson.Message {
			t.Helper()
			n, err := ob.DeliverDue(ctx)
			if err != nil || n != wantDelivered {
				t.Fatalf("DeliverDue = %d, %v; want %d", n, err, wantDelivered)
			}
			s, err := db.Message(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s := pass(0)
		if s.Status != lostperson.MessagePending || s.Attempts != 1 || !s.NextAt.Equal(t0.Add(time.Minute)) || !strings.Contains(s.LastError, "503") {
			t.Fatalf("after 1 failure: %+v; want pending, 1 attempt, next in 1 min", s)
		}
		clk.Add(59 * time.Second)
		if s := pass(0); s.Attempts != 1 {
			t.Fatalf("before the backoff ended: attempts %d; want 1 (not retried early)", s.Attempts)
		}
		clk.Add(time.Second)
		s = pass(0)
		if s.Attempts != 2 || !s.NextAt.Equal(clk.Now().Add(2*time.Minute)) {
			t.Fatalf("after 2 failures: %+v; want next in 2 min", s)
		}
		clk.Add(2 * time.Minute)
		s = pass(1)
		if s.Status != lostperson.MessageDelivered || s.Attempts != 3 || s.DeliveredAt.IsZero() {
			t.Fatalf("after success: %+v; want delivered on attempt 3", s)
		}
		if len(got) != 1 || got[0]["text"] != "your result" || got[0]["to"].(map[string]any)["address"] != "a@b.cn" {
			t.Fatalf("webhook got %v; want the message once", got)
		}
		if pass(0); len(got) != 1 {
			t.Fatalf("a delivered message was sent again")
		}

		mu.Lock()
		failures = 100
		mu.Unlock()
		m2 := &lostperson.Message{ID: registry.NewID(), Kind: "result", Contact: lostperson.Contact{Kind: "phone", Address: "+861"},
			Subject: "s", Body: "b", Status: lostperson.MessagePending, NextAt: clk.Now(), CreatedAt: clk.Now()}
		if err := db.EnqueueMessage(ctx, m2); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			ob.DeliverDue(ctx)
			clk.Add(time.Hour)
		}
		s2, _ := db.Message(ctx, m2.ID)
		if s2.Status != lostperson.MessageFailed || s2.Attempts != 4 {
			t.Fatalf("after 4 failures: %+v; want failed", s2)
		}
	})
}

// TestOutboxRun: the component delivers on its own and stops when its context ends.
func TestOutboxRun(t *testing.T) {
	db := storetest.SQLite(t)
	got := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer hook.Close()
	ob, err := lostperson.NewOutbox(lostperson.OutboxConfig{WebhookURL: hook.URL, Interval: 10 * time.Millisecond}, lostperson.OutboxDeps{Repo: db})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.EnqueueMessage(context.Background(), &lostperson.Message{ID: registry.NewID(), Kind: "k", Contact: lostperson.Contact{Kind: "email", Address: "x@y.cn"},
		Subject: "s", Body: "hello", Status: lostperson.MessagePending, NextAt: now, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx) }()
	if b := <-got; !strings.Contains(b, "hello") {
		t.Errorf("webhook got %s; want the message", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil after cancel", err)
	}
}

func TestProcedures(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		admin := e.user("admin", auth.RoleAdmin)
		cur, all, err := e.svc.Procedures(e.ctx)
		if err != nil || cur.Version != 0 || len(all) != 0 || len(cur.Steps) != 3 {
			t.Fatalf("Procedures() before publishing = v%d, %d versions, %d steps, %v; want the default v0 with the pack's 3 steps", cur.Version, len(all), len(cur.Steps), err)
		}
		in := &lostperson.ProcedureInput{TitleZH: "条件和程序", TitleEN: "Conditions", BodyZH: "正文", BodyEN: "Body",
			Documents: []lostperson.RequiredDoc{{ZH: "身份证", EN: "Identity card"}}}
		p1, err := e.svc.PublishProcedure(e.as(admin), in)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(24 * time.Hour)
		in.BodyEN = "Body, second edition"
		p2, err := e.svc.PublishProcedure(e.as(admin), in)
		if err != nil {
			t.Fatal(err)
		}
		if p1.Version != 1 || p2.Version != 2 {
			t.Fatalf("versions = %d, %d; want 1, 2", p1.Version, p2.Version)
		}
		if r := e.trail.last(); r.Action != "policy_change" {
			t.Errorf("traced %+v; want policy_change", r)
		}
		cur, all, err = e.svc.Procedures(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 2 || len(all) != 2 || all[1].BodyEN != "Body" || !all[1].PublishedAt.Equal(t0) || !all[0].PublishedAt.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("history = %+v; want v2 current, v1 kept with its text and date", all)
		}
		if cur.Steps[0].UrgentHours == 0 || cur.PolicyVersion == "" || len(cur.Subjects) == 0 {
			t.Errorf("current = %+v; want the pack's steps, subjects and version", cur)
		}
		if _, err := e.svc.PublishProcedure(e.as(admin), &lostperson.ProcedureInput{TitleZH: "x", TitleEN: "x", BodyZH: "x", BodyEN: "x"}); err == nil {
			t.Error("PublishProcedure(no documents) = nil; want invalid")
		}
	})
}

func TestNoticePDF(t *testing.T) {
	for _, tc := range []struct {
		name, notice string
		want         []string
	}{
		{"latin", "Seen at the east gate of Shennong Park at 14:10.", []string{"Shennong Park", "seen in the footage"}},
		{"chinese", "在神农公园东门发现", []string{"replaced by"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			v := &lostperson.ApplicantView{Case: lostperson.Case{ID: "app-1", Status: lostperson.StatusCompleted}, ResultOutcome: lostperson.OutcomeSighted,
				ResultNotice: tc.notice, SubmittedAt: t0, ResultAt: t0.Add(3 * time.Hour)}
			if err := lostperson.RenderNoticePDF(&buf, v, nil); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Fatalf("output starts %q; want a PDF", b[:min(8, len(b))])
			}
			text := lostpersontest.PDFText(b)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("PDF text lacks %q", w)
				}
			}
		})
	}
}

func passwordOK(hash, pw string) bool {
	ok, err := auth.VerifyPassword(hash, pw)
	return ok && err == nil
}

// TestNoticeFont: a TrueType font is embedded for the notice; a font collection (.ttc), which
// fpdf cannot embed, is refused when the service is built rather than when a notice is asked for.
func TestNoticeFont(t *testing.T) {
	const ttf, ttc = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
	for _, tc := range []struct {
		path string
		ok   bool
	}{{ttf, true}, {ttc, false}, {"/nonexistent.ttf", false}} {
		if _, err := os.Stat(tc.path); err != nil && tc.path != "/nonexistent.ttf" {
			t.Logf("%s not installed; skipped", tc.path)
			continue
		}
		e := newEnv(t, storetest.SQLite(t), lostperson.Config{})
		_, err := lostperson.New(lostperson.Config{NoticeFont: tc.path}, lostperson.Deps{Repo: e.db, Pack: e.reg.Pack(), Tracer: e.trail, Hasher: newHasher(t)})
		if (err == nil) != tc.ok {
			t.Errorf("New(NoticeFont: %s) = %v; want ok %v", tc.path, err, tc.ok)
		}
	}
}

// TestMetrics: received by eligibility, and the open and overdue gauges read at scrape time.
func TestMetrics(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), lostperson.Config{})
	reg := prometheus.NewRegistry()
	svc, err := lostperson.New(lostperson.Config{DataDir: t.TempDir()}, lostperson.Deps{Repo: e.db, Pack: e.reg.Pack(), Tracer: e.trail, Hasher: newHasher(t), Metrics: reg, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	applicant := e.user("citizen", auth.RoleApplicant)
	in := &lostperson.ApplicationInput{Relationship: "guardian", SubjectCategory: "child", LastSeenAt: t0.Add(-time.Hour), Lat: ptr(27.8), Lon: ptr(113.1), Description: "d"}
	if _, err := svc.Submit(e.as(applicant), applicant.ID, in); err != nil {
		t.Fatal(err)
	}
	in.SubjectCategory = "pet"
	svc.Submit(e.as(applicant), applicant.ID, in)
	gauge := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				m := mf.GetMetric()[0]
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	if got := gauge("civicam_applications_overdue"); got != 0 {
		t.Errorf("overdue = %v; want 0", got)
	}
	e.clock.Add(3 * time.Hour) // past the urgent triage limit
	if got := gauge("civicam_applications_overdue"); got != 1 {
		t.Errorf("overdue = %v; want 1", got)
	}
	if got := gauge("civicam_applications_open"); got != 1 {
		t.Errorf("open = %v; want 1", got)
	}
	if got := received(t, reg, "ineligible_subject"); got != 1 {
		t.Errorf("received{ineligible_subject} = %v; want 1", got)
	}
}

// received reads civicam_applications_received_total{eligibility=v} from a registry.
func received(t *testing.T, reg *prometheus.Registry, v string) float64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "civicam_applications_received_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "eligibility" && l.GetValue() == v {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no received{eligibility=%s}", v)
	return 0
}

// TestOutboxConsole: with no webhook, an outbox given a console (the demo's terminal) delivers
// there, so a citizen trying the demo reads their code; without either, messages stay pending.
func TestOutboxConsole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		console bool
		want    lostperson.MessageStatus
	}{{"console", true, lostperson.MessageDelivered}, {"neither webhook nor console", false, lostperson.MessagePending}} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			var out strings.Builder
			d := lostperson.OutboxDeps{Repo: db, Now: func() time.Time { return t0 }}
			if tc.console {
				d.Console = &out
			}
			ob, err := lostperson.NewOutbox(lostperson.OutboxConfig{}, d)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			m := &lostperson.Message{ID: registry.NewID(), Kind: "verification_code", Contact: lostperson.Contact{Kind: "phone", Address: "13800000000"},
				Subject: "code", Body: "your code is 314159", Status: lostperson.MessagePending, NextAt: t0, CreatedAt: t0}
			if err := db.EnqueueMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			if _, err := ob.DeliverDue(ctx); err != nil {
				t.Fatalf("DeliverDue = %v", err)
			}
			got, err := db.Message(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.want {
				t.Errorf("message status = %s; want %s", got.Status, tc.want)
			}
			if printed := strings.Contains(out.String(), "314159") && strings.Contains(out.String(), "13800000000"); printed != tc.console {
				t.Errorf("console = %q; want the code and its phone printed: %v", out.String(), tc.console)
			}
		})
	}
}

// TestDecideReason checks that an acceptance needs no reason while a rejection, which the
// applicant reads, does.
func TestDecideReason(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		for _, tc := range []struct {
			name    string
			accept  bool
			reason  string
			wantErr bool
			want    lostperson.Status
		}{
			{"accept without a reason", true, "  ", false, lostperson.StatusAccepted},
			{"accept with a reason", true, "documents in order", false, lostperson.StatusAccepted},
			{"reject without a reason", false, "", true, lostperson.StatusSubmitted},
			{"reject with a reason", false, "not a missing person", false, lostperson.StatusRejected},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := e.submit(applicant, "elderly", 27.83, 113.15)
				_, err := e.decide(rev, a.ID, tc.accept, tc.reason)
				if (err != nil) != tc.wantErr {
					t.Fatalf("Decide(accept=%v, %q) = %v; want error %v", tc.accept, tc.reason, err, tc.wantErr)
				}
				v, err := e.svc.ForApplicant(e.ctx, applicant.ID, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v.Status != tc.want {
					t.Errorf("status after Decide(accept=%v, %q) = %s; want %s", tc.accept, tc.reason, v.Status, tc.want)
				}
			})
		}
	})
}
