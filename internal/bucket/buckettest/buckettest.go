// Package buckettest gives tests real S3 buckets: on the versitygw server scripts/with-s3.sh
// starts (CIVICAM_TEST_S3), or on servers of a test's own (CIVICAM_TEST_S3_BIN) that it can stop
// and restart. Tests skip when the variables are not set.
package buckettest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"civicam/internal/bucket"
)

// Config returns a bucket.Config for a new, empty bucket with versioning and Object Lock on the
// shared test server, or skips the test when CIVICAM_TEST_S3 is not set.
func Config(t testing.TB) bucket.Config {
	t.Helper()
	raw := os.Getenv("CIVICAM_TEST_S3")
	if raw == "" {
		t.Skip("CIVICAM_TEST_S3 not set (run under scripts/with-s3.sh)")
	}
	cfg, err := parse(raw)
	if err != nil {
		t.Fatalf("CIVICAM_TEST_S3: %v", err)
	}
	cfg.Bucket = "t-" + strings.ToLower(rand.Text()[:16])
	makeBucket(t, cfg)
	return cfg
}

func parse(raw string) (bucket.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return bucket.Config{}, fmt.Errorf("%q is not http://ACCESS:SECRET@HOST:PORT", raw)
	}
	secret, _ := u.User.Password()
	return bucket.Config{Endpoint: u.Scheme + "://" + u.Host, AccessKey: u.User.Username(), SecretKey: secret,
		PathStyle: true, ObjectLock: true}, nil
}

func makeBucket(t testing.TB, cfg bucket.Config) {
	t.Helper()
	u, _ := url.Parse(cfg.Endpoint)
	mc, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		BucketLookup: minio.BucketLookupPath, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mc.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatalf("MakeBucket(%s) = %v", cfg.Bucket, err)
	}
}

// Server is a versitygw process of one test's own.
type Server struct {
	t       testing.TB
	bin     string
	dir     string
	addr    string
	access  string
	secret  string
	cmd     *exec.Cmd
	Config  bucket.Config // for its one bucket, with Object Lock
	stopped bool
}

// Start starts a server on a free loopback port with one bucket, or skips the test when
// CIVICAM_TEST_S3_BIN is not set. It is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("CIVICAM_TEST_S3_BIN")
	if bin == "" {
		t.Skip("CIVICAM_TEST_S3_BIN not set (run under scripts/with-s3.sh)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), addr: addr, access: "testaccess", secret: "testsecret0123456789"}
	for _, d := range []string{"data", "versions"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	s.Restart()
	t.Cleanup(s.Stop)
	s.Config = bucket.Config{Endpoint: "http://" + addr, Bucket: "rec", AccessKey: s.access, SecretKey: s.secret,
		PathStyle: true, ObjectLock: true}
	makeBucket(t, s.Config)
	return s
}

// Stop kills the server, as a crash or a lost network would end it.
func (s *Server) Stop() {
	if s.cmd == nil || s.stopped {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.stopped = true
}

// Restart starts the server again on its address and directory, and waits until it accepts
// connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--access", s.access, "--secret", s.secret, "--port", s.addr, "--quiet", "--keep-alive",
		"posix", "--versioning-dir", filepath.Join(s.dir, "versions"), filepath.Join(s.dir, "data"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start versitygw: %v", err)
	}
	s.stopped = false
	for range 100 {
		if c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("versitygw did not listen on %s", s.addr)
}

// Pid is the running server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }
