package recorder_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"civicam/internal/recbench"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store/storetest"
)

// envChild makes the test binary a simulated-camera server ("count,codec,bitrate"), so that the
// benchmark's own CPU figures hold the recorder's work only.
const envChild = "CIVICAM_BENCH_SIMCAM"

func TestMain(m *testing.M) {
	if spec := os.Getenv(envChild); spec != "" {
		os.Exit(runChildSimcam(spec))
	}
	if spec := os.Getenv(envRecordChild); spec != "" {
		os.Exit(runChildRecorder(spec))
	}
	os.Exit(m.Run())
}

func runChildSimcam(spec string) int {
	f := strings.Split(spec, ",")
	count, _ := strconv.Atoi(f[0])
	rate, _ := strconv.ParseInt(f[2], 10, 64)
	srv := simcam.New(simcam.Config{Listen: "127.0.0.1:0", Count: count, Codec: simcam.Codec(f[1]), Bitrate: rate}, nil)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()
	go func() {
		// The parent closing our stdin is the signal to stop.
		bufio.NewReader(os.Stdin).ReadString('\n')
		cancel()
	}()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		fmt.Println(srv.Addr())
	case err := <-done:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childSimcam starts the simulated cameras in a child process and returns their address.
func childSimcam(b *testing.B, count int, rate int64) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,h264,%d", envChild, count, rate))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start simcam child: %v", err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("simcam child: %v", err)
	}
	return strings.TrimSpace(line)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkRecord measures, side by side in one run, the CPU and heap of recording N simulated
// 4 Mbit/s H.264 streams (fMP4, every part synced) against only ingesting them (RTSP clients that
// receive and drop every packet). Each iteration is one second of wall time; the simulator runs in
// a child process and is not counted. Streams: CIVICAM_BENCH_STREAMS (default 10).
//
//	go test -run '^$' -bench Record -benchtime 20x ./internal/recorder
func BenchmarkRecord(b *testing.B) {
	n := 10
	if s := os.Getenv("CIVICAM_BENCH_STREAMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, mode := range []string{"ingest", "record"} {
		b.Run(fmt.Sprintf("streams=%d/%s", n, mode), func(b *testing.B) {
			addr := childSimcam(b, n, 4_000_000)
			url := func(i int) string { return fmt.Sprintf("rtsp://%s/cam/%d", addr, i+1) }
			base0 := heapInuse()
			var stop func()
			var bytes func() int64
			var lastStatuses []recorder.Status
			if mode == "ingest" {
				stop, bytes = ingest(b, n, url)
			} else {
				stop, bytes = record(b, n, url, &lastStatuses)
			}
			// Measure from the moment every stream flows, for b.N seconds.
			time.Sleep(2 * time.Second)
			b.ResetTimer()
			cpu0, wall0, bytes0 := cpuTime(), time.Now(), bytes()
			time.Sleep(time.Duration(b.N) * time.Second)
			cpu, wall, got := cpuTime()-cpu0, time.Since(wall0), bytes()-bytes0
			b.StopTimer()
			heap := heapInuse()
			stop()
			streamMinutes := float64(n) * wall.Minutes()
			b.ReportMetric(cpu.Seconds()/streamMinutes, "cpu-s/stream-min")
			b.ReportMetric(float64(int64(heap)-int64(base0))/float64(n), "heap-B/stream")
			if mode == "record" {
				// Parts land once a second, so bytes written over the window are coarse; the
				// recorder's own measure is the mean over its last parts.
				got = 0
				for _, st := range lastStatuses {
					got += st.Bitrate / 8
				}
				b.ReportMetric(float64(got)*8/float64(n)/1e6, "Mbit/s/stream")
			} else {
				b.ReportMetric(float64(got)*8/wall.Seconds()/float64(n)/1e6, "Mbit/s/stream")
			}
		})
	}
}

// ingest connects n plain RTSP clients over TCP that drop what they receive (recbench.Ingest, the
// baseline `civicam bench record` measures too).
func ingest(b *testing.B, n int, url func(int) string) (stop func(), received func() int64) {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = url(i)
	}
	in := recbench.NewIngest(urls)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	select {
	case <-in.Ready():
	case err := <-done:
		cancel()
		b.Fatalf("ingest: %v", err)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("ingest: %v", err)
		}
	}, in.Received
}

// record runs the Recorder on n cameras, writing to a temporary directory and SQLite index.
func record(b *testing.B, n int, url func(int) string, last *[]recorder.Status) (stop func(), written func() int64) {
	d := segment.NewDisk(b.TempDir())
	db := storetest.SQLite(b)
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: d, Index: db})
	var cams []recorder.Camera
	for i := range n {
		cams = append(cams, recorder.Camera{ID: fmt.Sprintf("cam%d", i+1), SourceURL: url(i), Transport: recorder.TransportTCP})
	}
	rec.Sync(cams)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	return func() {
			cancel()
			<-done
		}, func() int64 {
			var sum int64
			*last = rec.Statuses()
			for _, st := range *last {
				sum += st.BytesWritten
				if st.State != recorder.StateRecording && st.State != recorder.StateConnecting {
					b.Errorf("camera %s: %s %s", st.CameraID, st.State, st.Reason)
				}
				if st.PacketsLost > 0 {
					b.Errorf("camera %s lost %d packets", st.CameraID, st.PacketsLost)
				}
			}
			return sum
		}
}
