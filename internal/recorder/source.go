package recorder

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluenviron/gortsplib/v5/pkg/format"

	"civicam/internal/mpegps"
)

// MediaSource yields a camera's video from a source other than RTSP (GB/T 28181's PS over RTP
// among them), as access units for the same assembler RTSP feeds.
type MediaSource interface {
	// Stream opens the media of sourceURL and calls emit, from one goroutine, with each video
	// access unit (H.264 or H.265, PTS at 90 kHz) in decoding order, until ctx ends or the
	// stream fails; it ends the media at the device (a BYE) before it returns. It calls lost,
	// from the same goroutine, with the packets found missing in transit since its last call,
	// which the camera's status counts as it counts an RTSP stream's.
	Stream(ctx context.Context, sourceURL string, emit func(*mpegps.AccessUnit), lost func(n uint64)) error
}

// source is the MediaSource for a camera's source URL scheme, nil for RTSP.
func (s *supervisor) source() MediaSource {
	scheme, _, ok := strings.Cut(s.cam.SourceURL, "://")
	if !ok || scheme == "rtsp" || scheme == "rtsps" {
		return nil
	}
	return s.r.deps.Sources[scheme]
}

// sourceSession records one stream of a MediaSource until it fails or ctx is done, as session
// does an RTSP connection: the assembler is built at the first access unit, which names the codec.
func (s *supervisor) sourceSession(ctx context.Context, src MediaSource) (recorded bool, err error) {
	sessCtx, endSession := context.WithCancel(ctx)
	defer endSession()
	w := newSegWriter(s, ctx)
	w.onFail = endSession
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w.run()
	}()
	defer s.r.live.interrupt(s.cam.ID)

	var asm *assembler
	var asmErr error
	var audio *audioTrack // the program stream's audio, once a frame named it
	streamErr := src.Stream(sessCtx, s.cam.SourceURL, func(au *mpegps.AccessUnit) {
		if asmErr != nil {
			return
		}
		if !au.Codec.IsVideo() {
			// The first audio frame names the codec; a new segment starts with it at the next
			// keyframe (an init describes its tracks once).
			t := psAudioTrack(au)
			if t == nil {
				return
			}
			if audio == nil || audio.sig != t.sig {
				audio = t
			}
			if asm != nil {
				asm.audio = audio
				asm.audioFrame(au.PTS*int64(audio.rate)/90000, au.Data)
			}
			return
		}
		if asm == nil {
			var f format.Format = &format.H264{PayloadTyp: mpegps.PayloadType, PacketizationMode: 1}
			if au.Codec == mpegps.CodecH265 {
				f = &format.H265{PayloadTyp: mpegps.PayloadType}
			}
			if asm, asmErr = newAssembler(f, s.r.cfg.PartLength, s.segmentLength(), s.r.deps.Now); asmErr != nil {
				endSession()
				return
			}
			asm.out, asm.quit = w.in, w.failed
			asm.live = s.r.live.publisher(s.cam.ID)
			asm.audio = audio
		}
		asm.accessUnit(au.NALUs, au.PTS)
	}, func(n uint64) { s.update(func(x *Status) { x.PacketsLost += n }) })
	if ctx.Err() == nil {
		err = fmt.Errorf("stream: %w", streamErr)
	}
	if asm != nil {
		asm.finish()
	}
	close(w.in)
	<-writerDone
	switch {
	case asmErr != nil:
		err = asError(asmErr)
	case w.err != nil:
		err = asError(w.err)
	}
	return w.parts > 0, err
}
