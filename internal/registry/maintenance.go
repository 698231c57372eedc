package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/trace"
)

// Work order causes: opened by hand, or by the camera's health.
const (
	CauseManual  = "manual"
	CauseOffline = "offline" // offline longer than the pack's limit
	CauseFrozen  = "frozen"  // recording, but no new keyframe, or the same one over and over, for longer than the pack's limit
	CauseGaps    = "gaps"    // recordings missing within the last day beyond the pack's limit
)

// Work order statuses.
const (
	OrderOpen = "open"
	OrderDone = "done"
)

// WorkOrder is one piece of maintenance of one camera (REG-5).
type WorkOrder struct {
	ID             string    `json:"id"`
	CameraID       string    `json:"camera_id"`
	OrganisationID string    `json:"organisation_id"`
	Cause          string    `json:"cause"`
	Detail         string    `json:"detail,omitempty"`
	Status         string    `json:"status"`
	OpenedAt       time.Time `json:"opened_at"`
	OpenedBy       string    `json:"opened_by,omitempty"` // a user id; empty when opened by health
	DoneAt         time.Time `json:"done_at,omitzero"`
	DoneBy         string    `json:"done_by,omitempty"`
	Notes          string    `json:"notes,omitempty"`
}

// Automatic reports whether the order was opened from the camera's health.
func (o *WorkOrder) Automatic() bool { return o.Cause != CauseManual }

// WorkOrderFilter narrows a listing of work orders. Zero fields do not filter.
type WorkOrderFilter struct {
	CameraID string
	Status   string
	Limit    int
}

// MaintenanceRepo keeps work orders; *store.DB implements it.
type MaintenanceRepo interface {
	// OpenWorkOrder stores a new open order; a second open automatic order of the same camera
	// and cause is fault.ErrConflict.
	OpenWorkOrder(ctx context.Context, o *WorkOrder) error
	WorkOrder(ctx context.Context, scope Scope, id string) (*WorkOrder, error)
	// WorkOrders lists orders in the scope, the newest first.
	WorkOrders(ctx context.Context, scope Scope, f WorkOrderFilter) ([]*WorkOrder, error)
	// CompleteWorkOrder marks an open order done and sets the camera's last_maintenance_at and
	// updated_at from c, in one transaction; an order no longer open is fault.ErrConflict.
	CompleteWorkOrder(ctx context.Context, o *WorkOrder, c *Camera) error
}

// MaintenancePlan is a camera's maintenance as the plan sees it: the interval it is held to
// (its own or the pack's), the last maintenance done, when the next falls due, and its orders.
type MaintenancePlan struct {
	CameraID     string       `json:"camera_id"`
	IntervalDays int          `json:"interval_days"`
	FromCamera   bool         `json:"interval_from_camera"` // false: the pack's interval
	LastDoneAt   time.Time    `json:"last_done_at,omitzero"`
	NextDueAt    time.Time    `json:"next_due_at,omitzero"`
	Overdue      bool         `json:"overdue"`
	Open         []*WorkOrder `json:"open"`
	History      []*WorkOrder `json:"history"`
}

// maxNotes bounds the free text of an order.
const maxNotes = 4000

// MaintenancePlan returns the plan of a camera the scope sees.
func (s *Service) MaintenancePlan(ctx context.Context, scope Scope, cameraID string) (*MaintenancePlan, error) {
	c, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	orders, err := s.repo.WorkOrders(ctx, scope, WorkOrderFilter{CameraID: c.ID, Limit: 500})
	if err != nil {
		return nil, err
	}
	facts := Facts(c)
	p := &MaintenancePlan{CameraID: c.ID, IntervalDays: s.pack.EffectiveMaintenanceIntervalDays(facts), LastDoneAt: c.LastMaintenanceAt,
		Open: []*WorkOrder{}, History: []*WorkOrder{}}
	p.FromCamera = p.IntervalDays == c.MaintenanceIntervalDays
	if base := c.LastMaintenanceAt; !base.IsZero() || !c.CreatedAt.IsZero() {
		if base.IsZero() {
			base = c.CreatedAt
		}
		p.NextDueAt = base.AddDate(0, 0, p.IntervalDays)
		p.Overdue = c.Status != StatusPlanned && c.Status != StatusDecommissioned && s.now().After(p.NextDueAt)
	}
	for _, o := range orders {
		if o.Status == OrderOpen {
			p.Open = append(p.Open, o)
		} else {
			p.History = append(p.History, o)
		}
	}
	return p, nil
}

// WorkOrders lists the orders in the scope (the maintenance list).
func (s *Service) WorkOrders(ctx context.Context, scope Scope, f WorkOrderFilter) ([]*WorkOrder, error) {
	if f.CameraID != "" && !ValidID(f.CameraID) {
		return nil, invalid("camera_id", "is not a valid id")
	}
	switch f.Status {
	case "", OrderOpen, OrderDone:
	default:
		return nil, invalid("status", "must be open or done")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	return s.repo.WorkOrders(ctx, scope, f)
}

// OpenWorkOrder opens an order by hand on a camera the scope sees.
func (s *Service) OpenWorkOrder(ctx context.Context, scope Scope, u *auth.User, cameraID, detail string) (*WorkOrder, error) {
	c, err := s.Camera(ctx, scope, cameraID)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusDecommissioned {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "decommissioned", Message: "the camera is decommissioned"}
	}
	detail = strings.TrimSpace(detail)
	if len(detail) > maxNotes {
		return nil, invalid("detail", "is longer than %d bytes", maxNotes)
	}
	return s.openOrder(ctx, c, CauseManual, detail, u.ID)
}

func (s *Service) openOrder(ctx context.Context, c *Camera, cause, detail, by string) (*WorkOrder, error) {
	o := &WorkOrder{ID: NewID(), CameraID: c.ID, OrganisationID: c.OrganisationID, Cause: cause, Detail: detail,
		Status: OrderOpen, OpenedAt: s.now().UTC(), OpenedBy: by}
	reason := "work order " + o.ID + " opened: cause " + cause
	if detail != "" {
		reason += "; " + strconv.Quote(detail)
	}
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionMaintenanceOpen, CameraIDs: []string{c.ID}, Reference: o.ID, Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.repo.OpenWorkOrder(ctx, o); err != nil {
		s.recordNotStored(ctx, trace.ActionMaintenanceOpen, []string{c.ID}, err)
		return nil, err
	}
	return o, nil
}

// CompleteWorkOrder marks an order done with notes, at doneAt (nil: now); a date in the future
// or before the order was opened is refused. The camera's last maintenance becomes doneAt when
// that is later than the one recorded, so that the plan's next due date follows the work.
func (s *Service) CompleteWorkOrder(ctx context.Context, scope Scope, u *auth.User, id string, doneAt *time.Time, notes string) (*WorkOrder, error) {
	if !ValidID(id) {
		return nil, invalid("id", "is not a valid id")
	}
	o, err := s.repo.WorkOrder(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	if o.Status != OrderOpen {
		return nil, &fault.Error{Kind: fault.Conflict, Code: "order_done", Message: "the work order is already done"}
	}
	notes = strings.TrimSpace(notes)
	if notes == "" {
		return nil, invalid("notes", "say what was done")
	}
	if len(notes) > maxNotes {
		return nil, invalid("notes", "is longer than %d bytes", maxNotes)
	}
	now := s.now().UTC()
	done := now
	if doneAt != nil {
		done = doneAt.UTC()
	}
	switch {
	case done.After(now.Add(dateSkew)):
		return nil, invalid("done_at", "is in the future (%s; now %s)", done.Format(time.RFC3339), now.Format(time.RFC3339))
	case done.Before(o.OpenedAt.Add(-dateSkew)):
		return nil, invalid("done_at", "is before the order was opened (%s)", o.OpenedAt.UTC().Format(time.RFC3339))
	}
	c, err := s.Camera(ctx, scope, o.CameraID)
	if err != nil {
		return nil, err
	}
	cam := *c
	if done.After(cam.LastMaintenanceAt) {
		cam.LastMaintenanceAt = done
	}
	cam.UpdatedAt = now
	d := *o
	d.Status, d.DoneAt, d.DoneBy, d.Notes = OrderDone, done, u.ID, notes
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionMaintenanceDone, CameraIDs: []string{c.ID}, Reference: o.ID, Outcome: trace.Allowed,
		Reason: "work order " + o.ID + " done at " + done.Format(time.RFC3339) + ": " + strconv.Quote(notes)}); err != nil {
		return nil, err
	}
	if err := s.repo.CompleteWorkOrder(ctx, &d, &cam); err != nil {
		s.recordNotStored(ctx, trace.ActionMaintenanceDone, []string{c.ID}, err)
		return nil, err
	}
	s.storeFindings(ctx, &cam)
	return &d, nil
}

// Health is what the recorder reports of a camera, for automatic work orders.
type Health struct {
	CameraID string
	// OfflineSince is when the camera went offline; zero while it is not offline.
	OfflineSince time.Time
	// LastKeyframe is when its last keyframe was written, while it is meant to be recording;
	// zero when unknown.
	LastKeyframe time.Time
	// StillSince is since when every keyframe written has been the same bytes, StillKeyframes
	// how many they are: the picture froze while the stream goes on. Zero while it moves.
	StillSince     time.Time
	StillKeyframes int
	// Missing is how much recording is missing within the last day.
	Missing time.Duration
}

// OpenFromHealth opens the automatic work orders the cameras' health calls for under the pack's
// limits: offline, frozen, gaps; at most one open order per camera and cause. It returns the
// orders opened.
func (s *Service) OpenFromHealth(ctx context.Context, hs []Health) ([]*WorkOrder, error) {
	lim := s.pack.MaintenanceHealthLimits()
	now := s.now()
	var opened []*WorkOrder
	for _, h := range hs {
		var causes [][2]string
		if !h.OfflineSince.IsZero() && now.Sub(h.OfflineSince) > lim.Offline {
			causes = append(causes, [2]string{CauseOffline, fmt.Sprintf("offline since %s (limit %s)", h.OfflineSince.UTC().Format(time.RFC3339), lim.Offline)})
		}
		if h.OfflineSince.IsZero() && !h.LastKeyframe.IsZero() && now.Sub(h.LastKeyframe) > lim.Frozen {
			causes = append(causes, [2]string{CauseFrozen, fmt.Sprintf("no new keyframe since %s (limit %s)", h.LastKeyframe.UTC().Format(time.RFC3339), lim.Frozen)})
		} else if h.OfflineSince.IsZero() && !h.StillSince.IsZero() && now.Sub(h.StillSince) > lim.Frozen {
			causes = append(causes, [2]string{CauseFrozen, fmt.Sprintf("the same picture since %s: %d identical keyframes (limit %s)",
				h.StillSince.UTC().Format(time.RFC3339), h.StillKeyframes, lim.Frozen)})
		}
		if h.Missing > lim.Gaps {
			causes = append(causes, [2]string{CauseGaps, fmt.Sprintf("%s of recording missing in the last day (limit %s)", h.Missing.Round(time.Second), lim.Gaps)})
		}
		if len(causes) == 0 {
			continue
		}
		c, err := s.repo.Camera(ctx, Scope{All: true}, h.CameraID)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return opened, err
		}
		if c.Status != StatusActive {
			continue
		}
		open, err := s.repo.WorkOrders(ctx, Scope{All: true}, WorkOrderFilter{CameraID: c.ID, Status: OrderOpen, Limit: 100})
		if err != nil {
			return opened, err
		}
		for _, cause := range causes {
			if hasCause(open, cause[0]) {
				continue
			}
			o, err := s.openOrder(ctx, c, cause[0], cause[1], "")
			if errors.Is(err, fault.ErrConflict) {
				continue // another node opened it first
			}
			if err != nil {
				return opened, err
			}
			opened = append(opened, o)
		}
	}
	return opened, nil
}

// Moving reports whether the health shows a picture that moves: recording, a keyframe within
// the pack's frozen limit, and the last two keyframes different.
func (h Health) Moving(now time.Time, lim time.Duration) bool {
	return h.OfflineSince.IsZero() && !h.LastKeyframe.IsZero() && now.Sub(h.LastKeyframe) <= lim && h.StillSince.IsZero()
}

// ClearFromHealth closes the open frozen-picture work orders of the cameras whose picture moves
// again, as health found them: nothing is left to repair, and the order says when the picture
// came back. The camera's last maintenance stays as it was, for no one maintained it. It returns
// the orders closed.
func (s *Service) ClearFromHealth(ctx context.Context, hs []Health) ([]*WorkOrder, error) {
	lim := s.pack.MaintenanceHealthLimits()
	now := s.now()
	moving := map[string]bool{}
	for _, h := range hs {
		if h.Moving(now, lim.Frozen) {
			moving[h.CameraID] = true
		}
	}
	if len(moving) == 0 {
		return nil, nil
	}
	open, err := s.repo.WorkOrders(ctx, Scope{All: true}, WorkOrderFilter{Status: OrderOpen, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var closed []*WorkOrder
	for _, o := range open {
		if o.Cause != CauseFrozen || !moving[o.CameraID] {
			continue
		}
		c, err := s.repo.Camera(ctx, Scope{All: true}, o.CameraID)
		if errors.Is(err, fault.ErrNotFound) {
			continue
		}
		if err != nil {
			return closed, err
		}
		d := *o
		d.Status, d.DoneAt = OrderDone, now.UTC()
		d.Notes = "closed by health: the picture moves again at " + d.DoneAt.Format(time.RFC3339)
		if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionMaintenanceDone, CameraIDs: []string{c.ID}, Reference: o.ID, Outcome: trace.Allowed,
			Reason: "work order " + o.ID + " " + d.Notes}); err != nil {
			return closed, err
		}
		// The camera is written back as read: its last maintenance and updated_at unchanged.
		if err := s.repo.CompleteWorkOrder(ctx, &d, c); err != nil {
			s.recordNotStored(ctx, trace.ActionMaintenanceDone, []string{c.ID}, err)
			if errors.Is(err, fault.ErrConflict) {
				continue // done by hand, or by another node, meanwhile
			}
			return closed, err
		}
		closed = append(closed, &d)
	}
	return closed, nil
}

func hasCause(orders []*WorkOrder, cause string) bool {
	for _, o := range orders {
		if o.Cause == cause {
			return true
		}
	}
	return false
}
