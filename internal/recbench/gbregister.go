package recbench

// The GB/T 28181 registration benchmark (issue 14): N simulated devices register at once, with
// digest, with a real `civicam serve` and keep alive; what it costs the server (CPU, memory,
// goroutines, read from outside through /proc and its /metrics) and how long until the API lists
// every device online. The devices run in a worker process of their own, so their work does not
// show in the server's figures; an idle window of the same server first is the floor their
// keepalives are measured over.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"civicam/internal/gb28181/gbdevice"
)

// roleGBRegister is simulated GB/T 28181 devices that register at once and keep alive,
// reporting what they were answered.
const roleGBRegister = "gbregister"

// Addressing of the simulated devices: each on a loopback address of its own, as cameras on
// hosts of their own are, or all on one, as devices behind one NAT are.
const (
	AddressesOwn    = "own"
	AddressesShared = "shared"
)

// RegisterConfig says what the registration benchmark measures: every combination of Devices,
// Transports and Addresses, one after the other, each against a fresh server.
type RegisterConfig struct {
	Devices    []int
	Transports []string // udp, tcp; default udp
	Addresses  []string // AddressesOwn, AddressesShared; default own
	// Keepalive is the devices' heartbeat (default 60 s, the standard's); Intervals how many of
	// them are measured once every device is online (default 2).
	Keepalive time.Duration
	Intervals int
	// Idle is how long the server is measured before any device registers: the floor under the
	// keepalives' CPU. Default 10 s.
	Idle time.Duration
	// Timeout bounds the wait for every device to be online and catalogued; default 60 s plus
	// 0.1 s a device.
	Timeout time.Duration
	// TempDir holds each run's data directory, removed after it; default os.TempDir().
	TempDir string
}

func (c RegisterConfig) withDefaults() RegisterConfig {
	if len(c.Transports) == 0 {
		c.Transports = []string{"udp"}
	}
	if len(c.Addresses) == 0 {
		c.Addresses = []string{AddressesOwn}
	}
	if c.Keepalive <= 0 {
		c.Keepalive = 60 * time.Second
	}
	if c.Intervals <= 0 {
		c.Intervals = 2
	}
	if c.Idle <= 0 {
		c.Idle = 10 * time.Second
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	return c
}

// RegisterDeps are the registration benchmark's collaborators.
type RegisterDeps struct {
	// Worker runs Worker in a child process (civicam's `bench record-worker`); Civicam runs
	// civicam itself (`user add`, `serve`).
	Worker  func(args ...string) *exec.Cmd
	Civicam func(args ...string) *exec.Cmd
	Logger  *slog.Logger
	Stderr  io.Writer // the server's warnings and errors, and the workers' standard error
}

// RegisterResult is one run's figures.
type RegisterResult struct {
	Devices              int
	Transport, Addresses string
	// From the moment the devices send their first REGISTERs: until the last one's 200 OK (as
	// the devices saw it), until the API listed every device online, and until it listed every
	// device with its channel (its catalog query answered). The API is polled every 250 ms.
	Registered, Online, Catalogued time.Duration
	// CPURegister is the server's CPU time from the start until every device was catalogued.
	CPURegister time.Duration
	// IdleCPU over IdleWindow is the same server with no device.
	IdleCPU    time.Duration
	IdleWindow time.Duration
	// CPUKeepalive is the server's CPU time over Window, every device registered and keeping alive.
	CPUKeepalive time.Duration
	Window       time.Duration
	Keepalives   int // the devices' keepalives answered 200 over Window
	// IdleRSS is the server's resident set before any device, RSS at the end of Window, PeakRSS
	// its VmHWM then.
	IdleRSS, RSS, PeakRSS uint64
	// Goroutines of the server (its /metrics): idle, every device catalogued, at the end of Window,
	// and after the devices unregistered and their transactions ended.
	Goroutines [4]int
	// Refusals counts the devices' REGISTERs and keepalives answered with anything but 200
	// (after the digest challenge), or not at all, by answer; none is right.
	Refusals map[string]int
	// Offline is how many devices the API did not list online at the end of Window; StillOnline
	// how many it listed online after they unregistered. Both 0 is right.
	Offline, StillOnline int
	// Err is why the figures are missing or wrong; empty when all went well.
	Err string
}

// RegisterCPUPerDevice is the server's CPU time a registration (with its catalog) took.
func (r RegisterResult) RegisterCPUPerDevice() time.Duration {
	return r.CPURegister / time.Duration(max(r.Devices, 1))
}

// KeepaliveCPUPerDeviceMinute is the server's CPU-seconds per device-minute of keepalive, over
// what the idle server spent in as long.
func (r RegisterResult) KeepaliveCPUPerDeviceMinute() float64 {
	if r.Window <= 0 || r.IdleWindow <= 0 {
		return 0
	}
	idle := r.IdleCPU.Seconds() * r.Window.Seconds() / r.IdleWindow.Seconds()
	return (r.CPUKeepalive.Seconds() - idle) / (float64(r.Devices) * r.Window.Minutes())
}

// PeakPerDevice is the server's peak resident set over its idle one, per device, in bytes.
func (r RegisterResult) PeakPerDevice() float64 {
	return (float64(r.PeakRSS) - float64(r.IdleRSS)) / float64(max(r.Devices, 1))
}

// RegisterBench runs the registration benchmark.
type RegisterBench struct {
	cfg  RegisterConfig
	deps RegisterDeps
	log  *slog.Logger
	http *http.Client
}

// NewRegister returns a RegisterBench; nothing starts until Run.
func NewRegister(cfg RegisterConfig, deps RegisterDeps) *RegisterBench {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Stderr == nil {
		deps.Stderr = io.Discard
	}
	deps.Stderr = &lockedWriter{w: deps.Stderr}
	return &RegisterBench{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger, http: &http.Client{Timeout: 30 * time.Second}}
}

// The bench's credentials: the devices' global digest password and the admin who reads the API.
const (
	benchGBPassword    = "bench-device-password"
	benchAdmin         = "bench-admin"
	benchAdminPassword = "bench admin password, long enough"
)

// Run measures every combination in turn. A run that fails gets a RegisterResult with Err and
// Run goes on; the error returned is ctx's, or a harness that cannot start at all.
func (b *RegisterBench) Run(ctx context.Context) ([]RegisterResult, error) {
	if b.deps.Worker == nil || b.deps.Civicam == nil {
		return nil, errors.New("recbench: no worker or civicam command")
	}
	if len(b.cfg.Devices) == 0 {
		return nil, errors.New("recbench: need device counts")
	}
	var out []RegisterResult
	for _, n := range b.cfg.Devices {
		for _, tr := range b.cfg.Transports {
			for _, addr := range b.cfg.Addresses {
				r := b.runOne(ctx, n, tr, addr)
				if err := ctx.Err(); err != nil {
					return out, err
				}
				b.log.Info("recbench: gb register measured", "devices", n, "transport", tr, "addresses", addr,
					"online_s", fmt.Sprintf("%.2f", r.Online.Seconds()), "err", r.Err)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// sipAddrRE finds the platform's SIP address in the server's log ("gb28181 platform" sip=…).
var sipAddrRE = regexp.MustCompile(`msg="gb28181 platform".* sip=([0-9.]+:[0-9]+)`)

var urlRE = regexp.MustCompile(`open (https?://[0-9.:]+)/`)

// runOne measures n devices over transport on addresses against a fresh server.
func (b *RegisterBench) runOne(ctx context.Context, n int, transport, addresses string) (res RegisterResult) {
	res = RegisterResult{Devices: n, Transport: transport, Addresses: addresses, Refusals: map[string]int{}}
	fail := func(format string, a ...any) RegisterResult {
		res.Err = fmt.Sprintf(format, a...)
		return res
	}
	dir, err := os.MkdirTemp(b.cfg.TempDir, fmt.Sprintf("gbregister-%d-%s-", n, transport))
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(dir)
	add := b.deps.Civicam("user", "add", "--data", dir, "--username", benchAdmin, "--role", "admin", "--password-stdin")
	add.Stdin = strings.NewReader(benchAdminPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fail("user add: %v: %s", err, out)
	}
	srv, url, sip, logged, err := b.startServer(ctx, dir)
	if srv != nil {
		defer srv.stop()
	}
	if err != nil {
		return fail("civicam serve: %v", err)
	}
	api := &benchAPI{http: b.http, url: url}
	if err := api.login(ctx); err != nil {
		return fail("%v", err)
	}
	if _, err := api.devices(ctx); err != nil {
		return fail("%v", err)
	}

	// The idle server: the floor under the keepalives.
	i0, err := readProc(srv.pid())
	if err != nil {
		return fail("%v", err)
	}
	t := time.Now()
	if !sleep(ctx, b.cfg.Idle) {
		return res
	}
	i1, err := readProc(srv.pid())
	if err != nil {
		return fail("%v", err)
	}
	res.IdleWindow, res.IdleCPU, res.IdleRSS = time.Since(t), i1.CPU-i0.CPU, i1.RSS
	res.Goroutines[0], _ = api.goroutines(ctx)

	// Every device at once, as after a power cut or a restart of the platform.
	devs, err := b.startWorker("--role", roleGBRegister, "--streams", fmt.Sprint(n), "--source", sip,
		"--gb-transport", transport, "--password", benchGBPassword, "--keepalive", b.cfg.Keepalive.String(),
		"--addresses", addresses)
	if err != nil {
		return fail("gb devices: %v", err)
	}
	defer devs.stop()
	started, err := waitReport(ctx, devs, 30*time.Second+time.Duration(n)*20*time.Millisecond, func(r report) bool { return r.StartedNS > 0 })
	if err != nil {
		return fail("gb devices: %v", err)
	}
	t0 := time.Unix(0, started.StartedNS)
	timeout := b.cfg.Timeout
	if timeout == 0 {
		timeout = 60*time.Second + time.Duration(n)*100*time.Millisecond
	}
	deadline := t0.Add(timeout)
	var online, catalogued int
	for {
		ds, err := api.devices(ctx)
		if err != nil {
			return fail("%v", err)
		}
		online, catalogued = 0, 0
		for _, d := range ds {
			if d.Online {
				online++
				if len(d.Channels) > 0 {
					catalogued++
				}
			}
		}
		now := time.Now()
		if online >= n && res.Online == 0 {
			res.Online = now.Sub(t0)
		}
		if catalogued >= n {
			res.Catalogued = now.Sub(t0)
			break
		}
		if now.After(deadline) || devs.exited() {
			r := devs.latest()
			res.Refusals = r.Refusals
			return fail("after %s: %d of %d devices online, %d catalogued (%d registered as the devices saw it; refused: %v)",
				now.Sub(t0).Round(time.Millisecond), online, n, catalogued, r.Registered, r.Refusals)
		}
		if !sleep(ctx, 250*time.Millisecond) {
			return res
		}
	}
	p1, err := readProc(srv.pid())
	if err != nil {
		return fail("%v", err)
	}
	res.CPURegister = p1.CPU - i1.CPU
	r1 := devs.latest()
	res.Goroutines[1], _ = api.goroutines(ctx)

	// Keepalive: nothing but the devices' heartbeats (and the server's own rounds) for Window.
	t1 := time.Now()
	if !sleep(ctx, time.Duration(b.cfg.Intervals)*b.cfg.Keepalive) {
		return res
	}
	p2, err := readProc(srv.pid())
	if err != nil {
		return fail("%v", err)
	}
	res.Window, res.CPUKeepalive, res.RSS, res.PeakRSS = time.Since(t1), p2.CPU-p1.CPU, p2.RSS, p2.HWM
	// The worker reports once a second; the last keepalives of the window show in the next.
	sleep(ctx, 1100*time.Millisecond)
	r2 := devs.latest()
	res.Keepalives = r2.Keepalives - r1.Keepalives
	res.Registered = time.Duration(r2.LastRegNS - r2.StartedNS) // reported within a second of the last
	res.Refusals = r2.Refusals
	res.Goroutines[2], _ = api.goroutines(ctx)
	ds, err := api.devices(ctx)
	if err != nil {
		return fail("%v", err)
	}
	online = 0
	for _, d := range ds {
		if d.Online {
			online++
		}
	}
	res.Offline = n - online

	// The devices leave (unregistering), and what they held on the server must go with them:
	// sipgo keeps a finished UDP transaction for 64×T1 (32 s) to absorb retransmissions.
	devs.stop()
	leave := time.Now()
	for {
		still := 0
		if ds, err := api.devices(ctx); err == nil {
			for _, d := range ds {
				if d.Online {
					still++
				}
			}
		}
		g, _ := api.goroutines(ctx)
		res.StillOnline, res.Goroutines[3] = still, g
		if (still == 0 && g <= res.Goroutines[0]+20) || time.Since(leave) > 45*time.Second {
			break
		}
		if !sleep(ctx, time.Second) {
			return res
		}
	}

	var problems []string
	if res.Offline > 0 {
		problems = append(problems, fmt.Sprintf("%d devices offline after %d keepalive intervals", res.Offline, b.cfg.Intervals))
	}
	if res.StillOnline > 0 {
		problems = append(problems, fmt.Sprintf("%d devices online after they unregistered", res.StillOnline))
	}
	if len(res.Refusals) > 0 {
		problems = append(problems, fmt.Sprintf("refused: %v", res.Refusals))
	}
	if res.Goroutines[3] > res.Goroutines[0]+20 {
		problems = append(problems, fmt.Sprintf("%d goroutines after the devices left; %d before they came", res.Goroutines[3], res.Goroutines[0]))
	}
	if errs := logged(); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("%d error lines logged, e.g. %s", len(errs), errs[0]))
	}
	res.Err = strings.Join(problems, "; ")
	return res
}

// startServer runs `civicam serve` on dir with the GB/T 28181 platform on a port of its own
// choosing and returns the process, its URL, its SIP address and the error lines it has logged.
func (b *RegisterBench) startServer(ctx context.Context, dir string) (c *child, url, sip string, logged func() []string, err error) {
	cmd := b.deps.Civicam("serve", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CIVICAM_GB28181_LISTEN=127.0.0.1:0", "CIVICAM_GB28181_ID="+gbPlatformID,
		"CIVICAM_GB28181_DOMAIN="+gbDomain, "CIVICAM_GB28181_PASSWORD="+benchGBPassword, "CIVICAM_LOG_FORMAT=text")
	c = &child{cmd: cmd, gotAddr: make(chan struct{})}
	var (
		mu   sync.Mutex
		errs []string
	)
	sipc, urlc := make(chan string, 1), make(chan string, 1)
	logw := &lineWriter{line: func(l string) {
		if m := sipAddrRE.FindStringSubmatch(l); m != nil {
			select {
			case sipc <- m[1]:
			default:
			}
		}
		// Info lines (a registration each) would drown the terminal; what went wrong is shown.
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			fmt.Fprintln(b.deps.Stderr, "civicam serve:", l)
		}
		if strings.Contains(l, "level=ERROR") {
			mu.Lock()
			errs = append(errs, l)
			mu.Unlock()
		}
	}}
	if err := c.start(logw, func(l []byte) {
		if m := urlRE.FindSubmatch(l); m != nil {
			select {
			case urlc <- string(m[1]):
			default:
			}
		}
	}, nil); err != nil {
		return nil, "", "", nil, err
	}
	logged = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(errs)
	}
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	for url == "" || sip == "" {
		select {
		case url = <-urlc:
		case sip = <-sipc:
		case <-c.done:
			return c, "", "", logged, fmt.Errorf("exited before serving: %v", c.waitErr)
		case <-timer.C:
			return c, "", "", logged, errors.New("not serving after 60 s")
		case <-ctx.Done():
			return c, "", "", logged, ctx.Err()
		}
	}
	return c, url, sip, logged, nil
}

func (b *RegisterBench) startWorker(args ...string) (*child, error) {
	cmd := b.deps.Worker(args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, gotAddr: make(chan struct{})}
	return c, c.start(b.deps.Stderr, nil, func(rep report) {
		c.mu.Lock()
		c.rep = rep
		c.mu.Unlock()
	})
}

// waitReport waits for a report of c for which ok holds.
func waitReport(ctx context.Context, c *child, timeout time.Duration, ok func(report) bool) (report, error) {
	deadline := time.Now().Add(timeout)
	for {
		if r := c.latest(); ok(r) {
			return r, nil
		}
		if c.exited() {
			return report{}, fmt.Errorf("exited: %v", c.waitErr)
		}
		if time.Now().After(deadline) {
			return report{}, fmt.Errorf("not started after %s", timeout)
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return report{}, ctx.Err()
		}
	}
}

// lineWriter calls line with every complete line written to it.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// benchAPI is the harness's client of the server's API, as an admin.
type benchAPI struct {
	http  *http.Client
	url   string
	token string
}

func (a *benchAPI) do(ctx context.Context, method, path, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

func (a *benchAPI) login(ctx context.Context) error {
	b, err := a.do(ctx, "POST", "/api/v1/sessions", fmt.Sprintf(`{"username":%q,"password":%q}`, benchAdmin, benchAdminPassword))
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	var s struct{ Token string }
	if err := json.Unmarshal(b, &s); err != nil || s.Token == "" {
		return fmt.Errorf("log in: no token in %s", b)
	}
	a.token = s.Token
	return nil
}

// apiDevice is what the bench reads of GET /api/v1/gb28181/devices.
type apiDevice struct {
	ID       string `json:"id"`
	Online   bool   `json:"online"`
	Channels []struct {
		ID string `json:"id"`
	} `json:"channels"`
}

// devices lists every device, following the list's pages (of 1000, the most one may ask for).
func (a *benchAPI) devices(ctx context.Context) ([]apiDevice, error) {
	var all []apiDevice
	cursor := ""
	for {
		path := "/api/v1/gb28181/devices?limit=1000"
		if cursor != "" {
			path += "&cursor=" + neturl.QueryEscape(cursor)
		}
		b, err := a.do(ctx, "GET", path, "")
		if err != nil {
			return nil, err
		}
		var page struct {
			Devices []apiDevice `json:"devices"`
			Next    string      `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, fmt.Errorf("GET /api/v1/gb28181/devices: %w", err)
		}
		all = append(all, page.Devices...)
		if page.Next == "" {
			return all, nil
		}
		cursor = page.Next
	}
}

// goroutines reads go_goroutines from the server's /metrics.
func (a *benchAPI) goroutines(ctx context.Context) (int, error) {
	b, err := a.do(ctx, "GET", "/metrics", "")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.New("no go_goroutines in /metrics")
}

// workGBRegister runs n simulated devices that register at once with the platform at source
// and keep alive every keepalive until ctx ends, then unregister. A device refused (or not
// answered) tries again, as real ones do, after Retry-After or 2 s; every refusal is counted
// and reported.
func workGBRegister(ctx context.Context, n int, source, transport, password string, keepalive time.Duration, addresses string, out *json.Encoder) error {
	fleet := gbdevice.Fleet{Target: gbdevice.Target{Server: source, ServerID: gbPlatformID, Domain: gbDomain},
		Count: n, Transport: transport, Password: password, Keepalive: keepalive}
	cfgs := fleet.Configs()
	devs := make([]*gbdevice.Device, 0, n)
	defer func() {
		for _, d := range devs {
			d.Close()
		}
	}()
	for i, c := range cfgs {
		if addresses == AddressesOwn {
			// 127.1.0.1 … : loopback, each a host of its own (Linux routes all of 127/8 to lo).
			c.LocalIP = fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250)
		}
		d, err := gbdevice.New(c, nil)
		if err != nil {
			return fmt.Errorf("gbregister: device %d: %w", i+1, err)
		}
		devs = append(devs, d)
	}
	var (
		registered, keepalives atomic.Int64
		lastReg                atomic.Int64
		mu                     sync.Mutex
		refusals               = map[string]int{}
	)
	refused := func(what string) {
		mu.Lock()
		refusals[what]++
		mu.Unlock()
	}
	started := time.Now()
	status := func() report {
		mu.Lock()
		defer mu.Unlock()
		r := report{StartedNS: started.UnixNano(), Registered: int(registered.Load()), LastRegNS: lastReg.Load(),
			Keepalives: int(keepalives.Load())}
		if len(refusals) > 0 {
			r.Refusals = make(map[string]int, len(refusals))
			for k, v := range refusals {
				r.Refusals[k] = v
			}
		}
		return r
	}
	register := func(d *gbdevice.Device, what string) bool {
		for ctx.Err() == nil {
			res, err := d.Register(ctx, 3600)
			if err == nil {
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			wait := 2 * time.Second
			switch {
			case res != nil:
				refused(fmt.Sprintf("%s %d", what, res.StatusCode))
				if h := res.GetHeader("Retry-After"); h != nil {
					if s, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && s > 0 {
						wait = time.Duration(s) * time.Second
					}
				}
			default:
				refused(what + " unanswered")
			}
			if !sleep(ctx, wait) {
				return false
			}
		}
		return false
	}
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Go(func() {
			if !register(d, "register") {
				return
			}
			registered.Add(1)
			for {
				now := time.Now().UnixNano()
				if last := lastReg.Load(); now <= last || lastReg.CompareAndSwap(last, now) {
					break
				}
			}
			t := time.NewTicker(keepalive)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					bye, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					d.Register(bye, 0)
					cancel()
					return
				case <-t.C:
				}
				code, err := d.Keepalive(ctx)
				switch {
				case ctx.Err() != nil:
				case err != nil:
					refused("keepalive unanswered")
				case code != 200:
					refused(fmt.Sprintf("keepalive %d", code))
					if code == 403 {
						register(d, "re-register")
					}
				default:
					keepalives.Add(1)
				}
			}
		})
	}
	runCtx, stop := context.WithCancel(ctx)
	var rwg sync.WaitGroup
	rwg.Go(func() { reportEvery(runCtx, out, status) })
	if err := out.Encode(status()); err != nil {
		stop()
		return fmt.Errorf("gbregister: report: %w", err)
	}
	wg.Wait()
	stop()
	rwg.Wait()
	return out.Encode(status())
}

// WriteRegisterTable prints the registration benchmark's figures, then the per-device costs
// side by side: each device count against the first, and TCP against UDP, shared addresses
// against own.
func WriteRegisterTable(w io.Writer, rs []RegisterResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %-4s %-6s %9s %8s %8s %8s %9s %11s %8s %8s %9s %s\n", "devices", "tr", "addrs",
		"register", "online", "catalog", "CPU-s", "ms/dev", "keepalive", "idle", "peak", "KiB/dev", "goroutines")
	fmt.Fprintf(&b, "%-7s %-4s %-6s %9s %8s %8s %8s %9s %11s %8s %8s %9s %s\n", "", "", "",
		"s", "s", "s", "register", "CPU", "CPU-ms/dmin", "MiB", "MiB", "peak", "idle/online/keep/left")
	for _, r := range rs {
		if r.CPURegister == 0 {
			fmt.Fprintf(&b, "%-7d %-4s %-6s %9s\n", r.Devices, r.Transport, r.Addresses, "-")
			continue
		}
		fmt.Fprintf(&b, "%-7d %-4s %-6s %9.2f %8.2f %8.2f %8.2f %9.2f %11.3f %8.1f %8.1f %9.1f %d/%d/%d/%d\n",
			r.Devices, r.Transport, r.Addresses, r.Registered.Seconds(), r.Online.Seconds(), r.Catalogued.Seconds(),
			r.CPURegister.Seconds(), float64(r.RegisterCPUPerDevice())/float64(time.Millisecond),
			r.KeepaliveCPUPerDeviceMinute()*1000, float64(r.IdleRSS)/(1<<20), float64(r.PeakRSS)/(1<<20),
			r.PeakPerDevice()/1024, r.Goroutines[0], r.Goroutines[1], r.Goroutines[2], r.Goroutines[3])
	}
	for _, r := range rs {
		if r.Err != "" {
			fmt.Fprintf(&b, "! %d devices, %s, %s addresses: %s\n", r.Devices, r.Transport, r.Addresses, r.Err)
		} else if r.CPURegister > 0 {
			fmt.Fprintf(&b, "%d devices, %s, %s addresses: all %d online and catalogued, %d keepalives answered over %s, none refused, none left online\n",
				r.Devices, r.Transport, r.Addresses, r.Devices, r.Keepalives, r.Window.Round(time.Second))
		}
	}
	type key struct {
		n        int
		tr, addr string
	}
	by := map[key]RegisterResult{}
	var ns []int
	for _, r := range rs {
		if r.CPURegister == 0 {
			continue
		}
		by[key{r.Devices, r.Transport, r.Addresses}] = r
		if !slices.Contains(ns, r.Devices) {
			ns = append(ns, r.Devices)
		}
	}
	sort.Ints(ns)
	var lines []string
	ratio := func(name string, a, base RegisterResult) {
		lines = append(lines, fmt.Sprintf("%s: register CPU/device %.2f×, keepalive CPU/device-min %.2f×, peak memory/device %.2f×, time to all online %.2f×",
			name, float64(a.RegisterCPUPerDevice())/float64(base.RegisterCPUPerDevice()),
			a.KeepaliveCPUPerDeviceMinute()/base.KeepaliveCPUPerDeviceMinute(), a.PeakPerDevice()/base.PeakPerDevice(),
			a.Online.Seconds()/base.Online.Seconds()))
	}
	for k, r := range by {
		if k.n != ns[0] {
			if base, ok := by[key{ns[0], k.tr, k.addr}]; ok {
				ratio(fmt.Sprintf("%d over %d devices (%s, %s)", k.n, ns[0], k.tr, k.addr), r, base)
			}
		}
		if k.tr == "tcp" {
			if base, ok := by[key{k.n, "udp", k.addr}]; ok {
				ratio(fmt.Sprintf("tcp over udp (%d devices, %s)", k.n, k.addr), r, base)
			}
		}
		if k.addr == AddressesShared {
			if base, ok := by[key{k.n, k.tr, AddressesOwn}]; ok {
				ratio(fmt.Sprintf("one shared address over own (%d devices, %s)", k.n, k.tr), r, base)
			}
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
