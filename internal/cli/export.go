package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"civicam/internal/export"
	"civicam/internal/trace"
)

// exportVerify checks an export zip: exit 0 when the signature, every hash and the fragment
// order hold; 3 naming each problem when not; 1 when it cannot be read; 2 for a usage mistake.
func exportVerify(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "export verify")
	vkey := fs.String("key", "", "the platform's verifier key (from /api/v1/trace/key); default: the key the export carries")
	data := fs.String("data", "", "a data directory whose trace.key signed the export (instead of --key)")
	if err := parse(fs, reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"give exactly one export file: civicam export verify FILE [--key KEY | --data DIR]"}
	}
	if *vkey != "" && *data != "" {
		return usageError{"give --key or --data, not both (or neither: the key the export carries)"}
	}
	if *data != "" {
		b, err := os.ReadFile(filepath.Join(*data, "trace.key"))
		if err != nil {
			return fmt.Errorf("read the platform key: %w", err)
		}
		k, err := trace.ParseKey(string(b))
		if err != nil {
			return err
		}
		*vkey = k.VerifierKey()
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	m, err := export.Verify(f, st.Size(), *vkey)
	var probs export.Problems
	if errors.As(err, &probs) {
		fmt.Fprintf(e.stdout, "NOT VERIFIED: %s\n", fs.Arg(0))
		for _, p := range probs {
			fmt.Fprintf(e.stdout, "  - %s\n", p)
		}
		return exitCode(3)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verified: export %s of camera %s (%s), %s to %s, %d fragments, %d source segments\n",
		m.ID, m.CameraID, m.Camera, m.Covered.Start.Format("2006-01-02T15:04:05Z07:00"), m.Covered.End.Format("2006-01-02T15:04:05Z07:00"),
		len(m.Fragments), len(m.Segments))
	fmt.Fprintf(e.stdout, "exported by %s (%s) for %q, case %q; trail entry %d; signed by %s\n",
		m.Exporter.Username, m.Exporter.Role, m.Purpose, m.CaseRef, m.TraceSeq, m.Signer)
	if m.Recorded != nil {
		fmt.Fprintf(e.stdout, "recorded: trail entry %d is in the platform's signed checkpoint of %d entries (the receipt in the zip)\n",
			m.Recorded.Seq, m.Recorded.TreeSize)
	} else {
		fmt.Fprintln(e.stdout, "note: the export carries no trail receipt (made before receipts); check its trail entry with the platform")
	}
	if *vkey == "" && *data == "" {
		fmt.Fprintln(e.stdout, "note: checked with the verifier key the export carries; compare it with the platform's published key (GET /api/v1/trace/key), or give that with --key")
	}
	if len(m.Gaps) > 0 {
		fmt.Fprintf(e.stdout, "note: %d gap(s) in the requested range were not recorded\n", len(m.Gaps))
	}
	return nil
}

// reorderFlags moves the file argument after the flags, so both `verify FILE --key K` and
// `verify --key K FILE` work (the flag package stops at the first non-flag).
func reorderFlags(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			if (a == "--key" || a == "-key" || a == "--data" || a == "-data") && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	return append(flags, rest...)
}
