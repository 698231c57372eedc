package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"civicam/internal/registry"
)

func cameraImport(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "camera import")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: civicam camera import [--data DIR] FILE.csv"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	core, actx, err := cf.open(ctx, e)
	if err != nil {
		return err
	}
	defer core.Close()
	bar := newProgress(e.stderr, "checking")
	start := time.Now()
	cams, err := core.Registry.ImportCSV(actx, registry.Scope{All: true}, f, bar.update)
	bar.done()
	if err != nil {
		return importProblems(e.stderr, err)
	}
	fmt.Fprintf(e.stdout, "imported %d cameras in %.1fs\n", len(cams), time.Since(start).Seconds())
	return nil
}

// importProblems prints every bad row of a refused import.
func importProblems(w io.Writer, err error) error {
	var ie *registry.ImportError
	if !errors.As(err, &ie) {
		return friendly(err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tCOLUMN\tCODE\tPROBLEM")
	for _, r := range ie.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Row, r.Column, r.Code, r.Message)
	}
	tw.Flush()
	if ie.Truncated {
		fmt.Fprintln(w, "(more problems not shown)")
	}
	return fmt.Errorf("nothing imported: %d problem(s)", len(ie.Rows))
}

// progress draws a progress bar on a terminal and stays silent elsewhere (logs, pipes).
type progress struct {
	w     io.Writer
	label string
	tty   bool
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	if !p.tty || total == 0 || (time.Since(p.last) < 100*time.Millisecond && done != total) {
		return
	}
	p.last = time.Now()
	const width = 40
	n := done * width / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

func compliance(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "compliance")
	org := fs.String("organisation", "", "only this organisation's cameras (id)")
	cam := fs.String("camera", "", "only this camera (id)")
	format := fs.String("format", "table", "table, json or csv")
	if err := parse(fs, args); err != nil {
		return err
	}
	core, actx, err := cf.open(ctx, e)
	if err != nil {
		return err
	}
	defer core.Close()
	findings, err := core.Registry.Compliance(actx, registry.Scope{All: true}, *org, *cam)
	if err != nil {
		return friendly(err)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"findings": findings, "policy_version": core.Pack.Version()})
	case "csv":
		return registry.WriteFindingsCSV(e.stdout, findings)
	case "table":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CAMERA\tNAME\tCODE\tRULE\tMESSAGE")
		for _, f := range findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.CameraID, f.CameraName, f.Code, f.Rule, f.Message)
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d finding(s) under policy %s\n", len(findings), core.Pack.Version())
		return nil
	}
	return usageError{"--format must be table, json or csv"}
}
