package trace

import (
	"bytes"
	"civicam/internal/keyfile"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
)

// Key is the log's ed25519 signing key in signed-note form.
type Key struct {
	signer   note.Signer
	verifier string
	public   ed25519.PublicKey
}

// Name is the key's name, which is also the checkpoints' origin line.
func (k *Key) Name() string { return k.signer.Name() }

// VerifierKey is the public key in note verifier form ("name+hash+base64"), the string to
// print, serve and give to `trace verify`.
func (k *Key) VerifierKey() string { return k.verifier }

// Signer is the note signer, for callers that sign other notes with the same identity.
func (k *Key) Signer() note.Signer { return k.signer }

// ParseKey reads a signer key in note form ("PRIVATE+KEY+name+hash+base64").
func ParseKey(skey string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("parse trace key: %w", err)
	}
	// The public half is not in the signer key; derive it from the ed25519 seed that is.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("parse trace key: not an ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, fmt.Errorf("parse trace key: %w", err)
	}
	return &Key{signer: s, verifier: vkey, public: pub}, nil
}

// GenerateKey makes a new key whose name (the checkpoint origin) is name, e.g.
// "civicam.example/trace", and returns it with its private signer-key string, the form
// LoadOrCreateKey keeps on disk.
func GenerateKey(name string) (*Key, string, error) {
	if name == "" || strings.ContainsAny(name, "+ \t\r\n") || !utf8.ValidString(name) {
		return nil, "", fmt.Errorf("generate trace key: name %q must be non-empty, without spaces or '+'", name)
	}
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, "", fmt.Errorf("generate trace key %q: %w", name, err)
	}
	k, err := ParseKey(skey)
	return k, skey, err
}

// LoadOrCreateKey reads the signer key at path, or, when there is no file, generates one named
// name and writes it there with mode 0600 (see keyfile: a crash leaves either no key or the whole
// key, and a key another process wrote first wins). A key file that others can read is refused.
func LoadOrCreateKey(path, name string) (*Key, error) {
	return loadOrCreateKey(path, func() (string, error) {
		_, skey, err := GenerateKey(name)
		return skey, err
	})
}

// LoadOrCreateDerivedKey is LoadOrCreateKey for a key named by DerivedOrigin(host, its public
// key): an origin no other installation has, which the checkpoint format requires. A key already
// at path keeps its name, so an existing trail's checkpoints go on verifying.
func LoadOrCreateDerivedKey(path, host string) (*Key, error) {
	return loadOrCreateKey(path, func() (string, error) {
		_, skey, err := GenerateDerivedKey(host)
		return skey, err
	})
}

func loadOrCreateKey(path string, generate func() (skey string, err error)) (*Key, error) {
	b, err := keyfile.LoadOrCreate(path, func() ([]byte, error) {
		skey, err := generate()
		return []byte(skey + "\n"), err
	})
	if err != nil {
		return nil, fmt.Errorf("trace key %s: %w", path, err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("trace key %s: %w", path, err)
	}
	return k, nil
}

// LegacyOrigin is the origin every installation got by default before origins were derived: a
// trail named so still verifies, but its checkpoints cannot be told from another city's.
const LegacyOrigin = "civicam.local/trace"

// DerivedOrigin is the origin of a log on host whose key is pub: host/trace/ and the first 12 hex
// digits of SHA-256(pub). The host says whose log it is; the hash keeps two logs on one host (or
// two installations that both left public_url unset) apart.
func DerivedOrigin(host string, pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return host + "/trace/" + hex.EncodeToString(sum[:6])
}

// GenerateDerivedKey makes a new key named DerivedOrigin(host, its public key), with its private
// signer-key string.
func GenerateDerivedKey(host string) (*Key, string, error) {
	if host == "" || strings.ContainsAny(host, "+/ \t\r\n") || !utf8.ValidString(host) {
		return nil, "", fmt.Errorf("generate trace key: host %q must be non-empty, without spaces, '/' or '+'", host)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate trace key: %w", err)
	}
	name := DerivedOrigin(host, pub)
	// The signer key is the verifier key's name and hash with the private seed: the form
	// note.GenerateKey writes, made here because the name depends on the key.
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, "", fmt.Errorf("generate trace key %q: %w", name, err)
	}
	hash, _, _ := strings.Cut(strings.TrimPrefix(vkey, name+"+"), "+") // base64 may hold '+'
	skey := "PRIVATE+KEY+" + name + "+" + hash + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...))
	k, err := ParseKey(skey)
	return k, skey, err
}

// OriginShared reports whether the key's name is an origin other installations could share:
// the old default, or a host that names no one (localhost, a .local, .test, .example or .invalid
// name, example.com, an address) without the key's own hash after it.
func (k *Key) OriginShared() bool {
	name := k.Name()
	if name == LegacyOrigin {
		return true
	}
	host, _, _ := strings.Cut(name, "/")
	if name == DerivedOrigin(host, k.public) {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(strings.Trim(host, "[]")) != nil || !strings.Contains(host, ".") {
		return true
	}
	for _, generic := range []string{".local", ".localhost", ".test", ".example", ".invalid", ".localdomain"} {
		if strings.HasSuffix(host, generic) {
			return true
		}
	}
	switch strings.TrimPrefix(host, "www.") {
	case "example.com", "example.org", "example.net":
		return true
	}
	return false
}

// Checkpoint is a signed statement of the tree: its origin, size and root hash.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   []byte
}

// Body is the checkpoint's note text (C2SP tlog-checkpoint): origin, size, base64 root hash.
func (c Checkpoint) Body() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// SignCheckpoint signs a checkpoint of the given size and root with k (origin = the key's name).
func SignCheckpoint(k *Key, size int64, root []byte) ([]byte, error) {
	c := Checkpoint{Origin: k.Name(), Size: size, Root: root}
	msg, err := note.Sign(&note.Note{Text: c.Body()}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint %d: %w", size, err)
	}
	return msg, nil
}

// OpenCheckpoint checks a signed checkpoint against the verifier key and parses it. The origin
// must be the key's name.
func OpenCheckpoint(msg []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open(bytes.TrimLeft(msg, "\n"), note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("open checkpoint: %w", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return Checkpoint{}, errors.New("open checkpoint: want origin, size and root lines")
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("open checkpoint: origin %q is not the key's %q", c.Origin, v.Name())
	}
	if c.Size, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.Size < 0 || lines[1] != strconv.FormatInt(c.Size, 10) {
		return Checkpoint{}, fmt.Errorf("open checkpoint: bad size %q", lines[1])
	}
	if c.Root, err = base64.StdEncoding.DecodeString(lines[2]); err != nil || len(c.Root) != hasher.Size() {
		return Checkpoint{}, fmt.Errorf("open checkpoint: bad root hash %q", lines[2])
	}
	return c, nil
}

// VerifyInclusion checks that leafHash is the leaf at index seq of the tree of size treeSize
// whose root is root.
func VerifyInclusion(seq, treeSize int64, leafHash []byte, hashes [][]byte, root []byte) error {
	if seq < 0 || treeSize < 0 {
		return fmt.Errorf("verify inclusion: negative index %d or size %d", seq, treeSize)
	}
	return proof.VerifyInclusion(hasher, uint64(seq), uint64(treeSize), leafHash, hashes, root)
}

// VerifyConsistency checks that the tree of size2 with root2 extends the tree of size1 with root1.
func VerifyConsistency(size1, size2 int64, hashes [][]byte, root1, root2 []byte) error {
	if size1 < 0 || size2 < 0 {
		return fmt.Errorf("verify consistency: negative size %d or %d", size1, size2)
	}
	return proof.VerifyConsistency(hasher, uint64(size1), uint64(size2), hashes, root1, root2)
}
