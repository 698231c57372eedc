package consultation_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/consultation"
	"civicam/internal/fault"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

type tracer struct {
	mu   sync.Mutex
	recs []trace.Record
}

func (t *tracer) Record(_ context.Context, r trace.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recs = append(t.recs, r)
	return nil
}

func (t *tracer) actions() []trace.Action {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []trace.Action
	for _, r := range t.recs {
		out = append(out, r.Action)
	}
	return out
}

func code(err error) string {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return fe.CodeOrKind()
	}
	if errors.Is(err, fault.ErrNotFound) {
		return "not_found"
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestConsultation runs a consultation end to end on both databases: publish, opinions with
// receipts, the throttle and the size bound, the final refused before the deadline and while an
// opinion is unanswered, answers once each, then the final and the public record.
func TestConsultation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		tr := &tracer{}
		svc := consultation.New(consultation.Config{OpinionsPerAddress: 2, MaxOpinionBytes: 100},
			consultation.Deps{Store: db, Tracer: tr, Now: clock.Now})

		if _, err := svc.Publish(ctx, consultation.DraftInput{Title: "T", Draft: "D", Deadline: clock.Now().Add(-time.Hour)}); code(err) != "invalid" {
			t.Errorf("Publish(deadline in the past) = %v; want invalid", err)
		}
		c, err := svc.Publish(ctx, consultation.DraftInput{Title: "Lost-person procedure", Draft: "1. Apply at a station.",
			Deadline: clock.Now().Add(7 * 24 * time.Hour)})
		if err != nil {
			t.Fatalf("Publish = %v", err)
		}

		r1, err := svc.Submit(ctx, "192.0.2.1", c.ID, "Let applicants apply online too.")
		if err != nil {
			t.Fatalf("Submit = %v", err)
		}
		clock.Advance(time.Minute)
		r2, err := svc.Submit(ctx, "192.0.2.1", c.ID, "Answer within 2 hours for children.")
		if err != nil {
			t.Fatalf("Submit(second) = %v", err)
		}
		submits := []struct {
			name, addr, id, text, want string
		}{
			{"third from one address", "192.0.2.1", c.ID, "again", "too_many_requests"},
			{"too large", "192.0.2.2", c.ID, strings.Repeat("x", 101), "too_large"},
			{"empty", "192.0.2.2", c.ID, "  ", "invalid"},
			{"control characters", "192.0.2.2", c.ID, "a\x00b", "invalid"},
			{"bidi override", "192.0.2.2", c.ID, "a\u202eb", "invalid"},
			{"no such consultation", "192.0.2.2", strings.Repeat("0", 32), "x", "not_found"},
			{"malformed id", "192.0.2.2", "../../etc", "x", "not_found"},
		}
		for _, tt := range submits {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := svc.Submit(ctx, tt.addr, tt.id, tt.text); code(err) != tt.want {
					t.Errorf("Submit(%s) = %v; want %s", tt.name, err, tt.want)
				}
			})
		}

		got, err := svc.ByReceipt(ctx, strings.ToLower(r1.Code))
		if err != nil || got.ID != r1.Opinion.ID || got.Verdict != "" {
			t.Errorf("ByReceipt(r1) = %+v, %v; want opinion %s unanswered", got, err, r1.Opinion.ID)
		}
		if _, err := svc.ByReceipt(ctx, "AAAAAAAAAAAAAAAA"); code(err) != "not_found" {
			t.Errorf("ByReceipt(wrong) = %v; want not_found", err)
		}

		if _, err := svc.PublishFinal(ctx, c.ID, consultation.FinalInput{Final: "F"}); code(err) != consultation.CodeStillOpen {
			t.Errorf("PublishFinal(before deadline) = %v; want %s", err, consultation.CodeStillOpen)
		}
		clock.Advance(8 * 24 * time.Hour)
		if _, err := svc.Submit(ctx, "192.0.2.3", c.ID, "late"); code(err) != consultation.CodeClosed {
			t.Errorf("Submit(after deadline) = %v; want %s", err, consultation.CodeClosed)
		}
		if _, err := svc.Answer(ctx, c.ID, r1.Opinion.ID, consultation.AnswerInput{Verdict: consultation.Adopted, Answer: "Added step 0."}); err != nil {
			t.Fatalf("Answer(r1) = %v", err)
		}
		if _, err := svc.Answer(ctx, c.ID, r1.Opinion.ID, consultation.AnswerInput{Verdict: consultation.NotAdopted, Answer: "Changed our mind."}); code(err) != consultation.CodeAnswered {
			t.Errorf("Answer(r1 again) = %v; want %s", err, consultation.CodeAnswered)
		}
		if _, err := svc.Answer(ctx, c.ID, r2.Opinion.ID, consultation.AnswerInput{Verdict: consultation.Partly}); code(err) != "invalid" {
			t.Errorf("Answer(without why) = %v; want invalid", err)
		}
		if _, err := svc.PublishFinal(ctx, c.ID, consultation.FinalInput{Final: "F"}); code(err) != consultation.CodeUnanswered {
			t.Errorf("PublishFinal(one unanswered) = %v; want %s", err, consultation.CodeUnanswered)
		}
		if _, err := svc.Answer(ctx, c.ID, r2.Opinion.ID, consultation.AnswerInput{Verdict: consultation.Partly, Answer: "4 hours; the pack sets it."}); err != nil {
			t.Fatalf("Answer(r2) = %v", err)
		}
		if _, err := svc.PublishFinal(ctx, c.ID, consultation.FinalInput{Final: "0. Apply online. 1. Apply at a station."}); err != nil {
			t.Fatalf("PublishFinal = %v", err)
		}
		if _, err := svc.PublishFinal(ctx, c.ID, consultation.FinalInput{Final: "again"}); code(err) != consultation.CodeClosed {
			t.Errorf("PublishFinal(twice) = %v; want %s", err, consultation.CodeClosed)
		}

		rec, err := svc.Record(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Consultation.Status != consultation.StatusFinal || rec.Consultation.Opinions != 2 || rec.Consultation.Unanswered != 0 ||
			len(rec.Opinions) != 2 || rec.Opinions[0].Verdict != consultation.Adopted || rec.Opinions[1].Answer != "4 hours; the pack sets it." {
			t.Errorf("Record = %+v %+v; want final, two opinions answered adopted and partly", rec.Consultation, rec.Opinions)
		}
		got, err = svc.ByReceipt(ctx, r2.Code)
		if err != nil || got.Verdict != consultation.Partly {
			t.Errorf("ByReceipt(r2) = %+v, %v; want its answer partly_adopted", got, err)
		}
		want := []trace.Action{trace.ActionConsultationPublish, trace.ActionConsultationOpinion, trace.ActionConsultationOpinion,
			trace.ActionConsultationFinal,                                  // refused: before the deadline
			trace.ActionConsultationAnswer, trace.ActionConsultationAnswer, // the second refused: answered already
			trace.ActionConsultationFinal, // refused: one unanswered
			trace.ActionConsultationAnswer, trace.ActionConsultationFinal,
			trace.ActionConsultationFinal} // refused: published already
		if got := tr.actions(); !slices.Equal(got, want) {
			t.Errorf("traced %v; want %v", got, want)
		}
	})
}

// TestFinalRacesAnOpinion checks the store's half of the rule: a final version written while an
// opinion is stored unanswered (the service's own count having missed it) is refused.
func TestFinalRacesAnOpinion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		c := &consultation.Consultation{ID: strings.Repeat("a", 32), Title: "T", Draft: "D", Deadline: now, Status: consultation.StatusOpen, PublishedAt: now}
		if err := db.CreateConsultation(ctx, c); err != nil {
			t.Fatal(err)
		}
		o := &consultation.Opinion{ID: strings.Repeat("b", 32), ConsultationID: c.ID, Text: "x", SubmittedAt: now, ReceiptHash: "h"}
		if err := db.CreateOpinion(ctx, o); err != nil {
			t.Fatal(err)
		}
		c.Status, c.Final, c.FinalAt = consultation.StatusFinal, "F", now
		if err := db.PublishFinal(ctx, c); code(err) != consultation.CodeUnanswered {
			t.Errorf("PublishFinal(with an unanswered opinion) = %v; want %s", err, consultation.CodeUnanswered)
		}
		got, err := db.Consultation(ctx, c.ID)
		if err != nil || got.Status != consultation.StatusOpen || got.Final != "" {
			t.Errorf("Consultation after the refused final = %+v, %v; want still open, no final", got, err)
		}
	})
}
