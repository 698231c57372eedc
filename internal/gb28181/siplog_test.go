package gb28181

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestRefNoiseFilter(t *testing.T) {
	tests := []struct {
		msg  string
		kept bool
	}{
		{"TCP ref went negative", false},
		{"UDP ref went negative on try close", false},
		{"failed to parse", true},
		{"connection pool not clean cleanup", true},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			var b bytes.Buffer
			log := slog.New(refNoiseFilter{h: slog.NewTextHandler(&b, nil)})
			log.WarnContext(context.Background(), tt.msg, "ref", -1)
			if got := strings.Contains(b.String(), tt.msg); got != tt.kept {
				t.Errorf("refNoiseFilter logged %q = %v; want %v", tt.msg, got, tt.kept)
			}
		})
	}
}
