// Package secret seals the few secrets civicam must store and later use in the clear — a
// camera's stream credentials — so that the database holds them encrypted at rest: AES-256-GCM
// with a random nonce, under a key kept in a file beside the signing key (or one file several
// nodes share).
//
// A sealed value is text: Prefix, the key's id, and the nonce and ciphertext in base64url. Text
// without the prefix is a value stored before sealing existed; Open passes it through so that
// such rows are still read, and the store seals them at start.
package secret

import (
	"civicam/internal/keyfile"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix opens every sealed value; "v1" is its format, so a later one can be told apart. No
// stream URL can begin so: their schemes are rtsp, rtsps and gb28181.
const Prefix = "enc:v1:"

// KeySize is the key's length in bytes (AES-256).
const KeySize = 32

// ErrWrongKey means a sealed value was sealed under another key, or was altered.
var ErrWrongKey = errors.New("sealed with another key or altered")

// Key seals and opens values. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
	id   string // the first 4 bytes of the key's SHA-256, in hex: names the key without revealing it
}

// NewKey makes a Key of raw, which must be KeySize bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secret key: %d bytes; want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &Key{aead: aead, id: hex.EncodeToString(sum[:4])}, nil
}

// ID names the key in sealed values and messages; it reveals nothing of the key.
func (k *Key) ID() string { return k.id }

// IsSealed reports whether stored is a sealed value rather than legacy plain text.
func IsSealed(stored string) bool { return strings.HasPrefix(stored, Prefix) }

// Seal encrypts plain, bound to context (the row and column it is stored in, say), so that a
// sealed value copied to another row does not open there. The empty string stays empty: there
// is nothing to hide, and "no source" must stay recognisable.
func (k *Key) Seal(plain, context string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return Prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned for the same context. A value without Prefix is legacy
// plain text and is returned as it is. The error names the key the value was sealed with, never
// the value.
func (k *Key) Open(stored, context string) (string, error) {
	rest, ok := strings.CutPrefix(stored, Prefix)
	if !ok {
		return stored, nil
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("open sealed value: malformed")
	}
	if id != k.id {
		return "", fmt.Errorf("open sealed value: sealed with key %s, this key is %s: %w", id, k.id, ErrWrongKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", errors.New("open sealed value: malformed")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", fmt.Errorf("open sealed value with key %s: %w", k.id, ErrWrongKey)
	}
	return string(plain), nil
}

// LoadOrCreateKey reads the key at path (its base64 on one line), or, when there is no file,
// generates one and writes it there with mode 0600 (temp file, fsync, link, fsync of the
// directory, so a crash leaves either no key or the whole key, and two processes starting at
// once end up with the same one). A key file that others can read is refused.
func LoadOrCreateKey(path string) (*Key, error) {
	b, err := keyfile.LoadOrCreate(path, func() ([]byte, error) {
		raw := make([]byte, KeySize)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		return []byte(base64.StdEncoding.EncodeToString(raw) + "\n"), nil
	})
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != KeySize {
		return nil, fmt.Errorf("secret key %s: not %d bytes in base64", path, KeySize)
	}
	return NewKey(raw)
}
