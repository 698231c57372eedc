package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"civicam/internal/app"
	"civicam/internal/config"
	"civicam/internal/simcam"
)

func simcamCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "simcam")
	listen := fs.String("listen", "127.0.0.1:8554", "RTSP listen address")
	count := fs.Int("count", 4, "number of cameras, served at /cam/1 … /cam/N")
	codec := fs.String("codec", "h264", "h264 or h265")
	bitrate := fs.String("bitrate", "", "target bitrate, e.g. 4M or 500k (default: the clip's own, about 0.5M)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *count < 1 {
		return usageError{"--count must be at least 1"}
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
