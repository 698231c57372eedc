package segment

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// maxBox bounds what Scan reads into memory for one box; a part of a second is far below it, so a
// larger size can only come from a corrupt header.
const maxBox = 64 << 20

// Part describes one complete part of a segment.
type Part struct {
	Offset   int64  // of the moof box, from the start of the file
	Size     int64  // moof + mdat
	BaseTime uint64 // decode time of the first sample, in TimeScale units from the segment start
	Duration uint64 // sum of the sample durations, in TimeScale units
	Samples  int
	Sync     bool // the first sample is a sync sample (a keyframe), so playback can start here
	// AudioSamples counts the part's audio frames, in a segment with an audio track.
	AudioSamples int
}

// Info is what Scan learned of a segment.
type Info struct {
	Init     fmp4.Init
	InitSize int64
	Parts    []Part
	// Size is the length of the complete content: the init and every complete part. It is where
	// Repair cuts the file.
	Size int64
	// Trailing counts the bytes after Size that do not form a complete part, and TrailingErr says
	// why they were not taken; a cleanly closed segment has none.
	Trailing    int64
	TrailingErr error
	// SHA256 is the hex digest of the first Size bytes.
	SHA256 string
}

// Duration is the media time the complete parts cover.
func (in *Info) Duration() time.Duration {
	var d uint64
	for _, p := range in.Parts {
		d += p.Duration
	}
	return Ticks(d)
}

// Continuous reports an error if a part does not start where the previous one ended, which is
// how a gap inside a segment would show.
func (in *Info) Continuous() error {
	for i := 1; i < len(in.Parts); i++ {
		prev, p := in.Parts[i-1], in.Parts[i]
		if p.BaseTime != prev.BaseTime+prev.Duration {
			return fmt.Errorf("part %d starts at %d; previous part ends at %d", i, p.BaseTime, prev.BaseTime+prev.Duration)
		}
	}
	return nil
}

// Complete reports an error unless the segment is a whole, strictly valid recording: an init,
// at least one part, nothing trailing, parts continuous and the first one starting on a keyframe.
func (in *Info) Complete() error {
	if in.Trailing != 0 {
		return fmt.Errorf("%d trailing bytes after offset %d: %w", in.Trailing, in.Size, in.TrailingErr)
	}
	if len(in.Parts) == 0 {
		return errors.New("no parts")
	}
	if !in.Parts[0].Sync {
		return errors.New("first part does not start with a keyframe")
	}
	return in.Continuous()
}

// ErrNoInit is returned by Scan when the file does not begin with a whole, valid initialization;
// such a file holds nothing playable.
var ErrNoInit = errors.New("no valid fMP4 initialization")

// Scan reads a segment of size bytes from r. It is strict about everything before the last
// complete part (an error there is returned) and tolerant only of an incomplete or unreadable
// tail, which it reports in Info.Trailing instead.
func Scan(r io.Reader, size int64) (*Info, error) {
	sc := &scanner{r: r, size: size, h: sha256.New()}
	in := &Info{}

	ftyp, err := sc.box()
	if err != nil || ftyp.typ != "ftyp" {
		return nil, fmt.Errorf("%w: ftyp: %v", ErrNoInit, errOr(err, "first box is "+ftyp.typ))
	}
	moov, err := sc.box()
	if err != nil || moov.typ != "moov" {
		return nil, fmt.Errorf("%w: moov: %v", ErrNoInit, errOr(err, "second box is "+moov.typ))
	}
	initBytes := append(ftyp.raw, moov.raw...)
	if err := in.Init.Unmarshal(bytes.NewReader(initBytes)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoInit, err)
	}
	if n := len(in.Init.Tracks); n != 1 && n != 2 {
		return nil, fmt.Errorf("%w: %d tracks; want 1, or 2 with audio", ErrNoInit, n)
	}
	track := in.Init.Tracks[0]
	switch track.Codec.(type) {
	case *fmp4.CodecH264, *fmp4.CodecH265:
	default:
		return nil, fmt.Errorf("%w: codec %T", ErrNoInit, track.Codec)
	}
	audioID := 0
	if len(in.Init.Tracks) == 2 {
		a := in.Init.Tracks[1]
		if AudioCodecOf(a.Codec) == "" {
			return nil, fmt.Errorf("%w: second track's codec %T", ErrNoInit, a.Codec)
		}
		audioID = a.ID
	}
	sc.commit(initBytes)
	in.InitSize = sc.pos
	in.Size = sc.pos

	for sc.pos < size {
		start := sc.pos
		p, perr := sc.part(track.ID, audioID)
		if perr != nil {
			in.Trailing = size - start
			in.TrailingErr = fmt.Errorf("at offset %d: %w", start, perr)
			break
		}
		p.Offset = start
		p.Size = sc.pos - start
		in.Parts = append(in.Parts, p)
		in.Size = sc.pos
	}
	in.SHA256 = hex.EncodeToString(sc.h.Sum(nil))
	return in, nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

type box struct {
	typ string
	raw []byte // header included
}

type scanner struct {
	r    io.Reader
	size int64
	pos  int64 // offset of the first byte not yet committed
	read int64 // bytes consumed from r (committed or held)
	held []byte
	h    hash.Hash
}

// box reads the next whole box; it never reads past size.
func (sc *scanner) box() (box, error) {
	off := sc.read
	if sc.size-off < 8 {
		return box{}, fmt.Errorf("box header cut short (%d bytes left)", sc.size-off)
	}
	var hdr [16]byte
	if _, err := io.ReadFull(sc.r, hdr[:8]); err != nil {
		return box{}, fmt.Errorf("read box header: %w", err)
	}
	sc.read += 8
	n := int64(binary.BigEndian.Uint32(hdr[:4]))
	typ := string(hdr[4:8])
	hl := int64(8)
	if n == 1 {
		if sc.size-sc.read < 8 {
			return box{}, errors.New("large box header cut short")
		}
		if _, err := io.ReadFull(sc.r, hdr[8:16]); err != nil {
			return box{}, fmt.Errorf("read box header: %w", err)
		}
		sc.read += 8
		hl = 16
		n = int64(binary.BigEndian.Uint64(hdr[8:16]))
	}
	switch {
	case n < hl:
		return box{}, fmt.Errorf("box %q has size %d", typ, n)
	case n > maxBox:
		return box{}, fmt.Errorf("box %q has size %d, over the %d limit", typ, n, maxBox)
	case off+n > sc.size:
		return box{}, fmt.Errorf("box %q of %d bytes cut short at %d", typ, n, sc.size-off)
	}
	raw := make([]byte, n)
	copy(raw, hdr[:hl])
	if _, err := io.ReadFull(sc.r, raw[hl:]); err != nil {
		return box{}, fmt.Errorf("read box %q: %w", typ, err)
	}
	sc.read += n - hl
	return box{typ: typ, raw: raw}, nil
}

func (sc *scanner) commit(b []byte) {
	sc.h.Write(b)
	sc.pos += int64(len(b))
}

// part reads one moof + mdat pair and checks that it is consistent: the video track, and the
// audio track if the init has one (audioID not 0), sample sizes that exactly fill the mdat, and
// video sample payloads that are well-formed length-prefixed NAL units.
func (sc *scanner) part(trackID, audioID int) (Part, error) {
	moof, err := sc.box()
	if err != nil {
		return Part{}, err
	}
	if moof.typ != "moof" {
		return Part{}, fmt.Errorf("box %q where a moof was expected", moof.typ)
	}
	mdat, err := sc.box()
	if err != nil {
		return Part{}, err
	}
	if mdat.typ != "mdat" {
		return Part{}, fmt.Errorf("box %q where an mdat was expected", mdat.typ)
	}
	raw := append(moof.raw, mdat.raw...)
	var parts fmp4.Parts
	if err := parts.Unmarshal(raw); err != nil {
		return Part{}, fmt.Errorf("parse part: %w", err)
	}
	if len(parts) != 1 || len(parts[0].Tracks) < 1 || len(parts[0].Tracks) > 2 ||
		len(parts[0].Tracks) == 2 && audioID == 0 {
		return Part{}, errors.New("part does not hold the video track, and the audio track only with the init's")
	}
	tr := parts[0].Tracks[0]
	if tr.ID != trackID {
		return Part{}, fmt.Errorf("part track %d; init has %d", tr.ID, trackID)
	}
	var payload int
	if len(parts[0].Tracks) == 2 {
		at := parts[0].Tracks[1]
		if at.ID != audioID {
			return Part{}, fmt.Errorf("part's second track %d; the init's audio is %d", at.ID, audioID)
		}
		for _, s := range at.Samples {
			payload += len(s.Payload)
		}
	}
	if len(tr.Samples) == 0 {
		return Part{}, errors.New("part has no samples")
	}
	p := Part{BaseTime: tr.BaseTime, Samples: len(tr.Samples), Sync: !tr.Samples[0].IsNonSyncSample}
	if len(parts[0].Tracks) == 2 {
		p.AudioSamples = len(parts[0].Tracks[1].Samples)
	}
	for i, s := range tr.Samples {
		payload += len(s.Payload)
		p.Duration += uint64(s.Duration)
		var avcc h264.AVCC
		if err := avcc.Unmarshal(s.Payload); err != nil {
			return Part{}, fmt.Errorf("sample %d: %w", i, err)
		}
	}
	if hl := mdatHeaderLen(mdat.raw); payload != len(mdat.raw)-hl {
		return Part{}, fmt.Errorf("samples take %d bytes of a %d-byte mdat", payload, len(mdat.raw)-hl)
	}
	sc.commit(raw)
	return p, nil
}

func mdatHeaderLen(raw []byte) int {
	if binary.BigEndian.Uint32(raw[:4]) == 1 {
		return 16
	}
	return 8
}
