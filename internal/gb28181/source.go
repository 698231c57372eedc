package gb28181

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"civicam/internal/mpegps"
)

// SourceConfig configures a Source.
type SourceConfig struct {
	// IP is the address devices send RTP to; the Source binds it.
	IP string
	// PortLo and PortHi bound the UDP ports received on, one per play (some devices send SSRC 0,
	// so streams are told apart by port).
	PortLo, PortHi int
	// ReadTimeout ends a play that sends nothing for this long (default 10s).
	ReadTimeout time.Duration
	// Transport is how media is asked for: MediaUDP, MediaTCP (RFC 4571, the device
	// connecting), MediaTCPActive (the platform connecting), or "" to follow the device: RTP
	// over TCP to a device that registered over TCP (which often means a NAT or firewall lets
	// nothing else through), UDP otherwise.
	Transport string
}

// Media transports of SourceConfig.Transport (config key gb28181.media_transport).
const (
	MediaUDP       = "udp"
	MediaTCP       = "tcp"
	MediaTCPActive = "tcp-active"
)

// ValidMediaTransport reports whether t is a SourceConfig.Transport.
func ValidMediaTransport(t string) bool {
	switch t {
	case "", MediaUDP, MediaTCP, MediaTCPActive:
		return true
	}
	return false
}

// Source receives GB/T 28181 channels' live media for the recorder: for gb28181://device/channel
// it binds a port of the range, INVITEs the channel to it, and demuxes the PS over RTP into
// video access units. It implements recorder.MediaSource.
type Source struct {
	cfg    SourceConfig
	player Player
	log    *slog.Logger

	mu   sync.Mutex
	used map[int]bool
}

// NewSource returns a Source playing channels through player.
func NewSource(cfg SourceConfig, player Player, log *slog.Logger) *Source {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, player: player, log: log, used: map[int]bool{}}
}

// ParseSourceURL reads gb28181://device/channel.
func ParseSourceURL(u string) (device, channel string, err error) {
	rest, ok := strings.CutPrefix(u, "gb28181://")
	device, channel, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || len(device) != 20 || len(channel) != 20 {
		return "", "", fmt.Errorf("%q is not a source like gb28181://<20-digit device>/<20-digit channel>", u)
	}
	return device, channel, nil
}

// errNoPort is an exhausted media port range.
var errNoPort = errors.New("gb28181: no free media port")

// receiver is where one play's media arrives: a UDP socket, a TCP listener the device connects
// to, or nothing yet (the platform connects, after the answer).
type receiver struct {
	port int
	pc   net.PacketConn
	ln   net.Listener
}

func (r *receiver) Close() {
	if r.pc != nil {
		r.pc.Close()
	}
	if r.ln != nil {
		r.ln.Close()
	}
}

// listen binds the first free port of the range for mode; for MediaTCPActive it only reserves
// the number the offer names.
func (s *Source) listen(mode string) (*receiver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := s.cfg.PortLo; p <= s.cfg.PortHi; p++ {
		if s.used[p] {
			continue
		}
		addr := net.JoinHostPort(s.cfg.IP, strconv.Itoa(p))
		r := &receiver{port: p}
		var err error
		switch mode {
		case MediaTCP:
			r.ln, err = net.Listen("tcp", addr)
		case MediaUDP:
			r.pc, err = net.ListenPacket("udp", addr)
		}
		if err != nil {
			continue // taken by another program
		}
		s.used[p] = true
		return r, nil
	}
	return nil, errNoPort
}

func (s *Source) release(port int) {
	s.mu.Lock()
	delete(s.used, port)
	s.mu.Unlock()
}

// mode is the media transport for a device.
func (s *Source) mode(device string) string {
	if s.cfg.Transport != "" {
		return s.cfg.Transport
	}
	if s.player.Transport(device) == "tcp" {
		return MediaTCP
	}
	return MediaUDP
}

// Stream plays the channel of sourceURL and emits its video access units until ctx ends or no
// media arrives for ReadTimeout; it BYEs the play before it returns. lost (which may be nil)
// hears of the RTP packets missing by sequence number, as they are found.
func (s *Source) Stream(ctx context.Context, sourceURL string, emit func(*mpegps.AccessUnit), lost func(n uint64)) error {
	device, channel, err := ParseSourceURL(sourceURL)
	if err != nil {
		return err
	}
	mode := s.mode(device)
	rcv, err := s.listen(mode)
	if err != nil {
		return err
	}
	defer s.release(rcv.port)
	defer rcv.Close()
	p, err := s.player.Play(ctx, device, channel, MediaTarget{IP: s.cfg.IP, Port: rcv.port,
		TCP: mode != MediaUDP, Active: mode == MediaTCPActive})
	if err != nil {
		return err
	}
	defer func() {
		bye, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.player.Stop(bye, p); err != nil {
			s.log.Warn("gb28181: bye", "device", device, "channel", channel, "err", err)
		}
	}()
	dem := mpegps.New(mpegps.Config{VideoOnly: true}, func(au *mpegps.AccessUnit) error {
		emit(au)
		return nil
	})
	dep := &counting{dep: mpegps.NewDepacketizer(dem), lost: lost}
	if mode == MediaUDP {
		err = s.readUDP(ctx, rcv.pc, dep)
	} else {
		err = s.readTCP(ctx, rcv.ln, p, dep)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("gb28181: media of %s/%s over %s: %w", device, channel, mode, err)
}

// readUDP pushes the datagrams of pc into dep until ctx ends (which closes pc) or nothing
// arrives for ReadTimeout.
func (s *Source) readUDP(ctx context.Context, pc net.PacketConn, dep *counting) error {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	buf := make([]byte, 65536)
	for {
		pc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if err := dep.PushRaw(buf[:n]); err != nil {
			continue // not RTP: a stray datagram
		}
	}
}

// readTCP takes the play's RTP over TCP, RFC 4571 framed: from the device's connection to ln,
// or (ln nil, the platform active) from a connection to the port its answer names.
func (s *Source) readTCP(ctx context.Context, ln net.Listener, p *Play, dep *counting) error {
	var conn net.Conn
	var err error
	if ln != nil {
		// One connection is taken, the first: the offer named this port to this device only.
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		if tl, ok := ln.(*net.TCPListener); ok {
			tl.SetDeadline(time.Now().Add(s.cfg.ReadTimeout))
		}
		conn, err = ln.Accept()
		stop()
		ln.Close()
	} else {
		host := p.Answer.IP
		if host == "" || host == "0.0.0.0" {
			host, _ = splitHostPort(p.Remote())
		}
		d := net.Dialer{Timeout: s.cfg.ReadTimeout}
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(p.Answer.Port)))
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fr := mpegps.NewFrameReader(deadlineReader{conn, s.cfg.ReadTimeout})
	for {
		b, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		if err := dep.PushRaw(b); err != nil {
			continue // not RTP: skipped, as a stray datagram is
		}
	}
}

// deadlineReader moves conn's read deadline before every read, so a stream that stalls ends.
type deadlineReader struct {
	conn    net.Conn
	timeout time.Duration
}

func (r deadlineReader) Read(b []byte) (int, error) {
	r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	return r.conn.Read(b)
}

// counting is a depacketizer that reports each packet loss it finds.
type counting struct {
	dep      *mpegps.Depacketizer
	lost     func(uint64)
	reported int
}

func (c *counting) PushRaw(b []byte) error {
	err := c.dep.PushRaw(b)
	if n := c.dep.Stats().Lost; n > c.reported && c.lost != nil {
		c.lost(uint64(n - c.reported))
		c.reported = n
	}
	return err
}
