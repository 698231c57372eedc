package trace

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Filter selects entries for auditors. Empty fields match everything.
type Filter struct {
	// Actor matches the user id or the username.
	Actor    string
	CameraID string
	Action   Action
	Outcome  Outcome
	// Since and Until bound the entry time: Since <= time < Until.
	Since, Until time.Time
	// Cursor, when set, continues a previous page: it is the Seq of that page's last entry, and
	// the page starts just past it in the chosen order.
	Cursor *int64
	// Limit bounds the page (default 100, at most MaxLimit).
	Limit int
	// OldestFirst orders by ascending sequence number; the default is newest first.
	OldestFirst bool
}

// MaxLimit bounds one page of a query.
const MaxLimit = 10000

// Normalized returns f with its limit in range.
func (f Filter) Normalized() Filter {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	return f
}

// Querier runs a filter against the stored trail.
type Querier interface {
	QueryTrace(ctx context.Context, f Filter) ([]Row, error)
}

// Query returns the entries matching f and the cursor for the next page (nil when the page was
// not full, i.e. there is nothing more).
func Query(ctx context.Context, q Querier, f Filter) ([]Entry, *int64, error) {
	f = f.Normalized()
	rows, err := q.QueryTrace(ctx, f)
	if err != nil {
		return nil, nil, fmt.Errorf("query trace: %w", err)
	}
	out := make([]Entry, len(rows))
	for i := range rows {
		if out[i], err = rows[i].Entry(); err != nil {
			return nil, nil, fmt.Errorf("query trace: %w", err)
		}
	}
	var next *int64
	if len(out) == f.Limit {
		s := out[len(out)-1].Seq
		next = &s
	}
	return out, next, nil
}

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"seq", "time", "user_id", "username", "role", "organisation_id", "client_addr",
	"action", "camera_ids", "from", "to", "reference", "purpose", "outcome", "reason", "detail"}

// WriteCSV writes entries as CSV with a header row. Times are RFC 3339 in UTC with microseconds;
// camera ids are joined with ';'; detail is its JSON object. A cell that a spreadsheet would run
// as a formula (starting with = + - @ or a control character) is prefixed with a quote, since
// purposes and reasons are typed by users.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write trace csv: %w", err)
	}
	rec := make([]string, len(CSVHeader))
	for _, e := range entries {
		detail := ""
		if len(e.Detail) > 0 {
			detail = canonicalJSON(e.Detail)
		}
		rec = append(rec[:0],
			strconv.FormatInt(e.Seq, 10), csvTime(e.Time), e.Actor.UserID, e.Actor.Username, e.Actor.Role,
			e.Actor.OrganisationID, e.Actor.ClientAddr, string(e.Action), strings.Join(e.CameraIDs, ";"),
			csvTime(e.From), csvTime(e.To), e.Reference, e.Purpose, string(e.Outcome), e.Reason, detail)
		for i := range rec {
			rec[i] = defuseCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write trace csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write trace csv: %w", err)
	}
	return nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

func defuseCell(s string) string {
	if s == "" {
		return s
	}
	switch c := s[0]; {
	case c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r':
		return "'" + s
	}
	return s
}
