package segment

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// File is where a Writer puts a segment: a file on disk, or anything that can make what was
// written durable.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// Sample is one access unit of video: its NAL units, without start codes or length prefixes.
// They are written from where they lie, never copied together first: at 4 Mbit/s a part is half a
// megabyte, and a second copy of it per camera would double the recorder's memory.
type Sample struct {
	Duration  uint32 // in TimeScale units
	PTSOffset int32  // presentation minus decode time
	NonSync   bool   // not a keyframe
	NALUs     [][]byte
}

// size is the sample's length in the file, where each NAL unit carries a 4-byte length.
func (s *Sample) size() int {
	n := 0
	for _, u := range s.NALUs {
		n += 4 + len(u)
	}
	return n
}

// Writer appends one segment. Each call returns only once its bytes are synced, which is what
// bounds the loss in a crash to the part being assembled.
type Writer struct {
	f      File
	bw     *bufio.Writer
	h      hash.Hash
	size   int64
	seq    uint32
	hdr    []byte
	hashed int64 // bytes handed to write
	closed bool
}

// NewWriter writes init to f, syncs it, and returns a Writer for the segment's parts.
func NewWriter(f File, init *fmp4.Init) (*Writer, error) {
	w := &Writer{f: f, h: sha256.New(), bw: bufio.NewWriterSize(f, 64<<10)}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("marshal init: %w", err)
	}
	w.write(buf.Bytes())
	if err := w.sync(); err != nil {
		return nil, err
	}
	return w, nil
}

// WritePart appends one part (moof + mdat) of track 1, whose first sample decodes at baseTime
// (TimeScale units from the segment start), and syncs it. Sequence numbers count from 1 in each
// segment.
func (w *Writer) WritePart(baseTime uint64, samples []Sample) error {
	if w.closed {
		return fmt.Errorf("write part: segment closed")
	}
	if len(samples) == 0 {
		return fmt.Errorf("write part: no samples")
	}
	w.seq++
	w.hdr = appendPartHeader(w.hdr[:0], w.seq, baseTime, samples)
	w.write(w.hdr)
	var l [4]byte
	for i := range samples {
		for _, u := range samples[i].NALUs {
			binary.BigEndian.PutUint32(l[:], uint32(len(u)))
			w.write(l[:])
			w.write(u)
		}
	}
	return w.sync()
}

// write buffers b; a write error is kept by the bufio.Writer and reported by sync.
func (w *Writer) write(b []byte) {
	w.h.Write(b)
	w.hashed += int64(len(b))
	w.bw.Write(b)
}

// sync pushes what is buffered to the file and makes it durable.
func (w *Writer) sync() error {
	err := w.bw.Flush()
	// What reached the file: the buffer keeps what it could not write.
	w.size = w.hashed - int64(w.bw.Buffered())
	if err != nil {
		return fmt.Errorf("write segment: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync segment: %w", err)
	}
	return nil
}

// Size is the number of bytes written to the file so far.
func (w *Writer) Size() int64 { return w.size }

// Parts is the number of parts written so far.
func (w *Writer) Parts() int { return int(w.seq) }

// Close closes the file and returns the SHA-256 (hex) and size of everything written. After a
// failed write, only Repair's figures are meaningful.
func (w *Writer) Close() (sum string, size int64, err error) {
	if w.closed {
		return hex.EncodeToString(w.h.Sum(nil)), w.size, nil
	}
	w.closed = true
	if err := w.f.Close(); err != nil {
		return "", w.size, fmt.Errorf("close segment: %w", err)
	}
	return hex.EncodeToString(w.h.Sum(nil)), w.size, nil
}
