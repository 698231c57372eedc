package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// fixture is a stack with an admin, two organisations and an operator of the first.
type fixture struct {
	*stack
	admin, operator string // tokens
	orgA, orgB      string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	s := newStack(t, db)
	_, admin := s.addUser("admin1", auth.RoleAdmin, "")
	f := &fixture{stack: s, admin: admin}
	f.orgA = mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
	f.orgB = mustCreate(t, s.do("POST", "/api/v1/organisations", admin, "", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`))
	_, f.operator = s.addUser("op1", auth.RoleOperator, f.orgA)
	return f
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	cam := func(extra string) string {
		return fmt.Sprintf(`{"name":"X","organisation_id":%q,"investment":"government","lat":27.8,"lon":113.1,"place_category":"public_square"%s}`, f.orgA, extra)
	}
	tests := []struct {
		name, method, path, ctype, body string
		wantStatus                      int
		wantField                       string
	}{
		{"malformed JSON", "POST", "/api/v1/cameras", "", `{"name":`, 400, ""},
		{"not an object", "POST", "/api/v1/cameras", "", `[1,2]`, 400, ""},
		{"trailing data", "POST", "/api/v1/cameras", "", cam("") + `{}`, 400, ""},
		{"unknown field", "POST", "/api/v1/cameras", "", cam(`,"colour":"red"`), 400, "colour"},
		{"wrong type", "POST", "/api/v1/cameras", "", cam(`,"networked":"yes"`), 400, "networked"},
		{"latitude out of range", "POST", "/api/v1/cameras", "", strings.Replace(cam(""), `"lat":27.8`, `"lat":97.8`, 1), 400, "lat"},
		{"bad investment", "POST", "/api/v1/cameras", "", strings.Replace(cam(""), `"government"`, `"crowdfunded"`, 1), 400, "investment"},
		{"bad status", "POST", "/api/v1/cameras", "", cam(`,"status":"broken"`), 400, "status"},
		{"bad bearing", "POST", "/api/v1/cameras", "", cam(`,"bearing":360`), 400, "bearing"},
		{"bad source scheme", "POST", "/api/v1/cameras", "", cam(`,"source_url":"http://x/y"`), 400, "source_url"},
		{"bad GB id", "POST", "/api/v1/cameras", "", cam(`,"gb_device_id":"4302000000132000001"`), 400, "gb_device_id"},
		{"bad GB type code", "POST", "/api/v1/cameras", "", cam(`,"gb_device_id":"43020000000000000001"`), 400, "gb_device_id"},
		{"unknown organisation", "POST", "/api/v1/cameras", "", strings.Replace(cam(""), f.orgA, "00000000-0000-4000-8000-000000000000", 1), 400, "organisation_id"},
		{"bad time", "POST", "/api/v1/cameras", "", cam(`,"sign_checked_at":"yesterday"`), 400, ""},
		{"form post", "POST", "/api/v1/cameras", "application/x-www-form-urlencoded", "name=x", 415, ""},
		{"bad org kind", "POST", "/api/v1/organisations", "", `{"name":"Z","kind":"club"}`, 400, "kind"},
		{"bad department type", "POST", "/api/v1/organisations", "", `{"name":"Z","kind":"department","department_type":"navy"}`, 400, "department_type"},
		{"malformed id", "GET", "/api/v1/cameras/..%2F..%2Fetc", "", "", 404, ""},
		{"bad near", "GET", "/api/v1/cameras?near=27.8", "", "", 400, "near"},
		{"bad radius", "GET", "/api/v1/cameras?near=27.8,113.1&radius_m=-5", "", "", 400, "radius_m"},
		{"bad limit", "GET", "/api/v1/cameras?limit=0", "", "", 400, "limit"},
		{"bad trace time", "GET", "/api/v1/trace?since=monday", "", "", 400, "since"},
		{"bad trace action", "GET", "/api/v1/trace?action=dance", "", "", 400, "action"},
		{"import without header", "POST", "/api/v1/cameras/import", "text/csv", "", 400, ""},
		{"import unknown column", "POST", "/api/v1/cameras/import", "text/csv", "name,colour\nx,red\n", 400, "colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.method, tt.path, f.admin, tt.ctype, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("%s %s = %d %s; want %d", tt.method, tt.path, r.status, r.body, tt.wantStatus)
			}
			var e struct {
				Error struct{ Code, Message, Field string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("error body = %s; want {error:{code,message}}", r.body)
			}
			if tt.wantField != "" && e.Error.Field != tt.wantField {
				t.Errorf("error field = %q; want %q (%s)", e.Error.Field, tt.wantField, r.body)
			}
		})
	}
	// Nothing of the refused requests was stored.
	r := f.do("GET", "/api/v1/cameras", f.admin, "", "")
	if n := len(r.json(t)["cameras"].([]any)); n != 0 {
		t.Errorf("after only bad requests there are %d cameras; want 0", n)
	}
}

func TestPolicyRefusal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		base := func(category, extra string) string {
			return fmt.Sprintf(`{"name":"X","organisation_id":%q,"investment":"private","lat":27.8,"lon":113.1,"place_category":%q%s}`, f.orgB, category, extra)
		}
		tests := []struct {
			name, body string
			status     int
			code       string
		}{
			{"guest room", base("hotel_guest_room", ""), 422, "prohibited_place"},
			{"public bath", base("public_bath", ""), 422, "prohibited_place"},
			{"fitting room", base("fitting_room", ""), 422, "prohibited_place"},
			{"dormitory", base("collective_dormitory", ""), 422, "prohibited_place"},
			// Free text is no legal basis (issue 13): it used to let any camera into a private space.
			{"guest room with free-text legal basis", base("hotel_guest_room", `,"legal_basis":"Court order 2026-17 under Article X"`), 422, "legal_basis_free_text"},
			{"guest room with a basis the pack does not know", base("hotel_guest_room", `,"legal_basis_id":"court_order","legal_basis_document_ref":"2026-17"`), 422, "legal_basis_unknown"},
			// A planned camera may wait for its basis to be approved; activating it may not.
			{"planned guest room with a pending legal basis", base("hotel_guest_room", `,"legal_basis_id":"detention_supervision","legal_basis_document_ref":"2026-17"`), 201, ""},
			{"unknown category", base("moon_base", ""), 422, "unknown_place_category"},
			{"short retention", base("hotel_lobby", `,"retention_days":7`), 422, "retention_below_floor"},
			{"lobby", base("hotel_lobby", ""), 201, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := f.size()
				r := f.do("POST", "/api/v1/cameras", f.admin, "", tt.body)
				if r.status != tt.status {
					t.Fatalf("create = %d %s; want %d", r.status, r.body, tt.status)
				}
				if tt.code == "" {
					return
				}
				var e struct {
					Error struct {
						Code, Message, Field, Rule string
						PolicyVersion              string `json:"policy_version"`
					} `json:"error"`
				}
				json.Unmarshal(r.body, &e)
				if e.Error.Code != tt.code || e.Error.Rule == "" || e.Error.PolicyVersion == "" || e.Error.Message == "" {
					t.Fatalf("refusal = %s; want code %s with rule, policy_version and reason", r.body, tt.code)
				}
				es := f.entriesSince(before)
				if len(es) != 1 || es[0].Action != "camera_create" || es[0].Outcome != "denied" || !strings.Contains(es[0].Reason, tt.code) {
					t.Fatalf("trail after refusal = %+v; want one denied camera_create naming %s", es, tt.code)
				}
			})
		}
		// Activating is checked too: a planned camera cannot be moved into a prohibited place.
		id := mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", base("hotel_lobby", "")))
		r := f.do("PATCH", "/api/v1/cameras/"+id, f.admin, "", `{"place_category":"hotel_guest_room","status":"active"}`)
		if r.status != 422 || r.errorCode() != "prohibited_place" {
			t.Fatalf("PATCH into guest room = %d %s; want 422 prohibited_place", r.status, r.body)
		}
	})
}

func TestCredentialsNeverReturned(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	r := f.do("POST", "/api/v1/cameras", f.admin, "", cameraJSON(f.orgA, "Secret cam", "public_square"))
	id := mustCreate(t, r)
	for _, path := range []string{"", "/api/v1/cameras/" + id, "/api/v1/cameras", "/api/v1/cameras?near=27.83,113.15&radius_m=100",
		"/api/v1/cameras?bbox=27,113,28,114", "/api/v1/trace?limit=100"} {
		if path != "" {
			r = f.do("GET", path, f.admin, "", "")
		}
		if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "user:") {
			t.Errorf("GET %s leaks stream credentials: %s", path, r.body)
		}
		if path == "/api/v1/cameras/"+id && !strings.Contains(string(r.body), `rtsp://10.0.0.9/stream`) {
			t.Errorf("GET %s = %s; want the source without credentials", path, r.body)
		}
	}
	r = f.do("GET", "/api/v1/users", f.admin, "", "")
	if strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password") {
		t.Errorf("user listing leaks password hashes: %s", r.body)
	}
}

func TestLoginThrottleAndFailures(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	before := f.size()
	for i := 0; i < 3; i++ {
		r := f.do("POST", "/api/v1/sessions", "", "", `{"username":"op1","password":"wrong password!"}`)
		if r.status != 401 || r.errorCode() != "bad_credentials" {
			t.Fatalf("failure %d = %d %s; want 401 bad_credentials", i, r.status, r.body)
		}
	}
	// Locked now: even the right password is refused until the backoff passes.
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/sessions", strings.NewReader(`{"username":"op1","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("login while throttled = %d (Retry-After %q); want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	es := f.entriesSince(before)
	if len(es) != 4 {
		t.Fatalf("trail has %d entries after 4 refused logins; want 4", len(es))
	}
	for _, e := range es {
		if e.Action != "login_failed" || e.Outcome != "denied" || e.Actor.Username != "op1" {
			t.Errorf("entry %+v; want login_failed denied for op1", e)
		}
	}
	// A user that does not exist is refused the same way.
	if r := f.do("POST", "/api/v1/sessions", "", "", `{"username":"ghost","password":"whatever it is"}`); r.status != 401 || r.errorCode() != "bad_credentials" {
		t.Errorf("unknown user = %d %s; want 401 bad_credentials", r.status, r.body)
	}
}

func TestRightsEndWithRoleChange(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	id, tok := f.addUser("op2", auth.RoleOperator, f.orgA)
	if r := f.do("GET", "/api/v1/me", tok, "", ""); r.status != 200 {
		t.Fatalf("me = %d; want 200", r.status)
	}
	if r := f.do("PATCH", "/api/v1/users/"+id, f.admin, "", `{"role":"auditor"}`); r.status != 200 {
		t.Fatalf("role change = %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/v1/me", tok, "", ""); r.status != 401 {
		t.Fatalf("me after role change = %d; want 401 (session ended)", r.status)
	}
	if r := f.do("PATCH", "/api/v1/users/"+id, f.admin, "", `{"disabled":true}`); r.status != 200 {
		t.Fatalf("disable = %d %s", r.status, r.body)
	}
	if r := f.do("POST", "/api/v1/sessions", "", "", `{"username":"op2","password":"correct horse battery"}`); r.status != 401 {
		t.Fatalf("login of disabled user = %d; want 401", r.status)
	}
}

func TestOrganisationWalls(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		_, ownerB := f.addUser("ownerB", auth.RoleOwner, f.orgB)
		camA := mustCreate(t, f.do("POST", "/api/v1/cameras", f.operator, "", cameraJSON(f.orgA, "A", "public_square")))
		body := fmt.Sprintf(`{"name":"B","investment":"private","lat":27.83,"lon":113.15,"place_category":"hotel_lobby"}`)
		camB := mustCreate(t, f.do("POST", "/api/v1/cameras", ownerB, "", body)) // organisation defaults to the owner's
		list := func(tok, q string) []string {
			r := f.do("GET", "/api/v1/cameras"+q, tok, "", "")
			var out struct{ Cameras []struct{ ID string } }
			json.Unmarshal(r.body, &out)
			var ids []string
			for _, c := range out.Cameras {
				ids = append(ids, c.ID)
			}
			return ids
		}
		for _, q := range []string{"", "?near=27.83,113.15&radius_m=1000", "?bbox=27,113,28,114"} {
			if got := list(f.operator, q); len(got) != 1 || got[0] != camA {
				t.Errorf("operator A lists %v with %q; want only [%s]", got, q, camA)
			}
			if got := list(ownerB, q); len(got) != 1 || got[0] != camB {
				t.Errorf("owner B lists %v with %q; want only [%s]", got, q, camB)
			}
			if got := list(f.admin, q); len(got) != 2 {
				t.Errorf("admin lists %v with %q; want both", got, q)
			}
		}
		if r := f.do("GET", "/api/v1/cameras/"+camB, f.operator, "", ""); r.status != 404 {
			t.Errorf("operator A GET camera B = %d; want 404", r.status)
		}
		if r := f.do("PATCH", "/api/v1/cameras/"+camA, ownerB, "", `{"organisation_id":"`+f.orgB+`"}`); r.status != 404 {
			t.Errorf("owner B PATCH camera A = %d; want 404", r.status)
		}
		if r := f.do("PATCH", "/api/v1/cameras/"+camB, ownerB, "", `{"organisation_id":"`+f.orgA+`"}`); r.status != 400 {
			t.Errorf("owner B moving its camera to A = %d; want 400", r.status)
		}
		r := f.do("GET", "/api/v1/compliance", ownerB, "", "")
		for _, fd := range r.json(t)["findings"].([]any) {
			if fd.(map[string]any)["camera_id"] != camB {
				t.Errorf("owner B's compliance report shows %v", fd)
			}
		}
	})
}

func TestNearOrdersByDistance(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	for i, lat := range []float64{27.8300, 27.8310, 27.8380, 27.9000} {
		body := fmt.Sprintf(`{"name":"N%d","organisation_id":%q,"investment":"government","lat":%v,"lon":113.15,"place_category":"public_square"}`, i, f.orgA, lat)
		mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", body))
	}
	r := f.do("GET", "/api/v1/cameras?near=27.8300,113.15&radius_m=1000", f.admin, "", "")
	var out struct {
		Cameras []struct {
			Name      string
			DistanceM float64 `json:"distance_m"`
		}
	}
	json.Unmarshal(r.body, &out)
	var names []string
	for _, c := range out.Cameras {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "N0,N1,N2" {
		t.Fatalf("near = %v; want N0,N1,N2 (N3 is 7.8 km away)", names)
	}
	if d := out.Cameras[1].DistanceM; d < 100 || d > 120 {
		t.Errorf("distance of N1 = %.1f m; want about 111 m", d)
	}
}

func TestImportAllOrNone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		csv := "name,organisation_id,investment,lat,lon,place_category,retention_days\n" +
			"Good," + f.orgA + ",government,27.8,113.1,public_square,30\n" +
			"Bad lat," + f.orgA + ",government,95,113.1,public_square,30\n" +
			"Bath," + f.orgA + ",private,27.8,113.1,public_bath,30\n" +
			"Short," + f.orgA + ",private,27.8,113.1,hotel_lobby,abc\n"
		r := f.do("POST", "/api/v1/cameras/import", f.admin, "text/csv", csv)
		if r.status != 400 {
			t.Fatalf("import = %d %s; want 400", r.status, r.body)
		}
		var e struct {
			Error struct {
				Rows []struct {
					Row          int
					Column, Code string
				}
			} `json:"error"`
		}
		json.Unmarshal(r.body, &e)
		got := []string{}
		for _, row := range e.Error.Rows {
			got = append(got, fmt.Sprintf("%d:%s:%s", row.Row, row.Column, row.Code))
		}
		want := []string{"3:lat:invalid", "4:place_category:prohibited_place", "5:retention_days:invalid"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("row errors = %v; want %v", got, want)
		}
		if r := f.do("GET", "/api/v1/cameras", f.admin, "", ""); len(r.json(t)["cameras"].([]any)) != 0 {
			t.Fatalf("a refused import stored cameras: %s", r.body)
		}
		good := "name,organisation_id,investment,lat,lon,place_category,networked,sign_installed\n" +
			"One," + f.orgA + ",government,27.8,113.1,public_square,true,yes\n" +
			"Two," + f.orgA + ",government,27.81,113.1,road_intersection,false,no\n"
		r = f.do("POST", "/api/v1/cameras/import", f.admin, "text/csv", good)
		if r.status != 201 || r.json(t)["imported"].(float64) != 2 {
			t.Fatalf("good import = %d %s; want 201 with 2", r.status, r.body)
		}
	})
}

func TestComplianceReport(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	mk := func(extra string) string {
		return mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", fmt.Sprintf(
			`{"name":"C","organisation_id":%q,"lat":27.8,"lon":113.1,"status":"active"%s}`, f.orgB, extra)))
	}
	notNetworked := mk(`,"investment":"government","place_category":"public_square","interface_reserved":true,"sign_installed":true`)
	noInterface := mk(`,"investment":"private","place_category":"hotel_lobby","sign_installed":true`)
	noSign := mk(`,"investment":"government","place_category":"public_square","networked":true`)
	overdue := mk(`,"investment":"government","place_category":"public_square","networked":true,"sign_installed":true,"last_maintenance_at":"2020-01-01T00:00:00Z"`)
	exempted := mustCreate(t, f.do("POST", "/api/v1/cameras", f.admin, "", fmt.Sprintf(
		`{"name":"C","organisation_id":%q,"lat":27.8,"lon":113.1,"investment":"private","place_category":"hotel_guest_room","interface_reserved":true,"sign_installed":true,"legal_basis_id":"detention_supervision","legal_basis_document_ref":"order 17"}`, f.orgB)))
	// The basis is proposed by an admin of no organisation, approved by one of the PSB's; only
	// then may the camera be activated.
	_, psbAdmin := f.addUser("psbadmin", auth.RoleAdmin, f.orgA)
	if r := f.do("POST", "/api/v1/cameras/"+exempted+"/legal-basis/approve", psbAdmin, "", ""); r.status != 200 {
		t.Fatalf("approve = %d %s; want 200", r.status, r.body)
	}
	if r := f.do("PATCH", "/api/v1/cameras/"+exempted, f.admin, "", `{"status":"active"}`); r.status != 200 {
		t.Fatalf("activate exempted = %d %s; want 200", r.status, r.body)
	}
	want := map[string]string{notNetworked: "not_networked", noInterface: "no_network_interface", noSign: "no_sign",
		overdue: "maintenance_overdue", exempted: "prohibited_place_exempted"}
	r := f.do("GET", "/api/v1/compliance?organisation_id="+f.orgB, f.admin, "", "")
	var out struct {
		Findings []struct {
			CameraID            string `json:"camera_id"`
			Code, Rule, Message string
		} `json:"findings"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, fd := range out.Findings {
		if fd.Rule == "" || fd.Message == "" {
			t.Errorf("finding %+v lacks rule or message", fd)
		}
		got[fd.CameraID] = append(got[fd.CameraID], fd.Code)
	}
	for id, code := range want {
		if len(got[id]) != 1 || got[id][0] != code {
			t.Errorf("findings for camera %s = %v; want [%s]", id, got[id], code)
		}
	}
	r = f.do("GET", "/api/v1/compliance?format=csv", f.admin, "", "")
	if !strings.HasPrefix(string(r.body), "camera_id,camera_name,organisation_id,code,rule,message,policy_version\n") || strings.Count(string(r.body), "\n") != 6 {
		t.Errorf("CSV report = %s; want a header and 5 rows", r.body)
	}
}

// TestTraceProofsFromOutside checks the trail as an outsider would, with only the public
// endpoints: the checkpoint's signature, an entry's inclusion under it, and the consistency of an
// older checkpoint with a newer one.
func TestTraceProofsFromOutside(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	key := strings.TrimSpace(string(f.do("GET", "/api/v1/trace/key", "", "", "").body))
	r := f.do("POST", "/api/v1/trace/checkpoint", f.admin, "", "")
	if r.status != 201 {
		t.Fatalf("POST checkpoint = %d %s", r.status, r.body)
	}
	old, err := trace.OpenCheckpoint(r.body, key)
	if err != nil {
		t.Fatalf("OpenCheckpoint(on-demand checkpoint) = %v", err)
	}
	for i := 0; i < 5; i++ {
		mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", fmt.Sprintf(`{"name":"O%d","kind":"enterprise"}`, i)))
	}
	f.do("POST", "/api/v1/trace/checkpoint", f.admin, "", "")
	r = f.do("GET", "/api/v1/trace/checkpoint", "", "", "")
	cp, err := trace.OpenCheckpoint(r.body, key)
	if err != nil || cp.Size <= old.Size {
		t.Fatalf("public checkpoint = %+v, %v; want a signed one larger than %d", cp, err, old.Size)
	}
	if _, err := trace.OpenCheckpoint(r.body, strings.Replace(key, "+", "-", 1)); err == nil {
		t.Fatal("checkpoint verified with a wrong key")
	}
	var inc struct {
		Seq      int64    `json:"seq"`
		TreeSize int64    `json:"tree_size"`
		LeafHash []byte   `json:"leaf_hash"`
		Hashes   [][]byte `json:"hashes"`
		Root     []byte   `json:"root"`
	}
	r = f.do("GET", fmt.Sprintf("/api/v1/trace/proof/inclusion?seq=%d&tree_size=%d", old.Size, cp.Size), "", "", "")
	if err := json.Unmarshal(r.body, &inc); err != nil {
		t.Fatalf("inclusion proof = %d %s", r.status, r.body)
	}
	if string(inc.Root) != string(cp.Root) {
		t.Fatal("inclusion proof's root differs from the signed checkpoint's")
	}
	if err := trace.VerifyInclusion(inc.Seq, inc.TreeSize, inc.LeafHash, inc.Hashes, cp.Root); err != nil {
		t.Fatalf("VerifyInclusion() = %v", err)
	}
	var con struct {
		Hashes [][]byte `json:"hashes"`
	}
	r = f.do("GET", fmt.Sprintf("/api/v1/trace/proof/consistency?size1=%d&size2=%d", old.Size, cp.Size), "", "", "")
	json.Unmarshal(r.body, &con)
	if err := trace.VerifyConsistency(old.Size, cp.Size, con.Hashes, old.Root, cp.Root); err != nil {
		t.Fatalf("VerifyConsistency(old, new) = %v", err)
	}
	if r := f.do("GET", fmt.Sprintf("/api/v1/trace/proof/inclusion?seq=0&tree_size=%d", cp.Size+1000), "", "", ""); r.status != 400 {
		t.Errorf("proof beyond the trail = %d; want 400", r.status)
	}
}
