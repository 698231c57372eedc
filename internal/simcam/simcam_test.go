package simcam

import (
	"context"
	"errors"
	"testing"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"4M", 4_000_000, false},
		{"1.5m", 1_500_000, false},
		{"500k", 500_000, false},
		{"2000000", 2_000_000, false},
		{"", 0, true},
		{"fast", 0, true},
		{"-1M", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseBitrate(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseBitrate(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestClips(t *testing.T) {
	for _, c := range []Codec{H264, H265} {
		t.Run(string(c), func(t *testing.T) {
			cl, err := loadClip(c)
			if err != nil {
				t.Fatalf("loadClip = %v", err)
			}
			if len(cl.aus) != 100 {
				t.Errorf("clip has %d access units; want 100 (4 s at 25 fps)", len(cl.aus))
			}
			for i, key := range cl.keyframeAt {
				if key != (i%25 == 0) {
					t.Errorf("access unit %d keyframe = %v; want one keyframe every 25", i, key)
				}
			}
			var w, h int
			if c == H264 {
				var sps h264.SPS
				if err := sps.Unmarshal(cl.sps); err != nil {
					t.Fatalf("SPS = %v", err)
				}
				w, h = sps.Width(), sps.Height()
			} else {
				var sps h265.SPS
				if err := sps.Unmarshal(cl.sps); err != nil {
					t.Fatalf("SPS = %v", err)
				}
				w, h = sps.Width(), sps.Height()
			}
			if w != 640 || h != 360 {
				t.Errorf("picture %dx%d; want 640x360", w, h)
			}
			if cl.bitrate < 100_000 || cl.bitrate > 1_000_000 {
				t.Errorf("clip bitrate %d; want about 500000", cl.bitrate)
			}
			f := filler(c, 100)
			if len(f) != 100 || naluType(c, f) != map[Codec]int{H264: 12, H265: 38}[c] || f[99] != 0x80 {
				t.Errorf("filler(%s, 100) = type %d, %d bytes, last %x; want a filler NAL unit ending in 0x80", c, naluType(c, f), len(f), f[99])
			}
		})
	}
}

func describe(addr, path string) error {
	u, err := base.ParseURL("rtsp://" + addr + path)
	if err != nil {
		return err
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
	if err := c.Start(); err != nil {
		return err
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	return err
}

func TestSetOnline(t *testing.T) {
	s := New(Config{Listen: "127.0.0.1:0", Count: 2}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run = %v", err)
	}
	notFound := func(err error) bool {
		var bad liberrors.ErrClientBadStatusCode
		return errors.As(err, &bad) && bad.Code == base.StatusNotFound
	}
	if err := describe(s.Addr(), "/cam/2"); err != nil {
		t.Fatalf("DESCRIBE /cam/2 = %v", err)
	}
	if err := describe(s.Addr(), "/cam/3"); !notFound(err) {
		t.Errorf("DESCRIBE /cam/3 = %v; want 404", err)
	}
	if err := s.SetOnline(2, false); err != nil {
		t.Fatal(err)
	}
	if err := describe(s.Addr(), "/cam/2"); !notFound(err) {
		t.Errorf("DESCRIBE /cam/2 while offline = %v; want 404", err)
	}
	if err := describe(s.Addr(), "/cam/1"); err != nil {
		t.Errorf("DESCRIBE /cam/1 while 2 is offline = %v", err)
	}
	if err := s.SetOnline(2, true); err != nil {
		t.Fatal(err)
	}
	if err := describe(s.Addr(), "/cam/2"); err != nil {
		t.Errorf("DESCRIBE /cam/2 back online = %v", err)
	}
	if err := s.SetOnline(3, true); err == nil {
		t.Errorf("SetOnline(3) = nil; want an error for a camera that does not exist")
	}
}
