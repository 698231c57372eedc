package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
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

// TestTwoPersonExport is issue 13 point 10, two-person access: under the pack's
// two_person_export option an official's export is only a request until a second user of the
// same organisation approves it; the requester cannot approve it, another organisation cannot
// see it, and the trail and the signed manifest name both. Without the option an export is made
// at once.
func TestTwoPersonExport(t *testing.T) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "option off", true: "option on"}[on]
		t.Run(name, func(t *testing.T) {
			fs := newFootageStackWith(t, storetest.SQLite(t), policy.Options{TwoPersonExport: on})
			first, last := fs.segs[0], fs.segs[len(fs.segs)-1]
			n := fs.size()
			r := fs.do("POST", "/api/v1/cameras/"+fs.cam+"/exports", fs.tokens["operator"], "", exportJSON(first.Start, last.End, "missing child", "CASE-7"))
			if !on {
				if r.status != http.StatusCreated {
					t.Fatalf("POST export without the option = %d %s; want 201", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusAccepted {
				t.Fatalf("POST export under the two-person rule = %d %s; want 202", r.status, r.body)
			}
			var pending struct {
				Status   string
				Approval struct {
					ID          string `json:"id"`
					RequestedBy string `json:"requested_by"`
				}
				Approve string
			}
			json.Unmarshal(r.body, &pending)
			if pending.Status != "awaiting_approval" || pending.Approval.RequestedBy != fs.ids["operator"] || pending.Approve == "" {
				t.Fatalf("pending export answer = %s", r.body)
			}
			if ents, _ := readDir(fs.exportDir); ents != 0 {
				t.Errorf("export dir holds %d files before the approval; want none", ents)
			}
			if es := fs.entriesSince(n); len(es) != 1 || es[0].Action != trace.ActionExport || !strings.Contains(es[0].Reason, "awaiting a second user") {
				t.Errorf("entries after the request = %+v; want one export entry saying it awaits approval", es)
			}

			// The requester may not approve it; another organisation does not see it.
			if r := fs.do("POST", pending.Approve, fs.tokens["operator"], "", ""); r.status != http.StatusForbidden {
				t.Errorf("approval by the requester = %d %s; want 403", r.status, r.body)
			}
			if r := fs.do("POST", pending.Approve, fs.tokens["owner"], "", ""); r.status != http.StatusNotFound {
				t.Errorf("approval by another organisation = %d %s; want 404", r.status, r.body)
			}
			if r := fs.do("GET", "/api/v1/export-approvals", fs.tokens["owner"], "", ""); r.status != 200 || strings.Contains(string(r.body), pending.Approval.ID) {
				t.Errorf("another organisation's pending list = %d %s; want it without the request", r.status, r.body)
			}
			r = fs.do("GET", "/api/v1/export-approvals", fs.tokens["operator2"], "", "")
			if r.status != 200 || !strings.Contains(string(r.body), pending.Approval.ID) {
				t.Fatalf("colleague's pending list = %d %s; want the request", r.status, r.body)
			}

			n = fs.size()
			r = fs.do("POST", pending.Approve, fs.tokens["operator2"], "", "")
			if r.status != http.StatusCreated {
				t.Fatalf("approval by a colleague = %d %s; want 201", r.status, r.body)
			}
			var res struct{ ID, Download string }
			json.Unmarshal(r.body, &res)
			got := actions(fs.entriesSince(n))
			if strings.Join(got, ",") != "export_approve,export" {
				t.Errorf("entries after the approval = %v; want export_approve, export", got)
			}
			for _, e := range fs.entriesSince(n) {
				if !strings.Contains(e.Reason, "op2") {
					t.Errorf("%s entry reason = %q; want the approver named", e.Action, e.Reason)
				}
				if e.Action == trace.ActionExportApprove && (!strings.Contains(e.Reason, "op1") || e.Actor.Username != "op2") {
					t.Errorf("export_approve entry = %+v; want op2 approving op1's request", e)
				}
			}
			if r := fs.do("POST", pending.Approve, fs.tokens["operator2"], "", ""); r.status != http.StatusConflict {
				t.Errorf("second approval = %d %s; want 409", r.status, r.body)
			}
			resp, zipBytes := fs.get(res.Download, fs.tokens["operator"])
			if resp.StatusCode != 200 {
				t.Fatalf("download by the requester = %d", resp.StatusCode)
			}
			m, err := export.Verify(bytes.NewReader(zipBytes), int64(len(zipBytes)), fs.key.VerifierKey())
			if err != nil {
				t.Fatalf("Verify(export) = %v", err)
			}
			if m.Exporter.UserID != fs.ids["operator"] || m.ApprovedBy == nil || m.ApprovedBy.UserID != fs.ids["operator2"] {
				t.Errorf("manifest exporter %+v, approved by %+v; want op1 approved by op2", m.Exporter, m.ApprovedBy)
			}
		})
	}
}

func readDir(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	return len(ents), err
}
