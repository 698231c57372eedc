package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/fault"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// TestSystemFiling checks issue 17 point 8 on both databases under the second pack (filing
// within 30 days of acceptance): a camera is accepted when it first becomes active, is overdue
// the day after its 30 days, and stops being overdue once the filing is recorded; dates in the
// future or before the acceptance are refused, and a filing is recorded once. Under Zhuzhou's
// pack, which has no such rule, nothing is ever due.
func TestSystemFiling(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tc, err := policy.Embedded("typical.yaml")
		if err != nil {
			t.Fatal(err)
		}
		zz, err := policy.Default()
		if err != nil {
			t.Fatal(err)
		}
		clock := clocktest.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		reg := registry.New(registry.Deps{Repo: db, Pack: tc, Tracer: &countingTracer{}, Now: clock.Now, Filings: db})
		org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
		if err := reg.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		all := registry.Scope{All: true}
		str := func(s string) *string { return &s }
		yes := true
		mk := func(status string) *registry.Camera {
			t.Helper()
			c, err := reg.CreateCamera(ctx, all, &registry.CameraInput{Name: str("Gate"), OrganisationID: &org.ID, Investment: str("government"),
				Lat: new(27.8), Lon: new(113.1), PlaceCategory: str("public_square"), Networked: &yes, Status: str(status)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		active, planned := mk("active"), mk("planned")
		overdue := func(at string) []string {
			t.Helper()
			fs, err := reg.Filings(ctx, all, true)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range fs {
				if f.Finding.Code != policy.CodeSystemFilingOverdue || f.Finding.Rule != "TC-SYSTEM-FILING" {
					t.Errorf("%s: finding %+v; want system_filing_overdue under TC-SYSTEM-FILING", at, f.Finding)
				}
				ids = append(ids, f.CameraID)
			}
			return ids
		}
		clock.Advance(10 * 24 * time.Hour)
		if _, err := reg.UpdateCamera(ctx, all, planned.ID, &registry.CameraInput{Status: str("active")}); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)) // exactly 30 days after the first acceptance
		if got := overdue("day 30"); len(got) != 0 {
			t.Errorf("overdue on day 30 = %v; want none", got)
		}
		clock.Set(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
		if got := overdue("day 31"); len(got) != 1 || got[0] != active.ID {
			t.Errorf("overdue on day 31 = %v; want only %s (the other was accepted 10 days later)", got, active.ID)
		}

		tests := []struct {
			name string
			in   registry.FilingInput
			want string // the error code; "" accepted
		}{
			{"in the future", registry.FilingInput{FiledOn: "2026-04-02", Reference: "BA-1"}, "invalid"},
			{"before the acceptance", registry.FilingInput{FiledOn: "2026-02-28", Reference: "BA-1"}, "invalid"},
			{"no reference", registry.FilingInput{FiledOn: "2026-03-20"}, "invalid"},
			{"not a date", registry.FilingInput{FiledOn: "20 March", Reference: "BA-1"}, "invalid"},
			{"filed", registry.FilingInput{FiledOn: "2026-03-20", Reference: "BA-1"}, ""},
			{"filed again", registry.FilingInput{FiledOn: "2026-03-21", Reference: "BA-2"}, "already_filed"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := reg.RecordFiling(ctx, all, active.ID, "officer", tt.in)
				got := ""
				if fe, ok := errors.AsType[*fault.Error](err); ok {
					got = fe.CodeOrKind()
				} else if err != nil {
					got = err.Error()
				}
				if got != tt.want {
					t.Errorf("RecordFiling(%+v) = %v; want %q", tt.in, err, tt.want)
				}
			})
		}
		if got := overdue("after the filing"); len(got) != 0 {
			t.Errorf("overdue after the filing = %v; want none", got)
		}
		clock.Advance(30 * 24 * time.Hour)
		if got := overdue("day 61"); len(got) != 1 || got[0] != planned.ID {
			t.Errorf("overdue 60 days on = %v; want %s", got, planned.ID)
		}

		// The same data under Zhuzhou's pack: no filing rule, nothing due.
		before := registry.New(registry.Deps{Repo: db, Pack: zz, Tracer: &countingTracer{}, Now: clock.Now, Filings: db})
		fs, err := before.Filings(ctx, all, false)
		if err != nil || len(fs) != 2 {
			t.Fatalf("Filings under zhuzhou = %d, %v; want the 2 accepted cameras", len(fs), err)
		}
		for _, f := range fs {
			if !f.DueAt.IsZero() || f.Finding != nil {
				t.Errorf("Filings under zhuzhou: %+v; want nothing due", f)
			}
		}
	})
}
