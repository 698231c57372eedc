package trace

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// The bounds on an entry's text. Much of it comes from whoever sent the request — a username
// tried, a path, a purpose — and the trail is append-only: without bounds a client could fill
// it (60 logins with 1 MB usernames added 60 MB). A longer value is kept cut, with its length
// and hash, so that the entry still says what was sent.
const (
	maxActorField = 64   // user id, username, role, organisation, client address
	maxReference  = 256  // an id or a case reference
	maxPurpose    = 1024 // as the user stated it
	maxReason     = 2048 // what happened; a request path is part of it
	// MaxEntryText bounds the text of one entry, all fields together.
	MaxEntryText = 4096
)

// cut returns v if it holds at most max bytes, else its first bytes (whole characters) and a
// note of its length and SHA-256, the whole within max bytes.
func cut(v string, max int) string {
	if len(v) <= max {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	note := fmt.Sprintf("…[cut: %d bytes, sha256 %s]", len(v), hex.EncodeToString(sum[:8]))
	keep := max - len(note)
	if keep < 0 {
		return note[:max]
	}
	for keep > 0 && !utf8.RuneStart(v[keep]) {
		keep--
	}
	return v[:keep] + note
}

// bound cuts e's text fields to their bounds, so that an entry's text never exceeds
// MaxEntryText whatever a client sent.
func (e *Entry) bound() {
	a := &e.Actor
	a.UserID, a.Username, a.Role = cut(a.UserID, maxActorField), cut(a.Username, maxActorField), cut(a.Role, maxActorField)
	a.OrganisationID, a.ClientAddr = cut(a.OrganisationID, maxActorField), cut(a.ClientAddr, maxActorField)
	e.Action = Action(cut(string(e.Action), maxActorField))
	e.Reference = cut(e.Reference, maxReference)
	e.Purpose = cut(e.Purpose, maxPurpose)
	e.Reason = cut(e.Reason, maxReason)
	if len(e.Detail) == 0 {
		return
	}
	room := MaxEntryText - 6*maxActorField - maxReference - maxPurpose - maxReason
	keys := slices.Sorted(maps.Keys(e.Detail))
	d := make(map[string]string, len(keys))
	for _, k := range keys {
		k2, v2 := cut(k, maxActorField), cut(e.Detail[k], maxReference)
		if room -= len(k2) + len(v2); room < 0 {
			break
		}
		d[k2] = v2
	}
	e.Detail = d
}

// anonLimiter bounds how many denials of unauthenticated requests one client address puts in
// the trail per minute. Past the limit they are counted, not dropped: each address's count is
// written as one summary entry when its minute is over.
type anonLimiter struct {
	perMinute int
	mu        sync.Mutex
	addrs     map[string]*anonWindow
}

type anonWindow struct {
	start   time.Time
	n       int // entries let through in the window
	dropped int // past the limit
	actions map[Action]int
}

// maxAnonAddrs bounds the addresses tracked at once; past it, new addresses share one window
// under the address "*", so the limiter's memory is bounded too.
const maxAnonAddrs = 10000

// allow reports whether an unauthenticated denial from addr at now goes into the trail; when
// not, it is counted for the address's summary.
func (l *anonLimiter) allow(addr string, action Action, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.addrs[addr]
	if w == nil {
		if len(l.addrs) >= maxAnonAddrs {
			addr = "*"
			w = l.addrs[addr]
		}
		if w == nil {
			w = &anonWindow{start: now, actions: map[Action]int{}}
			l.addrs[addr] = w
		}
	}
	if w.n < l.perMinute {
		w.n++
		return true
	}
	w.dropped++
	w.actions[action]++
	return false
}

// due takes the summaries of the windows that ended by now (all of them when all is set), and
// forgets windows that ended with nothing dropped.
func (l *anonLimiter) due(now time.Time, all bool) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Entry
	for addr, w := range l.addrs {
		end := w.start.Add(time.Minute)
		if !all && now.Before(end) {
			continue
		}
		delete(l.addrs, addr)
		if w.dropped == 0 {
			continue
		}
		detail := map[string]string{"dropped": fmt.Sprint(w.dropped)}
		for a, n := range w.actions {
			detail[string(a)] = fmt.Sprint(n)
		}
		out = append(out, Entry{Time: now, Actor: Actor{ClientAddr: addr}, Action: ActionAccessDenied, Outcome: Denied,
			Reason: fmt.Sprintf("%d more denials of unauthenticated requests from %s between %s and %s, past %d a minute, counted here rather than one by one",
				w.dropped, addr, w.start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), l.perMinute),
			Detail: detail})
	}
	return out
}
