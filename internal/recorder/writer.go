package recorder

import (
	"context"
	"fmt"
	"time"

	"civicam/internal/segment"
)

// indexTimeout bounds one index call; it is not tied to the session so that a segment is still
// sealed while the recorder shuts down.
const indexTimeout = 10 * time.Second

// segWriter writes the parts of one session to segment files on its own goroutine, so that disk
// syncs never stall the RTSP reader.
type segWriter struct {
	s      *supervisor
	ctx    context.Context
	in     chan *partMsg
	failed chan struct{} // closed when err is set
	err    error         // read by the session only after run returns
	parts  int

	cur  *openSegment
	rate [8]struct{ bytes, dur uint64 }
	ri   int
}

type openSegment struct {
	rec segment.Record
	w   *segment.Writer
	dur uint64
	end time.Time
}

func newSegWriter(s *supervisor, ctx context.Context) *segWriter {
	return &segWriter{
		s:      s,
		ctx:    context.WithoutCancel(ctx),
		in:     make(chan *partMsg, 4),
		failed: make(chan struct{}),
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

func (w *segWriter) write(p *partMsg) error {
	if p.newSegment {
		if err := w.seal(); err != nil {
			return err
		}
		if err := w.open(p); err != nil {
			return err
		}
	}
	if w.cur == nil {
		return fmt.Errorf("part without a segment")
	}
	before := w.cur.w.Size()
	err := w.cur.w.WritePart(p.baseTime, p.samples)
	written := w.cur.w.Size() - before
	if err != nil {
		w.s.update(func(x *Status) { x.BytesWritten += written })
		return err
	}
	w.cur.dur += p.duration
	w.cur.end = p.end
	w.parts++
	w.rate[w.ri%len(w.rate)] = struct{ bytes, dur uint64 }{uint64(p.bytes), p.duration}
	w.ri++
	var b, d uint64
	for _, r := range w.rate {
		b, d = b+r.bytes, d+r.dur
	}
	w.s.update(func(x *Status) {
		x.State, x.Reason = StateRecording, ""
		x.BytesWritten += written
		x.Parts++
		x.LastPart = p.end
		if d > 0 {
			x.Bitrate = int64(b * 8 * segment.TimeScale / d)
		}
	})
	return nil
}

func (w *segWriter) open(p *partMsg) error {
	cam := w.s.cam.ID
	key, err := segment.Key(cam, p.segStart)
	if err != nil {
		return err
	}
	ctx, cancel := w.indexCtx()
	defer cancel()
	if err := w.s.r.deps.Index.SegmentStarted(ctx, cam, key, p.segStart); err != nil {
		return fmt.Errorf("index segment start: %w", err)
	}
	rec := segment.Record{CameraID: cam, Path: key, Start: p.segStart, End: p.segStart}
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
	w.s.update(func(x *Status) {
		x.Codec, x.Width, x.Height = p.codec, p.width, p.height
		x.BytesWritten += sw.Size()
		x.SegmentStart = p.segStart
	})
	return nil
}

// seal closes the current segment and completes its index entry.
func (w *segWriter) seal() error {
	if w.cur == nil {
		return nil
	}
	sum, size, err := w.cur.w.Close()
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
