package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"civicam/internal/store"
	"civicam/internal/trace"
)

// traceVerify recomputes the trail. Exit 0: intact (and consistent with --checkpoint); 3: damaged,
// naming the first bad entry; 1: could not be read.
func traceVerify(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "trace verify")
	cpFile := fs.String("checkpoint", "", "a signed checkpoint saved earlier (e.g. from /api/v1/trace/checkpoint)")
	vkey := fs.String("key", "", "the verifier key (from /api/v1/trace/key); default: derived from DATA/trace.key, or with --remote served by the server")
	remote := fs.String("remote", "", "verify the trail of the server at this URL through its API, not its database")
	token := fs.String("token", "", "with --remote: an auditor's bearer token, which reading the leaves takes (default: $CIVICAM_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var external []byte
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile)
		if err != nil {
			return err
		}
		external = b
	}
	if *remote != "" {
		if *token == "" {
			*token = e.getenv("CIVICAM_TOKEN")
		}
		return traceVerifyRemote(ctx, e, newTraceClient(*remote, *token), *vkey, external)
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	// Verification only reads: it opens the store, not a running trail, so it never appends or
	// signs anything of its own.
	if *vkey == "" {
		keyPath := filepath.Join(cfg.Data, "trace.key")
		if _, err := os.Stat(keyPath); err != nil {
			return fmt.Errorf("no trace key at %s (give --key): %w", keyPath, err)
		}
		k, err := trace.LoadOrCreateKey(keyPath, cfg.Trace.Origin)
		if err != nil {
			return err
		}
		*vkey = k.VerifierKey()
	}
	db, err := store.Open(ctx, store.Config{SQLitePath: cfg.SQLitePath(), PostgresDSN: cfg.PostgresDSN})
	if err != nil {
		return err
	}
	defer db.Close()
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(trace.VerifyGCPercent))
	}
	rep, err := trace.Verify(ctx, db, *vkey, external)
	if err != nil {
		return err
	}
	return printReport(e, rep)
}

// traceVerifyRemote verifies the trail of a server from its API. Without a pinned key it takes
// the server's, and says so: a server that rewrote its trail could also have changed its key,
// which only a key or checkpoint kept from before catches.
func traceVerifyRemote(ctx context.Context, e env, c *traceClient, vkey string, external []byte) error {
	if vkey == "" {
		k, err := c.key(ctx)
		if err != nil {
			return err
		}
		vkey = k
		fmt.Fprintf(e.stdout, "note: checking signatures with the key the server serves (%s); pin it with --key\n", vkey)
	}
	rep, err := trace.VerifyRemote(ctx, c, vkey, external)
	if err != nil {
		return err
	}
	return printReport(e, rep)
}

// printReport prints what a verification found; a damaged trail exits 3.
func printReport(e env, rep trace.Report) error {
	if !rep.Intact {
		fmt.Fprintf(e.stdout, "DAMAGED: %s\n", rep.Problem)
		if rep.FirstBad >= 0 {
			if rep.BadUntil > rep.FirstBad+1 {
				fmt.Fprintf(e.stdout, "first bad entry: between %d and %d\n", rep.FirstBad, rep.BadUntil-1)
			} else {
				fmt.Fprintf(e.stdout, "first bad entry: %d\n", rep.FirstBad)
			}
		}
		return exitCode(3)
	}
	fmt.Fprintf(e.stdout, "intact: %d entries, root %x, %d signed checkpoint(s) match", rep.Entries, rep.Root, rep.Checkpoints)
	if rep.External != nil {
		fmt.Fprintf(e.stdout, ", consistent with the given checkpoint (size %d)", rep.External.Size)
	}
	fmt.Fprintln(e.stdout)
	if rep.Unsigned > 0 {
		fmt.Fprintf(e.stdout, "note: the newest %d entries are not yet covered by a signed checkpoint\n", rep.Unsigned)
	}
	return nil
}

// traceClient reads a server's trail through its API: trace.Remote over HTTP.
type traceClient struct {
	base, token string
	http        *http.Client
}

func newTraceClient(base, token string) *traceClient {
	return &traceClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: time.Minute}}
}

// get fetches path; a status other than 200 is an error naming it and the server's message.
func (c *traceClient) get(ctx context.Context, path string, auth bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	// A page of leaves is at most about a megabyte; the bound keeps a hostile server from
	// filling memory.
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, res.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

func (c *traceClient) getJSON(ctx context.Context, path string, auth bool, v any) error {
	b, err := c.get(ctx, path, auth)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

func (c *traceClient) key(ctx context.Context) (string, error) {
	b, err := c.get(ctx, "/api/v1/trace/key", false)
	return strings.TrimSpace(string(b)), err
}

// Checkpoint implements trace.Remote.
func (c *traceClient) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.get(ctx, "/api/v1/trace/checkpoint", false)
}

// Leaves implements trace.Remote.
func (c *traceClient) Leaves(ctx context.Context, start int64, limit int) ([]trace.Leaf, error) {
	var page struct {
		Leaves []struct {
			Index int64  `json:"index"`
			Data  []byte `json:"data"`
		} `json:"leaves"`
	}
	if err := c.getJSON(ctx, fmt.Sprintf("/api/v1/trace/leaves?start=%d&limit=%d", start, limit), true, &page); err != nil {
		return nil, err
	}
	out := make([]trace.Leaf, len(page.Leaves))
	for i, l := range page.Leaves {
		out[i] = trace.Leaf{Index: l.Index, Data: l.Data}
	}
	return out, nil
}

// Consistency implements trace.Remote.
func (c *traceClient) Consistency(ctx context.Context, size1, size2 int64) ([][]byte, error) {
	var p struct {
		Hashes [][]byte `json:"hashes"`
	}
	err := c.getJSON(ctx, fmt.Sprintf("/api/v1/trace/proof/consistency?size1=%d&size2=%d", size1, size2), false, &p)
	return p.Hashes, err
}

// Inclusion implements trace.Remote.
func (c *traceClient) Inclusion(ctx context.Context, seq, size int64) ([]byte, [][]byte, error) {
	var p struct {
		LeafHash []byte   `json:"leaf_hash"`
		Hashes   [][]byte `json:"hashes"`
	}
	err := c.getJSON(ctx, fmt.Sprintf("/api/v1/trace/proof/inclusion?seq=%d&tree_size=%d", seq, size), false, &p)
	return p.LeafHash, p.Hashes, err
}
