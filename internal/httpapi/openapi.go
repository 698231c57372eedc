package httpapi

import (
	"encoding"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// A schema is one JSON Schema (the OpenAPI 3.1 dialect) as it is written in the document.
type schema = map[string]any

// An op is what the API document says of one route beyond its method, path and roles: the
// routes' table stays the one place that says a route exists and who may call it, and
// TestOpenAPIDescribesEveryRoute fails for a route that has no op.
type op struct {
	Summary string
	Query   []param // the query parameters it reads
	// Body is the request body: a JSON schema (ContentType empty or application/json) or,
	// with another ContentType, a raw body of that type.
	Body        schema
	ContentType string
	// Status is the success status; Result its JSON body, or a raw body of ResultType.
	Status     int
	Result     schema
	ResultType string
	// Also are further successes (206 for a range, a CSV when ?format=csv, …).
	Also []answer
}

// An answer is one more success of an op.
type answer struct {
	Status      int
	ContentType string
	Schema      schema
	Description string
}

// A param is one query parameter.
type param struct {
	Name, Description string
	Schema            schema
}

func q(name, desc string, s schema) param { return param{name, desc, s} }

// Schemas of plain values.
var (
	str      = schema{"type": "string"}
	integer  = schema{"type": "integer"}
	number   = schema{"type": "number"}
	boolean  = schema{"type": "boolean"}
	dateTime = schema{"type": "string", "format": "date-time"}
	anyValue = schema{}
)

// list is an array of s.
func list(s schema) schema { return schema{"type": "array", "items": s} }

// object is a JSON object whose every property in props is present; optional names those that
// may be left out. Other properties are allowed (answers grow), except in request bodies.
func object(props map[string]schema, optional ...string) schema {
	req := []string{}
	for name := range props {
		if !slices.Contains(optional, name) {
			req = append(req, name)
		}
	}
	slices.Sort(req)
	out := schema{"type": "object", "properties": props}
	if len(req) > 0 {
		out["required"] = req
	}
	return out
}

// input is a request body's object: every property optional, nothing else allowed (decodeJSON
// refuses unknown fields).
func input(props map[string]schema) schema {
	return schema{"type": "object", "properties": props, "additionalProperties": false}
}

// schemas collects the components that typ refers to while the document is built.
type schemas struct {
	byType map[reflect.Type]string
	defs   map[string]schema
}

// of is the schema of Go type t as encoding/json writes it (out) or reads it (!out): a named
// struct becomes a component referred to by $ref; in an answer, every field without omitempty
// or omitzero is required, because encoding/json always writes it.
func (c *schemas) of(t reflect.Type, out bool) schema {
	for t.Kind() == reflect.Pointer {
		s := c.of(t.Elem(), out)
		return schema{"anyOf": []any{s, schema{"type": "null"}}}
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return dateTime
	case t == reflect.TypeFor[time.Duration]():
		return integer
	case t == reflect.TypeFor[json.RawMessage]():
		return anyValue
	case t.Implements(reflect.TypeFor[json.Marshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Marshaler]()):
		return anyValue
	case t.Implements(reflect.TypeFor[encoding.TextMarshaler]()):
		return str
	}
	switch t.Kind() {
	case reflect.String:
		return str
	case reflect.Bool:
		return boolean
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return integer
	case reflect.Float32, reflect.Float64:
		return number
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": "string", "contentEncoding": "base64"}
		}
		// A nil slice is written as null.
		return schema{"type": []any{"array", "null"}, "items": c.of(t.Elem(), out)}
	case reflect.Array:
		return list(c.of(t.Elem(), out))
	case reflect.Map:
		return schema{"type": []any{"object", "null"}, "additionalProperties": c.of(t.Elem(), out)}
	case reflect.Struct:
		if t.Name() == "" {
			return c.structOf(t, out)
		}
		name := t.Name()
		if !out {
			name += "Input"
		}
		if prev, ok := c.byType[t]; ok && (out || strings.HasSuffix(prev, "Input")) {
			return schema{"$ref": "#/components/schemas/" + prev}
		}
		if _, taken := c.defs[name]; taken {
			name = pkgName(t) + "_" + name
		}
		c.byType[t] = name
		c.defs[name] = schema{} // a placeholder: a type that refers to itself
		c.defs[name] = c.structOf(t, out)
		return schema{"$ref": "#/components/schemas/" + name}
	}
	return anyValue
}

func pkgName(t reflect.Type) string {
	p := t.PkgPath()
	return p[strings.LastIndex(p, "/")+1:]
}

// structOf is the object schema of struct t's JSON fields, embedded structs' fields included.
func (c *schemas) structOf(t reflect.Type, out bool) schema {
	props := map[string]schema{}
	var optional []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = c.of(f.Type, out)
			if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
				optional = append(optional, name)
			}
		}
	}
	walk(t)
	if !out {
		return input(props)
	}
	return object(props, optional...)
}

// openAPI serves an OpenAPI 3.1 document built from the route table itself, so that it can
// never list a route the server lacks or miss one it has; what each route takes and answers
// comes from its op, with schemas generated from the Go types the handlers read and write.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.document(serverURL(r)))
	return nil
}

// serverURL is the API's address as the caller reached it.
func serverURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// document builds the API document; server is the address it names.
func (s *Server) document(server string) map[string]any {
	c := &schemas{byType: map[reflect.Type]string{}, defs: map[string]schema{}}
	ops := s.ops(c)
	maps.Copy(ops, s.signOps(c))
	maps.Copy(ops, s.gridOps(c))
	errorRef := schema{"$ref": "#/components/schemas/Error"}
	errorAnswer := map[string]any{"description": "The request was refused; the body says why, in the caller's language.",
		"content": map[string]any{"application/json": map[string]any{"schema": errorRef}}}
	paths := map[string]map[string]any{}
	tags := map[string]bool{}
	for _, rt := range s.Routes() {
		o, documented := ops[rt.Method+" "+rt.Pattern]
		if !documented {
			o = op{Summary: rt.Method + " " + rt.Pattern, Status: http.StatusOK}
		}
		tag := tagOf(rt.Pattern)
		tags[tag] = true
		responses := map[string]any{"4XX": errorAnswer, "5XX": errorAnswer}
		success := []answer{{Status: o.Status, ContentType: o.ResultType, Schema: o.Result}}
		for _, a := range append(success, o.Also...) {
			resp := map[string]any{"description": a.Description}
			if a.Description == "" {
				resp["description"] = http.StatusText(a.Status)
			}
			ct := a.ContentType
			if ct == "" && a.Schema != nil {
				ct = "application/json"
			}
			if ct != "" {
				media := map[string]any{}
				if a.Schema != nil {
					media["schema"] = a.Schema
				}
				if prev, ok := responses[strconv.Itoa(a.Status)].(map[string]any); ok {
					prev["content"].(map[string]any)[ct] = media
					continue
				}
				resp["content"] = map[string]any{ct: media}
			}
			responses[strconv.Itoa(a.Status)] = resp
		}
		doc := map[string]any{
			"operationId": operationID(rt),
			"summary":     o.Summary,
			"tags":        []string{tag},
			"responses":   responses,
		}
		if rt.Public() {
			doc["security"] = []any{}
			doc["description"] = "Public: no login."
		} else {
			roles := make([]string, len(rt.Roles))
			for i, rl := range rt.Roles {
				roles[i] = string(rl)
			}
			if len(roles) == 0 {
				doc["description"] = "Any logged-in user."
			} else {
				doc["description"] = "Roles: " + strings.Join(roles, ", ") + "."
			}
			doc["x-roles"] = roles
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str,
				"description": "The " + strings.ReplaceAll(m[1], "_", " ") + " in the path."})
		}
		for _, p := range o.Query {
			ps := p.Schema
			if ps == nil {
				ps = str
			}
			params = append(params, map[string]any{"name": p.Name, "in": "query", "schema": ps, "description": p.Description})
		}
		if params != nil {
			doc["parameters"] = params
		}
		if o.Body != nil || o.ContentType != "" {
			ct := o.ContentType
			if ct == "" {
				ct = "application/json"
			}
			media := map[string]any{}
			if o.Body != nil {
				media["schema"] = o.Body
			}
			doc["requestBody"] = map[string]any{"required": true, "content": map[string]any{ct: media}}
		}
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = doc
	}
	c.defs["Error"] = object(map[string]schema{"error": object(map[string]schema{
		"code": str, "message": str, "field": str}, "field")})
	var tagList []any
	for _, t := range slices.Sorted(maps.Keys(tags)) {
		tagList = append(tagList, map[string]any{"name": t, "description": tagDescriptions[t]})
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "civicam API", "version": "1",
			"description": "Public-safety camera governance: registry, policy, access trail. Authenticate with POST /api/v1/sessions and send the token as Authorization: Bearer.",
			"license":     map[string]any{"name": "Proprietary", "identifier": "LicenseRef-civicam"}},
		"servers": []any{map[string]any{"url": server, "description": "this civicam node"}},
		"tags":    tagList,
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         c.defs,
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

// tagDescriptions say what each part of the API is for.
var tagDescriptions = map[string]string{
	"places":           "The city's register of places and the key places' camera coverage (REG-1).",
	"sessions":         "Logging in and out.",
	"me":               "The caller's own account.",
	"policy":           "The policy pack in force.",
	"openapi.json":     "This document.",
	"organisations":    "Departments, establishments and enterprises that own cameras.",
	"users":            "Staff accounts.",
	"cameras":          "The camera register, recordings, playback, exports and live view.",
	"live":             "The live grid: the cameras the caller may watch at once, and each user's own saved views.",
	"viewings":         "Review by time: one traced look at up to four cameras over an extent, its seeks kept with it.",
	"maintenance":      "Maintenance work orders across cameras (REG-5).",
	"compliance":       "Policy findings.",
	"portal":           "The public portal of lost-person applications.",
	"procedures":       "The published lost-person procedure.",
	"applicants":       "Citizens' registration.",
	"applications":     "Lost-person applications and their review.",
	"footage-requests": "Requests for a private camera's footage, answered by its owner.",
	"trace":            "The tamper-evident trail and its proofs.",
	"exports":          "Exported footage.",
	"export-approvals": "Export requests awaiting a second user's approval (the pack's two-person rule).",
	"holds":            "Legal holds on footage.",
	"storage":          "What is kept, and the storage forecast.",
	"grants":           "Sharing agreements between organisations.",
	"groups":           "Camera groups.",
	"sharing":          "The sharing terms, shared cameras and owners' notifications.",
	"gb28181":          "GB/T 28181 devices and their channels.",
	"filings":          "System filing with the public security organ (the pack's system_filing): each accepted camera, its filing and whether it is overdue.",
	"consultations":    "Public consultation on procedures: drafts, the public's opinions (anonymous, with a receipt code), the police's answers, final versions.",
	"inspections":      "Establishments' hidden-camera inspection plans, records and overdue findings (REG-2).",
	"camera-reports":   "The public's reports of suspected illegal cameras, their receipts and the police's handling (REG-2).",
}

// tagOf groups a route by the first part of its path under /api/v1/.
func tagOf(pattern string) string {
	rest := strings.TrimPrefix(pattern, "/api/v1/")
	first, _, _ := strings.Cut(rest, "/")
	return first
}

func operationID(rt Route) string {
	return strings.ToLower(rt.Method) + strings.NewReplacer("/api/v1/", "", "/", "_", "{", "", "}", "", ".", "_").Replace(rt.Pattern)
}
