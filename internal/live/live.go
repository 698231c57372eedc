// Package live serves cameras' live video to browsers over WebRTC, by WHEP (an SDP offer in, an
// answer out): H.264 is passed through as the camera sent it, re-packetised into RTP but never
// re-encoded, from the recorder's own connection to the camera (recorder.Subscribe), so that a
// camera has one ingest however many people watch.
//
// A viewer's right is not checked once and forgotten: the Service re-checks every session's
// login (logout, role change and disabling delete it in the store) and, when given one, the
// access rule, every CheckInterval, and closes the PeerConnection when either is gone. Revoke
// closes the sessions a predicate picks at once (a sharing grant revoked). Every session starts
// pending: no media is sent until the caller, having traced the access, calls Start.
//
// ICE uses host candidates only, on the configured addresses (loopback by default); there are no
// STUN or TURN servers, and remote mDNS candidates are ignored (a browser hiding its address is
// still reached through the peer-reflexive candidate of its own checks).
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/recorder"
)

// Source feeds live frames of a camera; *recorder.Recorder is the one.
type Source interface {
	Subscribe(cameraID string, buffer int) *recorder.Subscription
}

// Logins finds the session behind a token hash; *store.DB is the one. A session that is gone
// (logout, expiry, a role change or disabling, which delete the user's sessions) gives an error
// wrapping fault.ErrNotFound (which store.ErrNotFound is).
type Logins interface {
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (*auth.Session, *auth.User, error)
}

// Config tunes the service.
type Config struct {
	// ICEAddresses are the local IP addresses offered as host candidates; empty means 127.0.0.1.
	// A server reached over a network lists the address browsers reach it at.
	ICEAddresses []string
	// CheckInterval is how often every viewer's right is re-checked; zero means 500 ms.
	CheckInterval time.Duration
	// ConnectTimeout closes a session whose viewer has not connected by then; zero means 15 s.
	ConnectTimeout time.Duration
	// Buffer is the frames held per viewer before it loses frames to the next keyframe; zero
	// means recorder.DefaultLiveBuffer.
	Buffer int
	// MaxSessions bounds concurrent sessions; zero means 256.
	MaxSessions int
}

func (c Config) withDefaults() Config {
	if len(c.ICEAddresses) == 0 {
		c.ICEAddresses = []string{"127.0.0.1"}
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 500 * time.Millisecond
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 256
	}
	return c
}

// Deps are the service's collaborators.
type Deps struct {
	Source  Source
	Logins  Logins
	Metrics prometheus.Registerer // optional
	Logger  *slog.Logger
	Now     func() time.Time
}

// Errors of Offer.
var (
	// ErrBadOffer is an offer that is not SDP, or offers no H.264 video to receive.
	ErrBadOffer = errors.New("live: bad offer")
	// ErrUnavailable is a service that is not running (starting up or shutting down) or full.
	ErrUnavailable = errors.New("live: unavailable")
)

// Service holds the live sessions.
type Service struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	api  *webrtc.API

	mu       sync.Mutex
	running  bool
	sessions map[string]*Session
	wg       sync.WaitGroup

	firstFrame *prometheus.HistogramVec
	dropped    prometheus.Counter
}

// New builds the service; sessions are accepted once Run is running.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if deps.Source == nil || deps.Logins == nil {
		return nil, errors.New("live: Source and Logins are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	var ips []net.IP
	v6 := false
	for _, a := range cfg.ICEAddresses {
		ip := net.ParseIP(a)
		if ip == nil {
			return nil, fmt.Errorf("live: ICE address %q is not an IP address", a)
		}
		v6 = v6 || ip.To4() == nil
		ips = append(ips, ip)
	}
	api, err := newAPI(ips, v6)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, api: api, sessions: map[string]*Session{}}
	s.firstFrame = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "civicam_live_first_frame_seconds", Help: "Time from a WHEP offer to the first keyframe sent to the viewer.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 10),
	}, nil)
	s.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "civicam_live_frames_dropped_total", Help: "Frames live viewers lost because they did not keep up.",
	})
	if deps.Metrics != nil {
		sessions := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "civicam_live_sessions", Help: "Live sessions open."},
			func() float64 { s.mu.Lock(); defer s.mu.Unlock(); return float64(len(s.sessions)) })
		for _, c := range []prometheus.Collector{s.firstFrame, s.dropped, sessions} {
			if err := deps.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("live: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// h264Profiles are the profile-level-ids browsers offer; the answer keeps those the browser
// offered. The decoder reads the real profile from the SPS, so any of them carries the stream.
var h264Profiles = []string{"42e01f", "42001f", "4d001f", "640c1f", "64001f"}

func newAPI(ips []net.IP, v6 bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	for i, p := range h264Profiles {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + p, RTCPFeedback: fb},
			PayloadType: webrtc.PayloadType(102 + i),
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("live: register h264: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("live: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	nets := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if v6 {
		nets = append(nets, webrtc.NetworkTypeUDP6)
	}
	se.SetNetworkTypes(nets)
	se.SetIPFilter(func(ip net.IP) bool { return slices.ContainsFunc(ips, ip.Equal) })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// A viewer that goes away without a word is noticed in seconds, not the default half minute.
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Run accepts sessions and re-checks their viewers' rights until ctx is done; then it closes
// every session and returns once their goroutines have ended.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	t := time.NewTicker(s.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			s.running = false
			s.mu.Unlock()
			s.Revoke(func(*Session) bool { return true }, "server shutting down")
			s.wg.Wait()
			return nil
		case <-t.C:
			s.check(ctx)
		}
	}
}

// Request is a viewer's ask to watch a camera, already authorized by the caller.
type Request struct {
	CameraID string
	Purpose  string
	User     *auth.User
	// TokenHash is the hash of the login token the request came with (auth.HashToken): the
	// session lives as long as that login does.
	TokenHash []byte
	Offer     string // SDP
	// Recheck, when set, is the access rule applied again at every check, with the viewer as
	// the store has it now: an error closes the session (a sharing grant that ended, a camera
	// moved to another organisation).
	Recheck func(ctx context.Context, u *auth.User) error
}

// Session is one viewer watching one camera.
type Session struct {
	ID             string
	CameraID       string
	UserID         string
	Username       string
	Role           auth.Role
	OrganisationID string
	Purpose        string
	Created        time.Time

	svc       *Service
	tokenHash []byte
	recheck   func(ctx context.Context, u *auth.User) error
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticRTP
	connected chan struct{}
	connOnce  sync.Once
	start     chan struct{}
	startOnce sync.Once
	done      chan struct{}
	closeOnce sync.Once
	reason    atomic.Value // string
	frames    atomic.Int64
	offered   time.Time // wall clock, for the first-frame metric
	failures  int       // consecutive failed checks; touched only by check
}

// Done is closed when the session has ended.
func (ss *Session) Done() <-chan struct{} { return ss.done }

// Reason says why the session ended; empty while it runs.
func (ss *Session) Reason() string {
	r, _ := ss.reason.Load().(string)
	return r
}

// FramesSent counts the access units sent to the viewer.
func (ss *Session) FramesSent() int64 { return ss.frames.Load() }

// Start lets media flow; call it once the access is traced. Until then the session sends
// nothing, and a session never started is closed after ConnectTimeout.
func (ss *Session) Start() { ss.startOnce.Do(func() { close(ss.start) }) }

// Close ends the session: the PeerConnection is closed, which the viewer sees at once.
func (ss *Session) Close(reason string) {
	ss.closeOnce.Do(func() {
		ss.reason.Store(reason)
		close(ss.done)
		ss.svc.mu.Lock()
		delete(ss.svc.sessions, ss.ID)
		ss.svc.mu.Unlock()
		if err := ss.pc.Close(); err != nil {
			ss.svc.log.Debug("live: close peer connection", "session", ss.ID, "err", err)
		}
		ss.svc.log.Info("live: session ended", "session", ss.ID, "camera", ss.CameraID, "user", ss.Username,
			"reason", reason, "frames", ss.frames.Load())
	})
}

// Offer answers a viewer's SDP offer with a pending session and the answer SDP (all ICE
// candidates included: there is no trickle). The caller traces the access, then calls Start, or
// Close if it cannot.
func (s *Service) Offer(ctx context.Context, req Request) (*Session, string, error) {
	if err := checkOffer(req.Offer); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	if !s.running || len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		return nil, "", ErrUnavailable
	}
	s.mu.Unlock()

	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("live: new peer connection: %w", err)
	}
	ss := &Session{
		ID: newID(), CameraID: req.CameraID, UserID: req.User.ID, Username: req.User.Username, Role: req.User.Role,
		OrganisationID: req.User.OrganisationID, Purpose: req.Purpose, Created: s.deps.Now(),
		svc: s, tokenHash: slices.Clone(req.TokenHash), recheck: req.Recheck, pc: pc, offered: time.Now(),
		connected: make(chan struct{}), start: make(chan struct{}), done: make(chan struct{}),
	}
	answer, err := s.negotiate(ctx, ss, req.Offer)
	if err != nil {
		pc.Close()
		return nil, "", err
	}
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		pc.Close()
		return nil, "", ErrUnavailable
	}
	s.sessions[ss.ID] = ss
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ss.forward()
	}()
	return ss, answer, nil
}

// checkOffer refuses what is plainly not a WebRTC video offer before any resources are taken.
func checkOffer(sdp string) error {
	if len(sdp) > 64<<10 {
		return fmt.Errorf("%w: larger than 64 KiB", ErrBadOffer)
	}
	if !strings.HasPrefix(sdp, "v=0") {
		return fmt.Errorf("%w: not SDP", ErrBadOffer)
	}
	if !strings.Contains(sdp, "m=video") {
		return fmt.Errorf("%w: no video section", ErrBadOffer)
	}
	if !strings.Contains(strings.ToUpper(sdp), "H264/90000") {
		return fmt.Errorf("%w: the viewer cannot receive H.264", ErrBadOffer)
	}
	return nil
}

func (s *Service) negotiate(ctx context.Context, ss *Session, offer string) (string, error) {
	pc := ss.pc
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "civicam-"+ss.CameraID)
	if err != nil {
		return "", fmt.Errorf("live: track: %w", err)
	}
	ss.track = track
	sender, err := pc.AddTrack(track)
	if err != nil {
		return "", fmt.Errorf("live: add track: %w", err)
	}
	// RTCP from the viewer (receiver reports, NACKs) must be read for the interceptors to work;
	// the reads end when the connection closes.
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			ss.connOnce.Do(func() { close(ss.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			go ss.Close("viewer connection " + st.String())
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("live: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	local := pc.LocalDescription()
	if !strings.Contains(local.SDP, "a=candidate") {
		return "", errors.New("live: no ICE candidate on the configured addresses")
	}
	if !strings.Contains(strings.ToUpper(local.SDP), "H264/90000") {
		return "", fmt.Errorf("%w: no H.264 profile in common", ErrBadOffer)
	}
	return local.SDP, nil
}

// rtpPayloadMax keeps packets under a 1280-byte path MTU with the SRTP and IP headers.
const rtpPayloadMax = 1150

// forward sends the camera's frames once the session is started and the viewer connected,
// starting at a keyframe with its parameter sets (the recorder's subscription guarantees it).
func (ss *Session) forward() {
	timeout := time.NewTimer(ss.svc.cfg.ConnectTimeout)
	defer timeout.Stop()
	for _, gate := range []chan struct{}{ss.start, ss.connected} {
		select {
		case <-gate:
		case <-ss.done:
			return
		case <-timeout.C:
			ss.Close("viewer did not connect in time")
			return
		}
	}
	sub := ss.svc.deps.Source.Subscribe(ss.CameraID, ss.svc.cfg.Buffer)
	defer func() {
		sub.Close()
		ss.svc.dropped.Add(float64(sub.Dropped()))
	}()
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: rtpPayloadMax}
	if err := enc.Init(); err != nil {
		ss.Close("rtp encoder: " + err.Error())
		return
	}
	var off [4]byte
	rand.Read(off[:])
	tsOffset := uint32(off[0])<<24 | uint32(off[1])<<16 | uint32(off[2])<<8 | uint32(off[3])
	for {
		select {
		case <-ss.done:
			return
		case fr := <-sub.C:
			if fr.Codec != "H264" {
				ss.Close("the camera sends " + fr.Codec + ", which live view does not carry")
				return
			}
			pkts, err := enc.Encode(fr.NALUs)
			if err != nil {
				ss.svc.log.Debug("live: packetise", "session", ss.ID, "err", err)
				continue
			}
			ts := uint32(fr.PTS) + tsOffset
			for _, p := range pkts {
				p.Timestamp = ts
				if err := ss.track.WriteRTP(p); err != nil {
					ss.Close("write to viewer: " + err.Error())
					return
				}
			}
			if ss.frames.Add(1) == 1 {
				ss.svc.firstFrame.WithLabelValues().Observe(time.Since(ss.offered).Seconds())
			}
		}
	}
}

// check closes the sessions whose viewer's login is gone or whose right has ended. A store
// error is given two more chances before the session is closed: the trail of rights must not
// depend on a database hiccup lasting, but a short one should not cut every viewer.
func (s *Service) check(ctx context.Context) {
	s.mu.Lock()
	list := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	now := s.deps.Now()
	type login struct {
		u   *auth.User
		err error
	}
	seen := map[string]login{}
	for _, ss := range list {
		key := string(ss.tokenHash)
		l, ok := seen[key]
		if !ok {
			_, u, err := s.deps.Logins.SessionUser(ctx, ss.tokenHash, now)
			l = login{u, err}
			seen[key] = l
		}
		if reason := s.ended(ctx, ss, l.u, l.err); reason != "" {
			ss.Close(reason)
		}
	}
}

const maxCheckFailures = 3

func (s *Service) ended(ctx context.Context, ss *Session, u *auth.User, err error) string {
	switch {
	case errors.Is(err, fault.ErrNotFound):
		return "the viewer's login ended"
	case err != nil:
		ss.failures++
		s.log.Warn("live: cannot check a viewer's login", "session", ss.ID, "err", err, "failures", ss.failures)
		if ss.failures >= maxCheckFailures {
			return "the viewer's login could not be checked"
		}
		return ""
	case u.Disabled:
		return "the viewer's account was disabled"
	case u.ID != ss.UserID || u.Role != ss.Role || u.OrganisationID != ss.OrganisationID:
		return "the viewer's role or organisation changed"
	}
	ss.failures = 0
	if ss.recheck != nil {
		if err := ss.recheck(ctx, u); err != nil {
			return "the viewer may no longer watch this camera: " + err.Error()
		}
	}
	return ""
}

// Revoke closes at once every session match picks, giving reason, and returns how many.
func (s *Service) Revoke(match func(*Session) bool, reason string) int {
	var picked []*Session
	for _, ss := range s.Sessions() {
		if match(ss) {
			picked = append(picked, ss)
		}
	}
	for _, ss := range picked {
		ss.Close(reason)
	}
	return len(picked)
}

// Sessions lists the running sessions.
func (s *Service) Sessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b *Session) int { return a.Created.Compare(b.Created) })
	return out
}

// Session returns the running session id.
func (s *Service) Session(id string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	return ss, ok
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
