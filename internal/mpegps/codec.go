package mpegps

import "bytes"

// Codec is the coding of an elementary stream, named by its PSM stream type where one exists.
type Codec uint8

// The codecs GB/T 28181 devices send; the values are the PSM stream types.
const (
	CodecUnknown   Codec = 0
	CodecMPEGAudio Codec = 0x03 // MPEG-1/2 audio layers I-III (ffmpeg's default in a program stream)
	CodecAAC       Codec = 0x0F // ADTS
	CodecH264      Codec = 0x1B
	CodecH265      Codec = 0x24
	CodecG711A     Codec = 0x90
	CodecG711U     Codec = 0x91
)

// String names the codec as logs and tests show it.
func (c Codec) String() string {
	switch c {
	case CodecMPEGAudio:
		return "mpeg-audio"
	case CodecAAC:
		return "aac"
	case CodecH264:
		return "h264"
	case CodecH265:
		return "h265"
	case CodecG711A:
		return "g711a"
	case CodecG711U:
		return "g711u"
	}
	return "unknown"
}

// IsVideo reports whether the codec's access units are NAL units.
func (c Codec) IsVideo() bool { return c == CodecH264 || c == CodecH265 }

// codecOfStreamType maps a PSM stream type to a codec; types we cannot frame stay unknown,
// which the demuxer treats as "guess from the payload".
func codecOfStreamType(t byte) Codec {
	switch t {
	case 0x03, 0x04:
		return CodecMPEGAudio
	case 0x0F:
		return CodecAAC
	case 0x1B:
		return CodecH264
	case 0x24:
		return CodecH265
	case 0x90:
		return CodecG711A
	case 0x91:
		return CodecG711U
	}
	return CodecUnknown
}

// nalKind is what an access-unit framer needs to know about one NAL unit.
type nalKind uint8

const (
	nalOther    nalKind = iota // belongs to the access unit it is in (suffix SEI, end of sequence, filler)
	nalPrefix                  // starts a new access unit if the current one has a picture (AUD, parameter sets, SEI)
	nalVCL                     // a slice that continues the current picture
	nalVCLFirst                // the first slice of a new picture
)

// classify tells what the NAL unit (without start code) means for access-unit boundaries and
// whether it makes its access unit a random access point.
func classify(c Codec, nal []byte) (kind nalKind, key bool) {
	if len(nal) == 0 {
		return nalOther, false
	}
	if c == CodecH265 {
		if len(nal) < 2 {
			return nalOther, false
		}
		typ := (nal[0] >> 1) & 0x3F
		switch {
		case typ <= 31:
			key = typ >= 16 && typ <= 23
			// first_slice_segment_in_pic_flag is the first bit after the two-byte header.
			if len(nal) > 2 && nal[2]&0x80 != 0 {
				return nalVCLFirst, key
			}
			return nalVCL, key
		case typ >= 32 && typ <= 35, typ == 39, typ >= 41 && typ <= 44, typ >= 48 && typ <= 55:
			return nalPrefix, false
		}
		return nalOther, false
	}
	typ := nal[0] & 0x1F
	switch {
	case typ >= 1 && typ <= 5:
		key = typ == 5
		// first_mb_in_slice is ue(v); it is 0 exactly when its first bit is 1.
		if len(nal) > 1 && nal[1]&0x80 != 0 {
			return nalVCLFirst, key
		}
		return nalVCL, key
	case typ >= 6 && typ <= 9, typ >= 14 && typ <= 18:
		return nalPrefix, false
	}
	return nalOther, false
}

// guessVideo tells H.264 from H.265 by the NAL headers in an elementary stream that came
// without a PSM: each well-formed header of a type only one codec allows counts for it.
// It returns CodecUnknown while the evidence is not yet clear.
func guessVideo(es []byte) Codec {
	h264, h265 := 0, 0
	eachNAL(es, func(_ int, nal []byte) {
		if len(nal) < 2 || nal[0]&0x80 != 0 {
			return
		}
		// H.264: nal_ref_idc must be 0 for SEI, AUD and end-of-stream units, non-zero for
		// parameter sets and IDR slices.
		ref, t4 := nal[0]>>5, nal[0]&0x1F
		switch {
		case (t4 == 7 || t4 == 8 || t4 == 5) && ref != 0:
			h264 += 2
		case (t4 == 6 || t4 == 9) && ref == 0:
			h264++
		case t4 == 1:
			h264++
		}
		// H.265: the second header byte carries nuh_layer_id (0 here) and a non-zero temporal id.
		t5 := (nal[0] >> 1) & 0x3F
		if nal[0]&0x01 == 0 && nal[1]&0xF8 == 0 && nal[1]&0x07 != 0 {
			switch {
			case t5 >= 32 && t5 <= 34, t5 >= 16 && t5 <= 21:
				h265 += 2
			case t5 == 35, t5 == 39, t5 <= 9:
				h265++
			}
		}
	})
	switch {
	case h264 >= 4 && h264 > h265:
		return CodecH264
	case h265 >= 4 && h265 > h264:
		return CodecH265
	}
	return CodecUnknown
}

// guessAudio tells the audio codec of a stream without a PSM from its first bytes: ADTS
// (layer 0 after the sync word) is AAC, another MPEG audio sync is MPEG audio, and anything
// else is G.711 A-law, the GB/T 28181 default.
func guessAudio(p []byte) Codec {
	if len(p) >= 2 && p[0] == 0xFF && p[1]&0xE0 == 0xE0 {
		if p[1]&0xF6 == 0xF0 {
			return CodecAAC
		}
		if p[1]&0x06 != 0 {
			return CodecMPEGAudio
		}
	}
	return CodecG711A
}

// eachNAL calls f with the offset of each NAL unit's start code and the unit (start code and
// trailing zero bytes removed) of a complete Annex-B buffer.
func eachNAL(b []byte, f func(at int, nal []byte)) {
	start := -1
	at := 0
	for i := 0; ; {
		sc, n := nextStartCode(b, i)
		if start >= 0 {
			end := len(b)
			if sc >= 0 {
				end = sc
			}
			f(at, trimZeros(b[start:end]))
		}
		if sc < 0 {
			return
		}
		at, start, i = sc, sc+n, sc+n
	}
}

// nextStartCode finds the next Annex-B start code at or after from, returning its offset
// (the first zero, counting a leading zero_byte) and its length (3 or 4), or -1.
func nextStartCode(b []byte, from int) (int, int) {
	if from < 0 || from+3 > len(b) {
		return -1, 0
	}
	j := indexStartCode3(b[from:])
	if j < 0 {
		return -1, 0
	}
	at := from + j
	if at > 0 && b[at-1] == 0 {
		return at - 1, 4
	}
	return at, 3
}

// trimZeros drops trailing_zero_8bits, which belong to no NAL unit.
func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// indexStartCode3 is the offset of the first 00 00 01 in b, or -1.
func indexStartCode3(b []byte) int { return bytes.Index(b, []byte{0, 0, 1}) }
