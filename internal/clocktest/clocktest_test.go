package clocktest_test

import (
	"testing"
	"time"

	"civicam/internal/clocktest"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		clock *clocktest.Clock
		move  func(c *clocktest.Clock)
		reads []time.Time
	}{
		{"stands still", clocktest.New(t0), func(*clocktest.Clock) {}, []time.Time{t0, t0}},
		{"advanced", clocktest.New(t0), func(c *clocktest.Clock) { c.Advance(time.Minute) }, []time.Time{t0.Add(time.Minute), t0.Add(time.Minute)}},
		{"set", clocktest.New(t0), func(c *clocktest.Clock) { c.Set(t0.Add(-time.Hour)) }, []time.Time{t0.Add(-time.Hour)}},
		{"ticking", clocktest.Ticking(t0, time.Microsecond), func(*clocktest.Clock) {}, []time.Time{t0.Add(time.Microsecond), t0.Add(2 * time.Microsecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.move(tt.clock)
			for i, want := range tt.reads {
				if got := tt.clock.Now(); !got.Equal(want) {
					t.Errorf("Now() #%d = %v; want %v", i+1, got, want)
				}
			}
		})
	}
}
