package recbench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// envWorker makes the test binary a harness worker, as `civicam bench record-worker` is.
const envWorker = "CIVICAM_RECBENCH_WORKER"

// envMediaMTX names a mediamtx binary for the smoke test to include; it is left out without.
const envMediaMTX = "CIVICAM_MEDIAMTX"

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := Worker(ctx, os.Args[1:], os.Stdin, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchSmoke runs the whole harness for a few seconds on a few streams: workers start, every
// stream flows, figures come back and the table prints. It checks no figure against a threshold.
func TestBenchSmoke(t *testing.T) {
	var stderr bytes.Buffer
	b := New(Config{
		Streams:  []int{2},
		Duration: 2 * time.Second,
		Warmup:   time.Second,
		Bitrate:  1_000_000,
		MediaMTX: os.Getenv(envMediaMTX),
		GB:       true,
		TempDir:  t.TempDir(),
	}, Deps{
		Command: func(args ...string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), envWorker+"=1")
			return cmd
		},
		Stderr: &stderr,
	})
	rs, err := b.Run(t.Context())
	if err != nil {
		t.Fatalf("Run() = %v; stderr: %s", err, stderr.String())
	}
	if len(rs) != len(b.Systems()) {
		t.Fatalf("Run() gave %d results; want %d (%v)", len(rs), len(b.Systems()), b.Systems())
	}
	for _, r := range rs {
		if r.Err != "" {
			t.Errorf("%s: Err = %q; want none (stderr: %s)", r.System, r.Err, stderr.String())
			continue
		}
		if r.Window <= 0 || r.CPU <= 0 || r.RSS == 0 || r.PeakRSS < r.RSS/2 || r.Sent <= 0 || r.Kept <= 0 {
			t.Errorf("%s: %+v; want a window, CPU time, memory, bytes sent and kept", r.System, r)
		}
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rs); err != nil {
		t.Fatalf("WriteTable() = %v", err)
	}
	if !strings.Contains(out.String(), "2 streams: civicam") {
		t.Errorf("WriteTable() =\n%s\nwant a summary line for 2 streams", out.String())
	}
	if !strings.Contains(out.String(), "GB/T 28181 over RTSP CPU") {
		t.Errorf("WriteTable() =\n%s\nwant the GB/T 28181 channels beside the RTSP cameras", out.String())
	}
	entries, _ := os.ReadDir(b.cfg.TempDir)
	if len(entries) != 0 {
		t.Errorf("temporary directory holds %d entries after Run; want the recordings removed", len(entries))
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "4242 (civicam) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0 100 0 0", 3 * time.Second, false},
		{"spaces and parentheses in the name", "7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0", 30 * time.Millisecond, false},
		{"truncated", "7 (x) R 1 7", 0, true},
		{"no name", "garbage", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatCPU(%q) = %v, %v; want %v, error %v", tt.stat, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatalf("readProc(self) = %v", err)
	}
	if s.RSS == 0 || s.HWM < s.RSS {
		t.Errorf("readProc(self) = %+v; want RSS > 0 and VmHWM ≥ RSS", s)
	}
}

// TestMediaMTXConfig checks the configuration MediaMTX is given records what civicam records.
func TestMediaMTXConfig(t *testing.T) {
	var conf struct {
		RTSP         bool `yaml:"rtsp"`
		HLS          bool `yaml:"hls"`
		WebRTC       bool `yaml:"webrtc"`
		PathDefaults struct {
			Record             bool   `yaml:"record"`
			RecordFormat       string `yaml:"recordFormat"`
			RecordPartDuration string `yaml:"recordPartDuration"`
			RecordPath         string `yaml:"recordPath"`
			SourceOnDemand     bool   `yaml:"sourceOnDemand"`
		} `yaml:"pathDefaults"`
		Paths map[string]struct {
			Source string `yaml:"source"`
		} `yaml:"paths"`
	}
	raw := mediamtxConfig("/tmp/x y", 3, "127.0.0.1:8554")
	if err := yaml.Unmarshal(raw, &conf); err != nil {
		t.Fatalf("mediamtxConfig() is not YAML: %v\n%s", err, raw)
	}
	pd := conf.PathDefaults
	if conf.RTSP || conf.HLS || conf.WebRTC || !pd.Record || pd.RecordFormat != "fmp4" || pd.RecordPartDuration != "1s" || pd.SourceOnDemand {
		t.Errorf("mediamtxConfig() =\n%s\nwant servers off, fMP4 recording with 1 s parts, sources always on", raw)
	}
	if want := "/tmp/x y/recordings/%path/"; !strings.HasPrefix(pd.RecordPath, want) {
		t.Errorf("recordPath = %q; want it under %q", pd.RecordPath, want)
	}
	if got, want := conf.Paths["cam3"].Source, "rtsp://127.0.0.1:8554/cam/3"; len(conf.Paths) != 3 || got != want {
		t.Errorf("paths = %v; want cam1…cam3 with cam3 from %s", conf.Paths, want)
	}
}

func TestWriteTable(t *testing.T) {
	const mib = 1 << 20
	min1 := time.Minute
	rs := []Result{
		{System: SystemIngest, Streams: 10, Window: min1, CPU: 2 * time.Second, RSS: 20 * mib, Sent: 30e6, Kept: 29.7e6},
		{System: SystemCivicam, Streams: 10, Window: min1, CPU: 3 * time.Second, RSS: 30 * mib, HeapLive: 10 * mib, Sent: 30e6, Kept: 30e6},
		{System: SystemMediaMTX, Streams: 10, Window: min1, CPU: 4 * time.Second, RSS: 60 * mib, Sent: 30e6, Kept: 30e6},
		{System: SystemCivicam, Streams: 20, Window: min1, CPU: 6 * time.Second, RSS: 35 * mib, Sent: 60e6, Kept: 60e6},
		{System: SystemMediaMTX, Streams: 20, Err: "only 3 of 20 streams flowing after 32s"},
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rs); err != nil {
		t.Fatalf("WriteTable() = %v", err)
	}
	for _, want := range []string{
		"0.300", // civicam at 10: 3 CPU-s / 10 stream-minutes
		"10 streams: civicam 3.00 MiB/stream (goal ≤ 1; Go heap live 1.00), recording over ingest 0.100 CPU-s/stream-min; civicam/MediaMTX CPU 0.75× (goal ≤ 0.8×), RSS 0.50×",
		"20 streams: civicam 1.75 MiB/stream (goal ≤ 1; Go heap live 0.00)\n",
		"! 20 streams, mediamtx: only 3 of 20 streams flowing",
		"civicam memory per added stream, MiB: 10→20: 0.50",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteTable() =\n%s\nwant it to contain %q", out.String(), want)
		}
	}
}

func TestResultAdd(t *testing.T) {
	s := time.Second
	failed := Result{System: SystemCivicam, Streams: 4, rounds: 1, Err: "only 3 of 4 streams flowing"}
	a := Result{System: SystemCivicam, Streams: 4, rounds: 1, Window: 10 * s, CPU: s, RSS: 100, PeakRSS: 150, Sent: 10, Kept: 9, Lost: 1, Lag: s}
	b := Result{System: SystemCivicam, Streams: 4, rounds: 1, Window: 20 * s, CPU: 3 * s, RSS: 300, PeakRSS: 120, Sent: 20, Kept: 19, Lost: 2, Lag: 2 * s}
	tests := []struct {
		name   string
		rounds []Result
		want   Result
	}{
		{"two rounds", []Result{a, b},
			Result{System: SystemCivicam, Streams: 4, rounds: 2, Window: 30 * s, CPU: 4 * s, RSS: 200, PeakRSS: 150, Sent: 30, Kept: 28, Lost: 3, Lag: 2 * s}},
		{"a failed round first keeps its error and the others' figures", []Result{failed, a},
			Result{System: SystemCivicam, Streams: 4, rounds: 1, Window: 10 * s, CPU: s, RSS: 100, PeakRSS: 150, Sent: 10, Kept: 9, Lost: 1, Lag: s, Err: failed.Err}},
		{"a failed round later keeps its error", []Result{a, failed},
			Result{System: SystemCivicam, Streams: 4, rounds: 1, Window: 10 * s, CPU: s, RSS: 100, PeakRSS: 150, Sent: 10, Kept: 9, Lost: 1, Lag: s, Err: failed.Err}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rounds[0]
			for _, r := range tt.rounds[1:] {
				got.add(r)
			}
			if got != tt.want {
				t.Errorf("add(%+v) = %+v; want %+v", tt.rounds, got, tt.want)
			}
		})
	}
}
