package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"time"

	"civicam/internal/fault"
)

// HasherConfig bounds the process's password hashing. Zero fields take the defaults.
type HasherConfig struct {
	// Params are the parameters new hashes are made with (DefaultParams).
	Params Params
	// Slots is how many hashes or verifications may run at once. The default is GOMAXPROCS
	// (argon2id is CPU-bound, so more at once only makes each slower), but no more than fit in
	// DefaultHashingMemory at Params.MemoryKiB each.
	Slots int
	// Wait is how long a hash waits for a slot before it is refused with ErrBusy (2 s).
	Wait time.Duration
}

// DefaultHashingMemory bounds the memory the default number of slots may hold at once.
const DefaultHashingMemory = 256 << 20

// ErrBusy refuses a password hash that found no slot within the wait: the server is at its
// bound of concurrent hashing, and the caller should try again shortly.
var ErrBusy = &fault.Error{Kind: fault.Unavailable, Code: "busy", RetryAfter: time.Second,
	Message: "the server is busy checking passwords; try again in a moment"}

// Hasher is the one bound on argon2id work in a process. Each hash holds Params.MemoryKiB for
// its whole run (64 MiB by default): unbounded, 64 registrations at once took 4 GiB. The app
// builds one and hands it to every service that hashes or verifies a password, so that logins,
// registrations, password changes and the command line share the same slots. Safe for
// concurrent use.
type Hasher struct {
	params Params
	wait   time.Duration
	slots  chan struct{}
}

// NewHasher returns a hasher with cfg's bounds; it refuses parameters Hash could not use.
func NewHasher(cfg HasherConfig) (*Hasher, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams()
	}
	if err := cfg.Params.check(); err != nil {
		return nil, fmt.Errorf("password hashing: %w", err)
	}
	if cfg.Slots <= 0 {
		cfg.Slots = max(1, min(runtime.GOMAXPROCS(0), DefaultHashingMemory/(int(cfg.Params.MemoryKiB)<<10)))
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 2 * time.Second
	}
	return &Hasher{params: cfg.Params, wait: cfg.Wait, slots: make(chan struct{}, cfg.Slots)}, nil
}

// Slots is how many hashes may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

// Params are the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash hashes pw once a slot is free: ErrBusy if none is within the wait, ctx's error if it
// ends first.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.params.Hash(pw)
}

// Verify reports whether pw matches encoded (see VerifyPassword) once a slot is free, or fails
// as Hash does.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return VerifyPassword(encoded, pw)
}

// NeedsRehash reports whether encoded was made with other parameters than the hasher's.
func (h *Hasher) NeedsRehash(encoded string) bool { return h.params.NeedsRehash(encoded) }

// Dummy returns an encoding with the hasher's parameters that no password matches, to verify
// against when a user does not exist: it costs what a real verification costs, without a hash
// being made for it.
func (h *Hasher) Dummy() string {
	salt, key := make([]byte, h.params.SaltLen), make([]byte, h.params.KeyLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	rand.Read(key)
	return encode(h.params, salt, key)
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }
