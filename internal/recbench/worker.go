package recbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"civicam/internal/membudget"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store"
)

// Worker roles: each runs in a child process of its own, so that /proc shows its cost alone.
const (
	roleSimcam  = "simcam"
	roleCivicam = "civicam"
	roleIngest  = "ingest"
	// roleGBDevices is simulated GB/T 28181 devices, roleCivicamGB civicam's platform and
	// recorder recording them.
	roleGBDevices = "gbdevices"
	roleCivicamGB = "civicam-gb"
)

// report is what a worker prints, one JSON line a second, and once more as it exits.
type report struct {
	Addr       string   `json:"addr,omitempty"` // simcam: the RTSP address, on its first line
	Flowing    int      `json:"flowing"`        // streams recording (civicam) or playing (ingest)
	Bytes      int64    `json:"bytes"`          // written to segments (civicam), RTP payload received (ingest)
	Lost       uint64   `json:"lost"`           // RTP packets missing on arrival
	LagMS      int64    `json:"lag_ms"`         // civicam: age of the stalest stream's last part
	Reconnects int      `json:"reconnects"`
	HeapLive   uint64   `json:"heap_live"` // Go heap live after the last GC, bytes (civicam, ingest)
	Problems   []string `json:"problems,omitempty"`
	// gbregister (gbregister.go): when the devices started registering, how many were
	// answered 200 and when the last of them was, keepalives answered 200, and every other
	// answer (or none) by kind.
	StartedNS  int64          `json:"started_ns,omitempty"`
	Registered int            `json:"registered,omitempty"`
	LastRegNS  int64          `json:"last_registered_ns,omitempty"`
	Keepalives int            `json:"keepalives,omitempty"`
	Refusals   map[string]int `json:"refusals,omitempty"`
}

// Worker runs one child of the harness (civicam's hidden `bench record-worker` command): the
// simulated cameras, civicam's recorder, or the receive-and-drop baseline, as args say. It runs
// until stdin is closed, which is how the harness stops it, or ctx is done.
func Worker(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("record-worker", flag.ContinueOnError)
	role := fs.String("role", "", "simcam, civicam, ingest, gbdevices, civicam-gb or gbregister")
	streams := fs.Int("streams", 0, "number of streams")
	bitrate := fs.Int64("bitrate", 4_000_000, "simcam: bits per second per stream")
	source := fs.String("source", "", "civicam, ingest: RTSP address of the cameras (host:port); gbdevices: the platform's SIP address")
	dir := fs.String("dir", "", "civicam: directory for the recordings and the index")
	heapProfile := fs.String("heap-profile", "", "civicam: write a heap profile to this file every 10 s")
	gbTransport := fs.String("gb-transport", "udp", "gbdevices, civicam-gb: SIP and media transport of the GB/T 28181 devices (udp or tcp)")
	password := fs.String("password", "", "gbregister: the devices' digest password")
	keepalive := fs.Duration("keepalive", time.Minute, "gbregister: the devices' keepalive interval")
	addresses := fs.String("addresses", AddressesOwn, "gbregister: own (a loopback address each) or shared (one for all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *streams < 1 {
		return errors.New("record-worker: --streams must be at least 1")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The harness closing our stdin is the signal to stop.
		io.Copy(io.Discard, stdin)
		cancel()
	}()
	out := json.NewEncoder(stdout)
	urls := make([]string, *streams)
	for i := range urls {
		urls[i] = fmt.Sprintf("rtsp://%s/cam/%d", *source, i+1)
	}
	switch *role {
	case roleSimcam:
		return workSimcam(ctx, *streams, *bitrate, out)
	case roleCivicam:
		if *dir == "" || *source == "" {
			return errors.New("record-worker: civicam needs --dir and --source")
		}
		return workCivicam(ctx, urls, *dir, *heapProfile, out)
	case roleIngest:
		if *source == "" {
			return errors.New("record-worker: ingest needs --source")
		}
		return workIngest(ctx, urls, out)
	case roleGBDevices:
		if *source == "" {
			return errors.New("record-worker: gbdevices needs --source")
		}
		return workGBDevices(ctx, *streams, *source, *gbTransport, *bitrate, out)
	case roleCivicamGB:
		if *dir == "" {
			return errors.New("record-worker: civicam-gb needs --dir")
		}
		return workCivicamGB(ctx, *streams, *dir, *gbTransport, *heapProfile, out)
	case roleGBRegister:
		if *source == "" || *keepalive <= 0 {
			return errors.New("record-worker: gbregister needs --source and a positive --keepalive")
		}
		return workGBRegister(ctx, *streams, *source, *gbTransport, *password, *keepalive, *addresses, out)
	default:
		return fmt.Errorf("record-worker: unknown --role %q", *role)
	}
}

func workSimcam(ctx context.Context, n int, bitrate int64, out *json.Encoder) error {
	srv := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: n, Codec: simcam.H264, Bitrate: bitrate}, nil)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		if err := out.Encode(report{Addr: srv.Addr(), Flowing: n}); err != nil {
			return fmt.Errorf("simcam: report address: %w", err)
		}
	case err := <-done:
		return fmt.Errorf("simcam: %w", err)
	}
	return <-done
}

func workCivicam(ctx context.Context, urls []string, dir, heapProfile string, out *json.Encoder) error {
	db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
	if err != nil {
		return fmt.Errorf("civicam: open index: %w", err)
	}
	defer db.Close()
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: segment.NewDisk(filepath.Join(dir, "recordings")), Index: db})
	cams := make([]recorder.Camera, len(urls))
	for i, u := range urls {
		cams[i] = recorder.Camera{ID: fmt.Sprintf("cam%d", i+1), SourceURL: u, Transport: recorder.TransportTCP}
	}
	rec.Sync(cams)
	if err := runReporting(ctx, rec, recorderStatus(rec, len(cams)), heapProfile, out); err != nil {
		return fmt.Errorf("civicam: %w", err)
	}
	return nil
}

// recorderStatus returns the report of a recorder of n cameras, re-measuring the memory budget
// on every report as civicam serve does (app, on each lease round).
func recorderStatus(rec *recorder.Recorder, n int) func() report {
	budget := membudget.New(membudget.Config{PerStream: membudget.DefaultPerStream}, slog.Default())
	return func() report {
		budget.Set(n)
		r := report{HeapLive: heapLive()}
		now := time.Now()
		for _, st := range rec.Statuses() {
			r.Bytes += st.BytesWritten
			r.Lost += st.PacketsLost
			r.Reconnects += st.Reconnects
			switch st.State {
			case recorder.StateRecording:
				r.Flowing++
				if !st.LastPart.IsZero() {
					r.LagMS = max(r.LagMS, now.Sub(st.LastPart).Milliseconds())
				}
			case recorder.StateConnecting:
			default:
				r.Problems = append(r.Problems, fmt.Sprintf("%s: %s %s", st.CameraID, st.State, st.Reason))
			}
		}
		return r
	}
}

// runReporting runs rec until ctx is done, reporting status every second (and writing heap
// profiles when asked), and once more after the recorder has sealed what it held.
func runReporting(ctx context.Context, rec *recorder.Recorder, status func() report, heapProfile string, out *json.Encoder) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { reportEvery(runCtx, out, status) })
	if heapProfile != "" {
		wg.Go(func() { profileEvery(runCtx, heapProfile, 10*time.Second) })
	}
	err := rec.Run(ctx)
	stop()
	wg.Wait()
	// The last report counts what sealing the open segments wrote.
	if encErr := out.Encode(status()); encErr != nil && err == nil {
		err = encErr
	}
	return err
}

func workIngest(ctx context.Context, urls []string, out *json.Encoder) error {
	in := NewIngest(urls)
	status := func() report {
		return report{Flowing: in.Playing(), Bytes: in.Received(), Lost: in.Lost(), HeapLive: heapLive()}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { reportEvery(runCtx, out, status) })
	err := in.Run(ctx)
	stop()
	wg.Wait()
	if encErr := out.Encode(status()); encErr != nil && err == nil {
		err = encErr
	}
	return err
}

// heapLive reads the live heap without stopping the world, as runtime.ReadMemStats would.
func heapLive() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// every calls fn every period until ctx is done or fn returns false.
func every(ctx context.Context, period time.Duration, fn func() bool) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !fn() {
				return
			}
		}
	}
}

// profileEvery writes a heap profile to path every period until ctx is done, each replacing the
// last whole, so that the file holds the latest steady state when the harness stops the worker.
func profileEvery(ctx context.Context, path string, period time.Duration) {
	every(ctx, period, func() bool {
		runtime.GC() // the profile then shows what is live, not what awaits collection
		var buf bytes.Buffer
		if pprof.WriteHeapProfile(&buf) == nil {
			tmp := path + ".tmp"
			if os.WriteFile(tmp, buf.Bytes(), 0o644) == nil {
				os.Rename(tmp, path)
			}
		}
		return true
	})
}

// reportEvery prints status once a second until ctx is done.
func reportEvery(ctx context.Context, out *json.Encoder, status func() report) {
	every(ctx, time.Second, func() bool { return out.Encode(status()) == nil })
}

// readReports keeps the latest report a worker printed; it returns when the worker's stdout
// closes.
func readReports(r io.Reader, latest func(report)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var rep report
		if json.Unmarshal(sc.Bytes(), &rep) == nil {
			latest(rep)
		}
	}
}
