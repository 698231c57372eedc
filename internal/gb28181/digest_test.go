package gb28181

import (
	"testing"
	"time"

	"github.com/icholy/digest"
)

// TestCheckDigestRFC2617 checks the digest against RFC 2617 §3.5's worked example (qop=auth),
// and the form without qop that many devices use, computed by the same library as a client.
func TestCheckDigestRFC2617(t *testing.T) {
	rfc := &digest.Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		URI: "/dir/index.html", QOP: "auth", Nc: 1, Cnonce: "0a4f113b", Response: "6629fae49393a05397450978507c4ef1",
		Opaque: "5ccc069c403ebaf9f0171e9517f40e41"}
	noQOP, err := digest.Digest(&digest.Challenge{Realm: "4302000000", Nonce: "abc"}, digest.Options{Method: "REGISTER",
		URI: "sip:43020000002000000001@4302000000", Username: "43020000001180000001", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		cred     digest.Credentials
		method   string
		realm    string
		password string
		want     bool
	}{
		{"rfc 2617 example", *rfc, "GET", "testrealm@host.com", "Circle Of Life", true},
		{"wrong password", *rfc, "GET", "testrealm@host.com", "Circle of Life", false},
		{"wrong method", *rfc, "POST", "testrealm@host.com", "Circle Of Life", false},
		{"other realm", *rfc, "GET", "otherrealm", "Circle Of Life", false},
		{"qop without nc", func() digest.Credentials { c := *rfc; c.Nc = 0; return c }(), "GET", "testrealm@host.com", "Circle Of Life", false},
		{"sha-256 refused", func() digest.Credentials { c := *rfc; c.Algorithm = "SHA-256"; return c }(), "GET", "testrealm@host.com", "Circle Of Life", false},
		{"no qop", *noQOP, "REGISTER", "4302000000", "s3cret", true},
		{"no qop, wrong password", *noQOP, "REGISTER", "4302000000", "secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkDigest(&tc.cred, tc.method, tc.realm, tc.password); got != tc.want {
				t.Errorf("checkDigest(%s) = %v; want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestNonces(t *testing.T) {
	n := newNonces(minute, 3)
	now := t0
	a := n.issue(now)
	if got := n.state(a, now.Add(minute-1)); got != nonceFresh {
		t.Errorf("state before ttl = %v; want fresh", got)
	}
	if got := n.state(a, now.Add(minute+1)); got != nonceStale {
		t.Errorf("state after ttl = %v; want stale", got)
	}
	if !n.use(a, 1, true) || n.use(a, 1, true) || !n.use(a, 2, true) {
		t.Error("nonce counts: want 1 accepted, 1 again refused, 2 accepted")
	}
	for range 5 {
		n.issue(now)
	}
	if len(n.byID) > 3 {
		t.Errorf("%d nonces kept; want at most 3", len(n.byID))
	}
	if got := n.state(a, now); got != nonceUnknown {
		t.Errorf("oldest nonce after overflow = %v; want forgotten", got)
	}
	b := n.issue(now)
	if !n.use(b, 0, false) || n.use(b, 0, false) {
		t.Error("a nonce without qop answers one challenge only")
	}
}

const minute = time.Minute

var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
