package mpegps

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// FrameReader reads RFC 4571 frames, each a packet behind its 16-bit length, from a stream
// such as RTP over TCP.
type FrameReader struct {
	r   *bufio.Reader
	buf []byte
}

// NewFrameReader returns a reader of the frames on r.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: bufio.NewReaderSize(r, 64<<10), buf: make([]byte, 0xFFFF)}
}

// ReadFrame returns the next frame, valid until the next call. A stream that ends between
// frames returns io.EOF; one that ends inside a frame, io.ErrUnexpectedEOF.
func (f *FrameReader) ReadFrame() ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return nil, err
	}
	b := f.buf[:binary.BigEndian.Uint16(hdr[:])]
	if _, err := io.ReadFull(f.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// FrameWriter writes RFC 4571 frames, each in one Write so frames of concurrent writers
// sharing a connection through a lock never interleave.
type FrameWriter struct {
	w   io.Writer
	buf []byte
}

// NewFrameWriter returns a writer of frames to w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

// WriteFrame writes p as one frame.
func (f *FrameWriter) WriteFrame(p []byte) error {
	if len(p) > 0xFFFF {
		return fmt.Errorf("mpegps: frame of %d bytes exceeds RFC 4571's 65535", len(p))
	}
	f.buf = binary.BigEndian.AppendUint16(f.buf[:0], uint16(len(p)))
	f.buf = append(f.buf, p...)
	_, err := f.w.Write(f.buf)
	return err
}
