// Package recbench measures what recording costs (issue 4's performance figures): CPU-seconds per
// stream-minute, resident memory per stream, and whether every byte the cameras sent reached the
// disk, for civicam's recorder, for MediaMTX recording the same simulated cameras when a binary is
// given, and for a receive-and-drop RTSP client as the floor under both.
//
// Every party runs in a child process of its own — the simulated cameras, each system under test —
// and is measured from outside through /proc (utime+stime, VmRSS, VmHWM, wchar), so that neither
// the cameras' work nor the harness's shows in a system's figures. Systems run one after the other
// against the same cameras, never at once, so they do not compete for the CPU.
package recbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// System is what is measured.
type System string

const (
	// SystemIngest is RTSP clients that receive and drop every packet.
	SystemIngest System = "ingest"
	// SystemCivicam is civicam's recorder: fMP4 parts of 1 s, each fsynced, indexed in SQLite.
	SystemCivicam System = "civicam"
	// SystemMediaMTX is bluenviron/mediamtx recording fMP4 with 1 s parts (it does not fsync).
	SystemMediaMTX System = "mediamtx"
	// SystemCivicamGB is civicam's GB/T 28181 platform and recorder recording as many simulated
	// GB devices (gbdevice, PS over RTP at the same bitrate) as there are RTSP cameras, written
	// as SystemCivicam writes them (issue 14).
	SystemCivicamGB System = "civicam-gb"
)

// Config says what to measure.
type Config struct {
	Streams  []int         // stream counts, each measured in turn (e.g. 50, 100, 200)
	Duration time.Duration // measuring window per system and stream count, over all rounds
	// Rounds splits Duration into that many windows per system, the systems taking turns
	// (A B C, C B A, A B C, …), each started afresh: on a machine whose other load drifts, every
	// system then sees about the same share of it. Default 1.
	Rounds int
	// Warmup runs after every stream flows and before the window opens: connections, first
	// keyframes, the first segment files and the runtime's heap growth are not steady state.
	Warmup time.Duration // default 5 s
	// StartTimeout bounds the wait for every stream to flow; default 30 s plus 0.1 s a stream.
	StartTimeout time.Duration
	Bitrate      int64  // per simulated camera, bits per second; default 4 Mbit/s
	MediaMTX     string // path of a mediamtx binary; empty leaves MediaMTX out
	// GB adds SystemCivicamGB; GBTransport is its devices' SIP and media transport, udp (the
	// default, as most devices send) or tcp.
	GB          bool
	GBTransport string
	// TempDir holds the recordings of one run at a time (each is removed after it is measured,
	// for 200 streams at 4 Mbit/s write 6 GB a minute); default os.TempDir().
	TempDir string
	// HeapProfile, when set, has civicam's worker write a Go heap profile every 10 s while it
	// records, to HeapProfile-<streams>.pprof (go tool pprof): what each stream holds. Default
	// the environment's CIVICAM_BENCH_HEAP_PROFILE, a diagnostic with no flag of its own.
	HeapProfile string
}

func (c Config) withDefaults() Config {
	if c.Warmup == 0 {
		c.Warmup = 5 * time.Second
	}
	if c.Bitrate == 0 {
		c.Bitrate = 4_000_000
	}
	if c.Rounds < 1 {
		c.Rounds = 1
	}
	if c.GBTransport == "" {
		c.GBTransport = "udp"
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.HeapProfile == "" {
		c.HeapProfile = os.Getenv("CIVICAM_BENCH_HEAP_PROFILE")
	}
	return c
}

// Deps are the harness's collaborators.
type Deps struct {
	// Command returns a command that runs Worker with args in a child process: civicam's own
	// binary with `bench record-worker`, or a test binary that dispatches to Worker.
	Command func(args ...string) *exec.Cmd
	Logger  *slog.Logger
	Stderr  io.Writer // the children's standard error; default discarded
}

// Result is one system's figures at one stream count.
type Result struct {
	System  System
	Streams int
	Window  time.Duration // wall time measured
	CPU     time.Duration // the system's process's user+system time over Window
	RSS     uint64        // mean resident set over Window, bytes, whole process
	PeakRSS uint64        // the process's peak resident set (VmHWM) at the end of Window, bytes
	// HeapLive is the Go heap live after the last collection at the window's end (civicam and
	// ingest): with the default GOGC the heap may grow to twice this before it is collected, which
	// is most of the distance to RSS.
	HeapLive uint64
	// Sent is what the simulated cameras wrote to their sockets over Window: RTP with its RTSP
	// interleaved framing and RTCP.
	Sent int64
	// Kept is what the system wrote to disk over Window (the size its recordings grew by); for
	// Ingest, the RTP payload it received.
	Kept       int64
	Lost       uint64        // RTP packets missing on arrival over Window
	Lag        time.Duration // civicam: age of the stalest stream's last part at the window's end
	Reconnects int           // civicam: reconnections over Window
	// Err is why the figures are missing or not to be trusted (a stream never flowed, the
	// process died, errors logged); empty when all went well.
	Err string

	rounds int // how many rounds RSS is the mean of
}

// CPUPerStreamMinute is CPU-seconds per stream-minute.
func (r Result) CPUPerStreamMinute() float64 {
	return r.CPU.Seconds() / (float64(r.Streams) * r.Window.Minutes())
}

// RSSPerStream is the mean resident set divided by the streams, in bytes.
func (r Result) RSSPerStream() float64 { return float64(r.RSS) / float64(r.Streams) }

// PeakRSSPerStream is the peak resident set divided by the streams, in bytes.
func (r Result) PeakRSSPerStream() float64 { return float64(r.PeakRSS) / float64(r.Streams) }

// KeptPerSent is Kept/Sent: about 0.98 for SystemIngest (RTP headers and framing are not payload),
// about the same for a recorder that writes every byte it receives.
func (r Result) KeptPerSent() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.Kept) / float64(r.Sent)
}

// Bench runs the measurements.
type Bench struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
}

// New returns a Bench; nothing starts until Run.
func New(cfg Config, deps Deps) *Bench {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Stderr == nil {
		deps.Stderr = io.Discard
	}
	// Several children write at once, each through its own copying goroutine.
	deps.Stderr = &lockedWriter{w: deps.Stderr}
	return &Bench{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger}
}

// Systems lists what Run measures, in order.
func (b *Bench) Systems() []System {
	s := []System{SystemIngest, SystemCivicam}
	if b.cfg.GB {
		s = append(s, SystemCivicamGB)
	}
	if b.cfg.MediaMTX != "" {
		s = append(s, SystemMediaMTX)
	}
	return s
}

// Run measures every system at every stream count, one at a time, and returns their figures.
// A system that fails at one count gets a Result with Err; Run goes on with the next.
func (b *Bench) Run(ctx context.Context) ([]Result, error) {
	if b.deps.Command == nil {
		return nil, errors.New("recbench: no worker command")
	}
	if len(b.cfg.Streams) == 0 || b.cfg.Duration <= 0 {
		return nil, errors.New("recbench: need stream counts and a duration")
	}
	var results []Result
	for _, n := range b.cfg.Streams {
		if n < 1 {
			return results, fmt.Errorf("recbench: stream count %d", n)
		}
		rs, err := b.runCount(ctx, n)
		results = append(results, rs...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// runCount measures every system on one set of n simulated cameras.
func (b *Bench) runCount(ctx context.Context, n int) ([]Result, error) {
	cams, err := b.startWorker("--role", roleSimcam, "--streams", fmt.Sprint(n), "--bitrate", fmt.Sprint(b.cfg.Bitrate))
	if err != nil {
		return nil, fmt.Errorf("recbench: simulated cameras: %w", err)
	}
	defer cams.stop()
	addr, err := cams.waitAddr(ctx, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("recbench: simulated cameras: %w", err)
	}
	b.log.Info("recbench: cameras up", "streams", n, "addr", addr)
	systems := b.Systems()
	sums := make(map[System]*Result, len(systems))
	window := b.cfg.Duration / time.Duration(b.cfg.Rounds)
	for round := range b.cfg.Rounds {
		order := slices.Clone(systems)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, sys := range order {
			r := b.measure(ctx, sys, n, addr, cams, window)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b.log.Info("recbench: measured", "system", sys, "streams", n, "round", round+1,
				"cpu_s_per_stream_min", fmt.Sprintf("%.3f", r.CPUPerStreamMinute()),
				"rss_mib_per_stream", fmt.Sprintf("%.2f", r.RSSPerStream()/(1<<20)), "err", r.Err)
			if sum, ok := sums[sys]; ok {
				sum.add(r)
			} else {
				sums[sys] = &r
			}
		}
	}
	results := make([]Result, 0, len(systems))
	for _, sys := range systems {
		results = append(results, *sums[sys])
	}
	return results, nil
}

// add folds another round's figures into r: times and bytes add up, memory is the mean of the
// rounds' means and the highest peak, and the first error is kept.
func (r *Result) add(o Result) {
	if r.Err == "" {
		r.Err = o.Err
	}
	if o.Window == 0 {
		return
	}
	if r.Window == 0 {
		err := r.Err
		*r = o
		r.Err = err
		r.rounds = 1
		return
	}
	r.RSS = (r.RSS*uint64(r.rounds) + o.RSS) / uint64(r.rounds+1)
	r.rounds++
	r.Window += o.Window
	r.CPU += o.CPU
	r.PeakRSS = max(r.PeakRSS, o.PeakRSS)
	r.HeapLive = max(r.HeapLive, o.HeapLive)
	r.Sent += o.Sent
	r.Kept += o.Kept
	r.Lost += o.Lost
	r.Lag = max(r.Lag, o.Lag)
	r.Reconnects += o.Reconnects
}

// measure runs one system on n streams from addr and measures it over the window.
func (b *Bench) measure(ctx context.Context, sys System, n int, addr string, cams *child, window time.Duration) Result {
	res := Result{System: sys, Streams: n, rounds: 1}
	dir, err := os.MkdirTemp(b.cfg.TempDir, fmt.Sprintf("recbench-%s-%d-", sys, n))
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer os.RemoveAll(dir)

	var c *child
	var kept func() (int64, error)
	switch sys {
	case SystemIngest:
		c, err = b.startWorker("--role", roleIngest, "--streams", fmt.Sprint(n), "--source", addr)
		kept = func() (int64, error) { return c.latest().Bytes, nil }
	case SystemCivicam:
		args := []string{"--role", roleCivicam, "--streams", fmt.Sprint(n), "--source", addr, "--dir", dir}
		if b.cfg.HeapProfile != "" {
			args = append(args, "--heap-profile", fmt.Sprintf("%s-%d.pprof", b.cfg.HeapProfile, n))
		}
		c, err = b.startWorker(args...)
		rec := filepath.Join(dir, "recordings")
		kept = func() (int64, error) { size, _, err := dirBytes(rec); return size, err }
	case SystemCivicamGB:
		args := []string{"--role", roleCivicamGB, "--streams", fmt.Sprint(n), "--dir", dir, "--gb-transport", b.cfg.GBTransport}
		if b.cfg.HeapProfile != "" {
			args = append(args, "--heap-profile", fmt.Sprintf("%s-gb-%d.pprof", b.cfg.HeapProfile, n))
		}
		c, err = b.startWorker(args...)
		rec := filepath.Join(dir, "recordings")
		kept = func() (int64, error) { size, _, err := dirBytes(rec); return size, err }
		if err == nil {
			// The GB devices are the senders of this system: they register with the platform,
			// which has to be up first.
			cams, err = b.startGBDevices(ctx, c, n)
			if cams != nil {
				defer cams.stop()
			}
		}
	case SystemMediaMTX:
		c, err = b.startMediaMTX(dir, n, addr)
		kept = func() (int64, error) { size, _, err := dirBytes(filepath.Join(dir, "recordings")); return size, err }
	}
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}

	if err := b.waitFlowing(ctx, c, sys, n, dir); err != nil {
		res.Err = err.Error()
		return res
	}
	if !sleep(ctx, b.cfg.Warmup) {
		return res
	}

	p0, err0 := readProc(c.pid())
	s0, err1 := readProc(cams.pid())
	k0, err2 := kept()
	r0, t0 := c.latest(), time.Now()
	if err := errors.Join(err0, err1, err2); err != nil {
		res.Err = err.Error()
		return res
	}
	var rssSum uint64
	var samples uint64
	deadline := t0.Add(window)
	for time.Now().Before(deadline) {
		if !sleep(ctx, min(time.Second, time.Until(deadline))) {
			return res
		}
		p, err := readProc(c.pid())
		if err != nil {
			res.Err = fmt.Sprintf("%s died: %v", sys, err)
			return res
		}
		rssSum += p.RSS
		samples++
	}
	p1, err0 := readProc(c.pid())
	s1, err1 := readProc(cams.pid())
	k1, err2 := kept()
	r1, t1 := c.latest(), time.Now()
	if err := errors.Join(err0, err1, err2); err != nil {
		res.Err = err.Error()
		return res
	}
	res.Window = t1.Sub(t0)
	res.CPU = p1.CPU - p0.CPU
	res.RSS = rssSum / max(samples, 1)
	res.PeakRSS = p1.HWM
	res.Sent = s1.WChar - s0.WChar
	res.Kept = k1 - k0
	res.Lost = r1.Lost - r0.Lost
	res.Lag = time.Duration(r1.LagMS) * time.Millisecond
	res.Reconnects = r1.Reconnects - r0.Reconnects
	res.HeapLive = r1.HeapLive
	if r1.Flowing < n && sys != SystemMediaMTX {
		res.Err = fmt.Sprintf("only %d of %d streams flowing at the end", r1.Flowing, n)
	}
	if len(r1.Problems) > 0 {
		res.Err = fmt.Sprintf("%d streams in trouble, e.g. %s", len(r1.Problems), r1.Problems[0])
	}
	if errs := c.errorLines(); len(errs) > 0 {
		res.Err = fmt.Sprintf("%d error lines logged, e.g. %s", len(errs), errs[0])
	}
	return res
}

// startGBDevices starts n simulated GB/T 28181 devices registering with the platform of
// worker c, once c has said where it listens.
func (b *Bench) startGBDevices(ctx context.Context, c *child, n int) (*child, error) {
	sip, err := c.waitAddr(ctx, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("civicam-gb: %w", err)
	}
	devs, err := b.startWorker("--role", roleGBDevices, "--streams", fmt.Sprint(n), "--source", sip,
		"--bitrate", fmt.Sprint(b.cfg.Bitrate), "--gb-transport", b.cfg.GBTransport)
	if err != nil {
		return nil, fmt.Errorf("gb devices: %w", err)
	}
	return devs, nil
}

// waitFlowing waits until all n streams flow: the worker says so, or (MediaMTX, which does not)
// every stream has a recording file.
func (b *Bench) waitFlowing(ctx context.Context, c *child, sys System, n int, dir string) error {
	timeout := b.cfg.StartTimeout
	if timeout == 0 {
		timeout = 30*time.Second + time.Duration(n)*100*time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	flowing := 0
	for time.Now().Before(deadline) {
		if sys == SystemMediaMTX {
			flowing = streamsWithFiles(filepath.Join(dir, "recordings"))
		} else {
			flowing = c.latest().Flowing
		}
		if flowing >= n {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("%s exited before every stream flowed (%d of %d)", sys, flowing, n)
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s: only %d of %d streams flowing after %s", sys, flowing, n, timeout)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// child is a running worker or MediaMTX.
type child struct {
	cmd     *exec.Cmd
	stdin   io.Closer     // closing it stops a worker; nil for MediaMTX
	done    chan struct{} // closed once the process has exited and its output is read
	waitErr error         // valid after done
	mu      sync.Mutex    // guards rep and errs
	rep     report
	errs    []string
	gotAddr chan struct{} // closed with the first report that holds an address
}

func (b *Bench) startWorker(args ...string) (*child, error) {
	cmd := b.deps.Command(args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, gotAddr: make(chan struct{})}
	var once sync.Once
	return c, c.start(b.deps.Stderr, nil, func(rep report) {
		c.mu.Lock()
		if rep.Addr == "" {
			rep.Addr = c.rep.Addr // said once, on the first line
		}
		c.rep = rep
		c.mu.Unlock()
		if rep.Addr != "" {
			once.Do(func() { close(c.gotAddr) })
		}
	})
}

// start runs cmd, feeding its stdout to onReport (JSON reports) or onLine.
func (c *child) start(stderr io.Writer, onLine func([]byte), onReport func(report)) error {
	pr, pw := io.Pipe()
	c.cmd.Stdout = pw
	c.cmd.Stderr = stderr
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.cmd.Path, err)
	}
	c.done = make(chan struct{})
	read := make(chan struct{})
	go func() {
		defer close(read)
		if onReport != nil {
			readReports(pr, onReport)
		} else {
			scanLines(pr, onLine)
		}
		io.Copy(io.Discard, pr) // a reader that gave up must not block the child
	}()
	go func() {
		c.waitErr = c.cmd.Wait()
		pw.Close()
		<-read
		close(c.done)
	}()
	return nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) latest() report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rep
}

func (c *child) errorLines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitAddr waits for the simulated cameras' address.
func (c *child) waitAddr(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.gotAddr:
		return c.latest().Addr, nil
	case <-c.done:
		return "", fmt.Errorf("exited before serving: %v", c.waitErr)
	case <-t.C:
		return "", fmt.Errorf("not serving after %s", timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// stop asks the child to finish (stdin closed for a worker, SIGINT for MediaMTX), so that
// recorders seal what they hold, and kills it if it has not exited within a minute.
func (c *child) stop() {
	if c.stdin != nil {
		c.stdin.Close()
	} else {
		c.cmd.Process.Signal(syscall.SIGINT)
	}
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.cmd.Process.Kill()
		<-c.done
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
