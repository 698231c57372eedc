package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// pagingCameras is how many cameras the paging test registers: enough for many pages of every
// list, few enough for the normal test run. bench-scale does the same at a city's size.
const pagingCameras = 2500

// importCameras registers n cameras of org through the API's import; every third one lacks a
// sign, so the compliance report has findings on some cameras and not on others.
func importCameras(t *testing.T, f *fixture, org string, n int, prefix string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("name,organisation_id,investment,lat,lon,place_category,networked,sign_installed,status\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%05d,%s,government,27.8,113.1,public_square,true,%t,active\n", prefix, i, org, i%3 != 0)
	}
	if r := f.do("POST", "/api/v1/cameras/import", f.admin, "text/csv", b.String()); r.status != 201 {
		t.Fatalf("import = %d %s; want 201", r.status, r.body)
	}
}

// pageAll follows a list's cursors from its first page, inserting before the second page when
// between is set, and returns the items' keys in the order served.
func pageAll(t *testing.T, f *fixture, path, items string, key func(map[string]any) string, between func()) []string {
	t.Helper()
	var keys []string
	cursor := ""
	for pages := 0; ; pages++ {
		p := path
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		r := f.do("GET", p, f.admin, "", "")
		if r.status != 200 {
			t.Fatalf("GET %s = %d %s; want 200", p, r.status, r.body)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		if err := json.Unmarshal(body[items], &list); err != nil {
			t.Fatalf("GET %s: %q: %v", p, items, err)
		}
		for _, it := range list {
			keys = append(keys, key(it))
		}
		cursor = ""
		if raw, ok := body["next_cursor"]; ok {
			json.Unmarshal(raw, &cursor)
		}
		if cursor == "" {
			return keys
		}
		if pages == 0 && between != nil {
			between()
		}
		if pages > 10000 {
			t.Fatalf("GET %s: no end to the pages", path)
		}
	}
}

// TestPaging follows every paged list to its end through the real server: each item exactly
// once, in order, also when cameras are added between two pages; limits enforced; a cursor of
// one list refused by another.
func TestPaging(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		importCameras(t, f, f.orgA, pagingCameras, "A")
		id := func(it map[string]any) string { return it["id"].(string) }
		camID := func(it map[string]any) string { return it["camera_id"].(string) }
		finding := func(it map[string]any) string { return it["camera_id"].(string) + "/" + it["code"].(string) }

		t.Run("cameras", func(t *testing.T) {
			before := pageAll(t, f, "/api/v1/cameras?limit=97", "cameras", id, nil)
			checkOnceInOrder(t, "cameras", before, pagingCameras)
			// Cameras added between pages: those after the cursor are served, none twice.
			after := pageAll(t, f, "/api/v1/cameras?limit=97", "cameras", id, func() { importCameras(t, f, f.orgA, 50, "B") })
			checkOnceInOrder(t, "cameras with inserts", after, 0)
			if len(after) < pagingCameras || len(after) > pagingCameras+50 {
				t.Errorf("cameras with 50 inserted between pages = %d; want %d to %d", len(after), pagingCameras, pagingCameras+50)
			}
		})

		t.Run("storage", func(t *testing.T) {
			all := pageAll(t, f, "/api/v1/storage?limit=333", "cameras", camID, nil)

			checkOnceInOrder(t, "storage", all, pagingCameras+50)
		})
		t.Run("compliance", func(t *testing.T) {
			all := pageAll(t, f, "/api/v1/compliance?limit=101", "findings", finding, nil)
			checkOnceInOrder(t, "compliance", all, 0)
			var sum struct {
				Total, Cameras int
				ByCode         map[string]int `json:"by_code"`
			}
			r := f.do("GET", "/api/v1/compliance/summary", f.admin, "", "")
			if err := json.Unmarshal(r.body, &sum); err != nil || r.status != 200 {
				t.Fatalf("summary = %d %s", r.status, r.body)
			}
			noSign := 0
			for _, k := range all {
				if strings.HasSuffix(k, "/no_sign") {
					noSign++
				}
			}
			// (2500+2)/3 of the first import and 17 of the second lack a sign.
			if want := (pagingCameras+2)/3 + 17; noSign != want || sum.ByCode["no_sign"] != want || sum.Total != len(all) {
				t.Errorf("no_sign findings paged = %d, summary = %d, total %d of %d paged; want %d each", noSign, sum.ByCode["no_sign"], sum.Total, len(all), want)
			}
			org := pageAll(t, f, "/api/v1/compliance?limit=55&organisation_id="+f.orgB, "findings", finding, nil)
			if len(org) != 0 {
				t.Errorf("compliance of an organisation without cameras = %d findings; want 0", len(org))
			}
		})

		t.Run("holds", func(t *testing.T) {
			cams := pageAll(t, f, "/api/v1/cameras?limit=30", "cameras", id, nil)[:30]
			for _, c := range cams {
				mustCreate(t, f.do("POST", "/api/v1/holds", f.admin, "", holdJSON(c)))
			}
			all := pageAll(t, f, "/api/v1/holds?limit=7", "holds", id, nil)
			if len(all) != 30 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 30 {
				t.Errorf("holds paged 7 at a time = %d, %d distinct; want 30", len(all), len(slices.Compact(slices.Sorted(slices.Values(all)))))
			}
		})
		// Lists the services return whole are paged the same way (writePage): organisations by
		// name, users by username, each once, also with items added between pages.
		t.Run("organisations", func(t *testing.T) {
			for i := range 23 {
				mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", fmt.Sprintf(`{"name":"Org %02d","kind":"enterprise"}`, 22-i)))
			}
			byName := func(it map[string]any) string { return it["name"].(string) + "\x00" + it["id"].(string) }
			all := pageAll(t, f, "/api/v1/organisations?limit=4", "organisations", byName, nil)
			// The fixture's own organisations and the 23, as one page of them all holds.
			checkOnceInOrder(t, "organisations", all, len(pageAll(t, f, "/api/v1/organisations?limit=1000", "organisations", byName, nil)))
			if len(all) < 23 {
				t.Errorf("organisations paged 4 at a time = %d; want the 23 made and the fixture's", len(all))
			}
			added := pageAll(t, f, "/api/v1/organisations?limit=4", "organisations", byName, func() {
				mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", `{"name":"Org 99","kind":"enterprise"}`))
				mustCreate(t, f.do("POST", "/api/v1/organisations", f.admin, "", `{"name":"AAA first","kind":"enterprise"}`))
			})
			// The one after the cursor is served; the one before it is not, and none repeats.
			checkOnceInOrder(t, "organisations with inserts", added, len(all)+1)
		})
		t.Run("users", func(t *testing.T) {
			for i := range 11 {
				mustCreate(t, f.do("POST", "/api/v1/users", f.admin, "", fmt.Sprintf(`{"username":"pager%02d","password":"another long one","role":"auditor"}`, i)))
			}
			name := func(it map[string]any) string { return it["username"].(string) }
			all := pageAll(t, f, "/api/v1/users?limit=3", "users", name, nil)
			checkOnceInOrder(t, "users", all, 0)
			if n := len(slices.DeleteFunc(slices.Clone(all), func(u string) bool { return !strings.HasPrefix(u, "pager") })); n != 11 {
				t.Errorf("users paged 3 at a time hold %d of the 11 made; want 11", n)
			}
		})
		firstCursor := func(path string) string {
			var body struct {
				Next string `json:"next_cursor"`
			}
			json.Unmarshal(f.do("GET", path, f.admin, "", "").body, &body)
			if body.Next == "" {
				t.Fatalf("GET %s gave no next_cursor", path)
			}
			return body.Next
		}
		camCursor := firstCursor("/api/v1/cameras?limit=5")
		orgCursor := firstCursor("/api/v1/organisations?limit=2")
		findCursor := firstCursor("/api/v1/compliance?limit=5")
		tests := []struct {
			name, path string
			want       int
		}{
			{"limit 0", "/api/v1/compliance?limit=0", 400},
			{"limit above the maximum", "/api/v1/compliance?limit=1001", 400},
			{"storage limit above the maximum", "/api/v1/storage?limit=1001", 400},
			{"cameras limit above the maximum", "/api/v1/cameras?limit=10001", 400},
			{"maximum limit", "/api/v1/storage?limit=1000", 200},
			{"garbage cursor", "/api/v1/compliance?cursor=not-a-cursor!", 400},
			{"cursor of another list, well formed", "/api/v1/compliance?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("storage\nx\n0")), 400},
			{"camera cursor to compliance", "/api/v1/compliance?cursor=" + camCursor, 400},
			{"camera cursor to storage", "/api/v1/storage?cursor=" + camCursor, 400},
			{"compliance cursor to cameras", "/api/v1/cameras?cursor=" + findCursor, 400},
			{"compliance cursor to holds", "/api/v1/holds?cursor=" + findCursor, 400},
			{"holds limit above the maximum", "/api/v1/holds?limit=1001", 400},
			{"own cursor", "/api/v1/compliance?cursor=" + findCursor, 200},
			{"organisations cursor to users", "/api/v1/users?cursor=" + orgCursor, 400},
			{"camera cursor to organisations", "/api/v1/organisations?cursor=" + camCursor, 400},
			{"organisations limit above the maximum", "/api/v1/organisations?limit=1001", 400},
			{"organisations own cursor", "/api/v1/organisations?cursor=" + orgCursor, 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do("GET", tc.path, f.admin, "", "")
				if r.status != tc.want {
					t.Errorf("GET %s = %d; want %d", tc.path, r.status, tc.want)
				}
				if tc.want == 400 && r.errorCode() == "" {
					t.Errorf("GET %s = %s; want an error code", tc.path, r.body)
				}
			})
		}
	})
}

// checkOnceInOrder fails unless keys are strictly increasing (so none repeats) and, when want
// is not 0, there are want of them.
func checkOnceInOrder(t *testing.T, what string, keys []string, want int) {
	t.Helper()
	if want != 0 && len(keys) != want {
		t.Errorf("%s: %d items paged; want %d", what, len(keys), want)
	}
	if !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Errorf("%s: items not each once in order", what)
	}
}
