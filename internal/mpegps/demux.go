// Package mpegps reads and writes MPEG-2 program streams as GB/T 28181 devices send them over
// RTP: a streaming demuxer from PS bytes to access units per elementary stream, the RTP
// depacketizer in front of it, RFC 4571 framing for RTP over TCP, and a small muxer for
// simulated devices. The demuxer tolerates what devices and loss do to a stream: MPEG-1
// packs, missing PSMs, private streams, stuffing, packets split across or packed into
// RTP payloads, and garbage it must resynchronise after.
package mpegps

import "encoding/binary"

// Config bounds a Demuxer.
type Config struct {
	// MaxAccessUnit is the longest access unit kept (bytes); a longer one is dropped as
	// garbage, which bounds the memory one stream can take. Zero means 8 MiB.
	MaxAccessUnit int
	// VideoOnly skips audio streams without assembling them, for a consumer that records
	// video alone (as the recorder does with RTSP cameras' audio).
	VideoOnly bool
}

// Stats counts what a Demuxer met, for logs and tests.
type Stats struct {
	Packs        int // pack headers
	PES          int // PES packets of audio and video streams
	Private      int // private-stream packets (Hikvision's 0xBD among them), skipped
	Resyncs      int // times garbage was skipped to the next start code
	Garbage      int // bytes skipped by those
	AccessUnits  int
	DroppedUnits int // access units lost to gaps, garbage or their size
}

// Demuxer turns a program stream, written in pieces of any size, into access units.
// It is not safe for concurrent use.
type Demuxer struct {
	cfg     Config
	emit    func(*AccessUnit) error
	buf     []byte // the start of a packet not yet complete
	psm     [0x30]byte
	streams [0x30]*stream // by stream id - 0xC0
	stats   Stats

	pesLeft   int     // bytes of a video PES packet still to come,
	pesStream *stream // for this stream
}

// New returns a demuxer that hands each access unit to emit as soon as it is complete; an
// error from emit stops the Write that caused it and is returned from it.
func New(cfg Config, emit func(*AccessUnit) error) *Demuxer {
	if cfg.MaxAccessUnit <= 0 {
		cfg.MaxAccessUnit = 8 << 20
	}
	return &Demuxer{cfg: cfg, emit: emit}
}

// Stats returns the counts so far.
func (d *Demuxer) Stats() Stats { return d.stats }

// maxPESHeader is the longest PES header after the length field: MPEG-2's 3 bytes and up
// to 255 of fields, or MPEG-1's 16 stuffing bytes, STD buffer size and two timestamps.
const maxPESHeader = 3 + 255

// maxPacket is the longest unit of a program stream: a start code, a 16-bit length and that many bytes.
const maxPacket = 6 + 0xFFFF

// Write demuxes the next bytes of the stream. It never fails on bad input, which it skips.
func (d *Demuxer) Write(p []byte) (int, error) {
	data := p
	if len(d.buf) > 0 {
		d.buf = append(d.buf, p...)
		data = d.buf
	}
	n, err := d.parse(data)
	switch {
	case len(d.buf) == 0:
		d.buf = append(d.buf, data[n:]...)
	case n > 0: // an incomplete packet stays where it is until it is complete
		d.buf = d.buf[:copy(d.buf, data[n:])]
	}
	return len(p), err
}

// Discontinuity tells the demuxer bytes were lost before the next Write: what was in flight is
// dropped, and demuxing resumes at the next packet and access unit that start cleanly.
func (d *Demuxer) Discontinuity() {
	d.buf = d.buf[:0]
	d.pesLeft = 0
	for _, s := range d.streams {
		if s != nil {
			s.lose()
		}
	}
}

// Flush emits the access units that only the end of the stream completes.
func (d *Demuxer) Flush() error {
	for _, s := range d.streams {
		if s != nil {
			if err := s.flush(d.emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// parse consumes whole packets from b and returns how many bytes it used.
func (d *Demuxer) parse(b []byte) (int, error) {
	i := 0
	for {
		if d.pesLeft > 0 && i < len(b) { // the rest of a video PES packet whose head was passed on
			n := min(d.pesLeft, len(b)-i)
			d.pesLeft -= n
			i += n
			if err := d.pesStream.push(b[i-n:i], false, 0, 0, d.emit); err != nil {
				return i, err
			}
			continue
		}
		if len(b)-i < 4 {
			return i, nil
		}
		if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 || b[i+3] < 0xB9 {
			j := resync(b, i)
			if j < 0 {
				keep := max(i, len(b)-3)
				d.skipped(b[i:keep])
				return keep, nil
			}
			d.skipped(b[i:j])
			i = j
			continue
		}
		n, err := d.packet(b[i:])
		switch {
		case err != nil:
			return i + n, err
		case n == 0: // not complete yet
			return i, nil
		case n < 0: // malformed: skip its start code and look again
			d.skipped(b[i : i+4])
			i += 4
		default:
			i += n
		}
	}
}

// skipped accounts for bytes that were no packet. Zero stuffing between packs is harmless;
// anything else means what is in flight is corrupt.
func (d *Demuxer) skipped(g []byte) {
	for _, c := range g {
		if c != 0 {
			d.stats.Resyncs++
			d.stats.Garbage += len(g)
			for _, s := range d.streams {
				if s != nil {
					s.lose()
				}
			}
			return
		}
	}
}

// resync finds the next start code of a program-stream packet at or after from+1, or -1.
func resync(b []byte, from int) int {
	for i := from + 1; ; {
		sc, n := nextStartCode(b, i)
		if sc < 0 {
			return -1
		}
		at := sc + n - 3
		if at+3 >= len(b) {
			return at // a start code whose id has not arrived yet
		}
		if b[at+3] >= 0xB9 {
			return at
		}
		i = at + 3
	}
}

// packet demuxes the packet at the start of b, which begins with a start code, and returns
// its length, 0 if b does not hold all of it yet, or -1 if it is malformed.
func (d *Demuxer) packet(b []byte) (int, error) {
	id := b[3]
	switch {
	case id == 0xB9: // program end
		return 4, nil
	case id == 0xBA:
		return d.pack(b), nil
	}
	if len(b) < 6 {
		return 0, nil
	}
	n := 6 + int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < n {
		// Video is passed on as it arrives, once the PES header is surely in, so its bytes
		// are copied once and not held here until the whole packet is.
		if id < 0xE0 || id > 0xEF || len(b) < 6+maxPESHeader {
			return 0, nil
		}
		if ok, err := d.pes(id, b[6:]); !ok || err != nil {
			return -1, err
		}
		d.pesLeft, d.pesStream = n-len(b), d.streams[id-0xC0]
		return len(b), nil
	}
	body := b[6:n]
	switch {
	case id == 0xBC:
		d.readPSM(body)
	case id >= 0xC0 && id <= 0xEF:
		ok, err := d.pes(id, body)
		if !ok {
			return -1, nil
		}
		return n, err
	case id == 0xBD || id == 0xBF:
		d.stats.Private++
	}
	// system header, padding, directory and the rest carry nothing we need
	return n, nil
}

// pack checks a pack header, MPEG-2 or MPEG-1, and returns its length (0: incomplete, -1: not one).
func (d *Demuxer) pack(b []byte) int {
	if len(b) < 5 {
		return 0
	}
	switch {
	case b[4]&0xC0 == 0x40: // MPEG-2: '01', 14 bytes plus stuffing
		if len(b) < 14 {
			return 0
		}
		n := 14 + int(b[13]&0x07)
		if len(b) < n {
			return 0
		}
		d.stats.Packs++
		return n
	case b[4]&0xF0 == 0x20: // MPEG-1: '0010', 12 bytes
		if len(b) < 12 {
			return 0
		}
		d.stats.Packs++
		return 12
	}
	return -1
}

// readPSM records the stream types of a program stream map. Its CRC is not checked: devices
// get it wrong, and a damaged map is caught by the payload not parsing.
func (d *Demuxer) readPSM(b []byte) {
	if len(b) < 6 {
		return
	}
	p := 4 + int(binary.BigEndian.Uint16(b[2:]))
	if p+2 > len(b) {
		return
	}
	end := min(p+2+int(binary.BigEndian.Uint16(b[p:])), len(b))
	for p += 2; p+4 <= end; {
		typ, id := b[p], b[p+1]
		p += 4 + int(binary.BigEndian.Uint16(b[p+2:]))
		if id < 0xC0 || id > 0xEF {
			continue
		}
		d.psm[id-0xC0] = typ
		c := codecOfStreamType(typ)
		if s := d.streams[id-0xC0]; s != nil && c != CodecUnknown && s.codec != c {
			// A new map with another codec for the stream: what was buffered was the old one.
			s.lose()
			s.codec = c
		}
	}
}

// pes demuxes the PES packet of stream id with body after the length field; false means it is
// malformed.
func (d *Demuxer) pes(id byte, b []byte) (bool, error) {
	var pts, dts uint64
	hasTS := false
	var payload []byte
	if len(b) > 0 && b[0]&0xC0 == 0x80 { // MPEG-2 syntax
		if len(b) < 3 {
			return false, nil
		}
		flags, hlen := b[1]>>6, int(b[2])
		if 3+hlen > len(b) {
			return false, nil
		}
		h := b[3 : 3+hlen]
		switch flags {
		case 2, 3:
			if len(h) < 5 {
				return false, nil
			}
			pts, hasTS = readTS(h), true
			dts = pts
			if flags == 3 {
				if len(h) < 10 {
					return false, nil
				}
				dts = readTS(h[5:])
			}
		case 1:
			return false, nil // forbidden
		}
		payload = b[3+hlen:]
	} else { // MPEG-1 syntax: stuffing, STD buffer size, timestamps
		p := 0
		for p < len(b) && p < 16 && b[p] == 0xFF {
			p++
		}
		if p < len(b) && b[p]&0xC0 == 0x40 {
			p += 2
		}
		if p >= len(b) {
			return false, nil
		}
		switch b[p] >> 4 {
		case 2:
			if p+5 > len(b) {
				return false, nil
			}
			pts, hasTS = readTS(b[p:]), true
			dts = pts
			p += 5
		case 3:
			if p+10 > len(b) {
				return false, nil
			}
			pts, dts, hasTS = readTS(b[p:]), readTS(b[p+5:]), true
			p += 10
		default:
			if b[p] != 0x0F {
				return false, nil
			}
			p++
		}
		payload = b[p:]
	}
	d.stats.PES++
	if d.cfg.VideoOnly && id < 0xE0 {
		return true, nil
	}
	s := d.streams[id-0xC0]
	if s == nil {
		s = newStream(id, codecOfStreamType(d.psm[id-0xC0]), d.cfg.MaxAccessUnit, &d.stats)
		d.streams[id-0xC0] = s
	}
	return true, s.push(payload, hasTS, pts, dts, d.emit)
}

// readTS reads a 33-bit PTS or DTS from its 5-byte field.
func readTS(b []byte) uint64 {
	return uint64(b[0]>>1&0x07)<<30 | uint64(b[1])<<22 | uint64(b[2]>>1)<<15 |
		uint64(b[3])<<7 | uint64(b[4]>>1)
}
