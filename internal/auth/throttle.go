package auth

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ThrottleConfig sets how failed logins are throttled. Zero fields take the defaults of
// DefaultThrottleConfig.
type ThrottleConfig struct {
	// UserFailures failures for one username within Window lock that username.
	UserFailures int `yaml:"user_failures"`
	// IPFailures failures from one client address within Window lock that address. It is higher
	// than UserFailures because many people may share an address (an office behind NAT).
	IPFailures int           `yaml:"ip_failures"`
	Window     time.Duration `yaml:"window"`
	// The first lock lasts BaseBackoff; every further failure once a key has reached its limit
	// locks it again for twice as long as the time before, up to MaxBackoff.
	BaseBackoff time.Duration `yaml:"base_backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	// MaxKeys bounds memory: beyond it the least recently failed keys are forgotten.
	MaxKeys int `yaml:"max_keys"`
}

// DefaultThrottleConfig: 5 failures per username or 20 per address within 15 minutes lock for
// 1 minute, then 2, 4, … up to 1 hour; at most 100,000 keys (about 20 MB).
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{
		UserFailures: 5,
		IPFailures:   20,
		Window:       15 * time.Minute,
		BaseBackoff:  time.Minute,
		MaxBackoff:   time.Hour,
		MaxKeys:      100_000,
	}
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	d := DefaultThrottleConfig()
	if c.UserFailures <= 0 {
		c.UserFailures = d.UserFailures
	}
	if c.IPFailures <= 0 {
		c.IPFailures = d.IPFailures
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = d.BaseBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.BaseBackoff)
	if c.MaxKeys <= 0 {
		c.MaxKeys = d.MaxKeys
	}
	return c
}

// Throttle refuses login attempts for a username or a client address after repeated failures.
// The caller asks Allow before checking a password (so a locked key costs no argon2 work) and
// reports the outcome with Failure or Success. It keeps no goroutine: entries expire lazily and
// the number of keys is capped. Safe for concurrent use; attempts already in flight when a key
// locks still complete, so a burst can exceed the limit by the number of concurrent logins.
type Throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  *list.List               // front: most recently failed
}

type entry struct {
	key      string
	limit    int
	failures int       // within the window that started at first
	first    time.Time // first failure of the current window
	last     time.Time // latest failure
	until    time.Time // locked until
	backoff  time.Duration
}

// NewThrottle returns a throttle reading time from now (time.Now if nil).
func NewThrottle(cfg ThrottleConfig, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{cfg: cfg.withDefaults(), now: now, keys: map[string]*list.Element{}, lru: list.New()}
}

// Allow reports whether a login for user from ip may be tried now, and if not, how long until
// it may.
func (t *Throttle) Allow(user, ip string) (ok bool, retryAfter time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ik := t.keysFor(user, ip)
	for _, k := range []string{uk, ik} {
		if k == "" {
			continue
		}
		if e := t.get(k, now); e != nil && now.Before(e.until) {
			retryAfter = max(retryAfter, e.until.Sub(now))
		}
	}
	return retryAfter == 0, retryAfter
}

// Failure records a failed login for user from ip.
func (t *Throttle) Failure(user, ip string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ik := t.keysFor(user, ip)
	for _, k := range []struct {
		key   string
		limit int
	}{{uk, t.cfg.UserFailures}, {ik, t.cfg.IPFailures}} {
		if k.key == "" {
			continue
		}
		e := t.get(k.key, now)
		if e == nil {
			e = t.add(k.key, k.limit, now)
		}
		t.lru.MoveToFront(t.keys[k.key])
		if e.failures == 0 || now.Sub(e.first) > t.cfg.Window {
			if e.failures < e.limit { // a key that has reached its limit stays hot until it expires
				e.failures, e.first = 0, now
			}
		}
		e.failures++
		e.last = now
		if e.failures >= e.limit {
			if e.backoff == 0 {
				e.backoff = t.cfg.BaseBackoff
			} else {
				e.backoff = min(2*e.backoff, t.cfg.MaxBackoff)
			}
			e.until = now.Add(e.backoff)
		}
	}
}

// Success records a successful login: the username's failures are forgotten. The address's are
// kept, so that one valid account cannot be used to clear the way for guessing others.
func (t *Throttle) Success(user, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, _ := t.keysFor(user, ip)
	if el, ok := t.keys[uk]; ok {
		t.remove(el)
	}
}

// Len returns the number of keys remembered (expired ones may still count until touched).
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// keysFor returns the map keys for a username and an address; either is "" when not given.
// Usernames are folded to lower case (locking "Admin" with "admin" costs nothing if they are
// distinct accounts, and stops case games if they are not). IPv6 addresses are keyed by their
// /64 network, because one host commonly holds a whole /64.
func (t *Throttle) keysFor(user, ip string) (string, string) {
	var uk, ik string
	if user = strings.TrimSpace(user); user != "" {
		uk = "u:" + strings.ToLower(user)
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil { // also take host:port, so a port never makes a fresh key
			if ap, perr := netip.ParseAddrPort(ip); perr == nil {
				a, err = ap.Addr(), nil
			}
		}
		if err == nil {
			a = a.Unmap().WithZone("")
			if a.Is6() {
				p, _ := a.Prefix(64)
				ip = p.String()
			} else {
				ip = a.String()
			}
		}
		ik = "ip:" + ip
	}
	return uk, ik
}

// get returns the live entry for key, dropping it if it has expired.
func (t *Throttle) get(key string, now time.Time) *entry {
	el, ok := t.keys[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if t.expired(e, now) {
		t.remove(el)
		return nil
	}
	return e
}

// expired: not locked, and no failure within the window. A key that was locked is kept for a
// window after its lock ends so that its next failure doubles the backoff.
func (t *Throttle) expired(e *entry, now time.Time) bool {
	return !now.Before(e.until.Add(t.cfg.Window)) && now.Sub(e.last) > t.cfg.Window
}

func (t *Throttle) add(key string, limit int, now time.Time) *entry {
	// Expired keys are dropped when touched; a few of the least recently failed are also
	// checked here, so idle memory drains without a sweeper goroutine.
	el := t.lru.Back()
	for i := 0; i < 4 && el != nil; i++ {
		prev := el.Prev()
		if t.expired(el.Value.(*entry), now) {
			t.remove(el)
		}
		el = prev
	}
	// Still full: the least recently failed key goes, even if it is locked; the cap on memory
	// wins over one lock.
	for len(t.keys) >= t.cfg.MaxKeys {
		t.remove(t.lru.Back())
	}
	e := &entry{key: key, limit: limit}
	t.keys[key] = t.lru.PushFront(e)
	return e
}

func (t *Throttle) remove(el *list.Element) {
	delete(t.keys, el.Value.(*entry).key)
	t.lru.Remove(el)
}
