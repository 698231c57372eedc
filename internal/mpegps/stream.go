package mpegps

// AccessUnit is one frame of one elementary stream. Its byte slices are the receiver's: the
// demuxer never touches them again.
type AccessUnit struct {
	StreamID byte  // the PES stream id, 0xC0-0xDF audio, 0xE0-0xEF video
	Codec    Codec // from the PSM, or guessed from the stream id and payload without one
	// PTS and DTS are in 90 kHz units, unwrapped across the 33-bit wrap so they only grow
	// (PTS modulo B-frame reordering). DTS equals PTS where the stream carries no DTS.
	PTS, DTS int64
	// Estimated is set when the access unit carried no timestamp of its own (several frames in
	// one PES packet) and PTS/DTS were extrapolated from the previous one.
	Estimated bool
	Keyframe  bool     // video: an IDR/IRAP picture; audio: always
	NALUs     [][]byte // video: the NAL units, without start codes
	Data      []byte   // audio: one frame (AAC: the raw frame without its ADTS header)
	// SampleRate and Channels describe an audio frame (AAC: from its ADTS header; G.711: 8000, 1).
	SampleRate int
	Channels   int
}

// mark is the timestamp a PES packet carried, at the elementary-stream offset of its first
// payload byte: by the standard it applies to the first access unit starting in that packet.
type mark struct {
	off      int64
	pts, dts int64
}

// span locates a NAL unit in es: its start code and its first byte.
type span struct{ sc, at int }

// maxMarks bounds the timestamps kept for access units not yet found, against a stream of
// timestamped but empty PES packets.
const maxMarks = 256

// stream assembles one elementary stream's PES payloads into access units.
type stream struct {
	id    byte
	codec Codec
	max   int // the longest access unit kept before it is dropped as garbage

	es    []byte // payload not yet emitted; es[0] is at stream offset base
	base  int64
	marks []mark

	// video
	scan    int    // where in es to look for the next start code
	auStart int    // es offset of the current access unit, -1 while waiting for one
	nals    []span // the current access unit's NAL units found so far
	seenVCL bool   // the current access unit has a slice
	key     bool
	cur     mark // the current access unit's timestamps
	curEst  bool

	// timing, for extrapolation and unwrapping
	hasLast   bool
	last      mark  // timestamps of the last emitted access unit
	step      int64 // the DTS step of one access unit, as last observed
	hasReal   bool
	real      mark // the last access unit with timestamps of its own
	sinceReal int  // access units since it
	hasRef    bool
	ref       int64 // the last unwrapped timestamp, the reference for the next one
	lastSize  int   // audio: the last raw frame's length, for G.711 durations
	guessed   int   // video without a PSM: the buffer length at the last guess

	stats *Stats
}

func newStream(id byte, codec Codec, max int, stats *Stats) *stream {
	return &stream{id: id, codec: codec, max: max, auStart: -1, stats: stats}
}

// unwrap maps a 33-bit timestamp onto the stream's timeline: the nearest value to the last one.
func (s *stream) unwrap(raw uint64) int64 {
	const wrap = 1 << 33
	if !s.hasRef {
		s.hasRef, s.ref = true, int64(raw)
		return s.ref
	}
	d := (int64(raw) - s.ref) & (wrap - 1)
	if d >= wrap/2 {
		d -= wrap
	}
	s.ref += d
	return s.ref
}

// lose drops everything in flight after data was lost: the access unit being built is
// incomplete, and the next one is recognised by its own start.
func (s *stream) lose() {
	if s.auStart >= 0 || len(s.es) > 0 {
		s.stats.DroppedUnits++
	}
	s.base += int64(len(s.es))
	s.es, s.marks = s.es[:0], s.marks[:0]
	s.scan, s.auStart, s.seenVCL, s.key = 0, -1, false, false
	s.nals = s.nals[:0]
}

// push takes one PES payload with its timestamps (hasTS false when it carried none).
func (s *stream) push(payload []byte, hasTS bool, pts, dts uint64, emit func(*AccessUnit) error) error {
	if hasTS {
		m := mark{off: s.base + int64(len(s.es))}
		m.pts = s.unwrap(pts)
		m.dts = m.pts
		if dts != pts {
			m.dts = s.unwrap(dts)
			s.ref = m.pts // the PTS leads; unwrap the next packet against it
		}
		if len(s.marks) == maxMarks {
			s.marks = append(s.marks[:0], s.marks[1:]...)
		}
		s.marks = append(s.marks, m)
	}
	if s.codec == CodecUnknown && s.id >= 0xC0 && s.id < 0xE0 {
		s.codec = guessAudio(payload)
	}
	switch {
	case s.codec.IsVideo(), s.codec == CodecUnknown:
		s.es = append(s.es, payload...)
		if s.codec == CodecUnknown {
			// Without a PSM the payload tells H.264 from H.265; after enough of it without a
			// verdict, H.264 is by far the likelier.
			// Guessing again only when the buffer has doubled keeps the work linear.
			if len(s.es) < 2*s.guessed && len(s.es) < 256<<10 {
				return nil
			}
			s.guessed = len(s.es)
			if s.codec = guessVideo(s.es); s.codec == CodecUnknown {
				if len(s.es) < 256<<10 {
					return nil
				}
				s.codec = CodecH264
			}
		}
		return s.video(emit)
	case s.codec == CodecAAC:
		s.es = append(s.es, payload...)
		return s.aac(emit)
	default:
		return s.raw(payload, hasTS, emit)
	}
}

// stamp finds the timestamps of an access unit starting at es offset at: the last PES packet
// that began at or before it, or an extrapolation when none did since the last access unit.
func (s *stream) stamp(at int, dur int64) (mark, bool) {
	limit := s.base + int64(at)
	n := 0
	for n < len(s.marks) && s.marks[n].off <= limit {
		n++
	}
	if n > 0 {
		m := s.marks[n-1]
		s.marks = append(s.marks[:0], s.marks[n:]...)
		// Devices that repeat a frame's PTS on each of its PES packets can leave the next
		// frame to start inside one of them; a repeated stamp is no stamp.
		if !s.hasLast || m.pts != s.last.pts || m.dts != s.last.dts {
			return m, false
		}
	}
	if !s.hasLast {
		return mark{}, true
	}
	if dur <= 0 {
		dur = s.step
	}
	d := s.last.dts + dur
	return mark{pts: d, dts: d}, true
}

// done records an emitted access unit's timestamps for the next extrapolation: the step is
// learnt between access units that carried their own, so one estimate does not feed the next.
func (s *stream) done(m mark, estimated bool) {
	s.hasLast, s.last = true, m
	s.sinceReal++
	if estimated {
		return
	}
	if s.hasReal && m.dts > s.real.dts {
		s.step = (m.dts - s.real.dts) / int64(s.sinceReal)
	}
	s.hasReal, s.real, s.sinceReal = true, m, 0
}

// video splits the Annex-B stream into access units at AUDs, parameter sets, SEI, and the first
// slice of each picture, emitting each one once the start of the next one is seen.
func (s *stream) video(emit func(*AccessUnit) error) error {
	hdr := 2 // bytes of NAL unit needed after the start code to classify it
	if s.codec == CodecH265 {
		hdr = 3
	}
	for {
		sc, n := nextStartCode(s.es, s.scan)
		if sc < 0 || sc+n+hdr > len(s.es) {
			if sc < 0 {
				s.scan = max(s.scan, len(s.es)-3)
			} else {
				s.scan = sc
			}
			break
		}
		kind, key := classify(s.codec, s.es[sc+n:])
		starts := kind == nalPrefix || kind == nalVCLFirst
		if s.auStart >= 0 && s.seenVCL && starts {
			if err := s.emitVideo(sc, emit); err != nil {
				return err
			}
		}
		if s.auStart < 0 && starts {
			s.auStart, s.seenVCL, s.key = sc, false, false
			s.cur, s.curEst = s.stamp(sc+n-3, 0)
		}
		if s.auStart >= 0 {
			s.nals = append(s.nals, span{sc, sc + n})
			if kind == nalVCL || kind == nalVCLFirst {
				s.seenVCL = true
				s.key = s.key || key
			}
		}
		s.scan = sc + n
	}
	s.compact()
	if s.auStart >= 0 && len(s.es)-s.auStart > s.max {
		s.lose()
	}
	return nil
}

// emitVideo hands on the access unit from auStart to end.
func (s *stream) emitVideo(end int, emit func(*AccessUnit) error) error {
	src := s.es[s.auStart:end]
	b := make([]byte, len(src))
	copy(b, src)
	au := &AccessUnit{StreamID: s.id, Codec: s.codec, PTS: s.cur.pts, DTS: s.cur.dts,
		Estimated: s.curEst, Keyframe: s.key, NALUs: make([][]byte, 0, len(s.nals))}
	// The NAL units were found as the bytes arrived; no second scan.
	for i, sp := range s.nals {
		e := end
		if i+1 < len(s.nals) {
			e = s.nals[i+1].sc
		}
		if nal := trimZeros(b[sp.at-s.auStart : e-s.auStart]); len(nal) > 0 {
			au.NALUs = append(au.NALUs, nal)
		}
	}
	s.done(s.cur, s.curEst)
	s.auStart, s.seenVCL, s.key = -1, false, false
	s.nals = s.nals[:0]
	s.stats.AccessUnits++
	return emit(au)
}

// compact drops what no access unit needs any more, so es stays one access unit long.
func (s *stream) compact() {
	keep := s.scan
	if s.auStart >= 0 {
		keep = s.auStart
	}
	if keep <= 0 || keep < len(s.es)/2 && keep < 64<<10 {
		return
	}
	n := copy(s.es, s.es[keep:])
	s.es = s.es[:n]
	s.base += int64(keep)
	s.scan -= keep
	if s.auStart >= 0 {
		s.auStart -= keep
	}
	for i := range s.nals {
		s.nals[i].sc -= keep
		s.nals[i].at -= keep
	}
}

// flush emits the last access unit, which no following one has ended.
func (s *stream) flush(emit func(*AccessUnit) error) error {
	if s.codec.IsVideo() && s.auStart >= 0 && s.seenVCL {
		return s.emitVideo(len(s.es), emit)
	}
	return nil
}

// aacRates are the ADTS sampling_frequency_index values.
var aacRates = [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aac splits an ADTS stream into frames.
func (s *stream) aac(emit func(*AccessUnit) error) error {
	i := 0
	for len(s.es)-i >= 7 {
		b := s.es[i:]
		if b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
			i++ // resync on the next sync word
			continue
		}
		rateIdx := int(b[2]>>2) & 0x0F
		flen := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5])>>5
		hlen := 7
		if b[1]&0x01 == 0 {
			hlen = 9 // with CRC
		}
		if rateIdx >= len(aacRates) || flen < hlen {
			i++
			continue
		}
		if len(b) < flen {
			break
		}
		rate := aacRates[rateIdx]
		m, est := s.stamp(i, int64(1024*90000/rate))
		data := make([]byte, flen-hlen)
		copy(data, b[hlen:flen])
		s.done(m, est)
		s.stats.AccessUnits++
		au := &AccessUnit{StreamID: s.id, Codec: CodecAAC, PTS: m.pts, DTS: m.dts, Estimated: est,
			Keyframe: true, Data: data, SampleRate: rate, Channels: int(b[2]&0x01)<<2 | int(b[3]>>6)}
		i += flen
		if err := emit(au); err != nil {
			s.drop(i)
			return err
		}
	}
	s.drop(i)
	if len(s.es) > s.max {
		s.lose()
	}
	return nil
}

// drop discards the first n bytes of es.
func (s *stream) drop(n int) {
	k := copy(s.es, s.es[n:])
	s.es = s.es[:k]
	s.base += int64(n)
}

// raw emits each PES payload of a stream without frame syntax we parse (G.711, MPEG audio) as
// one access unit.
func (s *stream) raw(payload []byte, hasTS bool, emit func(*AccessUnit) error) error {
	if len(payload) == 0 {
		return nil
	}
	var dur int64
	rate, ch := 0, 0
	if s.codec == CodecG711A || s.codec == CodecG711U {
		rate, ch = 8000, 1
		dur = int64(s.lastSize) * 90000 / 8000
	}
	m, est := s.stamp(0, dur)
	if hasTS {
		est = false
	}
	s.marks = s.marks[:0]
	s.base += int64(len(payload))
	s.lastSize = len(payload)
	s.done(m, est)
	s.stats.AccessUnits++
	return emit(&AccessUnit{StreamID: s.id, Codec: s.codec, PTS: m.pts, DTS: m.dts, Estimated: est,
		Keyframe: true, Data: append([]byte(nil), payload...), SampleRate: rate, Channels: ch})
}
