// Package config holds civicam's configuration: the defaults, the optional YAML file, the
// CIVICAM_* environment overrides, and validation. Precedence, lowest first: defaults, file,
// environment, command-line flags (applied by the caller).
//
// A key is named once, by its yaml tag in the structs below: its environment variable is derived
// from that name (env.go), civicam.example.yaml documents it (a test holds the two in step), and
// Validate is the one place for the rules its value must meet.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. Every key is documented in civicam.example.yaml and can be
// set by the environment variable envName derives from its path.
type Config struct {
	// Data is the directory holding the SQLite database, keys and recordings.
	Data string `yaml:"data"`
	// Listen is the HTTP address.
	Listen string `yaml:"listen"`
	// PublicURL is the address users reach the server at, when a proxy in front of it differs
	// from Listen; https there makes the cookies Secure even if the proxy speaks plain HTTP to us.
	PublicURL string `yaml:"public_url"`
	// TLSCertFile and TLSKeyFile, both set, serve HTTPS on Listen with this PEM certificate
	// (chain) and key.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string `yaml:"metrics_token"`
	// MetricsListen, when set, serves /metrics on this address alone, not on Listen.
	MetricsListen string `yaml:"metrics_listen"`
	// SecretKeyFile is the key sealing stream credentials in the database; empty means
	// DATA/secret.key. Nodes sharing one database must share this key.
	SecretKeyFile string `yaml:"secret_key_file"`
	// PostgresDSN chooses PostgreSQL instead of the embedded SQLite database.
	PostgresDSN string `yaml:"postgres_dsn"`
	// NodeID names this node among those sharing one database (camera leases, the node of each
	// local segment); empty means one derived from the host name (NodeName).
	NodeID string `yaml:"node_id"`
	// Policy is a policy pack file, or "embedded:NAME" for one of the packs shipped in the
	// binary (policies/: zhuzhou.yaml, typical.yaml); empty means the embedded Zhuzhou pack.
	Policy string `yaml:"policy"`
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`
	// SessionTTL is how long a login lasts.
	SessionTTL Duration `yaml:"session_ttl"`
	// Trace configures the access trail's checkpoints.
	Trace TraceConfig `yaml:"trace"`
	// UI configures the web UI.
	UI UIConfig `yaml:"ui"`
	// Applications configures lost-person applications (REG-6).
	Applications ApplicationsConfig `yaml:"applications"`
	// CameraReports bounds the public's reports of suspected illegal cameras (REG-2).
	CameraReports CameraReportsConfig `yaml:"camera_reports"`
	// Recording configures the recorder's process.
	Recording RecordingConfig `yaml:"recording"`
	// Recordings configures where sealed segments are kept.
	Recordings RecordingsConfig `yaml:"recordings"`
	// Live configures live view's WebRTC transport.
	Live LiveConfig `yaml:"live"`
	// GB28181 configures the GB/T 28181 SIP platform that devices and NVRs register with.
	GB28181 GB28181Config `yaml:"gb28181"`
	// Login throttling of repeated failures: the limit for one username from one client
	// address; guesses from unknown clients get twice it, an address four times (auth.Throttle).
	LoginMaxFailures int      `yaml:"login_max_failures"`
	LoginWindow      Duration `yaml:"login_window"`
	// PasswordHashing bounds the process's argon2id work (auth.Hasher).
	PasswordHashing PasswordHashingConfig `yaml:"password_hashing"`
}

// PasswordHashingConfig bounds password hashing: logins, registrations, password changes and
// the command line share the slots.
type PasswordHashingConfig struct {
	// Slots is how many hashes may run at once; 0 is one per CPU, at most 4 (64 MiB each).
	Slots int `yaml:"slots"`
	// Wait is how long a hash waits for a slot before the request is refused with 503.
	Wait Duration `yaml:"wait"`
}

// AutoOrigin is the trace.origin that derives the log's origin from the installation.
const AutoOrigin = "auto"

// OriginHost is the host an AutoOrigin log is named after: public_url's, else "civicam" (the
// key's hash after it still keeps installations apart).
func (c Config) OriginHost() string {
	if u, err := url.Parse(c.PublicURL); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return "civicam"
}

// TraceConfig configures the trail.
type TraceConfig struct {
	// Origin names this platform's log in its checkpoints when its key is made. AutoOrigin (the
	// default) derives one no other installation has: OriginHost and a short hash of the key.
	Origin string `yaml:"origin"`
	// CheckpointEvery signs a checkpoint after this many new entries.
	CheckpointEvery int `yaml:"checkpoint_every"`
	// CheckpointInterval signs a checkpoint at least this often when entries were added.
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
}

// UIConfig configures the web UI.
type UIConfig struct {
	// Language is zh, en, or empty to follow the browser (Chinese when it says nothing).
	Language string `yaml:"language"`
	// TileURL is a map tile URL template like https://tiles.example/{z}/{x}/{y}.png; empty draws
	// camera positions on a plain plane, with no request leaving the browser.
	TileURL string `yaml:"tile_url"`
}

// ApplicationsConfig configures lost-person applications.
type ApplicationsConfig struct {
	// WebhookURL receives applicants' notifications (verification codes, results) as JSON POSTs:
	// an e-mail or SMS gateway. Empty keeps them queued until one is set.
	WebhookURL string `yaml:"webhook_url"`
	// SearchRadiusM is how far from the last-seen place candidate cameras are sought.
	SearchRadiusM float64 `yaml:"search_radius_m"`
	// MaxWindow caps the footage window a reviewer may search.
	MaxWindow Duration `yaml:"max_window"`
	// NoticeFont is a TrueType (.ttf) font with CJK glyphs for the result notice PDF.
	NoticeFont string `yaml:"notice_font"`
	// RegistrationsPerAddress bounds the self-registrations from one client address an hour.
	RegistrationsPerAddress int `yaml:"registrations_per_address"`
}

// CameraReportsConfig bounds the anonymous public form for suspected illegal cameras.
type CameraReportsConfig struct {
	// PerAddress reports from one client address within Window lock the address for a minute,
	// then twice as long after each further one, up to 15 minutes.
	PerAddress int      `yaml:"per_address"`
	Window     Duration `yaml:"window"`
}

// RecordingConfig configures recording.
type RecordingConfig struct {
	// MemoryPerStreamMiB is the memory budget per recorded stream (see package membudget); 0
	// leaves the Go runtime's settings alone.
	MemoryPerStreamMiB float64 `yaml:"memory_per_stream_mib"`
	// MaxStreams is how many cameras this node records at most; 0 means no bound but the fair
	// share of the live nodes.
	MaxStreams int `yaml:"max_streams"`
	// LeaseTTL is how long a camera's lease lasts unrenewed (default 10 s); LeaseRenew how
	// often the node renews its leases and takes free cameras (default 2 s, under LeaseTTL/3).
	LeaseTTL   Duration `yaml:"lease_ttl"`
	LeaseRenew Duration `yaml:"lease_renew"`
}

// RecordingsConfig configures where recordings are kept beside the local disk.
type RecordingsConfig struct {
	// S3, when its endpoint is set, keeps sealed segments in an S3-compatible bucket; the
	// segment being written stays on local disk.
	S3 S3Config `yaml:"s3"`
}

// S3Config names an S3-compatible bucket. Empty credentials fall back to the usual AWS
// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
type S3Config struct {
	// Endpoint is the server's URL, like http://127.0.0.1:7070; empty keeps recordings on
	// local disk only.
	Endpoint  string `yaml:"endpoint"`
	Bucket    string `yaml:"bucket"`
	Region    string `yaml:"region"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// PathStyle addresses the bucket in the path (http://host/bucket/key), as most self-hosted
	// servers need, instead of in the host name.
	PathStyle bool `yaml:"path_style"`
	// ObjectLock gives every uploaded segment an Object Lock retention (COMPLIANCE) until the
	// pack's retention floor has passed, and legal holds a legal hold on their objects; the
	// bucket must have been created with Object Lock enabled.
	ObjectLock bool `yaml:"object_lock"`
}

// Enabled reports whether a bucket is configured.
func (s S3Config) Enabled() bool { return s.Endpoint != "" }

// LiveConfig configures live view (WHEP): where its media goes through.
type LiveConfig struct {
	// ICEListen is the one UDP address every live session's media goes through.
	ICEListen string `yaml:"ice_listen"`
	// PublicIPs, comma-separated, replace the listening address in the candidates offered to
	// browsers, for a server behind NAT mapped one to one.
	PublicIPs string `yaml:"public_ips"`
}

// PublicIPList is PublicIPs split at commas.
func (l LiveConfig) PublicIPList() []string {
	var out []string
	for _, ip := range strings.Split(l.PublicIPs, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

// GB28181Config configures the GB/T 28181 platform (issue 14's public contract names its keys).
type GB28181Config struct {
	// Listen is the SIP address, served over UDP and TCP; empty turns the platform off.
	Listen string `yaml:"listen"`
	// ID is the platform's 20-digit SIP id; Domain its 10-digit domain (the digest realm).
	ID     string `yaml:"id"`
	Domain string `yaml:"domain"`
	// Password is the devices' digest password; empty lets devices register without digest.
	Password string `yaml:"password"`
	// MediaIP is the address devices send RTP to; MediaPorts the range received on, "lo-hi".
	MediaIP    string `yaml:"media_ip"`
	MediaPorts string `yaml:"media_ports"`
	// MediaTransport is how media is asked for: udp, tcp (RTP over TCP, RFC 4571, the device
	// connecting to media_ip), tcp-active (civicam connecting to the device), or empty to
	// follow each device: RTP over TCP to one registered over TCP, UDP otherwise.
	MediaTransport string `yaml:"media_transport"`
}

// MediaPortRange parses MediaPorts.
func (g GB28181Config) MediaPortRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(g.MediaPorts, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range like 30000-30100", g.MediaPorts)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a range of ports within 1024-65535", g.MediaPorts)
	}
	return lo, hi, nil
}

// Duration is a time.Duration written as "90s" or "24h" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s or 24h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the configuration of the embedded default: SQLite and local disk in
// ./civicam-data, served on loopback.
func Default() Config {
	return Config{
		Data:             "./civicam-data",
		Listen:           "127.0.0.1:8080",
		LogLevel:         "info",
		LogFormat:        "text",
		SessionTTL:       Duration(12 * time.Hour),
		LoginMaxFailures: 5,
		LoginWindow:      Duration(15 * time.Minute),
		PasswordHashing:  PasswordHashingConfig{Wait: Duration(2 * time.Second)},
		Applications:     ApplicationsConfig{SearchRadiusM: 2000, MaxWindow: Duration(72 * time.Hour), RegistrationsPerAddress: 10},
		CameraReports:    CameraReportsConfig{PerAddress: 5, Window: Duration(time.Hour)},
		Recording:        RecordingConfig{MemoryPerStreamMiB: 1, LeaseTTL: Duration(10 * time.Second), LeaseRenew: Duration(2 * time.Second)},
		Live:             LiveConfig{ICEListen: "127.0.0.1:0"},
		GB28181: GB28181Config{
			ID:         "43020000002000000001",
			Domain:     "4302000000",
			MediaIP:    "127.0.0.1",
			MediaPorts: "30000-30100",
		},
		Trace: TraceConfig{
			Origin:             AutoOrigin,
			CheckpointEvery:    1000,
			CheckpointInterval: Duration(10 * time.Second),
		},
	}
}

// Load returns the defaults overlaid with the file at path (if not empty) and the environment.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file is io.EOF: all defaults.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks the values, naming the key at fault.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Data) == "" {
		return errors.New("data: must name a directory")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("public_url: %q is not an http(s) URL", c.PublicURL)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("tls_cert_file: tls_cert_file and tls_key_file are set together or not at all")
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		return errors.New("metrics_token: must be at least 16 characters, without spaces")
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("metrics_listen: %q is not host:port", c.MetricsListen)
		}
		if c.MetricsListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			return errors.New("metrics_listen: must differ from listen")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log_format: %q is not text or json", c.LogFormat)
	}
	if c.SessionTTL.D() < time.Minute {
		return errors.New("session_ttl: must be at least 1m")
	}
	if c.Trace.CheckpointEvery < 1 {
		return errors.New("trace.checkpoint_every: must be at least 1")
	}
	if c.Trace.CheckpointInterval.D() < 100*time.Millisecond {
		return errors.New("trace.checkpoint_interval: must be at least 100ms")
	}
	if strings.TrimSpace(c.Trace.Origin) == "" || strings.ContainsAny(c.Trace.Origin, "\n") {
		return errors.New("trace.origin: must be one non-empty line")
	}
	if strings.ContainsAny(c.Trace.Origin, "+ \t\r") {
		return errors.New("trace.origin: must not contain spaces or '+'")
	}
	if host, _, err := net.SplitHostPort(c.Live.ICEListen); err != nil || host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("live.ice_listen: %q is not ip:port", c.Live.ICEListen)
	}
	for _, ip := range c.Live.PublicIPList() {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("live.public_ips: %q is not an IP address", ip)
		}
	}
	switch c.UI.Language {
	case "", "zh", "en":
	default:
		return fmt.Errorf("ui.language: %q is not zh, en or empty", c.UI.Language)
	}
	if c.UI.TileURL != "" && (!strings.HasPrefix(c.UI.TileURL, "https://") && !strings.HasPrefix(c.UI.TileURL, "http://") ||
		!strings.Contains(c.UI.TileURL, "{z}") || !strings.Contains(c.UI.TileURL, "{x}") || !strings.Contains(c.UI.TileURL, "{y}")) {
		return fmt.Errorf("ui.tile_url: %q must be an http(s) URL with {z}, {x} and {y}", c.UI.TileURL)
	}
	if c.Applications.WebhookURL != "" && !strings.HasPrefix(c.Applications.WebhookURL, "https://") && !strings.HasPrefix(c.Applications.WebhookURL, "http://") {
		return fmt.Errorf("applications.webhook_url: %q is not an http(s) URL", c.Applications.WebhookURL)
	}
	if c.Applications.SearchRadiusM <= 0 || c.Applications.SearchRadiusM > 50_000 {
		return errors.New("applications.search_radius_m: must be in (0, 50000]")
	}
	if c.CameraReports.PerAddress < 1 {
		return errors.New("camera_reports.per_address: must be at least 1")
	}
	if c.CameraReports.Window.D() <= 0 {
		return errors.New("camera_reports.window: must be positive")
	}
	if c.Applications.RegistrationsPerAddress < 1 {
		return errors.New("applications.registrations_per_address: must be at least 1")
	}
	if c.Applications.MaxWindow.D() < time.Hour {
		return errors.New("applications.max_window: must be at least 1h")
	}
	if c.Recording.MemoryPerStreamMiB < 0 || c.Recording.MemoryPerStreamMiB > 1024 {
		return errors.New("recording.memory_per_stream_mib: must be in [0, 1024]")
	}
	if c.Recording.MaxStreams < 0 {
		return errors.New("recording.max_streams: must not be negative")
	}
	if c.Recording.LeaseTTL.D() < time.Second || c.Recording.LeaseRenew.D() <= 0 || 3*c.Recording.LeaseRenew.D() > c.Recording.LeaseTTL.D() {
		return errors.New("recording.lease_ttl, lease_renew: the lease must last at least 1s and three renewals")
	}
	if c.NodeID != "" && !validNodeID(c.NodeID) {
		return errors.New("node_id: letters, digits, '.', '_' and '-', at most 64")
	}
	if err := c.GB28181.validate(); err != nil {
		return err
	}
	if err := c.Recordings.S3.validate(); err != nil {
		return err
	}
	if c.LoginMaxFailures < 1 {
		return errors.New("login_max_failures: must be at least 1")
	}
	if c.PasswordHashing.Slots < 0 || c.PasswordHashing.Slots > 64 {
		return errors.New("password_hashing.slots: must be 0 (one per CPU) to 64")
	}
	if c.PasswordHashing.Wait.D() < 0 || c.PasswordHashing.Wait.D() > time.Minute {
		return errors.New("password_hashing.wait: must be 0 to 1m")
	}
	if c.LoginWindow.D() <= 0 {
		return errors.New("login_window: must be positive")
	}
	return nil
}

func (s S3Config) validate() error {
	if !s.Enabled() {
		return nil
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("recordings.s3.endpoint: %q is not an http(s) URL of a server", s.Endpoint)
	}
	if s.Bucket == "" {
		return errors.New("recordings.s3.bucket: required with recordings.s3.endpoint")
	}
	if (s.AccessKey == "") != (s.SecretKey == "") {
		return errors.New("recordings.s3.secret_key: access_key and secret_key go together")
	}
	return nil
}

func (g GB28181Config) validate() error {
	if g.Listen != "" {
		if _, _, err := net.SplitHostPort(g.Listen); err != nil {
			return fmt.Errorf("gb28181.listen: %q is not host:port", g.Listen)
		}
	}
	if !allDigits(g.ID, 20) {
		return fmt.Errorf("gb28181.id: %q is not 20 digits", g.ID)
	}
	if !allDigits(g.Domain, 10) {
		return fmt.Errorf("gb28181.domain: %q is not 10 digits", g.Domain)
	}
	if g.MediaIP != "" && net.ParseIP(g.MediaIP) == nil {
		return fmt.Errorf("gb28181.media_ip: %q is not an IP address", g.MediaIP)
	}
	if _, _, err := g.MediaPortRange(); err != nil {
		return fmt.Errorf("gb28181.media_ports: %w", err)
	}
	switch g.MediaTransport {
	case "", "udp", "tcp", "tcp-active":
	default:
		return fmt.Errorf("gb28181.media_transport: %q is not udp, tcp or tcp-active", g.MediaTransport)
	}
	return nil
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SQLitePath is where the embedded database lives.
func (c *Config) SQLitePath() string { return filepath.Join(c.Data, "civicam.db") }

// SecretKeyPath is the file of the key sealing stream credentials.
func (c *Config) SecretKeyPath() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.Data, "secret.key")
}

// TLS reports whether the server serves HTTPS itself.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

// SecureCookies reports whether the cookies must be Secure on every request: users reach the
// server over HTTPS, whether it or a proxy in front of it speaks TLS.
func (c *Config) SecureCookies() bool {
	return c.TLS() || strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

// NodeName is the node's id: node_id, or else the host name (the node of a single machine).
func (c Config) NodeName() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "node"
	}
	var b strings.Builder
	for _, r := range h {
		if len(b.String()) >= 64 {
			break
		}
		if validNodeRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func validNodeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func validNodeID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !validNodeRune(r) {
			return false
		}
	}
	return true
}
