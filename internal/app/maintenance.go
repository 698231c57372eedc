package app

import (
	"context"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/registry"
	"civicam/internal/timespan"
)

// healthEvery is how often the recorder's health is turned into automatic work orders. The
// pack's limits are minutes to hours; a minute's lag is nothing against them.
const healthEvery = time.Minute

// watchHealth opens the automatic maintenance work orders the recorder's health calls for
// (offline, frozen picture, recording gaps) until ctx ends.
func (s *Server) watchHealth(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.core.Now()
		var hs []registry.Health
		for _, st := range s.recorder.Statuses() {
			day := timespan.Range{Start: now.Add(-24 * time.Hour), End: now}
			cov, err := recorder.Coverage(ctx, s.core.DB, s.recorder, st.CameraID, day)
			if err != nil {
				s.core.Log.Error("maintenance: recordings of camera", "camera", st.CameraID, "err", err)
				continue
			}
			hs = append(hs, healthOf(st, cov))
		}
		if opened, err := s.core.Registry.OpenFromHealth(ctx, hs); err != nil && ctx.Err() == nil {
			s.core.Log.Error("maintenance: automatic work orders", "err", err)
		} else if len(opened) > 0 {
			s.core.Log.Info("maintenance: work orders opened from health", "orders", len(opened))
		}
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
		// Parts begin on keyframes: no new part while recording is no new keyframe.
		h.LastKeyframe = st.LastPart
		if h.LastKeyframe.IsZero() {
			h.LastKeyframe = st.Since
		}
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
