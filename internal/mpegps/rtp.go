package mpegps

import (
	"fmt"

	"github.com/pion/rtp"
)

// PayloadType is the RTP payload type GB/T 28181 gives PS/90000.
const PayloadType = 96

// Sink takes a program stream in pieces and hears of the gaps in it; *Demuxer is one.
type Sink interface {
	Write(p []byte) (int, error)
	Discontinuity()
}

// DepacketizerStats counts what a Depacketizer met.
type DepacketizerStats struct {
	Packets int // packets passed on
	Lost    int // packets missing by sequence number
	Late    int // packets older than one already passed on, dropped
	Resets  int // SSRC changes
}

// Depacketizer turns RTP packets of a PS/90000 stream into the program stream they carry:
// payloads are concatenated in sequence order, and a gap tells the sink to resynchronise.
// Some devices send SSRC 0 or change it; the SSRC is not checked, only followed.
// It is not safe for concurrent use.
type Depacketizer struct {
	sink    Sink
	started bool
	ssrc    uint32
	next    uint16
	stats   DepacketizerStats
}

// NewDepacketizer returns a depacketizer feeding sink.
func NewDepacketizer(sink Sink) *Depacketizer { return &Depacketizer{sink: sink} }

// Stats returns the counts so far.
func (d *Depacketizer) Stats() DepacketizerStats { return d.stats }

// Push passes on the payload of one packet.
func (d *Depacketizer) Push(pkt *rtp.Packet) error {
	switch {
	case !d.started:
		d.started = true
	case pkt.SSRC != d.ssrc:
		d.stats.Resets++
		d.sink.Discontinuity()
	default:
		gap := int16(pkt.SequenceNumber - d.next)
		if gap < 0 {
			d.stats.Late++
			return nil
		}
		if gap > 0 {
			d.stats.Lost += int(gap)
			d.sink.Discontinuity()
		}
	}
	d.ssrc, d.next = pkt.SSRC, pkt.SequenceNumber+1
	d.stats.Packets++
	_, err := d.sink.Write(pkt.Payload)
	return err
}

// PushRaw parses one RTP packet and passes on its payload.
func (d *Depacketizer) PushRaw(b []byte) error {
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		return fmt.Errorf("mpegps: rtp packet: %w", err)
	}
	return d.Push(&pkt)
}

// Packetizer cuts a program stream into RTP packets of PS/90000.
type Packetizer struct {
	ssrc       uint32
	maxPayload int
	seq        uint16
}

// NewPacketizer returns a packetizer for ssrc whose payloads are at most maxPayload bytes
// (1400 if not positive), numbering from seq.
func NewPacketizer(ssrc uint32, maxPayload int, seq uint16) *Packetizer {
	if maxPayload <= 0 {
		maxPayload = 1400
	}
	return &Packetizer{ssrc: ssrc, maxPayload: maxPayload, seq: seq}
}

// Packetize cuts ps (one or more packs of one access unit) into packets with RTP timestamp ts
// (90 kHz), the marker on the last. The payloads alias ps.
func (p *Packetizer) Packetize(ps []byte, ts uint32) []*rtp.Packet {
	pkts := make([]*rtp.Packet, 0, (len(ps)+p.maxPayload-1)/p.maxPayload)
	for len(ps) > 0 {
		n := min(len(ps), p.maxPayload)
		pkts = append(pkts, &rtp.Packet{
			Header: rtp.Header{Version: 2, PayloadType: PayloadType, SequenceNumber: p.seq,
				Timestamp: ts, SSRC: p.ssrc, Marker: n == len(ps)},
			Payload: ps[:n],
		})
		p.seq++
		ps = ps[n:]
	}
	return pkts
}
