package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/trace"
)

var requestRow = regexp.MustCompile(`data-request="([^"]+)"`)

// footageRequestWorld is a hotel's private lobby camera beside an accepted application's
// last-seen place, and the reviewer's footage request for it, sent through the pages.
func footageRequestWorld(t *testing.T) (s *appStack, id, lobby string, rev *browser) {
	t.Helper()
	s = newAppStack(t, false)
	hotel := s.addOrg("Hotel", registry.KindEstablishment, "hotel")
	s.addUser("hotel-op", auth.RoleOperator, hotel)
	active, private := registry.StatusActive, registry.InvestmentPrivate
	lobby = s.addCamera(hotel, "酒店大堂", 27.8302, 113.1506, func(in *registry.CameraInput) { in.Status, in.Investment = &active, &private })
	now := time.Now().UTC().Truncate(time.Minute)
	for m := 30; m > 0; m-- {
		st := now.Add(-time.Duration(m) * time.Minute)
		if err := s.db.SegmentSealed(context.Background(), segment.Record{CameraID: lobby, Path: fmt.Sprintf("%s/%d.mp4", lobby, st.Unix()),
			Start: st, End: st.Add(time.Minute), Bytes: 1, SHA256: "00"}); err != nil {
			t.Fatal(err)
		}
	}
	id = s.apply(s.registerApplicant("mother1", "mother@example.cn"))
	rev = s.loggedIn("rev1")
	for _, kind := range []string{"identity", "relationship"} { // the pack's documents, seen at the desk
		if r := rev.post("/applications/"+id+"/documents/shown", url.Values{"kind": {kind}, "note": {"seen at the desk"}}); r.status != http.StatusSeeOther {
			t.Fatalf("documents shown (%s) = %d; want 303\n%s", kind, r.status, r.body)
		}
	}
	if r := rev.post("/applications/"+id+"/decision", url.Values{"accept": {"true"}, "reason": {"ok"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept = %d; want 303\n%s", r.status, r.body)
	}
	r := rev.post("/applications/"+id+"/candidates", nil)
	mustContain(t, "candidates", r.body, `data-camera="`+lobby+`"`, `data-basis="none"`, `data-basis="policy_default"`, `class="request-send"`)

	n := s.size()
	if r := rev.post("/applications/"+id+"/footage-requests", url.Values{"camera_id": {lobby}, "reason": {"missing elderly man seen near the hotel"}}); r.status != http.StatusSeeOther {
		t.Fatalf("footage request = %d; want 303\n%s", r.status, r.body)
	}
	if got := actions(s.entriesSince(n)); len(got) != 1 || got[0] != string(trace.ActionFootageRequest) {
		t.Fatalf("request traced %v; want one footage_request", got)
	}

	return s, id, lobby, rev
}

// TestOwnerApprovesFootageRequest walks REG-4 through the pages: the reviewer's candidates mark
// the hotel's private lobby camera closed, the reviewer asks the owner from the application, the
// hotel's operator sees the camera, the window and the reason (nothing of the application) and
// approves, and the candidates then mark the lobby open. Both sides are traced.
func TestOwnerApprovesFootageRequest(t *testing.T) {
	s, id, lobby, rev := footageRequestWorld(t)

	op := s.loggedIn("hotel-op")
	page := op.get("/")
	mustContain(t, "the owner's menu", page.body, `href="/footage-requests"`)
	r := op.get("/footage-requests")
	mustContain(t, "owner's requests", r.body, "酒店大堂", "missing elderly man seen near the hotel", `class="approve-request"`)
	mustNotContain(t, "owner's requests", r.body, id, "grey coat", "mother1")
	m := requestRow.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("owner's requests list no request\n%s", r.body)
	}
	if r := op.post("/footage-requests/"+m[1]+"/decision", url.Values{"approve": {"maybe"}}); r.status != http.StatusBadRequest {
		t.Errorf("decision without a choice = %d; want 400", r.status)
	}
	n := s.size()
	if r := op.post("/footage-requests/"+m[1]+"/decision", url.Values{"approve": {"true"}, "note": {"lobby only"}}); r.status != http.StatusSeeOther {
		t.Fatalf("approve = %d; want 303\n%s", r.status, r.body)
	}
	if got := actions(s.entriesSince(n)); len(got) != 1 || got[0] != string(trace.ActionFootageRequestDecision) {
		t.Fatalf("approval traced %v; want one footage_request_decision", got)
	}
	mustContain(t, "owner's requests after approval", op.get("/footage-requests").body, `data-status="approved"`, "lobby only")
	if r := op.post("/footage-requests/"+m[1]+"/decision", url.Values{"approve": {"false"}}); r.status != http.StatusConflict {
		t.Errorf("deciding twice = %d; want 409", r.status)
	}

	r = rev.post("/applications/"+id+"/candidates", nil)
	mustContain(t, "candidates after approval", r.body, `data-camera="`+lobby+`"`, `data-basis="footage_request_approved"`)
	mustNotContain(t, "candidates after approval", r.body, `class="request-send"`)
	// The reviewer has no owners' page.
	if r := rev.get("/footage-requests"); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Errorf("reviewer's GET /footage-requests = %d; want refused", r.status)
	}
}
