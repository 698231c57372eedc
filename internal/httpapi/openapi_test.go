package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// apiDoc is the served OpenAPI document, read as JSON.
type apiDoc map[string]any

func (s *stack) apiDoc(t *testing.T) apiDoc {
	t.Helper()
	r := s.do("GET", "/api/v1/openapi.json", "", "", "")
	var d apiDoc
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("GET /api/v1/openapi.json = %d, not JSON: %v", r.status, err)
	}
	return d
}

func (d apiDoc) operation(method, pattern string) map[string]any {
	paths, _ := d["paths"].(map[string]any)
	item, _ := paths[pattern].(map[string]any)
	o, _ := item[strings.ToLower(method)].(map[string]any)
	return o
}

// checkAnswer reports how a real answer of the route differs from what the document declares
// for its status: an undeclared status or content type, or a JSON body its schema refuses.
func (d apiDoc) checkAnswer(method, pattern string, status int, contentType string, body []byte) error {
	o := d.operation(method, pattern)
	if o == nil {
		return fmt.Errorf("the document has no %s %s", method, pattern)
	}
	responses, _ := o["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		resp, ok = responses[strconv.Itoa(status/100)+"XX"].(map[string]any)
	}
	if !ok {
		return fmt.Errorf("status %d is not declared", status)
	}
	content, _ := resp["content"].(map[string]any)
	if len(body) == 0 && content == nil {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media, ok := content[mt].(map[string]any)
	if !ok {
		if len(content) == 1 && content["application/octet-stream"] != nil {
			return nil // a document of the type it was uploaded as
		}
		return fmt.Errorf("status %d answers %q, which is not declared (declared: %v)", status, mt, slices.Sorted(maps.Keys(content)))
	}
	sch, ok := media["schema"].(map[string]any)
	if !ok || mt != "application/json" {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("status %d: body is not JSON: %v", status, err)
	}
	return d.validate(sch, v, "$")
}

// validate checks v against the subset of JSON Schema the document uses: $ref, type (one or
// several), properties, required, additionalProperties, items, anyOf, enum and date-time.
func (d apiDoc) validate(sch map[string]any, v any, at string) error {
	if ref, ok := sch["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		comps, _ := d["components"].(map[string]any)
		defs, _ := comps["schemas"].(map[string]any)
		target, ok := defs[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: $ref %s names no component", at, ref)
		}
		return d.validate(target, v, at)
	}
	if alts, ok := sch["anyOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			err := d.validate(a.(map[string]any), v, at)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: matches none of anyOf: %s", at, strings.Join(errs, "; "))
	}
	if types := typesOf(sch["type"]); types != nil && !slices.Contains(types, jsonType(v)) &&
		!(jsonType(v) == "integer" && slices.Contains(types, "number")) {
		return fmt.Errorf("%s = %s; want %s", at, short(v), strings.Join(types, " or "))
	}
	if enum, ok := sch["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s = %s; want one of %v", at, short(v), enum)
	}
	if sch["format"] == "date-time" {
		if s, ok := v.(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return fmt.Errorf("%s = %q; want an RFC 3339 time", at, s)
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		req, _ := sch["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				return fmt.Errorf("%s lacks %q, which the document says is always there", at, r)
			}
		}
		for name, val := range v {
			if ps, ok := props[name].(map[string]any); ok {
				if err := d.validate(ps, val, at+"."+name); err != nil {
					return err
				}
				continue
			}
			switch ap := sch["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s has %q, which the document does not allow", at, name)
				}
			case map[string]any:
				if err := d.validate(ap, val, at+"."+name); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, x := range v {
				if err := d.validate(items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typesOf(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// TestOpenAPIDescribesEveryRoute: every route of the table has its summary, its path
// parameters, and a success answer; the document passes its own schema checks on itself.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		doc := s.apiDoc(t)
		for _, rt := range s.api.Routes() {
			o := doc.operation(rt.Method, rt.Pattern)
			if o == nil {
				t.Errorf("the document lacks %s %s", rt.Method, rt.Pattern)
				continue
			}
			if sum, _ := o["summary"].(string); sum == "" || sum == rt.Method+" "+rt.Pattern {
				t.Errorf("%s %s has no summary: give it an op in openapi_ops.go", rt.Method, rt.Pattern)
			}
			responses, _ := o["responses"].(map[string]any)
			var success bool
			for code := range responses {
				success = success || strings.HasPrefix(code, "2")
			}
			if !success || responses["4XX"] == nil {
				t.Errorf("%s %s declares responses %v; want a success and 4XX", rt.Method, rt.Pattern, slices.Sorted(maps.Keys(responses)))
			}
		}
		tags, _ := doc["tags"].([]any)
		for _, tg := range tags {
			if m, _ := tg.(map[string]any); m["description"] == "" || m["description"] == nil {
				t.Errorf("tag %v has no description: add it to tagDescriptions", m["name"])
			}
		}
		if servers, _ := doc["servers"].([]any); len(servers) != 1 {
			t.Errorf("servers = %v; want the node's own address", doc["servers"])
		}
	})
}

// TestOpenAPILint runs Redocly's linter (recommended rules) on the document, as a reader's
// tools would: CIVICAM_REDOCLY names the redocly command (scripts/install-deps.sh installs
// it, and `make test` sets it).
func TestOpenAPILint(t *testing.T) {
	bin := os.Getenv("CIVICAM_REDOCLY")
	if bin == "" {
		t.Skip("CIVICAM_REDOCLY is not set (make test sets it)")
	}
	s := newStack(t, storetest.SQLite(t))
	r := s.do("GET", "/api/v1/openapi.json", "", "", "")
	dir := t.TempDir()
	path := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(path, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lint", "--extends", "recommended", "--format", "json", path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var report struct {
		Totals   struct{ Errors, Warnings int } `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if jerr := json.Unmarshal(out, &report); jerr != nil {
		t.Fatalf("redocly lint: %v, %v\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, p := range report.Problems {
		var at string
		if len(p.Location) > 0 {
			at = p.Location[0].Pointer
		}
		t.Errorf("redocly %s %s at %s: %s", p.Severity, p.RuleID, at, p.Message)
	}
	if report.Totals.Errors+report.Totals.Warnings != 0 || err != nil {
		t.Errorf("redocly lint (recommended) = %d errors, %d warnings (%v); want none", report.Totals.Errors, report.Totals.Warnings, err)
	}
}
