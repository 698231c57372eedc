package cli

import (
	"context"
	"fmt"

	"civicam/internal/app"
)

func serve(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "serve")
	listen := fs.String("listen", "", "HTTP listen address (default 127.0.0.1:8080)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	log := app.NewLogger(cfg, e.stderr)
	core, err := app.OpenCore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	srv, err := app.NewServer(core)
	if err != nil {
		return err
	}
	n, err := core.DB.CountUsers(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "civicam is running: open %s/  (data: %s, store: %s)\n", srv.URL(), cfg.Data, core.DB.Dialect())
	if n == 0 {
		fmt.Fprintf(e.stdout, "no users yet; create the first admin with:\n  civicam user add --data %s --username admin --role admin --password-stdin\n", cfg.Data)
	}
	return srv.Run(ctx)
}
