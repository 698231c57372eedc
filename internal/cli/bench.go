package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"civicam/internal/app"
	"civicam/internal/config"
	"civicam/internal/recbench"
)

const benchRecordHelp = `civicam bench record measures what recording costs (issue 4): CPU-seconds per stream-minute,
resident memory per stream, and bytes sent by the cameras against bytes kept on disk, for
  ingest    RTSP clients that receive and drop every packet (the floor),
  civicam   civicam's recorder (fMP4, 1 s parts each fsynced, SQLite index),
  mediamtx  MediaMTX recording the same cameras as fMP4 with 1 s parts (with --mediamtx),
  civicam-gb  civicam's GB/T 28181 platform and recorder recording as many simulated GB devices
            (PS over RTP at the same bitrate) beside the RTSP cameras (with --gb; issue 14's goal:
            at most 1.2× the RTSP cameras' CPU).
Simulated 4 Mbit/s H.264 cameras and every system run in child processes measured through /proc;
systems run one after the other, each for --duration after a warm-up (in --rounds turns). Recordings go to a temporary
directory, removed after each run (200 streams write about 6 GB a minute).

MediaMTX is not part of civicam; build it from its public source outside this repository:
  git clone https://github.com/bluenviron/mediamtx /tmp/mediamtx && cd /tmp/mediamtx
  echo v0.0.0-bench > internal/core/VERSION                # normally written by go generate
  echo '// placeholder' > internal/servers/hls/hls.min.js  # go generate would download hls.js
  go build -o mediamtx .
then: civicam bench record --streams 50,100,200 --duration 60s --mediamtx /tmp/mediamtx/mediamtx

Flags:
`

// benchCmd dispatches `civicam bench SUBCOMMAND`.
func benchCmd(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "record":
			return benchRecord(ctx, e, args[1:])
		case "gb-register":
			return benchGBRegister(ctx, e, args[1:])
		case "record-worker":
			// A child of `bench record`: simulated cameras or a system under test.
			return recbench.Worker(ctx, args[1:], e.stdin, e.stdout)
		}
	}
	return usageError{"usage: civicam bench record [flags]   (civicam bench record -h for its flags)\n" +
		"       civicam bench gb-register [flags]   (civicam bench gb-register -h)"}
}

const benchGBRegisterHelp = `civicam bench gb-register measures what GB/T 28181 devices registering and keeping alive cost
a real civicam server (issue 14): every device of a simulated fleet sends its REGISTER at once,
answers the digest challenge and its catalog query, then keeps alive for --intervals keepalive
intervals and unregisters. For each device count, transport and addressing it runs a fresh
` + "`civicam serve`" + ` (SQLite, signed trail, a password for every device) and reports, from outside
through /proc and the server's API and /metrics:
  register / online / catalog  seconds from the first REGISTER until the last device's 200 OK,
                     until GET /api/v1/gb28181/devices lists every device online, and with its channel
  CPU-s register, ms/dev  the server's CPU time until then, and per device
  keepalive          the server's CPU-milliseconds per device-minute of keepalive, over the same
                     server idle (measured for --idle first)
  idle, peak MiB, KiB/dev  resident memory idle, its peak (VmHWM), and the peak over idle per device
  goroutines         idle / all catalogued / end of keepalive / after the devices left
Devices on --addresses own send from a loopback address each (127.1.x.y), as cameras on hosts of
their own; shared puts them all on one address, as behind one NAT. Any refusal, device lost, device
left online or goroutine left behind is reported and makes the command fail.

Flags:
`

func benchGBRegister(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "bench gb-register")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchGBRegisterHelp)
		fs.PrintDefaults()
	}
	devices := fs.String("devices", "50,500", "device counts to measure, comma-separated")
	transports := fs.String("transport", "udp", "SIP transports, comma-separated: udp, tcp")
	addresses := fs.String("addresses", "own", "device addressing, comma-separated: own (one each), shared (one for all)")
	keepalive := fs.Duration("keepalive", 60*time.Second, "the devices' keepalive interval")
	intervals := fs.Int("intervals", 2, "keepalive intervals measured once every device is online")
	idle := fs.Duration("idle", 10*time.Second, "the idle server's measuring window, before any device")
	tmp := fs.String("tmp", "", "directory for the servers' data (default the system's temporary directory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*devices, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 60_000 {
			return usageError{fmt.Sprintf("--devices %q: want counts from 1 to 60000 like 50,500", *devices)}
		}
		counts = append(counts, n)
	}
	list := func(flag, v string, allowed ...string) ([]string, error) {
		var out []string
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(allowed, s) {
				return nil, usageError{fmt.Sprintf("--%s %q: want %s", flag, v, strings.Join(allowed, " or "))}
			}
			out = append(out, s)
		}
		return out, nil
	}
	trs, err := list("transport", *transports, "udp", "tcp")
	if err != nil {
		return err
	}
	addrs, err := list("addresses", *addresses, recbench.AddressesOwn, recbench.AddressesShared)
	if err != nil {
		return err
	}
	if *keepalive <= 0 || *intervals < 1 || *idle <= 0 {
		return usageError{"--keepalive and --idle must be positive, --intervals at least 1"}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary for the workers: %w", err)
	}
	b := recbench.NewRegister(recbench.RegisterConfig{Devices: counts, Transports: trs, Addresses: addrs,
		Keepalive: *keepalive, Intervals: *intervals, Idle: *idle, TempDir: *tmp}, recbench.RegisterDeps{
		Worker: func(args ...string) *exec.Cmd {
			return exec.Command(self, append([]string{"bench", "record-worker"}, args...)...)
		},
		Civicam: func(args ...string) *exec.Cmd { return exec.Command(self, args...) },
		Logger:  app.NewLogger(config.Default(), e.stderr),
		Stderr:  e.stderr,
	})
	results, err := b.Run(ctx)
	if werr := recbench.WriteRegisterTable(e.stdout, results); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != "" {
			return fmt.Errorf("bench gb-register: %d devices over %s (%s addresses): %s", r.Devices, r.Transport, r.Addresses, r.Err)
		}
	}
	return nil
}

func benchRecord(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "bench record")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchRecordHelp)
		fs.PrintDefaults()
	}
	streams := fs.String("streams", "50,100,200", "stream counts to measure, comma-separated")
	duration := fs.Duration("duration", 60*time.Second, "measuring window per system and stream count")
	rounds := fs.Int("rounds", 1, "split --duration into this many windows per system, the systems taking turns (fairer on a machine whose other load drifts)")
	warmup := fs.Duration("warmup", 5*time.Second, "wait after every stream flows, before measuring")
	bitrate := fs.String("bitrate", "4M", "bitrate of each simulated camera")
	mediamtx := fs.String("mediamtx", "", "path of a mediamtx binary to compare with (see above)")
	gb := fs.Bool("gb", false, "also record as many simulated GB/T 28181 devices (civicam-gb)")
	gbTransport := fs.String("gb-transport", "udp", "the GB/T 28181 devices' SIP and media transport: udp or tcp")
	tmp := fs.String("tmp", "", "directory for the recordings while measuring (default the system's temporary directory)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return usageError{fmt.Sprintf("--streams %q: want positive counts like 50,100,200", *streams)}
		}
		counts = append(counts, n)
	}
	if *duration <= 0 {
		return usageError{"--duration must be positive"}
	}
	if *rounds < 1 {
		return usageError{"--rounds must be at least 1"}
	}
	if *gbTransport != "udp" && *gbTransport != "tcp" {
		return usageError{"--gb-transport must be udp or tcp"}
	}
	bps, err := parseBitrate(*bitrate)
	if err != nil {
		return usageError{err.Error()}
	}
	if *mediamtx != "" {
		if _, err := os.Stat(*mediamtx); err != nil {
			return usageError{fmt.Sprintf("--mediamtx: %v", err)}
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary for the workers: %w", err)
	}
	b := recbench.New(recbench.Config{
		Streams:     counts,
		Duration:    *duration,
		Rounds:      *rounds,
		Warmup:      *warmup,
		Bitrate:     bps,
		MediaMTX:    *mediamtx,
		GB:          *gb,
		GBTransport: *gbTransport,
		TempDir:     *tmp,
	}, recbench.Deps{
		Command: func(args ...string) *exec.Cmd {
			return exec.Command(self, append([]string{"bench", "record-worker"}, args...)...)
		},
		Logger: app.NewLogger(config.Default(), e.stderr),
		Stderr: e.stderr,
	})
	results, err := b.Run(ctx)
	if werr := recbench.WriteTable(e.stdout, results); err == nil {
		err = werr
	}
	return err
}
