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
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"civicam/internal/auth"
	"civicam/internal/gb28181/manscdp"
	"civicam/internal/trace"
)

// Server is the SIP side of the platform and the service the faces call (service.go).
type Server struct {
	cfg      Config
	repo     Repo
	cameras  Cameras
	tracer   trace.Tracer
	throttle *auth.Throttle
	now      func() time.Time
	log      *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	udp    net.PacketConn
	tcp    net.Listener
	nonces *nonces
	sn     atomic.Int64

	mu       sync.Mutex
	sessions map[string]*session  // by device id
	plays    map[string]*Play     // open plays by device/channel
	records  map[int]*recordQuery // RecordInfo queries waiting, by SN

	// bg tracks the queries sent in the background (a catalog after registration), so that Run
	// returns only once they have ended.
	bg     sync.WaitGroup
	bgCtx  context.Context
	bgStop context.CancelFunc
}

// session is what the platform knows in memory of a registered device: where to reach it, when
// it was last heard from, and a catalog being assembled.
type session struct {
	transport string // "udp" or "tcp"
	remote    string // the source address of its REGISTER
	expires   time.Time
	lastSeen  time.Time
	online    bool
	catalog   *assembly
	// noCatalog is set when the device left a catalog query unanswered: it is taken as a
	// single camera, its own channel.
	noCatalog bool
}

// Deps are what a Server is built from.
type Deps struct {
	Repo    Repo
	Cameras Cameras
	Tracer  trace.Tracer
	// Throttle counts failed digests per device id and source address, as logins are counted.
	Throttle *auth.Throttle
	Now      func() time.Time
	Logger   *slog.Logger
}

// listenBoth binds UDP and TCP on one port, which devices are configured with once. A port
// chosen by the system (":0") is free for UDP only: when its TCP twin is taken, another is
// tried.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for try := 0; ; try++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("gb28181: listen udp %s: %w", addr, err)
		}
		tcpAddr := udp.LocalAddr().String()
		tcp, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" || try == 20 {
			return nil, nil, fmt.Errorf("gb28181: listen tcp %s: %w", tcpAddr, err)
		}
	}
}

// New binds the UDP and TCP listeners on cfg.Listen (so that Addr is known before Run).
func New(cfg Config, d Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	QuietSIPLog()
	if !ValidDeviceID(cfg.ID) {
		return nil, fmt.Errorf("gb28181: platform id %q is not 20 digits", cfg.ID)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Throttle == nil {
		d.Throttle = auth.NewThrottle(auth.ThrottleConfig{}, d.Now)
	}
	s := &Server{cfg: cfg, repo: d.Repo, cameras: d.Cameras, tracer: d.Tracer, throttle: d.Throttle, now: d.Now,
		log: d.Logger, nonces: newNonces(cfg.NonceTTL, 100_000), sessions: map[string]*session{}, plays: map[string]*Play{}, records: map[int]*recordQuery{}}
	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	var err error
	if s.udp, s.tcp, err = listenBoth(cfg.Listen); err != nil {
		return nil, err
	}
	host, port := splitHostPort(s.udp.LocalAddr().String())
	if s.ua, err = sipgo.NewUA(sipgo.WithUserAgent(cfg.ID), sipgo.WithUserAgentHostname(cfg.Domain)); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("gb28181: %w", err)
	}
	if s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(d.Logger)); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("gb28181: %w", err)
	}
	if s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port),
		sipgo.WithClientLogger(d.Logger)); err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("gb28181: %w", err)
	}
	s.srv.OnRegister(s.handleRegister)
	s.srv.OnMessage(s.handleMessage)
	s.srv.OnNoRoute(s.handleOther)
	return s, nil
}

func (s *Server) closeListeners() {
	s.udp.Close()
	s.tcp.Close()
}

// Addr is the address served, over UDP and TCP alike.
func (s *Server) Addr() string { return s.udp.LocalAddr().String() }

// Run serves SIP and watches keepalives until ctx ends, then closes the listeners and waits for
// the queries in flight.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for _, serve := range []func() error{
		func() error { return s.srv.ServeUDP(s.udp) },
		func() error { return s.srv.ServeTCP(s.tcp) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(); err != nil && ctx.Err() == nil {
				errc <- err
			}
		}()
	}
	// The plays a previous run left open end now, over UDP; the others when their device
	// registers again.
	s.background(func(ctx context.Context) {
		s.awaitUDP(ctx)
		s.endStale(ctx, "")
	})
	t := time.NewTicker(max(s.cfg.KeepaliveInterval/4, time.Second))
	defer t.Stop()
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			break loop
		case <-t.C:
			s.Sweep(ctx)
		}
	}
	s.bgStop()
	s.closeListeners()
	s.ua.Close()
	wg.Wait()
	s.bg.Wait()
	if err != nil {
		return fmt.Errorf("gb28181: serve: %w", err)
	}
	return nil
}

// awaitUDP waits (a little) until the server serves its UDP socket: sipgo sends a request from
// a socket only once its server has taken it into its pool.
func (s *Server) awaitUDP(ctx context.Context) {
	la := s.udp.LocalAddr().String()
	for range 200 {
		if c, _ := s.srv.TransportLayer().GetConnection("udp", la); c != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Sweep turns offline the devices that missed three keepalive intervals or whose registration
// expired. Run calls it periodically; tests call it after moving their clock.
func (s *Server) Sweep(ctx context.Context) {
	now := s.now()
	var gone []string
	s.mu.Lock()
	for id, ss := range s.sessions {
		if !ss.online {
			continue
		}
		if now.Sub(ss.lastSeen) >= 3*s.cfg.KeepaliveInterval || now.After(ss.expires) {
			gone = append(gone, id)
		}
	}
	s.mu.Unlock()
	for _, id := range gone {
		s.setOffline(ctx, id, "no keepalive for three intervals or registration expired")
	}
	s.expireCatalogs(ctx)
}

// setOffline records that a device went offline: traced, then stored.
func (s *Server) setOffline(ctx context.Context, id, why string) {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if !ok || !ss.online {
		s.mu.Unlock()
		return
	}
	ss.online = false
	remote := ss.remote
	s.mu.Unlock()
	ctx = deviceActor(ctx, id, remote)
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionGBDeviceState, Reference: id, Outcome: trace.Allowed,
		Reason: "offline: " + why}); err != nil {
		s.log.Error("trace device offline", "device", id, "err", err)
	}
	if err := s.saveState(ctx, id, false); err != nil {
		s.log.Error("store device offline", "device", id, "err", err)
	}
	s.log.Info("gb28181 device offline", "device", id, "why", why)
}

// saveState stores a device's online state, keeping its other fields.
func (s *Server) saveState(ctx context.Context, id string, online bool) error {
	d, err := s.repo.GBDevice(ctx, id)
	if err != nil {
		return err
	}
	d.Online = online
	return s.repo.SaveGBDevice(ctx, d)
}

// deviceActor is the trail's actor for what a device does: its id and where it spoke from.
func deviceActor(ctx context.Context, id, remote string) context.Context {
	host, _ := splitHostPort(remote)
	return auth.WithActor(ctx, auth.Actor{Username: "gb28181:" + id, ClientAddr: host})
}

func splitHostPort(addr string) (string, int) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// respond answers req at the address it came from (for UDP its source, whatever Via says; for
// TCP the connection it came on).
func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	res.SetDestination(req.Source())
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond", "code", code, "to", req.Source(), "err", err)
	}
}

// handleOther answers the methods the platform does not serve.
func (s *Server) handleOther(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.ACK:
		return // no transaction to answer
	case sip.OPTIONS:
		s.respond(req, tx, 200, "OK", sip.NewHeader("Allow", "REGISTER, MESSAGE, OPTIONS"))
		return
	}
	s.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", "REGISTER, MESSAGE, OPTIONS"))
}

// transportOf is the request's transport in lower case ("udp" or "tcp").
func transportOf(req *sip.Request) string { return strings.ToLower(req.Transport()) }

// handleRegister serves REGISTER: digest when a password applies, then registration, refresh
// or unregistration (Expires: 0).
func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	ctx := s.bgCtx
	from := req.From()
	if from == nil {
		s.respond(req, tx, 400, "Bad Request")
		return
	}
	id := from.Address.User
	src := req.Source()
	if !ValidDeviceID(id) {
		s.respond(req, tx, 400, "Bad Request: device id must be 20 digits")
		return
	}
	expires, ok := registerExpires(req)
	if !ok {
		s.respond(req, tx, 400, "Bad Request: Expires")
		return
	}
	known, err := s.repo.GBDevice(ctx, id)
	if err != nil && !isNotFound(err) {
		s.log.Error("gb28181 device lookup", "device", id, "err", err)
		s.respond(req, tx, 500, "Server Internal Error")
		return
	}
	if password := known.password(s.cfg.Password); password != "" && !s.authenticate(ctx, req, tx, id, src, password) {
		return
	}
	now := s.now()
	date := sip.NewHeader("Date", now.Format("2006-01-02T15:04:05.000"))
	if expires == 0 {
		s.unregister(ctx, id, src)
		s.respond(req, tx, 200, "OK", date, sip.NewHeader("Expires", "0"))
		return
	}
	if !s.register(ctx, req, id, src, expires, known) {
		s.respond(req, tx, 503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	s.respond(req, tx, 200, "OK", date, sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
}

// registerExpires is the registration's lifetime: the Expires header, else the Contact's expires
// parameter, else an hour; at most a day.
func registerExpires(req *sip.Request) (time.Duration, bool) {
	v := ""
	if h := req.GetHeader("Expires"); h != nil {
		v = h.Value()
	} else if c := req.Contact(); c != nil {
		v, _ = c.Params.Get("expires")
	}
	if v == "" {
		return time.Hour, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(min(n, 86400)) * time.Second, true
}

// authenticate checks the REGISTER's digest, answering it itself when it fails: 401 with a
// challenge (a fresh one, or stale=true for an expired nonce), or 403 when the source is
// throttled. A failed digest counts against the device id and the source address and is traced.
func (s *Server) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, id, src, password string) bool {
	now := s.now()
	realm := s.cfg.Domain
	ask := func(stale bool) {
		s.respond(req, tx, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", challenge(realm, s.nonces.issue(now), stale)))
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		ask(false)
		return false
	}
	cred, err := parseCredentials(h.Value())
	if err != nil {
		ask(false)
		return false
	}
	// A nonce this platform did not issue, or no longer keeps, proves nothing either way: no
	// password is checked, so nothing is counted.
	switch s.nonces.state(cred.Nonce, now) {
	case nonceUnknown:
		ask(false)
		return false
	case nonceStale:
		ask(true)
		return false
	}
	ip, _ := splitHostPort(src)
	if ok, retry := s.throttle.Attempt(id, ip); !ok {
		s.log.Warn("gb28181 register throttled", "device", id, "source", src)
		s.respond(req, tx, 403, "Forbidden", sip.NewHeader("Retry-After", strconv.Itoa(int(retry.Seconds()+0.999))))
		return false
	}
	good := cred.Username == id && checkDigest(cred, string(req.Method), realm, password)
	if good && !s.nonces.use(cred.Nonce, cred.Nc, cred.QOP != "") {
		good = false // a replayed nonce count
	}
	if !good {
		s.throttle.Failure(id, ip)
		if err := s.tracer.Record(deviceActor(ctx, id, src), trace.Record{Action: trace.ActionGBRegister, Reference: id,
			Outcome: trace.Denied, Reason: "digest authentication failed from " + src}); err != nil {
			s.log.Error("trace failed register", "device", id, "err", err)
		}
		ask(false)
		return false
	}
	s.throttle.Success(id, ip)
	return true
}

// register records a registration or its refresh. A new device, or one coming back online, is
// traced before it is stored; a refresh from the same place only moves its expiry. It reports
// false when the trail or the store refused.
func (s *Server) register(ctx context.Context, req *sip.Request, id, src string, expires time.Duration, known *Device) bool {
	now := s.now()
	transport := transportOf(req)
	s.mu.Lock()
	ss, had := s.sessions[id]
	if !had && len(s.sessions) >= s.cfg.MaxDevices {
		s.mu.Unlock()
		s.log.Warn("gb28181 device table full", "device", id)
		return false
	}
	refresh := had && ss.online && ss.remote == src && ss.transport == transport && known != nil
	if refresh {
		ss.expires, ss.lastSeen = now.Add(expires), now
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()

	actx := deviceActor(ctx, id, src)
	reason := "registered over " + transport + " from " + src
	if known == nil {
		reason = "new device, pending adoption; " + reason
	}
	if err := s.tracer.Record(actx, trace.Record{Action: trace.ActionGBRegister, Reference: id, Outcome: trace.Allowed, Reason: reason}); err != nil {
		s.log.Error("trace register", "device", id, "err", err)
		return false
	}
	d := known
	if d == nil {
		d = &Device{ID: id, RegisteredAt: now}
	}
	d.Online, d.Transport, d.RemoteAddr, d.LastSeen = true, transport, src, now
	if d.RegisteredAt.IsZero() {
		d.RegisteredAt = now
	}
	if err := s.repo.SaveGBDevice(ctx, d); err != nil {
		s.log.Error("store register", "device", id, "err", err)
		return false
	}
	s.mu.Lock()
	s.sessions[id] = &session{transport: transport, remote: src, expires: now.Add(expires), lastSeen: now, online: true}
	s.mu.Unlock()
	s.log.Info("gb28181 device registered", "device", id, "transport", transport, "source", src)
	// End what a previous run of the platform left it playing; ask what it has: its catalog,
	// and what it is.
	s.background(func(ctx context.Context) {
		s.endStale(ctx, id)
		if err := s.query(ctx, id, "DeviceInfo"); err != nil {
			s.log.Debug("gb28181 device info query", "device", id, "err", err)
		}
		if err := s.query(ctx, id, "Catalog"); err != nil {
			s.log.Warn("gb28181 catalog query", "device", id, "err", err)
			s.mu.Lock()
			if ss := s.sessions[id]; ss != nil {
				ss.noCatalog = true
			}
			s.mu.Unlock()
		}
	})
	return true
}

// unregister ends a registration (Expires: 0): traced, then stored offline.
func (s *Server) unregister(ctx context.Context, id, src string) {
	s.mu.Lock()
	delete(s.sessions, id) // its MESSAGEs are refused until it registers again
	s.mu.Unlock()
	if err := s.tracer.Record(deviceActor(ctx, id, src), trace.Record{Action: trace.ActionGBUnregister, Reference: id,
		Outcome: trace.Allowed, Reason: "unregistered from " + src}); err != nil {
		s.log.Error("trace unregister", "device", id, "err", err)
		return
	}
	if err := s.saveState(ctx, id, false); err != nil && !isNotFound(err) {
		s.log.Error("store unregister", "device", id, "err", err)
	}
}

// answersNoCatalog reports whether a registered device left its catalog query unanswered.
func (s *Server) answersNoCatalog(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	return ss != nil && ss.noCatalog
}

// background runs f in a goroutine that Run waits for; f's context ends when Run stops.
func (s *Server) background(f func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(s.bgCtx)
	}()
}

// errNotRegistered refuses a query to a device that is not registered here.
var errNotRegistered = errors.New("device is not registered")

// query sends a MANSCDP Query of cmdType to a registered device, at the address and over the
// transport it registered from, and waits for the device's 200 (its answer comes as a MESSAGE
// of its own).
func (s *Server) query(ctx context.Context, id, cmdType string) error {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	var transport, remote string
	if ok && ss.online {
		transport, remote = ss.transport, ss.remote
	}
	s.mu.Unlock()
	if remote == "" {
		return errNotRegistered
	}
	sn := int(s.sn.Add(1))
	return s.send(ctx, id, transport, remote, sip.MESSAGE, "Application/MANSCDP+xml", manscdp.QueryBody(cmdType, sn, id))
}

// send sends one request to a device and waits for its final answer.
func (s *Server) send(ctx context.Context, id, transport, remote string, method sip.RequestMethod, contentType string, body []byte) error {
	req := s.newRequest(method, id, transport, remote)
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("%s to %s: %w", method, id, err)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s to %s: %d %s", method, id, res.StatusCode, res.Reason)
	}
	return nil
}
