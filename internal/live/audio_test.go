package live

import (
	"testing"

	"civicam/internal/recorder"
)

const offerWithAudio = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 8 0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"

const offerVideoOnly = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n"

// TestChooseAudio: Opus and G.711 go live in the offer's own payload type; AAC never does, and
// says why; a viewer that asked for no audio gets the video alone.
func TestChooseAudio(t *testing.T) {
	tests := []struct {
		offer, codec string
		ok           bool
		pt           uint8
		clock        uint32
		note         bool
	}{
		{offerWithAudio, recorder.AudioOpus, true, 111, 48000, false},
		{offerWithAudio, recorder.AudioPCMA, true, 8, 8000, false},
		{offerWithAudio, recorder.AudioPCMU, true, 0, 8000, false},
		{offerWithAudio, recorder.AudioAAC, false, 0, 0, true},
		{offerWithAudio, "", false, 0, 0, false},
		{offerVideoOnly, recorder.AudioOpus, false, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			f, ok, note := chooseAudio(tt.offer, tt.codec)
			if ok != tt.ok || (ok && (f.pt != tt.pt || f.clock != tt.clock || f.codec != tt.codec)) || (note != "") != tt.note {
				t.Errorf("chooseAudio(%s) = %+v, %v, %q; want pt %d clock %d ok %v, a note %v", tt.codec, f, ok, note, tt.pt, tt.clock, tt.ok, tt.note)
			}
		})
	}
	if _, _, note := chooseAudio(offerWithAudio, recorder.AudioAAC); note != AudioNoteAAC {
		t.Errorf("AAC note = %q; want %q", note, AudioNoteAAC)
	}
}
