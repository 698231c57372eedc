package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"civicam/internal/app"
	"civicam/internal/registry"
	"civicam/internal/retention"
)

// recordings dispatches the "recordings" command family: status and forecast.
func recordings(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: civicam recordings status|forecast [flags]"}
	}
	switch args[0] {
	case "status":
		return recordingsStatus(ctx, e, args[1:])
	case "forecast":
		return recordingsForecast(ctx, e, args[1:])
	}
	return usageError{fmt.Sprintf("unknown recordings command %q (status or forecast)", args[0])}
}

// openPlanner opens the data directory and a storage planner over its index and its local
// recordings directory. No recorder runs in this process: bitrates come from the index.
func openPlanner(ctx context.Context, e env, name string, args []string) (*app.Core, *retention.Planner, string, error) {
	fs, cf := newCoreFlagSet(e, "recordings "+name)
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args); err != nil {
		return nil, nil, "", err
	}
	if *format != "table" && *format != "json" {
		return nil, nil, "", usageError{"--format must be table or json"}
	}
	cfg, err := cf.load(e)
	if err != nil {
		return nil, nil, "", err
	}
	core, _, err := openCore(ctx, e, cfg)
	if err != nil {
		return nil, nil, "", err
	}
	p := retention.NewPlanner(retention.PlannerConfig{
		Locations: []retention.Location{{Name: "local", Root: filepath.Join(cfg.Data, "recordings")}},
	}, retention.PlannerDeps{Index: core.DB, Registry: core.Registry, Logger: core.Log})
	return core, p, *format, nil
}

func recordingsStatus(ctx context.Context, e env, args []string) error {
	core, p, format, err := openPlanner(ctx, e, "status", args)
	if err != nil {
		return err
	}
	defer core.Close()
	cams, err := core.Registry.Cameras(ctx, registry.Scope{All: true}, registry.CameraFilter{})
	if err != nil {
		return err
	}
	st, err := p.Cameras(ctx, cams)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeIndented(e.stdout, map[string]any{"cameras": st})
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMERA\tNAME\tSTATUS\tSEGMENTS\tKEPT\tOLDEST\tNEWEST\tLAST\tDAYS\tRETENTION\tGAPS\tGAP TIME")
	for _, c := range st {
		oldest, newest, last := "-", "-", "never"
		if !c.Oldest.IsZero() {
			oldest = c.Oldest.UTC().Format(time.DateTime)
			newest = c.Newest.UTC().Format(time.DateTime)
			last = ago(now.Sub(c.Newest))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%s\n", c.CameraID, c.Name, c.Status, c.Segments,
			humanBytes(c.BytesKept), oldest, newest, last, c.DaysKept, c.RetentionDays, c.GapCount,
			(time.Duration(c.GapSeconds) * time.Second).String())
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "LAST is the end of the newest sealed segment; the live recording state is in GET /api/v1/storage.")
	return nil
}

func recordingsForecast(ctx context.Context, e env, args []string) error {
	core, p, format, err := openPlanner(ctx, e, "forecast", args)
	if err != nil {
		return err
	}
	defer core.Close()
	fs, err := p.Forecast(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeIndented(e.stdout, map[string]any{"locations": fs})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCATION\tROOT\tFREE\tKEPT\tINTAKE/DAY\tDAYS FORECAST\tDAYS UNTIL FULL\tNEEDED\tFLOOR NEEDS\tSTATE")
	for _, f := range fs {
		days, until := "-", "-"
		if f.DaysForecast != nil {
			days, until = fmt.Sprintf("%.1f", *f.DaysForecast), fmt.Sprintf("%.1f", *f.DaysUntilFull)
		}
		state := "ok"
		switch {
		case f.Error != "":
			state = "unknown: " + f.Error
		case f.BelowFloor:
			state = fmt.Sprintf("BELOW THE %d-DAY FLOOR", f.FloorDays)
		case f.BelowRetention:
			state = "below some cameras' retention"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Location, f.Root, humanBytes(f.FreeBytes), humanBytes(f.KeptBytes),
			humanBytes(f.IntakeBytesPerDay), days, until, humanBytes(f.NeededBytes), humanBytes(f.FloorNeededBytes), state)
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "Bitrates are estimated from the last day's index; the running server uses the recorders' measured ones.")
	return nil
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// humanBytes writes a size in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
