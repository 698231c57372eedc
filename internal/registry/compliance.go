package registry

import (
	"encoding/csv"
	"io"
)

// WriteFindingsCSV writes a compliance report as CSV, for the API and the CLI alike.
func WriteFindingsCSV(w io.Writer, findings []Finding) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"camera_id", "camera_name", "organisation_id", "code", "rule", "message", "policy_version"})
	for _, f := range findings {
		cw.Write([]string{f.CameraID, CSVSafe(f.CameraName), f.OrganisationID, f.Code, f.Rule, f.Message, f.PolicyVersion})
	}
	cw.Flush()
	return cw.Error()
}

// CSVSafe defuses spreadsheet formulas in user-entered text (CSV injection): a cell that a
// spreadsheet would evaluate is prefixed with an apostrophe.
func CSVSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
