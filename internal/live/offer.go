package live

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// A viewer's offer lists the video formats it can decode; the answer must name one of them, and
// the one it names must describe the stream the camera really sends, because the browser sets
// its decoder up from the answer and the video is passed through, never re-encoded. So the
// format is chosen here from the camera's codec and H.264 profile rather than left to pion,
// which would answer with the first profile both sides registered whatever the camera sends.

// ErrIncompatible is an offer that cannot take the camera's video as it is sent: no H.265 for an
// H.265 camera, or only H.264 profiles that cannot decode the camera's.
var ErrIncompatible = errors.New("live: the viewer cannot decode the camera's video")

// videoFormat is one payload type of the offer's video section.
type videoFormat struct {
	pt    uint8
	codec string // "H264" or "H265"
	fmtp  string
	param map[string]string
}

// videoFormats reads the H.264 and H.265 formats of the offer's first video section, in the
// offer's order of preference.
func videoFormats(offer string) ([]videoFormat, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "video" {
			continue
		}
		rtpmap, fmtp := payloadFormats(md)
		var out []videoFormat
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 8)
			if err != nil {
				continue
			}
			var codec string
			switch rtpmap[f] {
			case "H264/90000":
				codec = "H264"
			case "H265/90000":
				codec = "H265"
			default:
				continue
			}
			out = append(out, videoFormat{pt: uint8(pt), codec: codec, fmtp: fmtp[f], param: fmtpParams(fmtp[f])})
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: no video section", ErrBadOffer)
}

func fmtpParams(line string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

// chooseFormat picks the offered format that carries the camera's video: for H.264 the one of
// the camera's own profile, else one whose decoder must decode it (High takes Main and
// Constrained Baseline, Main takes Constrained Baseline); for H.265 the first H.265 format.
func chooseFormat(offered []videoFormat, codec, profile string) (videoFormat, error) {
	best, bestRank := videoFormat{}, 0
	var names []string
	for _, f := range offered {
		if f.codec != codec {
			if f.codec == "H264" {
				names = append(names, "H.264 "+profileName(f.param["profile-level-id"]))
			} else {
				names = append(names, "H.265")
			}
			continue
		}
		if codec == "H265" {
			return f, nil
		}
		if pm := f.param["packetization-mode"]; pm != "1" {
			continue // the packetiser uses FU-A, which mode 0 forbids
		}
		names = append(names, "H.264 "+profileName(f.param["profile-level-id"]))
		r := h264Takes(f.param["profile-level-id"], profile)
		if profile == "" {
			r = 1 // a camera whose profile is not known yet: the viewer's first choice
		}
		if r > bestRank {
			best, bestRank = f, r
		}
	}
	if bestRank > 0 {
		return best, nil
	}
	offers := "nothing it can decode"
	if len(names) > 0 {
		offers = "only " + strings.Join(dedupe(names), ", ")
	}
	if codec == "H265" {
		return videoFormat{}, fmt.Errorf("%w: the camera sends H.265 and this browser offers %s; use a browser that decodes H.265 (Safari, recent Chrome and Edge)", ErrIncompatible, offers)
	}
	return videoFormat{}, fmt.Errorf("%w: the camera sends H.264 %s and this browser offers %s", ErrIncompatible, profileName(profile), offers)
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// h264Takes ranks how well a decoder set up for the offered profile-level-id takes a stream of
// the camera's: 3 the same profile and constraints, 2 the same profile with fewer constraints
// asked, 1 a profile whose decoders must decode the camera's, 0 not at all.
func h264Takes(offered, camera string) int {
	o, err := hex.DecodeString(offered)
	if err != nil || len(o) != 3 {
		return 0
	}
	c, err := hex.DecodeString(camera)
	if err != nil || len(c) != 3 {
		return 0
	}
	oIDC, oFlags, cIDC, cFlags := o[0], o[1], c[0], c[1]
	switch {
	case oIDC == cIDC && oFlags == cFlags:
		return 3
	case oIDC == cIDC && oFlags&^cFlags == 0:
		return 2
	}
	constrainedBaseline := cIDC == 66 && cFlags&0x40 != 0 || cFlags&0xc0 == 0xc0
	switch {
	case oIDC == 77 && oFlags == 0 && constrainedBaseline:
		return 1
	case oIDC == 100 && oFlags&0x0c == 0 && (cIDC == 77 || constrainedBaseline):
		// High decoders decode Main and Constrained Baseline; Constrained High (flags 4 and 5)
		// asks for no B-frames, which Main may have.
		return 1
	}
	return 0
}

// profileName names an H.264 profile-level-id for people.
func profileName(plid string) string {
	b, err := hex.DecodeString(plid)
	if err != nil || len(b) != 3 {
		return "(unknown profile)"
	}
	var name string
	switch idc, flags := b[0], b[1]; {
	case idc == 66 && flags&0x40 != 0:
		name = "Constrained Baseline"
	case idc == 66:
		name = "Baseline"
	case idc == 77:
		name = "Main"
	case idc == 88:
		name = "Extended"
	case idc == 100 && flags&0x0c == 0x0c:
		name = "Constrained High"
	case idc == 100:
		name = "High"
	case idc == 110:
		name = "High 10"
	case idc == 122:
		name = "High 4:2:2"
	case idc == 244:
		name = "High 4:4:4"
	default:
		name = fmt.Sprintf("profile %d", idc)
	}
	return fmt.Sprintf("%s (%s)", name, plid)
}

// codecParameters is the one codec a session's media engine registers: the offered format, so
// that pion's answer names exactly it.
func (f videoFormat) codecParameters() webrtc.RTPCodecParameters {
	mime := webrtc.MimeTypeH264
	if f.codec == "H265" {
		mime = webrtc.MimeTypeH265
	}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: f.fmtp, RTCPFeedback: fb},
		PayloadType:        webrtc.PayloadType(f.pt),
	}
}

// payloadFormats reads a media section's rtpmap (upper-cased encoding/clock) and fmtp
// attributes by payload type, for matching an offer's formats against a camera's.
func payloadFormats(md *sdp.MediaDescription) (rtpmap, fmtp map[string]string) {
	rtpmap, fmtp = map[string]string{}, map[string]string{}
	for _, a := range md.Attributes {
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		switch a.Key {
		case "rtpmap":
			rtpmap[pt] = strings.ToUpper(rest)
		case "fmtp":
			fmtp[pt] = strings.TrimSpace(rest)
		}
	}
	return rtpmap, fmtp
}
