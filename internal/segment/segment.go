// Package segment holds civicam's recording format and where it is kept: fragmented MP4 files of
// one video track and at most one audio track (AAC, Opus, or G.711 kept as linear PCM), each
// beginning with its own initialization (ftyp + moov) so that every file plays alone, followed
// by parts (moof + mdat) of about a second; a part's audio is a second traf whose samples follow
// the video's in the same mdat. A part's samples are written as
// they arrive, behind room reserved for its moof; the moof is written there once the part is
// complete, and then the file is synced. Until then the room holds a free box, so a crash can only
// leave an incomplete part at the end of the newest file; Scan finds where the last complete part
// ends and Repair cuts the file there. The moof is padded to the reserved size with a free box
// inside it, so the mdat still follows the moof directly.
//
// Every part's moof carries a tfdt with its decode time from the start of the file, so playback can
// find fragment boundaries by reading the part offsets Scan returns (see Info.Parts).
package segment

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// TimeScale is the media clock of every track written: RTP's 90 kHz video clock, so timestamps
// are copied, never rounded.
const TimeScale = 90000

// Record is one segment as the index knows it. Path is the segment's key in its Store (relative,
// slash-separated), not a host path.
type Record struct {
	ID       int64
	CameraID string
	Path     string
	Start    time.Time
	End      time.Time // equal to Start until the segment is sealed
	Bytes    int64
	SHA256   string // lowercase hex, empty until sealed
	Sealed   bool
	// Node is the node that wrote the segment, whose local disk holds it until it is uploaded
	// ("" for a single node of old).
	Node string
	// Token is the fencing token of the camera's lease the segment is written under; the index
	// refuses a write whose token is no longer the lease's. Zero writes unfenced (one node
	// without leases, the tools).
	Token int64
	// Location is where the segment lives: LocationLocal (the node's disk, where every segment
	// is written) or LocationBucket.
	Location string
}

// The places a segment lives (Record.Location).
const (
	LocationLocal  = "local"
	LocationBucket = "bucket"
)

// MergeGap is the largest hole between two segments still counted as continuous recording: the
// boundary between segments of one connection is exact, and a reconnect that takes longer than
// this is a gap worth showing. Coverage, the recorded spans and the candidate search all merge
// by it.
const MergeGap = 1500 * time.Millisecond

// ErrBadCameraID is returned by Key for an ID that cannot be a directory name.
var ErrBadCameraID = errors.New("camera id unusable as a directory name")

// Key names the segment of a camera starting at start: <camera>/<YYYY-MM-DD>/<HHMMSS.ffffff>.mp4
// in UTC, so a directory listing sorts by time and a day's files sit together.
func Key(cameraID string, start time.Time) (string, error) {
	if err := checkCameraID(cameraID); err != nil {
		return "", err
	}
	u := start.UTC()
	return cameraID + "/" + u.Format("2006-01-02") + "/" + u.Format("150405.000000") + ".mp4", nil
}

func checkCameraID(id string) error {
	if id == "" || id[0] == '.' || len(id) > 128 {
		return fmt.Errorf("%w: %q", ErrBadCameraID, id)
	}
	if strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return fmt.Errorf("%w: %q", ErrBadCameraID, id)
	}
	return nil
}

// Ticks converts a duration in TimeScale units to a time.Duration without overflow for any
// realistic segment length.
func Ticks(d uint64) time.Duration {
	return time.Duration(d/TimeScale)*time.Second + time.Duration(d%TimeScale)*time.Second/TimeScale
}

// AudioCodecOf names the audio codecs a segment may keep beside its video, as the recording
// status reports them: "AAC" (MPEG-4 Audio), "Opus", and "LPCM" (G.711 as recorded, decoded to
// 16-bit linear PCM without loss; the status names the camera's G.711 itself). Any other codec
// is "".
func AudioCodecOf(c fmp4.Codec) string {
	switch c.(type) {
	case *fmp4.CodecMPEG4Audio:
		return "AAC"
	case *fmp4.CodecOpus:
		return "Opus"
	case *fmp4.CodecLPCM:
		return "LPCM"
	}
	return ""
}
