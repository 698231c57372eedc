package policy

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"civicam/policies"
)

func mustDefault(t testing.TB) *Pack {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatalf("Default() error: %v", err)
	}
	return p
}

func mustLoad(t testing.TB, path string) *Pack {
	t.Helper()
	p, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s) error: %v", path, err)
	}
	return p
}

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// compliant is an active government camera that breaks no rule of the Zhuzhou pack.
func compliant() CameraFacts {
	return CameraFacts{
		PlaceCategory:     "public_square",
		Investment:        InvestmentGovernment,
		Status:            StatusActive,
		Networked:         true,
		InterfaceReserved: true,
		SignInstalled:     true,
		SignCheckedAt:     now.AddDate(0, -1, 0),
		RetentionDays:     30,
		LastMaintenanceAt: now.AddDate(0, 0, -10),
		CreatedAt:         now.AddDate(-1, 0, 0),
	}
}

func codes[T any](items []T, code func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, code(it))
	}
	return out
}

func decisionCodes(ds []Decision) []string {
	return codes(ds, func(d Decision) string { return d.Code })
}
func findingCodes(fs []Finding) []string { return codes(fs, func(f Finding) string { return f.Code }) }

// shippedPack is one pack of policies/ with the names its rules have for the Zhuzhou pack's rule
// ids, so that one table of cases runs on every shipped pack.
type shippedPack struct {
	name string
	pack *Pack
	rule map[string]string // Zhuzhou rule id → this pack's; absent: the same
}

func (s shippedPack) ruleOf(zz string) string {
	if r, ok := s.rule[zz]; ok {
		return r
	}
	return zz
}

// shippedPacks are the packs the policy tests run on: the default and the second real pack.
func shippedPacks(t testing.TB) []shippedPack {
	t.Helper()
	data, err := fs.ReadFile(policies.FS, "typical.yaml")
	if err != nil {
		t.Fatal(err)
	}
	typical, err := Parse(data, "typical.yaml")
	if err != nil {
		t.Fatalf("Parse(typical.yaml) = %v", err)
	}
	return []shippedPack{
		{name: "zhuzhou", pack: mustDefault(t)},
		{name: "typical", pack: typical, rule: map[string]string{
			"ZZ-PLACE-CATEGORIES":      "TC-KEY-PLACES",
			"ZZ-PROHIBITED-PLACES":     "TC-BANNED-PLACES",
			"ZZ-NETWORKING-GOVERNMENT": "TC-NETWORKING-GOVERNMENT",
			"ZZ-NETWORKING-PRIVATE":    "TC-NETWORKING-PRIVATE",
			"ZZ-RETENTION-FLOOR":       "TC-RETENTION-FLOOR",
			"ZZ-MAINTENANCE":           "TC-RUN-AND-REPAIR",
			"ZZ-SIGNS":                 "TC-SIGNS",
		}},
	}
}

func TestCheckCamera(t *testing.T) {
	for _, sp := range shippedPacks(t) {
		t.Run(sp.name, func(t *testing.T) { testCheckCamera(t, sp) })
	}
}

func testCheckCamera(t *testing.T, sp shippedPack) {
	p := sp.pack
	tests := []struct {
		name   string
		modify func(*CameraFacts)
		want   []Decision // PolicyVersion is filled in; Reason is checked for the substrings below
		reason []string
	}{
		{name: "compliant", modify: func(*CameraFacts) {}},
		{name: "key area planned", modify: func(c *CameraFacts) { c.Status = StatusPlanned; c.PlaceCategory = "school_perimeter" }},
		{name: "ordinary category", modify: func(c *CameraFacts) { c.PlaceCategory = "other" }},
		{
			name:   "prohibited hotel guest room",
			modify: func(c *CameraFacts) { c.PlaceCategory = "hotel_guest_room" },
			want:   []Decision{{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory}},
			reason: []string{`"hotel_guest_room"`, "Hotel guest room", "no legal basis", "privacy"},
		},
		{
			name:   "prohibited while planned",
			modify: func(c *CameraFacts) { c.PlaceCategory = "fitting_room"; c.Status = StatusPlanned },
			want:   []Decision{{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory}},
		},
		{
			name: "prohibited with a basis the pack does not know",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "public_bath"
				c.LegalBasisID = "Prison Law art. 12"
				c.LegalBasisApproved = true
			},
			want:   []Decision{{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory}},
			reason: []string{"is not one of policy pack"},
		},
		{
			name: "prohibited with an approved legal basis",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "collective_dormitory"
				c.LegalBasisID = "detention_supervision"
				c.LegalBasisApproved = true
			},
		},
		{
			name: "prohibited and active with a pending legal basis",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "collective_dormitory"
				c.LegalBasisID = "detention_supervision"
			},
			want:   []Decision{{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory}},
			reason: []string{"pending approval"},
		},
		{
			name: "prohibited and planned with a pending legal basis",
			modify: func(c *CameraFacts) {
				c.PlaceCategory, c.Status, c.LegalBasisID = "collective_dormitory", StatusPlanned, "detention_supervision"
			},
		},
		{
			name: "prohibited with an approved basis that permits something else",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "public_bath"
				c.LegalBasisID = "state_secrets"
				c.LegalBasisApproved = true
			},
			want:   []Decision{{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory}},
			reason: []string{"does not permit prohibited_place"},
		},
		{
			name: "decommissioning a prohibited camera",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "hotel_guest_room"
				c.Status = StatusDecommissioned
				c.RetentionDays = 1
			},
		},
		{
			name:   "unknown category",
			modify: func(c *CameraFacts) { c.PlaceCategory = "moon_base" },
			want:   []Decision{{Code: CodeUnknownPlaceCategory, Rule: "ZZ-PLACE-CATEGORIES", Field: FieldPlaceCategory}},
			reason: []string{`"moon_base"`, "zhuzhou-2024.1"},
		},
		{
			name:   "no category",
			modify: func(c *CameraFacts) { c.PlaceCategory = "" },
			want:   []Decision{{Code: CodeUnknownPlaceCategory, Rule: "ZZ-PLACE-CATEGORIES", Field: FieldPlaceCategory}},
			reason: []string{"no place category"},
		},
		{
			name:   "retention below floor",
			modify: func(c *CameraFacts) { c.RetentionDays = 10 },
			want:   []Decision{{Code: CodeRetentionBelowFloor, Rule: "ZZ-RETENTION-FLOOR", Field: FieldRetentionDays}},
			reason: []string{"retention 10 days is below the 30-day floor"},
		},
		{
			name:   "retention zero",
			modify: func(c *CameraFacts) { c.RetentionDays = 0 },
			want:   []Decision{{Code: CodeRetentionBelowFloor, Rule: "ZZ-RETENTION-FLOOR", Field: FieldRetentionDays}},
		},
		{name: "retention above floor", modify: func(c *CameraFacts) { c.RetentionDays = 365 }},
		{
			name:   "prohibited and short retention",
			modify: func(c *CameraFacts) { c.PlaceCategory = "mother_baby_room"; c.RetentionDays = 29 },
			want: []Decision{
				{Code: CodeProhibitedPlace, Rule: "ZZ-PROHIBITED-PLACES", Field: FieldPlaceCategory},
				{Code: CodeRetentionBelowFloor, Rule: "ZZ-RETENTION-FLOOR", Field: FieldRetentionDays},
			},
		},
		{
			name:   "duties that only findings report do not refuse",
			modify: func(c *CameraFacts) { c.Networked = false; c.SignInstalled = false; c.LastMaintenanceAt = time.Time{} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compliant()
			tt.modify(&c)
			got := p.CheckCamera(c)
			if len(got) != len(tt.want) {
				t.Fatalf("CheckCamera(%+v) = %v; want codes %v", c, decisionCodes(got), decisionCodes(tt.want))
			}
			for i, d := range got {
				w := tt.want[i]
				w.Rule = sp.ruleOf(w.Rule)
				if d.Code != w.Code || d.Rule != w.Rule || d.Field != w.Field || d.PolicyVersion != p.Version() {
					t.Errorf("CheckCamera(%+v)[%d] = %+v; want code %s rule %s field %s version %s", c, i, d, w.Code, w.Rule, w.Field, p.Version())
				}
				if d.Reason == "" {
					t.Errorf("CheckCamera(%+v)[%d].Reason is empty", c, i)
				}
			}
			for _, s := range tt.reason {
				s = strings.ReplaceAll(s, "zhuzhou-2024.1", p.Version())
				if !strings.Contains(got[0].Reason, s) {
					t.Errorf("CheckCamera(%+v)[0].Reason = %q; want it to contain %q", c, got[0].Reason, s)
				}
			}
		})
	}
}

func TestFindings(t *testing.T) {
	for _, sp := range shippedPacks(t) {
		t.Run(sp.name, func(t *testing.T) { testFindings(t, sp) })
	}
}

func testFindings(t *testing.T, sp shippedPack) {
	p := sp.pack
	tests := []struct {
		name    string
		modify  func(*CameraFacts)
		want    []string
		message string // a substring of the first finding's message
	}{
		{name: "compliant", modify: func(*CameraFacts) {}, want: nil},
		{
			name:   "sign checked 366 days ago",
			modify: func(c *CameraFacts) { c.SignCheckedAt = now.AddDate(0, 0, -366) },
			want:   []string{CodeSignCheckOverdue}, message: "sign check overdue by 1 days",
		},
		{
			name:   "sign checked 364 days ago",
			modify: func(c *CameraFacts) { c.SignCheckedAt = now.AddDate(0, 0, -364) },
			want:   nil,
		},
		{
			name:   "sign never checked, registered over a year ago",
			modify: func(c *CameraFacts) { c.SignCheckedAt = time.Time{}; c.CreatedAt = now.AddDate(-2, 0, 0) },
			want:   []string{CodeSignCheckOverdue}, message: "never checked",
		},
		{
			name:   "no sign: no check owed",
			modify: func(c *CameraFacts) { c.SignInstalled = false; c.SignCheckedAt = now.AddDate(-3, 0, 0) },
			want:   []string{CodeNoSign},
		},
		{
			name:   "government not networked",
			modify: func(c *CameraFacts) { c.Networked = false },
			want:   []string{CodeNotNetworked}, message: "government-invested camera is not networked",
		},
		{
			name: "government not networked with an approved legal basis",
			modify: func(c *CameraFacts) {
				c.Networked = false
				c.LegalBasisID = "state_secrets"
				c.LegalBasisApproved = true
			},
			want: nil,
		},
		{
			name:   "government not networked with a pending legal basis",
			modify: func(c *CameraFacts) { c.Networked = false; c.LegalBasisID = "state_secrets" },
			want:   []string{CodeNetworkingExemptionPending}, message: "pending approval",
		},
		{
			name:   "government not networked with a basis migrated from free text, pending",
			modify: func(c *CameraFacts) { c.Networked = false; c.LegalBasisPending = true },
			want:   []string{CodeNetworkingExemptionPending}, message: "proposed again",
		},
		{
			name:   "government not networked with a basis the pack does not know",
			modify: func(c *CameraFacts) { c.Networked = false; c.LegalBasisID = "n/a"; c.LegalBasisApproved = true },
			want:   []string{CodeNotNetworked},
		},
		{
			name: "private without interface",
			modify: func(c *CameraFacts) {
				c.Investment = InvestmentPrivate
				c.Networked = false
				c.InterfaceReserved = false
			},
			want: []string{CodeNoNetworkInterface}, message: "private-invested camera has no networking interface reserved",
		},
		{
			name:   "private with interface, not networked",
			modify: func(c *CameraFacts) { c.Investment = InvestmentPrivate; c.Networked = false },
			want:   nil,
		},
		{
			name:   "private networked without recorded interface",
			modify: func(c *CameraFacts) { c.Investment = InvestmentPrivate; c.InterfaceReserved = false },
			want:   nil,
		},
		{
			name:   "investment without a duty",
			modify: func(c *CameraFacts) { c.Investment = "lottery"; c.Networked = false; c.InterfaceReserved = false },
			want:   nil,
		},
		{name: "no sign", modify: func(c *CameraFacts) { c.SignInstalled = false }, want: []string{CodeNoSign}},
		{
			name:   "maintenance overdue",
			modify: func(c *CameraFacts) { c.LastMaintenanceAt = now.AddDate(0, 0, -200) },
			want:   []string{CodeMaintenanceOverdue}, message: "overdue by 20 days: last maintained 2026-05-14, interval 180 days, due 2026-11-10",
		},
		{
			name:   "maintenance due today is not overdue",
			modify: func(c *CameraFacts) { c.LastMaintenanceAt = now.AddDate(0, 0, -180) },
			want:   nil,
		},
		{
			name:   "camera's shorter interval applies",
			modify: func(c *CameraFacts) { c.MaintenanceIntervalDays = 30; c.LastMaintenanceAt = now.AddDate(0, 0, -31) },
			want:   []string{CodeMaintenanceOverdue}, message: "interval 30 days",
		},
		{
			name:   "camera's longer interval is capped at the pack's",
			modify: func(c *CameraFacts) { c.MaintenanceIntervalDays = 365; c.LastMaintenanceAt = now.AddDate(0, 0, -200) },
			want:   []string{CodeMaintenanceOverdue}, message: "interval 180 days",
		},
		{
			name:   "never maintained, registered long ago",
			modify: func(c *CameraFacts) { c.LastMaintenanceAt = time.Time{} },
			want:   []string{CodeMaintenanceOverdue}, message: "never maintained; registered 2025-11-30",
		},
		{
			name:   "never maintained, registered recently",
			modify: func(c *CameraFacts) { c.LastMaintenanceAt = time.Time{}; c.CreatedAt = now.AddDate(0, 0, -5) },
			want:   nil,
		},
		{
			name:   "never maintained, registration unknown",
			modify: func(c *CameraFacts) { c.LastMaintenanceAt = time.Time{}; c.CreatedAt = time.Time{} },
			want:   []string{CodeMaintenanceOverdue}, message: "registration date unknown",
		},
		{
			name: "prohibited place exempted",
			modify: func(c *CameraFacts) {
				c.PlaceCategory = "public_bath"
				c.LegalBasisID = "detention_supervision"
				c.LegalBasisApproved = true
			},
			want: []string{CodeProhibitedPlaceExempted}, message: `"public_bath" (Public bath) is allowed by the approved legal basis detention_supervision`,
		},
		{
			name:   "prohibited place with a pending legal basis",
			modify: func(c *CameraFacts) { c.PlaceCategory = "public_bath"; c.LegalBasisID = "detention_supervision" },
			want:   []string{CodeProhibitedPlace}, message: "pending approval",
		},
		{
			name:   "prohibited place without legal basis",
			modify: func(c *CameraFacts) { c.PlaceCategory = "changing_room" },
			want:   []string{CodeProhibitedPlace},
		},
		{name: "unknown category", modify: func(c *CameraFacts) { c.PlaceCategory = "moon_base" }, want: []string{CodeUnknownPlaceCategory}},
		{name: "no category", modify: func(c *CameraFacts) { c.PlaceCategory = "" }, want: []string{CodeUnknownPlaceCategory}, message: "no place category recorded"},
		{name: "retention below floor", modify: func(c *CameraFacts) { c.RetentionDays = 7 }, want: []string{CodeRetentionBelowFloor}, message: "retention 7 days is below the 30-day floor"},
		{
			name: "everything wrong, active",
			modify: func(c *CameraFacts) {
				*c = CameraFacts{PlaceCategory: "dressing_room", Investment: InvestmentPrivate, Status: StatusActive, RetentionDays: 3, CreatedAt: now.AddDate(-2, 0, 0)}
			},
			want: []string{CodeProhibitedPlace, CodeRetentionBelowFloor, CodeNoNetworkInterface, CodeNoSign, CodeMaintenanceOverdue},
		},
		{
			name: "everything wrong, planned: only what is decided before building",
			modify: func(c *CameraFacts) {
				*c = CameraFacts{PlaceCategory: "dressing_room", Investment: InvestmentGovernment, Status: StatusPlanned, RetentionDays: 3}
			},
			want: []string{CodeProhibitedPlace, CodeRetentionBelowFloor},
		},
		{
			name: "planned exempted",
			modify: func(c *CameraFacts) {
				*c = CameraFacts{PlaceCategory: "fitting_room", Status: StatusPlanned, RetentionDays: 30, LegalBasisID: "detention_supervision", LegalBasisApproved: true}
			},
			want: []string{CodeProhibitedPlaceExempted},
		},
		{
			name: "everything wrong, decommissioned",
			modify: func(c *CameraFacts) {
				*c = CameraFacts{PlaceCategory: "moon_base", Investment: InvestmentGovernment, Status: StatusDecommissioned}
			},
			want: nil,
		},
		{
			name: "unknown status is treated as active",
			modify: func(c *CameraFacts) {
				c.Status = "actve"
				c.SignInstalled = false
			},
			want: []string{CodeNoSign},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compliant()
			tt.modify(&c)
			got := p.Findings(c, now)
			if gc := findingCodes(got); !reflect.DeepEqual(gc, append([]string{}, tt.want...)) {
				t.Fatalf("Findings(%+v) = %v; want %v", c, gc, tt.want)
			}
			for i, f := range got {
				if f.PolicyVersion != p.Version() || f.Message == "" {
					t.Errorf("Findings(%+v)[%d] = %+v; want version %s and a message", c, i, f, p.Version())
				}
				if _, ok := p.Rule(f.Rule); !ok {
					t.Errorf("Findings(%+v)[%d].Rule = %q; not a rule of the pack", c, i, f.Rule)
				}
			}
			if tt.message != "" && !strings.Contains(got[0].Message, tt.message) {
				t.Errorf("Findings(%+v)[0].Message = %q; want it to contain %q", c, got[0].Message, tt.message)
			}
		})
	}
}

func TestFindingRules(t *testing.T) {
	for _, sp := range shippedPacks(t) {
		t.Run(sp.name, func(t *testing.T) { testFindingRules(t, sp) })
	}
}

func testFindingRules(t *testing.T, sp shippedPack) {
	p := sp.pack
	c := CameraFacts{PlaceCategory: "public_square", Investment: InvestmentGovernment, Status: StatusActive}
	want := map[string]string{
		CodeRetentionBelowFloor: sp.ruleOf("ZZ-RETENTION-FLOOR"),
		CodeNotNetworked:        sp.ruleOf("ZZ-NETWORKING-GOVERNMENT"),
		CodeNoSign:              sp.ruleOf("ZZ-SIGNS"),
		CodeMaintenanceOverdue:  sp.ruleOf("ZZ-MAINTENANCE"),
	}
	got := map[string]string{}
	for _, f := range p.Findings(c, now) {
		got[f.Code] = f.Rule
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Findings(%+v) rules = %v; want %v", c, got, want)
	}
	c.Investment = InvestmentPrivate
	fs := p.Findings(c, now)
	if w := sp.ruleOf("ZZ-NETWORKING-PRIVATE"); fs[1].Code != CodeNoNetworkInterface || fs[1].Rule != w {
		t.Errorf("Findings(%+v)[1] = %+v; want no_network_interface under %s", c, fs[1], w)
	}
}

func TestCheckApplication(t *testing.T) {
	p := mustDefault(t)
	tests := []struct {
		relationship, subject string
		want                  []Decision
		reason                string
	}{
		{relationship: "guardian", subject: "child"},
		{relationship: "close_relative", subject: "elderly"},
		{relationship: "guardian", subject: "intellectual_disability"},
		{relationship: "guardian", subject: "pet", want: []Decision{{Code: CodeIneligibleSubject, Field: FieldSubjectCategory}}, reason: "A lost pet does not qualify"},
		{relationship: "close_relative", subject: "property", want: []Decision{{Code: CodeIneligibleSubject, Field: FieldSubjectCategory}}, reason: "report the loss"},
		{relationship: "close_relative", subject: "other_adult", want: []Decision{{Code: CodeIneligibleSubject, Field: FieldSubjectCategory}}},
		{relationship: "close_relative", subject: "ghost", want: []Decision{{Code: CodeIneligibleSubject, Field: FieldSubjectCategory}}, reason: "eligible: elderly, child, intellectual_disability"},
		{relationship: "other", subject: "child", want: []Decision{{Code: CodeIneligibleApplicant, Field: FieldRelationship}}, reason: "guardian or a close relative"},
		{relationship: "neighbour", subject: "child", want: []Decision{{Code: CodeIneligibleApplicant, Field: FieldRelationship}}, reason: "eligible: guardian, close_relative"},
		{relationship: "", subject: "", want: []Decision{{Code: CodeIneligibleSubject, Field: FieldSubjectCategory}, {Code: CodeIneligibleApplicant, Field: FieldRelationship}}},
	}
	for _, tt := range tests {
		t.Run(tt.relationship+"/"+tt.subject, func(t *testing.T) {
			got := p.CheckApplication(tt.relationship, tt.subject)
			if len(got) != len(tt.want) {
				t.Fatalf("CheckApplication(%q, %q) = %v; want %v", tt.relationship, tt.subject, decisionCodes(got), decisionCodes(tt.want))
			}
			for i, d := range got {
				if d.Code != tt.want[i].Code || d.Field != tt.want[i].Field || d.Rule != "ZZ-LOST-PERSON-ACCESS" || d.PolicyVersion != "zhuzhou-2024.1" || d.Reason == "" {
					t.Errorf("CheckApplication(%q, %q)[%d] = %+v; want code %s field %s", tt.relationship, tt.subject, i, d, tt.want[i].Code, tt.want[i].Field)
				}
			}
			if tt.reason != "" && !strings.Contains(got[0].Reason, tt.reason) {
				t.Errorf("CheckApplication(%q, %q)[0].Reason = %q; want it to contain %q", tt.relationship, tt.subject, got[0].Reason, tt.reason)
			}
		})
	}
}

func TestApplicationsSection(t *testing.T) {
	a := mustDefault(t).Applications()
	for _, id := range []string{"elderly", "child", "intellectual_disability"} {
		if s, ok := a.Subject(id); !ok || !s.Eligible || !s.Urgent {
			t.Errorf("Subject(%q) = %+v, %v; want eligible and urgent", id, s, ok)
		}
	}
	for _, id := range []string{"pet", "property", "other_adult"} {
		if s, ok := a.Subject(id); !ok || s.Eligible || s.Reason == "" || s.ReasonZH == "" {
			t.Errorf("Subject(%q) = %+v, %v; want ineligible with reasons", id, s, ok)
		}
	}
	for _, id := range []string{"guardian", "close_relative"} {
		if r, ok := a.Relationship(id); !ok || !r.Eligible {
			t.Errorf("Relationship(%q) = %+v, %v; want eligible", id, r, ok)
		}
	}
	s, ok := a.Step("triage")
	if !ok || s.Deadline(false) != 24*time.Hour || s.Deadline(true) != 2*time.Hour {
		t.Errorf("Step(triage) = %+v, %v; want 24h, urgent 2h", s, ok)
	}
	if _, ok := a.Step("nope"); ok {
		t.Errorf("Step(nope) found; want not found")
	}

	// An omitted urgent_hours means the normal deadline applies to urgent cases too.
	o := mustLoad(t, filepath.Join("testdata", "othercity.yaml")).Applications()
	if s, _ := o.Step("triage"); s.Deadline(true) != 12*time.Hour {
		t.Errorf("othercity Step(triage).Deadline(true) = %v; want 12h", s.Deadline(true))
	}

	// The copy is the caller's: changing it does not change the pack.
	p := mustDefault(t)
	a = p.Applications()
	a.Subjects[0].Eligible = false
	if got := p.CheckApplication("guardian", "elderly"); len(got) != 0 {
		t.Errorf("after editing a copy, CheckApplication(guardian, elderly) = %v; want eligible", decisionCodes(got))
	}
}

// TestOtherCity shows that a city's rules are data: the same code, given another pack, refuses
// other places and other retentions, under that pack's rule ids and version.
func TestOtherCity(t *testing.T) {
	zz := mustDefault(t)
	oc := mustLoad(t, filepath.Join("testdata", "othercity.yaml"))

	ward := compliant()
	ward.PlaceCategory, ward.RetentionDays = "hospital_ward", 90
	if got := decisionCodes(zz.CheckCamera(ward)); !reflect.DeepEqual(got, []string{CodeUnknownPlaceCategory}) {
		t.Errorf("zhuzhou CheckCamera(hospital_ward) = %v; want [unknown_place_category]", got)
	}
	got := oc.CheckCamera(ward)
	if len(got) != 1 || got[0].Code != CodeProhibitedPlace || got[0].Rule != "OC-ART-9" || got[0].PolicyVersion != "othercity-2025.2" {
		t.Errorf("othercity CheckCamera(hospital_ward) = %+v; want prohibited_place under OC-ART-9, version othercity-2025.2", got)
	}
	guest := compliant()
	guest.PlaceCategory, guest.RetentionDays = "hotel_guest_room", 90
	if got := oc.CheckCamera(guest); len(got) != 1 || got[0].Rule != "OC-ART-8" {
		t.Errorf("othercity CheckCamera(hotel_guest_room) = %+v; want prohibited_place under the default OC-ART-8", got)
	}

	sixty := compliant()
	sixty.RetentionDays = 60
	if got := zz.CheckCamera(sixty); len(got) != 0 {
		t.Errorf("zhuzhou CheckCamera(retention 60) = %v; want allowed", decisionCodes(got))
	}
	got = oc.CheckCamera(sixty)
	if len(got) != 1 || got[0].Code != CodeRetentionBelowFloor || !strings.Contains(got[0].Reason, "below the 90-day floor") {
		t.Errorf("othercity CheckCamera(retention 60) = %+v; want retention_below_floor with the 90-day floor", got)
	}

	// No sign duty and no private networking duty there; a shorter maintenance interval.
	c := compliant()
	c.RetentionDays, c.Investment, c.InterfaceReserved, c.Networked, c.SignInstalled = 90, InvestmentPrivate, false, false, false
	c.LastMaintenanceAt = now.AddDate(0, 0, -100)
	if got := findingCodes(oc.Findings(c, now)); !reflect.DeepEqual(got, []string{CodeMaintenanceOverdue}) {
		t.Errorf("othercity Findings(%+v) = %v; want [maintenance_overdue]", c, got)
	}
	if got := findingCodes(zz.Findings(c, now)); !reflect.DeepEqual(got, []string{CodeNoNetworkInterface, CodeNoSign}) {
		t.Errorf("zhuzhou Findings(%+v) = %v; want [no_network_interface no_sign]", c, got)
	}
	if oc.RetentionFloorDays() != 90 || oc.MaintenanceIntervalDays() != 90 || oc.SignsRequired() {
		t.Errorf("othercity floor %d, interval %d, signs %v; want 90, 90, false", oc.RetentionFloorDays(), oc.MaintenanceIntervalDays(), oc.SignsRequired())
	}
}

func TestDefaultPack(t *testing.T) {
	p := mustDefault(t)
	if p.Version() != "zhuzhou-2024.1" || p.Source() != "zhuzhou.yaml" || len(p.Digest()) != 64 {
		t.Errorf("Default() version %q source %q digest %q; want zhuzhou-2024.1, zhuzhou.yaml, a SHA-256", p.Version(), p.Source(), p.Digest())
	}
	reg := p.Regulation()
	if !reg.InForce.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) || reg.Name == "" || reg.NameZH == "" {
		t.Errorf("Regulation() = %+v; want in force 2024-03-01 with English and Chinese names", reg)
	}
	if p.RetentionFloorDays() != 30 || p.MaintenanceIntervalDays() != 180 || !p.SignsRequired() {
		t.Errorf("floor %d, interval %d, signs %v; want 30, 180, true", p.RetentionFloorDays(), p.MaintenanceIntervalDays(), p.SignsRequired())
	}
	for _, id := range []string{"hotel_guest_room", "collective_dormitory", "public_bath", "fitting_room", "mother_baby_room", "changing_room", "dressing_room"} {
		if !p.IsProhibited(id) || p.IsKeyArea(id) {
			t.Errorf("IsProhibited(%q) = %v, IsKeyArea = %v; want true, false", id, p.IsProhibited(id), p.IsKeyArea(id))
		}
	}
	for _, id := range []string{"public_square", "road_intersection", "transport_hub", "school_perimeter", "hospital", "shopping_mall", "hotel_lobby"} {
		if !p.IsKeyArea(id) || p.IsProhibited(id) {
			t.Errorf("IsKeyArea(%q) = %v, IsProhibited = %v; want true, false", id, p.IsKeyArea(id), p.IsProhibited(id))
		}
	}
	if p.IsKeyArea("other") || p.IsProhibited("other") || p.IsKeyArea("nope") || p.IsProhibited("nope") {
		t.Errorf("ordinary or unknown categories reported as key area or prohibited")
	}
	if _, ok := p.Category("nope"); ok {
		t.Errorf("Category(nope) found; want not found")
	}
	for _, c := range p.Categories() {
		if c.Label == "" || c.LabelZH == "" {
			t.Errorf("Category %q has labels %q / %q; want both", c.ID, c.Label, c.LabelZH)
		}
		if _, ok := p.Rule(c.Rule); !ok {
			t.Errorf("Category %q rule %q is not in the pack", c.ID, c.Rule)
		}
	}
	for _, r := range p.Rules() {
		if r.Text == "" || r.Reason == "" || r.TextZH == "" || r.ReasonZH == "" || r.Requirement == "" {
			t.Errorf("Rule %q = %+v; want text and reason in both languages and a requirement", r.ID, r)
		}
	}
	if d, ok := p.NetworkingDuty(InvestmentGovernment); !ok || d.Duty != DutyNetworked {
		t.Errorf("NetworkingDuty(government) = %+v, %v; want networked", d, ok)
	}
	if d, ok := p.NetworkingDuty(InvestmentPrivate); !ok || d.Duty != DutyInterfaceReserved {
		t.Errorf("NetworkingDuty(private) = %+v, %v; want interface_reserved", d, ok)
	}
	if len(p.Networking()) != 2 {
		t.Errorf("Networking() = %v; want 2 duties", p.Networking())
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Errorf("Load(missing) = nil error; want one")
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxPackSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), big+": policy pack is larger") {
		t.Errorf("Load(big) = %v; want too large, naming the file", err)
	}
}

func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindings is the per-camera cost of a city-wide compliance report.
func BenchmarkFindings(b *testing.B) {
	p := mustDefault(b)
	c := CameraFacts{PlaceCategory: "dressing_room", Investment: InvestmentPrivate, Status: StatusActive, RetentionDays: 3, CreatedAt: now.AddDate(-2, 0, 0)}
	for b.Loop() {
		if len(p.Findings(c, now)) != 5 {
			b.Fatal("want 5 findings")
		}
	}
}

func BenchmarkCheckCamera(b *testing.B) {
	p := mustDefault(b)
	c := compliant()
	for b.Loop() {
		if len(p.CheckCamera(c)) != 0 {
			b.Fatal("want allowed")
		}
	}
}

func TestLegalBases(t *testing.T) {
	p := mustDefault(t)
	tests := []struct {
		id     string
		permit Permit
		want   bool
	}{
		{"detention_supervision", PermitProhibitedPlace, true},
		{"detention_supervision", PermitNotNetworked, false},
		{"state_secrets", PermitNotNetworked, true},
		{"state_secrets", PermitProhibitedPlace, false},
	}
	for _, tt := range tests {
		t.Run(tt.id+" "+string(tt.permit), func(t *testing.T) {
			b, ok := p.LegalBasis(tt.id)
			if !ok {
				t.Fatalf("LegalBasis(%q) not found", tt.id)
			}
			if got := b.Allows(tt.permit); got != tt.want {
				t.Errorf("LegalBasis(%q).Allows(%s) = %v; want %v", tt.id, tt.permit, got, tt.want)
			}
			approved := CameraFacts{LegalBasisID: tt.id, LegalBasisApproved: true}
			if got := p.Permits(approved, tt.permit); got != tt.want {
				t.Errorf("Permits(approved %s, %s) = %v; want %v", tt.id, tt.permit, got, tt.want)
			}
			if p.Permits(CameraFacts{LegalBasisID: tt.id}, tt.permit) {
				t.Errorf("Permits(pending %s, %s) = true; want false", tt.id, tt.permit)
			}
		})
	}
	if _, ok := p.LegalBasis("Article X of some law (test)"); ok {
		t.Errorf("LegalBasis(free text) found; want not found")
	}
}

// TestSecondPack checks issue 17 point 9: the second shipped pack differs from Zhuzhou's where
// REGULATIONS.md says its sources differ, so switching packs changes decisions with no code change.
func TestSecondPack(t *testing.T) {
	packs := shippedPacks(t)
	zz, tc := packs[0].pack, packs[1].pack
	for _, cat := range []string{"hospital_ward", "entertainment_private_room", "rest_room", "financial_customer_area", "ballot_area"} {
		c := compliant()
		c.PlaceCategory = cat
		if got := decisionCodes(zz.CheckCamera(c)); !reflect.DeepEqual(got, []string{CodeUnknownPlaceCategory}) {
			t.Errorf("zhuzhou CheckCamera(%s) = %v; want [unknown_place_category]", cat, got)
		}
		if got := tc.CheckCamera(c); len(got) != 1 || got[0].Code != CodeProhibitedPlace || got[0].Rule != "TC-BANNED-PLACES" {
			t.Errorf("typical CheckCamera(%s) = %+v; want prohibited_place under TC-BANNED-PLACES", cat, got)
		}
	}
	if got, want := tc.Options(), (Options{ExportRecipients: true, TwoPersonExport: true, ImportantFootageDays: 730}); got != want {
		t.Errorf("typical Options() = %+v; want %+v", got, want)
	}
	if got := zz.Options(); got != (Options{}) {
		t.Errorf("zhuzhou Options() = %+v; want none", got)
	}
	if got := zz.SystemFiling(); got.Days != 0 {
		t.Errorf("zhuzhou SystemFiling() = %+v; want none", got)
	}
	if got := tc.SystemFiling(); got.Days != 30 || got.Rule != "TC-SYSTEM-FILING" {
		t.Errorf("typical SystemFiling() = %+v; want 30 days under TC-SYSTEM-FILING", got)
	}

	accepted := now.AddDate(0, 0, -31)
	tests := []struct {
		name   string
		pack   *Pack
		modify func(*CameraFacts)
		want   []string
	}{
		{"zhuzhou asks no filing", zz, func(c *CameraFacts) { c.AcceptedAt = accepted }, nil},
		{"accepted 31 days ago, not filed", tc, func(c *CameraFacts) { c.AcceptedAt = accepted }, []string{CodeSystemFilingOverdue}},
		{"accepted 30 days ago, not filed yet due", tc, func(c *CameraFacts) { c.AcceptedAt = now.AddDate(0, 0, -30) }, nil},
		{"filed", tc, func(c *CameraFacts) { c.AcceptedAt, c.FiledAt = accepted, accepted.AddDate(0, 0, 40) }, nil},
		{"acceptance unknown", tc, func(c *CameraFacts) {}, nil},
		{"planned is not accepted", tc, func(c *CameraFacts) { c.Status, c.AcceptedAt = StatusPlanned, accepted }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compliant()
			tt.modify(&c)
			got := tt.pack.Findings(c, now)
			if gc := findingCodes(got); !reflect.DeepEqual(gc, append([]string{}, tt.want...)) {
				t.Fatalf("Findings(%+v) = %v; want %v", c, gc, tt.want)
			}
			if len(got) == 1 && (got[0].Rule != "TC-SYSTEM-FILING" || !strings.Contains(got[0].Message, "filing due within 30 days, by 2026-11-29")) {
				t.Errorf("Findings(%+v)[0] = %+v; want TC-SYSTEM-FILING, due 2026-11-29", c, got[0])
			}
		})
	}
}
