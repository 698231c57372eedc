package gb28181_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"civicam/internal/gb28181"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/mpegps"
	"civicam/internal/simcam"
)

// A Source plays a channel over each media transport — UDP, RTP over TCP with the device
// connecting (the default for a device registered over TCP) or the platform connecting — and
// emits its access units until its context ends, then BYEs.
func TestSourceStreamsAccessUnitsAndByesOnEnd(t *testing.T) {
	tests := []struct {
		sip, media string
	}{
		{"udp", ""},
		{"tcp", ""},
		{"udp", gb28181.MediaUDP},
		{"udp", gb28181.MediaTCP},
		{"udp", gb28181.MediaTCPActive},
		{"tcp", gb28181.MediaTCPActive},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("sip %s, media %q", tt.sip, tt.media), func(t *testing.T) {
			e := start(t, "")
			id := deviceID(9)
			chans := nvr(9, 1)
			d := e.device(t, gbdevice.Config{ID: id, Transport: tt.sip, Channels: chans})
			if _, err := d.Register(context.Background(), 3600); err != nil {
				t.Fatal(err)
			}
			lo := 31200 + 10*i
			src := gb28181.NewSource(gb28181.SourceConfig{IP: "127.0.0.1", PortLo: lo, PortHi: lo + 9, Transport: tt.media}, e.srv, nil)
			ctx, cancel := context.WithCancel(context.Background())
			var n, keys int
			err := src.Stream(ctx, "gb28181://"+id+"/"+chans[0].ID, func(au *mpegps.AccessUnit) {
				n++
				if au.Keyframe {
					keys++
				}
				if n == 30 {
					cancel()
				}
			}, nil)
			if err != context.Canceled {
				t.Errorf("Stream = %v; want context.Canceled", err)
			}
			if n < 30 || keys < 1 {
				t.Errorf("Stream emitted %d access units, %d keyframes; want 30, at least 1", n, keys)
			}
			if p := d.Playing(); p != 0 {
				t.Errorf("device plays %d sessions after Stream returned; want 0 (BYE)", p)
			}
		})
	}
}

// gapPlayer is a Player whose "device" sends the clip over RTP/UDP to the target with the
// packets in drop left out.
type gapPlayer struct {
	t    *testing.T
	drop map[int]bool
	done chan struct{}
}

func (g *gapPlayer) Transport(string) string { return "udp" }
func (g *gapPlayer) Stop(context.Context, *gb28181.Play) error {
	<-g.done
	return nil
}

func (g *gapPlayer) Play(_ context.Context, _, _ string, to gb28181.MediaTarget) (*gb28181.Play, error) {
	clip, err := simcam.LoadClip(simcam.H264)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("udp", net.JoinHostPort(to.IP, strconv.Itoa(to.Port)))
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(g.done)
		defer conn.Close()
		mux := mpegps.NewMuxer(mpegps.MuxerConfig{Video: mpegps.CodecH264})
		pk := mpegps.NewPacketizer(1234, 0, 0)
		seq := 0
		for i := range len(clip.AccessUnits) {
			ts := int64(i)*clip.FrameTicks + 90000
			ps, err := mux.AppendVideo(nil, &mpegps.AccessUnit{NALUs: clip.AccessUnits[i], PTS: ts, DTS: ts, Keyframe: clip.Keyframe[i]})
			if err != nil {
				g.t.Error(err)
				return
			}
			for _, pkt := range pk.Packetize(ps, uint32(ts)) {
				seq++
				if g.drop[seq] {
					continue
				}
				b, _ := pkt.Marshal()
				conn.Write(b)
				time.Sleep(100 * time.Microsecond) // loopback drops a burst's datagrams
			}
		}
	}()
	return &gb28181.Play{}, nil
}

// Packets missing by RTP sequence number reach Stream's lost callback, counted once each, so
// a GB camera's status shows them as an RTSP camera's does.
func TestSourceReportsPacketsLost(t *testing.T) {
	g := &gapPlayer{t: t, drop: map[int]bool{20: true, 21: true, 60: true}, done: make(chan struct{})}
	src := gb28181.NewSource(gb28181.SourceConfig{IP: "127.0.0.1", PortLo: 31300, PortHi: 31309, ReadTimeout: 500 * time.Millisecond}, g, nil)
	var lost uint64
	var aus int
	err := src.Stream(context.Background(), "gb28181://43020000001180000001/43020000001310000001",
		func(*mpegps.AccessUnit) { aus++ }, func(n uint64) { lost += n })
	if err == nil {
		t.Fatal("Stream = nil; want the read timeout once the sender stopped")
	}
	if lost != 3 || aus == 0 {
		t.Errorf("Stream reported %d packets lost, emitted %d access units; want 3 lost, some units", lost, aus)
	}
}
