package gb28181

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"civicam/internal/gb28181/sdp"
)

// MediaTarget is where a channel's media is to arrive: the recorder's receiving address and
// port (one port per stream, since some devices send SSRC 0), over UDP or TCP.
type MediaTarget struct {
	IP   string
	Port int
	// TCP asks for RTP over TCP (RFC 4571): the device connects to IP:Port, or, when Active,
	// listens on the port it answers with and the platform connects.
	TCP, Active bool
}

// Play is one live play session (an INVITE dialog) of a channel. Stop ends it with a BYE.
type Play struct {
	DeviceID, ChannelID string
	// SSRC is the one offered in y=; Answer is what the device's SDP said.
	SSRC   string
	Answer *sdp.Answer

	transport, remote string
	invite            *sip.Request
	to                *sip.ToHeader
	target            sip.Uri
}

// Player starts and stops a channel's media; the recorder takes one to record GB channels as it
// takes RTSP sources. *Server is one.
type Player interface {
	Play(ctx context.Context, deviceID, channelID string, to MediaTarget) (*Play, error)
	Stop(ctx context.Context, p *Play) error
	// Transport is the SIP transport a device registered over ("udp" or "tcp"), "" when it
	// is not registered here.
	Transport(deviceID string) string
}

// Transport is the SIP transport deviceID registered over, "" when it is not registered.
func (s *Server) Transport(deviceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.sessions[deviceID]; ok && ss.online {
		return ss.transport
	}
	return ""
}

// Remote is the address a play's device registered from, whose host is where its media comes
// from when its answer names none.
func (p *Play) Remote() string { return p.remote }

// Play INVITEs a channel of a registered device to send its stream (s=Play, PS over RTP) to the
// target, and ACKs the answer. Every request of the dialog goes to the address the device
// registered from, whatever its Contact says.
func (s *Server) Play(ctx context.Context, deviceID, channelID string, to MediaTarget) (*Play, error) {
	s.mu.Lock()
	ss, ok := s.sessions[deviceID]
	var transport, remote string
	if ok && ss.online {
		transport, remote = ss.transport, ss.remote
	}
	s.mu.Unlock()
	if remote == "" {
		return nil, errNotRegistered
	}
	ssrc := fmt.Sprintf("0%s%04d", s.cfg.Domain[3:8], s.sn.Add(1)%10000)
	offer := sdp.Offer{PlatformID: s.cfg.ID, IP: to.IP, Port: to.Port, SSRC: ssrc, TCP: to.TCP, Active: to.TCP && to.Active}
	req := s.newRequest(sip.INVITE, channelID, transport, remote)
	req.AppendHeader(sip.NewHeader("Subject", channelID+":"+ssrc+","+s.cfg.ID+":0"))
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: s.cfg.ID, Host: s.contactHost(), Port: s.contactPort()}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer.Bytes())
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tx, err := s.client.TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("invite %s/%s: %w", deviceID, channelID, err)
	}
	defer tx.Terminate()
	var res *sip.Response
	for res == nil {
		select {
		case r := <-tx.Responses():
			if !r.IsProvisional() {
				res = r
			}
		case <-tx.Done():
			return nil, fmt.Errorf("invite %s/%s: %w", deviceID, channelID, tx.Err())
		case <-ctx.Done():
			return nil, fmt.Errorf("invite %s/%s: %w", deviceID, channelID, ctx.Err())
		}
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("invite %s/%s: %d %s", deviceID, channelID, res.StatusCode, res.Reason)
	}
	p := &Play{DeviceID: deviceID, ChannelID: channelID, SSRC: ssrc, transport: transport, remote: remote, invite: req,
		to: res.To(), target: req.Recipient}
	if c := res.Contact(); c != nil {
		p.target = c.Address // the Request-URI of the dialog; it is still sent to remote
	}
	if p.Answer, err = sdp.Parse(res.Body()); err != nil {
		s.sendInDialog(context.WithoutCancel(ctx), p, sip.ACK, req.CSeq().SeqNo)
		s.Stop(context.WithoutCancel(ctx), p)
		return nil, fmt.Errorf("invite %s/%s: answer: %w", deviceID, channelID, err)
	}
	if err := s.sendInDialog(ctx, p, sip.ACK, req.CSeq().SeqNo); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop ends a play session with a BYE.
func (s *Server) Stop(ctx context.Context, p *Play) error {
	return s.sendInDialog(ctx, p, sip.BYE, p.invite.CSeq().SeqNo+1)
}

// sendInDialog sends an ACK (no answer) or a BYE (waits for it) within p's dialog.
func (s *Server) sendInDialog(ctx context.Context, p *Play, method sip.RequestMethod, seq uint32) error {
	req := sip.NewRequest(method, p.target)
	req.SetTransport(strings.ToUpper(p.transport))
	req.SetDestination(p.remote)
	s.fromSocket(req, p.transport)
	req.AppendHeader(p.invite.From())
	to := p.to
	if to == nil {
		to = p.invite.To()
	}
	req.AppendHeader(to) // a device's 200 may lack a To tag; the dialog is then the Call-ID's
	req.AppendHeader(p.invite.CallID())
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	if method == sip.ACK {
		return s.client.WriteRequest(req)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", method, p.DeviceID, p.ChannelID, err)
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 { // 481: the device had ended it already
		return fmt.Errorf("%s %s/%s: %d %s", method, p.DeviceID, p.ChannelID, res.StatusCode, res.Reason)
	}
	return nil
}

// newRequest is a request from the platform to user at a device's address.
func (s *Server) newRequest(method sip.RequestMethod, user, transport, remote string) *sip.Request {
	host, port := splitHostPort(remote)
	req := sip.NewRequest(method, sip.Uri{User: user, Host: host, Port: port})
	req.SetTransport(strings.ToUpper(transport))
	req.SetDestination(remote)
	from := &sip.FromHeader{Address: sip.Uri{User: s.cfg.ID, Host: s.cfg.Domain}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: user, Host: s.cfg.Domain}})
	s.fromSocket(req, transport)
	return req
}

// fromSocket sends a UDP request from the listening socket, so that the answer comes back
// through the device's NAT.
func (s *Server) fromSocket(req *sip.Request, transport string) {
	if transport == "udp" {
		la := s.udp.LocalAddr().(*net.UDPAddr)
		req.Laddr = sip.Addr{IP: la.IP, Port: la.Port}
	}
}

func (s *Server) contactHost() string { h, _ := splitHostPort(s.Addr()); return h }
func (s *Server) contactPort() int    { _, p := splitHostPort(s.Addr()); return p }
