// Package bucket keeps sealed segments in an S3-compatible bucket (recordings.s3): the client
// (minio-go), the reader that plays an object with range requests, the Segments store that
// reads and deletes a segment wherever it lives, and the Uploader that moves sealed segments from
// local disk to the bucket, checked against their SHA-256, in order, waiting while the bucket is
// unreachable.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"civicam/internal/segment"
)

// Config names the bucket.
type Config struct {
	// Endpoint is the server's URL, like http://127.0.0.1:7070.
	Endpoint string
	Bucket   string
	Region   string
	// AccessKey and SecretKey, when empty, come from AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
	AccessKey, SecretKey string
	// PathStyle puts the bucket in the URL's path rather than its host name.
	PathStyle bool
	// ObjectLock gives every upload a COMPLIANCE retention and lets legal holds reach objects.
	ObjectLock bool
	// PartSize is the size of a multipart upload's parts; objects larger go up in parts.
	// Default 16 MiB.
	PartSize uint64
}

// Client talks to the bucket.
type Client struct {
	cfg Config
	mc  *minio.Client
}

// ErrMissing is returned for an object that is not in the bucket; it satisfies
// errors.Is(err, fs.ErrNotExist), as a missing local file does.
var ErrMissing = fmt.Errorf("object not in the bucket: %w", fs.ErrNotExist)

// New returns a Client; nothing is sent until it is used.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bucket endpoint %q: not a URL", cfg.Endpoint)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	creds := credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	if cfg.AccessKey == "" {
		creds = credentials.NewEnvAWS()
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	mc, err := minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: region,
		BucketLookup: lookup, MaxRetries: 1,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16,
			ResponseHeaderTimeout: 30 * time.Second, IdleConnTimeout: 90 * time.Second}})
	if err != nil {
		return nil, fmt.Errorf("bucket client: %w", err)
	}
	return &Client{cfg: cfg, mc: mc}, nil
}

// Bucket is the bucket's name.
func (c *Client) Bucket() string { return c.cfg.Bucket }

// ObjectLock reports whether uploads carry Object Lock retention.
func (c *Client) ObjectLock() bool { return c.cfg.ObjectLock }

// Check reports whether the bucket is reachable with these credentials.
func (c *Client) Check(ctx context.Context) error {
	// A listing, not a HEAD: its answer has a body naming why it was refused.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range c.mc.ListObjects(ctx, c.cfg.Bucket, minio.ListObjectsOptions{MaxKeys: 1}) {
		if o.Err != nil {
			if minio.ToErrorResponse(o.Err).Code == "NoSuchBucket" {
				return fmt.Errorf("bucket %s: does not exist", c.cfg.Bucket)
			}
			return fmt.Errorf("bucket %s: %w", c.cfg.Bucket, explain(o.Err))
		}
		break
	}
	return nil
}

// PutOptions are what an upload carries beside the bytes.
type PutOptions struct {
	// RetainUntil, when set and Object Lock is configured, is the COMPLIANCE retention.
	RetainUntil time.Time
	// LegalHold sets the object's legal hold (Object Lock only).
	LegalHold bool
}

// Put uploads size bytes from r to key, in parts of PartSize when larger.
func (c *Client) Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) error {
	opts := minio.PutObjectOptions{ContentType: "video/mp4", PartSize: c.cfg.PartSize, NumThreads: 1}
	if c.cfg.ObjectLock {
		if !o.RetainUntil.IsZero() {
			opts.Mode, opts.RetainUntilDate = minio.Compliance, o.RetainUntil.UTC()
		}
		if o.LegalHold {
			opts.LegalHold = minio.LegalHoldEnabled
		}
	}
	info, err := c.mc.PutObject(ctx, c.cfg.Bucket, key, r, size, opts)
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, explain(err))
	}
	if info.Size != size {
		return fmt.Errorf("upload %s: %d bytes stored; want %d", key, info.Size, size)
	}
	return nil
}

// Size is the stored length of key; a missing object is ErrMissing.
func (c *Client) Size(ctx context.Context, key string) (int64, error) {
	st, err := c.mc.StatObject(ctx, c.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return 0, fmt.Errorf("stat %s: %w", key, ErrMissing)
		}
		return 0, fmt.Errorf("stat %s: %w", key, explain(err))
	}
	return st.Size, nil
}

// Remove deletes every version of key (an Object Lock bucket is versioned: deleting without a
// version would only hide the footage behind a delete marker). An object under retention or a
// legal hold is refused by the server, and the error says so; a missing object is not an error.
func (c *Client) Remove(ctx context.Context, key string) error {
	var versions []minio.ObjectInfo
	for o := range c.mc.ListObjects(ctx, c.cfg.Bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			if notFound(o.Err) {
				break
			}
			return fmt.Errorf("list versions of %s: %w", key, explain(o.Err))
		}
		if o.Key == key {
			versions = append(versions, o)
		}
	}
	if len(versions) == 0 {
		// A server without versioning lists no versions: delete the object itself.
		versions = []minio.ObjectInfo{{Key: key}}
	}
	for _, v := range versions {
		err := c.mc.RemoveObject(ctx, c.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: v.VersionID})
		if err != nil && !notFound(err) {
			return fmt.Errorf("delete %s (version %q): %w", key, v.VersionID, explain(err))
		}
	}
	return nil
}

// SetLegalHold sets or clears the legal hold of every version of key.
func (c *Client) SetLegalHold(ctx context.Context, key string, on bool) error {
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	if err := c.mc.PutObjectLegalHold(ctx, c.cfg.Bucket, key, minio.PutObjectLegalHoldOptions{Status: &status}); err != nil {
		if notFound(err) {
			return fmt.Errorf("legal hold on %s: %w", key, ErrMissing)
		}
		return fmt.Errorf("legal hold on %s: %w", key, explain(err))
	}
	return nil
}

// Open opens key for reading with range requests.
func (c *Client) Open(ctx context.Context, key string) (segment.Reader, error) {
	size, err := c.Size(ctx, key)
	if err != nil {
		return nil, err
	}
	return &objectReader{c: c, ctx: ctx, key: key, size: size}, nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NoSuchVersion" || code == "NotFound"
}

// ErrRefused is the bucket refusing the credentials: an unknown access key or a wrong secret.
var ErrRefused = errors.New("the bucket refused the credentials (recordings.s3.access_key, secret_key)")

// explain turns the server's answer into an error naming its code, so that a wrong key reads as
// such in the log and the status ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied").
func explain(err error) error {
	r := minio.ToErrorResponse(err)
	switch r.Code {
	case "":
		return err
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "InvalidToken", "ExpiredToken":
		return fmt.Errorf("%w: %s (HTTP %d): %s", ErrRefused, r.Code, r.StatusCode, r.Message)
	}
	return fmt.Errorf("%s (HTTP %d): %s: %w", r.Code, r.StatusCode, r.Message, err)
}

// objectReader reads an object with range requests: a read continuing where the last ended goes
// on with its response; any other opens a new range, to the object's end, so that copying a part
// of a segment is one request and reading a moof is one short read of it.
type objectReader struct {
	c    *Client
	ctx  context.Context
	key  string
	size int64

	mu   sync.Mutex
	body io.ReadCloser
	pos  int64 // offset of body's next byte
}

// skipLimit is the largest gap read through rather than answered by a new request: a part's
// moof, between the mdats playback copies.
const skipLimit = 64 << 10

func (r *objectReader) Size() (int64, error) { return r.size, nil }

func (r *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s at %d: negative offset", r.key, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rest := r.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.body != nil && off > r.pos && off-r.pos <= skipLimit {
		if n, err := io.CopyN(io.Discard, r.body, off-r.pos); err != nil {
			r.drop()
		} else {
			r.pos += n
		}
	}
	if r.body == nil || r.pos != off {
		r.drop()
		var opts minio.GetObjectOptions
		if err := opts.SetRange(off, r.size-1); err != nil {
			return 0, err
		}
		body, _, _, err := minio.Core{Client: r.c.mc}.GetObject(r.ctx, r.c.cfg.Bucket, r.key, opts)
		if err != nil {
			return 0, fmt.Errorf("read %s at %d: %w", r.key, off, explain(err))
		}
		r.body, r.pos = body, off
	}
	n, err := io.ReadFull(r.body, want)
	r.pos += int64(n)
	if err != nil {
		r.drop()
		return n, fmt.Errorf("read %s at %d: %w", r.key, off, err)
	}
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *objectReader) drop() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

func (r *objectReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop()
	return nil
}
