package recorder_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"civicam/internal/export"
	"civicam/internal/playback"
	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/rtsptest"
	"civicam/internal/segment"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestRecordAudio: a camera's audio was dropped silently, recorded as video only. An RTSP source
// made by ffmpeg (libx264 with AAC, Opus or G.711, packetised by ffmpeg) must be recorded with its
// audio beside the video in the same segments, the status naming the codec, and the segment, a
// playback of the middle of the recording and an export of it must each hold the audio stream
// with the right codec, decoding strictly.
func TestRecordAudio(t *testing.T) {
	if testing.Short() {
		t.Skip("records several seconds of each camera")
	}
	rtsptest.NeedFFmpeg(t)
	tests := []struct {
		audio     rtsptest.Audio
		status    string // Status.AudioCodec
		ffprobe   string // the audio stream's codec in the MP4s
		transport recorder.Transport
	}{
		{rtsptest.AAC, recorder.AudioAAC, "aac", recorder.TransportTCP},
		{rtsptest.Opus, recorder.AudioOpus, "opus", recorder.TransportTCP},
		{rtsptest.PCMA, recorder.AudioPCMA, "pcm_s16be", recorder.TransportTCP},
		{rtsptest.PCMU, recorder.AudioPCMU, "pcm_s16be", recorder.TransportTCP},
		{rtsptest.None, "", "", recorder.TransportTCP},
	}
	for _, tt := range tests {
		t.Run(cmp.Or(string(tt.audio), "none"), func(t *testing.T) {
			url := rtsptest.Camera(t, rtsptest.Clip(t, tt.audio, 4))
			d := segment.NewDisk(t.TempDir())
			db := storetest.SQLite(t)
			r := startRecorder(t, recorder.Config{SegmentLength: 3 * time.Second}, d, db,
				[]recorder.Camera{{ID: "cam1", SourceURL: url, Transport: tt.transport}})
			waitFor(t, "two sealed segments", func() bool {
				st, ok := r.rec.Status("cam1")
				return ok && st.Segments >= 2
			})
			st, _ := r.rec.Status("cam1")
			if st.AudioCodec != tt.status || st.Codec != "H264" {
				t.Errorf("Status codecs = %q, audio %q; want H264, audio %q", st.Codec, st.AudioCodec, tt.status)
			}
			r.stop(t)
			segs := checkSegments(t, d, db, "cam1")

			wantStreams := func(what, path string) {
				t.Helper()
				var video, audio []string
				for _, s := range rtsptest.Probe(t, path) {
					switch s.Type {
					case "video":
						video = append(video, s.Codec)
					case "audio":
						audio = append(audio, s.Codec)
					}
				}
				wantAudio := []string{tt.ffprobe}
				if tt.ffprobe == "" {
					wantAudio = nil
				}
				if len(video) != 1 || video[0] != "h264" || !equal(audio, wantAudio) {
					t.Errorf("ffprobe of the %s: video %v, audio %v; want [h264], audio %v", what, video, audio, wantAudio)
				}
				if err := rtsptest.DecodeStrictly(path); err != nil {
					t.Errorf("the %s: %v", what, err)
				}
			}
			for si, s := range segs {
				p, _ := d.Path(s.Path)
				wantStreams("segment "+s.Path, p)
				in, err := d.Scan(s.Path)
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range in.Parts {
					// The recording's very last part, cut when the recorder stopped, may be shorter
					// than one of ffmpeg's G.711 packets (175 ms).
					last := si == len(segs)-1 && i == len(in.Parts)-1
					if has := p.AudioSamples > 0; has != (tt.audio != rtsptest.None) && !(last && !has) {
						t.Errorf("segment %s part %d holds %d audio frames; want audio %v", s.Path, i, p.AudioSamples, !has)
					}
				}
			}

			// From the middle of the first segment to the middle of the last: starting off a
			// segment's first part, across a segment boundary.
			from := segs[0].Start.Add(segs[0].End.Sub(segs[0].Start) / 2)
			to := segs[len(segs)-1].Start.Add(time.Second)
			plan, err := playback.New(playback.Config{}, playback.Deps{Index: db, Files: d}).Plan(context.Background(), "cam1", from, to)
			if err != nil {
				t.Fatalf("Plan = %v", err)
			}
			defer plan.Close()
			var mp4 bytes.Buffer
			if _, err := plan.WriteTo(&mp4); err != nil {
				t.Fatal(err)
			}
			lay, err := playback.Inspect(bytes.NewReader(mp4.Bytes()), int64(mp4.Len()))
			if err != nil {
				t.Fatalf("Inspect(playback) = %v", err)
			}
			if err := lay.Check(); err != nil {
				t.Errorf("playback Check() = %v", err)
			}
			wantStreams("playback", rtsptest.WriteFile(t, "play.mp4", mp4.Bytes()))

			key, _, err := trace.GenerateKey("test.civicam/trace")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			svc := export.New(export.Config{Dir: dir}, export.Deps{Files: d, Key: export.Signer{Signer: key.Signer(), Verifier: key.VerifierKey()}})
			m, err := svc.Create(context.Background(), plan, export.Manifest{ID: registry.NewID(), CameraID: "cam1", Purpose: "audio check",
				Exporter: export.Exporter{UserID: "u1", Username: "op"}, CreatedAt: time.Now().UTC(), TraceSeq: 1})
			if err != nil {
				t.Fatalf("export Create = %v", err)
			}
			_, f, err := svc.Open(m.ID)
			if err != nil {
				t.Fatal(err)
			}
			zb, _ := io.ReadAll(f)
			f.Close()
			if _, probs := export.Verify(bytes.NewReader(zb), int64(len(zb)), key.VerifierKey()); probs != nil {
				t.Errorf("export Verify = %v", probs)
			}
			zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
			if err != nil {
				t.Fatal(err)
			}
			vf, err := zr.Open(export.VideoName)
			if err != nil {
				t.Fatal(err)
			}
			vb, _ := io.ReadAll(vf)
			vp := filepath.Join(t.TempDir(), "export.mp4")
			if err := os.WriteFile(vp, vb, 0o644); err != nil {
				t.Fatal(err)
			}
			wantStreams("export", vp)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
