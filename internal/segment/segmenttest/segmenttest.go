// Package segmenttest writes small, real segments with the recorder's own writer, for the tests
// and fuzz seeds of the packages that read segments (playback, export): the same bytes a camera
// would leave on disk, a few kilobytes long.
package segmenttest

import (
	"context"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"civicam/internal/segment"
)

var (
	sps = []byte{0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04,
		0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9, 0x20}
	pps = []byte{0x68, 0xce, 0x3c, 0x80}
)

// Tiny writes on d the segment of cameraID starting at start: parts parts of one second, each of
// three tiny H.264 frames, the first a keyframe. It returns the segment's sealed index record.
func Tiny(t testing.TB, d *segment.Disk, cameraID string, start time.Time, parts int) segment.Record {
	t.Helper()
	key, err := segment.Key(cameraID, start)
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, &fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: segment.TimeScale,
		Codec: &fmp4.CodecH264{SPS: sps, PPS: pps}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range parts {
		samples := []segment.Sample{
			{Duration: 30000, NALUs: [][]byte{sps, pps, {0x65, 1, 2, 3}}},
			{Duration: 30000, NonSync: true, NALUs: [][]byte{{0x01, 4, 5}}},
			{Duration: 30000, NonSync: true, NALUs: [][]byte{{0x01, 6, 7}}},
		}
		if err := w.WritePart(uint64(i)*90000, samples); err != nil {
			t.Fatal(err)
		}
	}
	sum, size, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return segment.Record{CameraID: cameraID, Path: key, Start: start, End: start.Add(time.Duration(parts) * time.Second),
		Bytes: size, SHA256: sum, Sealed: true}
}

// One is an index of one sealed segment, whatever range is asked.
type One struct{ Rec segment.Record }

// RecordingSegments answers the one segment.
func (o One) RecordingSegments(context.Context, string, time.Time, time.Time) ([]segment.Record, error) {
	return []segment.Record{o.Rec}, nil
}
