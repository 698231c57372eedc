package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"civicam/internal/registry"
	"civicam/internal/trace"
)

// traceRoutes are the trail's public checkpoint and proofs, and the auditors' query.
func (s *Server) traceRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/trace/checkpoint", nil, s.traceCheckpoint},
		{"GET", "/api/v1/trace/key", nil, s.traceKey},
		{"GET", "/api/v1/trace/proof/inclusion", nil, s.traceInclusion},
		{"GET", "/api/v1/trace/proof/consistency", nil, s.traceConsistency},
		{"POST", "/api/v1/trace/checkpoint", auditors, s.traceCheckpointNow},
		{"GET", "/api/v1/trace", auditors, s.traceQuery},
		{"GET", "/api/v1/trace/leaves", auditors, s.traceLeaves},
	}
}

// traceLeaves serves the exact leaf bytes of a range of entries, ?start=N&limit=M (at most
// trace.MaxLeaves), so that a verifier off the platform recomputes the tree
// (docs/trace-format.md). The leaves are the entries themselves, usernames, client addresses and
// reasons included, so they are the auditors', like the query, and reading them is traced before
// anything is served; the checkpoint, key and proofs, which are hashes only, stay public.
func (s *Server) traceLeaves(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	start, err := int64Param(q.Get("start"), "start")
	if err != nil {
		return err
	}
	limit, err := intParam(q.Get("limit"), "limit", trace.MaxLeaves, 1, trace.MaxLeaves)
	if err != nil {
		return err
	}
	if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionTraceRead, Outcome: trace.Allowed,
		Reason: fmt.Sprintf("leaves start=%d limit=%d", start, limit)}); err != nil {
		return err
	}
	leaves, size, err := s.trail.Leaves(r.Context(), start, limit)
	if err != nil {
		return err
	}
	type leaf struct {
		Index int64  `json:"index"`
		Data  []byte `json:"data"` // base64 in JSON
	}
	out := make([]leaf, len(leaves))
	for i, l := range leaves {
		out[i] = leaf{Index: l.Index, Data: l.Data}
	}
	body := map[string]any{"start": start, "tree_size": size, "leaves": out}
	if n := start + int64(len(out)); len(out) > 0 && n < size {
		body["next_start"] = n
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
	return nil
}

// traceCheckpointNow signs a checkpoint of the trail as it is now, on demand: an auditor about to
// take a copy wants one that covers the newest entries.
func (s *Server) traceCheckpointNow(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.trail.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	w.Write(cp)
	return nil
}

// traceCheckpoint serves the newest signed checkpoint as a signed note: anyone may fetch it
// and keep it, so that a later rewrite of the trail can be caught.
func (s *Server) traceCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.trail.Latest(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(cp)
	return nil
}

// traceKey serves the verifier key that checks the checkpoints' signatures.
func (s *Server) traceKey(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s.trail.VerifierKey() + "\n"))
	return nil
}

// traceInclusion proves an entry is in the tree: ?seq=N&tree_size=M. Proofs reveal only hashes.
func (s *Server) traceInclusion(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	seq, err := int64Param(q.Get("seq"), "seq")
	if err != nil {
		return err
	}
	size, err := int64Param(q.Get("tree_size"), "tree_size")
	if err != nil {
		return err
	}
	if seq >= size {
		return badRequest("seq", "must be below tree_size")
	}
	if n, err := s.trail.Size(r.Context()); err != nil {
		return err
	} else if size > n {
		return badRequest("tree_size", "the trail has only %d entries", n)
	}
	p, err := s.trail.InclusionProof(r.Context(), seq, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": p.Seq, "tree_size": p.TreeSize, "leaf_hash": p.LeafHash, "hashes": p.Hashes, "root": p.Root})
	return nil
}

// traceConsistency proves the tree of size2 extends that of size1: ?size1=A&size2=B.
func (s *Server) traceConsistency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, err := int64Param(q.Get("size1"), "size1")
	if err != nil {
		return err
	}
	b, err := int64Param(q.Get("size2"), "size2")
	if err != nil {
		return err
	}
	if a > b {
		return badRequest("size1", "must not exceed size2")
	}
	if n, err := s.trail.Size(r.Context()); err != nil {
		return err
	} else if b > n {
		return badRequest("size2", "the trail has only %d entries", n)
	}
	p, err := s.trail.ConsistencyProof(r.Context(), a, b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"size1": p.Size1, "size2": p.Size2, "hashes": p.Hashes, "root1": p.Root1, "root2": p.Root2})
	return nil
}

// traceQuery answers auditors: ?camera_id=&actor=&action=&outcome=&since=&until=&limit=&cursor=
// &order=oldest&format=csv. Reading the trail is itself traced, before anything is served.
func (s *Server) traceQuery(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := trace.Filter{Actor: q.Get("actor"), CameraID: q.Get("camera_id"), Action: trace.Action(q.Get("action")),
		Outcome: trace.Outcome(q.Get("outcome")), OldestFirst: q.Get("order") == "oldest"}
	if f.CameraID != "" && !registry.ValidID(f.CameraID) {
		return badRequest("camera_id", "is not a valid id")
	}
	if f.Outcome != "" && f.Outcome != trace.Allowed && f.Outcome != trace.Denied {
		return badRequest("outcome", "must be allowed or denied")
	}
	if f.Action != "" && !knownAction(f.Action) {
		return badRequest("action", "unknown action %q", f.Action)
	}
	var err error
	if f.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return badRequest("until", "must not be before since")
	}
	if f.Limit, err = intParam(q.Get("limit"), "limit", 100, 1, trace.MaxLimit); err != nil {
		return err
	}
	if c := q.Get("cursor"); c != "" {
		n, err := int64Param(c, "cursor")
		if err != nil {
			return err
		}
		f.Cursor = &n
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return badRequest("format", "must be json or csv")
	}
	var ids []string
	if f.CameraID != "" {
		ids = []string{f.CameraID}
	}
	if err := s.tracer.Record(r.Context(), trace.Record{Action: trace.ActionTraceRead, CameraIDs: ids, Outcome: trace.Allowed,
		From: f.Since, To: f.Until, Reason: "query " + r.URL.RawQuery}); err != nil {
		return err
	}
	entries, next, err := s.trail.Query(r.Context(), f)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="trace.csv"`)
		return trace.WriteCSV(w, entries)
	}
	if entries == nil {
		entries = []trace.Entry{}
	}
	body := map[string]any{"entries": entries}
	if next != nil {
		body["next_cursor"] = *next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func knownAction(a trace.Action) bool {
	for _, k := range trace.Actions {
		if k == a {
			return true
		}
	}
	return false
}

func int64Param(v, name string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(name, "must be a whole number ≥ 0")
	}
	return n, nil
}

func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest(name, "must be an RFC 3339 time")
	}
	return t, nil
}
