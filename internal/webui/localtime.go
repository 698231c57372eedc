package webui

import (
	"errors"
	"strings"
	"time"
)

// The review pages speak the city's local time (the pack's regulation.time_zone): an operator
// in Zhuzhou reads and types 09:30, not 01:30 UTC. The API keeps RFC 3339 with an offset.

// Zone is the pack's time zone name (for the browser's Intl, which formats in it).
func (m Messages) Zone() string { return m.location().String() }

func (m Messages) location() *time.Location {
	if m.loc == nil {
		return time.UTC
	}
	return m.loc
}

// LocalTime formats t in the pack's zone, to the second, with the zone's offset.
func (m Messages) LocalTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(m.location()).Format("2006-01-02 15:04:05") + " " + zoneLabel(t.In(m.location()))
}

// zoneLabel is "UTC+08:00": the abbreviation CST is ambiguous (China, Cuba, US Central).
func zoneLabel(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "UTC"
	}
	return "UTC" + t.Format("-07:00")
}

// inputLayout is what <input type="datetime-local" step="0.001"> holds: local time, no zone.
const inputLayout = "2006-01-02T15:04:05.000"

// InputTime is t as a datetime-local field's value in the pack's zone, to the millisecond.
// roundUp rounds a start up, so that the field never asks for a moment before a recording
// began, which would be reported as a gap of its own; an end is rounded down likewise.
func (m Messages) InputTime(t time.Time, roundUp bool) string {
	if t.IsZero() {
		return ""
	}
	r := t.Truncate(time.Millisecond)
	if roundUp && r.Before(t) {
		r = r.Add(time.Millisecond)
	}
	return r.In(m.location()).Format(inputLayout)
}

var errBadTime = errors.New("not a time")

// ParseTime reads a time a page was given: a datetime-local value in the pack's zone (to the
// minute, second or millisecond), or RFC 3339 with its own offset, as links carry it.
func (m Messages) ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, m.location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errBadTime
}
