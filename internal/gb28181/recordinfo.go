package gb28181

import (
	"context"
	"errors"
	"slices"
	"time"

	"civicam/internal/fault"
	"civicam/internal/gb28181/manscdp"
	"civicam/internal/registry"
	"civicam/internal/trace"
)

// Record is one recording a device keeps on its own storage, as RecordInfo lists it.
type Record struct {
	Name     string    `json:"name,omitempty"`
	FilePath string    `json:"file_path,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Type     string    `json:"type,omitempty"`
	FileSize int64     `json:"file_size,omitempty"`
}

// Records is a device's answer to RecordInfo; Complete is false when fewer records arrived in
// time than the device said it has.
type Records struct {
	Records  []Record `json:"records"`
	Complete bool     `json:"complete"`
}

// recordQuery is a RecordInfo query waiting for its MESSAGEs, by SN.
type recordQuery struct {
	device string
	loc    *time.Location
	sum    int
	got    []Record
	done   chan struct{}
}

// Bounds of a RecordInfo query: the span asked, the records kept of one answer, and how long
// the answer's MESSAGEs may take.
const (
	maxRecordSpan    = 31 * 24 * time.Hour
	maxRecords       = 5000
	recordInfoWindow = 10 * time.Second
)

// RecordInfo asks a device what one of its channels keeps on the device's own storage for
// [start, end) (GB/T 28181 RecordInfo), for owners who keep footage there. Times go to the device
// in start's location, as devices keep local time. The question is traced as a read of
// recordings before it is sent.
func (s *Server) RecordInfo(ctx context.Context, scope registry.Scope, deviceID, channelID string, start, end time.Time) (*Records, error) {
	switch {
	case !ValidDeviceID(channelID):
		return nil, fault.InvalidField("channel_id", "must be 20 digits")
	case start.IsZero() || end.IsZero():
		return nil, fault.InvalidField("start", "start and end are required")
	case !end.After(start):
		return nil, fault.InvalidField("end", "must be after start")
	case end.Sub(start) > maxRecordSpan:
		return nil, fault.InvalidField("end", "at most 31 days after start")
	}
	d, err := s.Device(ctx, scope, deviceID)
	if err != nil {
		return nil, err
	}
	var ch *Channel
	for i := range d.Channels {
		if d.Channels[i].ID == channelID {
			ch = &d.Channels[i]
		}
	}
	if ch == nil {
		return nil, fault.ErrNotFound
	}
	rec := trace.Record{Action: trace.ActionRecordingsRead, Reference: deviceID + "/" + channelID, From: start, To: end,
		Outcome: trace.Allowed, Reason: "device recordings (RecordInfo)"}
	if ch.CameraID != "" {
		rec.CameraIDs = []string{ch.CameraID}
	}
	if err := s.tracer.Record(ctx, rec); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ss, ok := s.sessions[deviceID]
	var transport, remote string
	if ok && ss.online {
		transport, remote = ss.transport, ss.remote
	}
	s.mu.Unlock()
	if remote == "" {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "not_registered", Message: "the device is not registered now", Err: errNotRegistered}
	}
	sn := int(s.sn.Add(1))
	q := &recordQuery{device: deviceID, loc: start.Location(), sum: -1, done: make(chan struct{})}
	s.mu.Lock()
	s.records[sn] = q
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.records, sn)
		s.mu.Unlock()
	}()
	unreachable := func(err error) error {
		return &fault.Error{Kind: fault.Unavailable, Code: "device_unreachable", Message: "the device did not answer the RecordInfo query", Err: err}
	}
	if err := s.send(ctx, deviceID, transport, remote, "MESSAGE", "Application/MANSCDP+xml",
		manscdp.RecordInfoQueryBody(sn, channelID, start, end)); err != nil {
		return nil, unreachable(err)
	}
	wait := time.NewTimer(recordInfoWindow)
	defer wait.Stop()
	select {
	case <-q.done:
	case <-wait.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.sum < 0 {
		return nil, unreachable(errors.New("no RecordInfo response in time"))
	}
	out := &Records{Records: append([]Record{}, q.got...), Complete: len(q.got) >= q.sum}
	// An answer split over UDP MESSAGEs arrives in any order; a list of recordings is read by time.
	slices.SortStableFunc(out.Records, func(a, b Record) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// recordPart takes one MESSAGE of a RecordInfo answer.
func (s *Server) recordPart(id string, m *manscdp.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.records[m.SN]
	if q == nil || q.device != id {
		return // not asked, or asked of another device
	}
	q.sum = min(m.SumNum, maxRecords)
	for _, r := range m.Records {
		if len(q.got) >= maxRecords {
			break
		}
		start, err1 := time.ParseInLocation(manscdp.TimeLayout, r.StartTime, q.loc)
		end, err2 := time.ParseInLocation(manscdp.TimeLayout, r.EndTime, q.loc)
		if err1 != nil || err2 != nil {
			q.sum-- // unreadable: not counted as missing
			continue
		}
		q.got = append(q.got, Record{Name: r.Name, FilePath: r.FilePath, Start: start, End: end, Type: r.Type, FileSize: r.FileSize})
	}
	if len(q.got) >= q.sum {
		select {
		case <-q.done:
		default:
			close(q.done)
		}
	}
}
