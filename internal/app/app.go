// Package app builds civicam's components from the configuration, runs them together and shuts
// them down in order. Nothing imports it but the command line.
package app

import (
	"civicam/internal/health"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"civicam/internal/access"
	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/bucket"
	"civicam/internal/config"
	"civicam/internal/consultation"
	"civicam/internal/footage"
	"civicam/internal/gb28181"
	"civicam/internal/grid"
	"civicam/internal/httpapi"
	"civicam/internal/inspection"
	"civicam/internal/lease"
	"civicam/internal/live"
	"civicam/internal/lostperson"
	"civicam/internal/membudget"
	"civicam/internal/policy"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/retention"
	"civicam/internal/secret"
	"civicam/internal/segment"
	"civicam/internal/sharing"
	"civicam/internal/store"
	"civicam/internal/trace"
	"civicam/internal/webui"
)

// Core is what every civicam process needs, the server and the administrative commands alike:
// the store, the policy pack, the trail, the registry and the accounts.
type Core struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *store.DB
	Pack     *policy.Pack
	Trail    *trace.Log
	Registry *registry.Service
	Accounts *accounts.Service
	// Hasher bounds every password hash the process makes, whichever service makes it.
	Hasher *auth.Hasher
	Key    *trace.Key // signs the trail's checkpoints and the exports' manifests
	Now    func() time.Time
	// Console, when set, is where notifications are written while no webhook is configured
	// (the demo's terminal; see lostperson.OutboxDeps.Console).
	Console io.Writer

	cancel context.CancelFunc
	wg     sync.WaitGroup
	runErr error
}

// NewLogger builds the process's logger from the configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenCore opens the store, loads the policy pack and starts the trail. Close stops them.
func OpenCore(ctx context.Context, cfg config.Config, log *slog.Logger) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := secureDataDir(cfg.Data, log); err != nil {
		return nil, err
	}
	pack, err := loadPack(cfg.Policy)
	if err != nil {
		return nil, err
	}
	// The stream credentials' key: only the store, which seals and opens them, holds it.
	secrets, err := secret.LoadOrCreateKey(cfg.SecretKeyPath())
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{SQLitePath: cfg.SQLitePath(), PostgresDSN: cfg.PostgresDSN, Secrets: secrets})
	if errors.Is(err, secret.ErrWrongKey) {
		return nil, fmt.Errorf("%w; the secret key %s (id %s, config secret_key_file) is not the one this database's stream credentials were sealed with",
			err, cfg.SecretKeyPath(), secrets.ID())
	}
	if err != nil {
		return nil, err
	}
	key, err := loadTraceKey(cfg, log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("trace key: %w", err)
	}
	// The database file is created by the driver with the process's umask.
	if err := secureDataDir(cfg.Data, log); err != nil {
		db.Close()
		return nil, err
	}
	c := &Core{Config: cfg, Log: log, DB: db, Pack: pack, Key: key, Now: time.Now}
	c.Trail = trace.New(trace.Config{
		CheckpointEvery:    int64(cfg.Trace.CheckpointEvery),
		CheckpointInterval: cfg.Trace.CheckpointInterval.D(),
	}, trace.Deps{Store: db, Key: key, Logger: log.With("component", "trace")})
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.Trail.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("trace log stopped", "err", err)
			c.runErr = err
		}
	}()
	c.Registry = registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: trace.Recorder{Log: c.Trail}, Logger: log.With("component", "registry"), Filings: db})
	if err := c.Registry.Load(ctx); err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.Registry.Run(runCtx, 2*time.Second)
	}()
	throttle := auth.NewThrottle(auth.ThrottleConfig{ClientFailures: cfg.LoginMaxFailures, UserFailures: 2 * cfg.LoginMaxFailures,
		IPFailures: 4 * cfg.LoginMaxFailures, Window: cfg.LoginWindow.D()}, time.Now)
	c.Hasher, err = auth.NewHasher(auth.HasherConfig{Slots: cfg.PasswordHashing.Slots, Wait: cfg.PasswordHashing.Wait.D()})
	if err != nil {
		c.Close()
		return nil, err
	}
	c.Accounts, err = accounts.New(accounts.Config{SessionTTL: cfg.SessionTTL.D()}, accounts.Deps{Store: db, Organisations: c.Registry,
		Tracer: trace.Recorder{Log: c.Trail}, Throttle: throttle, Hasher: c.Hasher, Logger: log.With("component", "accounts"), Now: c.Now})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close stops the trail (after it has written what it acknowledged) and closes the store.
func (c *Core) Close() error {
	c.cancel()
	c.wg.Wait()
	return errors.Join(c.runErr, c.DB.Close())
}

// loadTraceKey loads the trail's key, or makes it named as configured, and warns when its name
// is an origin other installations could share: checkpoints are told apart by their origin.
func loadTraceKey(cfg config.Config, log *slog.Logger) (*trace.Key, error) {
	path := filepath.Join(cfg.Data, "trace.key")
	var key *trace.Key
	var err error
	if cfg.Trace.Origin == config.AutoOrigin {
		key, err = trace.LoadOrCreateDerivedKey(path, cfg.OriginHost())
	} else {
		key, err = trace.LoadOrCreateKey(path, cfg.Trace.Origin)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Trace.Origin != config.AutoOrigin && key.Name() != cfg.Trace.Origin {
		log.Warn("trace.origin differs from the name of the existing trail key, which is kept so that its checkpoints verify",
			"configured", cfg.Trace.Origin, "origin", key.Name(), "key", path)
	}
	if key.OriginShared() {
		log.Warn("the trail's origin could be shared by other installations, so its checkpoints cannot be told from theirs; "+
			"a new trail (a new data directory, or trace.key moved away) with trace.origin auto gets one of its own",
			"origin", key.Name(), "key", path)
	}
	return key, nil
}

func loadPack(path string) (*policy.Pack, error) {
	if path == "" {
		p, err := policy.Default()
		if err != nil {
			return nil, fmt.Errorf("embedded policy pack: %w", err)
		}
		return p, nil
	}
	if name, ok := strings.CutPrefix(path, policy.EmbeddedPrefix); ok {
		p, err := policy.Embedded(name)
		if err != nil {
			return nil, fmt.Errorf("policy pack: %w", err)
		}
		return p, nil
	}
	p, err := policy.Load(path)
	if err != nil {
		return nil, fmt.Errorf("policy pack: %w", err)
	}
	return p, nil
}

// Server is the running civicam server: the core, the recorder and the HTTP faces.
type Server struct {
	core     *Core
	api      *httpapi.Server
	recorder *recorder.Recorder
	leases   *lease.Keeper
	cleaner  *retention.Cleaner
	planner  *retention.Planner
	live     *live.Service
	outbox   *lostperson.Outbox
	budget   *membudget.Budget
	gb       *gb28181.Server  // nil when gb28181.listen is empty
	uploader *bucket.Uploader // nil without recordings.s3
	sharing  *sharing.Service
	requests *lostperson.Service
	handler  http.Handler
	ln       net.Listener
	tls      *tls.Config // nil: plain HTTP

	metrics   http.Handler // /metrics alone, for metricsLn
	metricsLn net.Listener // nil: /metrics is on ln
}

// segmentFiles is what the readers and the cleaner need of where segments are kept:
// *segment.Disk alone, or *bucket.Segments over it and the bucket.
type segmentFiles interface {
	Open(key string) (segment.Reader, error)
	Remove(key string) error
}

// NewServer builds the server on an opened core and binds its listener, so that the caller
// can print the address before Run.
func NewServer(core *Core) (_ *Server, err error) {
	cfg := core.Config
	// Before anything is served under the pack, the trail says which pack that is.
	if err := tracePackInForce(context.Background(), core.Trail, core.Pack, core.Now); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	disk := segment.NewDisk(filepath.Join(cfg.Data, "recordings"))
	node := cfg.NodeName()
	tracer := trace.Recorder{Log: core.Trail}
	// The GB/T 28181 platform, when configured: failed digests are throttled as logins are.
	var (
		gb      *gb28181.Server
		sources map[string]recorder.MediaSource
	)
	defer func() {
		if err != nil && gb != nil {
			gb.Run(canceled()) // closes its listeners, which a failed start must not keep
		}
	}()
	if g := cfg.GB28181; g.Listen != "" {
		gb, err = gb28181.New(gb28181.Config{Listen: g.Listen, ID: g.ID, Domain: g.Domain, Password: g.Password},
			gb28181.Deps{Repo: core.DB, Cameras: core.Registry, Tracer: tracer, Now: core.Now,
				Throttle: auth.NewThrottle(auth.ThrottleConfig{ClientFailures: cfg.LoginMaxFailures, UserFailures: 2 * cfg.LoginMaxFailures,
					IPFailures: 4 * cfg.LoginMaxFailures, Window: cfg.LoginWindow.D()}, core.Now),
				Logger: core.Log.With("component", "gb28181")})
		if err != nil {
			return nil, err
		}
		// Adopted, activated GB channels are recorded like RTSP cameras: the recorder plays them
		// to a port of media_ports and demuxes their PS.
		lo, hi, _ := g.MediaPortRange() // validated with the config
		sources = map[string]recorder.MediaSource{"gb28181": gb28181.NewSource(
			gb28181.SourceConfig{IP: g.MediaIP, PortLo: lo, PortHi: hi, Transport: g.MediaTransport}, gb, core.Log.With("component", "gb28181-media"))}
	}
	// Every reader and the cleaner reach segments through files: local disk, and with
	// recordings.s3 the bucket the uploader moves sealed segments to.
	var (
		files          segmentFiles = disk
		uploader       *bucket.Uploader
		uploaderClient *bucket.Client
	)
	if s3 := cfg.Recordings.S3; s3.Enabled() {
		client, err := bucket.New(bucket.Config{Endpoint: s3.Endpoint, Bucket: s3.Bucket, Region: s3.Region,
			AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, PathStyle: s3.PathStyle, ObjectLock: s3.ObjectLock})
		if err != nil {
			return nil, err
		}
		files = &bucket.Segments{Disk: disk, Bucket: client, Index: core.DB}
		uploaderClient = client
		uploader = bucket.NewUploader(bucket.UploaderConfig{}, bucket.UploaderDeps{Queue: core.DB, Disk: disk, Bucket: client,
			FloorDays: func() int { return core.Registry.Pack().RetentionFloorDays() }, Metrics: reg,
			Logger: core.Log.With("component", "bucket"), Now: core.Now})
	}
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: disk, Index: core.DB, Sources: sources, Logger: core.Log.With("component", "recorder")})
	budget := membudget.New(membudget.Config{PerStream: int64(cfg.Recording.MemoryPerStreamMiB * (1 << 20))},
		core.Log.With("component", "membudget"))
	feed := &cameraFeed{reg: core.Registry, now: core.Now}
	keeper := lease.New(lease.Config{Node: node, MaxStreams: cfg.Recording.MaxStreams, TTL: cfg.Recording.LeaseTTL.D(), Renew: cfg.Recording.LeaseRenew.D()},
		lease.Deps{Store: core.DB, Wanted: feed.Wanted, Logger: core.Log.With("component", "leases"), Now: core.Now,
			Apply: func(held []lease.Lease) {
				cams := feed.cameras(held)
				rec.Sync(cams)
				budget.Set(len(cams))
			}})
	var holdObjects retention.HoldObjects // nil unless the bucket has Object Lock
	if s3 := cfg.Recordings.S3; s3.Enabled() && s3.ObjectLock {
		holdObjects = &bucket.LegalHolds{Index: core.DB, Bucket: uploaderClient}
	}
	var bucketStatus retention.BucketStatus // a nil *bucket.Uploader would not be a nil interface
	if uploader != nil {
		bucketStatus = uploader
	}
	planner := retention.NewPlanner(retention.PlannerConfig{Locations: []retention.Location{{Name: "local", Root: disk.Root}}},
		retention.PlannerDeps{Index: core.DB, Registry: core.Registry, Recorder: rec, Bucket: bucketStatus, Metrics: reg,
			Logger: core.Log.With("component", "storage"), Now: core.Now})
	// One node at a time deletes from the bucket: the holder of the cluster's cleaner lease,
	// renewed at each hourly run and lasting two.
	mayDeleteBucket := func(ctx context.Context) bool {
		now := core.Now()
		ok, err := core.DB.AcquireClusterLease(ctx, "cleaner", node, now, now.Add(2*time.Hour))
		if err != nil {
			core.Log.Error("cleaner lease", "err", err)
		}
		return ok
	}
	cleaner := retention.New(retention.Config{Node: node}, retention.Deps{Index: core.DB, Files: files, Registry: core.Registry, MayDeleteBucket: mayDeleteBucket,
		Tracer: trace.Recorder{Log: core.Trail}, Metrics: reg, Logger: core.Log.With("component", "retention"), Now: core.Now})
	views := &sharing.LateViews{}
	shares := sharing.New(sharing.Config{}, sharing.Deps{Store: core.DB, Policy: sharing.CurrentPack(core.Registry.Pack),
		Cameras: core.Registry, Tracer: tracer, Trail: core.Trail, Views: views,
		Logger: core.Log.With("component", "sharing"), Now: core.Now})
	core.Registry.UseSharing(sharedWith{shares})
	core.Registry.UseLiveness(offlineCameras{rec})
	requests, err := lostperson.New(lostperson.Config{DataDir: cfg.Data, SearchRadiusM: cfg.Applications.SearchRadiusM,
		MaxWindow: cfg.Applications.MaxWindow.D(), NoticeFont: noticeFont(cfg.Applications.NoticeFont, core.Log), RequireNoticeFont: true,
		RegistrationsPerAddress: cfg.Applications.RegistrationsPerAddress},
		lostperson.Deps{Repo: core.DB, Recordings: core.DB, Cameras: core.Registry, Sharing: shares, Recorder: rec, Pack: core.Pack,
			Tracer: trace.Recorder{Log: core.Trail}, Hasher: core.Hasher, Metrics: reg, Logger: core.Log.With("component", "requests")})
	if err != nil {
		return nil, err
	}
	outbox, err := lostperson.NewOutbox(lostperson.OutboxConfig{WebhookURL: cfg.Applications.WebhookURL},
		lostperson.OutboxDeps{Repo: core.DB, Metrics: reg, Logger: core.Log.With("component", "outbox"), Console: core.Console})
	if err != nil {
		return nil, err
	}
	liveSvc, err := live.New(live.Config{ICEListen: cfg.Live.ICEListen, PublicIPs: cfg.Live.PublicIPList()}, live.Deps{Source: rec, Logins: core.DB, Metrics: reg, Logger: core.Log.With("component", "live")})
	if err != nil {
		return nil, err
	}
	// The one access rule, for every look at footage and the live grid's choice of cameras.
	rule := &access.Checker{Applications: requests, Grants: shares, Approvals: requests}
	looks := footage.New(footage.Config{ExportDir: filepath.Join(cfg.Data, "exports")}, footage.Deps{
		Access:  rule,
		Cameras: core.Registry, Sharing: shares, Index: core.DB, Files: files, Key: core.Key,
		Recorder: rec, Live: liveSvc, Tracer: tracer, Trail: core.Trail,
		Logger: core.Log.With("component", "footage"), Now: core.Now,
		Options:   func() policy.Options { return core.Registry.Pack().Options() },
		Approvals: core.DB, Users: core.DB, Viewings: core.DB,
	})
	views.To = looks
	grids := grid.New(grid.Deps{Store: core.DB, Registry: core.Registry, Shared: shares,
		Access: rule, Logger: core.Log.With("component", "grid"), Now: core.Now})
	consult := consultation.New(consultation.Config{}, consultation.Deps{Store: core.DB, Tracer: trace.Recorder{Log: core.Trail},
		Now: core.Now, Logger: core.Log.With("component", "consultation")})
	inspections, err := inspection.New(inspection.Config{ReportsPerAddress: cfg.CameraReports.PerAddress, ReportWindow: cfg.CameraReports.Window.D()}, inspection.Deps{Repo: core.DB, Organisations: core.Registry,
		Pack: core.Registry.Pack, Tracer: trace.Recorder{Log: core.Trail}, Logger: core.Log.With("component", "inspections"), Now: core.Now})
	if err != nil {
		return nil, err
	}
	api, err := httpapi.New(httpapi.Config{}, httpapi.Deps{
		Inspections: inspections,
		Registry:    core.Registry, Tracer: trace.Recorder{Log: core.Trail}, Trail: core.Trail,
		Accounts: core.Accounts, Recorder: rec, Leases: keeper, Storage: planner, Requests: requests, Metrics: reg,
		Holds: retention.NewHolds(retention.HoldsDeps{Store: core.DB, Registry: core.Registry, Tracer: trace.Recorder{Log: core.Trail}, Objects: holdObjects,
			Logger: core.Log.With("component", "holds"), Now: core.Now,
			ImportantDays: func() int { return core.Registry.Pack().Options().ImportantFootageDays }}),
		Footage: looks, Sharing: shares, GB28181: gb, Logger: core.Log.With("component", "api"),
		Consultation: consult, Grid: grids,
	})
	if err != nil {
		return nil, err
	}
	ui, err := webui.New(webui.Config{Language: cfg.UI.Language, TileURL: cfg.UI.TileURL, SecureCookies: cfg.SecureCookies()}, webui.Deps{
		APIRoles: api.Roles(), Accounts: core.Accounts, Registry: core.Registry, Footage: looks, Trail: core.Trail, Users: core.DB, Requests: requests, Storage: planner, Sharing: shares, GB28181: gb, Consultation: consult, Inspections: inspections,
		Health: health.New(rec), Grid: grids,
		Tracer: trace.Recorder{Log: core.Trail}, Logger: core.Log.With("component", "webui"), Now: core.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("web ui: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", ui.Handler())
	mux.Handle("/api/", api.Handler())
	metrics := http.NewServeMux()
	metrics.Handle("GET /metrics", requireBearer(cfg.MetricsToken, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	if cfg.MetricsListen == "" {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := core.DB.SQL().PingContext(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("metrics_listen %s: %w", cfg.MetricsListen, err)
		}
	}
	return &Server{core: core, api: api, recorder: rec, leases: keeper, uploader: uploader, sharing: shares, requests: requests,
		cleaner: cleaner, planner: planner, live: liveSvc, outbox: outbox,
		budget: budget, gb: gb, handler: securityHeaders(mux), ln: ln, tls: tlsConfig,
		metrics: securityHeaders(metrics), metricsLn: metricsLn}, nil
}

// canceled is a context that has ended, for stopping a component that never ran.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// Sharing is the server's sharing service (the demo seeds a grant through it).
func (s *Server) Sharing() *sharing.Service { return s.sharing }

// Requests is the server's lost-person applications service (the demo seeds one through it).
func (s *Server) Requests() *lostperson.Service { return s.requests }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// MetricsAddr is the address of the metrics listener (metrics_listen), "" when /metrics is
// served on Addr.
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// URL is the server's base URL on its listener: https when it serves TLS itself.
func (s *Server) URL() string {
	if s.tls != nil {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Run serves until ctx ends, then shuts down gracefully: in-flight requests get a few seconds
// to finish.
func (s *Server) Run(ctx context.Context) error {
	srv := newHTTPServer(s.handler, s.core.Log)
	recCtx, stopRecording := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	runs := []func(context.Context) error{
		s.recorder.Run, s.cleaner.Run, s.planner.Run, s.live.Run, s.outbox.Run,
		s.leases.Run,
		func(ctx context.Context) error { s.watchHealth(ctx, healthEvery); return nil },
	}
	if s.uploader != nil {
		runs = append(runs, s.uploader.Run)
	}
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(recCtx); err != nil && recCtx.Err() == nil {
				s.core.Log.Error("component stopped", "err", err)
			}
		}()
	}
	// The SIP platform outlives the recorder, whose GB streams send their BYEs through it as
	// they stop.
	gbCtx, stopGB := context.WithCancel(context.Background())
	gbDone := make(chan struct{})
	if s.gb != nil {
		s.core.Log.Info("gb28181 platform", "sip", s.gb.Addr(), "id", s.core.Config.GB28181.ID)
		go func() {
			defer close(gbDone)
			if err := s.gb.Run(gbCtx); err != nil && gbCtx.Err() == nil {
				s.core.Log.Error("component stopped", "component", "gb28181", "err", err)
			}
		}()
	} else {
		close(gbDone)
	}
	defer func() {
		stopRecording()
		wg.Wait()
		// Every segment is sealed now: the other nodes may take the cameras at once.
		releaseCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.leases.Release(releaseCtx); err != nil {
			s.core.Log.Error("hand back camera leases", "err", err)
		}
		cancel()
		stopGB()
		<-gbDone
	}()

	servers := []*http.Server{srv}
	listeners := []net.Listener{s.ln}
	if s.metricsLn != nil {
		servers = append(servers, newHTTPServer(s.metrics, s.core.Log))
		listeners = append(listeners, s.metricsLn)
	}
	errc := make(chan error, len(servers))
	for i, hs := range servers {
		ln := limitPerClient(listeners[i], maxConnsPerClient, s.core.Log)
		go func() {
			if s.tls == nil {
				errc <- hs.Serve(ln)
				return
			}
			// The certificate is in TLSConfig, loaded (and checked) by NewServer.
			hs.TLSConfig = s.tls.Clone()
			errc <- hs.ServeTLS(ln, "", "")
		}()
	}
	s.core.Log.Info("serving", "addr", s.URL())
	if s.metricsLn != nil {
		s.core.Log.Info("serving metrics", "addr", s.MetricsAddr(), "tls", s.tls != nil)
	}
	var err error
	received := 0
	select {
	case err = <-errc:
		received++
		err = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range servers {
		if e := hs.Shutdown(shutdownCtx); err == nil {
			err = e
		}
	}
	for ; received < len(servers); received++ {
		<-errc // http.ErrServerClosed, once Shutdown has closed its listener
	}
	return err
}

// feedOverlap re-reads changes this far behind the feed's cursor, so that a change stamped by a
// slightly slow clock or committed just after the previous read is not missed.
const feedOverlap = 10 * time.Second

// cameraFeed keeps the registry's recordable cameras (active, networked, with an RTSP or GB
// source; REG-4) in memory, following the registry's changes by their updated_at cursor: one
// full listing at the start, then only what changed, from the command line or any node.
type cameraFeed struct {
	reg    *registry.Service
	now    func() time.Time
	mu     sync.Mutex
	cursor time.Time // zero until the full listing
	cams   map[string]recorder.Camera
}

// Wanted brings the feed up to date and lists the recordable cameras' ids, sorted.
func (f *cameraFeed) Wanted(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	started := f.now()
	var (
		changed []*registry.Camera
		err     error
	)
	if f.cursor.IsZero() {
		f.cams = map[string]recorder.Camera{}
		changed, err = f.reg.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{Status: registry.StatusActive})
	} else {
		changed, err = f.reg.CamerasUpdatedSince(ctx, f.cursor.Add(-feedOverlap))
	}
	if err != nil {
		return nil, err
	}
	for _, c := range changed {
		delete(f.cams, c.ID)
	}
	for _, c := range Recordable(changed) {
		f.cams[c.ID] = c
	}
	f.cursor = started
	return slices.Sorted(maps.Keys(f.cams)), nil
}

// cameras gives the recorder's cameras for the leases held: each with its lease's token.
func (f *cameraFeed) cameras(held []lease.Lease) []recorder.Camera {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]recorder.Camera, 0, len(held))
	for _, l := range held {
		c, ok := f.cams[l.CameraID]
		if !ok {
			continue
		}
		c.Node, c.Token = l.Node, l.Token
		out = append(out, c)
	}
	return out
}

// Recordable picks the cameras the platform records: active, networked, with an RTSP source.
func Recordable(cams []*registry.Camera) []recorder.Camera {
	var out []recorder.Camera
	for _, c := range cams {
		if c.Status != registry.StatusActive || !c.Networked {
			continue
		}
		if !strings.HasPrefix(c.SourceURL, "rtsp://") && !strings.HasPrefix(c.SourceURL, "rtsps://") &&
			!strings.HasPrefix(c.SourceURL, "gb28181://") {
			continue
		}
		out = append(out, recorder.Camera{ID: c.ID, SourceURL: c.SourceURL})
	}
	return out
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			// A browser that has met the server over TLS does not try plain HTTP again, where a
			// network attacker could take the session cookie's first request.
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		w.Header().Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// noticeFont is the configured notice font, or the first of lostperson's default places that
// holds one; with none the notice PDF is refused with the reason (lostperson.ErrNoNoticeFont),
// and the server says so at start.
func noticeFont(configured string, log *slog.Logger) string {
	if configured != "" {
		return configured
	}
	if p := lostperson.FindNoticeFont(); p != "" {
		return p
	}
	log.Error("no CJK font for the result notice PDF: install fonts-droid-fallback (scripts/install-deps.sh) or set applications.notice_font; notice PDFs are refused until then",
		"searched", lostperson.DefaultNoticeFonts)
	return ""
}
