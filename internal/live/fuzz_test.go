package live_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"civicam/internal/auth"
	"civicam/internal/fuzzbound"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/recorder"
	"civicam/internal/segment"
)

// update rewrites the checked-in seed corpora under testdata/fuzz.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// noLogins is a store in which every login is still valid.
type noLogins struct{ u *auth.User }

func (n noLogins) SessionUser(context.Context, []byte, time.Time) (*auth.Session, *auth.User, error) {
	return &auth.Session{UserID: n.u.ID}, n.u, nil
}

// offerSeeds are a real browser-like offer (pion's, as livetest makes it) and variants of it
// that browsers send or that an attacker would.
func offerSeeds(t testing.TB) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	real := v.Offer
	return map[string]string{
		"pion":           real,
		"crlf-stripped":  strings.ReplaceAll(real, "\r\n", "\n"),
		"no-h264":        strings.ReplaceAll(real, "H264/90000", "VP8/90000"),
		"no-ice":         dropLines(real, "a=ice-ufrag", "a=ice-pwd"),
		"no-fingerprint": dropLines(real, "a=fingerprint"),
		"sendonly":       strings.ReplaceAll(real, "a=recvonly", "a=sendonly"),
		"two-videos":     real + real[strings.Index(real, "m=video"):],
		"minimal":        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n",
	}
}

func dropLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		keep := true
		for _, p := range prefixes {
			keep = keep && !strings.HasPrefix(l, p)
		}
		if keep {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzOffer with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOffer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range offerSeeds(t) {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzOffer sends the WHEP service offers. Each is refused as a bad offer or answered, never a
// panic, within the bound; an answer is SDP that pion parses, with a video section that sends
// H.264, and ICE credentials, a DTLS fingerprint and a candidate; and the session it
// opens closes, leaving the service empty.
func FuzzOffer(f *testing.F) {
	u := &auth.User{ID: "u-viewer", Username: "viewer", Role: auth.RoleAdmin}
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: segment.NewDisk(f.TempDir())})
	svc, err := live.New(live.Config{}, live.Deps{Source: rec, Logins: noLogins{u}})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); svc.Run(ctx) }()
	f.Cleanup(func() { cancel(); wg.Wait() })
	// Run binds the ICE port, then takes offers; one before that is refused as unavailable.
	for deadline := time.Now().Add(5 * time.Second); svc.ICEAddr() == nil && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	f.Fuzz(func(t *testing.T, offer string) {
		start := time.Now()
		octx, ocancel := context.WithTimeout(ctx, 10*time.Second)
		defer ocancel()
		ss, answer, err := svc.Offer(octx, live.Request{CameraID: "cam-1", User: u, TokenHash: []byte("t"), Offer: offer})
		fuzzbound.Check(t, start, "Offer", len(offer))
		if err != nil {
			if !errors.Is(err, live.ErrBadOffer) && !errors.Is(err, live.ErrIncompatible) {
				t.Fatalf("Offer(%q) = %v; want nil, ErrBadOffer or ErrIncompatible", offer, err)
			}
		} else {
			ss.Close("fuzz")
			var d sdp.SessionDescription
			if err := d.UnmarshalString(answer); err != nil {
				t.Fatalf("answer to %q is not SDP: %v\n%s", offer, err, answer)
			}
			// Sections bundled with the first take its transport, so the credentials and
			// candidates need only be somewhere.
			has := func(a string) bool {
				if _, ok := d.Attribute(a); ok {
					return true
				}
				for _, m := range d.MediaDescriptions {
					if _, ok := m.Attribute(a); ok {
						return true
					}
				}
				return false
			}
			for _, a := range []string{"ice-ufrag", "ice-pwd", "fingerprint", "candidate"} {
				if !has(a) {
					t.Fatalf("answer to %q lacks a=%s\n%s", offer, a, answer)
				}
			}
			var video int
			for _, m := range d.MediaDescriptions {
				if m.MediaName.Media == "video" && m.MediaName.Port.Value != 0 {
					video++
				}
			}
			if video == 0 || !strings.Contains(strings.ToUpper(answer), "H264/90000") {
				t.Fatalf("answer to %q sends no H.264 video\n%s", offer, answer)
			}
		}
		if n := len(svc.Sessions()); n != 0 {
			t.Fatalf("after Offer(%q): %d sessions open; want 0", offer, n)
		}
	})
}
