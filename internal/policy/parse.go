package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"civicam/policies"
)

// MaxPackSize bounds a pack file; a real pack is a few kilobytes.
const MaxPackSize = 1 << 20

// Problem is one thing wrong with a pack, at a line (0 when the YAML library gave none).
type Problem struct {
	Line    int
	Message string
}

// ParseError lists everything wrong with a pack, in line order, so that whoever edits it sees all
// of it at once rather than one error per restart.
type ParseError struct {
	Source   string
	Problems []Problem
}

func (e *ParseError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if p.Line > 0 {
			fmt.Fprintf(&b, "%s:%d: %s", e.Source, p.Line, p.Message)
		} else {
			fmt.Fprintf(&b, "%s: %s", e.Source, p.Message)
		}
	}
	return b.String()
}

// Default parses the pack embedded in the binary (policies.Default).
func Default() (*Pack, error) {
	data, err := fs.ReadFile(policies.FS, policies.Default)
	if err != nil {
		return nil, fmt.Errorf("read embedded policy pack %s: %w", policies.Default, err)
	}
	return Parse(data, policies.Default)
}

// EmbeddedPrefix marks a configured pack that is one of the packs shipped in the binary
// ("embedded:typical.yaml") rather than a file.
const EmbeddedPrefix = "embedded:"

// Embedded parses the shipped pack of that file name in policies.FS.
func Embedded(name string) (*Pack, error) {
	data, err := fs.ReadFile(policies.FS, name)
	if err != nil {
		return nil, fmt.Errorf("read embedded policy pack %s: %w", name, err)
	}
	return Parse(data, name)
}

// Load reads and parses the pack at path.
func Load(path string) (*Pack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open policy pack: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPackSize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy pack %s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a pack. source names it in errors, which are a *ParseError whose
// every problem carries a line.
func Parse(data []byte, source string) (*Pack, error) {
	fail := func(line int, format string, args ...any) error {
		return &ParseError{Source: source, Problems: []Problem{{line, fmt.Sprintf(format, args...)}}}
	}
	if len(data) > MaxPackSize {
		return nil, fail(0, "policy pack is larger than %d bytes", MaxPackSize)
	}

	// Pass 1: the node tree, for syntax errors and for the lines that validation reports.
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(0, "policy pack is empty")
		}
		return nil, yamlError(source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, yamlError(source, err)
		}
		return nil, fail(line, "a policy pack is one YAML document; found another")
	}

	// Pass 2: strict decoding into the schema; yaml.v3 rejects unknown and duplicate keys.
	var raw rawPack
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&raw); err != nil {
		return nil, yamlError(source, err)
	}

	v := &validator{loc: locator{root: &root}}
	p := v.build(&raw)
	if len(v.problems) > 0 {
		sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
		return nil, &ParseError{Source: source, Problems: v.problems}
	}
	sum := sha256.Sum256(data)
	p.source = source
	p.digest = hex.EncodeToString(sum[:])
	return p, nil
}

// The schema. Pointers mark values that must be given explicitly (a missing false is not false).
type rawPack struct {
	Version      string          `yaml:"version"`
	Regulation   rawRegulation   `yaml:"regulation"`
	Rules        []rawRule       `yaml:"rules"`
	Placement    rawPlacement    `yaml:"placement"`
	Networking   []rawNetworking `yaml:"networking"`
	Retention    rawRetention    `yaml:"retention"`
	Signs        rawSigns        `yaml:"signs"`
	Maintenance  rawMaintenance  `yaml:"maintenance"`
	Applications rawApplications `yaml:"lost_person_applications"`
	Sharing      []rawSharing    `yaml:"sharing"`
	LegalBases   []rawLegalBasis `yaml:"legal_bases"`
	Options      rawOptions      `yaml:"options"`
	Inspections  *rawInspections `yaml:"inspections"`
	Duplicates   rawDuplicates   `yaml:"duplicate_construction"`
	Filing       *rawFiling      `yaml:"system_filing"`
}

// rawFiling is Beijing's rule: a completed system is filed with the public security organ
// within days of its acceptance. Absent, the pack asks for no filing.
type rawFiling struct {
	Rule string `yaml:"rule"`
	Days *int   `yaml:"days"`
}

// rawDuplicates is the duplicate-construction check (REG-3); without it there is none.
type rawDuplicates struct {
	Rule           string   `yaml:"rule"`
	OverlapPercent *float64 `yaml:"overlap_percent"`
}

// rawOptions are the rules other cities add (shared/REGULATIONS.md), each off unless given.
type rawOptions struct {
	ExportRecipients     bool `yaml:"export_recipients"`
	ImportantFootageDays *int `yaml:"important_footage_days"`
	TwoPersonExport      bool `yaml:"two_person_export"`
}

// rawSharing is one default of sharing government-invested cameras with a department type.
type rawSharing struct {
	DepartmentType string   `yaml:"department_type"`
	Scopes         []string `yaml:"scopes"`
	Rule           string   `yaml:"rule"`
}

type rawRegulation struct {
	Name         string `yaml:"name"`
	NameZH       string `yaml:"name_zh"`
	Jurisdiction string `yaml:"jurisdiction"`
	InForce      string `yaml:"in_force"`
	// TimeZone is the city's IANA zone, in which pages show and read local time.
	TimeZone string `yaml:"time_zone"`
}

type rawRule struct {
	ID          string `yaml:"id"`
	Requirement string `yaml:"requirement"`
	Title       string `yaml:"title"`
	Text        string `yaml:"text"`
	TextZH      string `yaml:"text_zh"`
	Reason      string `yaml:"reason"`
	ReasonZH    string `yaml:"reason_zh"`
}

type rawPlacement struct {
	Rule           string        `yaml:"rule"`
	ProhibitedRule string        `yaml:"prohibited_rule"`
	Categories     []rawCategory `yaml:"categories"`
}

type rawCategory struct {
	ID      string `yaml:"id"`
	Kind    string `yaml:"kind"`
	Label   string `yaml:"label"`
	LabelZH string `yaml:"label_zh"`
	Rule    string `yaml:"rule"`
}

type rawNetworking struct {
	Investment string `yaml:"investment"`
	Duty       string `yaml:"duty"`
	Rule       string `yaml:"rule"`
}

type rawRetention struct {
	Rule      string `yaml:"rule"`
	FloorDays *int   `yaml:"floor_days"`
	// FloorLaw names the law that allows a floor below NationalFloorDays; without one such a
	// floor does not load.
	FloorLaw string `yaml:"floor_law"`
}

type rawSigns struct {
	Rule     string `yaml:"rule"`
	Required *bool  `yaml:"required"`
	// CheckIntervalDays, when set, is how often an installed sign is checked (sign_check_overdue).
	CheckIntervalDays *int `yaml:"check_interval_days"`
}

type rawMaintenance struct {
	Rule         string `yaml:"rule"`
	IntervalDays *int   `yaml:"interval_days"`
	// The health limits past which a work order opens by itself; each has a default.
	OfflineLimitMinutes *int `yaml:"offline_limit_minutes"`
	FrozenLimitMinutes  *int `yaml:"frozen_limit_minutes"`
	GapLimitMinutes     *int `yaml:"gap_limit_minutes"`
}

type rawApplications struct {
	Rule          string            `yaml:"rule"`
	Subjects      []rawSubject      `yaml:"subjects"`
	Relationships []rawRelationship `yaml:"relationships"`
	Steps         []rawStep         `yaml:"steps"`
	Limits        rawLimits         `yaml:"limits"`
	Outcomes      []rawOutcome      `yaml:"outcomes"`
	Documents     []rawDocument     `yaml:"documents"`
}

type rawOutcome struct {
	ID       string `yaml:"id"`
	Label    string `yaml:"label"`
	LabelZH  string `yaml:"label_zh"`
	Sighting bool   `yaml:"sighting"`
}

type rawDocument struct {
	ID      string `yaml:"id"`
	Label   string `yaml:"label"`
	LabelZH string `yaml:"label_zh"`
}

type rawLimits struct {
	DocumentsPerApplication      *int `yaml:"documents_per_application"`
	MiBPerApplication            *int `yaml:"mib_per_application"`
	OpenApplicationsPerApplicant *int `yaml:"open_applications_per_applicant"`
}

type rawSubject struct {
	ID       string `yaml:"id"`
	Eligible *bool  `yaml:"eligible"`
	Urgent   bool   `yaml:"urgent"`
	Label    string `yaml:"label"`
	LabelZH  string `yaml:"label_zh"`
	Reason   string `yaml:"reason"`
	ReasonZH string `yaml:"reason_zh"`
}

type rawRelationship struct {
	ID       string `yaml:"id"`
	Eligible *bool  `yaml:"eligible"`
	Label    string `yaml:"label"`
	LabelZH  string `yaml:"label_zh"`
	Reason   string `yaml:"reason"`
	ReasonZH string `yaml:"reason_zh"`
}

type rawStep struct {
	ID          string `yaml:"id"`
	Label       string `yaml:"label"`
	LabelZH     string `yaml:"label_zh"`
	Hours       *int   `yaml:"hours"`
	UrgentHours int    `yaml:"urgent_hours"`
}

// Readable names for the schema types in yaml.v3's messages.
var typeNames = func() *strings.Replacer {
	names := [][2]string{
		{"rawPack", "the policy pack"},
		{"rawRegulation", "regulation"},
		{"rawRule", "rule"},
		{"rawPlacement", "placement"},
		{"rawCategory", "place category"},
		{"rawNetworking", "networking duty"},
		{"rawRetention", "retention"},
		{"rawSigns", "signs"},
		{"rawMaintenance", "maintenance"},
		{"rawApplications", "lost_person_applications"},
		{"rawSubject", "subject category"},
		{"rawRelationship", "relationship"},
		{"rawStep", "step"},
		{"rawLimits", "limits"},
		{"rawOutcome", "outcome"},
		{"rawDocument", "document"},
		{"rawSharing", "sharing default"},
		{"rawOptions", "options"},
		{"rawLegalBasis", "legal basis"},
		{"rawDuplicates", "duplicate_construction"},
		{"rawFiling", "system_filing"},
		{"rawInspections", "inspections"},
	}
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, "[]policy."+n[0], "a list of "+n[1]+" entries", "policy."+n[0], n[1])
	}
	pairs = append(pairs, "*int", "an integer", "*bool", "true or false")
	return strings.NewReplacer(pairs...)
}()

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type (.+)$`)
)

// yamlError turns a yaml.v3 error into a ParseError with lines.
func yamlError(source string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	pe := &ParseError{Source: source}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		line := 0
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			line, _ = strconv.Atoi(sub[1])
			m = sub[2]
		}
		if sub := unknownField.FindStringSubmatch(m); sub != nil {
			m = fmt.Sprintf("unknown key %q in %s", sub[1], sub[2])
		}
		pe.Problems = append(pe.Problems, Problem{Line: line, Message: typeNames.Replace(m)})
	}
	return pe
}

// locator finds the line of a value in the node tree by its path of mapping keys (string) and
// sequence indexes (int). Where the path runs out, it answers the line of the deepest node found:
// a missing key is reported at the mapping that lacks it.
type locator struct{ root *yaml.Node }

func (l locator) line(path ...any) int {
	n := resolve(l.root)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, step := range path {
		var next *yaml.Node
		switch k := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		next = resolve(next)
		if next == nil {
			break
		}
		n, line = next, next.Line
	}
	return line
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 8; i++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return n
}

type validator struct {
	loc      locator
	problems []Problem
	rules    map[string]bool
}

func (v *validator) addf(line int, format string, args ...any) {
	v.problems = append(v.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	ruleID    = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)
	reqID     = regexp.MustCompile(`^REG-[0-9]+$`)
)

const maxIDLen = 64

// id checks an identifier of a list entry; what names the entry in messages ("place category").
func (v *validator) id(what string, i int, id string, seen map[string]int, path ...any) bool {
	line := v.loc.line(append(path, i, "id")...)
	switch {
	case id == "":
		v.addf(line, "%s #%d: id is required", what, i+1)
		return false
	case len(id) > maxIDLen || !snakeCase.MatchString(id):
		v.addf(line, "%s %q: id must be snake_case (a-z, 0-9, _), at most %d characters", what, id, maxIDLen)
		return false
	}
	if prev, dup := seen[id]; dup {
		v.addf(line, "%s %q: duplicate id (first at line %d)", what, id, prev)
		return false
	}
	seen[id] = line
	return true
}

// ruleRef checks a reference to a rule; required says whether it may be empty.
func (v *validator) ruleRef(ctx, ref string, required bool, path ...any) {
	line := v.loc.line(path...)
	switch {
	case ref == "" && required:
		v.addf(line, "%s: rule is required", ctx)
	case ref != "" && !v.rules[ref]:
		v.addf(line, "%s: unknown rule %q", ctx, ref)
	}
}

func (v *validator) required(ctx, field, value string, path ...any) {
	if strings.TrimSpace(value) == "" {
		v.addf(v.loc.line(path...), "%s: %s is required", ctx, field)
	}
}

// intIn checks an integer that must be given, within [lo, hi].
func (v *validator) intIn(ctx, field string, value *int, lo, hi int, path ...any) int {
	line := v.loc.line(path...)
	switch {
	case value == nil:
		v.addf(line, "%s: %s is required", ctx, field)
		return 0
	case *value < lo || *value > hi:
		v.addf(line, "%s: %s %d is out of range [%d, %d]", ctx, field, *value, lo, hi)
		return 0
	}
	return *value
}

func (v *validator) build(r *rawPack) *Pack {
	p := &Pack{ruleByID: map[string]int{}, categoryByID: map[string]int{}}

	p.version = strings.TrimSpace(r.Version)
	switch {
	case p.version == "":
		v.addf(v.loc.line("version"), "version is required")
	case len(p.version) > maxIDLen || strings.ContainsFunc(p.version, func(c rune) bool { return c <= ' ' || c == 0x7f }):
		v.addf(v.loc.line("version"), "version %q must be at most %d characters without spaces", p.version, maxIDLen)
	}

	v.regulation(p, r.Regulation)
	v.buildRules(p, r.Rules)
	v.placement(p, r.Placement)
	v.networking(p, r.Networking)

	v.ruleRef("retention", r.Retention.Rule, true, "retention", "rule")
	p.retentionRule = r.Retention.Rule
	// 100 years: beyond any law, and small enough that day arithmetic cannot overflow.
	p.floorDays = v.intIn("retention", "floor_days", r.Retention.FloorDays, 1, 36500, "retention", "floor_days")
	p.floorLaw = strings.TrimSpace(r.Retention.FloorLaw)
	if p.floorDays > 0 && p.floorDays < NationalFloorDays && p.floorLaw == "" {
		v.addf(v.loc.line("retention", "floor_days"),
			"retention: floor_days %d is below the national floor of %d days; name the law that allows it in retention.floor_law",
			p.floorDays, NationalFloorDays)
	}

	v.ruleRef("signs", r.Signs.Rule, true, "signs", "rule")
	p.signsRule = r.Signs.Rule
	if r.Signs.Required == nil {
		v.addf(v.loc.line("signs", "required"), "signs: required (true or false) is required")
	} else {
		p.signsRequired = *r.Signs.Required
	}
	if r.Signs.CheckIntervalDays != nil {
		p.signsCheckDays = v.intIn("signs", "check_interval_days", r.Signs.CheckIntervalDays, 1, 3650, "signs", "check_interval_days")
	}

	v.ruleRef("maintenance", r.Maintenance.Rule, true, "maintenance", "rule")
	p.maintenanceRule = r.Maintenance.Rule
	p.maintenanceDays = v.intIn("maintenance", "interval_days", r.Maintenance.IntervalDays, 1, 3650, "maintenance", "interval_days")
	p.health = HealthLimits{Offline: 24 * time.Hour, Frozen: 30 * time.Minute, Gaps: time.Hour}
	for _, l := range []struct {
		key string
		v   *int
		to  *time.Duration
	}{
		{"offline_limit_minutes", r.Maintenance.OfflineLimitMinutes, &p.health.Offline},
		{"frozen_limit_minutes", r.Maintenance.FrozenLimitMinutes, &p.health.Frozen},
		{"gap_limit_minutes", r.Maintenance.GapLimitMinutes, &p.health.Gaps},
	} {
		if l.v != nil {
			*l.to = time.Duration(v.intIn("maintenance", l.key, l.v, 1, 7*24*60, "maintenance", l.key)) * time.Minute
		}
	}

	v.applications(p, r.Applications)
	v.sharing(p, r.Sharing)
	p.options.ExportRecipients = r.Options.ExportRecipients
	p.options.TwoPersonExport = r.Options.TwoPersonExport
	if r.Options.ImportantFootageDays != nil {
		p.options.ImportantFootageDays = v.intIn("options", "important_footage_days", r.Options.ImportantFootageDays,
			p.floorDays, 36500, "options", "important_footage_days")
	}
	v.legalBases(p, r.LegalBases)
	v.duplicates(p, r.Duplicates)
	if f := r.Filing; f != nil {
		v.ruleRef("system_filing", f.Rule, true, "system_filing", "rule")
		p.filing = Filing{Rule: f.Rule, Days: v.intIn("system_filing", "days", f.Days, 1, 3650, "system_filing", "days")}
	}
	v.inspectionsSection(p, r.Inspections)
	return p
}

func (v *validator) regulation(p *Pack, r rawRegulation) {
	v.required("regulation", "name", r.Name, "regulation", "name")
	p.regulation = Regulation{Name: r.Name, NameZH: r.NameZH, Jurisdiction: r.Jurisdiction}
	v.timeZone(p, r.TimeZone)
	if r.InForce == "" {
		v.addf(v.loc.line("regulation", "in_force"), "regulation: in_force is required")
		return
	}
	t, err := time.Parse(time.DateOnly, r.InForce)
	if err != nil {
		v.addf(v.loc.line("regulation", "in_force"), "regulation: in_force %q is not a date (YYYY-MM-DD)", r.InForce)
		return
	}
	p.regulation.InForce = t
}

// DefaultTimeZone is the zone of a pack that names none: every city of China keeps Beijing time.
const DefaultTimeZone = "Asia/Shanghai"

func (v *validator) timeZone(p *Pack, name string) {
	if name == "" {
		name = DefaultTimeZone
	}
	// "Local" would make the pack's meaning depend on the machine it runs on.
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		v.addf(v.loc.line("regulation", "time_zone"), "regulation: time_zone %q is not an IANA time zone (e.g. Asia/Shanghai)", name)
		return
	}
	p.regulation.TimeZone, p.location = name, loc
}

func (v *validator) buildRules(p *Pack, rules []rawRule) {
	v.rules = map[string]bool{}
	if len(rules) == 0 {
		v.addf(v.loc.line("rules"), "rules: at least one rule is required")
	}
	seen := map[string]int{}
	for i, r := range rules {
		line := v.loc.line("rules", i, "id")
		if r.ID == "" {
			v.addf(line, "rule #%d: id is required", i+1)
			continue
		}
		if len(r.ID) > maxIDLen || !ruleID.MatchString(r.ID) {
			v.addf(line, "rule %q: id must be upper case words joined by '-' (e.g. ZZ-ART-8), at most %d characters", r.ID, maxIDLen)
			continue
		}
		if prev, dup := seen[r.ID]; dup {
			v.addf(line, "rule %q: duplicate id (first at line %d)", r.ID, prev)
			continue
		}
		seen[r.ID] = line
		ctx := fmt.Sprintf("rule %q", r.ID)
		if r.Requirement != "" && !reqID.MatchString(r.Requirement) {
			v.addf(v.loc.line("rules", i, "requirement"), "%s: requirement %q must look like REG-2", ctx, r.Requirement)
		}
		v.required(ctx, "text", r.Text, "rules", i, "text")
		v.required(ctx, "reason", r.Reason, "rules", i, "reason")
		v.rules[r.ID] = true
		p.ruleByID[r.ID] = len(p.rules)
		p.rules = append(p.rules, Rule{
			ID: r.ID, Requirement: r.Requirement, Title: r.Title,
			Text: strings.TrimSpace(r.Text), TextZH: strings.TrimSpace(r.TextZH),
			Reason: strings.TrimSpace(r.Reason), ReasonZH: strings.TrimSpace(r.ReasonZH),
		})
	}
}

func (v *validator) placement(p *Pack, r rawPlacement) {
	v.ruleRef("placement", r.Rule, true, "placement", "rule")
	v.ruleRef("placement", r.ProhibitedRule, false, "placement", "prohibited_rule")
	p.placementRule, p.prohibitedRule = r.Rule, r.ProhibitedRule
	if len(r.Categories) == 0 {
		v.addf(v.loc.line("placement", "categories"), "placement: at least one place category is required")
	}
	seen := map[string]int{}
	for i, c := range r.Categories {
		if !v.id("place category", i, c.ID, seen, "placement", "categories") {
			continue
		}
		ctx := fmt.Sprintf("place category %q", c.ID)
		at := func(field string) int { return v.loc.line("placement", "categories", i, field) }
		kind := Kind(c.Kind)
		switch kind {
		case KindKeyArea, KindProhibited, KindOrdinary:
		case "":
			v.addf(at("kind"), "%s: kind is required (key_area, prohibited or ordinary)", ctx)
		default:
			v.addf(at("kind"), "%s: unknown kind %q (want key_area, prohibited or ordinary)", ctx, c.Kind)
		}
		v.required(ctx, "label", c.Label, "placement", "categories", i, "label")
		v.ruleRef(ctx, c.Rule, false, "placement", "categories", i, "rule")
		rule := c.Rule
		if rule == "" {
			rule = r.Rule
			if kind == KindProhibited {
				rule = r.ProhibitedRule
				if rule == "" {
					v.addf(at("kind"), "%s: a prohibited category needs a rule of its own or placement.prohibited_rule", ctx)
				}
			}
		}
		p.categoryByID[c.ID] = len(p.categories)
		p.categories = append(p.categories, Category{ID: c.ID, Kind: kind, Label: c.Label, LabelZH: c.LabelZH, Rule: rule})
	}
}

func (v *validator) networking(p *Pack, duties []rawNetworking) {
	seen := map[string]int{}
	for i, n := range duties {
		line := v.loc.line("networking", i, "investment")
		switch {
		case n.Investment == "":
			v.addf(line, "networking duty #%d: investment is required", i+1)
			continue
		case len(n.Investment) > maxIDLen || !snakeCase.MatchString(n.Investment):
			v.addf(line, "networking duty %q: investment must be snake_case", n.Investment)
			continue
		}
		if prev, dup := seen[n.Investment]; dup {
			v.addf(line, "networking duty %q: duplicate investment (first at line %d)", n.Investment, prev)
			continue
		}
		seen[n.Investment] = line
		ctx := fmt.Sprintf("networking duty %q", n.Investment)
		switch d := Duty(n.Duty); d {
		case DutyNetworked, DutyInterfaceReserved, DutyNone:
		case "":
			v.addf(v.loc.line("networking", i, "duty"), "%s: duty is required (networked, interface_reserved or none)", ctx)
		default:
			v.addf(v.loc.line("networking", i, "duty"), "%s: unknown duty %q (want networked, interface_reserved or none)", ctx, n.Duty)
		}
		v.ruleRef(ctx, n.Rule, true, "networking", i, "rule")
		p.networking = append(p.networking, NetworkingDuty{Investment: n.Investment, Duty: Duty(n.Duty), Rule: n.Rule})
	}
}

// sharingScopes are the scopes a default may give: emergency use is only ever an owner's grant.
var sharingScopes = []string{"live", "playback", "export"}

func (v *validator) sharing(p *Pack, defaults []rawSharing) {
	p.sharing = map[string]SharingDefault{}
	seen := map[string]int{}
	for i, d := range defaults {
		line := v.loc.line("sharing", i, "department_type")
		switch {
		case d.DepartmentType == "":
			v.addf(line, "sharing default #%d: department_type is required", i+1)
			continue
		case len(d.DepartmentType) > maxIDLen || !snakeCase.MatchString(d.DepartmentType):
			v.addf(line, "sharing default %q: department_type must be snake_case", d.DepartmentType)
			continue
		}
		if prev, dup := seen[d.DepartmentType]; dup {
			v.addf(line, "sharing default %q: duplicate department_type (first at line %d)", d.DepartmentType, prev)
			continue
		}
		seen[d.DepartmentType] = line
		ctx := fmt.Sprintf("sharing default %q", d.DepartmentType)
		if len(d.Scopes) == 0 {
			v.addf(v.loc.line("sharing", i, "scopes"), "%s: scopes is required (live, playback, export)", ctx)
		}
		var scopes []string
		for j, sc := range d.Scopes {
			switch {
			case !slices.Contains(sharingScopes, sc):
				v.addf(v.loc.line("sharing", i, "scopes", j), "%s: unknown scope %q (want live, playback or export)", ctx, sc)
			case slices.Contains(scopes, sc):
				v.addf(v.loc.line("sharing", i, "scopes", j), "%s: duplicate scope %q", ctx, sc)
			default:
				scopes = append(scopes, sc)
			}
		}
		v.ruleRef(ctx, d.Rule, true, "sharing", i, "rule")
		p.sharing[d.DepartmentType] = SharingDefault{DepartmentType: d.DepartmentType, Scopes: scopes, Rule: d.Rule}
	}
}

func (v *validator) applications(p *Pack, r rawApplications) {
	const sec = "lost_person_applications"
	v.ruleRef(sec, r.Rule, true, sec, "rule")
	a := Applications{Rule: r.Rule}

	// eligibility checks what subjects and relationships share.
	eligibility := func(ctx string, eligible *bool, reason string, path ...any) bool {
		switch {
		case eligible == nil:
			v.addf(v.loc.line(path...), "%s: eligible (true or false) is required", ctx)
			return false
		case !*eligible && strings.TrimSpace(reason) == "":
			v.addf(v.loc.line(path...), "%s: an ineligible entry needs a reason", ctx)
		}
		return *eligible
	}

	seen, anyEligible := map[string]int{}, false
	if len(r.Subjects) == 0 {
		v.addf(v.loc.line(sec, "subjects"), "%s: at least one subject category is required", sec)
	}
	for i, s := range r.Subjects {
		if !v.id("subject category", i, s.ID, seen, sec, "subjects") {
			continue
		}
		ctx := fmt.Sprintf("subject category %q", s.ID)
		v.required(ctx, "label", s.Label, sec, "subjects", i, "label")
		ok := eligibility(ctx, s.Eligible, s.Reason, sec, "subjects", i, "eligible")
		if !ok && s.Urgent {
			v.addf(v.loc.line(sec, "subjects", i, "urgent"), "%s: an ineligible subject cannot be urgent", ctx)
		}
		anyEligible = anyEligible || ok
		a.Subjects = append(a.Subjects, Subject{ID: s.ID, Label: s.Label, LabelZH: s.LabelZH, Eligible: ok, Urgent: s.Urgent,
			Reason: strings.TrimSpace(s.Reason), ReasonZH: strings.TrimSpace(s.ReasonZH)})
	}
	if len(r.Subjects) > 0 && !anyEligible {
		v.addf(v.loc.line(sec, "subjects"), "%s: no subject category is eligible", sec)
	}

	seen, anyEligible = map[string]int{}, false
	if len(r.Relationships) == 0 {
		v.addf(v.loc.line(sec, "relationships"), "%s: at least one relationship is required", sec)
	}
	for i, s := range r.Relationships {
		if !v.id("relationship", i, s.ID, seen, sec, "relationships") {
			continue
		}
		ctx := fmt.Sprintf("relationship %q", s.ID)
		v.required(ctx, "label", s.Label, sec, "relationships", i, "label")
		ok := eligibility(ctx, s.Eligible, s.Reason, sec, "relationships", i, "eligible")
		anyEligible = anyEligible || ok
		a.Relationships = append(a.Relationships, Relationship{ID: s.ID, Label: s.Label, LabelZH: s.LabelZH, Eligible: ok,
			Reason: strings.TrimSpace(s.Reason), ReasonZH: strings.TrimSpace(s.ReasonZH)})
	}
	if len(r.Relationships) > 0 && !anyEligible {
		v.addf(v.loc.line(sec, "relationships"), "%s: no relationship is eligible", sec)
	}

	seen = map[string]int{}
	if len(r.Steps) == 0 {
		v.addf(v.loc.line(sec, "steps"), "%s: at least one step is required", sec)
	}
	for i, s := range r.Steps {
		if !v.id("step", i, s.ID, seen, sec, "steps") {
			continue
		}
		ctx := fmt.Sprintf("step %q", s.ID)
		v.required(ctx, "label", s.Label, sec, "steps", i, "label")
		hours := v.intIn(ctx, "hours", s.Hours, 1, 8760, sec, "steps", i, "hours")
		urgent := s.UrgentHours
		switch {
		case urgent == 0:
			urgent = hours
		case urgent < 0 || (hours > 0 && urgent > hours):
			v.addf(v.loc.line(sec, "steps", i, "urgent_hours"), "%s: urgent_hours %d must be between 1 and hours (%d)", ctx, urgent, hours)
		}
		a.Steps = append(a.Steps, Step{ID: s.ID, Label: s.Label, LabelZH: s.LabelZH, Hours: hours, UrgentHours: urgent})
	}
	a.Limits = DefaultLimits()
	limit := func(field string, value *int, hi int, to *int) {
		if value != nil {
			*to = v.intIn(sec+" limits", field, value, 1, hi, sec, "limits", field)
		}
	}
	limit("documents_per_application", r.Limits.DocumentsPerApplication, 100, &a.Limits.DocumentsPerApplication)
	mib := int(a.Limits.BytesPerApplication >> 20)
	limit("mib_per_application", r.Limits.MiBPerApplication, 1024, &mib)
	a.Limits.BytesPerApplication = int64(mib) << 20
	limit("open_applications_per_applicant", r.Limits.OpenApplicationsPerApplicant, 100, &a.Limits.OpenApplicationsPerApplicant)

	a.Outcomes = DefaultOutcomes()
	if len(r.Outcomes) > 0 {
		a.Outcomes = nil
		seen = map[string]int{}
		for i, o := range r.Outcomes {
			if !v.id("outcome", i, o.ID, seen, sec, "outcomes") {
				continue
			}
			ctx := fmt.Sprintf("outcome %q", o.ID)
			v.required(ctx, "label", o.Label, sec, "outcomes", i, "label")
			v.required(ctx, "label_zh", o.LabelZH, sec, "outcomes", i, "label_zh")
			a.Outcomes = append(a.Outcomes, ResultOutcome{ID: o.ID, Label: o.Label, LabelZH: o.LabelZH, Sighting: o.Sighting})
		}
	}
	a.Documents = DefaultDocuments()
	if len(r.Documents) > 0 {
		a.Documents = nil
		seen = map[string]int{}
		for i, d := range r.Documents {
			if !v.id("document", i, d.ID, seen, sec, "documents") {
				continue
			}
			ctx := fmt.Sprintf("document %q", d.ID)
			v.required(ctx, "label", d.Label, sec, "documents", i, "label")
			v.required(ctx, "label_zh", d.LabelZH, sec, "documents", i, "label_zh")
			a.Documents = append(a.Documents, RequiredDocument{ID: d.ID, Label: d.Label, LabelZH: d.LabelZH})
		}
	}
	p.applications = a
}

// duplicates reads the duplicate-construction check: a rule and the overlap, in percent of the
// proposed camera's field of view, above which a camera is a duplicate.
func (v *validator) duplicates(p *Pack, r rawDuplicates) {
	if r.Rule == "" && r.OverlapPercent == nil {
		return
	}
	v.ruleRef("duplicate_construction", r.Rule, true, "duplicate_construction", "rule")
	p.duplicateRule = r.Rule
	switch pc := r.OverlapPercent; {
	case pc == nil:
		v.addf(v.loc.line("duplicate_construction", "overlap_percent"), "duplicate_construction: overlap_percent is required")
	case !(*pc > 0 && *pc <= 100):
		v.addf(v.loc.line("duplicate_construction", "overlap_percent"), "duplicate_construction: overlap_percent %v must be above 0 and at most 100", *pc)
	default:
		p.duplicatePercent = *pc
	}
}
