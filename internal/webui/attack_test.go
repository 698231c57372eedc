package webui

// Attacks on the running web UI (issue 12), kept together with the API's in
// internal/httpapi/attack_test.go.

import (
	"net/url"
	"regexp"
	"testing"
)

// TestAttackNoOpenRedirect: /lang/en?next=/%09/127.0.0.1:18199/pwned answered
// "Location: /\t/127.0.0.1:18199/pwned", which Chromium follows to the other origin once it drops
// the tab. Every redirect target a request names must stay on this origin.
func TestAttackNoOpenRedirect(t *testing.T) {
	s := newStack(t)
	b := s.browser()
	for _, next := range []string{
		"/\t/127.0.0.1:18199/pwned", "/\n/evil.example", "/\\evil.example", "//evil.example",
		"https://evil.example/", "/\\/evil.example", " //evil.example", "/\u00a0/evil.example",
		"javascript:alert(1)", "/%2F%2Fevil.example", "\\\\evil.example",
	} {
		res := b.get("/lang/en?" + url.Values{"next": {next}}.Encode())
		loc := res.res.Header.Get("Location")
		u, err := url.Parse(loc)
		if err != nil || u.Host != "" || u.Scheme != "" || len(loc) > 1 && (loc[1] == '/' || loc[1] == '\\') {
			t.Errorf("GET /lang/en?next=%q: Location %q; want a path on this origin", next, loc)
		}
		for _, c := range loc {
			if c < ' ' || c == '\\' {
				t.Errorf("GET /lang/en?next=%q: Location %q holds %q", next, loc, c)
			}
		}
	}
	res := b.get("/lang/en?next=" + url.QueryEscape("/cameras?window=1h"))
	if loc := res.res.Header.Get("Location"); loc != "/cameras?window=1h" {
		t.Errorf("GET /lang/en?next=/cameras?window=1h: Location %q; want the path kept", loc)
	}
	login := b.get("/login?next=" + url.QueryEscape("/\t/evil.example"))
	if m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(login.body); m == nil || m[1] != "" {
		t.Errorf("GET /login?next=/<tab>/evil.example: the login form's next = %q; want it dropped", m)
	}
}
