package gb28181

import (
	"bytes"
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

	d Dialog
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
func (p *Play) Remote() string { return p.d.Remote }

// Play INVITEs a channel of a registered device to send its stream (s=Play, PS over RTP) to the
// target, and ACKs the answer. Every request of the dialog goes to the address the device
// registered from, whatever its Contact says. A play of the channel still open is BYEd first,
// so that a device never streams twice (or to a port no longer read); the dialog is kept in
// the store until its BYE, so a platform that stopped without one ends it when it starts again.
func (s *Server) Play(ctx context.Context, deviceID, channelID string, to MediaTarget) (*Play, error) {
	key := deviceID + "/" + channelID
	s.mu.Lock()
	old := s.plays[key]
	ss, ok := s.sessions[deviceID]
	var transport, remote string
	if ok && ss.online {
		transport, remote = ss.transport, ss.remote
	}
	s.mu.Unlock()
	if old != nil {
		if err := s.Stop(ctx, old); err != nil {
			s.log.Warn("gb28181 bye before re-invite", "device", deviceID, "channel", channelID, "err", err)
		}
	}
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
	fromTag, _ := req.From().Params.Get("tag")
	d := Dialog{CallID: req.CallID().Value(), Platform: s.Addr(), DeviceID: deviceID, ChannelID: channelID,
		Transport: transport, Remote: remote, Target: req.Recipient.String(), FromTag: fromTag,
		CSeq: req.CSeq().SeqNo, StartedAt: s.now()}
	if t := res.To(); t != nil {
		d.ToTag, _ = t.Params.Get("tag") // a device's 200 may lack a To tag; the dialog is then the Call-ID's
	}
	if c := res.Contact(); c != nil {
		d.Target = c.Address.String() // the Request-URI of the dialog; it is still sent to remote
	}
	p := &Play{DeviceID: deviceID, ChannelID: channelID, SSRC: ssrc, d: d}
	if err := s.repo.SaveGBDialog(ctx, d); err != nil {
		s.log.Warn("gb28181 keep dialog", "device", deviceID, "channel", channelID, "err", err)
	}
	if len(bytes.TrimSpace(res.Body())) == 0 && !to.Active {
		// Some devices (srs-bench's among them) answer with no SDP and send as offered.
		p.Answer = &sdp.Answer{TCP: to.TCP, SSRC: ssrc, PS: true}
	} else if p.Answer, err = sdp.Parse(res.Body()); err != nil {
		s.sendInDialog(context.WithoutCancel(ctx), d, sip.ACK, d.CSeq)
		s.Stop(context.WithoutCancel(ctx), p)
		return nil, fmt.Errorf("invite %s/%s: answer: %w", deviceID, channelID, err)
	}
	if err := s.sendInDialog(ctx, d, sip.ACK, d.CSeq); err != nil {
		s.Stop(context.WithoutCancel(ctx), p)
		return nil, err
	}
	s.mu.Lock()
	s.plays[key] = p
	s.mu.Unlock()
	return p, nil
}

// Stop ends a play session with a BYE, and forgets its dialog once the device has answered.
func (s *Server) Stop(ctx context.Context, p *Play) error {
	key := p.DeviceID + "/" + p.ChannelID
	s.mu.Lock()
	if s.plays[key] == p {
		delete(s.plays, key)
	}
	s.mu.Unlock()
	return s.bye(ctx, p.d)
}

// bye sends a dialog's BYE and, once the device answered it, deletes the dialog from the store.
func (s *Server) bye(ctx context.Context, d Dialog) error {
	if err := s.sendInDialog(ctx, d, sip.BYE, d.CSeq+1); err != nil {
		return err
	}
	if err := s.repo.DeleteGBDialog(context.WithoutCancel(ctx), d.CallID); err != nil {
		s.log.Warn("gb28181 forget dialog", "device", d.DeviceID, "channel", d.ChannelID, "err", err)
	}
	return nil
}

// endStale BYEs the dialogs this platform left open when it last stopped (those not among its
// plays now), of one device or (device "") of every device reached over UDP, which needs no
// connection of the device's. A device that does not answer keeps its dialog, to be ended when
// it registers again.
func (s *Server) endStale(ctx context.Context, device string) {
	ds, err := s.repo.GBDialogs(ctx, s.Addr())
	if err != nil {
		s.log.Warn("gb28181 stale dialogs", "err", err)
		return
	}
	for _, d := range ds {
		s.mu.Lock()
		live := s.plays[d.DeviceID+"/"+d.ChannelID]
		ss := s.sessions[d.DeviceID]
		if ss != nil && ss.online {
			d.Transport, d.Remote = ss.transport, ss.remote // where it is now
		}
		s.mu.Unlock()
		if live != nil && live.d.CallID == d.CallID {
			continue
		}
		if device != "" && d.DeviceID != device || device == "" && d.Transport != "udp" {
			continue
		}
		if err := s.bye(ctx, d); err != nil {
			s.log.Info("gb28181 stale dialog", "device", d.DeviceID, "channel", d.ChannelID, "err", err)
			continue
		}
		s.log.Info("gb28181 ended a stale dialog", "device", d.DeviceID, "channel", d.ChannelID, "since", d.StartedAt)
	}
}

// sendInDialog sends an ACK (no answer) or a BYE (waits for it) within dialog d.
func (s *Server) sendInDialog(ctx context.Context, d Dialog, method sip.RequestMethod, seq uint32) error {
	var target sip.Uri
	if err := sip.ParseUri(d.Target, &target); err != nil {
		return fmt.Errorf("%s %s/%s: target %q: %w", method, d.DeviceID, d.ChannelID, d.Target, err)
	}
	req := sip.NewRequest(method, target)
	req.SetTransport(strings.ToUpper(d.Transport))
	req.SetDestination(d.Remote)
	s.fromSocket(req, d.Transport)
	from := &sip.FromHeader{Address: sip.Uri{User: s.cfg.ID, Host: s.cfg.Domain}}
	from.Params.Add("tag", d.FromTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{User: d.ChannelID, Host: s.cfg.Domain}}
	if d.ToTag != "" {
		to.Params.Add("tag", d.ToTag)
	}
	req.AppendHeader(to)
	callID := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	if method == sip.ACK {
		return s.client.WriteRequest(req)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", method, d.DeviceID, d.ChannelID, err)
	}
	if res.StatusCode >= 300 && res.StatusCode != 481 { // 481: the device had ended it already
		return fmt.Errorf("%s %s/%s: %d %s", method, d.DeviceID, d.ChannelID, res.StatusCode, res.Reason)
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
