// Package clocktest is the clock the tests inject where the code takes a Now: a time that moves
// only when the test moves it, so that no test depends on how fast the machine runs. One
// clock for every package's tests, safe to read from the goroutines a test starts.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a settable time. The zero Clock stands at the zero time.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Ticking returns a clock that moves on by tick each time it is read, its first reading t+tick:
// for code that must see every moment differ (the trail's entries, say) without the test
// moving the clock between them.
func Ticking(t time.Time, tick time.Duration) *Clock { return &Clock{t: t, tick: tick} }

// Now returns the clock's time (after moving it on by its tick, for a ticking clock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.tick)
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
