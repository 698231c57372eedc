package registry

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"civicam/internal/trace"
)

// RowError is one problem in one cell of an import file. Row counts from 1 at the header, as a
// spreadsheet shows it.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportError lists every bad row of a refused import; nothing of the file was stored.
type ImportError struct {
	Rows      []RowError
	Truncated bool // more problems than were kept
}

func (e *ImportError) Error() string {
	if len(e.Rows) == 0 {
		return "import refused"
	}
	r := e.Rows[0]
	return fmt.Sprintf("import refused: %d problem(s); first at row %d, column %s: %s", len(e.Rows), r.Row, r.Column, r.Message)
}

// maxRowErrors bounds the report of a hopeless file (say, the wrong file altogether).
const maxRowErrors = 1000

// importColumns are the camera fields an import file may carry, by their JSON names.
var importColumns = map[string]func(in *CameraInput, v string) error{
	"name":                      func(in *CameraInput, v string) error { in.Name = &v; return nil },
	"organisation_id":           func(in *CameraInput, v string) error { in.OrganisationID = &v; return nil },
	"investment":                func(in *CameraInput, v string) error { in.Investment = &v; return nil },
	"lat":                       floatCol(func(in *CameraInput) **float64 { return &in.Lat }),
	"lon":                       floatCol(func(in *CameraInput) **float64 { return &in.Lon }),
	"address":                   func(in *CameraInput, v string) error { in.Address = &v; return nil },
	"place_category":            func(in *CameraInput, v string) error { in.PlaceCategory = &v; return nil },
	"bearing":                   floatCol(func(in *CameraInput) **float64 { return &in.Bearing }),
	"fov_angle":                 floatCol(func(in *CameraInput) **float64 { return &in.FOVAngle }),
	"range_m":                   floatCol(func(in *CameraInput) **float64 { return &in.RangeM }),
	"source_url":                func(in *CameraInput, v string) error { in.SourceURL = &v; return nil },
	"networked":                 boolCol(func(in *CameraInput) **bool { return &in.Networked }),
	"interface_reserved":        boolCol(func(in *CameraInput) **bool { return &in.InterfaceReserved }),
	"sign_installed":            boolCol(func(in *CameraInput) **bool { return &in.SignInstalled }),
	"sign_checked_at":           timeCol(func(in *CameraInput) **time.Time { return &in.SignCheckedAt }),
	"retention_days":            intCol(func(in *CameraInput) **int { return &in.RetentionDays }),
	"maintenance_interval_days": intCol(func(in *CameraInput) **int { return &in.MaintenanceIntervalDays }),
	"last_maintenance_at":       timeCol(func(in *CameraInput) **time.Time { return &in.LastMaintenanceAt }),
	"status":                    func(in *CameraInput, v string) error { in.Status = &v; return nil },
	"legal_basis":               func(in *CameraInput, v string) error { in.LegalBasis = &v; return nil },
	"legal_basis_id":            func(in *CameraInput, v string) error { in.LegalBasisID = &v; return nil },
	"legal_basis_document_ref":  func(in *CameraInput, v string) error { in.LegalBasisDocumentRef = &v; return nil },
	"gb_device_id":              func(in *CameraInput, v string) error { in.GBDeviceID = &v; return nil },
}

func floatCol(field func(*CameraInput) **float64) func(*CameraInput, string) error {
	return func(in *CameraInput, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !finite(f) {
			return errors.New("is not a number")
		}
		*field(in) = &f
		return nil
	}
}

func intCol(field func(*CameraInput) **int) func(*CameraInput, string) error {
	return func(in *CameraInput, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("is not a whole number")
		}
		*field(in) = &n
		return nil
	}
}

func boolCol(field func(*CameraInput) **bool) func(*CameraInput, string) error {
	return func(in *CameraInput, v string) error {
		var b bool
		switch strings.ToLower(v) {
		case "true", "1", "yes", "y", "是":
			b = true
		case "false", "0", "no", "n", "否":
		default:
			return errors.New("must be true or false")
		}
		*field(in) = &b
		return nil
	}
}

func timeCol(field func(*CameraInput) **time.Time) func(*CameraInput, string) error {
	return func(in *CameraInput, v string) error {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return errors.New("must be a date (2006-01-02) or an RFC 3339 time")
			}
		}
		*field(in) = &t
		return nil
	}
}

// ParseCSV reads an import file: a header row of camera field names, then one camera a row.
// Empty cells take the field's default. It reports every malformed cell, not just the first;
// with a non-nil error the rows are still returned, a nil entry for each row that did not parse,
// so that the rest can be checked too and the user sees every problem at once.
func ParseCSV(r io.Reader) ([]*CameraInput, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ImportError{Rows: []RowError{{Row: 1, Code: "empty_file", Message: "the file is empty; the first row must name the columns"}}}
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return nil, fmt.Errorf("read import file: %w", err) // the reader failed (too large, cut off), not the CSV
	}
	if err != nil {
		return nil, &ImportError{Rows: []RowError{{Row: 1, Code: "malformed_csv", Message: err.Error()}}}
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheets like a BOM
	}
	ie := &ImportError{}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if _, ok := importColumns[h]; !ok {
			ie.add(RowError{Row: 1, Column: h, Code: "unknown_column", Message: fmt.Sprintf("unknown column %q", h)})
		}
		if seen[h] {
			ie.add(RowError{Row: 1, Column: h, Code: "duplicate_column", Message: fmt.Sprintf("column %q appears twice", h)})
		}
		seen[h] = true
	}
	if len(ie.Rows) > 0 {
		return nil, ie
	}
	var out []*CameraInput
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.As(err, &pe) {
			return nil, fmt.Errorf("read import file at row %d: %w", row, err)
		}
		if err != nil {
			ie.add(RowError{Row: pe.StartLine, Code: "malformed_csv", Message: pe.Err.Error()})
			// csv.Reader cannot resynchronise reliably after a quoting error.
			break
		}
		in := &CameraInput{}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if err := importColumns[header[i]](in, v); err != nil {
				ie.add(RowError{Row: row, Column: header[i], Code: "invalid", Message: err.Error()})
				in = nil
				break
			}
		}
		out = append(out, in)
		if len(ie.Rows) >= maxRowErrors {
			break
		}
	}
	if len(ie.Rows) > 0 {
		return out, ie
	}
	if len(out) == 0 {
		return nil, &ImportError{Rows: []RowError{{Row: 2, Code: "no_rows", Message: "the file has a header but no cameras"}}}
	}
	return out, nil
}

func (e *ImportError) add(r RowError) {
	if len(e.Rows) >= maxRowErrors {
		e.Truncated = true
		return
	}
	e.Rows = append(e.Rows, r)
}

// ImportCSV reads an import file and registers every camera in it, or none: each row passes the
// same validation and policy as a single create, every problem is reported with its row, and the
// rows are stored in one transaction. progress, when not nil, is told how many rows are checked.
func (s *Service) ImportCSV(ctx context.Context, scope Scope, r io.Reader, progress func(done, total int)) ([]*Camera, error) {
	rows, err := ParseCSV(r)
	ie, _ := err.(*ImportError)
	if err != nil && (ie == nil || rows == nil) {
		s.traceImportRefusal(ctx, err)
		return nil, err
	}
	if ie == nil {
		ie = &ImportError{}
	}
	return s.importRows(ctx, scope, rows, ie, progress)
}

func (s *Service) traceImportRefusal(ctx context.Context, err error) {
	if terr := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraImport, Outcome: trace.Denied, Reason: err.Error()}); terr != nil {
		s.log.Error("trace import refusal", "err", terr)
	}
}

func (s *Service) importRows(ctx context.Context, scope Scope, rows []*CameraInput, ie *ImportError, progress func(done, total int)) ([]*Camera, error) {
	cams := make([]*Camera, 0, len(rows))
	orgOK := map[string]error{}
	gbSeen := map[string]int{}
	now := s.now().UTC()
	for i, in := range rows {
		row := i + 2
		if in == nil {
			continue // reported by the parser
		}
		c := &Camera{Status: StatusPlanned, RetentionDays: s.pack.RetentionFloorDays()}
		if !scope.All {
			c.OrganisationID = scope.OrganisationID
		}
		in.apply(c)
		if err := s.checkImportRow(ctx, scope, c, in, orgOK); err != nil {
			var inv *InvalidError
			var pe *PolicyError
			switch {
			case errors.As(err, &inv):
				ie.add(RowError{Row: row, Column: inv.Field, Code: "invalid", Message: inv.Message})
			case errors.As(err, &pe):
				for _, d := range pe.Decisions {
					ie.add(RowError{Row: row, Column: d.Field, Code: d.Code, Message: d.Reason})
				}
			default:
				return nil, err
			}
		}
		if c.GBDeviceID != "" {
			if first, dup := gbSeen[c.GBDeviceID]; dup {
				ie.add(RowError{Row: row, Column: "gb_device_id", Code: "duplicate", Message: fmt.Sprintf("same device id as row %d", first)})
			}
			gbSeen[c.GBDeviceID] = row
		}
		c.ID, c.CreatedAt, c.UpdatedAt = NewID(), now, now
		cams = append(cams, c)
		if progress != nil && (i%1000 == 999 || i == len(rows)-1) {
			progress(i+1, len(rows))
		}
	}
	if len(ie.Rows) > 0 {
		sort.SliceStable(ie.Rows, func(i, j int) bool { return ie.Rows[i].Row < ie.Rows[j].Row })
		s.traceImportRefusal(ctx, ie)
		return nil, ie
	}
	reason := fmt.Sprintf("%d cameras imported", len(cams))
	if err := s.tracer.Record(ctx, trace.Record{Action: trace.ActionCameraImport, CameraIDs: importTraceIDs(cams), Outcome: trace.Allowed, Reason: reason}); err != nil {
		return nil, err
	}
	if err := s.repo.CreateCameras(ctx, cams); err != nil {
		s.recordNotStored(ctx, trace.ActionCameraImport, nil, err)
		return nil, err
	}
	for _, c := range cams {
		s.indexCamera(c)
	}
	s.storeFindings(ctx, cams...)
	for _, c := range cams {
		s.accepted(ctx, nil, c)
	}
	return cams, nil
}

// importTraceIDs keeps a trail entry of a big import to a sensible size: the ids of a large
// import are in the registry itself, with the import's time as their creation time.
func importTraceIDs(cams []*Camera) []string {
	const max = 100
	ids := make([]string, 0, min(len(cams), max))
	for _, c := range cams[:min(len(cams), max)] {
		ids = append(ids, c.ID)
	}
	return ids
}

func (s *Service) checkImportRow(ctx context.Context, scope Scope, c *Camera, in *CameraInput, orgOK map[string]error) error {
	if !scope.Allows(c.OrganisationID) {
		return errOtherOrganisation
	}
	if err := s.applyBasisInput(ctx, c, in); err != nil {
		return err
	}
	if err := ValidateCamera(c); err != nil {
		return err
	}
	if err := s.checkDates(c, in, nil); err != nil {
		return err
	}
	if c.Status == StatusDecommissioned {
		return invalid("status", "a new camera cannot be decommissioned")
	}
	err, seen := orgOK[c.OrganisationID]
	if !seen {
		err = s.requireOrganisation(ctx, c.OrganisationID)
		orgOK[c.OrganisationID] = err
	}
	if err != nil {
		return err
	}
	// An import registers cameras already built, so the duplicate-construction check, which is
	// about cameras proposed one at a time, is not asked (and would cost a check per row).
	return s.checkPolicy(c, false)
}
