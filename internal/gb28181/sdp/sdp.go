// Package sdp writes the SDP offer of a GB/T 28181 INVITE (s=Play, PS over RTP, y= SSRC) and
// reads the device's answer: where it sends from, over which transport, with which SSRC.
package sdp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// MaxSize bounds an answer; a GB/T 28181 SDP is a few hundred bytes.
const MaxSize = 8 << 10

// Offer is the platform's side of a play session.
type Offer struct {
	// PlatformID names the offer's origin.
	PlatformID string
	// IP and Port are where the device is to send RTP.
	IP   string
	Port int
	// SSRC is the 10-digit SSRC of the y= line.
	SSRC string
	// TCP asks for RTP over TCP (RFC 4571 framing), the device connecting to IP:Port
	// (the platform passive); otherwise UDP.
	TCP bool
	// Active, with TCP, has the platform connect to the port the device answers with
	// (a=setup:active) instead.
	Active bool
	// Sendonly writes a=sendonly instead of a=recvonly: a device's answer.
	Sendonly bool
}

// Bytes is the offer's SDP.
func (o Offer) Bytes() []byte {
	proto, setup, dir := "RTP/AVP", "", "recvonly"
	if o.TCP {
		role := "passive"
		if o.Active {
			role = "active"
		}
		proto, setup = "TCP/RTP/AVP", "a=setup:"+role+"\r\na=connection:new\r\n"
	}
	if o.Sendonly {
		dir = "sendonly"
	}
	return fmt.Appendf(nil, "v=0\r\no=%s 0 0 IN IP4 %s\r\ns=Play\r\nc=IN IP4 %s\r\nt=0 0\r\nm=video %d %s 96\r\na=%s\r\na=rtpmap:96 PS/90000\r\n%sy=%s\r\n",
		o.PlatformID, o.IP, o.IP, o.Port, proto, dir, setup, o.SSRC)
}

// Answer is what a device's SDP says of its media.
type Answer struct {
	IP    string
	Port  int
	TCP   bool
	Setup string // active or passive, for TCP
	// SSRC is the y= line's value; devices may send another (or 0) in RTP, which is why media is
	// told apart by port.
	SSRC string
	// PS reports whether payload type 96 (or the m= line's first) is PS/90000.
	PS bool
}

// ErrMalformed is an SDP that does not describe one video stream.
var ErrMalformed = errors.New("sdp: malformed answer")

// Parse reads a device's answer.
func Parse(b []byte) (*Answer, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	var a Answer
	video := false
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'c':
			f := strings.Fields(v)
			if len(f) == 3 && f[0] == "IN" {
				a.IP = f[2]
			}
		case 'm':
			f := strings.Fields(v)
			if len(f) < 4 || f[0] != "video" {
				continue
			}
			port, err := strconv.Atoi(f[1])
			if err != nil || port < 0 || port > 65535 {
				return nil, fmt.Errorf("%w: port %q", ErrMalformed, f[1])
			}
			video, a.Port, a.TCP = true, port, strings.HasPrefix(strings.ToUpper(f[2]), "TCP")
		case 'a':
			k, val, _ := strings.Cut(v, ":")
			switch k {
			case "setup":
				a.Setup = val
			case "rtpmap":
				if pt, enc, ok := strings.Cut(val, " "); ok && strings.HasPrefix(strings.ToUpper(enc), "PS/90000") && pt != "" {
					a.PS = true
				}
			}
		case 'y':
			a.SSRC = v
		}
	}
	if !video {
		return nil, fmt.Errorf("%w: no video stream", ErrMalformed)
	}
	if a.IP != "" && net.ParseIP(a.IP) == nil {
		return nil, fmt.Errorf("%w: address %q", ErrMalformed, a.IP)
	}
	if len(a.SSRC) > 10 {
		return nil, fmt.Errorf("%w: SSRC %q", ErrMalformed, a.SSRC)
	}
	return &a, nil
}
