package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash := NewToken()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("NewToken() = %q: want 32 bytes of unpadded base64url (err %v, %d bytes)", tok, err, len(raw))
		}
		want := sha256.Sum256([]byte(tok))
		if !bytes.Equal(hash, want[:]) {
			t.Fatalf("NewToken() hash = %x; want SHA-256 of the token %x", hash, want)
		}
		if !bytes.Equal(HashToken(tok), hash) {
			t.Fatalf("HashToken(%q) = %x; want %x", tok, HashToken(tok), hash)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
	if bytes.Equal(HashToken("a"), HashToken("b")) {
		t.Errorf("HashToken(a) = HashToken(b)")
	}
}

func TestCSRFTokenEqual(t *testing.T) {
	tok := NewCSRFToken()
	if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
		t.Fatalf("NewCSRFToken() = %q; want 32 bytes of base64url", tok)
	}
	if NewCSRFToken() == tok {
		t.Fatalf("NewCSRFToken() repeated itself")
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{tok, tok, true},
		{tok, tok[:len(tok)-1], false},
		{tok, strings.ToUpper(tok), tok == strings.ToUpper(tok)},
		{"", "", false},
		{tok, "", false},
		{"", tok, false},
	}
	for _, tt := range tests {
		if got := CSRFTokenEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("CSRFTokenEqual(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCheckCSRF(t *testing.T) {
	const tok = "k3Jd9sVb2mQ7pX4rT8wY1zA6cE0fG5hI2jL9nO3qU7s"
	type req struct {
		cookie, header, form string
		contentType          string
		secFetchSite, origin string
	}
	tests := []struct {
		name string
		r    req
		want bool
	}{
		{"header repeats cookie", req{cookie: tok, header: tok, contentType: "application/json"}, true},
		{"form field repeats cookie", req{cookie: tok, form: tok, contentType: "application/x-www-form-urlencoded"}, true},
		{"same-origin browser request", req{cookie: tok, header: tok, secFetchSite: "same-origin"}, true},
		{"no cookie", req{header: tok}, false},
		{"no header or field", req{cookie: tok, contentType: "application/json"}, false},
		{"header differs", req{cookie: tok, header: tok[:len(tok)-1] + "x"}, false},
		{"empty cookie and header", req{cookie: "", header: ""}, false},
		{"form field in a JSON body is not read", req{cookie: tok, form: tok, contentType: "application/json"}, false},
		{"cross-site browser request with the token", req{cookie: tok, header: tok, secFetchSite: "cross-site"}, false},
		{"foreign origin with the token", req{cookie: tok, header: tok, origin: "https://evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body string
			if tt.r.form != "" {
				body = url.Values{CSRFFormField: {tt.r.form}}.Encode()
				if tt.r.contentType == "application/json" {
					body = `{"csrf_token":"` + tt.r.form + `"}`
				}
			}
			r := httptest.NewRequest(http.MethodPost, "http://civicam.test/api/v1/cameras", strings.NewReader(body))
			if tt.r.contentType != "" {
				r.Header.Set("Content-Type", tt.r.contentType)
			}
			if tt.r.cookie != "" {
				r.AddCookie(NewCSRFCookie(tt.r.cookie, false))
			}
			if tt.r.header != "" {
				r.Header.Set(CSRFHeader, tt.r.header)
			}
			if tt.r.secFetchSite != "" {
				r.Header.Set("Sec-Fetch-Site", tt.r.secFetchSite)
			}
			if tt.r.origin != "" {
				r.Header.Set("Origin", tt.r.origin)
			}
			if got := CheckCSRF(r); got != tt.want {
				t.Errorf("CheckCSRF(%+v) = %v; want %v", tt.r, got, tt.want)
			}
		})
	}
}

func TestNewCSRFCookie(t *testing.T) {
	c := NewCSRFCookie("t", true)
	if c.Name != CSRFCookie || c.Value != "t" || !c.Secure || c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("NewCSRFCookie(t, true) = %+v; want %s=t, Path=/, Secure, not HttpOnly, SameSite=Strict", c, CSRFCookie)
	}
	if err := c.Valid(); err != nil {
		t.Errorf("NewCSRFCookie(t, true).Valid() = %v", err)
	}
}

func TestRequestToken(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		cookie     string
		wantToken  string
		wantCookie bool
		wantErr    error
	}{
		{"bearer", "Bearer abc", "", "abc", false, nil},
		{"bearer wins over cookie", "Bearer abc", "def", "abc", false, nil},
		{"cookie", "", "def", "def", true, nil},
		{"other scheme", "Basic abc", "def", "", false, ErrMalformedAuthHeader},
		{"empty bearer", "Bearer ", "", "", false, ErrMalformedAuthHeader},
		{"nothing", "", "", "", false, ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tt.cookie})
			}
			tok, viaCookie, err := RequestToken(r)
			if tok != tt.wantToken || viaCookie != tt.wantCookie || err != tt.wantErr {
				t.Errorf("RequestToken() = %q, %v, %v; want %q, %v, %v", tok, viaCookie, err, tt.wantToken, tt.wantCookie, tt.wantErr)
			}
		})
	}
}
