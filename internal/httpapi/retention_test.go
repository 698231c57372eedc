package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/retention"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

func TestHolds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, admin := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"Mall","kind":"establishment","establishment_type":"shopping_mall"}`))
		_, op := s.addUser("op1", auth.RoleOperator, orgA)
		_, op2 := s.addUser("op2", auth.RoleOperator, orgA)
		_, owner := s.addUser("owner1", auth.RoleOwner, orgB)
		_, rev := s.addUser("rev1", auth.RoleReviewer, "")
		camA := mustCreate(t, s.do("POST", "/api/v1/cameras", admin, "", cameraJSON(orgA, "A", "public_square")))
		camB := mustCreate(t, s.do("POST", "/api/v1/cameras", admin, "", cameraJSON(orgB, "B", "shopping_mall")))
		body := func(ids string, start, end, ref string) string {
			return fmt.Sprintf(`{"camera_ids":%s,"start":%q,"end":%q,"reference":%q,"reason":"missing person"}`, ids, start, end, ref)
		}
		both := fmt.Sprintf("[%q,%q]", camA, camB)
		onlyA := fmt.Sprintf("[%q]", camA)

		for _, tc := range []struct {
			name, body, field string
		}{
			{"no cameras", body("[]", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "c"), "camera_ids"},
			{"bad camera id", body(`["x"]`, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "c"), "camera_ids"},
			{"end before start", body(onlyA, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "c"), "end"},
			{"no reference", body(onlyA, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", " "), "reference"},
			{"unknown field", `{"camera_ids":[],"until":"x"}`, "until"},
		} {
			r := s.do("POST", "/api/v1/holds", op, "", tc.body)
			if r.status != http.StatusBadRequest || r.json(t)["error"].(map[string]any)["field"] != tc.field {
				t.Errorf("%s: POST /holds = %d %s; want 400 on field %s", tc.name, r.status, r.body, tc.field)
			}
		}
		if r := s.do("POST", "/api/v1/holds", op, "", body(both, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "c")); r.status != http.StatusNotFound {
			t.Errorf("operator holding another organisation's camera = %d %s; want 404", r.status, r.body)
		}

		before := s.size()
		r := s.do("POST", "/api/v1/holds", op, "", body(onlyA, "2026-01-01T08:00:00+08:00", "2026-01-02T00:00:00Z", "case 2026-17"))
		opHold := mustCreate(t, r)
		h := r.json(t)
		if h["active"] != true || h["created_by_name"] != "op1" || h["start"] != "2026-01-01T00:00:00Z" || h["reference"] != "case 2026-17" {
			t.Errorf("created hold = %v; want active, by op1, start in UTC, the reference", h)
		}
		es := s.entriesSince(before)
		if len(es) != 1 || es[0].Action != trace.ActionHoldCreate || es[0].Reference != "case 2026-17" ||
			!slices.Equal(es[0].CameraIDs, []string{camA}) || !es[0].From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("trail after hold = %+v; want one hold_create with the camera, range and reference", es)
		}
		revHold := mustCreate(t, s.do("POST", "/api/v1/holds", rev, "", body(both, "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z", "application 9")))

		list := func(tok, query string) map[string][]string {
			r := s.do("GET", "/api/v1/holds"+query, tok, "", "")
			if r.status != http.StatusOK {
				t.Fatalf("GET /holds%s = %d %s", query, r.status, r.body)
			}
			out := map[string][]string{}
			for _, x := range r.json(t)["holds"].([]any) {
				m := x.(map[string]any)
				var ids []string
				for _, c := range m["camera_ids"].([]any) {
					ids = append(ids, c.(string))
				}
				out[m["id"].(string)] = ids
			}
			return out
		}
		if got := list(owner, ""); len(got) != 1 || !slices.Equal(got[revHold], []string{camB}) {
			t.Errorf("owner's holds = %v; want only the reviewer's hold, showing only its own camera", got)
		}
		if got := list(admin, "?camera_id="+camA); len(got) != 2 {
			t.Errorf("holds on camera A = %v; want both", got)
		}

		// Release: an operator may release only what it placed.
		before = s.size()
		if r := s.do("DELETE", "/api/v1/holds/"+opHold+"?reason=done", op2, "", ""); r.status != http.StatusForbidden {
			t.Errorf("another operator releasing = %d %s; want 403", r.status, r.body)
		}
		if es := s.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionHoldRelease || es[0].Outcome != trace.Denied {
			t.Errorf("trail after refused release = %+v; want one denied hold_release", es)
		}
		if r := s.do("DELETE", "/api/v1/holds/"+revHold+"?reason=done", op, "", ""); r.status != http.StatusNotFound {
			t.Errorf("operator releasing a hold reaching another organisation = %d %s; want 404", r.status, r.body)
		}
		if r := s.do("DELETE", "/api/v1/holds/"+opHold, op, "", ""); r.status != http.StatusBadRequest {
			t.Errorf("release without a reason = %d %s; want 400", r.status, r.body)
		}
		r = s.do("DELETE", "/api/v1/holds/"+opHold, op, "", `{"reason":"case closed"}`)
		if r.status != http.StatusOK || r.json(t)["active"] != false || r.json(t)["release_reason"] != "case closed" {
			t.Errorf("release = %d %s; want 200, inactive, with the reason", r.status, r.body)
		}
		if r := s.do("DELETE", "/api/v1/holds/"+opHold+"?reason=again", admin, "", ""); r.status != http.StatusConflict {
			t.Errorf("second release = %d %s; want 409", r.status, r.body)
		}
		if got := list(admin, "?active=true"); len(got) != 1 || got[revHold] == nil {
			t.Errorf("active holds = %v; want the reviewer's only", got)
		}
		if r := s.do("DELETE", "/api/v1/holds/"+revHold+"?reason=found", rev, "", ""); r.status != http.StatusOK {
			t.Errorf("reviewer release = %d %s; want 200", r.status, r.body)
		}
		if hs, _ := db.Holds(context.Background(), retention.HoldFilter{ActiveOnly: true}); len(hs) != 0 {
			t.Errorf("active holds in the store = %d; want 0", len(hs))
		}

		// Fail closed: no hold is placed untraced.
		s.Tracer.Fail.Store(true)
		if r := s.do("POST", "/api/v1/holds", admin, "", body(onlyA, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "c")); r.status != http.StatusServiceUnavailable {
			t.Errorf("hold with the trail down = %d %s; want 503", r.status, r.body)
		}
		s.Tracer.Fail.Store(false)
		if hs, _ := db.Holds(context.Background(), retention.HoldFilter{}); len(hs) != 2 {
			t.Errorf("holds stored = %d; want 2 (none while the trail was down)", len(hs))
		}
	})
}

func TestStorageReport(t *testing.T) {
	db := storetest.SQLite(t)
	s := newStack(t, db)
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"Mall","kind":"establishment","establishment_type":"shopping_mall"}`))
	_, op := s.addUser("op1", auth.RoleOperator, orgA)
	camA := mustCreate(t, s.do("POST", "/api/v1/cameras", admin, "", cameraJSON(orgA, "A", "public_square")))
	mustCreate(t, s.do("POST", "/api/v1/cameras", admin, "", cameraJSON(orgB, "B", "shopping_mall")))
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, st := range []time.Time{t0, t0.Add(time.Minute), t0.Add(10 * time.Minute)} {
		rec := segment.Record{CameraID: camA, Path: fmt.Sprintf("%s/%d.mp4", camA, i), Start: st, End: st.Add(time.Minute), Bytes: 500, SHA256: "00", Sealed: true}
		if err := db.SegmentSealed(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	get := func(tok string) []map[string]any {
		r := s.do("GET", "/api/v1/storage", tok, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /storage = %d %s", r.status, r.body)
		}
		var out []map[string]any
		for _, c := range r.json(t)["cameras"].([]any) {
			out = append(out, c.(map[string]any))
		}
		return out
	}
	if got := get(admin); len(got) != 2 {
		t.Errorf("admin's storage report = %d cameras; want 2", len(got))
	}
	got := get(op)
	if len(got) != 1 || got[0]["camera_id"] != camA {
		t.Fatalf("operator's storage report = %v; want camera A only", got)
	}
	c := got[0]
	if c["bytes_kept"] != 1500.0 || c["segments"] != 3.0 || c["gap_count"] != 1.0 || c["gap_seconds"] != 480.0 ||
		c["oldest"] != "2026-11-01T00:00:00Z" || c["newest"] != "2026-11-01T00:11:00Z" || c["recording_state"] != "not_recording" ||
		c["retention_days"] != 30.0 {
		t.Errorf("camera A storage = %v; want 1500 bytes in 3 segments, one 8-minute gap, 00:00–00:11, not recording, 30 days", c)
	}
}
