package simcam

import "testing"

func TestClipWithBitrate(t *testing.T) {
	for _, codec := range []Codec{H264, H265} {
		t.Run(string(codec), func(t *testing.T) {
			cl, err := LoadClip(codec)
			if err != nil {
				t.Fatal(err)
			}
			if got := cl.WithBitrate(cl.Bitrate / 2); got != cl {
				t.Errorf("WithBitrate(%d) below the clip's %d is a new clip; want the clip itself", cl.Bitrate/2, cl.Bitrate)
			}
			const want = 4_000_000
			padded := cl.WithBitrate(want)
			var bytes int64
			for _, au := range padded.AccessUnits {
				for _, n := range au {
					bytes += int64(len(n)) + 4
				}
			}
			sent := bytes * 8 * clipFPS / int64(len(padded.AccessUnits))
			if sent < want*98/100 || sent > want*102/100 {
				t.Errorf("WithBitrate(%d) sends %d bit/s; want within 2%%", want, sent)
			}
			if padded.Bitrate < want*98/100 || padded.Bitrate > want*102/100 {
				t.Errorf("WithBitrate(%d).Bitrate = %d; want within 2%%", want, padded.Bitrate)
			}
			for i, au := range padded.AccessUnits {
				if len(au) != len(cl.AccessUnits[i])+1 {
					t.Fatalf("access unit %d has %d NAL units; want the clip's %d and a filler", i, len(au), len(cl.AccessUnits[i]))
				}
			}
		})
	}
}
