package recorder

import (
	"sync"
	"sync/atomic"
)

// Live viewers are fed from the recorder's own connection to the camera (one RTSP session per
// camera, however many watch): each access unit the assembler accepts is also offered to the
// camera's subscribers. Offering never blocks: a subscriber whose buffer is full loses the frame
// and then everything up to the next keyframe, so a slow viewer costs the recording nothing and
// sees a clean picture again at the next keyframe rather than a smeared one.
//
// The current group of pictures is cached, so that a viewer joining a camera sees a picture at
// once instead of waiting up to a whole group for the next keyframe. A watched camera always
// keeps its group (at most maxCachedGOP); cameras nobody watches keep theirs only while all such
// groups together fit Config.LiveCache: a group is up to a megabyte of video, and holding one for
// every recorded camera would be most of the recorder's memory (issue 4: at most 1 MiB per
// stream). A camera that finds the budget spent drops its group and starts its first viewer at
// the next keyframe, as every camera did before.

// Frame is one access unit of a camera's video as it arrived, for live viewers.
type Frame struct {
	Codec string // "H264" or "H265"; for audio, the Audio codec name ("Opus", "PCMA", …)
	// Audio marks a frame of the camera's audio: NALUs holds its one frame as the camera sent it
	// (G.711 not expanded), PTS is on the audio's own clock (its sample rate), and it never
	// starts or ends a group of pictures.
	Audio bool
	PTS   int64 // presentation time on the stream's 90 kHz clock
	// Key marks a random access point; its NALUs begin with the parameter sets (SPS and PPS,
	// and VPS for H.265), so a decoder can start there.
	Key bool
	// NALUs are shared with the recorder and every other viewer: read them, never modify them.
	NALUs [][]byte
}

// DefaultLiveBuffer is a subscriber's buffer when Subscribe is given none: about ten seconds of
// 25 fps video, enough for a whole cached group of pictures plus a network hiccup.
const DefaultLiveBuffer = 256

// DefaultLiveCache is Config.LiveCache when zero.
const DefaultLiveCache = 64 << 20

// maxCachedGOP bounds the bytes of the last group of pictures kept for viewers who join between
// keyframes; a longer group is dropped and such viewers wait for the next keyframe instead.
const maxCachedGOP = 1 << 20

// Subscription is one live viewer's feed from a camera.
type Subscription struct {
	// C delivers the camera's frames, starting at a keyframe. It is never closed: stop reading
	// after Close.
	C <-chan Frame
	// Backlog is how many of the first frames on C are the camera's cached group of pictures,
	// already past when the subscription began (zero when it starts at the next keyframe).
	Backlog int

	ch       chan Frame
	fan      *fanout
	waitKey  bool // guarded by fan.mu: skip until a keyframe (at the start and after a drop)
	dropped  atomic.Uint64
	closeOne sync.Once
}

// Dropped counts frames this subscriber lost because it did not keep up.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription; frames already buffered stay readable.
func (s *Subscription) Close() {
	s.closeOne.Do(func() { s.fan.hub.remove(s.fan, s) })
}

// liveHub holds the fan-outs by camera; its zero value is ready and caches the groups of
// watched cameras only.
type liveHub struct {
	mu   sync.Mutex
	fans map[string]*fanout

	budget int64        // bytes the groups of unwatched cameras may hold together
	cached atomic.Int64 // bytes of every camera's cached group, watched or not
}

// reserve accounts size more bytes of a cached group; a camera nobody watches gets them only
// within the budget.
func (h *liveHub) reserve(size int, watched bool) bool {
	if watched {
		h.cached.Add(int64(size))
		return true
	}
	for {
		c := h.cached.Load()
		if c+int64(size) > h.budget {
			return false
		}
		if h.cached.CompareAndSwap(c, c+int64(size)) {
			return true
		}
	}
}

// fanout is one camera's subscribers and its last group of pictures.
type fanout struct {
	hub      *liveHub
	cameraID string

	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	gop      []Frame
	gopBytes int
}

// get returns the camera's fan-out, creating it.
func (h *liveHub) get(cameraID string) *fanout {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fans == nil {
		h.fans = map[string]*fanout{}
	}
	f := h.fans[cameraID]
	if f == nil {
		f = &fanout{hub: h, cameraID: cameraID, subs: map[*Subscription]struct{}{}}
		h.fans[cameraID] = f
	}
	return f
}

func (h *liveHub) remove(f *fanout, s *Subscription) {
	f.mu.Lock()
	delete(f.subs, s)
	if len(f.subs) == 0 && h.cached.Load() > h.budget {
		// Watched cameras may have taken the budget of the unwatched: the last viewer's camera
		// gives its group back rather than keep more than the budget.
		f.forget()
	}
	f.mu.Unlock()
}

// forget drops the cached group and its bytes from the hub's account; f.mu is held. The
// backing array is cleared too, so that it pins no old frame's NALUs.
func (f *fanout) forget() {
	f.hub.cached.Add(-int64(f.gopBytes))
	clear(f.gop)
	f.gop, f.gopBytes = f.gop[:0], 0
	if cap(f.gop) > 4*DefaultLiveBuffer {
		f.gop = nil
	}
}

// Subscribe feeds a live viewer from camera cameraID's recording connection, starting with the
// current group of pictures when it is cached (so the picture appears at once; Backlog says
// how many frames that is) or else at the next keyframe. buffer is the number of frames held for the
// viewer (DefaultLiveBuffer when zero or less). A camera that is not being recorded yet delivers nothing until it is; callers
// check Status to refuse those. Close the subscription when done.
func (r *Recorder) Subscribe(cameraID string, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultLiveBuffer
	}
	f := r.live.get(cameraID)
	s := &Subscription{ch: make(chan Frame, buffer), fan: f, waitKey: true}
	s.C = s.ch
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.gop) > 0 && len(f.gop) < buffer {
		for _, fr := range f.gop {
			s.ch <- fr
		}
		s.Backlog = len(f.gop)
		s.waitKey = false
	}
	f.subs[s] = struct{}{}
	return s
}

// publisher returns the function the assembler calls with each access unit of cameraID.
func (h *liveHub) publisher(cameraID string) func(Frame) {
	f := h.get(cameraID)
	return f.publish
}

// publish offers one frame to the viewers and caches it (see the budget above); it never blocks.
func (f *fanout) publish(fr Frame) {
	size := 0
	for _, n := range fr.NALUs {
		size += len(n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fr.Audio {
		// Not cached (a viewer's backlog is pictures sent at once, and audio played that fast is
		// noise) and never a reason to skip to the next keyframe: a viewer without room loses
		// the frame alone.
		for s := range f.subs {
			if s.waitKey {
				continue
			}
			select {
			case s.ch <- fr:
			default:
				s.dropped.Add(1)
			}
		}
		return
	}
	if fr.Key {
		f.forget()
	}
	if (fr.Key || len(f.gop) > 0) && f.gopBytes+size <= maxCachedGOP && len(f.gop) < DefaultLiveBuffer &&
		f.hub.reserve(size, len(f.subs) > 0) {
		f.gop = append(f.gop, fr)
		f.gopBytes += size
	} else if len(f.gop) > 0 {
		// Too long a group to start a viewer from, or no budget left: newcomers wait for the
		// next keyframe.
		f.forget()
	}
	for s := range f.subs {
		if s.waitKey && !fr.Key {
			s.dropped.Add(1)
			continue
		}
		select {
		case s.ch <- fr:
			s.waitKey = false
		default:
			s.dropped.Add(1)
			s.waitKey = true
		}
	}
}

// interrupt forgets the cached group when the camera's connection ends: a viewer joining while
// the camera is away must not be shown a stale picture as live. Subscribers stay, and resume at
// the first keyframe of the next connection.
func (h *liveHub) interrupt(cameraID string) {
	f := h.get(cameraID)
	f.mu.Lock()
	f.forget()
	for s := range f.subs {
		s.waitKey = true
	}
	f.mu.Unlock()
}

func (a *assembler) codecName() string {
	if a.h265 {
		return "H265"
	}
	return "H264"
}
