package recorder

import (
	"errors"
	"fmt"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/pion/rtp"

	"civicam/internal/mpegps"
	"civicam/internal/segment"
)

// Audio is kept as the camera sends it, beside the video in the same segments: AAC (MPEG-4
// Audio, RFC 3640 or from a GB/T 28181 program stream) and Opus as they are, G.711 as 16-bit
// linear PCM. G.711 has no sample entry in ISO BMFF (ulaw and alaw are QuickTime's), while
// ISO/IEC 23003-5 PCM (ipcm) is what mediacommon writes and ffmpeg and Chromium read; G.711's
// expansion to 16 bits is exact, so the camera's bytes can be got back, at twice their size.
// Nothing is transcoded.

// Audio codec names, as the recording status and live view give them.
const (
	AudioAAC  = "AAC"
	AudioOpus = "Opus"
	AudioPCMA = "PCMA" // G.711 A-law
	AudioPCMU = "PCMU" // G.711 µ-law
)

// audioTrack is how one audio stream is taken apart and kept.
type audioTrack struct {
	codec    string // one of the Audio names
	rate     int    // the track's time scale: its sample rate (48 kHz for Opus)
	channels int
	init     fmp4.Codec
	// decode takes an RTP packet apart into frames; the i-th decodes at the packet's time plus
	// i frames. nil for a MediaSource, which hands over frames.
	decode func(*rtp.Packet) ([][]byte, error)
	dur    func([]byte) int64  // a frame's duration, in rate units
	keep   func([]byte) []byte // what is written of a frame
	sig    string              // equal for streams one init describes
}

// findAudio is the first audio track of desc the recorder keeps, with its media; nil when there
// is none (a camera without audio, or with a codec not kept, which the log names).
func findAudio(desc *description.Session) (*description.Media, format.Format) {
	for _, m := range desc.Medias {
		if m.Type != description.MediaTypeAudio {
			continue
		}
		for _, f := range m.Formats {
			switch f.(type) {
			case *format.MPEG4Audio, *format.Opus, *format.G711:
				return m, f
			}
		}
	}
	return nil, nil
}

// unkeptAudio names the audio codecs of desc that are not kept, for the log.
func unkeptAudio(desc *description.Session) []string {
	var out []string
	for _, m := range desc.Medias {
		if m.Type == description.MediaTypeAudio {
			for _, f := range m.Formats {
				out = append(out, f.Codec())
			}
		}
	}
	return out
}

func newAudioTrack(forma format.Format) (*audioTrack, error) {
	switch f := forma.(type) {
	case *format.MPEG4Audio:
		if f.Config == nil {
			return nil, errors.New("aac without a config")
		}
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("aac decoder: %w", err)
		}
		t := aacTrack(*f.Config)
		t.decode = func(p *rtp.Packet) ([][]byte, error) {
			aus, err := dec.Decode(p)
			if errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
				return nil, nil
			}
			return aus, err
		}
		return t, nil
	case *format.Opus:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("opus decoder: %w", err)
		}
		ch := max(f.ChannelCount, 1)
		return &audioTrack{
			codec: AudioOpus, rate: 48000, channels: ch, init: &fmp4.CodecOpus{ChannelCount: ch},
			decode: func(p *rtp.Packet) ([][]byte, error) {
				b, err := dec.Decode(p)
				if err != nil {
					return nil, err
				}
				return [][]byte{b}, nil
			},
			dur:  opus.PacketDuration2,
			keep: func(b []byte) []byte { return b },
			sig:  fmt.Sprintf("opus/%d", ch),
		}, nil
	case *format.G711:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("g711 decoder: %w", err)
		}
		t := g711Track(f.MULaw, f.SampleRate, f.ChannelCount)
		t.decode = func(p *rtp.Packet) ([][]byte, error) {
			b, err := dec.Decode(p)
			if err != nil {
				return nil, err
			}
			return [][]byte{b}, nil
		}
		return t, nil
	}
	return nil, fmt.Errorf("audio codec %s is not kept", forma.Codec())
}

func aacTrack(conf mpeg4audio.AudioSpecificConfig) *audioTrack {
	per := int64(mpeg4audio.SamplesPerAccessUnit)
	if conf.FrameLengthFlag {
		per = 960
	}
	ch := int(conf.ChannelConfig)
	if ch == 0 {
		ch = conf.ChannelCount
	}
	return &audioTrack{
		codec: AudioAAC, rate: conf.SampleRate, channels: ch,
		init: &fmp4.CodecMPEG4Audio{Config: conf},
		dur:  func([]byte) int64 { return per },
		keep: func(b []byte) []byte { return b },
		sig:  fmt.Sprintf("aac/%d/%d/%d/%d", conf.Type, conf.SampleRate, ch, per),
	}
}

func g711Track(mulaw bool, rate, channels int) *audioTrack {
	rate, channels = max(rate, 8000), max(channels, 1)
	t := &audioTrack{
		codec: AudioPCMA, rate: rate, channels: channels,
		// 16-bit big-endian, as mediacommon's G.711 expansion gives it.
		init: &fmp4.CodecLPCM{BitDepth: 16, SampleRate: rate, ChannelCount: channels},
		dur:  func(b []byte) int64 { return int64(len(b) / channels) },
		keep: g711.DecodeAlaw,
	}
	if mulaw {
		t.codec, t.keep = AudioPCMU, g711.DecodeMulaw
	}
	t.sig = fmt.Sprintf("%s/%d/%d", t.codec, rate, channels)
	return t
}

// psAudioTrack is the track of a program stream's audio frame, nil for a codec not kept.
func psAudioTrack(au *mpegps.AccessUnit) *audioTrack {
	switch au.Codec {
	case mpegps.CodecAAC:
		if au.SampleRate <= 0 || au.Channels <= 0 {
			return nil
		}
		return aacTrack(mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC,
			SampleRate: au.SampleRate, ChannelConfig: uint8(au.Channels), ChannelCount: au.Channels})
	case mpegps.CodecG711A, mpegps.CodecG711U:
		return g711Track(au.Codec == mpegps.CodecG711U, au.SampleRate, au.Channels)
	}
	return nil
}

// queuedAudio is an audio frame waiting for the video part it goes in.
type queuedAudio struct {
	t, d int64 // decode time on the stream's clock and duration, in rate units
	data []byte
}

// audioFrame takes one audio frame decoding at t (the stream's clock, in the track's rate
// units). Frames wait until the part they belong to ends, so that each part holds the audio of
// its own time. Times are kept contiguous: jitter smaller than half a frame is taken out, a
// frame overlapping the previous one is dropped, and a gap (packets lost) is filled by lengthening
// the frame before it, since a part's audio runs without holes from its first frame.
func (a *assembler) audioFrame(t int64, data []byte) {
	if a.audio == nil || !a.started || len(data) == 0 {
		return
	}
	d := a.audio.dur(data)
	if d <= 0 {
		return
	}
	if a.aSet {
		switch {
		case t < a.aEnd-d/2:
			return
		case t < a.aEnd+d/2:
			t = a.aEnd
		case len(a.aq) > 0:
			a.aq[len(a.aq)-1].d += t - a.aEnd
		}
	}
	if a.live != nil && a.audio.codec != AudioAAC {
		// AAC cannot go to a browser over WebRTC without transcoding, so no viewer takes it.
		a.live(Frame{Codec: a.audio.codec, PTS: t, Audio: true, NALUs: [][]byte{data}})
	}
	a.aq = append(a.aq, queuedAudio{t: t, d: d, data: data})
	a.aEnd, a.aSet = t+d, true
}

// audioPacket takes an RTP packet of the audio track apart.
func (a *assembler) audioPacket(pkt *rtp.Packet, pts int64) {
	if a.audio == nil || a.audio.decode == nil {
		return
	}
	frames, err := a.audio.decode(pkt)
	if err != nil {
		return
	}
	for _, f := range frames {
		a.audioFrame(pts, f)
		pts += a.audio.dur(f)
	}
}

// sendAudio hands the writer the waiting audio that decodes before cut (on the 90 kHz clock;
// all of it when cut is negative), for the part ending now; audio from before the segment's
// start, which arrived after its first keyframe, cannot be placed and is dropped.
func (a *assembler) sendAudio(cut int64) {
	if len(a.aq) == 0 {
		return
	}
	rate := int64(a.audio.rate)
	n := 0
	for n < len(a.aq) && (cut < 0 || a.aq[n].t*90000 < cut*rate) {
		n++
	}
	if n == 0 {
		return
	}
	if a.segAudio {
		start := a.segStart * rate / 90000
		out := make([]segment.AudioSample, 0, n)
		for _, q := range a.aq[:n] {
			if q.t < start {
				continue
			}
			out = append(out, segment.AudioSample{Time: uint64(q.t - start), Duration: uint32(q.d), Data: a.audio.keep(q.data)})
		}
		if len(out) > 0 {
			a.send(writeMsg{kind: msgAudio, audio: out})
		}
	}
	a.aq = append(a.aq[:0], a.aq[n:]...)
}
