package secret

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t *testing.T, fill byte) *Key {
	t.Helper()
	k, err := NewKey([]byte(strings.Repeat(string(rune(fill)), KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := testKey(t, 'a')
	const url = "rtsp://admin:hunter2@10.0.0.1/cam/2?password=hunter3"
	sealed, err := k.Seal(url, "cameras/1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, Prefix+k.ID()+":") || strings.Contains(sealed, "hunter") || !IsSealed(sealed) || IsSealed(url) {
		t.Errorf("Seal(%q) = %q; want %s%s:… without the secret", url, sealed, Prefix, k.ID())
	}
	again, _ := k.Seal(url, "cameras/1")
	if again == sealed {
		t.Errorf("Seal twice = %q both times; want a fresh nonce each time", sealed)
	}
	if got, err := k.Open(sealed, "cameras/1"); err != nil || got != url {
		t.Errorf("Open(Seal(%q)) = %q, %v; want it back", url, got, err)
	}
	head, body := sealed[:strings.LastIndex(sealed, ":")+1], sealed[strings.LastIndex(sealed, ":")+1:]
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	tampered := head + base64.RawURLEncoding.EncodeToString(raw)
	tests := []struct {
		name, stored, context string
		want                  string
		wantErr               error
		anyErr                bool // malformed: some error, not necessarily ErrWrongKey
	}{
		{"legacy plain text passes", "rtsp://10.0.0.1/s", "cameras/1", "rtsp://10.0.0.1/s", nil, false},
		{"empty stays empty", "", "cameras/1", "", nil, false},
		{"another row", sealed, "cameras/2", "", ErrWrongKey, false},
		{"altered", tampered, "cameras/1", "", ErrWrongKey, false},
		{"another key", mustSeal(t, testKey(t, 'b'), url), "cameras/1", "", ErrWrongKey, false},
		{"same id, other key bytes", Prefix + k.ID() + ":" + strings.TrimPrefix(mustSeal(t, testKey(t, 'b'), url), Prefix+testKey(t, 'b').ID()+":"), "cameras/1", "", ErrWrongKey, false},
		{"malformed", Prefix + "zz", "cameras/1", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(tt.stored, tt.context)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Errorf("Open(%q) = %q, nil; want an error", tt.stored, got)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || got != "" {
					t.Errorf("Open(%q) = %q, %v; want %v", tt.stored, got, err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "hunter") {
					t.Errorf("Open error %q names the secret", err)
				}
			default:
				if err != nil || got != tt.want {
					t.Errorf("Open(%q) = %q, %v; want %q", tt.stored, got, err, tt.want)
				}
			}
		})
	}
	if s, err := k.Seal("", "cameras/1"); s != "" || err != nil {
		t.Errorf("Seal(\"\") = %q, %v; want \"\"", s, err)
	}
}

func mustSeal(t *testing.T, k *Key, plain string) string {
	t.Helper()
	s, err := k.Seal(plain, "cameras/1")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey(new) = %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %o; want 600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey(existing) = %v", err)
	}
	sealed := mustSeal(t, k1, "rtsp://u:p@h/s")
	if k2.ID() != k1.ID() {
		t.Errorf("reloaded key id %s; want %s", k2.ID(), k1.ID())
	}
	if got, err := k2.Open(sealed, "cameras/1"); err != nil || got != "rtsp://u:p@h/s" {
		t.Errorf("reloaded key Open = %q, %v; want the value the first sealed", got, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key dir holds %d files; want only the key (no temp file left)", len(entries))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Errorf("LoadOrCreateKey(mode 644) = nil error; want refused")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("c2hvcnQ=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(bad); err == nil {
		t.Errorf("LoadOrCreateKey(short key) = nil error; want an error")
	}
}
