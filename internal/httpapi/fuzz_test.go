package httpapi_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fuzzbound"
	"civicam/internal/httpapi"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/lostperson"
	"civicam/internal/store/storetest"
)

// update rewrites the checked-in seed corpora under testdata/fuzz.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// bodyFuzz is the API over a real database with a caller of every staff role, an organisation
// of each kind, a camera and a user to aim at.
type bodyFuzz struct {
	api     *httpapi.Server
	routes  []httpapi.Route // the routes that take a body, sorted
	tokens  map[auth.Role]string
	ids     map[string]string // {id} of each route with one, by pattern
	orgA    string
	orgB    string
	camA    string
	started time.Time
}

// bodyRoutes are the routes whose handler reads a request body, in a fixed order (method and
// pattern) so that a corpus entry's first byte keeps naming its route as routes are added.
func bodyRoutes(api *httpapi.Server) []httpapi.Route {
	var rs []httpapi.Route
	for _, rt := range api.Routes() {
		if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			rs = append(rs, rt)
		}
	}
	slices.SortFunc(rs, func(a, b httpapi.Route) int { return strings.Compare(a.Method+" "+a.Pattern, b.Method+" "+b.Pattern) })
	return rs
}

func newBodyFuzz(t testing.TB) *bodyFuzz {
	st := apitest.New(t, storetest.SQLite(t))
	lp, err := lostperson.New(lostperson.Config{DataDir: t.TempDir()}, lostperson.Deps{Repo: st.DB, Recordings: st.DB,
		Cameras: st.Registry, Pack: st.Registry.Pack(), Tracer: st.Tracer, Hasher: st.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	bf := &bodyFuzz{api: st.NewAPI(t, apitest.Parts{Requests: lp}), tokens: map[auth.Role]string{}}
	bf.routes = bodyRoutes(bf.api)
	login := func(name string, role auth.Role, org string) string {
		id := st.AddUser(t, name, role, org)
		res := bf.serve("POST", "/api/v1/sessions", "", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, name, apitest.Password))
		var out struct{ Token string }
		if res.Code != http.StatusCreated || json.Unmarshal(res.Body.Bytes(), &out) != nil {
			t.Fatalf("login %s = %d %s", name, res.Code, res.Body)
		}
		bf.tokens[role] = out.Token
		return id
	}
	login("admin1", auth.RoleAdmin, "")
	create := func(path, body string) string {
		res := bf.serve("POST", path, bf.tokens[auth.RoleAdmin], "application/json", body)
		var out struct{ ID string }
		if res.Code != http.StatusCreated || json.Unmarshal(res.Body.Bytes(), &out) != nil {
			t.Fatalf("POST %s = %d %s", path, res.Code, res.Body)
		}
		return out.ID
	}
	bf.orgA = create("/api/v1/organisations", `{"name":"PSB","kind":"department","department_type":"public_security"}`)
	bf.orgB = create("/api/v1/organisations", `{"name":"Hotel","kind":"establishment","establishment_type":"hotel"}`)
	bf.camA = create("/api/v1/cameras", cameraJSON(bf.orgA, "Gate", "public_square"))
	login("op1", auth.RoleOperator, bf.orgA)
	login("owner1", auth.RoleOwner, bf.orgB)
	login("rev1", auth.RoleReviewer, "")
	login("aud1", auth.RoleAuditor, "")
	victim := st.AddUser(t, "victim", auth.RoleOperator, bf.orgA)
	bf.ids = map[string]string{"/api/v1/users/{id}": victim}
	return bf
}

func (bf *bodyFuzz) serve(method, path, token, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:1234"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res := httptest.NewRecorder()
	bf.api.Handler().ServeHTTP(res, req)
	return res
}

// request is what an input asks: the route its first byte names, and the rest as the body,
// sent by a caller the route admits.
func (bf *bodyFuzz) request(in []byte) (rt httpapi.Route, path, token, ctype string, body []byte) {
	if len(in) == 0 {
		in = []byte{0}
	}
	rt = bf.routes[int(in[0])%len(bf.routes)]
	path = rt.Pattern
	if strings.Contains(path, "{id}") {
		id, ok := bf.ids[rt.Pattern]
		if !ok {
			if strings.HasPrefix(path, "/api/v1/cameras/") {
				id = bf.camA
			} else {
				id = "00000000-0000-4000-8000-000000000001"
			}
		}
		path = strings.Replace(path, "{id}", id, 1)
	}
	switch {
	case rt.Public():
	case len(rt.Roles) == 0 || slices.Contains(rt.Roles, auth.RoleAdmin):
		token = bf.tokens[auth.RoleAdmin]
	default:
		for _, r := range rt.Roles {
			if tok, ok := bf.tokens[r]; ok {
				token = tok
				break
			}
		}
	}
	ctype = "application/json"
	switch {
	case strings.HasSuffix(rt.Pattern, "/import"):
		ctype = "text/csv"
	case strings.HasSuffix(rt.Pattern, "/whep"):
		ctype, path = "application/sdp", path+"?purpose=fuzz"
	}
	// Seeds name the fixture's organisations and camera by placeholder; the ids differ per run.
	body = []byte(strings.NewReplacer("{orgA}", bf.orgA, "{orgB}", bf.orgB, "{camA}", bf.camA).Replace(string(in[1:])))
	return rt, path, token, ctype, body
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzRequestBody with -update: for every route that
// takes a body, a body its handler accepts, as the behaviour tests send them.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	bf := newBodyFuzz(t)
	const orgA, orgB, camA = "{orgA}", "{orgB}", "{camA}"
	bodies := map[string]string{
		"POST /api/v1/sessions":                          `{"username":"admin1","password":"correct horse battery"}`,
		"POST /api/v1/organisations":                     `{"name":"Z","kind":"establishment","establishment_type":"hotel"}`,
		"POST /api/v1/users":                             `{"username":"new.user","password":"long enough password","role":"operator","organisation_id":"` + orgA + `"}`,
		"PATCH /api/v1/users/{id}":                       `{"role":"auditor"}`,
		"POST /api/v1/cameras":                           cameraJSON(orgA, "C2", "road_intersection"),
		"POST /api/v1/cameras/import":                    "name,organisation_id,investment,lat,lon,place_category\nA," + orgA + ",government,27.8,113.1,public_square\n",
		"PATCH /api/v1/cameras/{id}":                     `{"sign_installed":true}`,
		"POST /api/v1/trace/checkpoint":                  ``,
		"POST /api/v1/procedures":                        procedureJSON(),
		"POST /api/v1/applicants":                        `{"name":"Li Wei","id_number":"430202199001011234","phone":"13800000000","password":"long enough password"}`,
		"POST /api/v1/applicants/verify":                 `{"phone":"13800000000","code":"123456"}`,
		"POST /api/v1/applications":                      applicationJSON("child"),
		"POST /api/v1/applications/{id}/decision":        `{"accept":true,"reason":"complete"}`,
		"POST /api/v1/applications/{id}/findings":        `{"body":"checked camera 3"}`,
		"POST /api/v1/applications/{id}/result":          `{"found":true,"body":"found at the gate"}`,
		"POST /api/v1/applications/{id}/notices":         `{"outcome":"found","message":"found at the gate"}`,
		"POST /api/v1/applications/{id}/documents/shown": `{"kind":"identity","note":"seen"}`,
		"POST /api/v1/cameras/{id}/exports":              `{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z","purpose":"incident review","case_ref":"CASE-1"}`,
		"POST /api/v1/holds":                             holdJSON(camA),
		"POST /api/v1/grants":                            grantJSON(camA, orgB),
		"POST /api/v1/groups":                            `{"organisation_id":"` + orgA + `","name":"all","kind":"organisation"}`,
		"POST /api/v1/cameras/{id}/whep":                 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n",
		"POST /api/v1/applications/{id}/documents":       `{}`,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRequestBody")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Regressions the fuzzer found, by route and body.
	regressions := map[string][2]string{
		// An admin's group for an organisation that does not exist was a 500 (the insert's
		// foreign key), not a 400 naming organisation_id.
		"group-unknown-organisation": {"POST /api/v1/groups", `{"organisation_id":"00000000-0000-4000-8000-00000000dead","name":"all","kind":"organisation"}`},
	}
	for name, r := range regressions {
		i := slices.IndexFunc(bf.routes, func(rt httpapi.Route) bool { return rt.Method+" "+rt.Pattern == r[0] })
		in := append([]byte{byte(i)}, r[1]...)
		if err := os.WriteFile(filepath.Join(dir, "regression-"+name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", in), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, rt := range bf.routes {
		name := rt.Method + " " + rt.Pattern
		body, ok := bodies[name]
		if !ok {
			body = `{}`
		}
		in := append([]byte{byte(i)}, body...)
		file := strings.NewReplacer("/api/v1/", "", "/", "-", "{", "", "}", "", " ", "-").Replace(strings.ToLower(name))
		if err := os.WriteFile(filepath.Join(dir, "seed-"+file), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", in), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRequestBody sends every route that takes a body (picked by the input's first byte) the
// rest of the input, through the whole API as a caller the route admits. Whatever the body, the
// answer is a success or a client error, never a server error (503 for a part this stack
// leaves out), with a JSON error naming its code, within the bound.
func FuzzRequestBody(f *testing.F) {
	bf := newBodyFuzz(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		rt, path, token, ctype, body := bf.request(in)
		start := time.Now()
		res := bf.serve(rt.Method, path, token, ctype, string(body))
		fuzzbound.Check(t, start, rt.Method+" "+path, len(body))
		if res.Code >= 500 && res.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q = %d %s; want no server error", rt.Method, path, body, res.Code, res.Body)
		}
		if res.Code >= 400 {
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if err := json.Unmarshal(res.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
				t.Fatalf("%s %s %q = %d %s; want a JSON error with a code", rt.Method, path, body, res.Code, res.Body)
			}
		}
	})
}
