package recorder

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"

	"civicam/internal/segment"
)

// indexTimeout bounds one index call; it is not tied to the session so that a segment is still
// sealed while the recorder shuts down.
const indexTimeout = 10 * time.Second

// segWriter writes the samples of one session to segment files on its own goroutine, each as it
// comes, and syncs at the end of every part; disk syncs never stall the RTSP reader.
type segWriter struct {
	s      *supervisor
	ctx    context.Context
	in     chan writeMsg
	failed chan struct{} // closed when err is set
	onFail func()        // called once err is set: ends the session
	err    error         // read by the session only after run returns
	parts  int

	cur       *openSegment
	partBytes uint64 // sample bytes of the open part
	partDur   uint64
	rate      [8]struct{ bytes, dur uint64 }
	ri        int

	// The keyframes of the session, for a frozen picture (Status.StillSince): the hash of the
	// last one written, how many identical ones ended with it, and those of the open part.
	seed     maphash.Seed
	keyHash  uint64
	keyRun   int
	runStart time.Time
	partKeys []uint64
}

type openSegment struct {
	rec      segment.Record
	w        *segment.Writer
	end      time.Time
	reported int64 // of w.Size(), counted in the status
	parts    int   // of w.Parts(), counted in the status
}

func newSegWriter(s *supervisor, ctx context.Context) *segWriter {
	return &segWriter{
		s:      s,
		ctx:    context.WithoutCancel(ctx),
		in:     make(chan writeMsg, writeQueue),
		failed: make(chan struct{}),
		seed:   maphash.MakeSeed(),
	}
}

func (w *segWriter) run() {
	for p := range w.in {
		if w.err != nil {
			continue
		}
		if err := w.write(p); err != nil {
			w.err = err
			close(w.failed)
			if w.onFail != nil {
				w.onFail()
			}
			w.abort()
		}
	}
	if w.err == nil {
		if err := w.seal(); err != nil {
			w.err = err
			w.abort()
		}
	}
	w.s.update(func(x *Status) { x.SegmentStart = time.Time{} })
}

func (w *segWriter) indexCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(w.ctx, indexTimeout)
}

func (w *segWriter) write(m writeMsg) error {
	switch m.kind {
	case msgSegment:
		if err := w.seal(); err != nil {
			return err
		}
		return w.open(m.seg)
	case msgPartEnd:
		return w.endPart(m.end)
	case msgAudio:
		if w.cur == nil {
			return fmt.Errorf("audio without a segment")
		}
		for _, a := range m.audio {
			if err := w.cur.w.WriteAudio(a); err != nil {
				w.report(nil)
				return err
			}
		}
		return nil
	}
	if w.cur == nil {
		return fmt.Errorf("samples without a segment")
	}
	for _, s := range m.samples {
		if err := w.cur.w.WriteSample(s); err != nil {
			w.report(nil)
			return err
		}
		for _, u := range s.NALUs {
			w.partBytes += 4 + uint64(len(u))
		}
		w.partDur += uint64(s.Duration)
		if !s.NonSync {
			w.partKeys = append(w.partKeys, w.keyframeHash(s.NALUs))
		}
	}
	return nil
}

// keyframeHash hashes a keyframe's NAL units as written, lengths included so that the same
// bytes split differently do not match. A keyframe is a few tens of kilobytes a second or two,
// and maphash reads gigabytes a second: nothing beside the write.
func (w *segWriter) keyframeHash(nalus [][]byte) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	var n [4]byte
	for _, u := range nalus {
		n[0], n[1], n[2], n[3] = byte(len(u)>>24), byte(len(u)>>16), byte(len(u)>>8), byte(len(u))
		h.Write(n[:])
		h.Write(u)
	}
	return h.Sum64()
}

// stillKeyframes takes the keyframes of a part that ended at end into the run of identical
// ones, and reports whether the part held a keyframe.
func (w *segWriter) stillKeyframes(end time.Time) bool {
	for _, k := range w.partKeys {
		if w.keyRun > 0 && k == w.keyHash {
			w.keyRun++
			continue
		}
		w.keyHash, w.keyRun, w.runStart = k, 1, end
	}
	had := len(w.partKeys) > 0
	w.partKeys = w.partKeys[:0]
	return had
}

// endPart completes and syncs the open part, and reports it.
func (w *segWriter) endPart(end time.Time) error {
	if w.cur == nil {
		return fmt.Errorf("part end without a segment")
	}
	err := w.cur.w.EndPart()
	if err != nil {
		w.report(nil)
		return err
	}
	w.cur.end = end
	w.parts++
	w.rate[w.ri%len(w.rate)] = struct{ bytes, dur uint64 }{w.partBytes, w.partDur}
	w.ri++
	w.partBytes, w.partDur = 0, 0
	var b, d uint64
	for _, r := range w.rate {
		b, d = b+r.bytes, d+r.dur
	}
	key := w.stillKeyframes(end)
	w.report(func(x *Status) {
		x.State, x.Reason = StateRecording, ""
		x.LastPart = end
		if key {
			x.LastKeyframe = end
		}
		x.StillSince, x.StillKeyframes = time.Time{}, 0
		if w.keyRun > 1 {
			x.StillSince, x.StillKeyframes = w.runStart, w.keyRun
		}
		if d > 0 {
			x.Bitrate = int64(b * 8 * segment.TimeScale / d)
		}
	})
	return nil
}

// report adds the bytes and parts written since the last report to the status, with fn's changes.
func (w *segWriter) report(fn func(x *Status)) {
	c := w.cur
	written, parts := c.w.Size()-c.reported, c.w.Parts()-c.parts
	c.reported, c.parts = c.w.Size(), c.w.Parts()
	w.s.update(func(x *Status) {
		x.BytesWritten += written
		x.Parts += int64(parts)
		if fn != nil {
			fn(x)
		}
	})
}

func (w *segWriter) open(p *segInfo) error {
	cam := w.s.cam.ID
	key, err := segment.Key(cam, p.start)
	if err != nil {
		return err
	}
	ctx, cancel := w.indexCtx()
	defer cancel()
	rec := segment.Record{CameraID: cam, Path: key, Start: p.start, End: p.start, Node: w.s.cam.Node, Token: w.s.cam.Token}
	if err := w.s.r.deps.Index.StartSegment(ctx, rec); err != nil {
		return fmt.Errorf("index segment start: %w", err)
	}
	f, err := w.s.r.deps.Store.Create(key)
	if err != nil {
		if derr := w.s.r.deps.Index.DeleteSegment(ctx, key); derr != nil {
			w.s.r.log.Error("recorder: unindex segment never created", "camera", cam, "path", key, "err", derr)
		}
		return err
	}
	sw, err := segment.NewWriter(f, p.init)
	if err != nil {
		f.Close()
		// Whatever part of the init reached the disk is unplayable: remove it and its entry.
		if rerr := sealByRepair(ctx, w.s.r.deps.Store, w.s.r.deps.Index, rec); rerr != nil {
			w.s.r.log.Error("recorder: remove segment whose init failed", "camera", cam, "path", key, "err", rerr)
		}
		return err
	}
	w.cur = &openSegment{rec: rec, w: sw}
	w.partBytes, w.partDur = 0, 0
	w.report(func(x *Status) {
		x.Codec, x.Profile, x.Width, x.Height = p.codec, p.profile, p.width, p.height
		x.AudioCodec = p.audio
		x.SegmentStart = p.start
	})
	return nil
}

// seal closes the current segment and completes its index entry.
func (w *segWriter) seal() error {
	if w.cur == nil {
		return nil
	}
	sum, size, err := w.cur.w.Close()
	w.report(nil)
	if err != nil {
		return err
	}
	rec := w.cur.rec
	rec.End = w.cur.end
	rec.Bytes, rec.SHA256, rec.Sealed = size, sum, true
	ctx, cancel := w.indexCtx()
	defer cancel()
	if err := w.s.r.deps.Index.SegmentSealed(ctx, rec); err != nil {
		return fmt.Errorf("index segment seal: %w", err)
	}
	w.cur = nil
	w.s.update(func(x *Status) { x.Segments++ })
	return nil
}

// abort deals with the segment open when writing failed: a write may have stopped inside a part,
// so the file is cut back to its last complete part before it is sealed. Should that fail too, the
// entry stays unsealed and the next start-up repairs it.
func (w *segWriter) abort() {
	if w.cur == nil {
		return
	}
	w.cur.w.Close()
	rec := w.cur.rec
	w.cur = nil
	w.s.update(func(x *Status) { x.SegmentStart = time.Time{} })
	ctx, cancel := w.indexCtx()
	defer cancel()
	if err := sealByRepair(ctx, w.s.r.deps.Store, w.s.r.deps.Index, rec); err != nil {
		w.s.r.log.Error("recorder: seal after write failure", "camera", rec.CameraID, "path", rec.Path, "err", err)
	}
}
