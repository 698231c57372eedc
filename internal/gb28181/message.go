package gb28181

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"civicam/internal/fault"
	"civicam/internal/gb28181/manscdp"
)

func parseCredentials(v string) (*digest.Credentials, error) { return digest.ParseCredentials(v) }

func isNotFound(err error) bool { return errors.Is(err, fault.ErrNotFound) }

// handleMessage serves a device's MESSAGE: MANSCDP keepalives, notifications and the answers
// to the platform's queries. MESSAGEs carry no digest in GB/T 28181, so one is taken only from
// the address (and transport) its device registered from; anything else is refused.
func (s *Server) handleMessage(req *sip.Request, tx sip.ServerTransaction) {
	ctx := s.bgCtx
	from := req.From()
	if from == nil || !ValidDeviceID(from.Address.User) {
		s.respond(req, tx, 400, "Bad Request: device id must be 20 digits")
		return
	}
	id := from.Address.User
	body := req.Body()
	if len(body) > manscdp.MaxBody {
		s.respond(req, tx, 413, "Request Entity Too Large")
		return
	}
	s.mu.Lock()
	ss, ok := s.sessions[id]
	registered := ok && ss.remote == req.Source() && ss.transport == transportOf(req) && s.now().Before(ss.expires)
	s.mu.Unlock()
	if !registered {
		s.respond(req, tx, 403, "Forbidden: not registered from this address")
		return
	}
	m, err := manscdp.Parse(body)
	if err != nil {
		s.log.Debug("gb28181 bad MANSCDP", "device", id, "err", err)
		s.respond(req, tx, 400, "Bad Request: "+reasonOf(err))
		return
	}
	// Heard before answered, so that whoever sees the answer sees the device online.
	s.heard(ctx, id)
	s.respond(req, tx, 200, "OK")
	switch strings.ToLower(m.CmdType) {
	case "keepalive":
	case "catalog":
		if m.Kind == "Response" || m.Kind == "Notify" {
			s.catalogPart(ctx, id, m)
		}
	case "deviceinfo":
		if m.Kind == "Response" {
			s.deviceInfo(ctx, id, m)
		}
	case "recordinfo":
		if m.Kind == "Response" {
			s.recordPart(id, m)
		}
	case "devicestatus":
		if m.Kind == "Response" {
			s.log.Debug("gb28181 device status", "device", id, "online", m.Online, "status", m.Status)
		}
	default:
		s.log.Debug("gb28181 MANSCDP not handled", "device", id, "cmd", m.CmdType)
	}
}

// reasonOf is a short, safe reason phrase for a refused body.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, manscdp.ErrHostileXML):
		return "DOCTYPE refused"
	case errors.Is(err, manscdp.ErrTooLarge):
		return "body too large"
	}
	return "malformed MANSCDP"
}

// heard notes that a registered device spoke (a keepalive or any message): it is online again
// if it had gone silent.
func (s *Server) heard(ctx context.Context, id string) {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if !ok {
		s.mu.Unlock()
		return
	}
	ss.lastSeen = s.now()
	back := !ss.online
	ss.online = true
	remote := ss.remote
	s.mu.Unlock()
	if !back {
		return
	}
	if err := s.tracer.Record(deviceActor(ctx, id, remote), s.stateRecord(id, "online: keepalive")); err != nil {
		s.log.Error("trace device online", "device", id, "err", err)
		return
	}
	if err := s.saveState(ctx, id, true); err != nil {
		s.log.Error("store device online", "device", id, "err", err)
	}
}

// deviceInfo stores what a device says it is.
func (s *Server) deviceInfo(ctx context.Context, id string, m *manscdp.Message) {
	d, err := s.repo.GBDevice(ctx, id)
	if err != nil {
		s.log.Error("gb28181 device info", "device", id, "err", err)
		return
	}
	if m.DeviceName != "" {
		d.Name = m.DeviceName
	}
	d.Manufacturer, d.Model, d.Firmware = m.Manufacturer, m.Model, m.Firmware
	if err := s.repo.SaveGBDevice(ctx, d); err != nil {
		s.log.Error("gb28181 store device info", "device", id, "err", err)
	}
}
