package gb28181

import (
	"context"
	"time"

	"civicam/internal/gb28181/manscdp"
	"civicam/internal/trace"
)

// assembly gathers the MESSAGEs of one catalog answer: a device with hundreds of channels sends
// them a few at a time, each saying how many there are in all (SumNum).
type assembly struct {
	sn      int
	sumNum  int
	started time.Time
	items   map[string]Channel
	order   []string
}

// isChannel reports whether a catalog item is a video channel (a front-end device, type codes
// 111-199) rather than a directory, a business group or the device itself.
func isChannel(deviceID string, it manscdp.Item) bool {
	if !ValidDeviceID(it.DeviceID) || it.DeviceID == deviceID {
		return false
	}
	t := it.DeviceID[10:13]
	return t >= "111" && t <= "199"
}

// catalogPart adds one MESSAGE of a catalog answer, and stores the catalog once all its items
// have arrived.
func (s *Server) catalogPart(ctx context.Context, id string, m *manscdp.Message) {
	now := s.now()
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if !ok {
		s.mu.Unlock()
		return
	}
	a := ss.catalog
	if a == nil || a.sn != m.SN {
		a = &assembly{sn: m.SN, sumNum: m.SumNum, started: now, items: map[string]Channel{}}
		ss.catalog = a
	}
	for _, it := range m.Items {
		if !isChannel(id, it) || len(a.items) >= manscdp.MaxSumNum {
			a.sumNum = max(a.sumNum-1, 0) // a directory counts in SumNum but is no channel
			continue
		}
		if _, dup := a.items[it.DeviceID]; !dup {
			a.order = append(a.order, it.DeviceID)
		}
		status := StatusOffline
		if it.Online() {
			status = StatusOnline
		}
		a.items[it.DeviceID] = Channel{ID: it.DeviceID, Name: it.Name, Status: status, ParentID: it.ParentID,
			Manufacturer: it.Manufacturer, Model: it.Model, Address: it.Address, Lat: it.Latitude, Lon: it.Longitude}
	}
	done := len(a.items) >= a.sumNum
	var chans []Channel
	if done {
		chans = a.channels()
		ss.catalog = nil
	}
	s.mu.Unlock()
	if done {
		s.storeCatalog(ctx, id, chans, true)
	}
}

func (a *assembly) channels() []Channel {
	out := make([]Channel, 0, len(a.order))
	for _, id := range a.order {
		out = append(out, a.items[id])
	}
	return out
}

// storeCatalog writes a device's channels.
func (s *Server) storeCatalog(ctx context.Context, id string, chans []Channel, complete bool) {
	if err := s.repo.SaveGBChannels(ctx, id, chans, complete); err != nil {
		s.log.Error("gb28181 store catalog", "device", id, "err", err)
		return
	}
	s.log.Info("gb28181 catalog", "device", id, "channels", len(chans), "complete", complete)
}

// expireCatalogs stores what arrived of catalogs whose MESSAGEs stopped coming: the channels
// that came are kept, none is removed.
func (s *Server) expireCatalogs(ctx context.Context) {
	now := s.now()
	type partial struct {
		id    string
		chans []Channel
	}
	var ps []partial
	s.mu.Lock()
	for id, ss := range s.sessions {
		if a := ss.catalog; a != nil && now.Sub(a.started) > s.cfg.CatalogTimeout {
			ps = append(ps, partial{id, a.channels()})
			ss.catalog = nil
		}
	}
	s.mu.Unlock()
	for _, p := range ps {
		s.log.Warn("gb28181 catalog incomplete", "device", p.id, "channels", len(p.chans))
		s.storeCatalog(ctx, p.id, p.chans, false)
	}
}

// stateRecord is the trail's record of a device's change of online state.
func (s *Server) stateRecord(id, reason string) trace.Record {
	return trace.Record{Action: trace.ActionGBDeviceState, Reference: id, Outcome: trace.Allowed, Reason: reason}
}
