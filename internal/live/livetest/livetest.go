// Package livetest is the live view's test kit: a WHEP viewer for tests and benchmarks — a pion
// PeerConnection on loopback that offers to receive H.264 (in the profiles Chrome offers, or those
// a test names) and, if asked, H.265, and turns the RTP it receives back into access units, as a
// browser's depacketiser would, so tests can check what a viewer could decode — and the Rig it
// watches (a simulated camera, recorded, feeding a live service).
package livetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// AccessUnit is one received frame.
type AccessUnit struct {
	Codec    string // "H264" or "H265"
	NALUs    [][]byte
	RTPTime  uint32
	Received time.Time
}

// Key reports whether the unit is an IDR that carries its SPS and PPS, so decoding can start
// there.
func (au AccessUnit) Key() bool {
	if au.Codec == "H265" {
		return h265.IsRandomAccess(au.NALUs)
	}
	var sps, pps bool
	for _, n := range au.NALUs {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = true
		case h264.NALUTypePPS:
			pps = true
		}
	}
	return sps && pps && h264.IsRandomAccess(au.NALUs)
}

// Viewer is a receive-only WebRTC peer.
type Viewer struct {
	PC    *webrtc.PeerConnection
	Offer string
	// Candidates, with Options.Trickle, delivers the viewer's own candidates as
	// trickle-ice-sdpfrag lines ("a=candidate:…"), then "a=end-of-candidates"; nil otherwise.
	Candidates <-chan string
	// Codec is the codec of the track received, once it has started ("H264" or "H265").
	Codec  chan string
	aus    chan AccessUnit
	closed chan struct{}
	once   sync.Once
}

// ChromeH264 are the H.264 profile-level-ids Chrome offers, in its order: Constrained Baseline
// and Baseline, Main, Constrained High and High.
var ChromeH264 = []string{"42001f", "42e01f", "4d001f", "640c1f", "64001f"}

// Options shape a viewer's offer.
type Options struct {
	// H264 are the profile-level-ids offered; nil means ChromeH264.
	H264 []string
	// H265 also offers H.265 (as Safari and recent Chrome do), first.
	H265 bool
	// Trickle returns the offer at once, without candidates, which follow on Candidates.
	Trickle bool
}

// NewViewer builds a viewer as Chrome would, with its complete offer (all candidates gathered,
// on 127.0.0.1).
func NewViewer(ctx context.Context) (*Viewer, error) { return NewViewerWith(ctx, Options{}) }

// NewViewerWith builds a viewer offering what o says.
func NewViewerWith(ctx context.Context, o Options) (*Viewer, error) {
	if o.H264 == nil {
		o.H264 = ChromeH264
	}
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	pt := webrtc.PayloadType(100)
	if o.H265 {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000,
				SDPFmtpLine: "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST", RTCPFeedback: fb},
			PayloadType: pt,
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
		pt++
	}
	for _, p := range o.H264 {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + p, RTCPFeedback: fb},
			PayloadType: pt,
		}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
		pt++
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	v := &Viewer{PC: pc, Codec: make(chan string, 1), aus: make(chan AccessUnit, 1024), closed: make(chan struct{})}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		pc.Close()
		return nil, err
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			v.once.Do(func() { close(v.closed) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		codec, decode, err := depacketizer(tr.Codec().MimeType)
		if err != nil {
			return
		}
		v.Codec <- codec
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				// The sender closing its side (DTLS close_notify, SRTP ended) ends the reads.
				v.once.Do(func() { close(v.closed) })
				return
			}
			au, err := decode(pkt)
			if err != nil {
				continue
			}
			select {
			case v.aus <- AccessUnit{Codec: codec, NALUs: au, RTPTime: pkt.Timestamp, Received: time.Now()}:
			default: // the test stopped reading; keep draining the track
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		pc.Close()
		return nil, err
	}
	if o.Trickle {
		cands := make(chan string, 64)
		v.Candidates = cands
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				cands <- "a=end-of-candidates"
				return
			}
			cands <- "a=" + c.ToJSON().Candidate
		})
		if err := pc.SetLocalDescription(offer); err != nil {
			pc.Close()
			return nil, err
		}
		v.Offer = offer.SDP
		return v, nil
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		pc.Close()
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		pc.Close()
		return nil, ctx.Err()
	}
	v.Offer = pc.LocalDescription().SDP
	return v, nil
}

// Accept applies the server's answer; media starts once ICE and DTLS complete.
func (v *Viewer) Accept(answer string) error {
	return v.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
}

// Next returns the next received access unit.
func (v *Viewer) Next(ctx context.Context) (AccessUnit, error) {
	select {
	case au := <-v.aus:
		return au, nil
	case <-v.closed:
		// what arrived before the close is still delivered
		select {
		case au := <-v.aus:
			return au, nil
		default:
		}
		return AccessUnit{}, ErrClosed
	case <-ctx.Done():
		return AccessUnit{}, fmt.Errorf("waiting for a frame: %w", ctx.Err())
	}
}

// NextKey returns the next access unit a decoder could start at (Key), passing over the others.
func (v *Viewer) NextKey(ctx context.Context) (AccessUnit, error) {
	for {
		au, err := v.Next(ctx)
		if err != nil || au.Key() {
			return au, err
		}
	}
}

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("livetest: connection closed")

// Closed is closed when the connection ends (the server closed it, or it failed).
func (v *Viewer) Closed() <-chan struct{} { return v.closed }

// Close ends the viewer; its track reader ends with the connection.
func (v *Viewer) Close() error { return v.PC.Close() }

// depacketizer returns the codec name and RTP depacketiser for a track's MIME type.
func depacketizer(mime string) (string, func(*rtp.Packet) ([][]byte, error), error) {
	switch mime {
	case webrtc.MimeTypeH265:
		dec := &rtph265.Decoder{}
		if err := dec.Init(); err != nil {
			return "", nil, err
		}
		return "H265", dec.Decode, nil
	default:
		dec := &rtph264.Decoder{PacketizationMode: 1}
		if err := dec.Init(); err != nil {
			return "", nil, err
		}
		return "H264", dec.Decode, nil
	}
}
