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
// WHEP is draft-ietf-wish-whep (WHIP, its sibling for publishing, is RFC 9725). Every session's
// media goes through one UDP port (an ICE UDP mux) on the configured address, so a firewall
// opens one port; a server behind NAT names its public addresses, which replace the local one in
// the candidates. There are no STUN or TURN servers, and remote mDNS candidates are ignored (a
// browser hiding its address is still reached through the peer-reflexive candidate of its own
// checks). A viewer may send its candidates after the offer (trickle ICE, AddCandidates).
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
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
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
	// ICEListen is the UDP address every session's media goes through; empty means
	// 127.0.0.1:0 (loopback, a port chosen at start). A server reached over a network names the
	// address and a fixed port its firewall opens; an unspecified IP (0.0.0.0:8189) offers every
	// interface's address.
	ICEListen string
	// PublicIPs replace the listening address in the candidates offered, for a server behind
	// NAT whose public address maps to it one to one.
	PublicIPs []string
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
	if c.ICEListen == "" {
		c.ICEListen = "127.0.0.1:0"
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

// Errors of Offer and AddCandidates.
var (
	// ErrBadOffer is an offer that is not SDP, or offers to receive neither H.264 nor H.265; or
	// a candidate fragment that is not one.
	ErrBadOffer = errors.New("live: bad offer")
	// ErrICERestart is a candidate fragment with new ICE credentials: an ICE restart, which
	// sessions do not support (the viewer starts a new session instead).
	ErrICERestart = errors.New("live: ICE restart is not supported; start a new session")
	// ErrUnavailable is a service that is not running (starting up or shutting down) or full.
	ErrUnavailable = errors.New("live: unavailable")
)

// Service holds the live sessions.
type Service struct {
	cfg       Config
	deps      Deps
	log       *slog.Logger
	network   webrtc.NetworkType
	listenIP  net.IP
	publicIPs []string

	mu       sync.Mutex
	running  bool
	settings webrtc.SettingEngine // while running: bound to the ICE mux
	iceAddr  net.Addr
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
	host, _, err := net.SplitHostPort(cfg.ICEListen)
	if err != nil {
		return nil, fmt.Errorf("live: ICE listen address %q: %w", cfg.ICEListen, err)
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, network: webrtc.NetworkTypeUDP4, sessions: map[string]*Session{}}
	if host != "" {
		if s.listenIP = net.ParseIP(host); s.listenIP == nil {
			return nil, fmt.Errorf("live: ICE listen address %q: %q is not an IP address", cfg.ICEListen, host)
		}
		if s.listenIP.To4() == nil {
			s.network = webrtc.NetworkTypeUDP6
		}
	}
	for _, a := range cfg.PublicIPs {
		if net.ParseIP(a) == nil {
			return nil, fmt.Errorf("live: public address %q is not an IP address", a)
		}
		s.publicIPs = append(s.publicIPs, a)
	}
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

// settingEngine is what every session shares: the one ICE port, the addresses offered, timeouts.
func (s *Service) settingEngine(mux ice.UDPMux) (webrtc.SettingEngine, error) {
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{s.network})
	se.SetICEUDPMux(mux)
	if s.listenIP != nil {
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(s.listenIP) })
	}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(s.publicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: s.publicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}); err != nil {
			return se, fmt.Errorf("live: public addresses: %w", err)
		}
	}
	// A viewer that goes away without a word is noticed in seconds, not the default half minute.
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	return se, nil
}

// newAPI is one session's WebRTC stack: its media engine registers only the format chosen for
// the viewer, so the answer names exactly it.
func (s *Service) newAPI(se webrtc.SettingEngine, f videoFormat, af audioFormat, audio bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(f.codecParameters(), webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("live: register %s: %w", f.codec, err)
	}
	if audio {
		if err := m.RegisterCodec(af.codecParameters(), webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("live: register %s: %w", af.codec, err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("live: interceptors: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// ICEAddr is the UDP address sessions' media goes through, once Run has bound it; nil before.
func (s *Service) ICEAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.iceAddr
}

// Run binds the ICE port, accepts sessions and re-checks their viewers' rights until ctx is
// done; then it closes every session and returns once their goroutines have ended.
func (s *Service) Run(ctx context.Context) error {
	conn, err := net.ListenPacket("udp", s.cfg.ICEListen)
	if err != nil {
		return fmt.Errorf("live: ICE port: %w", err)
	}
	mux := webrtc.NewICEUDPMux(nil, conn)
	defer mux.Close()
	se, err := s.settingEngine(mux)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.running, s.settings, s.iceAddr = true, se, conn.LocalAddr()
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
	// Codec is the camera's video codec ("H264" or "H265"; empty means H.264) and Profile its
	// H.264 profile-level-id (recorder.Status): the answer names the offered format that
	// decodes them, or the offer is refused with ErrIncompatible.
	Codec   string
	Profile string
	// Audio is the camera's audio codec (recorder.Status.AudioCodec, "" for none): Opus and
	// G.711 go to the viewer beside the video when its offer takes them (audio.go).
	Audio string
	// Recheck, when set, is the access rule applied again at every check, with the viewer as
	// the store has it now: an error closes the session (a sharing grant that ended, a camera
	// moved to another organisation).
	Recheck func(ctx context.Context, u *auth.User) error
	// Ended, when set, is called once the session has ended and its connection is closed,
	// whatever ended it, with the reason Close was given: the caller records the end of the look.
	Ended func(reason string)
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
	// AudioNote says why the session carries no audio although the camera sends some (AAC,
	// which needs transcoding; a viewer that offered no audio); empty when it carries the
	// camera's audio or the camera sends none.
	AudioNote string

	svc       *Service
	tokenHash []byte
	recheck   func(ctx context.Context, u *auth.User) error
	ended     func(reason string)
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticRTP
	format    videoFormat
	hasAudio  bool
	audioFmt  audioFormat
	audio     *webrtc.TrackLocalStaticRTP
	audioSeq  uint16 // touched only by forward
	audioTS   uint32
	remoteICE iceCredentials // the viewer's, from its offer
	etag      string
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
		if ss.ended != nil {
			ss.ended(reason)
		}
	})
}

// Offer answers a viewer's SDP offer with a pending session and the answer SDP (all of the
// server's ICE candidates included; the viewer's may follow by AddCandidates). The caller traces
// the access, then calls Start, or Close if it cannot.
func (s *Service) Offer(ctx context.Context, req Request) (*Session, string, error) {
	if err := checkOffer(req.Offer); err != nil {
		return nil, "", err
	}
	formats, err := videoFormats(req.Offer)
	if err != nil {
		return nil, "", err
	}
	if len(formats) == 0 {
		return nil, "", fmt.Errorf("%w: the viewer can receive neither H.264 nor H.265", ErrBadOffer)
	}
	codec := req.Codec
	if codec == "" {
		codec = "H264"
	}
	format, err := chooseFormat(formats, codec, req.Profile)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	if !s.running || len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		return nil, "", ErrUnavailable
	}
	se := s.settings
	s.mu.Unlock()

	afmt, withAudio, note := chooseAudio(req.Offer, req.Audio)
	api, err := s.newAPI(se, format, afmt, withAudio)
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("live: new peer connection: %w", err)
	}
	ss := &Session{
		ID: newID(), CameraID: req.CameraID, UserID: req.User.ID, Username: req.User.Username, Role: req.User.Role,
		OrganisationID: req.User.OrganisationID, Purpose: req.Purpose, Created: s.deps.Now(),
		svc: s, tokenHash: slices.Clone(req.TokenHash), recheck: req.Recheck, ended: req.Ended, pc: pc, offered: time.Now(),
		format: format, remoteICE: offerCredentials(req.Offer), AudioNote: note, hasAudio: withAudio, audioFmt: afmt,
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
	return nil
}

func (s *Service) negotiate(ctx context.Context, ss *Session, offer string) (string, error) {
	pc := ss.pc
	track, err := webrtc.NewTrackLocalStaticRTP(ss.format.codecParameters().RTPCodecCapability, "video", "civicam-"+ss.CameraID)
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
	if err := ss.addAudio(); err != nil {
		return "", err
	}
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
	if !strings.Contains(local.SDP, fmt.Sprintf("a=rtpmap:%d ", ss.format.pt)) {
		return "", fmt.Errorf("%w: the answer lost the chosen format %d", ErrBadOffer, ss.format.pt)
	}
	ss.etag = `"` + offerCredentials(local.SDP).ufrag + `"`
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
	enc, err := newPacketizer(ss.format)
	if err != nil {
		ss.Close("rtp encoder: " + err.Error())
		return
	}
	var off [4]byte
	rand.Read(off[:])
	tsOffset := uint32(off[0])<<24 | uint32(off[1])<<16 | uint32(off[2])<<8 | uint32(off[3])
	rand.Read(off[:])
	ss.audioTS = uint32(off[0])<<24 | uint32(off[1])<<16 | uint32(off[2])<<8 | uint32(off[3])
	for {
		select {
		case <-ss.done:
			return
		case fr := <-sub.C:
			if fr.Audio {
				ss.sendAudio(fr)
				continue
			}
			if fr.Codec != ss.format.codec {
				ss.Close("the camera now sends " + fr.Codec + " instead of " + ss.format.codec)
				return
			}
			pkts, err := enc(fr.NALUs)
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

// newPacketizer returns the RTP packetiser of the session's format.
func newPacketizer(f videoFormat) (func([][]byte) ([]*rtp.Packet, error), error) {
	if f.codec == "H265" {
		enc := &rtph265.Encoder{PayloadType: f.pt, PayloadMaxSize: rtpPayloadMax}
		if err := enc.Init(); err != nil {
			return nil, err
		}
		return enc.Encode, nil
	}
	enc := &rtph264.Encoder{PayloadType: f.pt, PacketizationMode: 1, PayloadMaxSize: rtpPayloadMax}
	if err := enc.Init(); err != nil {
		return nil, err
	}
	return enc.Encode, nil
}

// iceCredentials are one side's ICE username fragment and password.
type iceCredentials struct{ ufrag, pwd string }

// offerCredentials reads the first ICE credentials of an SDP or a candidate fragment (WHEP
// sessions bundle everything on one transport, so there is one pair).
func offerCredentials(sdp string) iceCredentials {
	var c iceCredentials
	for line := range strings.Lines(sdp) {
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && c.ufrag == "" {
			c.ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && c.pwd == "" {
			c.pwd = v
		}
	}
	return c
}

// ETag names the session's ICE session, as WHEP's 201 answer gives it: a PATCH may ask for it
// with If-Match.
func (ss *Session) ETag() string { return ss.etag }

// maxFragmentBytes bounds a trickle ICE fragment; a browser's candidates are a few hundred bytes.
const maxFragmentBytes = 16 << 10

// AddCandidates takes the viewer's trickled candidates: a trickle ICE SDP fragment
// (application/trickle-ice-sdpfrag, RFC 8840) as a WHEP PATCH carries it. New ICE credentials
// in it ask for an ICE restart and get ErrICERestart; a fragment that is not one gets
// ErrBadOffer.
func (ss *Session) AddCandidates(frag string) error {
	if len(frag) > maxFragmentBytes {
		return fmt.Errorf("%w: candidate fragment larger than %d bytes", ErrBadOffer, maxFragmentBytes)
	}
	if c := offerCredentials(frag); c.ufrag != "" && c.ufrag != ss.remoteICE.ufrag || c.pwd != "" && c.pwd != ss.remoteICE.pwd {
		return ErrICERestart
	}
	mid := ""
	var cands []webrtc.ICECandidateInit
	for line := range strings.Lines(frag) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=candidate:"):
			c := webrtc.ICECandidateInit{Candidate: strings.TrimPrefix(line, "a=")}
			if mid != "" {
				m := mid
				c.SDPMid = &m
			}
			cands = append(cands, c)
		case line == "", line == "a=end-of-candidates", strings.HasPrefix(line, "m="), strings.HasPrefix(line, "a=ice-"),
			strings.HasPrefix(line, "a=group:"):
		default:
			return fmt.Errorf("%w: unexpected line %.40q in a candidate fragment", ErrBadOffer, line)
		}
	}
	for _, c := range cands {
		if err := ss.pc.AddICECandidate(c); err != nil {
			return fmt.Errorf("%w: candidate %.80q: %w", ErrBadOffer, c.Candidate, err)
		}
	}
	return nil
}
