// Package cli is civicam's command line: serving, administering and verifying, as subcommands
// of the one binary. Nothing imports it but main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"

	"civicam/internal/app"
	"civicam/internal/auth"
	"civicam/internal/config"
)

// env is what a command runs with, so tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", serve},
		{"demo", "run the server with simulated cameras and a demo admin", demo},
		{"user add", "add a user (the first admin, for instance)", userAdd},
		{"org add", "add an organisation", orgAdd},
		{"camera import", "register cameras from a CSV file, all or none", cameraImport},
		{"compliance", "print the compliance report", compliance},
		{"trace verify", "recompute the access trail and check it against its checkpoints", traceVerify},
		{"export verify", "check an export zip: signature, hashes and fragment order", exportVerify},
		{"simcam", "serve simulated RTSP cameras", simcamCmd},
		{"recordings", "recordings status|forecast: bytes, days and gaps kept per camera; storage forecast", recordings},
		{"bench", "measure performance: bench record (recording CPU, memory, bytes kept)", benchCmd},
	}
}

// usageError is a mistake in the command line: exit code 2 and a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs the command line and returns the process's exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, args)
}

func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stderr)
		return 2
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			err := c.run(ctx, e, args[len(words):])
			if err == nil {
				return 0
			}
			if errors.Is(err, flag.ErrHelp) {
				return 2
			}
			fmt.Fprintf(e.stderr, "civicam %s: %v\n", c.name, err)
			var ue usageError
			var ec exitCode
			switch {
			case errors.As(err, &ue):
				return 2
			case errors.As(err, &ec):
				return int(ec)
			}
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "civicam: unknown command %q\n\n", strings.Join(args, " "))
	usage(e.stderr)
	return 2
}

// exitCode lets a command choose its exit status (trace verify: 3 for a damaged trail).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: civicam COMMAND [flags]   (civicam COMMAND -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
}

// coreFlags are the flags every command that opens the data directory takes.
type coreFlags struct {
	config string
	data   string
}

func (f *coreFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "YAML configuration file (see civicam.example.yaml)")
	fs.StringVar(&f.data, "data", "", "data directory (default ./civicam-data)")
}

// load reads the configuration: defaults, file, environment, then the flags given.
func (f *coreFlags) load(e env) (config.Config, error) {
	cfg, err := config.Load(f.config, e.getenv)
	if err != nil {
		return cfg, err
	}
	if f.data != "" {
		cfg.Data = f.data
	}
	return cfg, cfg.Validate()
}

func newFlagSet(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("civicam "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// newCoreFlagSet is newFlagSet for a command that opens the data directory, with --config and
// --data already registered.
func newCoreFlagSet(e env, name string) (*flag.FlagSet, *coreFlags) {
	fs := newFlagSet(e, name)
	cf := &coreFlags{}
	cf.register(fs)
	return fs, cf
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// open loads the configuration as load does and opens the core on it (openCore).
func (f *coreFlags) open(ctx context.Context, e env) (*app.Core, context.Context, error) {
	cfg, err := f.load(e)
	if err != nil {
		return nil, nil, err
	}
	return openCore(ctx, e, cfg)
}

// openCore opens the data directory for an administrative command, which acts in the trail as
// the local operating-system user at the server's console.
func openCore(ctx context.Context, e env, cfg config.Config) (*app.Core, context.Context, error) {
	// An administrative command works on a server's data; made afresh, a directory would get a
	// new trail and new keys of its own, and the user added would be added nowhere that runs.
	if st, err := os.Stat(cfg.Data); err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("no civicam data directory at %s: give --data (or data: in --config) where `civicam serve` keeps its data; `make demo` keeps the demo's in ./civicam-demo", cfg.Data)
	}
	logCfg := cfg
	logCfg.LogLevel = "warn"
	core, err := app.OpenCore(ctx, cfg, app.NewLogger(logCfg, e.stderr))
	if err != nil {
		return nil, nil, err
	}
	return core, consoleActor(ctx), nil
}

// consoleActor is who acts in the trail for a command run at the server's console: the
// operating-system user, with the admin's powers that access to the data directory gives anyway.
func consoleActor(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.WithActor(ctx, auth.Actor{Username: "cli:" + name, Role: auth.RoleAdmin, ClientAddr: "console"})
}
