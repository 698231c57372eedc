package policy

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"civicam/internal/fuzzbound"
	"civicam/policies"
)

func defaultBytes(t testing.TB) []byte {
	t.Helper()
	data, err := fs.ReadFile(policies.FS, policies.Default)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// lineOf is the 1-based line of the only occurrence of marker in s.
func lineOf(t *testing.T, s, marker string) int {
	t.Helper()
	if n := strings.Count(s, marker); n != 1 {
		t.Fatalf("marker %q occurs %d times; want once", marker, n)
	}
	return strings.Count(s[:strings.Index(s, marker)], "\n") + 1
}

// TestParseErrors breaks the real pack one way at a time and checks that the error names the file,
// the line at fault and what is wrong.
func TestParseErrors(t *testing.T) {
	orig := string(defaultBytes(t))
	tests := []struct {
		name     string
		old, new string // the edit, made once
		at       string // marker in the edited text whose line the error must name
		want     string
	}{
		{"unknown kind", "{id: public_square, kind: key_area", "{id: public_square, kind: foo", "{id: public_square, kind: foo",
			`place category "public_square": unknown kind "foo"`},
		{"missing kind", "{id: stadium, kind: key_area, ", "{id: stadium, ", "{id: stadium, ",
			`place category "stadium": kind is required`},
		{"unknown top-level key", "version: zhuzhou-2024.1\n", "version: zhuzhou-2024.1\nverison: 2\n", "verison: 2",
			`unknown key "verison" in the policy pack`},
		{"unknown nested key", "{id: bank, kind: key_area,", "{id: bank, kynd: key_area,", "{id: bank, kynd",
			`unknown key "kynd" in place category`},
		{"duplicate key", "  floor_days: 30\n", "  floor_days: 30\n  floor_days: 31\n", "floor_days: 31",
			`mapping key "floor_days" already defined`},
		{"duplicate category", "{id: hotel_lobby,", "{id: hospital,", "{id: hospital, kind: key_area, label: Hotel",
			`place category "hospital": duplicate id (first at line`},
		{"category not snake_case", "{id: road_intersection,", "{id: Road-Intersection,", "{id: Road-Intersection",
			`place category "Road-Intersection": id must be snake_case`},
		{"category label missing", "{id: library, kind: key_area, label: Large library,", "{id: library, kind: key_area,", "{id: library,",
			`place category "library": label is required`},
		{"unknown rule", "  rule: ZZ-SIGNS\n", "  rule: ZZ-SIGN\n", "rule: ZZ-SIGN\n",
			`signs: unknown rule "ZZ-SIGN"`},
		{"unknown category rule", "{id: other, kind: ordinary,", "{id: other, rule: ZZ-NOPE, kind: ordinary,", "rule: ZZ-NOPE",
			`place category "other": unknown rule "ZZ-NOPE"`},
		{"prohibited without a rule", "  prohibited_rule: ZZ-PROHIBITED-PLACES\n", "", "{id: hotel_guest_room,",
			`place category "hotel_guest_room": a prohibited category needs a rule`},
		{"bad rule id", "  - id: ZZ-SIGNS\n", "  - id: zz-signs\n", "id: zz-signs",
			`rule "zz-signs": id must be upper case`},
		{"duplicate rule", "  - id: ZZ-SIGNS\n", "  - id: ZZ-MAINTENANCE\n", "id: ZZ-MAINTENANCE\n    requirement: REG-7",
			`rule "ZZ-MAINTENANCE": duplicate id`},
		{"bad requirement", "requirement: REG-7", "requirement: seven", "requirement: seven",
			`rule "ZZ-SIGNS": requirement "seven" must look like REG-2`},
		{"floor zero", "floor_days: 30", "floor_days: 0", "floor_days: 0",
			"retention: floor_days 0 is out of range [1, 36500]"},
		{"floor below the national floor without a law", "floor_days: 30", "floor_days: 7", "floor_days: 7",
			"retention: floor_days 7 is below the national floor of 30 days; name the law that allows it in retention.floor_law"},
		{"floor law blank", "floor_days: 30", "floor_days: 29\n  floor_law: \"  \"", "floor_days: 29",
			"retention: floor_days 29 is below the national floor of 30 days"},
		{"floor missing", "  floor_days: 30\n", "", "rule: ZZ-RETENTION-FLOOR",
			"retention: floor_days is required"},
		{"floor not a number", "floor_days: 30", "floor_days: thirty", "floor_days: thirty",
			"cannot unmarshal !!str `thirty` into int"},
		{"interval out of range", "interval_days: 180", "interval_days: 5000", "interval_days: 5000",
			"maintenance: interval_days 5000 is out of range [1, 3650]"},
		{"signs required missing", "  required: true\n", "", "rule: ZZ-SIGNS\n",
			"signs: required (true or false) is required"},
		{"bad date", `in_force: "2024-03-01"`, `in_force: "1 March 2024"`, "in_force:",
			`regulation: in_force "1 March 2024" is not a date (YYYY-MM-DD)`},
		{"unknown time zone", "time_zone: Asia/Shanghai", "time_zone: Asia/Zhuzhou", "time_zone:",
			`regulation: time_zone "Asia/Zhuzhou" is not an IANA time zone`},
		{"machine's time zone", "time_zone: Asia/Shanghai", "time_zone: Local", "time_zone:",
			`regulation: time_zone "Local" is not an IANA time zone`},
		{"empty version", "version: zhuzhou-2024.1", `version: ""`, "version:",
			"version is required"},
		{"version with spaces", "version: zhuzhou-2024.1", `version: "zhuzhou 2024"`, "version:",
			`version "zhuzhou 2024" must be at most 64 characters without spaces`},
		{"unknown duty", "duty: interface_reserved", "duty: optional", "duty: optional",
			`networking duty "private": unknown duty "optional"`},
		{"duplicate investment", "{investment: private,", "{investment: government,", "{investment: government, duty: interface",
			`networking duty "government": duplicate investment`},
		{"ineligible urgent subject", "{id: elderly, eligible: true,", "{id: elderly, eligible: false,", "{id: elderly,",
			`subject category "elderly": an ineligible subject cannot be urgent`},
		{"ineligible subject without reason", "{id: elderly, eligible: true,", "{id: elderly, eligible: false,", "{id: elderly,",
			`subject category "elderly": an ineligible entry needs a reason`},
		{"eligibility missing", "{id: child, eligible: true, ", "{id: child, ", "{id: child,",
			`subject category "child": eligible (true or false) is required`},
		{"urgent hours above hours", "hours: 24, urgent_hours: 2}", "hours: 24, urgent_hours: 48}", "urgent_hours: 48",
			`step "triage": urgent_hours 48 must be between 1 and hours (24)`},
		{"a list where a map belongs", "retention:\n  rule: ZZ-RETENTION-FLOOR\n  floor_days: 30\n", "retention:\n  - 30\n", "  - 30",
			"cannot unmarshal !!seq into retention"},
		{"syntax error", "signs:\n  rule: ZZ-SIGNS\n", "signs:\n  rule: ZZ-SIGNS\n   bad: [\n", "bad: [",
			"mapping values are not allowed"},
		{"unknown sharing scope", "scopes: [live, playback]", "scopes: [live, peek]", "scopes: [live, peek]",
			`sharing default "public_security": unknown scope "peek" (want live, playback or export)`},
		{"emergency is no default", "scopes: [live, playback]", "scopes: [live, emergency]", "scopes: [live, emergency]",
			`sharing default "public_security": unknown scope "emergency"`},
		{"duplicate sharing scope", "scopes: [live, playback]", "scopes: [live, live]", "scopes: [live, live]",
			`sharing default "public_security": duplicate scope "live"`},
		{"sharing scopes missing", "{department_type: emergency_management, scopes: [live], ", "{department_type: emergency_management, ", "{department_type: emergency_management",
			`sharing default "emergency_management": scopes is required`},
		{"duplicate sharing department", "{department_type: emergency_management,", "{department_type: public_security,", "{department_type: public_security, scopes: [live], ",
			`sharing default "public_security": duplicate department_type (first at line`},
		{"sharing department not snake_case", "{department_type: emergency_management,", "{department_type: Emergency,", "{department_type: Emergency,",
			`sharing default "Emergency": department_type must be snake_case`},
		{"unknown sharing key", "{department_type: emergency_management,", "{department_typ: emergency_management,", "{department_typ:",
			`unknown key "department_typ" in sharing default`},
		{"sharing rule unknown", "scopes: [live], rule: ZZ-NETWORKING-GOVERNMENT}", "scopes: [live], rule: ZZ-SHARE}", "rule: ZZ-SHARE}",
			`sharing default "emergency_management": unknown rule "ZZ-SHARE"`},
		{"document limit out of range", "documents_per_application: 10", "documents_per_application: 0", "documents_per_application: 0",
			`lost_person_applications limits: documents_per_application 0 is out of range [1, 100]`},
		{"unknown limit", "mib_per_application: 25", "gib_per_application: 25", "gib_per_application",
			`unknown key "gib_per_application" in limits`},
		{"unknown permit", "permits: [prohibited_place]", "permits: [anything]", "permits: [anything]",
			`legal basis "detention_supervision": unknown permit "anything"`},
		{"legal basis without law", "    law: Law of the People's Republic of China on Guarding State Secrets\n", "", "  - id: state_secrets",
			`legal basis "state_secrets": law is required`},
		{"legal basis without permits", "    permits: [not_networked]\n", "", "  - id: state_secrets",
			`legal basis "state_secrets": permits is required`},
		{"second document", "version: zhuzhou-2024.1\n", "version: zhuzhou-2024.1\n", "",
			"a policy pack is one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(orig, tt.old) != 1 {
				t.Fatalf("edit %q matches %d times; want once", tt.old, strings.Count(orig, tt.old))
			}
			edited := strings.Replace(orig, tt.old, tt.new, 1)
			line := 0
			if tt.name == "second document" {
				edited += "---\nversion: two\n"
				line = strings.Count(edited, "\n") - 1
			} else {
				line = lineOf(t, edited, tt.at)
			}
			_, err := Parse([]byte(edited), "zhuzhou.yaml")
			if err == nil {
				t.Fatalf("Parse(edited) = nil error; want %q at line %d", tt.want, line)
			}
			want := fmt.Sprintf("zhuzhou.yaml:%d: %s", line, tt.want)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Parse(edited) error =\n%v\nwant a line containing\n%s", err, want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(edited) error is %T; want *ParseError", err)
			}
			for _, p := range pe.Problems {
				if p.Line <= 0 {
					t.Errorf("problem %q has no line", p.Message)
				}
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	orig := string(defaultBytes(t))
	edited := strings.NewReplacer("floor_days: 30", "floor_days: -1", "interval_days: 180", "interval_days: 0").Replace(orig)
	_, err := Parse([]byte(edited), "p.yaml")
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Problems) != 2 {
		t.Fatalf("Parse(two problems) = %v; want a *ParseError with both", err)
	}
	if pe.Problems[0].Line >= pe.Problems[1].Line {
		t.Errorf("problems at lines %d, %d; want them in line order", pe.Problems[0].Line, pe.Problems[1].Line)
	}
}

func TestDefaultSharing(t *testing.T) {
	p, err := Parse(defaultBytes(t), "zhuzhou.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		department string
		want       []string
	}{
		{"public_security", []string{"live", "playback"}},
		{"emergency_management", []string{"live"}},
		{"transportation", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.department, func(t *testing.T) {
			if got := p.DefaultSharing(tt.department); !slices.Equal(got, tt.want) {
				t.Errorf("DefaultSharing(%q) = %v; want %v", tt.department, got, tt.want)
			}
		})
	}
	if got := p.SharingDefaults(); len(got) != 2 || got[0].DepartmentType != "emergency_management" || got[1].Rule != "ZZ-NETWORKING-GOVERNMENT" {
		t.Errorf("SharingDefaults() = %+v; want emergency_management then public_security, under ZZ-NETWORKING-GOVERNMENT", got)
	}
	// A pack without a sharing section shares nothing by default.
	noSharing := strings.SplitN(string(defaultBytes(t)), "\n# What government-invested cameras are shared with", 2)[0]
	q, err := Parse([]byte(noSharing), "zhuzhou.yaml")
	if err != nil {
		t.Fatalf("Parse(without sharing) = %v", err)
	}
	if got := q.DefaultSharing("public_security"); got != nil {
		t.Errorf("DefaultSharing without a sharing section = %v; want none", got)
	}
}

func TestParseWhole(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "x.yaml: policy pack is empty"},
		{"comment only", "# nothing\n", "x.yaml: policy pack is empty"},
		{"scalar", "hello\n", "x.yaml:1: cannot unmarshal !!str `hello` into the policy pack"},
		{"empty mapping", "{}\n", "x.yaml:1: version is required"},
		{"too large", strings.Repeat("#", MaxPackSize+1), "x.yaml: policy pack is larger than"},
		{"alias loop", "a: &a [*a]\n", "x.yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data), "x.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%.40q) = %v; want an error containing %q", tt.data, err, tt.want)
			}
		})
	}
}

// TestTimeZone: the pack's zone is the city's, and a pack that names none keeps Beijing time.
func TestTimeZone(t *testing.T) {
	orig := string(defaultBytes(t))
	for _, tt := range []struct {
		name, data, want string
	}{
		{"zhuzhou", orig, "Asia/Shanghai"},
		{"none named", strings.Replace(orig, "  time_zone: Asia/Shanghai\n", "", 1), DefaultTimeZone},
		{"another zone", strings.Replace(orig, "time_zone: Asia/Shanghai", "time_zone: Asia/Urumqi", 1), "Asia/Urumqi"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.data), "zhuzhou.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Regulation().TimeZone; got != tt.want {
				t.Errorf("Regulation().TimeZone = %q; want %q", got, tt.want)
			}
			at := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
			want, _ := time.LoadLocation(tt.want)
			if got := at.In(p.Location()).Format(time.RFC3339); got != at.In(want).Format(time.RFC3339) {
				t.Errorf("01:00 UTC in Location() = %s; want %s", got, at.In(want).Format(time.RFC3339))
			}
		})
	}
}

// TestShippedPacks parses every pack in policies/ and testdata/.
func TestShippedPacks(t *testing.T) {
	entries, err := fs.ReadDir(policies.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(policies.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(data, e.Name()); err != nil {
			t.Errorf("Parse(%s) = %v; want no error", e.Name(), err)
		}
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if _, err := Load(path); err != nil {
			t.Errorf("Load(%s) = %v; want no error", path, err)
		}
	}
}

// update rewrites the checked-in seed corpora under testdata/fuzz.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzParse with -update: the shipped pack, the test
// city's, and small broken ones.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	other, err := os.ReadFile(filepath.Join("testdata", "othercity.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{"default": defaultBytes(t), "othercity": other}
	for i, s := range []string{"", "version: x\n", "a: &a [*a]\n", "rules: [{id: A}]\n", "retention: {floor_days: 99999999999999999999}\n",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "version: 1\nversion: 2\n", "\ufeffversion: \"x\"\n\t- bad\n"} {
		seeds[fmt.Sprintf("small-%d", i)] = []byte(s)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzParse: any pack parses or gives a non-empty *ParseError; a pack that parses answers every
// question without panicking, has its version and bounds set, and parses again to the same
// answers; all within the bound. Its seeds are the checked-in corpus (TestWriteFuzzSeeds).
func FuzzParse(f *testing.F) {
	facts := []CameraFacts{
		{},
		{PlaceCategory: "hotel_guest_room", Investment: InvestmentGovernment, Status: StatusActive},
		{PlaceCategory: "public_square", Investment: InvestmentPrivate, Status: StatusPlanned, RetentionDays: 30, LegalBasisID: "x", LegalBasisApproved: true},
		{PlaceCategory: "other", Investment: InvestmentPrivate, Status: StatusActive, MaintenanceIntervalDays: 1 << 30, CreatedAt: now},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		defer func() {
			fuzzbound.Check(t, start, "Parse", len(data))
		}()
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Problems) == 0 || err.Error() == "" {
				t.Fatalf("Parse error %T %q; want a non-empty *ParseError", err, err)
			}
			return
		}
		// A pack that parses must answer every question without panicking.
		cams := append([]CameraFacts(nil), facts...)
		for _, c := range p.Categories() {
			cams = append(cams, CameraFacts{PlaceCategory: c.ID, Status: StatusActive, Investment: InvestmentGovernment})
		}
		again, err := Parse(data, "fuzz.yaml")
		if err != nil || again.Version() != p.Version() {
			t.Fatalf("Parse again = %v, %v; want version %q", again, err, p.Version())
		}
		for _, c := range cams {
			d1, d2 := p.CheckCamera(c), again.CheckCamera(c)
			if !reflect.DeepEqual(d1, d2) {
				t.Fatalf("CheckCamera(%+v) = %+v, then %+v on the same pack parsed again", c, d1, d2)
			}
			p.Findings(c, now)
		}
		a := p.Applications()
		for _, s := range a.Subjects {
			for _, r := range a.Relationships {
				p.CheckApplication(r.ID, s.ID)
			}
		}
		p.CheckApplication("", "")
		if p.Version() == "" || p.RetentionFloorDays() < 1 || p.MaintenanceIntervalDays() < 1 {
			t.Fatalf("parsed pack version %q floor %d interval %d; want all set", p.Version(), p.RetentionFloorDays(), p.MaintenanceIntervalDays())
		}
	})
}

// TestApplicationLimits: the shipped pack's limits on uploads and open applications are read.
func TestApplicationLimits(t *testing.T) {
	p, err := Parse(defaultBytes(t), "zhuzhou.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{DocumentsPerApplication: 10, BytesPerApplication: 25 << 20, OpenApplicationsPerApplicant: 10}
	if got := p.Applications().Limits; got != want {
		t.Errorf("Applications().Limits = %+v; want %+v", got, want)
	}
}

// TestRetentionFloorLaw checks the national floor: a pack with a floor below 30 days loads only
// when it names the law that allows it, and one at or above the floor needs none.
func TestRetentionFloorLaw(t *testing.T) {
	orig := string(defaultBytes(t))
	tests := []struct {
		name    string
		edit    string
		wantErr bool
		wantLaw string
	}{
		{"national floor", "floor_days: 30", false, ""},
		{"below, no law", "floor_days: 7", true, ""},
		{"below, a law named", "floor_days: 7\n  floor_law: Provincial Regulation on Road Cameras, art. 12", false, "Provincial Regulation on Road Cameras, art. 12"},
		{"one day below, no law", "floor_days: 29", true, ""},
		{"above, no law", "floor_days: 31", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(strings.Replace(orig, "floor_days: 30", tt.edit, 1)), "pack.yaml")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(floor %q) error = %v; want error %v", tt.edit, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := p.RetentionFloorLaw(); got != tt.wantLaw {
				t.Errorf("RetentionFloorLaw() = %q; want %q", got, tt.wantLaw)
			}
		})
	}
}

// TestOptions checks the optional rules of other cities: off in a pack that names none, on as
// the pack's options say, and an important-footage period no shorter than the floor.
func TestOptions(t *testing.T) {
	orig := string(defaultBytes(t))
	tests := []struct {
		name    string
		options string
		want    Options
		wantErr string
	}{
		{"none", "", Options{}, ""},
		{"recipients", "options:\n  export_recipients: true\n", Options{ExportRecipients: true}, ""},
		{"important footage", "options:\n  important_footage_days: 730\n", Options{ImportantFootageDays: 730}, ""},
		{"important below the floor", "options:\n  important_footage_days: 7\n", Options{}, "options: important_footage_days 7 is out of range [30, 36500]"},
		{"unknown option", "options:\n  two_persons: true\n", Options{}, `unknown key "two_persons" in options`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(orig+"\n"+tt.options), "pack.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v; want %q", tt.options, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.options, err)
			}
			if got := p.Options(); got != tt.want {
				t.Errorf("Options() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestSystemFilingSection(t *testing.T) {
	orig := string(defaultBytes(t))
	tests := []struct {
		name, section string
		want          Filing
		wantErr       string
	}{
		{"absent", "", Filing{}, ""},
		{"thirty days", "system_filing:\n  rule: ZZ-SIGNS\n  days: 30\n", Filing{Rule: "ZZ-SIGNS", Days: 30}, ""},
		{"no days", "system_filing:\n  rule: ZZ-SIGNS\n", Filing{}, "system_filing: days is required"},
		{"dangling rule", "system_filing:\n  rule: BJ-NOPE\n  days: 30\n", Filing{}, `system_filing: unknown rule "BJ-NOPE"`},
		{"zero days", "system_filing:\n  rule: ZZ-SIGNS\n  days: 0\n", Filing{}, "days 0 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(orig+"\n"+tt.section), "pack.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v; want %q", tt.section, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.section, err)
			}
			if got := p.SystemFiling(); got != tt.want {
				t.Errorf("SystemFiling() = %+v; want %+v", got, tt.want)
			}
		})
	}
}
