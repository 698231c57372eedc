package retention

import "time"

// Hold is a legal hold: while it is active (not released), no segment of its cameras that
// overlaps [Start, End) may be deleted.
type Hold struct {
	ID        string
	CameraIDs []string // sorted
	Start     time.Time
	End       time.Time
	Reference string // the case or application the footage is kept for
	Reason    string
	// CreatedBy is the user id of whoever placed the hold, CreatedByName their username.
	CreatedBy     string
	CreatedByName string
	CreatedAt     time.Time
	// ReleasedAt is zero while the hold is active.
	ReleasedAt     time.Time
	ReleasedBy     string
	ReleasedByName string
	ReleaseReason  string
}

// Active reports whether the hold still blocks deletion.
func (h *Hold) Active() bool { return h.ReleasedAt.IsZero() }

// HoldFilter narrows a listing of holds.
type HoldFilter struct {
	ActiveOnly bool
	CameraID   string // only holds covering this camera
}
