package gb28181

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(t testing.TB, s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func catalogBody(name string) string {
	return `<Response><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>43020000001180000001</DeviceID><SumNum>2</SumNum>` +
		`<DeviceList Num="1"><Item><DeviceID>43020000001310000001</DeviceID><Name>` + name + `</Name><Status>ON</Status>` +
		`<Longitude>113.13</Longitude><Latitude>27.83</Latitude></Item></DeviceList></Response>`
}

func TestParseMessageCharsets(t *testing.T) {
	const name = "株洲市荷塘区路口𠀀" // the last character exists in GB18030 only
	const gbkName = "株洲市荷塘区路口"
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"utf-8 declared", []byte(`<?xml version="1.0" encoding="UTF-8"?>` + catalogBody(name)), name},
		{"utf-8 undeclared", []byte(catalogBody(name)), name},
		{"gb2312 declared", append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"gbk declared", append([]byte(`<?xml version='1.0' encoding='gbk'?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"gb18030", func() []byte {
			b, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(catalogBody(name)))
			return append([]byte(`<?xml version="1.0" encoding="GB18030"?>`), b...)
		}(), name},
		{"utf-8 declared, gbk sent", append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`), gbk(t, catalogBody(gbkName))...), gbkName},
		{"stray NULs", append(append([]byte(catalogBody(name)), 0, 0), 0), name},
		{"NUL inside", bytes.Replace([]byte(catalogBody(name)), []byte("<SN>"), []byte("<SN>\x00"), 1), name},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage(tc.body)
			if err != nil {
				t.Fatalf("ParseMessage = %v", err)
			}
			if len(m.Items) != 1 || m.Items[0].Name != tc.want {
				t.Fatalf("ParseMessage items = %+v; want one named %q", m.Items, tc.want)
			}
			if m.Kind != "Response" || m.CmdType != "Catalog" || m.SN != 7 || m.SumNum != 2 || !m.Items[0].Online() || m.Items[0].Latitude != 27.83 {
				t.Errorf("ParseMessage = %+v", m)
			}
		})
	}
}

func TestParseMessageRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Notify><CmdType>Keepalive</CmdType><Status>&b;</Status></Notify>`, ErrHostileXML},
		{"external entity", `<!doctype x [<!entity e SYSTEM "file:///etc/passwd">]><Notify><CmdType>Keepalive</CmdType><Status>&e;</Status></Notify>`, ErrHostileXML},
		{"too large", `<Notify><CmdType>Keepalive</CmdType><Status>` + strings.Repeat("x", MaxBody) + `</Status></Notify>`, ErrTooLarge},
		{"unknown entity", `<Notify><CmdType>Keepalive</CmdType><Status>&e;</Status></Notify>`, nil},
		{"wrong root", `<Html><CmdType>Keepalive</CmdType></Html>`, nil},
		{"no command", `<Notify><SN>1</SN></Notify>`, nil},
		{"unclosed", `<Notify><CmdType>Keepalive</CmdType>`, nil},
		{"huge SumNum", `<Response><CmdType>Catalog</CmdType><SumNum>99999999</SumNum></Response>`, nil},
		{"empty", ``, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tc.body))
			if err == nil {
				t.Fatalf("ParseMessage = %+v; want an error", m)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("ParseMessage = %v; want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(catalogBody("路口")))
	f.Add(append([]byte(`<?xml version="1.0" encoding="GB2312"?>`), gbk(f, catalogBody("路口"))...))
	f.Add([]byte(`<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>43020000001180000001</DeviceID><Status>OK</Status></Notify>`))
	f.Add([]byte(`<Response><CmdType>DeviceInfo</CmdType><DeviceName>x</DeviceName><Channel>3</Channel></Response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil {
			return
		}
		if len(m.Items) > maxItems || m.SumNum < 0 || m.SumNum > maxSumNum {
			t.Fatalf("ParseMessage accepted %d items, SumNum %d", len(m.Items), m.SumNum)
		}
		for _, it := range m.Items {
			if len([]rune(it.Name)) > maxText || strings.ContainsRune(it.Name, 0) {
				t.Fatalf("item name %q not cleaned", it.Name)
			}
		}
	})
}

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
