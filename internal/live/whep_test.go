package live_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/simcam"
)

// answerFormats lists the video formats an answer names: "H264 4d001f", "H265".
func answerFormats(answer string) []string {
	rtpmap := regexp.MustCompile(`(?m)^a=rtpmap:(\d+) (H26[45])/90000`)
	var out []string
	for _, m := range rtpmap.FindAllStringSubmatch(answer, -1) {
		f := m[2]
		if plid := regexp.MustCompile(`(?m)^a=fmtp:` + m[1] + ` .*profile-level-id=([0-9a-fA-F]{6})`).FindStringSubmatch(answer); plid != nil {
			f += " " + strings.ToLower(plid[1])
		}
		out = append(out, f)
	}
	return out
}

// firstKey waits for the viewer's first keyframe.
func firstKey(t *testing.T, v *livetest.Viewer) livetest.AccessUnit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		au, err := v.Next(ctx)
		if err != nil {
			t.Fatalf("Next = %v; want a keyframe", err)
		}
		if au.Key() {
			return au
		}
	}
}

// TestAnswerNamesTheCameraProfile: the answer echoed the offer's first H.264 profile whatever
// the camera sent (a Baseline answer carried Main). It must name the offered format that decodes
// the camera's stream, or refuse the offer saying why.
func TestAnswerNamesTheCameraProfile(t *testing.T) {
	e := newEnv(t, live.Config{}, nil)
	st, _ := e.rec.Status(camID)
	if !strings.HasPrefix(st.Profile, "4d") {
		t.Fatalf("simulated camera profile = %q; the test expects Main (4d…)", st.Profile)
	}
	tests := []struct {
		name    string
		offered []string
		want    string // the answer's format; empty: refused
	}{
		{"chrome", livetest.ChromeH264, "H264 4d001f"},
		{"constrained baseline only", []string{"42e01f"}, ""},
		{"baseline only", []string{"42001f", "42e01f"}, ""},
		{"high takes main", []string{"42e01f", "64001f"}, "H264 64001f"},
		{"constrained high does not", []string{"640c1f"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v, err := livetest.NewViewerWith(ctx, livetest.Options{H264: tc.offered})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			ss, answer, err := e.svc.Offer(ctx, e.request(v.Offer))
			if tc.want == "" {
				if !errors.Is(err, live.ErrIncompatible) || !strings.Contains(err.Error(), "Main") {
					t.Fatalf("Offer(%v) = %v; want ErrIncompatible naming the camera's Main profile", tc.offered, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Offer(%v) = %v", tc.offered, err)
			}
			defer ss.Close("test over")
			if got := answerFormats(answer); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("answer formats = %v; want [%s]\n%s", got, tc.want, answer)
			}
			ss.Start()
			if err := v.Accept(answer); err != nil {
				t.Fatal(err)
			}
			firstKey(t, v)
		})
	}
}

// TestLiveH265: an H.265 camera is offered as H.265 to a viewer that can take it, and refused
// with a clear message to one that cannot.
func TestLiveH265(t *testing.T) {
	e := newEnvCodec(t, live.Config{}, nil, simcam.H265)
	ctx := context.Background()

	v, err := livetest.NewViewerWith(ctx, livetest.Options{H265: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ss, answer, err := e.svc.Offer(ctx, e.request(v.Offer))
	if err != nil {
		t.Fatalf("Offer(H.265 viewer) = %v", err)
	}
	defer ss.Close("test over")
	if got := answerFormats(answer); len(got) != 1 || got[0] != "H265" {
		t.Fatalf("answer formats = %v; want [H265]", got)
	}
	ss.Start()
	if err := v.Accept(answer); err != nil {
		t.Fatal(err)
	}
	if au := firstKey(t, v); au.Codec != "H265" {
		t.Errorf("received codec = %s; want H265", au.Codec)
	}

	old, err := livetest.NewViewer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, _, err := e.svc.Offer(ctx, e.request(old.Offer)); !errors.Is(err, live.ErrIncompatible) || !strings.Contains(err.Error(), "H.265") {
		t.Errorf("Offer(H.264-only viewer) = %v; want ErrIncompatible about H.265", err)
	}
}

var candidateAddr = regexp.MustCompile(`(?m)^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ`)

// TestOneICEPortOnTheConfiguredAddress: RTP ports were bound on every interface, one per
// session. All sessions go through the one configured port, and offer only its address.
func TestOneICEPortOnTheConfiguredAddress(t *testing.T) {
	e := newEnv(t, live.Config{}, nil)
	_, port, _ := net.SplitHostPort(e.svc.ICEAddr().String())
	for i := range 3 {
		_, answer, err := e.svc.Offer(context.Background(), e.request(mustViewer(t).Offer))
		if err != nil {
			t.Fatal(err)
		}
		cands := candidateAddr.FindAllStringSubmatch(answer, -1)
		if len(cands) == 0 {
			t.Fatalf("session %d: no candidates in the answer", i)
		}
		for _, c := range cands {
			if c[1] != "127.0.0.1" || c[2] != port {
				t.Errorf("session %d candidate %s:%s; want 127.0.0.1:%s", i, c[1], c[2], port)
			}
		}
	}
}

// TestPublicAddressReplacesTheLocalOne: behind NAT the configured public address is offered.
func TestPublicAddressReplacesTheLocalOne(t *testing.T) {
	e := newEnv(t, live.Config{PublicIPs: []string{"203.0.113.9"}}, nil)
	_, answer, err := e.svc.Offer(context.Background(), e.request(mustViewer(t).Offer))
	if err != nil {
		t.Fatal(err)
	}
	cands := candidateAddr.FindAllStringSubmatch(answer, -1)
	if len(cands) == 0 {
		t.Fatal("no candidates in the answer")
	}
	for _, c := range cands {
		if c[1] != "203.0.113.9" {
			t.Errorf("candidate address %s; want the public 203.0.113.9", c[1])
		}
	}
}

// TestTrickleICE: a viewer whose offer has no candidates sends them after (WHEP's PATCH); new
// credentials (an ICE restart) and lines that are no candidates are refused.
func TestTrickleICE(t *testing.T) {
	e := newEnv(t, live.Config{}, nil)
	ctx := context.Background()
	v, err := livetest.NewViewerWith(ctx, livetest.Options{Trickle: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if strings.Contains(v.Offer, "a=candidate") {
		t.Fatal("trickle offer carries candidates")
	}
	ss, answer, err := e.svc.Offer(ctx, e.request(v.Offer))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close("test over")
	if ss.ETag() == "" {
		t.Error("session has no ETag")
	}
	ufrag := regexp.MustCompile(`(?m)^a=ice-ufrag:(\S+)`).FindStringSubmatch(v.Offer)[1]
	for _, tc := range []struct {
		name, frag string
		want       error
	}{
		{"ice restart", "a=ice-ufrag:someoneelse\r\na=ice-pwd:0123456789abcdef0123456789\r\n", live.ErrICERestart},
		{"not a fragment", "a=ice-ufrag:" + ufrag + "\r\nhello there\r\n", live.ErrBadOffer},
		{"bad candidate", "a=candidate:1 1 udp nonsense\r\n", live.ErrBadOffer},
		{"huge", strings.Repeat("a=end-of-candidates\r\n", 2000), live.ErrBadOffer},
	} {
		if err := ss.AddCandidates(tc.frag); !errors.Is(err, tc.want) {
			t.Errorf("AddCandidates(%s) = %v; want %v", tc.name, err, tc.want)
		}
	}
	ss.Start()
	if err := v.Accept(answer); err != nil {
		t.Fatal(err)
	}
	frag := "a=ice-ufrag:" + ufrag + "\r\na=mid:0\r\n"
	for line := range v.Candidates {
		frag += line + "\r\n"
		if line == "a=end-of-candidates" {
			break
		}
	}
	if err := ss.AddCandidates(frag); err != nil {
		t.Fatalf("AddCandidates(the viewer's candidates) = %v", err)
	}
	firstKey(t, v)
}

func mustViewer(t *testing.T) *livetest.Viewer {
	t.Helper()
	v, err := livetest.NewViewer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
