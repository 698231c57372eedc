package recorder

import (
	"civicam/internal/clocktest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// TestLiveViewersDoNotChangeRecording feeds the same clip to two assemblers, one with no viewer
// and one whose camera has a viewer that reads everything and one that never reads: the parts
// handed to the writer are identical, the feed never waits for the stuck viewer, and the stuck
// viewer is told what it lost.
func TestLiveViewersDoNotChangeRecording(t *testing.T) {
	aus := clipAUs(t)
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

	clkA := clocktest.New(start)
	plain := newTestAssembler(t, clkA)
	want := feed(t, plain, clkA, aus, 0, 250, 1000, 0)

	r := New(Config{}, Deps{})
	fast := r.Subscribe("cam", 1000)
	stuck := r.Subscribe("cam", 4)
	clkB := clocktest.New(start)
	watched := newTestAssembler(t, clkB)
	watched.live = r.live.publisher("cam")
	got := feed(t, watched, clkB, aus, 0, 250, 1000, 0)

	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parts written with viewers differ from the parts written without (%d vs %d parts)", len(got), len(want))
	}
	if n := len(fast.C); n != 250 {
		t.Errorf("reading viewer got %d frames; want all 250", n)
	}
	if stuck.Dropped() == 0 || len(stuck.C) != 4 {
		t.Errorf("stuck viewer: %d buffered, %d dropped; want 4 buffered and the rest dropped", len(stuck.C), stuck.Dropped())
	}
	fast.Close()
	stuck.Close()
}

func isKeyWithParams(fr Frame) bool {
	var sps, pps bool
	for _, n := range fr.NALUs {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = true
		case h264.NALUTypePPS:
			pps = true
		}
	}
	return fr.Key && sps && pps && h264.IsRandomAccess(fr.NALUs)
}

// drain returns what is buffered for s.
func drain(s *Subscription) []Frame {
	var out []Frame
	for {
		select {
		case fr := <-s.C:
			out = append(out, fr)
		default:
			return out
		}
	}
}

// TestSubscribeStartsAtKeyframe: whenever a viewer joins or falls behind, the next frame it gets
// is a keyframe carrying its parameter sets, and what follows is the stream in order.
func TestSubscribeStartsAtKeyframe(t *testing.T) {
	aus := clipAUs(t) // IDR every 25 frames
	tests := []struct {
		name      string
		watched   bool // another viewer watches from the start
		before    int  // frames published before subscribing
		interrupt bool // the connection ends after those frames
		buffer    int
		after     int // frames published after subscribing
		wantFirst int64
		wantCount int
		cache     int64 // Config.LiveCache
	}{
		{"before the first frame", false, 0, false, 100, 30, 0, 30, 0},
		{"mid group, first viewer, no cache for unwatched cameras: next keyframe", false, 10, false, 100, 30, 25, 15, -1},
		{"mid group, first viewer: the cached group first", false, 10, false, 100, 30, 0, 40, 0},
		{"mid group, first viewer, budget smaller than the group: next keyframe", false, 10, false, 100, 30, 25, 15, 1000},
		{"mid group, camera watched: the cached group first", true, 10, false, 100, 30, 0, 40, 0},
		{"mid group, camera watched, no cache for unwatched cameras: the cached group first", true, 10, false, 100, 30, 0, 40, -1},
		{"just after a keyframe, camera watched", true, 26, false, 100, 5, 25, 6, 0},
		{"after the connection ended: next keyframe", true, 10, true, 100, 30, 25, 15, 0},
		{"after the connection ended, first viewer: next keyframe", false, 10, true, 100, 30, 25, 15, 0},
		{"group longer than the buffer: next keyframe", true, 10, false, 5, 20, 25, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Config{LiveCache: tc.cache}, Deps{})
			pub := r.live.publisher("cam")
			clk := clocktest.New(time.Now())
			a := newTestAssembler(t, clk)
			a.live = pub
			a.out = make(chan writeMsg, 10000)
			if tc.watched {
				other := r.Subscribe("cam", 1000)
				defer other.Close()
			}
			for i := 0; i < tc.before; i++ {
				a.accessUnit(aus[i], int64(i)*3600)
			}
			if tc.interrupt {
				r.live.interrupt("cam")
			}
			s := r.Subscribe("cam", tc.buffer)
			defer s.Close()
			for i := tc.before; i < tc.before+tc.after; i++ {
				a.accessUnit(aus[i], int64(i)*3600)
			}
			got := drain(s)
			if len(got) != tc.wantCount {
				t.Fatalf("viewer got %d frames; want %d", len(got), tc.wantCount)
			}
			if wantBacklog := max(tc.wantCount-tc.after, 0); s.Backlog != wantBacklog {
				t.Errorf("Backlog = %d; want %d", s.Backlog, wantBacklog)
			}
			if !isKeyWithParams(got[0]) {
				t.Errorf("first frame is not a keyframe with SPS and PPS: key=%v, %d NALUs", got[0].Key, len(got[0].NALUs))
			}
			if got[0].PTS != tc.wantFirst*3600 {
				t.Errorf("first frame PTS = %d; want %d", got[0].PTS, tc.wantFirst*3600)
			}
			for i := 1; i < len(got); i++ {
				if got[i].PTS != got[i-1].PTS+3600 {
					t.Fatalf("frame %d PTS = %d after %d; want the next frame", i, got[i].PTS, got[i-1].PTS)
				}
			}
		})
	}
}

// TestSlowViewerResumesAtKeyframe: a viewer that fell behind loses frames up to the next
// keyframe, never a reference frame in the middle of a group.
func TestSlowViewerResumesAtKeyframe(t *testing.T) {
	aus := clipAUs(t)
	r := New(Config{}, Deps{})
	a := newTestAssembler(t, clocktest.New(time.Now()))
	a.live = r.live.publisher("cam")
	a.out = make(chan writeMsg, 10000)
	s := r.Subscribe("cam", 3)
	defer s.Close()
	for i := 0; i < 10; i++ { // fills the buffer, then drops
		a.accessUnit(aus[i], int64(i)*3600)
	}
	if got := drain(s); len(got) != 3 || got[0].PTS != 0 {
		t.Fatalf("slow viewer buffered %d frames; want the first 3", len(got))
	}
	for i := 10; i < 30; i++ {
		a.accessUnit(aus[i], int64(i)*3600)
	}
	got := drain(s)
	if len(got) == 0 || !isKeyWithParams(got[0]) || got[0].PTS != 25*3600 {
		t.Fatalf("after falling behind the viewer got %d frames starting at PTS %v; want the keyframe at %d", len(got), firstPTS(got), 25*3600)
	}
	if s.Dropped() != 24 {
		t.Errorf("Dropped() = %d; want 24 (frames 3..24, then 28 and 29 with the buffer full again)", s.Dropped())
	}
}

func firstPTS(fs []Frame) any {
	if len(fs) == 0 {
		return "none"
	}
	return fs[0].PTS
}

// BenchmarkAssemblerLive is the recorder's per-frame cost of the live fan-out: the assembler
// alone, with the hook and no viewer (every recorded camera), and with one and with ten viewers
// reading, side by side.
func BenchmarkAssemblerLive(b *testing.B) {
	aus := clipAUs(b)
	for _, tc := range []struct {
		name    string
		hook    bool
		viewers int
	}{{"no-hook", false, 0}, {"hook-no-viewer", true, 0}, {"hook-1-viewer", true, 1}, {"hook-10-viewers", true, 10}} {
		b.Run(tc.name, func(b *testing.B) {
			r := New(Config{}, Deps{})
			a, err := newAssembler(&format.H264{PayloadTyp: 96, PacketizationMode: 1}, time.Second, time.Minute, time.Now)
			if err != nil {
				b.Fatal(err)
			}
			out := make(chan writeMsg, writeQueue)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range out {
				}
			}()
			a.out = out
			if tc.hook {
				a.live = r.live.publisher("cam")
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for range tc.viewers {
				s := r.Subscribe("cam", 0)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer s.Close()
					for {
						select {
						case <-s.C:
						case <-stop:
							return
						}
					}
				}()
			}
			i := 0
			for b.Loop() {
				a.accessUnit(aus[i%len(aus)], int64(i)*3600)
				i++
			}
			close(stop)
			wg.Wait()
			close(out)
			<-done
		})
	}
}

// TestNoViewerNoCache: with no cache for unwatched cameras (LiveCache < 0), a camera nobody
// watches keeps no group of pictures, and one whose last viewer left lets its cached group go;
// only a watched camera holds one.
func TestNoViewerNoCache(t *testing.T) {
	aus := clipAUs(t)
	r := New(Config{LiveCache: -1}, Deps{})
	a := newTestAssembler(t, clocktest.New(time.Now()))
	a.live = r.live.publisher("cam")
	a.out = make(chan writeMsg, 10000)
	f := r.live.get("cam")
	cached := func() (int, int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.gop), f.gopBytes
	}
	for i := range 10 {
		a.accessUnit(aus[i], int64(i)*3600)
	}
	if n, b := cached(); n != 0 || b != 0 {
		t.Errorf("unwatched camera caches %d frames, %d bytes; want none", n, b)
	}
	s := r.Subscribe("cam", 100)
	for i := 10; i < 30; i++ {
		a.accessUnit(aus[i], int64(i)*3600)
	}
	if n, _ := cached(); n != 5 {
		t.Errorf("watched camera caches %d frames; want 5 (frames 25 to 29)", n)
	}
	s.Close()
	if n, b := cached(); n != 0 || b != 0 {
		t.Errorf("after the last viewer left, %d frames, %d bytes cached; want none", n, b)
	}
}

// TestLiveCacheBudget: cameras nobody watches keep their current group only while all such
// groups fit the budget, a watched camera keeps its group whatever the budget, and the hub's
// account of cached bytes is back to zero once every camera's connection ended.
func TestLiveCacheBudget(t *testing.T) {
	aus := clipAUs(t) // IDR every 25 frames
	groupBytes := 0
	for _, au := range aus[:25] {
		for _, n := range au {
			groupBytes += len(n)
		}
	}
	r := New(Config{LiveCache: int64(groupBytes*2 + groupBytes/2)}, Deps{}) // two groups and a half
	cams := []string{"a", "b", "c", "d"}
	asm := map[string]*assembler{}
	for _, c := range cams {
		a := newTestAssembler(t, clocktest.New(time.Now()))
		a.live = r.live.publisher(c)
		a.out = make(chan writeMsg, 10000)
		asm[c] = a
	}
	watched := r.Subscribe("d", 1000)
	defer watched.Close()
	// Each camera publishes a whole group, one camera after another; d is watched.
	for _, c := range cams {
		for i := range 25 {
			asm[c].accessUnit(aus[i], int64(i)*3600)
		}
	}
	cached := func(c string) int {
		f := r.live.get(c)
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.gopBytes
	}
	for _, tc := range []struct {
		cam  string
		want int
	}{{"a", groupBytes}, {"b", groupBytes}, {"c", 0}, {"d", groupBytes}} {
		if got := cached(tc.cam); got != tc.want {
			t.Errorf("camera %s caches %d bytes; want %d", tc.cam, got, tc.want)
		}
	}
	if got, want := r.live.cached.Load(), int64(3*groupBytes); got != want {
		t.Errorf("hub accounts %d cached bytes; want %d", got, want)
	}
	// The watched camera's last viewer leaves while the hub is over budget: its group goes.
	watched.Close()
	if got := cached("d"); got != 0 {
		t.Errorf("camera d caches %d bytes after its last viewer left over budget; want 0", got)
	}
	for _, c := range cams {
		r.live.interrupt(c)
	}
	if got := r.live.cached.Load(); got != 0 {
		t.Errorf("hub accounts %d cached bytes after every connection ended; want 0", got)
	}
}
