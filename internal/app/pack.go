package app

import (
	"context"
	"fmt"
	"time"

	"civicam/internal/policy"
	"civicam/internal/trace"
)

// packActor is who traces the pack in force: the server itself, at start.
var packActor = trace.Actor{Username: "system:start", ClientAddr: "local"}

// tracePackInForce traces the pack the server starts with (name, version, SHA-256) unless the
// newest pack_in_force entry already names the same pack, so that every switch of the rules
// the platform enforces is in the trail (issue 13 point 5) and a restart adds nothing.
func tracePackInForce(ctx context.Context, trail *trace.Log, pack *policy.Pack, now func() time.Time) error {
	last, _, err := trail.Query(ctx, trace.Filter{Action: trace.ActionPackInForce, Limit: 1})
	if err != nil {
		return fmt.Errorf("trace pack in force: %w", err)
	}
	detail := map[string]string{
		"name":    pack.Regulation().Name,
		"version": pack.Version(),
		"sha256":  pack.Digest(),
		"source":  pack.Source(),
	}
	reason := fmt.Sprintf("policy pack %s %s (sha256 %s) in force", detail["name"], detail["version"], detail["sha256"])
	if len(last) > 0 {
		prev := last[0].Detail
		if prev["sha256"] == detail["sha256"] && prev["name"] == detail["name"] && prev["version"] == detail["version"] {
			return nil
		}
		detail["previous_version"], detail["previous_sha256"] = prev["version"], prev["sha256"]
		reason += fmt.Sprintf(", replacing %s (sha256 %s)", prev["version"], prev["sha256"])
	}
	if _, err := trail.Append(ctx, trace.Entry{Time: now(), Actor: packActor, Action: trace.ActionPackInForce,
		Reference: pack.Version(), Outcome: trace.Allowed, Reason: reason, Detail: detail}); err != nil {
		return fmt.Errorf("trace pack in force: %w: %w", trace.ErrUnavailable, err)
	}
	return nil
}
