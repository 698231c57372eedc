// Package simcam serves simulated IP cameras over RTSP for the demo and for tests: N streams at
// rtsp://ADDR/cam/1 … /cam/N, each a real, decodable H.264 or H.265 moving test pattern sent at
// real-time pace over TCP or UDP. No ffmpeg and no downloads are needed at run time: the pictures
// come from small looping clips embedded in the binary (clips/gen.sh makes them), re-timed per
// stream so that RTP timestamps run on across loops and a recorder sees one endless stream.
//
// Bitrate: the clips are encoded at about 0.5 Mbit/s. A higher Config.Bitrate is reached by adding
// a filler-data NAL unit to every access unit (type 12 in H.264, 38 in H.265), which decoders
// discard: the bytes on the wire, and so the recorder's work, are those of a camera at that rate,
// while the pictures stay the clip's. A Bitrate below the clip's own rate is not possible; the
// clip's rate is used and a warning logged.
package simcam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// Codec names a video codec the simulator can send.
type Codec string

const (
	H264 Codec = "h264"
	H265 Codec = "h265"
)

// Config describes the simulated cameras.
type Config struct {
	// Listen is the RTSP (TCP) address, e.g. "127.0.0.1:8554"; port 0 picks a free one.
	Listen string
	// UDPRTPAddress and UDPRTCPAddress are the server's UDP ports (even, and that plus one). Left
	// empty, a free pair on Listen's host is taken.
	UDPRTPAddress  string
	UDPRTCPAddress string
	// Count is the number of cameras, served at /cam/1 … /cam/Count.
	Count int
	// Codec is h264 (the default) or h265.
	Codec Codec
	// Bitrate in bits per second; 0 sends the clip as it is (about 0.5 Mbit/s).
	Bitrate int64
}

// Server serves the simulated cameras.
type Server struct {
	cfg   Config
	log   *slog.Logger
	ready chan struct{}
	addr  string
	srv   *gortsplib.Server

	mu      sync.Mutex // guards streams, which connections look up while Run builds them
	streams []*stream
}

// New returns a Server; nothing listens until Run.
func New(cfg Config, logger *slog.Logger) *Server {
	if cfg.Codec == "" {
		cfg.Codec = H264
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: logger, ready: make(chan struct{})}
}

// Ready is closed once Run listens and every stream is up.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the RTSP address listened on; valid after Ready.
func (s *Server) Addr() string { return s.addr }

// URL is camera n's stream (1-based); valid after Ready.
func (s *Server) URL(n int) string { return fmt.Sprintf("rtsp://%s/cam/%d", s.addr, n) }

// SetOnline takes camera n (1-based) off the air or brings it back, as a camera losing power or
// network would: going offline disconnects its readers and DESCRIBE answers 404 until it returns.
// Valid after Ready.
func (s *Server) SetOnline(n int, online bool) error {
	s.mu.Lock()
	streams := s.streams
	s.mu.Unlock()
	if n < 1 || n > len(streams) {
		return fmt.Errorf("no camera %d", n)
	}
	return streams[n-1].setOnline(online)
}

// SetStill freezes camera n's picture (1-based) or lets it move again, as a camera whose encoder
// or frame buffer got stuck would: while still, every frame sent is the clip's first, a keyframe,
// byte for byte, on the stream's running timestamps. Valid after Ready.
func (s *Server) SetStill(n int, still bool) error {
	s.mu.Lock()
	streams := s.streams
	s.mu.Unlock()
	if n < 1 || n > len(streams) {
		return fmt.Errorf("no camera %d", n)
	}
	streams[n-1].still.Store(still)
	return nil
}

// Run serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Count < 1 {
		return errors.New("simcam: count must be at least 1")
	}
	cl, err := loadClip(s.cfg.Codec)
	if err != nil {
		return fmt.Errorf("simcam: %w", err)
	}
	var pad int
	if s.cfg.Bitrate > cl.bitrate {
		// Each NAL unit costs its 4-byte length or start code on the wire as well.
		pad = int((s.cfg.Bitrate-cl.bitrate)/8/clipFPS) - 4
		if pad < 3 {
			pad = 0
		}
	} else if s.cfg.Bitrate > 0 {
		s.log.Warn("simcam: bitrate below the clip's own; sending the clip as it is",
			"asked", s.cfg.Bitrate, "clip", cl.bitrate)
	}
	var fill []byte
	rate := cl.bitrate
	if pad > 0 {
		fill = filler(cl.codec, pad)
		rate += int64(pad+4) * 8 * clipFPS
	}

	srv := &gortsplib.Server{
		Handler:        handler{s},
		RTSPAddress:    s.cfg.Listen,
		UDPRTPAddress:  s.cfg.UDPRTPAddress,
		UDPRTCPAddress: s.cfg.UDPRTCPAddress,
	}
	var pre map[string]net.PacketConn
	if s.cfg.UDPRTPAddress == "" && s.cfg.UDPRTCPAddress == "" {
		pre, srv.UDPRTPAddress, srv.UDPRTCPAddress, err = udpPair(s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("simcam: %w", err)
		}
		srv.ListenPacket = func(network, address string) (net.PacketConn, error) {
			if pc, ok := pre[address]; ok {
				delete(pre, address)
				return pc, nil
			}
			return net.ListenPacket(network, address)
		}
	}
	if err := srv.Start(); err != nil {
		for _, pc := range pre {
			pc.Close()
		}
		return fmt.Errorf("simcam: listen %s: %w", s.cfg.Listen, err)
	}
	s.srv = srv
	s.addr = srv.NetListener().Addr().String()

	streams := make([]*stream, 0, s.cfg.Count)
	for i := range s.cfg.Count {
		st := &stream{srv: srv, clip: cl, fill: fill, path: "/cam/" + strconv.Itoa(i+1)}
		if err := st.setOnline(true); err != nil {
			for _, o := range streams {
				o.setOnline(false)
			}
			srv.Close()
			return fmt.Errorf("simcam: %w", err)
		}
		streams = append(streams, st)
	}
	s.mu.Lock()
	s.streams = streams
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, st := range streams {
		wg.Go(func() { st.run(ctx) })
	}
	serverErr := make(chan error, 1)
	go func() { serverErr <- srv.Wait() }()
	s.log.Info("simcam: serving", "addr", s.addr, "udp_rtp", srv.UDPRTPAddress, "count", s.cfg.Count,
		"codec", s.cfg.Codec, "bitrate", rate)
	close(s.ready)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serverErr:
		runErr = fmt.Errorf("simcam: server: %w", err)
	}
	cancel()
	wg.Wait()
	for _, st := range streams {
		st.setOnline(false)
	}
	srv.Close()
	if runErr == nil {
		<-serverErr
	}
	return runErr
}

// udpPair binds a free even/odd UDP port pair on host, as RTP over UDP wants, and keeps the
// sockets open so that no other process can take them before the server does.
func udpPair(listen string) (map[string]net.PacketConn, string, string, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, "", "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	for range 100 {
		a, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, "", "", fmt.Errorf("bind udp: %w", err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65535 {
			a.Close()
			continue
		}
		rtcp := net.JoinHostPort(host, strconv.Itoa(port+1))
		b, err := net.ListenPacket("udp", rtcp)
		if err != nil {
			a.Close()
			continue
		}
		rtpAddr := net.JoinHostPort(host, strconv.Itoa(port))
		return map[string]net.PacketConn{rtpAddr: a, rtcp: b}, rtpAddr, rtcp, nil
	}
	return nil, "", "", errors.New("no free even/odd udp port pair")
}

func (s *Server) find(path string) *stream {
	path = strings.TrimSuffix(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.streams {
		if st.path == path {
			return st
		}
	}
	return nil
}

// handler answers the RTSP requests; it is not Server itself so that the callbacks stay out of
// Server's API.
type handler struct{ s *Server }

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.s.lookup(ctx.Path)
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.s.lookup(ctx.Path)
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h handler) OnPlay(_ *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (s *Server) lookup(path string) (*base.Response, *gortsplib.ServerStream, error) {
	st := s.find(path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("no stream at %s", path)
	}
	ss := st.current()
	if ss == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("%s is offline", path)
	}
	return &base.Response{StatusCode: base.StatusOK}, ss, nil
}

// stream is one simulated camera.
type stream struct {
	srv  *gortsplib.Server
	clip *clip
	fill []byte
	path string

	still atomic.Bool // every frame is the clip's first (SetStill)

	mu   sync.Mutex
	ss   *gortsplib.ServerStream // nil while offline
	send func(au [][]byte, ts uint32) error
}

func (st *stream) current() *gortsplib.ServerStream {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ss
}

func (st *stream) setOnline(online bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !online {
		if st.ss != nil {
			st.ss.Close()
			st.ss, st.send = nil, nil
		}
		return nil
	}
	if st.ss != nil {
		return nil
	}
	cl := st.clip
	var forma format.Format
	var encode func([][]byte) ([]*rtp.Packet, error)
	switch cl.codec {
	case H264:
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: cl.sps, PPS: cl.pps}
		enc, err := f.CreateEncoder()
		if err != nil {
			return fmt.Errorf("h264 encoder: %w", err)
		}
		forma, encode = f, enc.Encode
	default:
		f := &format.H265{PayloadTyp: 96, VPS: cl.vps, SPS: cl.sps, PPS: cl.pps}
		enc, err := f.CreateEncoder()
		if err != nil {
			return fmt.Errorf("h265 encoder: %w", err)
		}
		forma, encode = f, enc.Encode
	}
	medi := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	ss := &gortsplib.ServerStream{Server: st.srv, Desc: &description.Session{Medias: []*description.Media{medi}}}
	if err := ss.Initialize(); err != nil {
		return fmt.Errorf("stream %s: %w", st.path, err)
	}
	st.ss = ss
	st.send = func(au [][]byte, ts uint32) error {
		pkts, err := encode(au)
		if err != nil {
			return err
		}
		for _, p := range pkts {
			p.Timestamp = ts
			if err := ss.WritePacketRTP(medi, p); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// run sends one access unit every frame interval until ctx is done. Frames are due at fixed
// times from the start, so a late wake-up is caught up rather than stretching the stream.
func (st *stream) run(ctx context.Context) {
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	au := make([][]byte, 0, 16)
	still := false
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		frame := st.clip.aus[i%len(st.clip.aus)]
		// A picture that moves again resumes at the clip's next keyframe: the frames between
		// refer to pictures that were never sent.
		if st.still.Load() || still && !st.clip.keyframeAt[i%len(st.clip.aus)] {
			frame, still = st.clip.aus[0], true
		} else {
			still = false
		}
		au = append(au[:0], frame...)
		if st.fill != nil {
			au = append(au, st.fill)
		}
		st.mu.Lock()
		send := st.send
		st.mu.Unlock()
		if send != nil {
			// An error only means the stream was closed under us by SetOnline.
			_ = send(au, uint32(i*frameTicks))
		}
		t.Reset(time.Until(start.Add(time.Duration(i+1) * frameInterval)))
	}
}

// ParseBitrate reads a bitrate such as "4M", "500k" or "2000000" as bits per second.
func ParseBitrate(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1_000, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bitrate %q: want a number with an optional k or M suffix", s)
	}
	return int64(f * float64(mult)), nil
}
