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

// listen binds the first free port of the range.
func (s *Source) listen() (net.PacketConn, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := s.cfg.PortLo; p <= s.cfg.PortHi; p++ {
		if s.used[p] {
			continue
		}
		pc, err := net.ListenPacket("udp", net.JoinHostPort(s.cfg.IP, strconv.Itoa(p)))
		if err != nil {
			continue // taken by another program
		}
		s.used[p] = true
		return pc, p, nil
	}
	return nil, 0, errNoPort
}

func (s *Source) release(port int) {
	s.mu.Lock()
	delete(s.used, port)
	s.mu.Unlock()
}

// Stream plays the channel of sourceURL and emits its video access units until ctx ends or no
// media arrives for ReadTimeout; it BYEs the play before it returns.
func (s *Source) Stream(ctx context.Context, sourceURL string, emit func(*mpegps.AccessUnit)) error {
	device, channel, err := ParseSourceURL(sourceURL)
	if err != nil {
		return err
	}
	pc, port, err := s.listen()
	if err != nil {
		return err
	}
	defer s.release(port)
	defer pc.Close()
	p, err := s.player.Play(ctx, device, channel, MediaTarget{IP: s.cfg.IP, Port: port})
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
	// Closing the socket is how ctx ends the read loop.
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	dem := mpegps.New(mpegps.Config{VideoOnly: true}, func(au *mpegps.AccessUnit) error {
		emit(au)
		return nil
	})
	dep := mpegps.NewDepacketizer(dem)
	buf := make([]byte, 65536)
	for {
		pc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("gb28181: media of %s/%s: %w", device, channel, err)
		}
		if err := dep.PushRaw(buf[:n]); err != nil {
			continue // not RTP: a stray datagram
		}
	}
}
