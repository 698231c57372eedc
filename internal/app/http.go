package app

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// The HTTP server's bounds against clients that hold connections open without finishing a
// request (slowloris) or without reading the answer. Routes that move much data (playback,
// export downloads, uploads) extend their own deadlines with http.ResponseController as the
// data flows.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // the whole request, body included
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	// maxConnsPerClient bounds the connections one client address holds at once. Browsers open
	// six per site; a police station behind one NAT address may have dozens of operators.
	maxConnsPerClient = 128
)

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// perClientListener refuses a connection from an address that already holds max: it is closed
// as soon as it is accepted, so one client cannot take the server's file descriptors.
type perClientListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu      sync.Mutex
	conns   map[string]int
	refused int       // since the last warning
	warned  time.Time // warnings are at most one in ten seconds: refusals must not flood the log
}

func limitPerClient(ln net.Listener, max int, log *slog.Logger) net.Listener {
	return &perClientListener{Listener: ln, max: max, log: log, conns: map[string]int{}}
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		l.mu.Lock()
		n := l.conns[host]
		if n >= l.max {
			l.refused++
			warn, refused := time.Since(l.warned) >= 10*time.Second, l.refused
			if warn {
				l.warned, l.refused = time.Now(), 0
			}
			l.mu.Unlock()
			c.Close()
			if warn {
				l.log.Warn("connections refused: a client held too many", "client", host, "max", l.max, "refused", refused)
			}
			continue
		}
		l.conns[host] = n + 1
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *perClientListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[host]--; l.conns[host] <= 0 {
		delete(l.conns, host)
	}
}

// countedConn gives its place back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
