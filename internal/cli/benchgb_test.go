package cli_test

import (
	"strings"
	"testing"
)

// TestBenchGBRegisterShort is the short version of `make bench-gb-register`: 20 simulated GB/T
// 28181 devices register at once with digest against the real `civicam serve`, keep alive for
// two intervals and unregister. The bench itself fails on any refusal, a device the API does not
// list online, one left online after it unregistered, goroutines left behind or errors logged;
// no figure is checked against a threshold.
func TestBenchGBRegisterShort(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			out, code := runCLI(t, "", "bench", "gb-register", "--devices", "20", "--transport", tr, "--addresses", "own,shared",
				"--keepalive", "1s", "--intervals", "2", "--idle", "1s", "--tmp", t.TempDir())
			if code != 0 {
				t.Fatalf("bench gb-register = %d:\n%s", code, out)
			}
			for _, want := range []string{
				"20 devices, " + tr + ", own addresses: all 20 online and catalogued",
				"20 devices, " + tr + ", shared addresses: all 20 online and catalogued",
				"one shared address over own (20 devices, " + tr + ")",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("bench gb-register output =\n%s\nwant it to contain %q", out, want)
				}
			}
		})
	}
}
