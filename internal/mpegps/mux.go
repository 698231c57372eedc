package mpegps

import (
	"encoding/binary"
	"fmt"
)

// Stream ids the muxer gives its streams, as GB/T 28181 devices use them.
const (
	VideoStreamID byte = 0xE0
	AudioStreamID byte = 0xC0
)

// MuxerConfig names the streams a Muxer writes.
type MuxerConfig struct {
	Video Codec // CodecH264 or CodecH265; CodecUnknown for none
	Audio Codec // CodecAAC, CodecG711A, CodecG711U; CodecUnknown for none
}

// Muxer writes access units as program-stream packs the way GB/T 28181 devices do: one pack
// per access unit, the system header and PSM before the first and every keyframe.
type Muxer struct {
	cfg     MuxerConfig
	started bool
	psm     []byte // system header and PSM, built once
}

// NewMuxer returns a muxer for the streams of cfg.
func NewMuxer(cfg MuxerConfig) *Muxer {
	m := &Muxer{cfg: cfg}
	m.psm = m.appendHeaders(nil)
	return m
}

// maxPESPayload keeps each PES packet within its 16-bit length, header included.
const maxPESPayload = 0xFFFF - 3 - 10

// AppendVideo appends the pack carrying a video access unit (NALUs, PTS, DTS, Keyframe) to dst.
func (m *Muxer) AppendVideo(dst []byte, au *AccessUnit) ([]byte, error) {
	if !m.cfg.Video.IsVideo() {
		return dst, fmt.Errorf("mpegps: muxer has no video stream")
	}
	dst = appendPack(dst, au.DTS)
	if !m.started || au.Keyframe {
		dst = append(dst, m.psm...)
		m.started = true
	}
	size := 0
	for _, n := range au.NALUs {
		size += 4 + len(n)
	}
	es := make([]byte, 0, size)
	for _, n := range au.NALUs {
		es = append(es, 0, 0, 0, 1)
		es = append(es, n...)
	}
	return appendPES(dst, VideoStreamID, es, au.PTS, au.DTS, au.Keyframe), nil
}

// AppendAudio appends the pack carrying an audio frame to dst; an AAC frame (Data raw, with
// SampleRate and Channels) gets its ADTS header here.
func (m *Muxer) AppendAudio(dst []byte, au *AccessUnit) ([]byte, error) {
	if m.cfg.Audio == CodecUnknown || m.cfg.Audio.IsVideo() {
		return dst, fmt.Errorf("mpegps: muxer has no audio stream")
	}
	payload := au.Data
	if m.cfg.Audio == CodecAAC {
		var err error
		if payload, err = adts(au); err != nil {
			return dst, err
		}
	}
	if len(payload) > maxPESPayload {
		return dst, fmt.Errorf("mpegps: audio frame of %d bytes is too long", len(payload))
	}
	dst = appendPack(dst, au.PTS)
	if !m.started {
		dst = append(dst, m.psm...)
		m.started = true
	}
	return appendPES(dst, AudioStreamID, payload, au.PTS, au.PTS, false), nil
}

// adts prefixes a raw AAC-LC frame with its ADTS header.
func adts(au *AccessUnit) ([]byte, error) {
	idx := -1
	for i, r := range aacRates {
		if r == au.SampleRate {
			idx = i
		}
	}
	if idx < 0 || au.Channels < 1 || au.Channels > 7 {
		return nil, fmt.Errorf("mpegps: no ADTS header for %d Hz, %d channels", au.SampleRate, au.Channels)
	}
	n := 7 + len(au.Data)
	if n >= 1<<13 {
		return nil, fmt.Errorf("mpegps: AAC frame of %d bytes is too long", len(au.Data))
	}
	const profileLC = 1 // audio object type 2 minus one
	b := make([]byte, 7, n)
	b[0], b[1] = 0xFF, 0xF1
	b[2] = profileLC<<6 | byte(idx)<<2 | byte(au.Channels>>2)
	b[3] = byte(au.Channels&3)<<6 | byte(n>>11)
	b[4] = byte(n >> 3)
	b[5] = byte(n&7)<<5 | 0x1F
	b[6] = 0xFC
	return append(b, au.Data...), nil
}

// appendPack appends an MPEG-2 pack header whose SCR is the access unit's decoding time.
func appendPack(dst []byte, scr int64) []byte {
	s := uint64(scr) & (1<<33 - 1)
	v := uint64(1)<<46 | (s>>30&7)<<43 | 1<<42 | (s>>15&0x7FFF)<<27 | 1<<26 | (s&0x7FFF)<<11 | 1<<10 | 1
	const muxRate = 6106 // 50-byte units per second, as devices write it; decoders ignore it
	dst = append(dst, 0, 0, 1, 0xBA, byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	r := uint32(muxRate)<<2 | 3
	return append(dst, byte(r>>16), byte(r>>8), byte(r), 0xF8)
}

// appendHeaders appends the system header and program stream map of the muxer's streams.
func (m *Muxer) appendHeaders(dst []byte) []byte {
	type es struct{ id, typ byte }
	var streams []es
	if m.cfg.Video != CodecUnknown {
		streams = append(streams, es{VideoStreamID, byte(m.cfg.Video)})
	}
	if m.cfg.Audio != CodecUnknown {
		streams = append(streams, es{AudioStreamID, byte(m.cfg.Audio)})
	}
	audio, video := 0, 0
	for _, s := range streams {
		if s.id == VideoStreamID {
			video++
		} else {
			audio++
		}
	}
	// system header
	const rateBound = 26234
	rb := uint32(1)<<23 | rateBound<<1 | 1
	dst = append(dst, 0, 0, 1, 0xBB, 0, byte(6+3*len(streams)), byte(rb>>16), byte(rb>>8), byte(rb),
		byte(audio<<2), 0xE0|byte(video), 0x7F)
	for _, s := range streams {
		if s.id == VideoStreamID {
			dst = append(dst, s.id, 0xE0|0x20|400>>8, 400&0xFF) // scale 1: 1024-byte units
		} else {
			dst = append(dst, s.id, 0xC0, 32)
		}
	}
	// program stream map
	start := len(dst)
	dst = append(dst, 0, 0, 1, 0xBC, 0, byte(10+4*len(streams)), 0x80|0x20|1, 0xFF, 0, 0, 0, byte(4*len(streams)))
	for _, s := range streams {
		dst = append(dst, s.typ, s.id, 0, 0)
	}
	return binary.BigEndian.AppendUint32(dst, crc32MPEG(dst[start:]))
}

// appendPES appends es as PES packets of stream id, each carrying the timestamps: devices
// repeat them on every packet of a frame, and demuxers that read each packet on its own
// (gomedia's, for one) need them there.
func appendPES(dst []byte, id byte, es []byte, pts, dts int64, aligned bool) []byte {
	flags, hlen := byte(0x80), 5
	if dts != pts {
		flags, hlen = 0xC0, 10
	}
	for first := true; first || len(es) > 0; first = false {
		n := min(len(es), maxPESPayload)
		b6 := byte(0x80)
		if first && aligned {
			b6 |= 0x04
		}
		l := 3 + hlen + n
		dst = append(dst, 0, 0, 1, id, byte(l>>8), byte(l), b6, flags, byte(hlen))
		if flags == 0xC0 {
			dst = appendTS(dst, 3, pts)
			dst = appendTS(dst, 1, dts)
		} else {
			dst = appendTS(dst, 2, pts)
		}
		dst = append(dst, es[:n]...)
		es = es[n:]
	}
	return dst
}

// appendTS appends a 33-bit timestamp in its 5-byte PES field with the 4-bit prefix.
func appendTS(dst []byte, prefix byte, ts int64) []byte {
	t := uint64(ts) & (1<<33 - 1)
	return append(dst, prefix<<4|byte(t>>29)&0x0E|1, byte(t>>22), byte(t>>14)|1, byte(t>>7), byte(t<<1)|1)
}

// crc32MPEG is the CRC-32/MPEG-2 of program-stream maps.
func crc32MPEG(b []byte) uint32 {
	crc := uint32(0xFFFFFFFF)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
