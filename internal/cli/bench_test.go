package cli_test

import (
	"strings"
	"testing"
)

// TestBenchRecordUsage checks that `civicam bench` refuses bad command lines before it starts
// anything; the harness itself is exercised by internal/recbench's smoke test.
func TestBenchRecordUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"bench"}, "usage: civicam bench record"},
		{"unknown subcommand", []string{"bench", "replay"}, "usage: civicam bench record"},
		{"bad counts", []string{"bench", "record", "--streams", "50,x"}, "--streams"},
		{"zero duration", []string{"bench", "record", "--duration", "0s"}, "--duration must be positive"},
		{"bad bitrate", []string{"bench", "record", "--bitrate", "fast"}, "--bitrate"},
		{"missing mediamtx", []string{"bench", "record", "--mediamtx", "/nonexistent/mediamtx"}, "--mediamtx"},
		{"worker without streams", []string{"bench", "record-worker", "--role", "ingest"}, "--streams must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runCLI(t, "", tt.args...)
			if code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("civicam %s = exit %d, %q; want an error mentioning %q", strings.Join(tt.args, " "), code, out, tt.want)
			}
		})
	}
}
