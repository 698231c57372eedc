package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters. The encoding of every hash records the ones it was
// made with, so they can change without invalidating stored passwords (see NeedsRehash).
type Params struct {
	MemoryKiB uint32 // m
	Time      uint32 // t, passes over the memory
	Threads   uint8  // p, lanes
	SaltLen   uint32 // bytes
	KeyLen    uint32 // bytes
}

// DefaultParams are the server's: 64 MiB, 1 pass, 2 lanes, at or above the strongest of
// OWASP's equivalent argon2id settings (46 MiB, t=1, p=1). RFC 9106's 64 MiB choice asks for 3
// passes, which on the 2-core target machine costs a quarter of a second per login under load;
// BenchmarkHashPassword puts the options side by side. Each login in flight holds 64 MiB while
// it runs, so the caller should bound how many run at once.
func DefaultParams() Params {
	return Params{MemoryKiB: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// Limits on what a stored encoding may ask for, so that a corrupted or planted hash cannot make
// one login allocate gigabytes or run for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 32
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Password policy: modest on purpose (NIST SP 800-63B): a length floor, a ceiling so hashing
// stays bounded, and no single repeated character.
const (
	MinPasswordLen = 10   // characters (runes)
	MaxPasswordLen = 1024 // bytes
)

// Password policy violations, for errors.Is.
var (
	ErrPasswordTooShort = fmt.Errorf("password must have at least %d characters", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("password must have at most %d bytes", MaxPasswordLen)
	ErrPasswordOneChar  = errors.New("password must not be a single repeated character")
	ErrPasswordNotUTF8  = errors.New("password must be valid UTF-8 text")
)

// CheckPassword reports whether pw may be set as a password.
func CheckPassword(pw string) error {
	switch {
	case len(pw) > MaxPasswordLen:
		return ErrPasswordTooLong
	case !utf8.ValidString(pw):
		return ErrPasswordNotUTF8
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return ErrPasswordTooShort
	}
	first, _ := utf8.DecodeRuneInString(pw)
	if strings.Trim(pw, string(first)) == "" {
		return ErrPasswordOneChar
	}
	return nil
}

// HashPassword hashes pw with DefaultParams.
func HashPassword(pw string) (string, error) {
	return DefaultParams().Hash(pw)
}

// Hash hashes pw with argon2id and a fresh random salt, encoded in the PHC string format:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash> (unpadded standard base64).
func (p Params) Hash(pw string) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

// VerifyPassword reports whether pw matches the encoded hash, comparing in constant time. The
// error is for an encoding that cannot be read (then ok is false): a fault in the stored data,
// not a wrong password.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than DefaultParams (or
// cannot be read), so that the caller should store a new hash after the next successful login.
func NeedsRehash(encoded string) bool {
	return DefaultParams().NeedsRehash(encoded)
}

// NeedsRehash reports whether encoded was made with other parameters than p.
func (p Params) NeedsRehash(encoded string) bool {
	got, _, _, err := decode(encoded)
	return err != nil || got != p
}

func (p Params) check() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id: time %d out of range 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id: threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id: memory %d KiB out of range %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id: salt length %d out of range %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id: key length %d out of range %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrMalformedHash wraps every failure to read an encoded hash.
var ErrMalformedHash = errors.New("malformed password hash")

func decode(encoded string) (Params, []byte, []byte, error) {
	fail := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return fail(fmt.Sprintf("algorithm %q, want argon2id", parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail(fmt.Sprintf("version %q, want v=%d", parts[2], argon2.Version))
	}
	var p Params
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("parameters must be m=…,t=…,p=…")
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return fail(fmt.Sprintf("parameter %d must be %s=…", i+1, name))
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || v != strconv.FormatUint(n, 10) {
			return fail(fmt.Sprintf("parameter %s=%q is not a number in range", name, v))
		}
		switch name {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		}
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fail("salt is not unpadded base64")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return fail("hash is not unpadded base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return fail(err.Error())
	}
	return p, salt, key, nil
}
