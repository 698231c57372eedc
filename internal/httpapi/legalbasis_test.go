package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// findings returns the compliance codes of one camera.
func findings(t *testing.T, f *fixture, token, camera string) []string {
	t.Helper()
	r := f.do("GET", "/api/v1/compliance?camera_id="+camera, token, "", "")
	if r.status != 200 {
		t.Fatalf("GET compliance = %d %s", r.status, r.body)
	}
	var codes []string
	for _, fd := range r.json(t)["findings"].([]any) {
		codes = append(codes, fd.(map[string]any)["code"].(string))
	}
	return codes
}

// TestLegalBasisWorkflow is issue 13, point 3, through the real server: free text is no legal
// basis; a proposed basis has no effect until an admin of another public-security organisation
// approves it; the proposer's own organisation cannot approve it.
func TestLegalBasisWorkflow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db) // orgA is a PSB, orgB a hotel; op1 operates orgA
		orgC := mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", `{"name":"PSB of the district","kind":"department","department_type":"public_security"}`))
		orgD := mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", `{"name":"Urban","kind":"department","department_type":"urban_management"}`))
		_, adminA := f.addUser("admin-a", auth.RoleAdmin, f.orgA)
		_, adminC := f.addUser("admin-c", auth.RoleAdmin, orgC)
		_, adminD := f.addUser("admin-d", auth.RoleAdmin, orgD)
		_, owner := f.addUser("owner-b", auth.RoleOwner, f.orgB)
		guestRoom := func(extra string) string {
			return fmt.Sprintf(`{"name":"Room","organisation_id":%q,"investment":"private","lat":27.8,"lon":113.1,"place_category":"hotel_guest_room","interface_reserved":true,"sign_installed":true%s}`, f.orgB, extra)
		}

		t.Run("free text is refused", func(t *testing.T) {
			r := f.do("POST", "/api/v1/cameras", owner, "", guestRoom(`,"status":"active","legal_basis":"Article X of some law (test)"`))
			if r.status != 422 || r.errorCode() != "legal_basis_free_text" {
				t.Fatalf("create with free-text basis = %d %s; want 422 legal_basis_free_text", r.status, r.body)
			}
			gov := mustCreate(t, f.do("POST", "/api/v1/cameras", f.operator, "", cameraJSON(f.orgA, "Gov", "public_square")))
			r = f.do("PATCH", "/api/v1/cameras/"+gov, f.operator, "", `{"legal_basis":"n/a"}`)
			if r.status != 422 || r.errorCode() != "legal_basis_free_text" {
				t.Fatalf("PATCH legal_basis n/a = %d %s; want 422 legal_basis_free_text", r.status, r.body)
			}
			r = f.do("POST", "/api/v1/cameras/"+gov+"/legal-basis", f.operator, "", `{"basis_id":"n/a","document_ref":"x"}`)
			if r.status != 422 || r.errorCode() != "legal_basis_unknown" {
				t.Fatalf("propose basis n/a = %d %s; want 422 legal_basis_unknown", r.status, r.body)
			}
		})

		// The hotel proposes the basis when it registers the camera, planned.
		room := mustCreate(t, f.do("POST", "/api/v1/cameras", owner, "", guestRoom(`,"legal_basis_id":"detention_supervision","legal_basis_document_ref":"decision 2026-17"`)))
		// The PSB's operator proposes a not-networked exemption for a camera of its own.
		gov := mustCreate(t, f.do("POST", "/api/v1/cameras", f.operator, "", strings.Replace(cameraJSON(f.orgA, "Secret site", "public_square"), `"place_category"`, `"status":"active","sign_installed":true,"place_category"`, 1)))
		if r := f.do("POST", "/api/v1/cameras/"+gov+"/legal-basis", f.operator, "", `{"basis_id":"state_secrets","document_ref":"secrecy decision 9"}`); r.status != 200 {
			t.Fatalf("propose state_secrets = %d %s; want 200", r.status, r.body)
		}

		t.Run("an unapproved basis has no effect", func(t *testing.T) {
			r := f.do("GET", "/api/v1/cameras/"+room, owner, "", "")
			m := r.json(t)
			if m["legal_basis"] != "" || m["legal_basis_detail"].(map[string]any)["status"] != "pending" {
				t.Errorf("GET camera = %s; want legal_basis empty and legal_basis_detail pending", r.body)
			}
			r = f.do("PATCH", "/api/v1/cameras/"+room, owner, "", `{"status":"active"}`)
			if r.status != 422 || r.errorCode() != "prohibited_place" || !strings.Contains(string(r.body), "pending approval") {
				t.Fatalf("activate with a pending basis = %d %s; want 422 prohibited_place naming the pending approval", r.status, r.body)
			}
			if got := findings(t, f, f.admin, gov); len(got) != 1 || got[0] != "networking_exemption_pending" {
				t.Errorf("findings of the not-networked camera = %v; want [networking_exemption_pending]", got)
			}
		})

		t.Run("the proposer's organisation cannot approve", func(t *testing.T) {
			for _, tc := range []struct {
				name, token, camera, code string
			}{
				{"the PSB approving its own proposal", adminA, gov, "legal_basis_same_organisation"},
				{"an admin of no organisation", f.admin, room, "legal_basis_approver"},
				{"an admin of a department that is not public security", adminD, room, "legal_basis_approver"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := f.size()
					r := f.do("POST", "/api/v1/cameras/"+tc.camera+"/legal-basis/approve", tc.token, "", "")
					if r.status != 403 || r.errorCode() != tc.code {
						t.Fatalf("approve = %d %s; want 403 %s", r.status, r.body, tc.code)
					}
					es := f.entriesSince(before)
					if len(es) != 1 || es[0].Action != trace.ActionLegalBasisApprove || es[0].Outcome != trace.Denied {
						t.Errorf("trail after the refusal = %+v; want one denied legal_basis_approve", es)
					}
				})
			}
			if got := findings(t, f, f.admin, gov); len(got) != 1 || got[0] != "networking_exemption_pending" {
				t.Errorf("findings after refused approvals = %v; want [networking_exemption_pending]", got)
			}
		})

		t.Run("another PSB's admin makes it effective", func(t *testing.T) {
			for _, id := range []string{room, gov} {
				before := f.size()
				r := f.do("POST", "/api/v1/cameras/"+id+"/legal-basis/approve", adminC, "", "")
				if r.status != 200 {
					t.Fatalf("approve by another PSB = %d %s; want 200", r.status, r.body)
				}
				m := r.json(t)
				if lb, _ := m["legal_basis"].(string); lb == "" || m["legal_basis_detail"].(map[string]any)["decided_organisation_id"] != orgC {
					t.Errorf("approved camera = %s; want legal_basis readable and decided by %s", r.body, orgC)
				}
				if es := f.entriesSince(before); len(es) != 1 || es[0].Action != trace.ActionLegalBasisApprove || es[0].Outcome != trace.Allowed {
					t.Errorf("trail after approval = %+v; want one allowed legal_basis_approve", es)
				}
			}
			if r := f.do("PATCH", "/api/v1/cameras/"+room, owner, "", `{"status":"active"}`); r.status != 200 {
				t.Fatalf("activate with the approved basis = %d %s; want 200", r.status, r.body)
			}
			if got := findings(t, f, f.admin, gov); len(got) != 0 {
				t.Errorf("findings of the exempted camera = %v; want none", got)
			}
			if r := f.do("POST", "/api/v1/cameras/"+gov+"/legal-basis/approve", adminC, "", ""); r.status != 409 {
				t.Errorf("approving twice = %d %s; want 409", r.status, r.body)
			}
		})

		t.Run("a declined basis has no effect", func(t *testing.T) {
			if r := f.do("POST", "/api/v1/cameras/"+gov+"/legal-basis", f.operator, "", `{"basis_id":"state_secrets","document_ref":"secrecy decision 10"}`); r.status != 200 {
				t.Fatalf("propose again = %d %s", r.status, r.body)
			}
			r := f.do("POST", "/api/v1/cameras/"+gov+"/legal-basis/decline", adminC, "", `{"note":"the decision does not name this site"}`)
			if r.status != 200 || r.json(t)["legal_basis_detail"].(map[string]any)["status"] != "declined" {
				t.Fatalf("decline = %d %s; want 200 declined", r.status, r.body)
			}
			if got := findings(t, f, f.admin, gov); len(got) != 1 || got[0] != "not_networked" {
				t.Errorf("findings after decline = %v; want [not_networked]", got)
			}
		})
	})
}

// TestChangesTracedWithValues is issue 13, point 5: a change is traced with each field's value
// before and after, stream credentials masked.
func TestChangesTracedWithValues(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", cameraJSON(f.orgA, "Gate", "public_square")))
		before := f.size()
		r := f.do("PATCH", "/api/v1/cameras/"+id, f.admin, "", `{"name":"North gate","maintenance_interval_days":90,"source_url":"rtsp://admin:hunter2@10.0.0.10/main?password=hunter2"}`)
		if r.status != 200 {
			t.Fatalf("PATCH = %d %s", r.status, r.body)
		}
		es := f.entriesSince(before)
		if len(es) != 1 || es[0].Action != trace.ActionCameraUpdate {
			t.Fatalf("trail after PATCH = %+v; want one camera_update", es)
		}
		reason := es[0].Reason
		for _, want := range []string{`name "Gate" → "North gate"`, `maintenance_interval_days 0 → 90`,
			`source_url "rtsp://10.0.0.9/stream" → "rtsp://10.0.0.10/main?password=***"`} {
			if !strings.Contains(reason, want) {
				t.Errorf("camera_update reason = %q; want it to contain %q", reason, want)
			}
		}
		if strings.Contains(reason, "hunter2") || strings.Contains(reason, "secret") {
			t.Errorf("camera_update reason = %q; leaks stream credentials", reason)
		}

		before = f.size()
		if r := f.do("PATCH", "/api/v1/cameras/"+id, f.admin, "", `{"source_url":"rtsp://admin:other@10.0.0.10/main?password=other"}`); r.status != 200 {
			t.Fatalf("PATCH credentials = %d %s", r.status, r.body)
		}
		if es := f.entriesSince(before); len(es) != 1 || !strings.Contains(es[0].Reason, "source_url credentials changed") || strings.Contains(es[0].Reason, "other") {
			t.Errorf("trail after a change of credentials = %+v; want them named, not shown", es)
		}

		before = f.size()
		org := mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", `{"name":"Water Bureau","kind":"department","department_type":"water_conservancy"}`))
		if es := f.entriesSince(before); len(es) != 1 || !strings.Contains(es[0].Reason, org) || !strings.Contains(es[0].Reason, `name "Water Bureau"`) ||
			!strings.Contains(es[0].Reason, "department_type water_conservancy") {
			t.Errorf("trail after creating an organisation = %+v; want its id and every field", es)
		}

		victim, _ := f.addUser("victim", auth.RoleReviewer, "")
		before = f.size()
		if r := f.do("PATCH", "/api/v1/users/"+victim, f.admin, "", `{"role":"operator","organisation_id":"`+f.orgA+`"}`); r.status != 200 {
			t.Fatalf("PATCH user = %d %s", r.status, r.body)
		}
		es = f.entriesSince(before)
		if len(es) != 1 || !strings.Contains(es[0].Reason, "role reviewer → operator") || !strings.Contains(es[0].Reason, `organisation_id "" → "`+f.orgA+`"`) {
			t.Errorf("trail after a user change = %+v; want the role and organisation before and after", es)
		}
	})
}

// TestImpossibleDatesRefused is issue 13, point 8: maintenance and sign-check dates in the
// future, or before the camera was registered, are 400 with the field.
func TestImpossibleDatesRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", cameraJSON(f.orgA, "Gate", "public_square")))
		tests := []struct {
			name, method, path, body, field string
		}{
			{"maintenance in 2099", "PATCH", "/api/v1/cameras/" + id, `{"last_maintenance_at":"2099-01-01T00:00:00Z"}`, "last_maintenance_at"},
			{"sign check in 2099", "PATCH", "/api/v1/cameras/" + id, `{"sign_checked_at":"2099-01-01T00:00:00Z"}`, "sign_checked_at"},
			{"maintenance before registration", "PATCH", "/api/v1/cameras/" + id, `{"last_maintenance_at":"2001-01-01T00:00:00Z"}`, "last_maintenance_at"},
			{"sign check before registration", "PATCH", "/api/v1/cameras/" + id, `{"sign_checked_at":"2001-01-01T00:00:00Z"}`, "sign_checked_at"},
			{"new camera maintained in 2099", "POST", "/api/v1/cameras",
				strings.Replace(cameraJSON(f.orgA, "New", "public_square"), `"name"`, `"last_maintenance_at":"2099-01-01T00:00:00Z","name"`, 1), "last_maintenance_at"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := f.do(tt.method, tt.path, f.admin, "", tt.body)
				var e struct {
					Error struct{ Field string } `json:"error"`
				}
				if r.status == 400 {
					_ = json.Unmarshal(r.body, &e)
				}
				if r.status != 400 || e.Error.Field != tt.field {
					t.Fatalf("%s %s %s = %d %s; want 400 on %s", tt.method, tt.path, tt.body, r.status, r.body, tt.field)
				}
			})
		}
		r := f.do("GET", "/api/v1/cameras/"+id, f.admin, "", "")
		if m := r.json(t); m["last_maintenance_at"] != nil || m["sign_checked_at"] != nil {
			t.Errorf("after refused dates the camera = %s; want no dates stored", r.body)
		}
		// A camera registered today may record its installation's earlier sign check.
		body := strings.Replace(cameraJSON(f.orgA, "Old", "public_square"), `"name"`, `"sign_checked_at":"2020-05-01T00:00:00Z","name"`, 1)
		mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", body))
	})
}
