package segment

import (
	"encoding/binary"
)

// A part is laid out as moof, mdat header, samples. Its samples are written as they arrive and its
// moof only once the part is complete, into room reserved in front of them: the moof is padded to
// the reserved size with a free box inside it, so that the mdat follows the moof directly, as
// every reader (mediacommon, ffmpeg, browsers, package playback) expects.
const (
	moofFixed   = 8 + 16 + 8 + 16 + 20 + 20 // moof, mfhd, traf, tfhd, tfdt headers and trun header
	sampleEntry = 16                        // per sample in the trun: duration, size, flags, cto
	freeMin     = 8                         // the padding box's header
	mdatHdr     = 8
)

// The audio track's traf, when the segment has one: traf, tfhd, tfdt and trun headers, and per
// sample only a duration and a size (every audio sample is a sync sample, the trex default).
const (
	audioFixed = 8 + 16 + 20 + 20
	audioEntry = 8
)

// reserveFor is the room reserved in front of a part's samples for a trun of up to n entries
// and, with a audio track, an audio trun of up to na entries: the moof with its padding, and the
// mdat header.
func reserveFor(n, na int, audio bool) int {
	r := moofFixed + sampleEntry*n + freeMin + mdatHdr
	if audio {
		r += audioFixed + audioEntry*na
	}
	return r
}

// audioMeta is what the audio trun needs of the part's audio samples: they follow the video
// samples in the mdat, and the first decodes at base (in the audio track's time scale).
type audioMeta struct {
	base      uint64
	durations []uint32
	sizes     []uint32
}

// sampleMeta is what the trun needs of a sample once its bytes are written.
type sampleMeta struct {
	duration  uint32
	size      uint32
	nonSync   bool
	ptsOffset int32
}

// appendPartHeader appends the moof of a one-track part, padded to fill reserve bytes together
// with the mdat header that follows it, in the layout mediacommon's fmp4 writes and reads: tfhd
// with default-base-is-moof, a version-1 tfdt, and a version-1 trun with data offset, and
// per-sample duration, size, flags and composition offset. reserve must be at least
// reserveFor(len(samples)), and payload below 4 GiB.
//
// With audio samples (a not nil and holding some), the moof has a second traf, of track 2, whose
// samples follow the video's (videoPayload bytes) in the same mdat.
func appendPartHeader(b []byte, seq uint32, baseTime uint64, samples []sampleMeta, payload uint64, reserve int, a *audioMeta, videoPayload uint64) []byte {
	n := len(samples)
	const (
		mfhdSize = 16
		tfhdSize = 16
		tfdtSize = 20
	)
	trunSize := 8 + 4 + 4 + 4 + sampleEntry*n
	trafSize := 8 + tfhdSize + tfdtSize + trunSize
	moofSize := reserve - mdatHdr
	audioSize := 0
	if a != nil && len(a.sizes) > 0 {
		audioSize = audioFixed + audioEntry*len(a.sizes)
	}
	freeSize := moofSize - (8 + mfhdSize + trafSize + audioSize)

	b = boxHeader(b, moofSize, "moof")
	b = boxHeader(b, mfhdSize, "mfhd")
	b = binary.BigEndian.AppendUint32(b, 0) // version, flags
	b = binary.BigEndian.AppendUint32(b, seq)
	b = boxHeader(b, trafSize, "traf")
	b = boxHeader(b, tfhdSize, "tfhd")
	b = binary.BigEndian.AppendUint32(b, 0x020000) // default-base-is-moof
	b = binary.BigEndian.AppendUint32(b, 1)        // track ID
	b = boxHeader(b, tfdtSize, "tfdt")
	b = binary.BigEndian.AppendUint32(b, 1<<24) // version 1
	b = binary.BigEndian.AppendUint64(b, baseTime)
	b = boxHeader(b, trunSize, "trun")
	b = binary.BigEndian.AppendUint32(b, 1<<24|0x000f01) // version 1; offset, duration, size, flags, cto
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, uint32(reserve)) // data starts after the mdat header
	for i := range samples {
		s := &samples[i]
		var flags uint32
		if s.nonSync {
			flags = 1 << 16 // sample_is_non_sync_sample
		}
		b = binary.BigEndian.AppendUint32(b, s.duration)
		b = binary.BigEndian.AppendUint32(b, s.size)
		b = binary.BigEndian.AppendUint32(b, flags)
		b = binary.BigEndian.AppendUint32(b, uint32(s.ptsOffset))
	}
	if audioSize > 0 {
		na := len(a.sizes)
		b = boxHeader(b, audioSize, "traf")
		b = boxHeader(b, tfhdSize, "tfhd")
		b = binary.BigEndian.AppendUint32(b, 0x020000) // default-base-is-moof
		b = binary.BigEndian.AppendUint32(b, 2)        // track ID
		b = boxHeader(b, tfdtSize, "tfdt")
		b = binary.BigEndian.AppendUint32(b, 1<<24)
		b = binary.BigEndian.AppendUint64(b, a.base)
		b = boxHeader(b, 20+audioEntry*na, "trun")
		b = binary.BigEndian.AppendUint32(b, 0x000301) // version 0; offset, duration, size
		b = binary.BigEndian.AppendUint32(b, uint32(na))
		b = binary.BigEndian.AppendUint32(b, uint32(uint64(reserve)+videoPayload))
		for i := range a.sizes {
			b = binary.BigEndian.AppendUint32(b, a.durations[i])
			b = binary.BigEndian.AppendUint32(b, a.sizes[i])
		}
	}
	b = boxHeader(b, freeSize, "free")
	for range freeSize - 8 {
		b = append(b, 0)
	}
	return boxHeader(b, int(payload+mdatHdr), "mdat")
}

// appendPlaceholder appends what stands in the reserved room until the part is complete: one free
// box over all of it, which no reader takes for a part, so a crash before the moof is written
// leaves a tail that Scan reports as trailing and Repair cuts.
func appendPlaceholder(b []byte, reserve int) []byte {
	b = boxHeader(b, reserve, "free")
	for range reserve - 8 {
		b = append(b, 0)
	}
	return b
}

func boxHeader(b []byte, size int, typ string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	return append(b, typ...)
}
