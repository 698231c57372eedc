package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/live/livetest"
)

// whepCall sends one request to a WHEP URL and returns its status and headers.
func (s *liveStack) whepCall(method, path, token, ctype, ifMatch, body string) (*http.Response, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestWHEPBySpecification: OPTIONS answered 404, there was no PATCH for trickle ICE and no
// ETag. The endpoint answers as the WHEP draft asks; only the viewer may PATCH its session.
func TestWHEPBySpecification(t *testing.T) {
	s := newLiveStack(t)
	_, otherTok := s.addUser("admin2", auth.RoleAdmin, "")
	endpoint := "/api/v1/cameras/" + s.camA + "/whep"

	res, _ := s.whepCall("OPTIONS", endpoint, "", "", "", "")
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Allow"), "POST") || res.Header.Get("Accept-Post") != "application/sdp" {
		t.Fatalf("OPTIONS endpoint = %d Allow %q Accept-Post %q; want 204, POST, application/sdp",
			res.StatusCode, res.Header.Get("Allow"), res.Header.Get("Accept-Post"))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := livetest.NewViewerWith(ctx, livetest.Options{Trickle: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	req, _ := http.NewRequest("POST", s.srv.URL+endpoint+"?purpose=patrol", strings.NewReader(v.Offer))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+s.adminTok)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST offer = %d %s; want 201", res.StatusCode, answer)
	}
	session, etag := res.Header.Get("Location"), res.Header.Get("ETag")
	if etag == "" {
		t.Error("201 answer has no ETag")
	}
	if err := v.Accept(string(answer)); err != nil {
		t.Fatal(err)
	}
	res, _ = s.whepCall("OPTIONS", session, "", "", "", "")
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Allow"), "PATCH") {
		t.Errorf("OPTIONS session = %d Allow %q; want 204 with PATCH", res.StatusCode, res.Header.Get("Allow"))
	}

	ufrag := regexp.MustCompile(`(?m)^a=ice-ufrag:(\S+)`).FindStringSubmatch(v.Offer)[1]
	frag := "a=ice-ufrag:" + ufrag + "\r\na=mid:0\r\n"
	for line := range v.Candidates {
		frag += line + "\r\n"
		if line == "a=end-of-candidates" {
			break
		}
	}
	const sdpfrag = "application/trickle-ice-sdpfrag"
	for _, tc := range []struct {
		name, token, ctype, ifMatch, body string
		want                              int
	}{
		{"no login", "", sdpfrag, "", frag, http.StatusUnauthorized},
		{"someone else's session", otherTok, sdpfrag, "", frag, http.StatusNotFound},
		{"not a fragment type", s.adminTok, "application/sdp", "", frag, http.StatusUnsupportedMediaType},
		{"stale etag", s.adminTok, sdpfrag, `"nope"`, frag, http.StatusPreconditionFailed},
		{"ice restart", s.adminTok, sdpfrag, "", "a=ice-ufrag:restart1\r\na=ice-pwd:0123456789abcdef01234567\r\n", http.StatusUnprocessableEntity},
		{"garbage", s.adminTok, sdpfrag, "", "GET / HTTP/1.1\r\n", http.StatusBadRequest},
		{"the viewer's candidates", s.adminTok, sdpfrag, etag, frag, http.StatusNoContent},
	} {
		if res, body := s.whepCall("PATCH", session, tc.token, tc.ctype, tc.ifMatch, tc.body); res.StatusCode != tc.want {
			t.Errorf("PATCH %s = %d %s; want %d", tc.name, res.StatusCode, body, tc.want)
		}
	}
	for {
		au, err := v.Next(ctx)
		if err != nil {
			t.Fatalf("no frame after trickled candidates: %v", err)
		}
		if au.Key() {
			break
		}
	}
	if res, body := s.whepCall("DELETE", session, s.adminTok, "", "", ""); res.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE session = %d %s; want 204", res.StatusCode, body)
	}
}

// TestWHEPRefusesAnOfferThatCannotDecodeTheCamera: a Constrained-Baseline-only offer for a
// Main-profile camera was answered as Baseline while Main was sent; it is refused, saying why.
func TestWHEPRefusesAnOfferThatCannotDecodeTheCamera(t *testing.T) {
	s := newLiveStack(t)
	v, err := livetest.NewViewerWith(context.Background(), livetest.Options{H264: []string{"42e01f"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	r := s.offer(s.adminTok, "?purpose=patrol", "application/sdp", v.Offer)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "codec_unsupported") || !strings.Contains(r.body, "Main") {
		t.Errorf("POST Baseline-only offer = %d %s; want 422 codec_unsupported naming Main", r.status, r.body)
	}
}
