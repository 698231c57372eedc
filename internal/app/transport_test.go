package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/config"
)

const (
	metricsToken = "scrape-3b1c9f2e7d4a"
	userPassword = "correct horse battery staple"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, PEM, into dir, and returns their
// paths and a pool trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "civicam test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startServer runs the whole server on cfg (in a fresh data directory, on a free loopback port)
// with an auditor li.wei and an admin chief, until the test ends.
func startServer(t *testing.T, edit func(c *config.Config)) *Server {
	return startServerLogging(t, slog.New(slog.DiscardHandler), edit)
}

func startServerLogging(t *testing.T, log *slog.Logger, edit func(c *config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	cfg.Listen = "127.0.0.1:0"
	edit(&cfg)
	core, err := OpenCore(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	for _, u := range []accounts.NewUser{{Username: "li.wei", Role: string(auth.RoleAuditor)}, {Username: "chief", Role: string(auth.RoleAdmin)}} {
		u.Password = userPassword
		if _, err := core.Accounts.CreateUser(setupCtx, u); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := NewServer(core)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return srv
}

func get(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// checkMetricsToken attacks /metrics at base: no token, a malformed header, a wrong token and
// the right one's prefix are 401; only the right token is served.
func checkMetricsToken(t *testing.T, c *http.Client, base string) {
	t.Helper()
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"not bearer", []string{"Authorization", "Basic " + metricsToken}, http.StatusUnauthorized},
		{"wrong token", []string{"Authorization", "Bearer scrape-0000000000000"}, http.StatusUnauthorized},
		{"the token's prefix", []string{"Authorization", "Bearer " + metricsToken[:10]}, http.StatusUnauthorized},
		{"the token", []string{"Authorization", "Bearer " + metricsToken}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, c, base+"/metrics", tt.header...)
			if res.StatusCode != tt.want {
				t.Errorf("GET /metrics with %s = %d; want %d", tt.name, res.StatusCode, tt.want)
			}
			if tt.want == http.StatusOK && !strings.Contains(body, "go_goroutines") {
				t.Errorf("GET /metrics with the token = %.100q; want the metrics", body)
			}
			if tt.want != http.StatusOK && strings.Contains(body, "go_goroutines") {
				t.Errorf("GET /metrics with %s served the metrics", tt.name)
			}
		})
	}
}

// login signs in through the web UI's form, as a browser does, and returns the cookies the
// server set on the way (the CSRF cookie from the form page, the session cookie at login).
func login(t *testing.T, c *http.Client, base string) map[string]*http.Cookie {
	return loginAs(t, c, base, "li.wei")
}

func loginAs(t *testing.T, c *http.Client, base, username string) map[string]*http.Cookie {
	t.Helper()
	set := map[string]*http.Cookie{}
	own := *c // cookies by hand, so each login starts afresh and sees every cookie set
	own.Jar = nil
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c = &own
	res, _ := get(t, c, base+"/login")
	for _, ck := range res.Cookies() {
		set[ck.Name] = ck
	}
	csrf := set[auth.CSRFCookie]
	if csrf == nil {
		t.Fatalf("GET /login set no %s cookie", auth.CSRFCookie)
	}
	form := url.Values{"username": {username}, "password": {userPassword}, auth.CSRFFormField: {csrf.Value}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login = %d; want 303", res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		set[ck.Name] = ck
	}
	if set[auth.SessionCookie] == nil {
		t.Fatalf("POST /login set no %s cookie", auth.SessionCookie)
	}
	return set
}

// TestAttackTransport: the server spoke plain HTTP only, its cookies were never Secure (a
// proxy's HTTPS or not), and /metrics was open to anyone who could reach the port. With
// tls_cert_file and tls_key_file it serves HTTPS; its cookies are Secure over TLS and whenever
// public_url is https; metrics_token closes /metrics, metrics_listen moves it off the main port.
func TestAttackTransport(t *testing.T) {
	t.Run("tls", func(t *testing.T) {
		certFile, keyFile, pool := selfSigned(t, t.TempDir())
		srv := startServer(t, func(c *config.Config) {
			c.TLSCertFile, c.TLSKeyFile, c.MetricsToken = certFile, keyFile, metricsToken
		})
		if !strings.HasPrefix(srv.URL(), "https://") {
			t.Errorf("URL() = %s; want https", srv.URL())
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		res, body := get(t, c, srv.URL()+"/healthz")
		if res.StatusCode != http.StatusOK || res.TLS == nil || strings.TrimSpace(body) != "ok" {
			t.Fatalf("GET https://…/healthz = %d %q (TLS %v); want 200 ok over TLS", res.StatusCode, body, res.TLS != nil)
		}
		if res.TLS.Version < tls.VersionTLS12 {
			t.Errorf("TLS version = %x; want at least 1.2", res.TLS.Version)
		}
		if h := res.Header.Get("Strict-Transport-Security"); h == "" {
			t.Errorf("Strict-Transport-Security = %q; want it set over TLS", h)
		}
		plain := &http.Client{Timeout: 10 * time.Second}
		if res, err := plain.Get("http://" + srv.Addr() + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				t.Errorf("plain HTTP to the TLS port = %d; want it refused", res.StatusCode)
			}
		}
		for name, ck := range login(t, c, srv.URL()) {
			if !ck.Secure {
				t.Errorf("over TLS, cookie %s = %s; want Secure", name, ck)
			}
		}
		if ck := login(t, c, srv.URL())[auth.SessionCookie]; !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("session cookie %s; want HttpOnly, SameSite=Lax", ck)
		}
		checkMetricsToken(t, c, srv.URL())
	})
	t.Run("behind an https proxy", func(t *testing.T) {
		srv := startServer(t, func(c *config.Config) { c.PublicURL = "https://cams.example.gov.cn" })
		c := &http.Client{Timeout: 10 * time.Second}
		for name, ck := range login(t, c, srv.URL()) {
			if !ck.Secure {
				t.Errorf("with public_url https, cookie %s = %s; want Secure", name, ck)
			}
		}
	})
	t.Run("plain http", func(t *testing.T) {
		srv := startServer(t, func(c *config.Config) {})
		c := &http.Client{Timeout: 10 * time.Second}
		// A browser drops Secure cookies a plain-HTTP site sets: no login would stick.
		if ck := login(t, c, srv.URL())[auth.SessionCookie]; ck.Secure {
			t.Errorf("over plain HTTP with no public_url, session cookie %s; want it not Secure", ck)
		}
	})
	t.Run("metrics on their own address", func(t *testing.T) {
		srv := startServer(t, func(c *config.Config) { c.MetricsListen, c.MetricsToken = "127.0.0.1:0", metricsToken })
		c := &http.Client{Timeout: 10 * time.Second}
		if res, _ := get(t, c, srv.URL()+"/metrics", "Authorization", "Bearer "+metricsToken); res.StatusCode == http.StatusOK {
			t.Errorf("GET /metrics on the main address = %d; want it served only on metrics_listen", res.StatusCode)
		}
		if srv.MetricsAddr() == "" {
			t.Fatal("MetricsAddr() = \"\"; want the metrics listener")
		}
		checkMetricsToken(t, c, "http://"+srv.MetricsAddr())
		if res, _ := get(t, c, "http://"+srv.MetricsAddr()+"/healthz"); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /healthz on the metrics address = %d; want 404: it serves /metrics alone", res.StatusCode)
		}
	})
}
