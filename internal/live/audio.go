package live

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"civicam/internal/recorder"
)

// A camera's audio goes to the viewer as it is sent, as the video does: Opus and G.711 (PCMA,
// PCMU) are WebRTC's own codecs, so their frames are passed through; AAC is not one, and could
// only go live transcoded, which live view does not do: the video plays alone and the session
// says why (Session.AudioNote).

// AudioNoteAAC is what a session whose camera sends AAC says of its audio.
const AudioNoteAAC = "the camera's audio is AAC, which WebRTC cannot carry without transcoding: live view shows the video only (recordings keep the audio)"

// Live reports whether live view can carry audio of codec (a recorder.Audio name) to a browser.
func Live(codec string) bool {
	return codec == recorder.AudioOpus || codec == recorder.AudioPCMA || codec == recorder.AudioPCMU
}

// audioFormat is the offer's format for the camera's audio.
type audioFormat struct {
	codec    string // recorder.Audio name
	pt       uint8
	clock    uint32
	channels uint16
	fmtp     string
}

func (f audioFormat) codecParameters() webrtc.RTPCodecParameters {
	mime := map[string]string{recorder.AudioOpus: webrtc.MimeTypeOpus, recorder.AudioPCMA: webrtc.MimeTypePCMA,
		recorder.AudioPCMU: webrtc.MimeTypePCMU}[f.codec]
	return webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(f.pt),
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: f.clock, Channels: f.channels, SDPFmtpLine: f.fmtp}}
}

// chooseAudio finds in the offer's first audio section the format of the camera's audio codec;
// ok is false when the camera sends none that can go live, or the viewer offers no such format
// (then the video plays alone). note says why a camera's audio does not go live, for the viewer.
func chooseAudio(offer, codec string) (f audioFormat, ok bool, note string) {
	if codec == recorder.AudioAAC {
		return f, false, AudioNoteAAC
	}
	if !Live(codec) {
		return f, false, ""
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return f, false, ""
	}
	want := map[string]string{recorder.AudioOpus: "OPUS/48000", recorder.AudioPCMA: "PCMA/8000", recorder.AudioPCMU: "PCMU/8000"}[codec]
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		rtpmap, fmtp := payloadFormats(md)
		for _, pf := range md.MediaName.Formats {
			pt, err := strconv.ParseUint(pf, 10, 8)
			if err != nil {
				continue
			}
			name, chans, _ := strings.Cut(rtpmap[pf], "/")
			rm := rtpmap[pf]
			if chans != "" && strings.Count(rm, "/") == 2 {
				rm = rm[:strings.LastIndex(rm, "/")]
			}
			if rm != want {
				continue
			}
			f = audioFormat{codec: codec, pt: uint8(pt), clock: 8000, channels: 0, fmtp: fmtp[pf]}
			if name == "OPUS" {
				f.clock, f.channels = 48000, 2
			}
			return f, true, ""
		}
		return f, false, "the viewer offered no " + codec + " audio: live view shows the video only"
	}
	return f, false, "the viewer asked for no audio: live view shows the video only"
}

// AudioCodec is the camera's audio codec the session carries to the viewer, "" for none.
func (ss *Session) AudioCodec() string {
	if !ss.hasAudio {
		return ""
	}
	return ss.audioFmt.codec
}

// g711Packet is how many samples of G.711 go in one packet: 20 ms, the ptime browsers expect;
// cameras' packets are often longer (ffmpeg's are 175 ms), and G.711 splits at any sample.
const g711Packet = 160

// sendAudio sends one audio frame to the viewer, when the session carries the camera's audio.
func (ss *Session) sendAudio(fr recorder.Frame) {
	if ss.audio == nil || fr.Codec != ss.audioFmt.codec || len(fr.NALUs) != 1 {
		return
	}
	data := fr.NALUs[0]
	ts := uint32(fr.PTS) + ss.audioTS
	var chunks [][]byte
	if fr.Codec == recorder.AudioOpus {
		chunks = [][]byte{data}
	} else {
		for len(data) > 0 {
			n := min(len(data), g711Packet)
			chunks, data = append(chunks, data[:n]), data[n:]
		}
	}
	for _, c := range chunks {
		ss.audioSeq++
		p := &rtp.Packet{Header: rtp.Header{Version: 2, Marker: false, SequenceNumber: ss.audioSeq, Timestamp: ts}, Payload: c}
		if err := ss.audio.WriteRTP(p); err != nil {
			ss.svc.log.Debug("live: audio to viewer", "session", ss.ID, "err", err)
			return
		}
		ts += uint32(len(c))
	}
}

// addAudio adds the audio track to the session's connection, when it carries audio.
func (ss *Session) addAudio() error {
	if !ss.hasAudio {
		return nil
	}
	track, err := webrtc.NewTrackLocalStaticRTP(ss.audioFmt.codecParameters().RTPCodecCapability, "audio", "civicam-"+ss.CameraID)
	if err != nil {
		return fmt.Errorf("live: audio track: %w", err)
	}
	sender, err := ss.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("live: add audio track: %w", err)
	}
	ss.audio = track
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return nil
}
