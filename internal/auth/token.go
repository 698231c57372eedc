package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// tokenBytes is the entropy of session and CSRF tokens: 256 bits.
const tokenBytes = 32

// NewToken returns a new session token for the client (43 characters of base64url) and the
// SHA-256 hash of it, which is all the server stores: a leaked database holds no usable token.
// A plain hash suffices (no salt, no argon2) because the token is random, not chosen by a person.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 hash under which the server knows token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CSRF protection for the cookie-authenticated web UI, by double submission: at login the
// server sets CSRFCookie (readable by the page, SameSite=Strict) and every form or script sends
// the same value back in CSRFHeader or the CSRFFormField; a cross-site page can make the
// browser send the cookie but cannot read it to repeat it. CheckCSRF also refuses requests that
// the browser marks as cross-origin (net/http.CrossOriginProtection, Sec-Fetch-Site and Origin).
// Bearer-token requests need none of this: a browser never adds an Authorization header by itself.
const (
	CSRFCookie    = "civicam_csrf"
	CSRFHeader    = "X-CSRF-Token"
	CSRFFormField = "csrf_token"
)

// NewCSRFToken returns a new random CSRF token (base64url).
func NewCSRFToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CSRFTokenEqual compares two tokens in constant time; empty tokens never match.
func CSRFTokenEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// NewCSRFCookie returns the cookie that carries token to the page. secure sets the Secure
// attribute; it must be true whenever the UI is served over HTTPS.
func NewCSRFCookie(token string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     CSRFCookie,
		Value:    token,
		Path:     "/",
		Secure:   secure,
		HttpOnly: false, // the page's script must read it to send it back
		SameSite: http.SameSiteStrictMode,
	}
}

// crossOrigin is stateless and safe for concurrent use once built.
var crossOrigin = http.NewCrossOriginProtection()

// CheckCSRF reports whether a state-changing request authenticated by cookie may proceed: it
// must not be cross-origin, and it must repeat the CSRFCookie value in the CSRFHeader or, for
// an HTML form post, the CSRFFormField. Call it only for unsafe methods; it does not exempt GET.
func CheckCSRF(r *http.Request) bool {
	if err := crossOrigin.Check(r); err != nil {
		return false
	}
	c, err := r.Cookie(CSRFCookie)
	if err != nil {
		return false
	}
	sent := r.Header.Get(CSRFHeader)
	if sent == "" && isFormPost(r) {
		sent = r.PostFormValue(CSRFFormField)
	}
	return CSRFTokenEqual(c.Value, sent)
}

// isFormPost reports whether the body is an HTML form; other bodies (JSON, CSV) are not parsed
// here, so checking never consumes them.
func isFormPost(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// SessionCookie is the name of the web UI's session cookie; the API accepts it too (with a CSRF
// token on unsafe methods).
const SessionCookie = "civicam_session"

// Why a request carries no usable session token; the faces trace the reason with the refusal.
var (
	ErrNoCredentials       = errors.New("no credentials")
	ErrMalformedAuthHeader = errors.New("malformed Authorization header")
)

// RequestToken is the session token a request carries: a bearer token in the Authorization
// header or, without one, the session cookie. viaCookie says it came by cookie, which the
// browser sends by itself, so unsafe methods then need a CSRF token as well.
func RequestToken(r *http.Request) (token string, viaCookie bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || t == "" {
			return "", false, ErrMalformedAuthHeader
		}
		return t, false, nil
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return c.Value, true, nil
	}
	return "", false, ErrNoCredentials
}
