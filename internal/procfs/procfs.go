// Package procfs reads the Linux /proc files civicam measures itself and its benchmarks by.
package procfs

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Field returns the number after key in a "Key: N [kB]" file such as /proc/PID/status or
// /proc/PID/io; 0 when the key is missing.
func Field(b []byte, key string) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, _ := strconv.ParseUint(f[0], 10, 64)
		return n
	}
	return 0
}
