// Package playback builds one fragmented MP4 of a camera's recorded time range from the
// segments the recorder wrote, without re-encoding: the initialization of the first segment,
// a segment index (sidx) so players can seek, then the parts (moof + mdat) of every segment that
// overlaps the range, with sequence numbers renumbered from 1 and decode times rebased so the
// timeline runs continuously from 0.
//
// The range is cut at part granularity: the MP4 starts at the last keyframe part at or before
// the requested start and ends after the part covering the requested end. Time that was not
// recorded is not papered over with filler: the MP4 holds recorded time only, joined end to end,
// and a Plan names both the recorded stretches (Spans: where each starts in the MP4 and on the
// wall clock) and the Gaps of the requested range, for the caller to report.
//
// Only moof boxes are read and rewritten; sample data is copied from the segment files at their
// offsets (with sendfile when the destination supports it), so serving an hour costs no more
// memory than serving a second.
package playback

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"civicam/internal/segment"
	"civicam/internal/timespan"
)

// Index lists a camera's sealed segments overlapping [start, end), in time order; *store.DB
// implements it.
type Index interface {
	RecordingSegments(ctx context.Context, cameraID string, start, end time.Time) ([]segment.Record, error)
}

// OpenSegments lists a camera's segments not sealed yet: the one the recorder is writing (and
// any a crash left, until they are repaired). *store.DB implements it. When the Index has it,
// playback reaches up to the last complete part written, not only to the last sealed segment.
type OpenSegments interface {
	UnsealedSegments(ctx context.Context, cameraID string) ([]segment.Record, error)
}

// Files opens segments by key, on local disk or in a bucket; *segment.Disk implements it,
// refusing keys that escape its root.
type Files interface {
	Open(key string) (segment.Reader, error)
}

// Config tunes the builder.
type Config struct {
	// MaxRange bounds one request; default 12 hours (a sidx counts at most 65535 parts).
	MaxRange time.Duration
	// GapTolerance is the largest hole between consecutive parts still taken as continuous
	// recording; default 100 ms (segments of one connection meet exactly).
	GapTolerance time.Duration
	// CacheSegments is how many segments' layouts (init and moof boxes, a few tens of kilobytes
	// each) are kept between plans; default 256, negative for none. Sealed segments never
	// change, and a player seeking in a long range asks for the same segments again and again:
	// without the cache each request re-reads every moof of the range before its first byte.
	CacheSegments int
}

// Deps are the builder's collaborators.
type Deps struct {
	Index Index
	Files Files
}

// Builder plans playbacks.
type Builder struct {
	cfg   Config
	deps  Deps
	cache *layoutCache
}

// New returns a Builder.
func New(cfg Config, deps Deps) *Builder {
	if cfg.MaxRange <= 0 {
		cfg.MaxRange = 12 * time.Hour
	}
	if cfg.GapTolerance <= 0 {
		cfg.GapTolerance = 100 * time.Millisecond
	}
	if cfg.CacheSegments == 0 {
		cfg.CacheSegments = 256
	}
	return &Builder{cfg: cfg, deps: deps, cache: newLayoutCache(cfg.CacheSegments)}
}

// Errors a caller answers as the client's mistake or an empty range.
var (
	ErrBadRange   = errors.New("bad time range")
	ErrNoFootage  = errors.New("nothing recorded in the range")
	errTooManyFrg = errors.New("too many parts for one playback")
)

// Span is one stretch of continuous recording in the MP4: it begins at media time Offset and
// shows the wall-clock interval [Start, End).
type Span struct {
	Offset time.Duration `json:"offset"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
}

// Source is a segment the MP4 takes parts from.
type Source struct {
	Record segment.Record
	Parts  int // how many of its parts are used
}

// Out is one fragment of the MP4 as written.
type Out struct {
	Seq      uint32
	Offset   int64 // in the MP4
	Size     int64
	Start    time.Time // wall clock of its first sample
	BaseTime uint64    // rebased decode time
	Duration uint64
	Keyframe bool
}

// Plan is one MP4 ready to be written: what it holds and where every byte comes from. Close it
// when done: it holds the segment files open, so retention cannot pull them away mid-stream.
type Plan struct {
	CameraID  string
	Requested timespan.Range
	Covered   timespan.Range // wall clock from the first part's start to the last part's end
	Duration  time.Duration
	Size      int64
	Spans     []Span
	Gaps      []timespan.Range
	Sources   []Source
	Fragments []Out

	header    []byte // ftyp + moov + sidx
	audioRate int64  // the audio track's time scale, 0 without one
	pieces    []piece
	files     []segment.Reader
}

type piece struct {
	head []byte // rewritten moof and the mdat header
	file segment.Reader
	off  int64 // of the sample data in file
	n    int64
}

// Close releases the segment files.
func (p *Plan) Close() error {
	var err error
	for _, f := range p.files {
		err = errors.Join(err, f.Close())
	}
	p.files = nil
	return err
}

type candidate struct {
	file  segment.Reader
	src   int
	frag  Fragment
	head  []byte
	start time.Time
	end   time.Time
}

// Plan reads the index and the moof boxes of the segments overlapping [start, end) and lays out
// the MP4. ErrNoFootage means nothing recorded overlaps the range; ErrBadRange an empty,
// reversed or too long range.
func (b *Builder) Plan(ctx context.Context, cameraID string, start, end time.Time) (_ *Plan, err error) {
	if !end.After(start) {
		return nil, fmt.Errorf("%w: end must be after start", ErrBadRange)
	}
	if end.Sub(start) > b.cfg.MaxRange {
		return nil, fmt.Errorf("%w: at most %v at once", ErrBadRange, b.cfg.MaxRange)
	}
	recs, err := b.deps.Index.RecordingSegments(ctx, cameraID, start, end)
	if err != nil {
		return nil, fmt.Errorf("playback of %s: %w", cameraID, err)
	}
	if open, ok := b.deps.Index.(OpenSegments); ok {
		un, err := open.UnsealedSegments(ctx, cameraID)
		if err != nil {
			return nil, fmt.Errorf("playback of %s: %w", cameraID, err)
		}
		for _, r := range un {
			if r.Start.Before(end) {
				recs = append(recs, r)
			}
		}
		slices.SortStableFunc(recs, func(a, b segment.Record) int { return a.Start.Compare(b.Start) })
	}
	p := &Plan{CameraID: cameraID, Requested: timespan.Range{Start: start.UTC(), End: end.UTC()}}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	var (
		cands []candidate
		init  []byte
	)
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := b.deps.Files.Open(rec.Path)
		if err != nil && !rec.Sealed {
			continue // a segment just created, or a crash's leftover already repaired away
		}
		if err != nil {
			return nil, fmt.Errorf("open segment %s: %w", rec.Path, err)
		}
		p.files = append(p.files, f)
		lay, err := b.layout(f, rec)
		if err != nil && !rec.Sealed {
			continue // its init is not written yet
		}
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", rec.Path, err)
		}
		if !rec.Sealed {
			// What is used of a segment still being written: its complete parts.
			rec.Bytes, rec.End = lay.size, rec.Start
			for _, fr := range lay.frags {
				rec.End = rec.End.Add(segment.Ticks(fr.Duration))
			}
		}
		segInit, frags := lay.init, lay.frags
		heads := make([][]byte, len(lay.heads))
		for i, h := range lay.heads {
			heads[i] = bytes.Clone(h) // rewritten for this plan only
		}
		if init == nil {
			init = segInit
		} else if !bytes.Equal(init, segInit) {
			// The stream changed (codec parameters, size) after a reconnect: one init cannot
			// describe both, so the MP4 ends here and the rest shows as a gap.
			break
		}
		p.Sources = append(p.Sources, Source{Record: rec})
		if len(frags) == 0 {
			continue
		}
		first := frags[0].BaseTime
		for i, fr := range frags {
			at := rec.Start.Add(segment.Ticks(fr.BaseTime - first))
			cands = append(cands, candidate{file: f, src: len(p.Sources) - 1, frag: fr, head: heads[i],
				start: at, end: at.Add(segment.Ticks(fr.Duration))})
		}
	}
	// From the last keyframe part at or before the first part overlapping the range (segments
	// start on keyframes, so it lies in the same segment) to the last part that begins before end.
	first := -1
	for i, c := range cands {
		if c.end.After(start) && c.start.Before(end) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("%w: %s from %s to %s", ErrNoFootage, cameraID, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	from := -1
	for i := first; i >= 0 && from < 0; i-- {
		if cands[i].frag.Sync {
			from = i
		}
	}
	for i := first; i < len(cands) && from < 0 && cands[i].start.Before(end); i++ {
		if cands[i].frag.Sync {
			from = i
		}
	}
	if from < 0 {
		return nil, fmt.Errorf("%w: no keyframe in %s from %s to %s", ErrNoFootage, cameraID, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	to := from
	for i := from; i < len(cands) && cands[i].start.Before(end); i++ {
		to = i
	}
	cands = cands[from : to+1]
	if len(cands) > 0xffff {
		return nil, errTooManyFrg
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(init)); err != nil {
		return nil, fmt.Errorf("playback of %s: init: %w", cameraID, err)
	}
	if len(in.Tracks) > 1 {
		p.audioRate = int64(in.Tracks[1].TimeScale)
	}
	if err := p.layout(init, cands, b.cfg.GapTolerance); err != nil {
		return nil, err
	}
	return p, nil
}

// readSegment reads a segment's init and the moof of each of its parts, up to size (the sealed
// length in the index: bytes after it are not the indexed recording). With partial set, the
// file is still being written, and reading stops quietly at the first part not yet complete.
func readSegment(f segment.Reader, size int64, partial bool) ([]byte, []Fragment, [][]byte, error) {
	if size <= 0 {
		n, err := f.Size()
		if err != nil {
			return nil, nil, nil, err
		}
		size = n
	}
	var off int64
	for _, want := range []string{"ftyp", "moov"} {
		n, typ, _, err := readBoxHeader(f, off, size)
		if err != nil {
			return nil, nil, nil, err
		}
		if typ != want {
			return nil, nil, nil, fmt.Errorf("box %q at %d; want %s", typ, off, want)
		}
		off += n
	}
	init := make([]byte, off)
	if _, err := f.ReadAt(init, 0); err != nil {
		return nil, nil, nil, fmt.Errorf("read init: %w", err)
	}
	var frags []Fragment
	var heads [][]byte
	for off < size {
		fr, head, err := readFragment(f, off, size)
		if err != nil && partial {
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		frags = append(frags, fr)
		heads = append(heads, head)
		off += fr.Size
	}
	return init, frags, heads, nil
}

// layout rebases and renumbers the chosen parts and computes spans, gaps and offsets.
//
// Audio moves with its segment's video: the parts of one segment are continuous, so one shift
// (converted to the audio's time scale) serves all of them. Should a segment's audio then begin
// before the audio before it ends (a frame that arrived after the keyframe starting the MP4, or
// the last frame of the previous segment reaching past its video), the segment's audio moves
// later by the difference, a few milliseconds, so that audio never decodes backwards.
func (p *Plan) layout(init []byte, cands []candidate, tolerance time.Duration) error {
	var base uint64
	used := map[int]int{}
	lastSrc, shiftA, audioEnd := -1, int64(0), int64(0)
	for i := range cands {
		c := &cands[i]
		seq := uint32(i + 1)
		if err := c.frag.patch(c.head, seq, base); err != nil {
			return err
		}
		if p.audioRate > 0 && c.frag.HasAudio {
			if c.src != lastSrc {
				lastSrc = c.src
				shiftA = floorDiv((int64(base)-int64(c.frag.BaseTime))*p.audioRate, segment.TimeScale)
			}
			ab := int64(c.frag.AudioBase) + shiftA
			if ab < audioEnd {
				shiftA += audioEnd - ab
				ab = audioEnd
			}
			if err := c.frag.patchAudio(c.head, uint64(ab)); err != nil {
				return err
			}
			audioEnd = ab + int64(c.frag.AudioDuration)
		}
		if n := len(p.Spans); n == 0 || absDur(c.start.Sub(p.Spans[n-1].End)) > tolerance {
			p.Spans = append(p.Spans, Span{Offset: segment.Ticks(base), Start: c.start.UTC(), End: c.end.UTC()})
		} else {
			p.Spans[n-1].End = c.end.UTC()
		}
		p.Fragments = append(p.Fragments, Out{Seq: seq, Size: c.frag.Size, Start: c.start.UTC(),
			BaseTime: base, Duration: c.frag.Duration, Keyframe: c.frag.Sync})
		p.pieces = append(p.pieces, piece{head: c.head, file: c.file,
			off: c.frag.Offset + int64(len(c.head)), n: c.frag.Size - int64(len(c.head))})
		used[c.src]++
		base += c.frag.Duration
	}
	srcs := p.Sources[:0]
	for i, s := range p.Sources {
		if used[i] > 0 {
			s.Parts = used[i]
			srcs = append(srcs, s)
		}
	}
	p.Sources = srcs
	p.Duration = segment.Ticks(base)
	p.Covered = timespan.Range{Start: cands[0].start.UTC(), End: cands[len(cands)-1].end.UTC()}
	p.header = append(append([]byte(nil), init...), sidx(p.Fragments)...)
	off := int64(len(p.header))
	for i := range p.Fragments {
		p.Fragments[i].Offset = off
		off += p.Fragments[i].Size
	}
	p.Size = off
	// Gaps: the requested range less what the spans cover.
	at := p.Requested.Start
	for _, s := range p.Spans {
		if s.Start.After(at) && at.Before(p.Requested.End) {
			p.Gaps = append(p.Gaps, timespan.Range{Start: at, End: minTime(s.Start, p.Requested.End)})
		}
		if s.End.After(at) {
			at = s.End
		}
	}
	if p.Requested.End.After(at) {
		p.Gaps = append(p.Gaps, timespan.Range{Start: at, End: p.Requested.End})
	}
	return nil
}

// sidx is a segment index box over the fragments, so that a player can seek by time without
// reading every moof first.
func sidx(frags []Out) []byte {
	n := len(frags)
	size := 8 + 4 + 4 + 4 + 8 + 8 + 2 + 2 + 12*n
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = append(b, "sidx"...)
	b = binary.BigEndian.AppendUint32(b, 1<<24) // version 1
	b = binary.BigEndian.AppendUint32(b, 1)     // reference ID: the track
	b = binary.BigEndian.AppendUint32(b, segment.TimeScale)
	b = binary.BigEndian.AppendUint64(b, 0) // earliest presentation time
	b = binary.BigEndian.AppendUint64(b, 0) // first fragment right after the sidx
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for _, f := range frags {
		b = binary.BigEndian.AppendUint32(b, uint32(f.Size)&0x7fffffff)
		b = binary.BigEndian.AppendUint32(b, uint32(f.Duration))
		var sap uint32
		if f.Keyframe {
			sap = 1<<31 | 1<<28 // starts with SAP, type 1
		}
		b = binary.BigEndian.AppendUint32(b, sap)
	}
	return b
}

// WriteTo writes the whole MP4.
func (p *Plan) WriteTo(w io.Writer) (int64, error) {
	return p.WriteRange(w, 0, p.Size)
}

// WriteRange writes bytes [off, off+n) of the MP4. Sample data goes through w's ReadFrom when
// it has one (an HTTP response on a TCP connection then uses sendfile).
func (p *Plan) WriteRange(w io.Writer, off, n int64) (int64, error) {
	if off < 0 || n < 0 || off+n > p.Size {
		return 0, fmt.Errorf("write range %d+%d of a %d-byte MP4", off, n, p.Size)
	}
	var written int64
	emit := func(b []byte) error {
		k, err := w.Write(b)
		written += int64(k)
		return err
	}
	end := off + n
	pos := int64(0)
	// The header.
	if h := int64(len(p.header)); off < h {
		if err := emit(p.header[off:min(h, end)]); err != nil {
			return written, err
		}
	}
	pos = int64(len(p.header))
	for _, pc := range p.pieces {
		if pos >= end {
			break
		}
		hl := int64(len(pc.head))
		pend := pos + hl + pc.n
		if pend <= off {
			pos = pend
			continue
		}
		if off < pos+hl {
			a := max(off-pos, 0)
			if err := emit(pc.head[a:min(hl, end-pos)]); err != nil {
				return written, err
			}
		}
		bodyStart := pos + hl
		a, z := max(off, bodyStart), min(end, pend)
		if z > a {
			k, err := copyFile(w, pc.file, pc.off+(a-bodyStart), z-a)
			written += k
			if err != nil {
				return written, err
			}
		}
		pos = pend
	}
	return written, nil
}

// copyFile copies n bytes of r from off to w. A local file's section is handed to w.ReadFrom as
// an *io.LimitedReader over the *os.File itself, the shape the kernel's sendfile path recognises.
func copyFile(w io.Writer, r segment.Reader, off, n int64) (int64, error) {
	lf, local := r.(segment.LocalFile)
	if rf, ok := w.(io.ReaderFrom); ok && local {
		f := lf.File
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return 0, err
		}
		k, err := rf.ReadFrom(&io.LimitedReader{R: f, N: n})
		if err == nil && k != n {
			err = fmt.Errorf("segment file ended %d bytes early", n-k)
		}
		return k, err
	}
	k, err := io.Copy(w, io.NewSectionReader(r, off, n))
	if err == nil && k != n {
		err = fmt.Errorf("segment file ended %d bytes early", n-k)
	}
	return k, err
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// segmentLayout is what planning reads of a segment file.
type segmentLayout struct {
	init  []byte
	frags []Fragment
	heads [][]byte
	size  int64 // the bytes the layout covers
}

// layout reads a segment's layout, or takes it from the cache when the file is the one read
// before (same path, size and, for a local file, modification time; a bucket's objects are
// written once).
func (b *Builder) layout(f segment.Reader, rec segment.Record) (*segmentLayout, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	var mtime int64
	if lf, ok := f.(segment.LocalFile); ok {
		st, err := lf.Stat()
		if err != nil {
			return nil, err
		}
		size, mtime = st.Size(), st.ModTime().UnixNano()
	}
	if !rec.Sealed {
		// Being written: read up to the last complete part, and keep nothing, the file grows.
		init, frags, heads, err := readSegment(f, size, true)
		if err != nil {
			return nil, err
		}
		l := &segmentLayout{init: init, frags: frags, heads: heads, size: int64(len(init))}
		if n := len(frags); n > 0 {
			l.size = frags[n-1].Offset + frags[n-1].Size
		}
		return l, nil
	}
	key := layoutKey{path: rec.Path, size: size, mtime: mtime, limit: rec.Bytes}
	if l := b.cache.get(key); l != nil {
		return l, nil
	}
	init, frags, heads, err := readSegment(f, rec.Bytes, false)
	if err != nil {
		return nil, err
	}
	l := &segmentLayout{init: init, frags: frags, heads: heads, size: rec.Bytes}
	b.cache.put(key, l)
	return l, nil
}

type layoutKey struct {
	path        string
	size, mtime int64
	limit       int64
}

// layoutCache keeps the most recently read layouts, up to a count; the oldest read goes first.
type layoutCache struct {
	mu    sync.Mutex
	max   int
	m     map[layoutKey]*segmentLayout
	order []layoutKey
}

func newLayoutCache(max int) *layoutCache {
	return &layoutCache{max: max, m: map[layoutKey]*segmentLayout{}}
}

func (c *layoutCache) get(k layoutKey) *segmentLayout {
	if c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *layoutCache) put(k layoutKey, l *segmentLayout) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	for len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = l
	c.order = append(c.order, k)
}
