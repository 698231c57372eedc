package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"civicam/internal/access"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

// storageOrd places a storage finding after a camera's policy findings in the report's order.
const storageOrd = 1 << 20

// complianceList names the compliance report's cursors.
const complianceList = "compliance"

// compliance reports policy findings for the caller's scope, a page at a time (?limit=,
// ?cursor=), as JSON or (?format=csv) CSV, which holds every finding.
func (s *Server) compliance(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	scope := access.ScopeOf(auth.UserFrom(r.Context()))
	org, cam := q.Get("organisation_id"), q.Get("camera_id")
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return badRequest("format", "must be json or csv")
	}
	limit, keys, err := pageParams(q, complianceList, 2, defaultPageLimit, maxPageLimit)
	if err != nil {
		return err
	}
	var after *registry.FindingKey
	if keys != nil {
		ord, err := cursorInt(keys[1])
		if err != nil {
			return err
		}
		after = &registry.FindingKey{CameraID: keys[0], Ord: ord}
	}
	// Storage that cannot hold the retention floor is a finding on every camera it records; there
	// are none unless a location is below its floor.
	more, err := s.storage.ComplianceFindings(r.Context(), scope, org, cam)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="compliance.csv"`)
		var all []registry.Finding
		for after = nil; ; {
			page, next, err := s.compliancePage(r.Context(), scope, org, cam, after, maxPageLimit, more)
			if err != nil {
				return err
			}
			for _, f := range page {
				all = append(all, f.Finding)
			}
			if next == nil {
				break
			}
			after = next
		}
		return registry.WriteFindingsCSV(w, all)
	}
	page, next, err := s.compliancePage(r.Context(), scope, org, cam, after, limit, more)
	if err != nil {
		return err
	}
	findings := make([]registry.Finding, len(page))
	for i, f := range page {
		findings[i] = f.Finding
	}
	body := map[string]any{"findings": findings, "policy_version": s.reg.Pack().Version()}
	if next != nil {
		body["next_cursor"] = encodeCursor(complianceList, next.CameraID, strconv.Itoa(next.Ord))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// compliancePage merges a page of the policy's findings with the storage findings after the
// same key, in the report's order; next is nil on the last page.
func (s *Server) compliancePage(ctx context.Context, scope registry.Scope, org, cam string, after *registry.FindingKey, limit int,
	storage []registry.Finding) ([]registry.KeyedFinding, *registry.FindingKey, error) {
	page, more, err := s.reg.CompliancePage(ctx, scope, org, cam, after, limit)
	if err != nil {
		return nil, nil, err
	}
	if len(storage) > 0 {
		for _, f := range storage {
			k := registry.FindingKey{CameraID: f.CameraID, Ord: storageOrd}
			if after == nil || after.Less(k) {
				page = append(page, registry.KeyedFinding{Finding: f, Key: k})
			}
		}
		slices.SortFunc(page, func(a, b registry.KeyedFinding) int {
			if c := strings.Compare(a.Key.CameraID, b.Key.CameraID); c != 0 {
				return c
			}
			return a.Key.Ord - b.Key.Ord
		})
		if more {
			// The policy's rows stop at their page's last key; storage findings past it wait.
			last := page[0].Key
			for _, f := range page {
				if f.Key.Ord != storageOrd {
					last = f.Key
				}
			}
			page = slices.DeleteFunc(page, func(f registry.KeyedFinding) bool { return last.Less(f.Key) })
		}
		if len(page) > limit {
			page, more = page[:limit], true
		}
	}
	if !more || len(page) == 0 {
		return page, nil, nil
	}
	k := page[len(page)-1].Key
	return page, &k, nil
}

// complianceSummary counts the findings in the caller's scope (?organisation_id=) by code and by
// organisation, from the kept findings rather than from every camera.
func (s *Server) complianceSummary(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	scope := access.ScopeOf(auth.UserFrom(r.Context()))
	org := q.Get("organisation_id")
	c, err := s.reg.ComplianceSummary(r.Context(), scope, org)
	if err != nil {
		return err
	}
	more, err := s.storage.ComplianceFindings(r.Context(), scope, org, "")
	if err != nil {
		return err
	}
	if len(more) > 0 {
		// Rare (a location below its floor): count the cameras with either kind once.
		seen := map[string]bool{}
		var after *registry.FindingKey
		for {
			page, next, err := s.compliancePage(r.Context(), scope, org, "", after, maxPageLimit, nil)
			if err != nil {
				return err
			}
			for _, f := range page {
				seen[f.CameraID] = true
			}
			if next == nil {
				break
			}
			after = next
		}
		for _, f := range more {
			seen[f.CameraID] = true
			c.Total++
			c.ByCode[f.Code]++
			c.ByOrganisation[f.OrganisationID]++
		}
		c.Cameras = len(seen)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": c.Total, "cameras": c.Cameras, "by_code": c.ByCode,
		"by_organisation": c.ByOrganisation, "policy_version": s.reg.Pack().Version()})
	return nil
}
