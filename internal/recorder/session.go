package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/pion/rtp"

	"civicam/internal/segment"
)

// session records one RTSP connection until it fails or ctx is done. recorded reports whether
// at least one part was written, which resets the reconnect backoff.
func (s *supervisor) session(ctx context.Context) (recorded bool, err error) {
	if src := s.source(); src != nil {
		return s.sourceSession(ctx, src)
	}
	u, err := base.ParseURL(s.cam.SourceURL)
	if err != nil {
		// A *url.Error quotes the whole URL, credentials and all, and the reason goes to the
		// camera's status and the log: only its cause may.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return false, asError(fmt.Errorf("source url: %w", err))
	}
	c := &gortsplib.Client{
		Scheme:      u.Scheme,
		Host:        u.Host,
		ReadTimeout: s.r.cfg.ReadTimeout,
	}
	switch s.cam.Transport {
	case TransportTCP:
		c.Protocol = ptr(gortsplib.ProtocolTCP)
	case TransportUDP:
		c.Protocol = ptr(gortsplib.ProtocolUDP)
	case TransportAuto, "":
	default:
		return false, asError(fmt.Errorf("unknown transport %q", s.cam.Transport))
	}
	c.OnPacketsLost = func(lost uint64) {
		s.update(func(x *Status) { x.PacketsLost += lost })
	}
	c.OnDecodeError = func(err error) {
		s.r.log.Debug("recorder: rtp decode error", "camera", s.cam.ID, "err", err)
	}
	if err := c.Start(); err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	// Closing the client is how the session ends early, for the supervisor's cancellation or the
	// writer's failure alike: then c.Wait returns, and no goroutine has to wait beside it.
	sessCtx, endSession := context.WithCancel(ctx)
	defer endSession()
	stop := context.AfterFunc(sessCtx, c.Close)
	defer stop()

	desc, _, err := c.Describe(u)
	if err != nil {
		return false, classifyRTSP(fmt.Errorf("describe: %w", err))
	}
	var h264f *format.H264
	var h265f *format.H265
	var forma format.Format
	var medi *description.Media
	if medi = desc.FindFormat(&h264f); medi != nil {
		forma = h264f
	} else if medi = desc.FindFormat(&h265f); medi != nil {
		forma = h265f
	} else {
		return false, asError(errors.New("source has no H.264 or H.265 video track"))
	}
	asm, err := newAssembler(forma, s.r.cfg.PartLength, s.segmentLength(), s.r.deps.Now)
	if err != nil {
		return false, asError(err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, classifyRTSP(fmt.Errorf("setup: %w", err))
	}
	amedi, aforma := findAudio(desc)
	if amedi != nil {
		if asm.audio, err = newAudioTrack(aforma); err != nil {
			s.r.log.Warn("recorder: audio not kept", "camera", s.cam.ID, "err", err)
			amedi = nil
		} else if _, err := c.Setup(desc.BaseURL, amedi, 0, 0); err != nil {
			// The picture matters more than the sound: recorded without it, as the status says.
			s.r.log.Warn("recorder: audio not kept: setup failed", "camera", s.cam.ID, "err", err)
			asm.audio, amedi = nil, nil
		}
	} else if names := unkeptAudio(desc); len(names) > 0 {
		s.r.log.Warn("recorder: audio not kept: codec not supported", "camera", s.cam.ID, "codecs", names)
	}

	w := newSegWriter(s, ctx)
	w.onFail = endSession
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w.run()
	}()
	asm.out, asm.quit = w.in, w.failed
	asm.live = s.r.live.publisher(s.cam.ID)
	defer s.r.live.interrupt(s.cam.ID)

	// Over UDP each track's packets come on a goroutine of their own.
	var asmMu sync.Mutex
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS(medi, pkt)
		if !ok {
			return
		}
		asmMu.Lock()
		asm.packet(pkt, pts)
		asmMu.Unlock()
	})
	if amedi != nil {
		c.OnPacketRTP(amedi, aforma, func(pkt *rtp.Packet) {
			pts, ok := c.PacketPTS(amedi, pkt)
			if !ok {
				return
			}
			asmMu.Lock()
			asm.audioPacket(pkt, pts)
			asmMu.Unlock()
		})
	}
	if _, err := c.Play(nil); err != nil {
		c.Close()
		close(w.in)
		<-writerDone
		return false, classifyRTSP(fmt.Errorf("play: %w", err))
	}

	waitErr := c.Wait()
	if ctx.Err() == nil {
		err = fmt.Errorf("stream: %w", waitErr) // replaced below if the writer failed
	}
	// After Close no callback runs any more, so the assembler is ours to flush.
	c.Close()
	asm.finish()
	close(w.in)
	<-writerDone
	if w.err != nil {
		err = asError(w.err)
	}
	return w.parts > 0, err
}

func (s *supervisor) segmentLength() time.Duration {
	if s.cam.SegmentLength > 0 {
		return s.cam.SegmentLength
	}
	return s.r.cfg.SegmentLength
}

// durTicks converts a duration to 90 kHz ticks.
func durTicks(d time.Duration) int64 {
	return int64(d/time.Second)*90000 + int64(d%time.Second)*90000/int64(time.Second)
}

// anchorClock gives wall times to decode timestamps: the first one asked for is now, and the
// rest follow the stream's clock from there, so the segments of one connection abut exactly.
type anchorClock struct {
	now       func() time.Time
	set       bool
	wall      time.Time
	anchorDTS int64
}

// maxClockDrift is how far the stream's clock may run from the wall clock before a new segment
// is re-anchored to the wall clock; below it, segments of a connection abut exactly.
const maxClockDrift = time.Second

// resync re-anchors the clock at dts when the stream's clock has drifted from the wall clock.
func (c *anchorClock) resync(dts int64) {
	if !c.set {
		return
	}
	now := c.now()
	if d := now.Sub(c.at(dts)); d > maxClockDrift || d < -maxClockDrift {
		c.wall, c.anchorDTS = now, dts
	}
}

func (c *anchorClock) at(dts int64) time.Time {
	if !c.set {
		c.set, c.wall, c.anchorDTS = true, c.now(), dts
	}
	d := dts - c.anchorDTS
	if d < 0 {
		return c.wall.Add(-segment.Ticks(uint64(-d)))
	}
	return c.wall.Add(segment.Ticks(uint64(d)))
}

func ptr[T any](v T) *T { return &v }

// writeMsg is one step handed from the assembler to the writer, in stream order: a segment
// starts, samples join the open part, or the part ends. Samples go a few at a time (sendBatch),
// so that the writer puts them in the file as they come and no part is ever held whole in memory.
type writeMsg struct {
	kind    msgKind
	seg     *segInfo              // msgSegment
	samples []segment.Sample      // msgSamples
	audio   []segment.AudioSample // msgAudio
	end     time.Time             // msgPartEnd: wall time at the end of the part
}

type msgKind uint8

const (
	msgSamples msgKind = iota
	msgSegment
	msgPartEnd
	msgAudio
)

// sendBatch is how many sample bytes the assembler gathers, by reference, before handing them to
// the writer, which writes them in one call. Handing over each sample woke the writer 25 times a
// second per camera, and its writes cost twice the file-system CPU of 64 KiB ones.
const sendBatch = 64 << 10

// segInfo describes a segment as it starts: the current one, if any, is sealed first.
type segInfo struct {
	init    *fmp4.Init
	start   time.Time
	codec   string
	profile string
	width   int
	height  int
	audio   string // the audio codec kept, "" for none
}

// writeQueue is the writer's inbox, in messages: at 4 Mbit/s about four seconds of video, so that
// a slow sync does not stall the RTSP reader. It holds references, not copies, and only while
// the writer is behind.
const writeQueue = 32

// params are a stream's parameter sets; vps is for H.265 only.
type params struct{ vps, sps, pps []byte }

func (p params) equal(o params) bool {
	return bytes.Equal(p.vps, o.vps) && bytes.Equal(p.sps, o.sps) && bytes.Equal(p.pps, o.pps)
}

// assembler turns RTP packets into samples, samples into parts, and decides where parts and
// segments end. It runs on the RTSP client's goroutine. A sample's duration is known only when
// the next one arrives, so one sample is always held back.
type assembler struct {
	h265       bool
	decode     func(*rtp.Packet) ([][]byte, error)
	dts        func(au [][]byte, pts int64) (int64, error)
	newDTS     func() func([][]byte, int64) (int64, error)
	partLen    int64
	segLen     int64
	clock      *anchorClock
	cur        params
	segParams  params
	started    bool
	segStart   int64 // DTS of the segment's first sample
	pending    *segment.Sample
	pendingDTS int64
	lastDur    uint32
	partStart  int64
	partDur    uint64 // decode time the open part's samples span
	partN      int    // samples in the open part
	batch      []segment.Sample
	batchBytes int
	out        chan<- writeMsg
	quit       <-chan struct{}
	live       func(Frame) // live viewers' fan-out (fanout.go); nil in tests of the assembler alone

	// The audio track (audio.go), nil for none. Frames wait in aq until their part ends; aEnd is
	// where the last one ends, on the stream's clock in the track's rate units.
	audio    *audioTrack
	segAudio bool   // the open segment's init has the audio track
	segSig   string // audio.sig when the open segment started
	aq       []queuedAudio
	aEnd     int64
	aSet     bool
}

func newAssembler(forma format.Format, partLen, segLen time.Duration, now func() time.Time) (*assembler, error) {
	a := &assembler{partLen: durTicks(partLen), segLen: durTicks(segLen), clock: &anchorClock{now: now}}
	switch f := forma.(type) {
	case *format.H264:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("h264 decoder: %w", err)
		}
		a.decode = func(p *rtp.Packet) ([][]byte, error) {
			au, err := dec.Decode(p)
			if errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
				return nil, nil
			}
			return au, err
		}
		a.newDTS = func() func([][]byte, int64) (int64, error) {
			x := &h264.DTSExtractor{}
			x.Initialize()
			return x.Extract
		}
		a.cur = params{sps: f.SPS, pps: f.PPS}
	case *format.H265:
		a.h265 = true
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("h265 decoder: %w", err)
		}
		a.decode = func(p *rtp.Packet) ([][]byte, error) {
			au, err := dec.Decode(p)
			if errors.Is(err, rtph265.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious) {
				return nil, nil
			}
			return au, err
		}
		a.newDTS = func() func([][]byte, int64) (int64, error) {
			x := &h265.DTSExtractor{}
			x.Initialize()
			return x.Extract
		}
		a.cur = params{vps: f.VPS, sps: f.SPS, pps: f.PPS}
	}
	a.dts = a.newDTS()
	return a, nil
}

func (a *assembler) packet(pkt *rtp.Packet, pts int64) {
	au, err := a.decode(pkt)
	if err != nil || au == nil {
		return
	}
	a.accessUnit(au, pts)
}

func (a *assembler) accessUnit(au [][]byte, pts int64) {
	key := a.scanParams(au)
	if !a.started {
		if !key || a.cur.sps == nil || a.cur.pps == nil || (a.h265 && a.cur.vps == nil) {
			return
		}
	}
	if key {
		au = a.withParams(au)
	}
	if a.live != nil {
		a.live(Frame{Codec: a.codecName(), PTS: pts, Key: key, NALUs: au})
	}
	dts, err := a.dts(au, pts)
	if err == nil && a.pending != nil && (dts <= a.pendingDTS || dts-a.pendingDTS > maxFrameGap) {
		err = fmt.Errorf("timestamp jump of %d ticks", dts-a.pendingDTS)
	}
	if err != nil {
		if !key {
			// Cannot be placed in time; the next keyframe starts over.
			return
		}
		// The stream's timeline broke (an encoder restarting, timestamps jumping): what came
		// before is closed as it is, and a new segment starts from this keyframe.
		a.restart()
		if dts, err = a.dts(au, pts); err != nil {
			return
		}
	}
	if a.pending != nil {
		d := dts - a.pendingDTS
		a.pending.Duration = uint32(d)
		a.lastDur = uint32(d)
		a.appendPending()
	}

	switch {
	case !a.started || (key && (dts-a.segStart >= a.segLen || !a.cur.equal(a.segParams) || a.audioSig() != a.segSig)):
		a.emit(dts)
		a.started = true
		a.segStart, a.partStart = dts, dts
		a.segParams = a.cur
		a.segAudio, a.segSig = a.audio != nil, a.audioSig()
		a.clock.resync(dts)
		seg := &segInfo{init: a.init(), start: a.clock.at(dts)}
		a.describe(seg)
		a.send(writeMsg{kind: msgSegment, seg: seg})
	case key && dts-a.partStart >= a.partLen-a.partLen/4, dts-a.partStart >= maxPartLengths*a.partLen:
		// Parts begin on keyframes, so that playback can start at any part: cut at the first
		// keyframe once the part is nearly long enough (a camera's keyframe interval rarely
		// divides the part length exactly, and its timestamps jitter). Cutting by decode time
		// alone put most cuts a frame or two off the keyframes of a stream with B-frames, whose
		// decode times run behind its presentation times, and playback then had to start a whole
		// segment early. Only a keyframe interval longer than maxPartLengths parts is cut
		// between keyframes; playback starts such a range at the part of its last keyframe.
		a.emit(dts)
		a.partStart = dts
	}
	// gortsplib v5 gives every packet a buffer of its own and joins fragments into a new one, so
	// the NAL units can be kept, uncopied, until the writer has put them in the file.
	a.pending = &segment.Sample{PTSOffset: int32(pts - dts), NonSync: !key, NALUs: au}
	a.pendingDTS = dts
}

// maxPartLengths bounds a part, in part lengths, for cameras whose keyframes are further apart:
// a part is what a crash can lose, and what live playback of the open segment waits for.
const maxPartLengths = 4

// maxFrameGap is the longest interval between two frames taken as the stream going on; a longer
// one is a broken timeline and starts a new segment.
const maxFrameGap = 10 * 90000

// restart closes what was assembled and forgets the timeline, so that the next keyframe starts a
// new segment at a fresh wall-clock anchor.
func (a *assembler) restart() {
	a.finish()
	a.started = false
	a.dts = a.newDTS()
	a.clock = &anchorClock{now: a.clock.now}
	a.aq, a.aSet = a.aq[:0], false
}

// finish hands over what is held back; the last sample gets the previous frame interval.
func (a *assembler) finish() {
	if a.pending != nil {
		d := a.lastDur
		if d == 0 {
			d = 3000
		}
		a.pending.Duration = d
		a.appendPending()
	}
	a.emit(-1)
}

// appendPending adds the held-back sample, its duration now known, to the batch for the writer.
func (a *assembler) appendPending() {
	p := a.pending
	a.pending = nil
	a.partN++
	a.partDur += uint64(p.Duration)
	a.batch = append(a.batch, *p)
	for _, u := range p.NALUs {
		a.batchBytes += 4 + len(u)
	}
	if a.batchBytes >= sendBatch {
		a.sendSamples()
	}
}

func (a *assembler) sendSamples() {
	if len(a.batch) == 0 {
		return
	}
	b := a.batch
	a.batch, a.batchBytes = make([]segment.Sample, 0, cap(b)), 0
	a.send(writeMsg{kind: msgSamples, samples: b})
}

// emit ends the open part, if it has samples, with the audio that decodes before cut (the next
// part's first decode time; all of it when negative).
func (a *assembler) emit(cut int64) {
	if a.partN == 0 {
		return
	}
	a.sendSamples()
	a.sendAudio(cut)
	// Taken from the same clock as the next part's start, so that consecutive segments of one
	// connection abut exactly in the index.
	end := a.clock.at(a.partStart + int64(a.partDur))
	a.partN, a.partDur = 0, 0
	a.send(writeMsg{kind: msgPartEnd, end: end})
}

func (a *assembler) send(m writeMsg) {
	select {
	case a.out <- m:
	case <-a.quit:
	}
}

// scanParams records in-band parameter sets and reports whether au is a keyframe.
func (a *assembler) scanParams(au [][]byte) bool {
	if a.h265 {
		for _, n := range au {
			if len(n) < 2 {
				continue
			}
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				a.cur.vps = n
			case h265.NALUType_SPS_NUT:
				a.cur.sps = n
			case h265.NALUType_PPS_NUT:
				a.cur.pps = n
			}
		}
		return h265.IsRandomAccess(au)
	}
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			a.cur.sps = n
		case h264.NALUTypePPS:
			a.cur.pps = n
		}
	}
	return h264.IsRandomAccess(au)
}

// withParams puts the parameter sets in front of a keyframe that lacks them, so that every part
// starting with a keyframe decodes without the init (cameras that send them only in the SDP
// exist).
func (a *assembler) withParams(au [][]byte) [][]byte {
	var has bool
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if a.h265 && h265.NALUType((n[0]>>1)&0x3f) == h265.NALUType_SPS_NUT ||
			!a.h265 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			has = true
			break
		}
	}
	if has {
		return au
	}
	pre := [][]byte{a.cur.sps, a.cur.pps}
	if a.h265 {
		pre = [][]byte{a.cur.vps, a.cur.sps, a.cur.pps}
	}
	return append(pre, au...)
}

func (a *assembler) init() *fmp4.Init {
	var codec fmp4.Codec
	if a.h265 {
		codec = &fmp4.CodecH265{VPS: a.cur.vps, SPS: a.cur.sps, PPS: a.cur.pps}
	} else {
		codec = &fmp4.CodecH264{SPS: a.cur.sps, PPS: a.cur.pps}
	}
	in := &fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: 90000, Codec: codec}}}
	if a.audio != nil {
		in.Tracks = append(in.Tracks, &fmp4.InitTrack{ID: 2, TimeScale: uint32(a.audio.rate), Codec: a.audio.init})
	}
	return in
}

// audioSig tells apart audio streams that one init cannot describe both of.
func (a *assembler) audioSig() string {
	if a.audio == nil {
		return ""
	}
	return a.audio.sig
}

// describe fills in the codec and picture size for the status.
func (a *assembler) describe(p *segInfo) {
	if a.audio != nil {
		p.audio = a.audio.codec
	}
	if a.h265 {
		p.codec = "H265"
		var sps h265.SPS
		if sps.Unmarshal(a.cur.sps) == nil {
			p.width, p.height = sps.Width(), sps.Height()
		}
		return
	}
	p.codec = "H264"
	// RFC 6184's profile-level-id is the three bytes after the SPS's NAL header: what a WebRTC
	// answer must name for the browser to decode the stream as sent.
	if len(a.cur.sps) >= 4 {
		p.profile = fmt.Sprintf("%x", a.cur.sps[1:4])
	}
	var sps h264.SPS
	if sps.Unmarshal(a.cur.sps) == nil {
		p.width, p.height = sps.Width(), sps.Height()
	}
}
