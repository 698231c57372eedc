package httpapi

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"civicam/internal/registry"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPI serves an OpenAPI 3.1 document built from the route table itself, so that it can
// never list a route the server lacks or miss one it has.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	paths := map[string]map[string]any{}
	for _, rt := range s.Routes() {
		op := map[string]any{
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/api/v1/", "", "/", "_", "{", "", "}", "").Replace(rt.Pattern),
			"responses": map[string]any{
				"default": map[string]any{"description": "error", "content": map[string]any{
					"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		if rt.Public() {
			op["security"] = []any{}
			op["description"] = "Public: no login."
		} else {
			roles := make([]string, len(rt.Roles))
			for i, rl := range rt.Roles {
				roles[i] = string(rl)
			}
			if len(roles) == 0 {
				op["description"] = "Any logged-in user."
			} else {
				op["description"] = "Roles: " + strings.Join(roles, ", ") + "."
			}
			op["x-roles"] = roles
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "civicam API", "version": "1",
			"description": "Public-safety camera governance: registry, policy, access trail. Authenticate with POST /api/v1/sessions and send the token as Authorization: Bearer."},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{
				"Camera":       schemaOf(reflect.TypeFor[registry.Camera]()),
				"Organisation": schemaOf(reflect.TypeFor[registry.Organisation]()),
				"Finding":      schemaOf(reflect.TypeFor[registry.Finding]()),
				"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{
					"type": "object", "required": []string{"code", "message"},
					"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"}}}}},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// schemaOf describes a flat struct's JSON fields.
func schemaOf(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		var typ map[string]any
		switch {
		case f.Type == reflect.TypeFor[time.Time]():
			typ = map[string]any{"type": "string", "format": "date-time"}
		case f.Type.Kind() == reflect.String:
			typ = map[string]any{"type": "string"}
		case f.Type.Kind() == reflect.Bool:
			typ = map[string]any{"type": "boolean"}
		case f.Type.Kind() == reflect.Int:
			typ = map[string]any{"type": "integer"}
		case f.Type.Kind() == reflect.Float64:
			typ = map[string]any{"type": "number"}
		default:
			typ = map[string]any{}
		}
		props[name] = typ
	}
	return map[string]any{"type": "object", "properties": props}
}
