package segment

import (
	"encoding/binary"
)

// appendPartHeader appends the moof box of a one-track part and the header of its mdat, in the
// layout mediacommon's fmp4 writes and reads: tfhd with default-base-is-moof, a version-1 tfdt,
// and a version-1 trun with data offset, and per-sample duration, size, flags and composition
// offset.
func appendPartHeader(b []byte, seq uint32, baseTime uint64, samples []Sample) []byte {
	n := len(samples)
	const (
		mfhdSize = 16
		tfhdSize = 16
		tfdtSize = 20
	)
	trunSize := 8 + 4 + 4 + 4 + 16*n
	trafSize := 8 + tfhdSize + tfdtSize + trunSize
	moofSize := 8 + mfhdSize + trafSize
	var payload uint64
	for i := range samples {
		payload += uint64(samples[i].size())
	}
	mdatHdr := 8
	if payload+8 > 0xffffffff {
		mdatHdr = 16 // a 64-bit size; no camera sends that much in a second, but stay correct
	}

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
	b = binary.BigEndian.AppendUint32(b, uint32(moofSize+mdatHdr)) // data starts after the mdat header
	for i := range samples {
		s := &samples[i]
		var flags uint32
		if s.NonSync {
			flags = 1 << 16 // sample_is_non_sync_sample
		}
		b = binary.BigEndian.AppendUint32(b, s.Duration)
		b = binary.BigEndian.AppendUint32(b, uint32(s.size()))
		b = binary.BigEndian.AppendUint32(b, flags)
		b = binary.BigEndian.AppendUint32(b, uint32(s.PTSOffset))
	}
	if mdatHdr == 16 {
		b = binary.BigEndian.AppendUint32(b, 1)
		b = append(b, "mdat"...)
		return binary.BigEndian.AppendUint64(b, payload+16)
	}
	return boxHeader(b, int(payload+8), "mdat")
}

func boxHeader(b []byte, size int, typ string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	return append(b, typ...)
}
