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
	// UserFailures failures for one username within Window, from clients that never logged in
	// as it, lock it for such clients: guessing across many addresses is slowed, while the owner,
	// from a client it logged in from before, is not locked out.
	UserFailures int `yaml:"user_failures"`
	// ClientFailures failures for one username from one address within Window lock that pair.
	ClientFailures int `yaml:"client_failures"`
	// IPFailures failures from one client address within Window lock that address. It is higher
	// than UserFailures because many people may share an address (an office behind NAT).
	IPFailures int           `yaml:"ip_failures"`
	Window     time.Duration `yaml:"window"`
	// The first lock lasts BaseBackoff; every further failure once a key has reached its limit
	// locks it again for twice as long as the time before, up to MaxBackoff, which is at most
	// 15 minutes (OWASP: a lock is a delay, never a lockout).
	BaseBackoff time.Duration `yaml:"base_backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	// MaxKeys bounds memory: beyond it the least recently failed keys are forgotten, and as
	// many clients known to have logged in are kept.
	MaxKeys int `yaml:"max_keys"`
	// KnownFor is how long a client that logged in as a user stays known for it.
	KnownFor time.Duration `yaml:"known_for"`
}

// maxLock caps every lock.
const maxLock = 15 * time.Minute

// DefaultThrottleConfig: 5 failures per username and address, 10 per username from unknown
// clients, or 20 per address within 15 minutes lock for 1 minute, then 2, 4, … up to 15; at
// most 100,000 keys (about 20 MB); a client that logged in is known for 30 days.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{
		UserFailures:   10,
		ClientFailures: 5,
		IPFailures:     20,
		Window:         15 * time.Minute,
		BaseBackoff:    time.Minute,
		MaxBackoff:     maxLock,
		MaxKeys:        100_000,
		KnownFor:       30 * 24 * time.Hour,
	}
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	d := DefaultThrottleConfig()
	if c.UserFailures <= 0 {
		c.UserFailures = d.UserFailures
	}
	if c.ClientFailures <= 0 {
		c.ClientFailures = min(d.ClientFailures, c.UserFailures)
	}
	if c.KnownFor <= 0 {
		c.KnownFor = d.KnownFor
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
	c.BaseBackoff = min(c.BaseBackoff, maxLock)
	c.MaxBackoff = min(max(c.MaxBackoff, c.BaseBackoff), maxLock)
	if c.MaxKeys <= 0 {
		c.MaxKeys = d.MaxKeys
	}
	return c
}

// Throttle refuses login attempts after repeated failures, per username and client address,
// per address, and per username from clients that never logged in as it (OWASP's guidance:
// slow the guessing, never lock the owner out). The caller takes an Attempt before checking a
// password — so a locked key costs no argon2 work — and reports its outcome with exactly one
// Failure, Success or Release (no password was checked). An attempt is counted when it is
// taken, so however many logins arrive at once, at most a key's limit of passwords are verified
// per window. It keeps no goroutine: entries expire lazily and the number of keys is capped.
// Safe for concurrent use.
type Throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element // of *entry
	lru   *list.List               // front: most recently failed
	known map[string]time.Time     // user|address → when it last logged in
}

type entry struct {
	key      string
	limit    int
	failures int       // within the window that started at first
	inflight int       // attempts taken and not yet reported
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
	return &Throttle{cfg: cfg.withDefaults(), now: now, keys: map[string]*list.Element{}, lru: list.New(),
		known: map[string]time.Time{}}
}

// limited is one key of an attempt and the limit it has.
type limited struct {
	key   string
	limit int
}

// limitsFor are the keys an attempt for user from ip counts against: the pair, the address, and
// the username unless this client has logged in as it before.
func (t *Throttle) limitsFor(user, ip string, now time.Time) []limited {
	uk, ik := t.keysFor(user, ip)
	var out []limited
	if uk != "" && ik != "" {
		out = append(out, limited{uk + "|" + ik, t.cfg.ClientFailures})
	}
	if ik != "" {
		out = append(out, limited{ik, t.cfg.IPFailures})
	}
	if uk != "" && !t.isKnown(uk, ik, now) {
		out = append(out, limited{uk, t.cfg.UserFailures})
	}
	return out
}

func (t *Throttle) isKnown(uk, ik string, now time.Time) bool {
	at, ok := t.known[uk+"|"+ik]
	if ok && now.Sub(at) > t.cfg.KnownFor {
		delete(t.known, uk+"|"+ik)
		return false
	}
	return ok && ik != ""
}

// Attempt takes a login attempt for user from ip, if none of its keys is locked or has its limit
// of failures and attempts in flight; then ok is true and the caller must report the outcome
// with Failure, Success or Release. Otherwise retryAfter says how long until one may try.
func (t *Throttle) Attempt(user, ip string) (ok bool, retryAfter time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	ls := t.limitsFor(user, ip, now)
	for _, l := range ls {
		e := t.get(l.key, now)
		if e == nil {
			continue
		}
		failures := e.failures
		if failures < e.limit && now.Sub(e.first) > t.cfg.Window {
			failures = 0 // the window has passed; Failure starts a new one
		}
		switch {
		case now.Before(e.until):
			retryAfter = max(retryAfter, e.until.Sub(now))
		case failures >= l.limit && e.inflight > 0:
			// Hot after a lock: one attempt at a time, whose failure locks again for longer.
			retryAfter = max(retryAfter, time.Second)
		case failures < l.limit && failures+e.inflight >= l.limit:
			// The rest of the limit is taken by attempts still being checked.
			retryAfter = max(retryAfter, time.Second)
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, l := range ls {
		e := t.get(l.key, now)
		if e == nil {
			e = t.add(l.key, l.limit, now)
		}
		e.inflight++
	}
	return true, 0
}

// Take counts one use of an action limited per client address (a registration), refusing it
// once ip has used up IPFailures within the window: every use counts as a failure does, with
// the same locks, doubling up to MaxBackoff.
func (t *Throttle) Take(ip string) (ok bool, retryAfter time.Duration) {
	if ok, retryAfter = t.Attempt("", ip); ok {
		t.Failure("", ip)
	}
	return ok, retryAfter
}

// Allow reports, without taking an attempt, whether a login for user from ip would be let
// through now, and if not, how long until it would.
func (t *Throttle) Allow(user, ip string) (ok bool, retryAfter time.Duration) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.limitsFor(user, ip, now) {
		if e := t.get(l.key, now); e != nil && now.Before(e.until) {
			retryAfter = max(retryAfter, e.until.Sub(now))
		}
	}
	return retryAfter == 0, retryAfter
}

// Failure reports that an attempt failed (or was a failure without one: it counts all the same).
func (t *Throttle) Failure(user, ip string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.limitsFor(user, ip, now) {
		e := t.get(k.key, now)
		if e == nil {
			e = t.add(k.key, k.limit, now)
		}
		e.inflight = max(e.inflight-1, 0)
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

// Release reports that an attempt ended without its password being checked (no hashing slot
// was free, or the client went away): it counts neither as a failure nor as a success.
func (t *Throttle) Release(user, ip string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.limitsFor(user, ip, now) {
		if el, ok := t.keys[k.key]; ok {
			e := el.Value.(*entry)
			e.inflight = max(e.inflight-1, 0)
		}
	}
}

// Success reports that an attempt logged in: the client becomes known for the username, and the
// username's failures and this client's are forgotten. The address's are kept, so that one
// valid account cannot be used to clear the way for guessing others.
func (t *Throttle) Success(user, ip string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ik := t.keysFor(user, ip)
	for _, k := range t.limitsFor(user, ip, now) {
		if el, ok := t.keys[k.key]; ok {
			e := el.Value.(*entry)
			e.inflight = max(e.inflight-1, 0)
			if k.key != ik {
				t.remove(el)
			}
		}
	}
	if uk != "" {
		if el, ok := t.keys[uk]; ok {
			t.remove(el)
		}
	}
	if uk != "" && ik != "" {
		for len(t.known) >= t.cfg.MaxKeys {
			for k := range t.known { // any one: the cap on memory wins
				delete(t.known, k)
				break
			}
		}
		t.known[uk+"|"+ik] = now
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
	return e.inflight == 0 && !now.Before(e.until.Add(t.cfg.Window)) && now.Sub(e.last) > t.cfg.Window
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
