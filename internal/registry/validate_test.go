package registry

import (
	"civicam/internal/fuzzbound"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func validCamera() *Camera {
	return &Camera{Name: "Gate", OrganisationID: NewID(), Investment: InvestmentGovernment, Lat: 27.83, Lon: 113.15,
		PlaceCategory: "public_square", RetentionDays: 30, Status: StatusPlanned}
}

func TestValidateCamera(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(c *Camera)
		wantField string // "" = valid
	}{
		{"valid", func(c *Camera) {}, ""},
		{"no name", func(c *Camera) { c.Name = "" }, "name"},
		{"long name", func(c *Camera) { c.Name = strings.Repeat("名", 201) }, "name"},
		{"bad org id", func(c *Camera) { c.OrganisationID = "../../x" }, "organisation_id"},
		{"bad investment", func(c *Camera) { c.Investment = "mixed" }, "investment"},
		{"NaN latitude", func(c *Camera) { c.Lat = math.NaN() }, "lat"},
		{"latitude 90.1", func(c *Camera) { c.Lat = 90.1 }, "lat"},
		{"longitude -180.5", func(c *Camera) { c.Lon = -180.5 }, "lon"},
		{"poles ok", func(c *Camera) { c.Lat, c.Lon = -90, 180 }, ""},
		{"no category", func(c *Camera) { c.PlaceCategory = "" }, "place_category"},
		{"bearing 360", func(c *Camera) { c.Bearing = 360 }, "bearing"},
		{"fov 361", func(c *Camera) { c.FOVAngle = 361 }, "fov_angle"},
		{"range infinite", func(c *Camera) { c.RangeM = math.Inf(1) }, "range_m"},
		{"http source", func(c *Camera) { c.SourceURL = "http://cam/x" }, "source_url"},
		{"rtsp source", func(c *Camera) { c.SourceURL = "rtsp://u:p@10.1.2.3:554/s" }, ""},
		{"source without host", func(c *Camera) { c.SourceURL = "rtsp:///s" }, "source_url"},
		{"retention 0", func(c *Camera) { c.RetentionDays = 0 }, "retention_days"},
		{"retention 4000", func(c *Camera) { c.RetentionDays = 4000 }, "retention_days"},
		{"bad status", func(c *Camera) { c.Status = "on" }, "status"},
		{"gb id ok", func(c *Camera) { c.GBDeviceID = "43020000001320000001" }, ""},
		{"gb id short", func(c *Camera) { c.GBDeviceID = "4302000000132000001" }, "gb_device_id"},
		{"gb id letters", func(c *Camera) { c.GBDeviceID = "4302000000132000000A" }, "gb_device_id"},
		{"gb id bad province", func(c *Camera) { c.GBDeviceID = "99020000001320000001" }, "gb_device_id"},
		{"gb id not a front-end device", func(c *Camera) { c.GBDeviceID = "43020000002000000001" }, "gb_device_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCamera()
			tt.edit(c)
			err := ValidateCamera(c)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("ValidateCamera() = %v; want nil", err)
				}
				return
			}
			ie, ok := err.(*InvalidError)
			if !ok || ie.Field != tt.wantField {
				t.Fatalf("ValidateCamera() = %v; want an InvalidError on %s", err, tt.wantField)
			}
		})
	}
}

func TestValidateStatusChange(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{StatusPlanned, StatusActive, true},
		{StatusPlanned, StatusDecommissioned, true},
		{StatusActive, StatusDecommissioned, true},
		{StatusActive, StatusActive, true},
		{StatusActive, StatusPlanned, false},
		{StatusDecommissioned, StatusActive, false},
		{StatusDecommissioned, StatusPlanned, false},
	}
	for _, tt := range tests {
		if err := ValidateStatusChange(tt.from, tt.to); (err == nil) != tt.ok {
			t.Errorf("ValidateStatusChange(%s, %s) = %v; want ok=%v", tt.from, tt.to, err, tt.ok)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rtsp://admin:hunter2@10.0.0.1:554/Streaming/101", "rtsp://10.0.0.1:554/Streaming/101"},
		{"rtsp://10.0.0.1/x", "rtsp://10.0.0.1/x"},
		{"", ""},
		{"rtsp://a b@%zz", ""}, // unparsable: withheld, never echoed
		{"rtsp://10.0.0.1/cam/2?user=admin&password=hunter2", "rtsp://10.0.0.1/cam/2?user=***&password=***"},
		{"rtsp://u:p@10.0.0.1/x?token=abc&channel#frag=secret", "rtsp://10.0.0.1/x?token=***&channel"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateOrganisation(t *testing.T) {
	tests := []struct {
		o         Organisation
		wantField string
	}{
		{Organisation{Name: "PSB", Kind: KindDepartment, DepartmentType: "public_security"}, ""},
		{Organisation{Name: "W", Kind: KindDepartment, DepartmentType: "water_conservancy"}, ""},
		{Organisation{Name: "H", Kind: KindEstablishment, EstablishmentType: "hotel"}, ""},
		{Organisation{Name: "E", Kind: KindEnterprise}, ""},
		{Organisation{Name: " ", Kind: KindEnterprise}, "name"},
		{Organisation{Name: "X", Kind: "club"}, "kind"},
		{Organisation{Name: "X", Kind: KindDepartment}, "department_type"},
		{Organisation{Name: "X", Kind: KindDepartment, DepartmentType: "police"}, "department_type"},
		{Organisation{Name: "X", Kind: KindEstablishment, EstablishmentType: "castle"}, "establishment_type"},
		{Organisation{Name: "X", Kind: KindEnterprise, EstablishmentType: "hotel"}, "establishment_type"},
		{Organisation{Name: "X", Kind: KindEstablishment, EstablishmentType: "hotel", DepartmentType: "other"}, "department_type"},
	}
	for _, tt := range tests {
		err := ValidateOrganisation(&tt.o)
		ie, _ := err.(*InvalidError)
		switch {
		case tt.wantField == "" && err != nil:
			t.Errorf("ValidateOrganisation(%+v) = %v; want nil", tt.o, err)
		case tt.wantField != "" && (ie == nil || ie.Field != tt.wantField):
			t.Errorf("ValidateOrganisation(%+v) = %v; want an error on %s", tt.o, err, tt.wantField)
		}
	}
}

func TestNewIDIsValid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if !ValidID(id) || seen[id] {
			t.Fatalf("NewID() = %q (valid %v, seen %v)", id, ValidID(id), seen[id])
		}
		seen[id] = true
	}
}

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantRows int
		wantErrs []string // "row:column:code"
	}{
		{"ok", "name,lat,lon,networked\nA,1,2,true\nB,3,4,否\n", 2, nil},
		{"bom and spaces", "\ufeffname , lat\n A , 1 \n", 1, nil},
		{"empty file", "", 0, []string{"1::empty_file"}},
		{"header only", "name\n", 0, []string{"2::no_rows"}},
		{"unknown column", "name,colour\nA,red\n", 0, []string{"1:colour:unknown_column"}},
		{"duplicate column", "name,name\nA,B\n", 0, []string{"1:name:duplicate_column"}},
		{"bad cells", "name,lat,networked,sign_checked_at\nA,x,maybe,2024-13-01\nB,1,true,2024-01-01\n", 2,
			[]string{"2:lat:invalid"}},
		{"wrong field count", "name,lat\nA\n", 0, []string{"2::malformed_csv"}},
		{"bad quote", "name,lat\n\"A,1\n", 0, []string{"2::malformed_csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseCSV(strings.NewReader(tt.in))
			var got []string
			if ie, ok := err.(*ImportError); ok {
				for _, r := range ie.Rows {
					got = append(got, strings.Join([]string{strconv.Itoa(r.Row), r.Column, r.Code}, ":"))
				}
			} else if err != nil {
				t.Fatalf("ParseCSV() error %T %v; want *ImportError", err, err)
			}
			if strings.Join(got, " ") != strings.Join(tt.wantErrs, " ") {
				t.Fatalf("ParseCSV() problems = %v; want %v", got, tt.wantErrs)
			}
			if len(rows) != tt.wantRows {
				t.Fatalf("ParseCSV() rows = %d; want %d", len(rows), tt.wantRows)
			}
		})
	}
}

// update rewrites the checked-in seed corpora under testdata/fuzz.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzParseCSV with -update: files as spreadsheets
// export them, every column, and broken ones.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	org := "0b6e4f1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
	seeds := map[string]string{
		"minimal":          "name,organisation_id,investment,lat,lon,place_category\nA,x,government,27.8,113.1,public_square\n",
		"quoted":           "name,lat,networked,sign_checked_at,retention_days\n\"q\"\"x\",1e3,yes,2024-01-01,30\n",
		"bom-unterminated": "\ufeffname\n\"unterminated\n",
		"every-column": "name,organisation_id,investment,lat,lon,address,place_category,bearing,fov_angle,range_m,source_url," +
			"networked,interface_reserved,sign_installed,sign_checked_at,retention_days,maintenance_interval_days," +
			"last_maintenance_at,status,legal_basis,gb_device_id\r\n" +
			"\"Station Square, north gate\"," + org + ",government,27.8281,113.1512,\"建设路 1 号\",public_square,90,60,80," +
			"rtsp://10.0.0.7:554/stream1,true,1,是,2026-03-01T08:00:00Z,30,180,2026-06-01,active,REG-2,43010000001320000001\r\n" +
			"River walk," + org + ",private,27.82,113.14,,riverside,,,,,no,0,false,,90,,,planned,,\r\n",
		"bad-values":  "name,lat,lon,retention_days,networked\nX,north,200,-1,perhaps\nY,NaN,Inf,1e99,\n",
		"unknown-dup": "name,name,colour\na,b,c\n",
		"ragged":      "name,lat\na\nb,1,2\n",
		"empty":       "",
		"header-only": "name,lat,lon\n",
		"lazy-quote":  "name\na\"b\n\"c\"d\"\n",
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseCSV")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range seeds {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzParseCSV: any input gives rows or an ImportError, never a panic, within the bound, and
// every problem names a row inside the file. Its seeds are the checked-in corpus.
func FuzzParseCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		start := time.Now()
		defer func() {
			fuzzbound.Check(t, start, "ParseCSV", len(in))
		}()
		rows, err := ParseCSV(strings.NewReader(in))
		if err == nil {
			if len(rows) == 0 {
				t.Fatal("no error and no rows")
			}
			return
		}
		ie, ok := err.(*ImportError)
		if !ok {
			t.Fatalf("error %T %v; want *ImportError", err, err)
		}
		lines := strings.Count(in, "\n") + 2
		for _, r := range ie.Rows {
			if r.Row < 1 || r.Row > lines || r.Message == "" {
				t.Fatalf("problem %+v outside the file's %d lines", r, lines)
			}
		}
	})
}
