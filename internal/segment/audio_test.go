package segment_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"civicam/internal/segment"
)

func audioInit(c fmp4.Codec, rate uint32) *fmp4.Init {
	in := testInit()
	in.Tracks = append(in.Tracks, &fmp4.InitTrack{ID: 2, TimeScale: rate, Codec: c})
	return in
}

// TestAudioRoundTrip: a part's audio is a second traf whose samples follow the video's in the
// mdat; mediacommon must read back every audio frame with its decode time and duration, Scan
// must take the segment as complete, and the audio given before a part's first video sample
// must go in that part.
func TestAudioRoundTrip(t *testing.T) {
	codecs := []struct {
		name  string
		codec fmp4.Codec
		rate  uint32
		dur   uint32
	}{
		{"aac", &fmp4.CodecMPEG4Audio{Config: mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 1, ChannelCount: 1}}, 48000, 1024},
		{"opus", &fmp4.CodecOpus{ChannelCount: 2}, 48000, 960},
		{"lpcm", &fmp4.CodecLPCM{BitDepth: 16, SampleRate: 8000, ChannelCount: 1}, 8000, 160},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			d := segment.NewDisk(root)
			f, err := d.Create("a.mp4")
			if err != nil {
				t.Fatal(err)
			}
			w, err := segment.NewWriter(f, audioInit(c.codec, c.rate))
			if err != nil {
				t.Fatal(err)
			}
			// Three parts; the second's audio comes while it is open and is more than its table
			// (twice the first part's 40) holds, so the writer must end it early rather than
			// overflow the room, and the rest go in the next.
			counts := []int{40, 300, 0}
			var next uint64 = 17 // the first frame decodes a little after the segment start
			var want [][]segment.AudioSample
			for p, n := range counts {
				if p == 1 {
					if err := w.WriteSample(testSamples()[0]); err != nil {
						t.Fatal(err)
					}
				}
				var got []segment.AudioSample
				for i := range n {
					a := segment.AudioSample{Time: next, Duration: c.dur, Data: bytes.Repeat([]byte{byte(p), byte(i)}, 10+i%7)}
					next += uint64(c.dur)
					got = append(got, a)
					if err := w.WriteAudio(a); err != nil {
						t.Fatalf("WriteAudio = %v", err)
					}
				}
				want = append(want, got)
				for i, s := range testSamples() {
					if p == 1 && i == 0 {
						continue
					}
					if err := w.WriteSample(s); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.EndPart(); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := w.Close(); err != nil {
				t.Fatal(err)
			}
			in, err := d.Scan("a.mp4")
			if err != nil {
				t.Fatalf("Scan = %v", err)
			}
			if err := in.Complete(); err != nil {
				t.Errorf("Complete() = %v", err)
			}
			raw, _ := os.ReadFile(filepath.Join(root, "a.mp4"))
			var parts fmp4.Parts
			if err := parts.Unmarshal(raw[in.InitSize:]); err != nil {
				t.Fatalf("Parts.Unmarshal = %v", err)
			}
			var flat []segment.AudioSample
			for _, g := range want {
				flat = append(flat, g...)
			}
			var read []segment.AudioSample
			for i, p := range parts {
				if len(p.Tracks) == 1 {
					continue
				}
				at := p.Tracks[1]
				if at.ID != 2 || in.Parts[i].AudioSamples != len(at.Samples) {
					t.Errorf("part %d audio track %d, %d frames; Scan says %d", i, at.ID, len(at.Samples), in.Parts[i].AudioSamples)
				}
				tm := at.BaseTime
				for _, s := range at.Samples {
					read = append(read, segment.AudioSample{Time: tm, Duration: s.Duration, Data: s.Payload})
					tm += uint64(s.Duration)
				}
			}
			if len(read) != len(flat) {
				t.Fatalf("read %d audio frames; wrote %d", len(read), len(flat))
			}
			for i := range flat {
				if read[i].Time != flat[i].Time || read[i].Duration != flat[i].Duration || !bytes.Equal(read[i].Data, flat[i].Data) {
					t.Fatalf("audio frame %d = %d+%d, %d bytes; want %d+%d, %d bytes", i, read[i].Time, read[i].Duration, len(read[i].Data),
						flat[i].Time, flat[i].Duration, len(flat[i].Data))
				}
			}
			if in.Parts[0].AudioSamples != counts[0] {
				t.Errorf("part 0 holds %d audio frames; want the %d given before its video", in.Parts[0].AudioSamples, counts[0])
			}
			if in.Parts[1].AudioSamples != 80 || in.Parts[1].Samples != 1 {
				t.Errorf("the second part holds %d video and %d audio frames; want 1 and 80, ended at its audio table's 80", in.Parts[1].Samples, in.Parts[1].AudioSamples)
			}
		})
	}
}

// TestAudioWithoutTrack: audio for a segment whose init has no audio track is refused.
func TestAudioWithoutTrack(t *testing.T) {
	d := segment.NewDisk(t.TempDir())
	f, err := d.Create("v.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w, err := segment.NewWriter(f, testInit())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteAudio(segment.AudioSample{Duration: 1024, Data: []byte{1}}); err == nil {
		t.Error("WriteAudio on a video-only segment = nil; want an error")
	}
}
