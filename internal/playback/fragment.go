package playback

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxMoof bounds a moof read into memory: a second of video at 60 fps describes itself in a
// couple of kilobytes, so a larger one can only be a corrupt header.
const maxMoof = 4 << 20

// Fragment describes one moof + mdat pair as found in a file.
type Fragment struct {
	Offset   int64  // of the moof
	Size     int64  // moof + mdat
	MoofSize int64  // moof alone
	MdatHdr  int64  // mdat header length (8, or 16 for a 64-bit size)
	Seq      uint32 // mfhd sequence number
	BaseTime uint64 // tfdt: decode time of the first sample
	Duration uint64 // sum of the sample durations
	Samples  int
	Sync     bool // the first sample is a keyframe

	// The audio beside the video, in a second traf (the audio track's time scale): its decode
	// time and duration, when HasAudio.
	HasAudio      bool
	AudioBase     uint64
	AudioDuration uint64

	seqAt     int // offset of the sequence number in the moof
	tfdtAt    int // offset of the decode time in the moof
	tfdtLarge bool
	audioAt   int
	audioLong bool
}

// readBoxHeader reads the header of the box at off: its total size, type and header length.
func readBoxHeader(r io.ReaderAt, off, limit int64) (size int64, typ string, hdr int64, err error) {
	if limit-off < 8 {
		return 0, "", 0, fmt.Errorf("box header at %d cut short", off)
	}
	var b [16]byte
	if _, err := r.ReadAt(b[:8], off); err != nil {
		return 0, "", 0, fmt.Errorf("read box header at %d: %w", off, err)
	}
	size, typ, hdr = int64(binary.BigEndian.Uint32(b[:4])), string(b[4:8]), 8
	if size == 1 {
		if limit-off < 16 {
			return 0, "", 0, fmt.Errorf("large box header at %d cut short", off)
		}
		if _, err := r.ReadAt(b[8:16], off+8); err != nil {
			return 0, "", 0, fmt.Errorf("read box header at %d: %w", off, err)
		}
		size, hdr = int64(binary.BigEndian.Uint64(b[8:16])), 16
	}
	if size < hdr || off+size > limit {
		return 0, "", 0, fmt.Errorf("box %q at %d has size %d, outside the file", typ, off, size)
	}
	return size, typ, hdr, nil
}

// readFragment reads the moof at off and the header of the mdat after it, and returns the
// fragment with its moof bytes and mdat header (what is rewritten when it is served).
func readFragment(r io.ReaderAt, off, limit int64) (Fragment, []byte, error) {
	// One read usually takes the whole moof and the mdat header: a part's moof is a few
	// hundred bytes, and planning an hour reads thousands of them.
	var buf [4096]byte
	k, err := r.ReadAt(buf[:min(int64(len(buf)), limit-off)], off)
	if err != nil && err != io.EOF {
		return Fragment{}, nil, fmt.Errorf("read part at %d: %w", off, err)
	}
	if k >= 8 {
		msize := int64(binary.BigEndian.Uint32(buf[:4]))
		if string(buf[4:8]) == "moof" && msize >= 8 && msize+8 <= int64(k) && off+msize+8 <= limit {
			dsize, dtyp, dhdr := int64(binary.BigEndian.Uint32(buf[msize:])), string(buf[msize+4:msize+8]), int64(8)
			if dtyp == "mdat" && dsize >= 8 && off+msize+dsize <= limit {
				head := bytes.Clone(buf[:msize+dhdr])
				f, err := parseMoof(head[:msize])
				if err != nil {
					return Fragment{}, nil, fmt.Errorf("moof at %d: %w", off, err)
				}
				f.Offset, f.MoofSize, f.MdatHdr, f.Size = off, msize, dhdr, msize+dsize
				return f, head, nil
			}
		}
	}
	// The general path: a large moof, a 64-bit mdat, or a damaged file, which it reports.
	return readFragmentSlow(r, off, limit)
}

func readFragmentSlow(r io.ReaderAt, off, limit int64) (Fragment, []byte, error) {
	msize, typ, _, err := readBoxHeader(r, off, limit)
	if err != nil {
		return Fragment{}, nil, err
	}
	if typ != "moof" {
		return Fragment{}, nil, fmt.Errorf("box %q at %d where a moof was expected", typ, off)
	}
	if msize > maxMoof {
		return Fragment{}, nil, fmt.Errorf("moof at %d of %d bytes is over the %d limit", off, msize, maxMoof)
	}
	dsize, dtyp, dhdr, err := readBoxHeader(r, off+msize, limit)
	if err != nil {
		return Fragment{}, nil, err
	}
	if dtyp != "mdat" {
		return Fragment{}, nil, fmt.Errorf("box %q at %d where an mdat was expected", dtyp, off+msize)
	}
	head := make([]byte, msize+dhdr)
	if _, err := r.ReadAt(head, off); err != nil {
		return Fragment{}, nil, fmt.Errorf("read moof at %d: %w", off, err)
	}
	f, err := parseMoof(head[:msize])
	if err != nil {
		return Fragment{}, nil, fmt.Errorf("moof at %d: %w", off, err)
	}
	f.Offset, f.MoofSize, f.MdatHdr, f.Size = off, msize, dhdr, msize+dsize
	return f, head, nil
}

type boxes struct {
	b   []byte
	pos int
}

// next returns the next child box: its type, payload and offset of the payload in b.
func (bx *boxes) next() (typ string, payload []byte, at int, err error) {
	if len(bx.b)-bx.pos < 8 {
		return "", nil, 0, io.EOF
	}
	size := int(binary.BigEndian.Uint32(bx.b[bx.pos:]))
	typ = string(bx.b[bx.pos+4 : bx.pos+8])
	if size < 8 || bx.pos+size > len(bx.b) {
		return "", nil, 0, fmt.Errorf("child box %q has size %d, outside its parent", typ, size)
	}
	at = bx.pos + 8
	payload = bx.b[at : bx.pos+size]
	bx.pos += size
	return typ, payload, at, nil
}

// parseMoof reads what playback needs of a moof of the video track and, in a second traf, the
// audio track: sequence number, decode times, sample count and durations, and whether the first
// sample is a keyframe. Offsets are kept so that the sequence number and decode times can be
// rewritten in place.
func parseMoof(moof []byte) (Fragment, error) {
	var f Fragment
	top := boxes{b: moof, pos: 8}
	var sawMfhd, sawTraf bool
	for {
		typ, p, at, err := top.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return f, err
		}
		switch typ {
		case "mfhd":
			if len(p) < 8 {
				return f, errors.New("mfhd too short")
			}
			f.Seq, f.seqAt, sawMfhd = binary.BigEndian.Uint32(p[4:8]), at+4, true
		case "traf":
			if f.HasAudio {
				return f, errors.New("more than two track fragments")
			}
			if sawTraf {
				var a Fragment
				if err := parseTraf(&a, moof, at, p); err != nil {
					return f, fmt.Errorf("audio: %w", err)
				}
				f.HasAudio, f.AudioBase, f.AudioDuration = true, a.BaseTime, a.Duration
				f.audioAt, f.audioLong = a.tfdtAt, a.tfdtLarge
				continue
			}
			sawTraf = true
			if err := parseTraf(&f, moof, at, p); err != nil {
				return f, err
			}
		}
	}
	if !sawMfhd || !sawTraf {
		return f, errors.New("moof lacks mfhd or traf")
	}
	return f, nil
}

func parseTraf(f *Fragment, moof []byte, base int, traf []byte) error {
	var defDur, defFlags uint32
	var sawTfhd, sawTfdt, sawTrun bool
	bx := boxes{b: moof[:base+len(traf)], pos: base}
	for {
		typ, p, at, err := bx.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(p) < 4 {
			return fmt.Errorf("%s too short", typ)
		}
		ver, flags := p[0], binary.BigEndian.Uint32(p[:4])&0xffffff
		switch typ {
		case "tfhd":
			sawTfhd = true
			if flags&0x1 != 0 {
				return errors.New("tfhd has an explicit base data offset; only moof-relative data can be moved")
			}
			if len(p) < 8 {
				return errors.New("tfhd too short")
			}
			q := p[8:] // after version/flags and track ID
			for _, fl := range []struct {
				bit uint32
				n   int
				dst *uint32
			}{{0x2, 4, nil}, {0x8, 4, &defDur}, {0x10, 4, nil}, {0x20, 4, &defFlags}} {
				if flags&fl.bit == 0 {
					continue
				}
				if len(q) < fl.n {
					return errors.New("tfhd too short")
				}
				if fl.dst != nil {
					*fl.dst = binary.BigEndian.Uint32(q)
				}
				q = q[fl.n:]
			}
		case "tfdt":
			sawTfdt = true
			f.tfdtAt = at + 4
			if ver == 1 {
				if len(p) < 12 {
					return errors.New("tfdt too short")
				}
				f.BaseTime, f.tfdtLarge = binary.BigEndian.Uint64(p[4:12]), true
			} else {
				if len(p) < 8 {
					return errors.New("tfdt too short")
				}
				f.BaseTime = uint64(binary.BigEndian.Uint32(p[4:8]))
			}
		case "trun":
			if sawTrun {
				return errors.New("more than one trun")
			}
			sawTrun = true
			if len(p) < 8 {
				return errors.New("trun too short")
			}
			n := int(binary.BigEndian.Uint32(p[4:8]))
			q := p[8:]
			if flags&0x1 != 0 {
				if len(q) < 4 {
					return errors.New("trun too short")
				}
				q = q[4:]
			}
			firstFlags, haveFirst := uint32(0), false
			if flags&0x4 != 0 {
				if len(q) < 4 {
					return errors.New("trun too short")
				}
				firstFlags, haveFirst, q = binary.BigEndian.Uint32(q), true, q[4:]
			}
			per := 0
			for _, bit := range []uint32{0x100, 0x200, 0x400, 0x800} {
				if flags&bit != 0 {
					per += 4
				}
			}
			if n == 0 || len(q) < n*per {
				return fmt.Errorf("trun of %d samples is %d bytes", n, len(q))
			}
			f.Samples = n
			if per == 0 {
				// Every sample takes the defaults: a count of 2^32 must not be 2^32 steps.
				sflags := defFlags
				if haveFirst {
					sflags = firstFlags
				}
				f.Sync = sflags&0x10000 == 0
				f.Duration = uint64(n) * uint64(defDur)
				break
			}
			for i := range n {
				s := q[i*per:]
				dur, sflags := defDur, defFlags
				k := 0
				if flags&0x100 != 0 {
					dur = binary.BigEndian.Uint32(s[k:])
					k += 4
				}
				if flags&0x200 != 0 {
					k += 4
				}
				if flags&0x400 != 0 {
					sflags = binary.BigEndian.Uint32(s[k:])
				}
				if i == 0 {
					if haveFirst {
						sflags = firstFlags
					}
					f.Sync = sflags&0x10000 == 0
				}
				f.Duration += uint64(dur)
			}
		}
	}
	if !sawTfhd || !sawTfdt || !sawTrun {
		return errors.New("traf lacks tfhd, tfdt or trun")
	}
	return nil
}

// patch rewrites the sequence number and decode time of a fragment's moof, held in head.
func (f *Fragment) patch(head []byte, seq uint32, base uint64) error {
	binary.BigEndian.PutUint32(head[f.seqAt:], seq)
	if f.tfdtLarge {
		binary.BigEndian.PutUint64(head[f.tfdtAt:], base)
		return nil
	}
	if base > 0xffffffff {
		return fmt.Errorf("decode time %d does not fit a version-0 tfdt", base)
	}
	binary.BigEndian.PutUint32(head[f.tfdtAt:], uint32(base))
	return nil
}

// patchAudio rewrites the decode time of the fragment's audio, held in head.
func (f *Fragment) patchAudio(head []byte, base uint64) error {
	if f.audioLong {
		binary.BigEndian.PutUint64(head[f.audioAt:], base)
		return nil
	}
	if base > 0xffffffff {
		return fmt.Errorf("audio decode time %d does not fit a version-0 tfdt", base)
	}
	binary.BigEndian.PutUint32(head[f.audioAt:], uint32(base))
	return nil
}

// File is the layout of a fragmented MP4: the header boxes (ftyp, moov, sidx…) and its fragments.
type File struct {
	HeaderSize int64
	Fragments  []Fragment
}

// Inspect reads the layout of a fragmented MP4 (video, and audio beside it) of size bytes strictly: ftyp and moov
// first, then only moof + mdat pairs (a sidx before the first moof is allowed), each well
// formed, to the last byte.
func Inspect(r io.ReaderAt, size int64) (*File, error) {
	var off int64
	out := &File{}
	for i := 0; off < size; i++ {
		bsize, typ, _, err := readBoxHeader(r, off, size)
		if err != nil {
			return nil, err
		}
		if typ == "moof" {
			break
		}
		switch {
		case i == 0 && typ != "ftyp":
			return nil, fmt.Errorf("first box is %q, not ftyp", typ)
		case i == 1 && typ != "moov":
			return nil, fmt.Errorf("second box is %q, not moov", typ)
		case i > 1 && typ != "sidx" && typ != "free" && typ != "styp":
			return nil, fmt.Errorf("box %q at %d before the first fragment", typ, off)
		}
		off += bsize
	}
	out.HeaderSize = off
	if off == 0 {
		return nil, errors.New("empty file")
	}
	for off < size {
		f, _, err := readFragment(r, off, size)
		if err != nil {
			return nil, fmt.Errorf("fragment %d: %w", len(out.Fragments)+1, err)
		}
		out.Fragments = append(out.Fragments, f)
		off += f.Size
	}
	return out, nil
}

// Check reports an error unless the fragments form one continuous stream as Plan writes it:
// sequence numbers 1, 2, 3…, decode times from 0 each starting where the previous ended, and the
// first fragment starting on a keyframe; audio, where there is any, never decoding before the
// previous fragment's audio ends.
func (f *File) Check() error {
	if len(f.Fragments) == 0 {
		return errors.New("no fragments")
	}
	if !f.Fragments[0].Sync {
		return errors.New("first fragment does not start with a keyframe")
	}
	var t, audioEnd uint64
	for i, fr := range f.Fragments {
		if fr.HasAudio {
			if fr.AudioBase < audioEnd {
				return fmt.Errorf("fragment %d's audio decodes from %d; the previous audio ends at %d", i+1, fr.AudioBase, audioEnd)
			}
			audioEnd = fr.AudioBase + fr.AudioDuration
		}
		if fr.Seq != uint32(i+1) {
			return fmt.Errorf("fragment %d has sequence number %d; want %d", i+1, fr.Seq, i+1)
		}
		if fr.BaseTime != t {
			return fmt.Errorf("fragment %d decodes from %d; the previous one ends at %d", i+1, fr.BaseTime, t)
		}
		t += fr.Duration
	}
	return nil
}

// Duration is the media time of all fragments, in TimeScale units.
func (f *File) Duration() uint64 {
	var d uint64
	for _, fr := range f.Fragments {
		d += fr.Duration
	}
	return d
}
