package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the encoding records the parameters, so verification works the
// same for every cost.
var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	tests := []struct {
		name      string
		pw, try   string
		wantMatch bool
	}{
		{"right password", "correct horse battery", "correct horse battery", true},
		{"wrong password", "correct horse battery", "correct horse batterz", false},
		{"prefix only", "correct horse battery", "correct horse", false},
		{"empty attempt", "correct horse battery", "", false},
		{"case matters", "Correct Horse Battery", "correct horse battery", false},
		{"unicode", "株洲市公共安全视频图像", "株洲市公共安全视频图像", true},
		{"trailing space matters", "correct horse battery", "correct horse battery ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := cheap.Hash(tt.pw)
			if err != nil {
				t.Fatalf("Hash(%q) error: %v", tt.pw, err)
			}
			ok, err := VerifyPassword(enc, tt.try)
			if err != nil {
				t.Fatalf("VerifyPassword(%q, %q) error: %v", enc, tt.try, err)
			}
			if ok != tt.wantMatch {
				t.Errorf("VerifyPassword(hash of %q, %q) = %v; want %v", tt.pw, tt.try, ok, tt.wantMatch)
			}
		})
	}
}

func TestHashIsSaltedAndEncoded(t *testing.T) {
	a, err := cheap.Hash("same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := cheap.Hash("same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal (%s); want different salts", a)
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(a, want) {
		t.Errorf("Hash() = %s; want prefix %s", a, want)
	}
	parts := strings.Split(a, "$")
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16 and 32 bytes, unpadded base64
		t.Errorf("salt %q, hash %q: want 22 and 43 base64 characters", parts[4], parts[5])
	}
}

// TestKnownVector checks the encoding against a hash made by the argon2 reference CLI
// (phc-winner-argon2; password "password", salt "somesalt", argon2id, t=2, m=64 KiB, p=2,
// 24-byte output 350ac372…41362, one of the vectors golang.org/x/crypto/argon2 tests against),
// so a hash made elsewhere verifies here.
func TestKnownVector(t *testing.T) {
	const enc = "$argon2id$v=19$m=64,t=2,p=2$c29tZXNhbHQ$NQrDciL0Nsy1wJcvHr079rlYvyBxhBNi"
	ok, err := VerifyPassword(enc, "password")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword(reference vector, password) = %v, %v; want true, nil", ok, err)
	}
	if ok, _ := VerifyPassword(enc, "Password"); ok {
		t.Errorf("VerifyPassword(reference vector, Password) = true; want false")
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	good, err := cheap.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, hash
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name, enc string
	}{
		{"empty", ""},
		{"plain text", "correct horse battery"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"argon2d", with(1, "argon2d")},
		{"version 16", with(2, "v=16")},
		{"missing version", strings.Replace(good, "$v=19", "", 1)},
		{"params reordered", with(3, "t=1,m=64,p=1")},
		{"param not a number", with(3, "m=6x,t=1,p=1")},
		{"param with sign", with(3, "m=+64,t=1,p=1")},
		{"param leading zero", with(3, "m=064,t=1,p=1")},
		{"extra param", with(3, "m=64,t=1,p=1,k=2")},
		{"zero time", with(3, "m=64,t=0,p=1")},
		{"zero threads", with(3, "m=64,t=1,p=0")},
		{"threads overflow", with(3, "m=64,t=1,p=256")},
		{"memory too large", with(3, "m=4194304,t=1,p=1")},
		{"memory below 8p", with(3, "m=8,t=1,p=4")},
		{"time too large", with(3, "m=64,t=1000,p=1")},
		{"salt not base64", with(4, "!!!!")},
		{"salt padded", with(4, parts[4]+"==")},
		{"salt too short", with(4, "c2FsdA")},
		{"hash not base64", with(5, "***")},
		{"hash too short", with(5, "AAAA")},
		{"trailing field", good + "$x"},
		{"missing hash", strings.Join(parts[:5], "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.enc, "correct horse battery")
			if ok || err == nil {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want false and an error", tt.enc, ok, err)
			}
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) error %v; want it to wrap ErrMalformedHash", tt.enc, err)
			}
			if !NeedsRehash(tt.enc) {
				t.Errorf("NeedsRehash(%q) = false; want true for an unreadable hash", tt.enc)
			}
		})
	}
}

// A well-formed encoding whose salt or hash was altered must not verify.
func TestVerifyRejectsTampered(t *testing.T) {
	good, err := cheap.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	flip := func(s string) string { // change one base64 character, keeping the string valid
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, enc string }{
		{"salt changed", strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$")},
		{"hash changed", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], flip(parts[5])}, "$")},
		{"time changed", strings.Replace(good, "t=1", "t=2", 1)},
		{"memory changed", strings.Replace(good, "m=64", "m=128", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.enc, "correct horse battery")
			if err != nil {
				t.Fatalf("VerifyPassword(%q) error: %v", tt.enc, err)
			}
			if ok {
				t.Errorf("VerifyPassword(%q) = true; want false", tt.enc)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	enc, err := cheap.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	stronger := cheap
	stronger.Time = 3
	longerKey := cheap
	longerKey.KeyLen = 64
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same params", cheap, false},
		{"more passes", stronger, true},
		{"longer key", longerKey, true},
		{"defaults", DefaultParams(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.NeedsRehash(enc); got != tt.want {
				t.Errorf("%+v.NeedsRehash(%s) = %v; want %v", tt.p, enc, got, tt.want)
			}
		})
	}
}

// TestDefaultParams runs the real cost once: the server's own parameters must hash and verify.
func TestDefaultParams(t *testing.T) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", DefaultParams().MemoryKiB, DefaultParams().Time, DefaultParams().Threads); !strings.HasPrefix(enc, want) {
		t.Errorf("HashPassword() = %s; want prefix %s", enc, want)
	}
	if NeedsRehash(enc) {
		t.Errorf("NeedsRehash(HashPassword()) = true; want false")
	}
	ok, err := VerifyPassword(enc, "correct horse battery")
	if err != nil || !ok {
		t.Errorf("VerifyPassword(HashPassword(pw), pw) = %v, %v; want true, nil", ok, err)
	}
}

func TestParamsRejected(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Params)
	}{
		{"zero time", func(p *Params) { p.Time = 0 }},
		{"zero threads", func(p *Params) { p.Threads = 0 }},
		{"memory too small", func(p *Params) { p.MemoryKiB = 4 }},
		{"short salt", func(p *Params) { p.SaltLen = 4 }},
		{"short key", func(p *Params) { p.KeyLen = 8 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cheap
			tt.edit(&p)
			if enc, err := p.Hash("correct horse battery"); err == nil {
				t.Errorf("%+v.Hash() = %s, nil; want an error", p, enc)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"ten characters", "abcdefghij", nil},
		{"passphrase", "correct horse battery staple", nil},
		{"ten CJK characters", "株洲市公共安全视频图像", nil},
		{"nine characters", "abcdefghi", ErrPasswordTooShort},
		{"empty", "", ErrPasswordTooShort},
		{"nine CJK characters (27 bytes)", "株洲市公共安全视频", ErrPasswordTooShort},
		{"one character repeated", "aaaaaaaaaaaa", ErrPasswordOneChar},
		{"one CJK character repeated", "株株株株株株株株株株", ErrPasswordOneChar},
		{"two characters", "abababababab", nil},
		{"too long", strings.Repeat("ab", MaxPasswordLen/2+1), ErrPasswordTooLong},
		{"longest allowed", strings.Repeat("ab", MaxPasswordLen/2), nil},
		{"invalid UTF-8", "abcdefghij\xff", ErrPasswordNotUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.pw); !errors.Is(got, tt.want) {
				t.Errorf("CheckPassword(%q) = %v; want %v", tt.pw, got, tt.want)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		got, err := ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, nil", r, got, err, r)
		}
		if !r.Valid() {
			t.Errorf("%q.Valid() = false; want true", r)
		}
	}
	if n := len(Roles()); n != 6 {
		t.Errorf("len(Roles()) = %d; want 6", n)
	}
	for _, s := range []string{"", "Admin", "root", "public", " admin", "admin "} {
		if got, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) = %q, nil; want an error", s, got)
		}
		if Role(s).Valid() {
			t.Errorf("Role(%q).Valid() = true; want false", s)
		}
	}
	scoped := map[Role]bool{RoleOperator: true, RoleOwner: true}
	for _, r := range Roles() {
		if got := r.OrgScoped(); got != scoped[r] {
			t.Errorf("%q.OrgScoped() = %v; want %v", r, got, scoped[r])
		}
	}
}

// BenchmarkHashPassword documents the cost of a login: the server's parameters beside OWASP's
// two cheapest recommended settings and RFC 9106's 64 MiB one, in the same run.
func BenchmarkHashPassword(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    Params
	}{
		{"default-64MiB-t1-p2", DefaultParams()},
		{"owasp-46MiB-t1-p1", Params{MemoryKiB: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"owasp-19MiB-t2-p1", Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"rfc9106-64MiB-t3-p4", Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.p.Hash("correct horse battery"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
