package gb28181_test

import (
	"context"
	"fmt"
	"testing"

	"civicam/internal/gb28181"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/mpegps"
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
			})
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
