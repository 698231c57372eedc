package live_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/auth"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/recorder"
	"civicam/internal/simcam"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// env is a simulated camera recorded through the real RTSP path, a live service fed by that
// recorder, and a logged-in viewer in a real database.
type env struct {
	t       testing.TB
	db      *store.DB
	rec     *recorder.Recorder
	svc     *live.Service
	user    *auth.User
	token   []byte // the viewer's login token hash
	recheck func(context.Context, *auth.User) error
	camURL  string
	metrics *prometheus.Registry
	stopSvc func()
}

const camID = "cam-1"

func newEnv(t testing.TB, cfg live.Config, recheck func(context.Context, *auth.User) error) *env {
	t.Helper()
	return newEnvCodec(t, cfg, recheck, simcam.H264)
}

// newEnvCodec is newEnv with a camera sending codec.
func newEnvCodec(t testing.TB, cfg live.Config, recheck func(context.Context, *auth.User) error, codec simcam.Codec) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	now := time.Now().UTC()
	u := &auth.User{ID: "u-viewer", Username: "viewer", PasswordHash: "x", Role: auth.RoleAdmin, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser = %v", err)
	}
	_, hash := auth.NewToken()
	if err := db.CreateSession(ctx, &auth.Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	metrics := prometheus.NewRegistry()
	rig := livetest.NewRig(t, cfg, livetest.RigDeps{Index: db, Logins: db, Metrics: metrics, Codec: codec})
	rig.Record(t, camID)
	e := &env{t: t, db: db, rec: rig.Recorder, svc: rig.Live, user: u, token: hash, recheck: recheck, camURL: rig.Camera.URL(1), metrics: metrics,
		stopSvc: rig.StopLive}
	return e
}

// waitFor polls cond; the limit only keeps a broken test from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request asks to watch the camera with offer, naming the codec and profile the recorder sees.
func (e *env) request(offer string) live.Request {
	st, _ := e.rec.Status(camID)
	return live.Request{CameraID: camID, Purpose: "patrol", User: e.user, TokenHash: e.token, Offer: offer, Recheck: e.recheck,
		Codec: st.Codec, Profile: st.Profile}
}

// watch connects a viewer through Offer and Start.
func (e *env) watch(ctx context.Context) (*livetest.Viewer, *live.Session) {
	e.t.Helper()
	v, err := livetest.NewViewer(ctx)
	if err != nil {
		e.t.Fatalf("NewViewer = %v", err)
	}
	e.t.Cleanup(func() { v.Close() })
	ss, answer, err := e.svc.Offer(ctx, e.request(v.Offer))
	if err != nil {
		e.t.Fatalf("Offer = %v", err)
	}
	if strings.Contains(answer, "a=candidate") && !strings.Contains(answer, "127.0.0.1") {
		e.t.Errorf("answer offers candidates off loopback:\n%s", answer)
	}
	ss.Start()
	if err := v.Accept(answer); err != nil {
		e.t.Fatalf("Accept = %v", err)
	}
	return v, ss
}

func TestViewerReceivesDecodableH264(t *testing.T) {
	e := newEnv(t, live.Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, ss := e.watch(ctx)

	var stream bytes.Buffer
	var got []livetest.AccessUnit
	for len(got) < 60 { // more than two groups of pictures
		au, err := v.Next(ctx)
		if err != nil {
			t.Fatalf("after %d frames: Next = %v", len(got), err)
		}
		got = append(got, au)
		for _, n := range au.NALUs {
			stream.Write([]byte{0, 0, 0, 1})
			stream.Write(n)
		}
	}
	if !got[0].Key() {
		t.Fatalf("first access unit received is not an IDR with SPS and PPS (%d NALUs)", len(got[0].NALUs))
	}
	keys := 0
	for i, au := range got {
		if au.Key() {
			keys++
		}
		if i > 0 && au.RTPTime-got[i-1].RTPTime != 3600 {
			t.Errorf("frame %d RTP time step %d; want 3600 (25 fps at 90 kHz)", i, au.RTPTime-got[i-1].RTPTime)
		}
	}
	if keys < 2 {
		t.Errorf("%d keyframes in 60 frames; want one a second", keys)
	}
	if ss.FramesSent() < int64(len(got)) {
		t.Errorf("FramesSent() = %d; want at least the %d received", ss.FramesSent(), len(got))
	}
	decode(t, stream.Bytes(), len(got))
	if n := e.metric("civicam_live_sessions"); n != 1 {
		t.Errorf("civicam_live_sessions = %v; want 1", n)
	}
	if n := e.metric("civicam_live_first_frame_seconds"); n != 1 {
		t.Errorf("civicam_live_first_frame_seconds observations = %v; want 1", n)
	}
}

// metric is a gauge's value or a histogram's count.
func (e *env) metric(name string) float64 {
	e.t.Helper()
	fams, err := e.metrics.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name || len(f.GetMetric()) == 0 {
			continue
		}
		m := f.GetMetric()[0]
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount())
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

// decode checks with Debian's ffmpeg, when installed, that the received stream decodes without
// an error into as many frames as were received.
func decode(t *testing.T, annexB []byte, frames int) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Logf("ffprobe not installed: the access units were checked, not decoded")
		return
	}
	p := filepath.Join(t.TempDir(), "live.h264")
	if err := os.WriteFile(p, annexB, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,codec_name", "-of", "csv=p=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "h264,"; !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
		t.Fatalf("ffprobe says %q; want h264 and no error", got)
	}
	var n int
	if _, err := fmtSscan(strings.TrimPrefix(strings.TrimSpace(string(out)), "h264,"), &n); err != nil || n != frames {
		t.Errorf("ffprobe decoded %d frames (%v); want %d", n, err, frames)
	}
}

// TestSessionEndsWhenRightEnds: the viewer's connection closes when its login is deleted (logout,
// role change, disabling), when the access rule says no more, when revoked, and at shutdown.
func TestSessionEndsWhenRightEnds(t *testing.T) {
	var denyMu sync.Mutex
	deny := false
	recheck := func(context.Context, *auth.User) error {
		denyMu.Lock()
		defer denyMu.Unlock()
		if deny {
			return errors.New("grant revoked")
		}
		return nil
	}
	e := newEnv(t, live.Config{CheckInterval: 200 * time.Millisecond}, recheck)
	tests := []struct {
		name       string
		end        func()
		wantReason string
	}{
		{"logout", func() {
			if err := e.db.DeleteSession(context.Background(), e.token); err != nil {
				t.Fatal(err)
			}
		}, "the viewer's login ended"},
		{"access rule", func() {
			denyMu.Lock()
			deny = true
			denyMu.Unlock()
		}, "the viewer may no longer watch this camera: grant revoked"},
		{"revoke", func() {
			if n := e.svc.Revoke(func(s *live.Session) bool { return s.CameraID == camID }, "grant revoked"); n != 1 {
				t.Errorf("Revoke = %d; want 1", n)
			}
		}, "grant revoked"},
		{"shutdown", e.stopSvc, "server shutting down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now().UTC()
			_, e.token = auth.NewToken()
			if err := e.db.CreateSession(context.Background(), &auth.Session{TokenHash: e.token, UserID: e.user.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			denyMu.Lock()
			deny = false
			denyMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			v, ss := e.watch(ctx)
			if _, err := v.Next(ctx); err != nil {
				t.Fatalf("no frame before the right ended: %v", err)
			}
			start := time.Now()
			tc.end()
			select {
			case <-v.Closed():
			case <-ctx.Done():
				t.Fatalf("the viewer's connection is still open")
			}
			t.Logf("viewer saw the connection close %v after the right ended", time.Since(start).Round(time.Millisecond))
			<-ss.Done()
			if ss.Reason() != tc.wantReason {
				t.Errorf("Reason() = %q; want %q", ss.Reason(), tc.wantReason)
			}
			if _, ok := e.svc.Session(ss.ID); ok {
				t.Errorf("session %s still listed after it ended", ss.ID)
			}
		})
	}
}

func TestOfferRefused(t *testing.T) {
	e := newEnv(t, live.Config{}, nil)
	tests := []struct {
		name, offer string
	}{
		{"not sdp", "hello"},
		{"audio only", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"},
		{"no h264", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"},
		{"huge", "v=0\r\nm=video H264/90000" + strings.Repeat("a", 70<<10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.svc.Offer(context.Background(), live.Request{CameraID: camID, User: e.user, TokenHash: e.token, Offer: tc.offer})
			if !errors.Is(err, live.ErrBadOffer) {
				t.Errorf("Offer(%s) = %v; want ErrBadOffer", tc.name, err)
			}
		})
	}
	if n := len(e.svc.Sessions()); n != 0 {
		t.Errorf("%d sessions after refused offers; want 0", n)
	}
}

func fmtSscan(s string, n *int) (int, error) { return fmt.Sscan(s, n) }
