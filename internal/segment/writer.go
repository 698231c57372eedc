package segment

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// File is where a Writer puts a segment: a file on disk, or anything that can make what was
// written durable. WriteAt puts a part's moof in front of samples already written, and ReadAt
// reads those samples back to hash the file in order.
type File interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	Sync() error
	Close() error
}

// Sample is one access unit of video: its NAL units, without start codes or length prefixes.
// They are written from where they lie, never copied together first; a Writer may keep them
// until it writes them (see WriteSample), so they must not be changed after they are given.
type Sample struct {
	Duration  uint32 // in TimeScale units
	PTSOffset int32  // presentation minus decode time
	NonSync   bool   // not a keyframe
	NALUs     [][]byte
}

// AudioSample is one frame of a segment's audio track (track 2): an AAC access unit, an Opus
// packet, or linear PCM. Time is when it decodes, in the audio track's time scale (its sample
// rate) from the segment start; a part's audio decodes from its first sample's Time, and the
// rest follow by Duration, so the samples given must be contiguous within a part. Data is kept
// until the part is written.
type AudioSample struct {
	Time     uint64
	Duration uint32
	Data     []byte
}

// size is the sample's length in the file, where each NAL unit carries a 4-byte length.
func (s *Sample) size() int {
	n := 0
	for _, u := range s.NALUs {
		n += 4 + len(u)
	}
	return n
}

const (
	// firstPartSamples is the sample table reserved for a segment's first part, and
	// minPartSamples the least reserved for any other; later parts reserve twice what the
	// previous part took, so a steady stream's parts are never cut by their table. The first
	// holds the recorder's longest part (four seconds between keyframes) at 60 fps: a part cut by
	// its table begins off a keyframe. It costs 4 KiB of table once per segment.
	firstPartSamples = 256
	minPartSamples   = 16
	maxPartSamples   = 4096
	// firstAudioSamples is the audio table reserved for a segment's first part: four seconds of
	// 20 ms frames (AAC at 48 kHz, Opus and G.711 packets) with room to spare; later parts, like
	// the video, reserve twice what the previous one took.
	firstAudioSamples = 256
	// maxPartPayload ends a part early, well below the box size Scan accepts.
	maxPartPayload = 32 << 20
	// batchBytes is how much is gathered before it is written, in one writev: a few samples at
	// 4 Mbit/s, held by reference. Writing each sample in two calls (prefix, then NAL unit) cost
	// 2.4 times the file-system CPU of 64 KiB writes (BenchmarkRecord, 50 streams: 0.88 s against
	// 0.36 s), and 32 KiB batches half as much again as 64 KiB ones.
	batchBytes = 64 << 10
)

// ErrSampleTooLarge is returned for a sample that cannot fit in any part.
var ErrSampleTooLarge = errors.New("sample larger than a part may be")

// hashBufs are the buffers a part's samples are read back through to be hashed; shared by every
// Writer, since each needs one only while it completes a part.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// Writer appends one segment. Samples are written to the file as they come (a few at a time), so
// that a part is never held in memory; the part is completed (its moof written in front of them)
// and synced by EndPart. A crash can thus only leave an incomplete part at the end of the file, which Scan
// reports as trailing and Repair cuts.
type Writer struct {
	f      File
	h      hash.Hash
	size   int64 // bytes written to the file, the open part's included (not those gathered)
	seq    uint32
	dts    uint64 // decode time of the next sample, from the segment start
	err    error  // the first write error; the file is then only fit for Repair
	closed bool

	// The open part.
	open     bool
	partOff  int64 // of the reserved room
	reserve  int
	capacity int // samples the reserved room has a table for
	partBase uint64
	payload  int64
	samples  []sampleMeta
	last     int // samples in the previous part

	buf []byte // the part header

	// The audio track, when the init has one: its samples wait in memory (a second of audio is a
	// few kilobytes) and follow the video's in the part's mdat when the part ends.
	audio    bool
	audioQ   []AudioSample
	audioCap int // audio samples the open part's reserved room has a table for
	lastA    int // audio samples in the previous part

	// Gathered, not yet written: the samples' NAL units are referenced, not copied.
	batch      [][]byte
	batchBytes int
	prefixes   []byte // the length prefixes the batch refers to
	writev     func([][]byte) (int, error)
}

// NewWriter writes init to f, syncs it, and returns a Writer for the segment's parts.
func NewWriter(f File, init *fmp4.Init) (*Writer, error) {
	w := &Writer{f: f, h: sha256.New(), writev: vectored(f)}
	if len(init.Tracks) > 1 && !init.Tracks[1].Codec.IsVideo() {
		w.audio = true
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("marshal init: %w", err)
	}
	b := buf.Bytes()
	w.h.Write(b)
	if err := w.write(b); err != nil {
		return nil, err
	}
	if err := w.sync(); err != nil {
		return nil, err
	}
	return w, nil
}

// WriteSample appends one sample to the open part, opening one if none is. The part's first
// sample decodes where the previous part ended (0 in a new segment): parts are continuous. When
// the part's table is full, or its payload at the limit, the part is ended (and synced) first.
// The sample's NAL units are kept until about 64 KiB are gathered, then written in one call;
// EndPart writes what is left and makes it durable.
func (w *Writer) WriteSample(s Sample) error {
	if err := w.usable(); err != nil {
		return err
	}
	size := s.size()
	if len(s.NALUs) == 0 {
		return errors.New("write sample: no NAL units")
	}
	if size > maxPartPayload {
		return fmt.Errorf("write sample of %d bytes: %w", size, ErrSampleTooLarge)
	}
	if w.open && (len(w.samples) == w.capacity || w.payload+int64(size) > maxPartPayload) {
		if err := w.EndPart(); err != nil {
			return err
		}
	}
	if !w.open {
		if err := w.begin(); err != nil {
			return err
		}
	}
	for _, u := range s.NALUs {
		// A prefix slice stays valid when the array grows: the old array keeps its bytes.
		w.prefixes = binary.BigEndian.AppendUint32(w.prefixes, uint32(len(u)))
		w.gather(w.prefixes[len(w.prefixes)-4:])
		w.gather(u)
	}
	w.samples = append(w.samples, sampleMeta{duration: s.Duration, size: uint32(size), nonSync: s.NonSync, ptsOffset: s.PTSOffset})
	w.payload += int64(size)
	w.dts += uint64(s.Duration)
	if w.batchBytes >= batchBytes {
		return w.flush()
	}
	return nil
}

func (w *Writer) gather(b []byte) {
	w.batch = append(w.batch, b)
	w.batchBytes += len(b)
}

// flush writes the batch.
func (w *Writer) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	var err error
	if w.writev != nil {
		var n int
		n, err = w.writev(w.batch)
		w.size += int64(n)
	} else {
		for _, b := range w.batch {
			if err = w.write(b); err != nil {
				break
			}
		}
	}
	clear(w.batch) // drop the references to the samples
	w.batch, w.batchBytes, w.prefixes = w.batch[:0], 0, w.prefixes[:0]
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("write segment: %w", err)
	}
	return w.err
}

// advance drops the first n bytes of bufs.
func advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}

// WriteAudio adds an audio frame to the part open now, or to the next one when none is: audio
// goes in with the video it arrived beside. When the open part's audio table is full, the part
// is ended first, as WriteSample ends it when its video table is. It is an error for a segment
// whose init has no audio track.
func (w *Writer) WriteAudio(s AudioSample) error {
	if err := w.usable(); err != nil {
		return err
	}
	if !w.audio {
		return errors.New("write audio: the segment has no audio track")
	}
	if len(s.Data) == 0 || s.Duration == 0 {
		return errors.New("write audio: empty sample")
	}
	if w.open && len(w.audioQ) >= w.audioCap {
		if err := w.EndPart(); err != nil {
			return err
		}
	}
	if !w.open && len(w.audioQ) >= maxPartSamples {
		// No video to go with: what waits is bounded, the oldest dropped.
		w.audioQ = append(w.audioQ[:0], w.audioQ[1:]...)
	}
	w.audioQ = append(w.audioQ, s)
	return nil
}

// begin opens a part: it reserves the room for its moof, holding a placeholder meanwhile.
func (w *Writer) begin() error {
	c := firstPartSamples
	if w.last > 0 {
		c = min(max(2*w.last, minPartSamples), maxPartSamples)
	}
	if w.audio {
		w.audioCap = firstAudioSamples
		if w.seq > 0 {
			w.audioCap = min(max(2*w.lastA, minPartSamples), maxPartSamples)
		}
		w.audioCap = max(w.audioCap, min(len(w.audioQ)+minPartSamples, maxPartSamples))
	}
	w.open, w.capacity, w.reserve = true, c, reserveFor(c, w.audioCap, w.audio)
	w.partOff, w.partBase, w.payload = w.size, w.dts, 0
	w.samples = w.samples[:0]
	w.seq++
	w.buf = appendPlaceholder(w.buf[:0], w.reserve)
	w.gather(w.buf)
	return nil
}

// EndPart completes the open part, writing its moof into the room reserved for it, and syncs the
// file. Without an open part it does nothing.
func (w *Writer) EndPart() error {
	if err := w.usable(); err != nil {
		return err
	}
	if !w.open {
		return nil
	}
	videoPayload := w.payload
	var am *audioMeta
	if len(w.audioQ) > 0 {
		am = &audioMeta{base: w.audioQ[0].Time}
		for _, a := range w.audioQ {
			am.durations = append(am.durations, a.Duration)
			am.sizes = append(am.sizes, uint32(len(a.Data)))
			w.gather(a.Data)
			w.payload += int64(len(a.Data))
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.open = false
	w.last, w.lastA = len(w.samples), len(w.audioQ)
	clear(w.audioQ) // drop the references to the samples
	w.audioQ = w.audioQ[:0]
	w.buf = appendPartHeader(w.buf[:0], w.seq, w.partBase, w.samples, uint64(w.payload), w.reserve, am, uint64(videoPayload))
	// The moof's own header goes last, turning the placeholder into a part only once everything
	// else is in place: a reader of the growing file never sees a part that is not whole.
	if err := w.writeAt(w.buf[8:], w.partOff+8); err != nil {
		return err
	}
	if err := w.writeAt(w.buf[:8], w.partOff); err != nil {
		return err
	}
	w.h.Write(w.buf)
	if err := w.hashBack(w.partOff+int64(w.reserve), w.payload); err != nil {
		return err
	}
	return w.sync()
}

// hashBack hashes n bytes of the file from off: the samples, written before their moof was.
// They were just written, so they are read from the page cache.
func (w *Writer) hashBack(off, n int64) error {
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	b := *bp
	for n > 0 {
		k := min(n, int64(len(b)))
		if _, err := w.f.ReadAt(b[:k], off); err != nil {
			w.err = fmt.Errorf("read back part samples: %w", err)
			return w.err
		}
		w.h.Write(b[:k])
		off, n = off+k, n-k
	}
	return nil
}

// WritePart appends one whole part of track 1, whose first sample decodes at baseTime
// (TimeScale units from the segment start), and syncs it. Sequence numbers count from 1 in each
// segment.
func (w *Writer) WritePart(baseTime uint64, samples []Sample) error {
	if len(samples) == 0 {
		return fmt.Errorf("write part: no samples")
	}
	if err := w.EndPart(); err != nil {
		return err
	}
	w.dts = baseTime
	for i := range samples {
		if err := w.WriteSample(samples[i]); err != nil {
			return err
		}
	}
	return w.EndPart()
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write segment: closed")
	}
	return nil
}

func (w *Writer) write(b []byte) error {
	n, err := w.f.Write(b)
	w.size += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("write segment: %w", err)
	}
	return w.err
}

func (w *Writer) writeAt(b []byte, off int64) error {
	if _, err := w.f.WriteAt(b, off); err != nil {
		w.err = fmt.Errorf("write part header: %w", err)
	}
	return w.err
}

// sync makes what was written durable.
func (w *Writer) sync() error {
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("sync segment: %w", err)
	}
	return w.err
}

// Size is the number of bytes written to the file so far, those of an open part included; what
// is gathered but not yet written is not.
func (w *Writer) Size() int64 { return w.size }

// Parts is the number of parts completed so far.
func (w *Writer) Parts() int {
	if w.open {
		return int(w.seq) - 1
	}
	return int(w.seq)
}

// Close ends an open part and closes the file, returning the SHA-256 (hex) and size of
// everything written. After a failed write, only Repair's figures are meaningful.
func (w *Writer) Close() (sum string, size int64, err error) {
	if w.closed {
		return hex.EncodeToString(w.h.Sum(nil)), w.size, nil
	}
	var endErr error
	if w.err == nil {
		endErr = w.EndPart()
	}
	w.closed = true
	if err := w.f.Close(); err != nil {
		return "", w.size, fmt.Errorf("close segment: %w", err)
	}
	if endErr != nil {
		return "", w.size, endErr
	}
	return hex.EncodeToString(w.h.Sum(nil)), w.size, nil
}
