package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		check   func(c Config) bool
		wantErr string
	}{
		{"defaults", "", nil, func(c Config) bool {
			return c.Data == "./civicam-data" && c.Listen == "127.0.0.1:8080" && c.SessionTTL.D() == 12*time.Hour
		}, ""},
		{"empty file", write("empty.yaml", ""), nil, func(c Config) bool { return c.Listen == "127.0.0.1:8080" }, ""},
		{"file", write("a.yaml", "listen: 0.0.0.0:9000\nsession_ttl: 1h\ntrace:\n  checkpoint_every: 10\n"), nil,
			func(c Config) bool {
				return c.Listen == "0.0.0.0:9000" && c.SessionTTL.D() == time.Hour && c.Trace.CheckpointEvery == 10 && c.Trace.Origin != ""
			}, ""},
		{"s3 from env", "", map[string]string{"CIVICAM_RECORDINGS_S3_ENDPOINT": "http://127.0.0.1:7070",
			"CIVICAM_RECORDINGS_S3_BUCKET": "rec", "CIVICAM_RECORDINGS_S3_PATH_STYLE": "true", "CIVICAM_RECORDINGS_S3_OBJECT_LOCK": "true"},
			func(c Config) bool {
				return c.Recordings.S3.Endpoint == "http://127.0.0.1:7070" && c.Recordings.S3.PathStyle && c.Recordings.S3.ObjectLock
			}, ""},
		{"env beats file", write("b.yaml", "listen: 0.0.0.0:9000\n"), map[string]string{"CIVICAM_LISTEN": "127.0.0.1:7000", "CIVICAM_TRACE_CHECKPOINT_EVERY": "7"},
			func(c Config) bool { return c.Listen == "127.0.0.1:7000" && c.Trace.CheckpointEvery == 7 }, ""},
		{"unknown key", write("c.yaml", "listne: x\n"), nil, nil, "field listne not found"},
		{"bad duration", write("d.yaml", "session_ttl: forever\n"), nil, nil, "line 1"},
		{"bad env number", "", map[string]string{"CIVICAM_TRACE_CHECKPOINT_EVERY": "many"}, nil, "CIVICAM_TRACE_CHECKPOINT_EVERY"},
		{"missing file", filepath.Join(dir, "nope.yaml"), nil, nil, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.file, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() = %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			if !tt.check(c) {
				t.Fatalf("Load() = %+v; not as expected", c)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		key  string
	}{
		{"listen", func(c *Config) { c.Listen = "8080" }, "listen"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "log_format"},
		{"session", func(c *Config) { c.SessionTTL = Duration(time.Second) }, "session_ttl"},
		{"checkpoint every", func(c *Config) { c.Trace.CheckpointEvery = 0 }, "trace.checkpoint_every"},
		{"origin", func(c *Config) { c.Trace.Origin = "a\nb" }, "trace.origin"},
		{"data", func(c *Config) { c.Data = " " }, "data"},
		{"language", func(c *Config) { c.UI.Language = "fr" }, "ui.language"},
		{"tile url", func(c *Config) { c.UI.TileURL = "https://t/{z}/{x}.png" }, "ui.tile_url"},
		{"public url", func(c *Config) { c.PublicURL = "ftp://cams.example" }, "public_url"},
		{"certificate without key", func(c *Config) { c.TLSCertFile = "cert.pem" }, "tls_cert_file"},
		{"key without certificate", func(c *Config) { c.TLSKeyFile = "key.pem" }, "tls_cert_file"},
		{"short metrics token", func(c *Config) { c.MetricsToken = "secret" }, "metrics_token"},
		{"metrics listen", func(c *Config) { c.MetricsListen = "9090" }, "metrics_listen"},
		{"metrics on the main listener", func(c *Config) { c.MetricsListen = c.Listen }, "metrics_listen"},
		{"gb media transport", func(c *Config) { c.GB28181.MediaTransport = "sctp" }, "gb28181.media_transport"},
		{"s3 endpoint", func(c *Config) { c.Recordings.S3.Endpoint, c.Recordings.S3.Bucket = "127.0.0.1:7070", "b" }, "recordings.s3.endpoint"},
		{"s3 without bucket", func(c *Config) { c.Recordings.S3.Endpoint = "http://127.0.0.1:7070" }, "recordings.s3.bucket"},
		{"s3 key without secret", func(c *Config) {
			c.Recordings.S3 = S3Config{Endpoint: "http://127.0.0.1:7070", Bucket: "b", AccessKey: "k"}
		}, "recordings.s3.secret_key"},
	}
	for _, tt := range tests {
		c := Default()
		tt.edit(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.key) {
			t.Errorf("Validate(%s) = %v; want an error naming %s", tt.name, err, tt.key)
		}
	}
}

// TestExampleFileIsComplete keeps civicam.example.yaml documenting every key, and loadable.
func TestExampleFileIsComplete(t *testing.T) {
	path := filepath.Join("..", "..", "civicam.example.yaml")
	c, err := Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatalf("Load(example) = %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example does not validate: %v", err)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{"data:", "listen:", "postgres_dsn:", "policy:", "log_level:", "log_format:", "session_ttl:",
		"login_max_failures:", "login_window:", "password_hashing:", "slots:", "wait:", "trace:", "origin:", "checkpoint_every:", "checkpoint_interval:", "ui:", "language:", "tile_url:", "applications:", "webhook_url:", "search_radius_m:", "max_window:", "notice_font:", "registrations_per_address:", "camera_reports:", "per_address:"} {
		if !strings.Contains(string(b), key) {
			t.Errorf("civicam.example.yaml does not document %s", key)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want bool
	}{
		{"plain http", func(c *Config) {}, false},
		{"http public url", func(c *Config) { c.PublicURL = "http://cams.example" }, false},
		{"https public url", func(c *Config) { c.PublicURL = "HTTPS://cams.example" }, true},
		{"tls", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = "c.pem", "k.pem" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			if got := c.SecureCookies(); got != tt.want {
				t.Errorf("SecureCookies() with %s = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
}

// TestDeploySampleLoads: the sample node config of docs/deploy.md loads and validates, with its
// secrets from the environment as the sample says.
func TestDeploySampleLoads(t *testing.T) {
	env := map[string]string{"CIVICAM_POSTGRES_DSN": "postgres://civicam@db.example.gov.cn/civicam",
		"CIVICAM_RECORDINGS_S3_ACCESS_KEY": "AK", "CIVICAM_RECORDINGS_S3_SECRET_KEY": "SK", "CIVICAM_GB28181_PASSWORD": "pw"}
	c, err := Load("../../deploy/civicam-node.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("Load(deploy/civicam-node.yaml) = %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(deploy/civicam-node.yaml) = %v", err)
	}
	if !c.Recordings.S3.Enabled() || !c.Recordings.S3.ObjectLock || c.PostgresDSN == "" {
		t.Errorf("deploy sample = S3 %v (lock %v), PostgreSQL %q; want the bucket with Object Lock and PostgreSQL", c.Recordings.S3.Enabled(), c.Recordings.S3.ObjectLock, c.PostgresDSN)
	}
}
