package auth

import (
	"civicam/internal/clocktest"
	"fmt"
	"sync"
	"testing"
	"time"
)

// newFakeClock is the throttle's injected time.
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}

var testThrottle = ThrottleConfig{
	UserFailures: 3,
	IPFailures:   5,
	Window:       10 * time.Minute,
	BaseBackoff:  time.Minute,
	MaxBackoff:   4 * time.Minute,
	MaxKeys:      100,
}

// step is one moment of a throttle timeline: advance the clock, then act, then check Allow.
type step struct {
	advance   time.Duration
	act       string // "fail", "ok" (a successful login), or "" (only check)
	user, ip  string
	wantAllow bool
	wantRetry time.Duration // checked when !wantAllow
}

func runTimeline(t *testing.T, cfg ThrottleConfig, steps []step) *Throttle {
	t.Helper()
	clock := newFakeClock()
	th := NewThrottle(cfg, clock.Now)
	for i, s := range steps {
		clock.Advance(s.advance)
		// A login takes an attempt first; a refused one reports nothing, as the service does.
		switch s.act {
		case "fail":
			if ok, _ := th.Attempt(s.user, s.ip); ok {
				th.Failure(s.user, s.ip)
			}
		case "ok":
			if ok, _ := th.Attempt(s.user, s.ip); ok {
				th.Success(s.user, s.ip)
			}
		case "":
		default:
			t.Fatalf("step %d: unknown act %q", i, s.act)
		}
		ok, retry := th.Allow(s.user, s.ip)
		if ok != s.wantAllow || (!ok && retry != s.wantRetry) || (ok && retry != 0) {
			t.Fatalf("step %d (+%v %s %s@%s): Allow = %v, %v; want %v, %v",
				i, s.advance, s.act, s.user, s.ip, ok, retry, s.wantAllow, s.wantRetry)
		}
	}
	return th
}

func TestThrottleTimeline(t *testing.T) {
	const ip, ip2 = "203.0.113.7", "198.51.100.9"
	tests := []struct {
		name  string
		steps []step
	}{
		{"locks after the limit and unlocks after the backoff", []step{
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: time.Second, act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: time.Second, act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{advance: 30 * time.Second, user: "alice", ip: ip, wantAllow: false, wantRetry: 30 * time.Second},
			// The lock is on the username: from elsewhere alice is still locked…
			{user: "alice", ip: ip2, wantAllow: false, wantRetry: 30 * time.Second},
			// …but bob from the same address is not (the address has 3 of its 5).
			{user: "bob", ip: ip, wantAllow: true},
			{advance: 30 * time.Second, user: "alice", ip: ip, wantAllow: true},
		}},
		{"backoff doubles while the key stays hot, up to the cap", []step{
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip2, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{advance: time.Minute, act: "fail", user: "alice", ip: ip2, wantAllow: false, wantRetry: 2 * time.Minute},
			{advance: 2 * time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: 4 * time.Minute},
			{advance: 4 * time.Minute, act: "fail", user: "alice", ip: ip2, wantAllow: false, wantRetry: 4 * time.Minute},
		}},
		{"success resets the username", []step{
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "ok", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
		}},
		{"success does not clear the address", []step{
			{act: "fail", user: "u1", ip: ip, wantAllow: true},
			{act: "fail", user: "u2", ip: ip, wantAllow: true},
			{act: "fail", user: "u3", ip: ip, wantAllow: true},
			{act: "fail", user: "u4", ip: ip, wantAllow: true},
			{act: "ok", user: "mallory", ip: ip, wantAllow: true},
			{act: "fail", user: "u5", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{user: "anyone", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{user: "anyone", ip: ip2, wantAllow: true},
		}},
		{"failures spread beyond the window do not lock", []step{
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: 6 * time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: 6 * time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: 6 * time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: true},
			{advance: time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
		}},
		{"a quiet key is forgotten: the next lock starts at the base backoff", []step{
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{advance: time.Minute, act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: 2 * time.Minute},
			// Quiet for the lock plus a window and a bit.
			{advance: 2*time.Minute + 10*time.Minute + time.Second, user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: true},
			{act: "fail", user: "alice", ip: ip, wantAllow: false, wantRetry: time.Minute},
		}},
		{"usernames fold case and trim spaces", []step{
			{act: "fail", user: "Alice", ip: ip, wantAllow: true},
			{act: "fail", user: "ALICE ", ip: ip2, wantAllow: true},
			{act: "fail", user: "alice", ip: "192.0.2.1", wantAllow: false, wantRetry: time.Minute},
		}},
		{"the address limit locks every username from it", []step{
			{act: "fail", user: "a", ip: ip, wantAllow: true},
			{act: "fail", user: "b", ip: ip, wantAllow: true},
			{act: "fail", user: "c", ip: ip, wantAllow: true},
			{act: "fail", user: "d", ip: ip, wantAllow: true},
			{act: "fail", user: "e", ip: ip, wantAllow: false, wantRetry: time.Minute},
			{user: "f", ip: ip, wantAllow: false, wantRetry: time.Minute},
		}},
		{"an IPv6 /64 is one address; ports do not matter", []step{
			{act: "fail", user: "a", ip: "2001:db8:1:2::1", wantAllow: true},
			{act: "fail", user: "b", ip: "2001:db8:1:2::ffff", wantAllow: true},
			{act: "fail", user: "c", ip: "2001:db8:1:2:aaaa::5", wantAllow: true},
			{act: "fail", user: "d", ip: "[2001:db8:1:2::9]:443", wantAllow: true},
			{act: "fail", user: "e", ip: "2001:db8:1:2::7", wantAllow: false, wantRetry: time.Minute},
			{user: "f", ip: "2001:db8:1:3::1", wantAllow: true},
		}},
		{"IPv4-mapped IPv6 is the IPv4 address", []step{
			{act: "fail", user: "a", ip: "::ffff:203.0.113.7", wantAllow: true},
			{act: "fail", user: "b", ip: "203.0.113.7:5555", wantAllow: true},
			{act: "fail", user: "c", ip: ip, wantAllow: true},
			{act: "fail", user: "d", ip: ip, wantAllow: true},
			{act: "fail", user: "e", ip: ip, wantAllow: false, wantRetry: time.Minute},
		}},
		{"an empty username or address is not a key", []step{
			{act: "fail", user: "", ip: "", wantAllow: true},
			{act: "fail", user: "", ip: "", wantAllow: true},
			{act: "fail", user: "", ip: "", wantAllow: true},
			{act: "fail", user: "alice", ip: "", wantAllow: true},
			{act: "fail", user: "alice", ip: "", wantAllow: true},
			{act: "fail", user: "alice", ip: "", wantAllow: false, wantRetry: time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runTimeline(t, testThrottle, tt.steps)
		})
	}
}

func TestThrottleMemoryBounded(t *testing.T) {
	cfg := testThrottle
	cfg.MaxKeys = 50
	clock := newFakeClock()
	th := NewThrottle(cfg, clock.Now)
	for i := range 1000 {
		th.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if n := th.Len(); n > cfg.MaxKeys {
			t.Fatalf("after %d failures Len() = %d; want at most %d", i+1, n, cfg.MaxKeys)
		}
	}
	// The most recent keys survive eviction: user999 is still counted.
	th.Failure("user999", "192.0.2.1")
	th.Failure("user999", "192.0.2.2")
	if ok, _ := th.Allow("user999", "192.0.2.3"); ok {
		t.Errorf("Allow(user999) = true after 3 failures under a full table; want false")
	}
	// Expired keys drain without a sweeper: once everything is quiet past its lock and window,
	// each new key also clears some old ones.
	clock.Advance(cfg.BaseBackoff + cfg.Window + time.Second)
	for i := range 10 {
		th.Failure(fmt.Sprintf("late%d", i), "")
	}
	if n := th.Len(); n > cfg.MaxKeys/2 {
		t.Errorf("Len() = %d after the table went quiet and 10 new keys; want at most %d", n, cfg.MaxKeys/2)
	}
	if ok, _ := th.Allow("user999", ""); !ok {
		t.Errorf("Allow(user999) = false after the lock and a quiet window; want true")
	}
}

func TestThrottleDefaults(t *testing.T) {
	th := NewThrottle(ThrottleConfig{}, nil)
	if th.cfg != DefaultThrottleConfig() {
		t.Errorf("NewThrottle(zero config).cfg = %+v; want %+v", th.cfg, DefaultThrottleConfig())
	}
	cfg := ThrottleConfig{BaseBackoff: 2 * time.Hour, MaxBackoff: time.Minute}.withDefaults()
	if cfg.BaseBackoff != 15*time.Minute || cfg.MaxBackoff != 15*time.Minute {
		t.Errorf("withDefaults(2h, 1m) backoffs = %v, %v; want both capped at 15m", cfg.BaseBackoff, cfg.MaxBackoff)
	}
	cfg = ThrottleConfig{BaseBackoff: 2 * time.Minute, MaxBackoff: time.Minute}.withDefaults()
	if cfg.MaxBackoff != 2*time.Minute {
		t.Errorf("withDefaults: MaxBackoff %v below BaseBackoff 2m; want it raised to 2m", cfg.MaxBackoff)
	}
}

// TestThrottleConcurrent is for -race: many logins at once must not corrupt the table.
func TestThrottleConcurrent(t *testing.T) {
	clock := newFakeClock()
	cfg := testThrottle
	cfg.MaxKeys = 20
	th := NewThrottle(cfg, clock.Now)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				user, ip := fmt.Sprintf("u%d", i%30), fmt.Sprintf("10.0.0.%d", g)
				if ok, _ := th.Allow(user, ip); ok {
					if i%7 == 0 {
						th.Success(user, ip)
					} else {
						th.Failure(user, ip)
					}
				}
				if i%50 == 0 {
					clock.Advance(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	if n := th.Len(); n > cfg.MaxKeys {
		t.Errorf("Len() = %d; want at most %d", n, cfg.MaxKeys)
	}
	if th.lru.Len() != len(th.keys) {
		t.Errorf("LRU list holds %d entries, map %d; want equal", th.lru.Len(), len(th.keys))
	}
}

// TestThrottleOwnerNotLockedOut: guesses from other addresses lock the username for clients that
// never logged in as it, never for the owner's own client (OWASP), and no lock outlasts 15 min.
func TestThrottleOwnerNotLockedOut(t *testing.T) {
	clock := newFakeClock()
	th := NewThrottle(ThrottleConfig{UserFailures: 5, ClientFailures: 3, IPFailures: 20, Window: time.Hour,
		BaseBackoff: time.Minute, MaxBackoff: time.Hour}, clock.Now)
	const home = "198.51.100.1"
	if ok, _ := th.Attempt("alice", home); !ok {
		t.Fatal("first attempt refused")
	}
	th.Success("alice", home)
	for i := range 30 { // a burst from many addresses, then one guess a minute
		ip := fmt.Sprintf("203.0.113.%d", i)
		if ok, _ := th.Attempt("alice", ip); ok {
			th.Failure("alice", ip)
		}
		clock.Advance(time.Minute)
	}
	if ok, wait := th.Attempt("alice", home); !ok {
		t.Errorf("the owner's client after 30 guesses elsewhere: refused for %v; want let through", wait)
	} else {
		th.Success("alice", home)
	}
	for i := range 5 { // the owner's login reset the count: five more guesses, from five places
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		if ok, _ := th.Attempt("alice", ip); ok {
			th.Failure("alice", ip)
		}
	}
	if ok, wait := th.Attempt("alice", "192.0.2.9"); ok || wait > 15*time.Minute {
		t.Errorf("an unknown client after guesses = %v, %v; want refused for at most 15m", ok, wait)
	}
	for range 40 {
		if ok, _ := th.Attempt("bob", "192.0.2.7"); ok {
			th.Failure("bob", "192.0.2.7")
		}
		if _, wait := th.Allow("bob", "192.0.2.7"); wait > 15*time.Minute {
			t.Fatalf("a lock of %v; want none over 15 minutes", wait)
		}
		clock.Advance(20 * time.Minute)
	}
}

// TestThrottleCountsAttemptsBeforeVerifying: 200 logins at once for one username, limit 3, let
// at most 3 through to the password check, whatever their outcome.
func TestThrottleCountsAttemptsBeforeVerifying(t *testing.T) {
	th := NewThrottle(ThrottleConfig{UserFailures: 3, IPFailures: 1000, Window: time.Minute}, newFakeClock().Now)
	var mu sync.Mutex
	taken := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			if ok, _ := th.Attempt("alice", "203.0.113.5"); ok {
				mu.Lock()
				taken++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // the password check
				th.Failure("alice", "203.0.113.5")
			}
		})
	}
	close(start)
	wg.Wait()
	if taken > 3 {
		t.Errorf("attempts let through = %d; want at most 3", taken)
	}
}

// TestThrottleRelease: an attempt released (its password never checked: no hashing slot) frees
// its place and counts as no failure, so a busy server does not lock its users out.
func TestThrottleRelease(t *testing.T) {
	th := NewThrottle(ThrottleConfig{ClientFailures: 2, UserFailures: 2, IPFailures: 1000, Window: time.Minute}, newFakeClock().Now)
	for i := range 10 {
		if ok, wait := th.Attempt("alice", "203.0.113.5"); !ok {
			t.Fatalf("Attempt #%d after %d released = refused for %v; want taken", i+1, i, wait)
		}
		th.Release("alice", "203.0.113.5")
	}
	th.Attempt("alice", "203.0.113.5")
	th.Failure("alice", "203.0.113.5")
	if ok, _ := th.Attempt("alice", "203.0.113.5"); !ok {
		t.Error("Attempt after 10 released and 1 failure (limit 2) = refused; want taken")
	}
}
