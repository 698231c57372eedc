package gb28181

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// nonces issues the digest nonces of REGISTER challenges and keeps each for ttl, with the
// highest nonce count seen under it so that a replayed Authorization is refused. Memory is
// bounded: beyond max nonces the expired are dropped, then the oldest.
type nonces struct {
	ttl time.Duration
	max int

	mu   sync.Mutex
	byID map[string]*nonce
	fifo []string // issue order, for dropping the oldest
}

type nonce struct {
	issued time.Time
	nc     int
}

func newNonces(ttl time.Duration, max int) *nonces {
	return &nonces{ttl: ttl, max: max, byID: map[string]*nonce{}}
}

// issue returns a fresh nonce.
func (n *nonces) issue(now time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // the kernel's RNG does not fail on Linux
	}
	id := hex.EncodeToString(b[:])
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.byID) >= n.max {
		n.compact(now)
	}
	n.byID[id] = &nonce{issued: now}
	n.fifo = append(n.fifo, id)
	return id
}

// compact drops expired nonces, and then the oldest until there is room. n.mu is held.
func (n *nonces) compact(now time.Time) {
	keep := n.fifo[:0]
	for _, id := range n.fifo {
		e, ok := n.byID[id]
		switch {
		case !ok:
		case now.Sub(e.issued) > n.ttl || len(n.byID) >= n.max:
			delete(n.byID, id)
		default:
			keep = append(keep, id)
		}
	}
	n.fifo = keep
}

// nonceState is what check found of a nonce.
type nonceState int

const (
	nonceUnknown nonceState = iota // never issued, or forgotten
	nonceStale                     // issued, but expired
	nonceFresh
)

// state reports whether id is a live nonce.
func (n *nonces) state(id string, now time.Time) nonceState {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.byID[id]
	switch {
	case !ok:
		return nonceUnknown
	case now.Sub(e.issued) > n.ttl:
		return nonceStale
	}
	return nonceFresh
}

// use records nonce count nc under id, refusing a count not above the last one (a replay).
// Without qop there is no count, so a nonce answers one challenge only.
func (n *nonces) use(id string, nc int, qop bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.byID[id]
	if !ok {
		return false
	}
	if !qop {
		delete(n.byID, id)
		return true
	}
	if nc <= e.nc {
		return false
	}
	e.nc = nc
	return true
}

// challenge is the WWW-Authenticate value for a REGISTER: MD5 with qop=auth offered; devices
// that know no qop answer without one (RFC 2617 §3.2.2 keeps that form).
func challenge(realm, nonce string, stale bool) string {
	c := digest.Challenge{Realm: realm, Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

// checkDigest reports whether the credentials answer a challenge of realm for method with
// password, by RFC 2617/7616's MD5 digest, with or without qop=auth.
func checkDigest(cred *digest.Credentials, method, realm, password string) bool {
	alg := strings.ToUpper(cred.Algorithm)
	if alg != "" && alg != "MD5" {
		return false
	}
	if cred.Realm != realm || cred.Userhash {
		return false
	}
	chal := &digest.Challenge{Realm: realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	switch cred.QOP {
	case "":
	case "auth":
		if cred.Cnonce == "" || cred.Nc <= 0 {
			return false
		}
		chal.QOP = []string{"auth"}
	default:
		return false
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: cred.Username,
		Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(want.Response)), []byte(strings.ToLower(cred.Response))) == 1
}
