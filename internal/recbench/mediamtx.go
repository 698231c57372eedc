package recbench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// mediamtxConfig is a MediaMTX configuration that records n cameras of addr as fMP4 with 1 s
// parts under dir/recordings/camN, pulling them over TCP at once (not on demand), with every
// server of its own switched off: it does what civicam's recorder does and nothing else.
// Segments last 60 s, as civicam's do by default, and nothing is deleted during the run.
func mediamtxConfig(dir string, n int, addr string) []byte {
	var b bytes.Buffer
	b.WriteString(`logLevel: warn
logDestinations: [stdout]
api: false
metrics: false
pprof: false
playback: false
rtsp: false
rtmp: false
hls: false
webrtc: false
srt: false
moq: false
pathDefaults:
  sourceOnDemand: false
  rtspTransport: tcp
  record: true
  recordFormat: fmp4
  recordPartDuration: 1s
  recordSegmentDuration: 60s
  recordDeleteAfter: 0s
`)
	fmt.Fprintf(&b, "  recordPath: %s\n", strconv.Quote(filepath.Join(dir, "recordings", "%path", "%Y-%m-%d_%H-%M-%S-%f")))
	b.WriteString("paths:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  cam%d:\n    source: rtsp://%s/cam/%d\n", i, addr, i)
	}
	return b.Bytes()
}

// mediamtxLost matches MediaMTX's report of RTP packets missing on arrival.
var mediamtxLost = regexp.MustCompile(`(\d+) RTP packets? lost`)

// startMediaMTX runs the MediaMTX binary recording n cameras into dir. Its log (warnings and
// errors only) is read for lost packets and errors.
func (b *Bench) startMediaMTX(dir string, n int, addr string) (*child, error) {
	conf := filepath.Join(dir, "mediamtx.yml")
	if err := os.WriteFile(conf, mediamtxConfig(dir, n, addr), 0o600); err != nil {
		return nil, fmt.Errorf("mediamtx config: %w", err)
	}
	cmd := exec.Command(b.cfg.MediaMTX, conf)
	cmd.Dir = dir
	c := &child{cmd: cmd, gotAddr: make(chan struct{})}
	return c, c.start(b.deps.Stderr, func(line []byte) {
		text := string(line)
		c.mu.Lock()
		defer c.mu.Unlock()
		if m := mediamtxLost.FindStringSubmatch(text); m != nil {
			lost, _ := strconv.ParseUint(m[1], 10, 64)
			c.rep.Lost += lost
			return
		}
		if strings.Contains(text, " ERR ") {
			c.errs = append(c.errs, text)
		}
	}, nil)
}

func scanLines(r io.Reader, fn func([]byte)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fn(sc.Bytes())
	}
}
