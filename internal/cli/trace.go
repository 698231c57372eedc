package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"civicam/internal/store"
	"civicam/internal/trace"
)

// traceVerify recomputes the trail. Exit 0: intact (and consistent with --checkpoint); 3: damaged,
// naming the first bad entry; 1: could not be read.
func traceVerify(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "trace verify")
	cpFile := fs.String("checkpoint", "", "a signed checkpoint saved earlier (e.g. from /api/v1/trace/checkpoint)")
	vkey := fs.String("key", "", "the verifier key (from /api/v1/trace/key); default: derived from DATA/trace.key")
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
