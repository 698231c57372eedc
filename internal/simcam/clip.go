package simcam

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

//go:generate sh -c "cd clips && sh gen.sh"

// The clips are 4 s of testsrc2 at 640x360, 25 fps, an IDR every second; see clips/gen.sh.
var (
	//go:embed clips/testsrc2.h264
	clipH264 []byte
	//go:embed clips/testsrc2.h265
	clipH265 []byte
)

const (
	clipFPS       = 25
	clockRate     = 90000
	frameTicks    = clockRate / clipFPS
	frameInterval = time.Second / clipFPS
)

// clip is an elementary stream split into access units, ready to be sent in a loop.
type clip struct {
	codec      Codec
	aus        [][][]byte // without access unit delimiters
	sps, pps   []byte
	vps        []byte // H.265 only
	bitrate    int64  // natural bits per second of the looped clip
	keyframeAt []bool
}

func loadClip(c Codec) (*clip, error) {
	var raw []byte
	switch c {
	case H264:
		raw = clipH264
	case H265:
		raw = clipH265
	default:
		return nil, fmt.Errorf("unknown codec %q", c)
	}
	nalus := splitAnnexB(raw)
	cl := &clip{codec: c}
	var cur [][]byte
	var total int
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		typ := naluType(c, n)
		if isAUD(c, typ) {
			if len(cur) > 0 {
				cl.aus = append(cl.aus, cur)
			}
			cur = nil
			continue
		}
		switch {
		case c == H264 && typ == 7 && cl.sps == nil:
			cl.sps = n
		case c == H264 && typ == 8 && cl.pps == nil:
			cl.pps = n
		case c == H265 && typ == 32 && cl.vps == nil:
			cl.vps = n
		case c == H265 && typ == 33 && cl.sps == nil:
			cl.sps = n
		case c == H265 && typ == 34 && cl.pps == nil:
			cl.pps = n
		}
		cur = append(cur, n)
		total += len(n) + 4
	}
	if len(cur) > 0 {
		cl.aus = append(cl.aus, cur)
	}
	if len(cl.aus) == 0 || cl.sps == nil || cl.pps == nil || (c == H265 && cl.vps == nil) {
		return nil, fmt.Errorf("clip %s: no access units or parameter sets", c)
	}
	for _, au := range cl.aus {
		var key bool
		if c == H264 {
			key = h264.IsRandomAccess(au)
		} else {
			key = h265.IsRandomAccess(au)
		}
		cl.keyframeAt = append(cl.keyframeAt, key)
	}
	if !cl.keyframeAt[0] {
		return nil, fmt.Errorf("clip %s does not start with a keyframe", c)
	}
	cl.bitrate = int64(total) * 8 * clipFPS / int64(len(cl.aus))
	return cl, nil
}

func naluType(c Codec, n []byte) int {
	if c == H264 {
		return int(n[0] & 0x1f)
	}
	return int(n[0]>>1) & 0x3f
}

func isAUD(c Codec, typ int) bool {
	return (c == H264 && typ == 9) || (c == H265 && typ == 35)
}

// filler returns a filler-data NAL unit of n bytes in all (n >= 3): decoders discard it, so it
// raises the bitrate on the wire without changing a single picture.
func filler(c Codec, n int) []byte {
	b := bytes.Repeat([]byte{0xff}, n)
	if c == H264 {
		b[0] = 12 // nal_unit_type 12, filler data
	} else {
		b[0], b[1] = 38<<1, 1 // nal_unit_type 38 (FD_NUT), layer 0, temporal id 1
	}
	b[n-1] = 0x80 // rbsp_trailing_bits
	return b
}

// splitAnnexB returns the NAL units between start codes (00 00 01 or 00 00 00 01).
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	i := 0
	for i+2 < len(b) {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				out = append(out, b[start:end])
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// Clip is an embedded clip as access units, for senders other than this package's RTSP
// server (the simulated GB/T 28181 device's PS over RTP among them).
type Clip struct {
	Codec Codec
	// AccessUnits are the clip's frames in decoding order, NAL units without start codes;
	// every keyframe carries the parameter sets, as devices send them.
	AccessUnits [][][]byte
	Keyframe    []bool
	// FrameTicks is one frame's duration at 90 kHz.
	FrameTicks int64
	// Bitrate is what the looped clip sends, bits per second, with its NAL units' 4-byte
	// lengths or start codes.
	Bitrate int64
}

// WithBitrate returns the clip padded to bps as the RTSP server pads its streams: a filler-data
// NAL unit ends every access unit, so that a sender of the clip costs a receiver what a camera
// of that rate costs. A bps at or below the clip's own rate returns the clip unchanged.
func (c *Clip) WithBitrate(bps int64) *Clip {
	pad := int((bps-c.Bitrate)/8/clipFPS) - 4
	if pad < 3 {
		return c
	}
	fill := filler(c.Codec, pad)
	out := *c
	out.AccessUnits = make([][][]byte, len(c.AccessUnits))
	for i, au := range c.AccessUnits {
		out.AccessUnits[i] = append(au[:len(au):len(au)], fill)
	}
	out.Bitrate += int64(pad+4) * 8 * clipFPS
	return &out
}

// LoadClip returns the embedded clip of codec c (H264 or H265).
func LoadClip(c Codec) (*Clip, error) {
	cl, err := loadClip(c)
	if err != nil {
		return nil, err
	}
	params := [][]byte{cl.sps, cl.pps}
	if c == H265 {
		params = [][]byte{cl.vps, cl.sps, cl.pps}
	}
	out := &Clip{Codec: c, Keyframe: cl.keyframeAt, FrameTicks: frameTicks, Bitrate: cl.bitrate}
	for i, au := range cl.aus {
		if cl.keyframeAt[i] && !hasParams(c, au) {
			au = append(append([][]byte{}, params...), au...)
		}
		out.AccessUnits = append(out.AccessUnits, au)
	}
	return out, nil
}

// hasParams reports whether an access unit carries its SPS.
func hasParams(c Codec, au [][]byte) bool {
	for _, n := range au {
		if t := naluType(c, n); (c == H264 && t == 7) || (c == H265 && t == 33) {
			return true
		}
	}
	return false
}
