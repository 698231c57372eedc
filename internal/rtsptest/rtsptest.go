// Package rtsptest serves, for tests, a camera whose stream was made by real encoders: a clip
// that Debian's ffmpeg generates at test time (testsrc and sine through libx264 and an audio
// encoder) and pushes, looped in real time, to an RTSP relay (gortsplib's server) on loopback,
// from which the recorder pulls it as from a camera. The RTP packetising is ffmpeg's, not ours.
// Tests skip where ffmpeg is missing (.ci/run installs it).
package rtsptest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// Audio is the audio a clip carries, named by the ffmpeg encoder arguments that make it.
type Audio string

// The audio codecs a camera is made with.
const (
	AAC  Audio = "aac"
	Opus Audio = "opus"
	PCMA Audio = "pcma"
	PCMU Audio = "pcmu"
	None Audio = ""
)

func (a Audio) ffmpegArgs() []string {
	switch a {
	case AAC:
		return []string{"-c:a", "aac", "-ar", "48000", "-ac", "1", "-b:a", "64k"}
	case Opus:
		return []string{"-c:a", "libopus", "-ar", "48000", "-ac", "1", "-b:a", "32k"}
	case PCMA:
		return []string{"-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"}
	case PCMU:
		return []string{"-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"}
	}
	return []string{"-an"}
}

// NeedFFmpeg skips the test unless ffmpeg and ffprobe are installed.
func NeedFFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (apt-get install ffmpeg)", b)
		}
	}
}

// Clip makes a clip of seconds of 320x240 test pattern at 25 fps (H.264 from libx264, a keyframe
// a second, no B-frames) with a 440 Hz tone in audio, in Matroska, and returns its path.
func Clip(t testing.TB, audio Audio, seconds int) string {
	t.Helper()
	NeedFFmpeg(t)
	p := filepath.Join(t.TempDir(), "clip-"+string(audio)+".mkv")
	args := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=320x240:rate=25:duration=%d", seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p"}
	args = append(append(args, audio.ffmpegArgs()...), p)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg making the clip: %v: %s", err, out)
	}
	return p
}

// Camera serves clip, looped in real time, at the returned rtsp:// URL until the test ends.
func Camera(t testing.TB, clip string) string {
	t.Helper()
	r := &relay{}
	r.server = &gortsplib.Server{Handler: r, RTSPAddress: "127.0.0.1:0"}
	// The port is chosen by the kernel: a listener found free and closed again could be taken.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r.server.RTSPAddress = addr
	if err := r.server.Start(); err != nil {
		t.Fatalf("rtsp relay: %v", err)
	}
	t.Cleanup(r.server.Close)
	url := "rtsp://" + addr + "/cam"
	cmd := exec.Command("ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip,
		"-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if s := stderr.String(); s != "" {
			t.Logf("ffmpeg pushing %s: %s", filepath.Base(clip), s)
		}
	})
	limit := time.Now().Add(20 * time.Second)
	for !r.publishing() {
		if time.Now().After(limit) {
			t.Fatalf("ffmpeg did not publish %s in 20 s: %s", clip, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url
}

// relay is gortsplib's example server: one publisher, any number of readers.
type relay struct {
	server    *gortsplib.Server
	mu        sync.RWMutex
	stream    *gortsplib.ServerStream
	publisher *gortsplib.ServerSession
	recording bool
}

func (r *relay) publishing() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.recording
}

func (r *relay) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream != nil && ctx.Session == r.publisher {
		r.stream.Close()
		r.stream, r.recording = nil, false
	}
}

func (r *relay) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.stream == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, r.stream, nil
}

func (r *relay) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, errors.New("someone is publishing already")
	}
	st := &gortsplib.ServerStream{Server: r.server, Desc: ctx.Description}
	if err := st.Initialize(); err != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, err
	}
	r.stream, r.publisher = st, ctx.Session
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (r *relay) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.stream == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, r.stream, nil
}

func (r *relay) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (r *relay) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	r.mu.Lock()
	st := r.stream
	r.recording = true
	r.mu.Unlock()
	ctx.Session.OnPacketRTPAny(func(medi *description.Media, _ format.Format, pkt *rtp.Packet) {
		st.WritePacketRTP(medi, pkt)
	})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// Stream is what ffprobe finds of one stream of a file.
type Stream struct {
	Type  string // "video" or "audio"
	Codec string // ffmpeg's codec name: h264, aac, opus, pcm_s16be…
}

// Probe lists the streams of the MP4 at path, with ffprobe.
func Probe(t testing.TB, path string) []Stream {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var ss []Stream
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, typ, _ := strings.Cut(strings.TrimSpace(l), ",")
		if name != "" {
			ss = append(ss, Stream{Type: typ, Codec: name})
		}
	}
	return ss
}

// DecodeStrictly decodes every stream of path with ffmpeg -xerror and reports what ffmpeg said.
func DecodeStrictly(path string) error {
	out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		return fmt.Errorf("ffmpeg -xerror %s: %v: %s", filepath.Base(path), err, out)
	}
	return nil
}

// WriteFile writes b to a file in a test's temporary directory and returns its path.
func WriteFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
