// Package fuzzbound is the fuzz targets' one time bound. Each parser the network reaches reads
// its input a bounded number of times, so one input that takes longer than Limit is a
// pathological case (a loop driven by a length field), not a slow machine. The bound holds only
// while fuzzing: when go test replays a corpus, under -race on a busy machine, time is no
// measure, and unit tests carry no timing thresholds.
package fuzzbound

import (
	"flag"
	"testing"
	"time"
)

// Limit is the longest one fuzz input may take.
const Limit = time.Second

// Fuzzing reports whether the test binary is fuzzing (-test.fuzz) rather than replaying the
// corpus.
func Fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// Check fails t when fuzzing and the work named what, on size bytes of input, started at start
// has taken longer than Limit.
func Check(t testing.TB, start time.Time, what string, size int) {
	t.Helper()
	if el := time.Since(start); Fuzzing() && el > Limit {
		t.Fatalf("%s of %d bytes took %v; want under %v", what, size, el, Limit)
	}
}
