package recbench

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// Ingest pulls RTSP streams over TCP and drops every packet: the cost of receiving alone, the
// floor under any recorder's figures. It is the baseline of both this harness and the recorder
// package's in-process benchmark.
type Ingest struct {
	urls     []string
	ready    chan struct{}
	received atomic.Int64
	packets  atomic.Int64
	lost     atomic.Uint64
	playing  atomic.Int64
}

// NewIngest returns an Ingest of urls; nothing connects until Run.
func NewIngest(urls []string) *Ingest {
	return &Ingest{urls: urls, ready: make(chan struct{})}
}

// Ready is closed once every stream plays.
func (in *Ingest) Ready() <-chan struct{} { return in.ready }

// Received is the RTP payload bytes received so far.
func (in *Ingest) Received() int64 { return in.received.Load() }

// Packets is the RTP packets received so far.
func (in *Ingest) Packets() int64 { return in.packets.Load() }

// Lost is the RTP packets the clients saw missing (gaps in sequence numbers).
func (in *Ingest) Lost() uint64 { return in.lost.Load() }

// Playing is the number of streams connected and playing.
func (in *Ingest) Playing() int { return int(in.playing.Load()) }

// Run connects to every stream, receives until ctx is done or a stream fails, and closes them
// all before returning.
func (in *Ingest) Run(ctx context.Context) error {
	tcp := gortsplib.ProtocolTCP
	var clients []*gortsplib.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	failed := make(chan error, len(in.urls))
	for _, raw := range in.urls {
		if ctx.Err() != nil {
			return nil
		}
		u, err := base.ParseURL(raw)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", raw, err)
		}
		c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}
		c.OnPacketsLost = func(n uint64) { in.lost.Add(n) }
		if err := c.Start(); err != nil {
			return fmt.Errorf("ingest %s: connect: %w", raw, err)
		}
		clients = append(clients, c)
		desc, _, err := c.Describe(u)
		if err != nil {
			return fmt.Errorf("ingest %s: describe: %w", raw, err)
		}
		if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
			return fmt.Errorf("ingest %s: setup: %w", raw, err)
		}
		c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, p *rtp.Packet) {
			in.received.Add(int64(len(p.Payload)))
			in.packets.Add(1)
		})
		if _, err := c.Play(nil); err != nil {
			return fmt.Errorf("ingest %s: play: %w", raw, err)
		}
		in.playing.Add(1)
		go func() {
			// Wait returns once the client is closed, at the latest by the deferred Close.
			if err := c.Wait(); err != nil && ctx.Err() == nil {
				failed <- fmt.Errorf("ingest %s: %w", raw, err)
			}
		}()
	}
	close(in.ready)
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return err
	}
}
