package trace

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		keep string // the prefix kept; "" with cut false: unchanged
		cut  bool
	}{
		{"chief", 64, "chief", false},
		{strings.Repeat("a", 64), 64, strings.Repeat("a", 64), false},
		{strings.Repeat("a", 1<<20), 64, "aaa", true},
		{strings.Repeat("长", 100), 64, "长", true},
	}
	for _, tt := range tests {
		got := cut(tt.in, tt.max)
		switch {
		case len(got) > tt.max:
			t.Errorf("cut(%d bytes, %d) = %d bytes; want at most %d", len(tt.in), tt.max, len(got), tt.max)
		case !utf8.ValidString(got):
			t.Errorf("cut(%d bytes, %d) = %q; want valid UTF-8", len(tt.in), tt.max, got)
		case !tt.cut && got != tt.in:
			t.Errorf("cut(%q, %d) = %q; want it unchanged", tt.in, tt.max, got)
		case tt.cut && (!strings.HasPrefix(got, tt.keep) || !strings.Contains(got, "bytes, sha256 ")):
			t.Errorf("cut(%d bytes, %d) = %q; want a prefix and a note of length and hash", len(tt.in), tt.max, got)
		}
	}
}

// TestBoundEntry: whatever a client sends, an entry's text stays within MaxEntryText.
func TestBoundEntry(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	e := Entry{Actor: Actor{Username: huge, ClientAddr: huge}, Action: ActionLoginFailed, Outcome: Denied,
		Reference: huge, Purpose: huge, Reason: "GET /" + huge, Detail: map[string]string{}}
	for i := range 1000 {
		e.Detail[strings.Repeat("k", i)] = huge
	}
	e.bound()
	text := len(e.Actor.UserID) + len(e.Actor.Username) + len(e.Actor.Role) + len(e.Actor.OrganisationID) +
		len(e.Actor.ClientAddr) + len(e.Action) + len(e.Reference) + len(e.Purpose) + len(e.Reason)
	for k, v := range e.Detail {
		text += len(k) + len(v)
	}
	if text > MaxEntryText {
		t.Errorf("bounded entry holds %d bytes of text; want at most %d", text, MaxEntryText)
	}
	if !strings.HasPrefix(e.Actor.Username, "xxx") || !strings.Contains(e.Actor.Username, "1048576 bytes") {
		t.Errorf("bounded username = %q; want it cut with its length", e.Actor.Username)
	}
	if err := e.Validate(); err != nil {
		t.Errorf("bounded entry: Validate() = %v", err)
	}
}

// TestAnonLimiter: past the limit an address's denials are counted, and the count comes out as
// one summary entry once its minute is over.
func TestAnonLimiter(t *testing.T) {
	t0 := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	l := &anonLimiter{perMinute: 5, addrs: map[string]*anonWindow{}}
	let := 0
	for i := range 100 {
		if l.allow("10.0.0.9", ActionLoginFailed, t0.Add(time.Duration(i)*100*time.Millisecond)) {
			let++
		}
	}
	if !l.allow("10.0.0.10", ActionAccessDenied, t0) {
		t.Errorf("another address refused; want its own limit")
	}
	if let != 5 {
		t.Errorf("denials let through = %d; want 5", let)
	}
	if got := l.due(t0.Add(30*time.Second), false); len(got) != 0 {
		t.Errorf("due within the minute = %d summaries; want none", len(got))
	}
	got := l.due(t0.Add(61*time.Second), false)
	if len(got) != 1 || got[0].Actor.ClientAddr != "10.0.0.9" || got[0].Detail["dropped"] != "95" || got[0].Detail[string(ActionLoginFailed)] != "95" {
		t.Fatalf("due after the minute = %+v; want one summary of 95 dropped from 10.0.0.9", got)
	}
	if err := got[0].Validate(); err != nil {
		t.Errorf("summary: Validate() = %v", err)
	}
	if !l.allow("10.0.0.9", ActionLoginFailed, t0.Add(62*time.Second)) {
		t.Errorf("the address in a new minute refused; want a fresh window")
	}
}
