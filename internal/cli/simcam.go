package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"civicam/internal/app"
	"civicam/internal/config"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/simcam"
)

func simcamCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "simcam")
	listen := fs.String("listen", "127.0.0.1:8554", "RTSP listen address")
	count := fs.Int("count", 4, "number of cameras, served at /cam/1 … /cam/N")
	codec := fs.String("codec", "h264", "h264 or h265")
	bitrate := fs.String("bitrate", "", "target bitrate, e.g. 4M or 500k (default: the clip's own, about 0.5M)")
	gb := fs.String("gb28181", "", "register GB/T 28181 devices with the platform at this SIP URI, e.g. sip:43020000002000000001@127.0.0.1:5060")
	transport := fs.String("transport", "udp", "GB/T 28181 SIP transport: udp or tcp")
	nvr := fs.Bool("nvr", false, "GB/T 28181: one NVR with --count channels instead of --count cameras")
	password := fs.String("password", "", "GB/T 28181 digest password (default: $CIVICAM_GB28181_PASSWORD)")
	keepalive := fs.Duration("keepalive", 60*time.Second, "GB/T 28181 keepalive interval")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *count < 1 {
		return usageError{"--count must be at least 1"}
	}
	if *gb != "" {
		t, err := gbdevice.ParseTarget(*gb)
		if err != nil {
			return usageError{"--gb28181: " + err.Error()}
		}
		if *transport != "udp" && *transport != "tcp" {
			return usageError{"--transport must be udp or tcp"}
		}
		if *password == "" {
			*password = e.getenv("CIVICAM_GB28181_PASSWORD")
		}
		fleet := gbdevice.Fleet{Target: t, Count: *count, NVR: *nvr, Transport: *transport, Password: *password, Keepalive: *keepalive}
		what := fmt.Sprintf("%d GB/T 28181 cameras", *count)
		if *nvr {
			what = fmt.Sprintf("one GB/T 28181 NVR with %d channels", *count)
		}
		fmt.Fprintf(e.stdout, "registering %s with %s over %s\n", what, t.Server, *transport)
		return fleet.Run(ctx, app.NewLogger(config.Default(), e.stderr))
	}
	c := simcam.Codec(*codec)
	if c != simcam.H264 && c != simcam.H265 {
		return usageError{"--codec must be h264 or h265"}
	}
	bps, err := parseBitrate(*bitrate)
	if err != nil {
		return usageError{err.Error()}
	}
	cfg := config.Default()
	srv := simcam.New(simcam.Config{Listen: *listen, Count: *count, Codec: c, Bitrate: bps}, app.NewLogger(cfg, e.stderr))
	go func() {
		select {
		case <-srv.Ready():
			fmt.Fprintf(e.stdout, "serving %d simulated %s cameras: %s … %s\n", *count, c, srv.URL(1), srv.URL(*count))
		case <-ctx.Done():
		}
	}()
	return srv.Run(ctx)
}

// parseBitrate reads "4M", "500k" or a plain number of bits per second.
func parseBitrate(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1_000, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("--bitrate %q: want a positive number like 4M or 500k", s)
	}
	return int64(f * float64(mult)), nil
}
