package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"civicam/internal/export"
	"civicam/internal/policy"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// TestExportRecipients is issue 13 point 10, where copies went: with the pack's
// export_recipients option an export names its recipient (organisation, person, case) or is
// refused; the recipient is in the signed manifest, the answer and the trail entry, whose purpose
// the owners' view shows. Without the option a recipient is optional and recorded when given.
func TestExportRecipients(t *testing.T) {
	withRecipient := func(start, end time.Time, r map[string]string) string {
		b, _ := json.Marshal(map[string]any{"start": start, "end": end, "purpose": "missing child", "case_ref": "CASE-7", "recipient": r})
		return string(b)
	}
	court := map[string]string{"organisation": "Tianyuan District Court", "person": "Judge Li", "case": "(2026) Xiang 0211 No. 88"}
	for _, on := range []bool{false, true} {
		name := "option off"
		if on {
			name = "option on"
		}
		t.Run(name, func(t *testing.T) {
			fs := newFootageStackWith(t, storetest.SQLite(t), policy.Options{ExportRecipients: on})
			first, last := fs.segs[0], fs.segs[len(fs.segs)-1]
			url := "/api/v1/cameras/" + fs.cam + "/exports"

			r := fs.do("POST", url, fs.tokens["operator"], "", exportJSON(first.Start, last.End, "missing child", "CASE-7"))
			if want := map[bool]int{false: http.StatusCreated, true: http.StatusBadRequest}[on]; r.status != want {
				t.Errorf("POST export without a recipient = %d %s; want %d", r.status, r.body, want)
			}
			if on && !strings.Contains(string(r.body), `"field":"recipient"`) {
				t.Errorf("POST export without a recipient = %s; want the field recipient named", r.body)
			}
			if r := fs.do("POST", url, fs.tokens["operator"], "", withRecipient(first.Start, last.End, map[string]string{"organisation": "Court"})); r.status != http.StatusBadRequest ||
				!strings.Contains(string(r.body), `"field":"recipient.person"`) {
				t.Errorf("POST export with a recipient without a person = %d %s; want 400 on recipient.person", r.status, r.body)
			}

			n := fs.size()
			r = fs.do("POST", url, fs.tokens["operator"], "", withRecipient(first.Start, last.End, court))
			if r.status != http.StatusCreated {
				t.Fatalf("POST export with a recipient = %d %s; want 201", r.status, r.body)
			}
			var res struct {
				ID        string
				Download  string
				Recipient *export.Recipient
			}
			json.Unmarshal(r.body, &res)
			want := export.Recipient{Organisation: court["organisation"], Person: court["person"], Case: court["case"]}
			if res.Recipient == nil || *res.Recipient != want {
				t.Errorf("export answer's recipient = %+v; want %+v", res.Recipient, want)
			}
			es := fs.entriesSince(n)
			if len(es) != 1 || es[0].Action != trace.ActionExport || !strings.Contains(es[0].Purpose, "copy to "+want.String()) ||
				!strings.Contains(es[0].Reason, "copy to "+want.String()) {
				t.Fatalf("entries after the export = %+v; want one export entry naming the recipient", es)
			}
			resp, zipBytes := fs.get(res.Download, fs.tokens["operator"])
			if resp.StatusCode != 200 {
				t.Fatalf("download = %d", resp.StatusCode)
			}
			m, err := export.Verify(bytes.NewReader(zipBytes), int64(len(zipBytes)), fs.key.VerifierKey())
			if err != nil {
				t.Fatalf("Verify(export) = %v", err)
			}
			if m.Recipient == nil || *m.Recipient != want {
				t.Errorf("signed manifest's recipient = %+v; want %+v", m.Recipient, want)
			}
			// The auditors find it in the trail.
			r = fs.do("GET", "/api/v1/trace?action=export", fs.tokens["auditor"], "", "")
			if r.status != 200 || !strings.Contains(string(r.body), "Judge Li") {
				t.Errorf("auditor's trail query = %d %s; want the recipient", r.status, r.body)
			}
		})
	}
}
