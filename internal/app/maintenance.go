package app

import (
	"context"
	"log/slog"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

// healthEvery is how often the recorder's health is turned into automatic work orders. The
// pack's limits are minutes to hours; a minute's lag is nothing against them.
const healthEvery = time.Minute

// watchHealth opens the automatic maintenance work orders the recorder's health calls for
// (offline, frozen picture, recording gaps), and closes the frozen ones whose picture moves
// again, until ctx ends.
func (s *Server) watchHealth(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	h := healthWork{reg: s.core.Registry, idx: s.core.DB, rec: s.recorder, log: s.core.Log, now: s.core.Now}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.pass(ctx)
	}
}

// healthWork is one node's turning of its recorder's health into work orders.
type healthWork struct {
	reg *registry.Service
	idx recorder.RangeIndex
	rec *recorder.Recorder
	log *slog.Logger
	now func() time.Time
}

// pass reads every recorded camera's health once and opens and closes work orders by it.
func (h healthWork) pass(ctx context.Context) {
	now := h.now()
	var hs []registry.Health
	for _, st := range h.rec.Statuses() {
		day := timespan.Range{Start: now.Add(-24 * time.Hour), End: now}
		cov, err := recorder.Coverage(ctx, h.idx, h.rec, st.CameraID, day)
		if err != nil {
			h.log.Error("maintenance: recordings of camera", "camera", st.CameraID, "err", err)
			continue
		}
		hs = append(hs, healthOf(st, cov))
	}
	if opened, err := h.reg.OpenFromHealth(ctx, hs); err != nil && ctx.Err() == nil {
		h.log.Error("maintenance: automatic work orders", "err", err)
	} else if len(opened) > 0 {
		h.log.Info("maintenance: work orders opened from health", "orders", len(opened))
	}
	if closed, err := h.reg.ClearFromHealth(ctx, hs); err != nil && ctx.Err() == nil {
		h.log.Error("maintenance: frozen-picture orders of moving pictures", "err", err)
	} else if len(closed) > 0 {
		h.log.Info("maintenance: frozen-picture orders closed, the pictures move again", "orders", len(closed))
	}
}

// healthOf is what the recorder's status and the last day's recordings say of a camera. Gaps
// count only from its first recording in the day, so that a camera added an hour ago is not
// missing the 23 hours before it existed.
func healthOf(st recorder.Status, cov timespan.Coverage) registry.Health {
	h := registry.Health{CameraID: st.CameraID}
	switch st.State {
	case recorder.StateOffline, recorder.StateError:
		h.OfflineSince = st.Since
	case recorder.StateRecording:
		// A session that records began on a keyframe; before its first part ends, the time it
		// began recording stands for it.
		h.LastKeyframe = st.LastKeyframe
		if h.LastKeyframe.IsZero() {
			h.LastKeyframe = st.Since
		}
		h.StillSince, h.StillKeyframes = st.StillSince, st.StillKeyframes
	}
	if len(cov.Ranges) > 0 {
		first := cov.Ranges[0].Start
		for _, g := range cov.Gaps {
			if g.Start.Before(first) {
				continue
			}
			h.Missing += g.End.Sub(g.Start)
		}
	}
	return h
}
