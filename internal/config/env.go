package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// envPrefix begins every environment name.
const envPrefix = "CIVICAM_"

// envName is the variable that overrides a key: CIVICAM_ and the key's path upper-cased, a "_"
// for each ".", so "trace.checkpoint_every" is CIVICAM_TRACE_CHECKPOINT_EVERY. Deployments set
// these names: renaming a key renames its variable and breaks them.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// A leaf is one key of the configuration: its YAML path and the field holding its value.
type leaf struct {
	key   string // like "trace.checkpoint_every"
	field reflect.Value
}

// leaves lists c's keys in declaration order, read from the yaml tags, so that a field added to
// a struct has its variable without a second list to keep in step.
func (c *Config) leaves() []leaf {
	return leavesOf(reflect.ValueOf(c).Elem(), "")
}

// leavesOf lists the keys of the struct v under prefix, naming them as yaml.v3 does.
func leavesOf(v reflect.Value, prefix string) []leaf {
	var out []leaf
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's key for an untagged field
		}
		key := prefix + name
		switch {
		case f.Type.Kind() == reflect.Struct && !decodesItself(f.Type) && hasOption(opts, "inline"):
			out = append(out, leavesOf(v.Field(i), prefix)...)
		case f.Type.Kind() == reflect.Struct && !decodesItself(f.Type):
			out = append(out, leavesOf(v.Field(i), key+".")...)
		default:
			out = append(out, leaf{key: key, field: v.Field(i)})
		}
	}
	return out
}

// hasOption reports whether a yaml tag's options (after the name) include opt.
func hasOption(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// decodesItself reports whether values of t parse themselves from YAML rather than by their kind.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(reflect.TypeFor[yaml.Unmarshaler]()) || p.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// envForm says what a variable must hold to set a key of type t, for the message when it holds
// something else; "" means the environment cannot set such a key. A type that parses itself is
// listed by name, because its kind says nothing of its form: a new one needs a case here, and
// TestEveryKeyHasAVariable fails until it has one.
func envForm(t reflect.Type) string {
	if t == reflect.TypeFor[Duration]() {
		return "a duration"
	}
	if decodesItself(t) {
		return ""
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return ""
}

// applyEnv overlays the CIVICAM_* variables. An empty variable counts as unset: getenv cannot
// tell the two apart, and an empty line left in a unit file should not clear a key.
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, l := range c.leaves() {
		name := envName(l.key)
		v := getenv(name)
		if v == "" {
			continue
		}
		if err := setFromEnv(l.field, v); err != nil {
			return fmt.Errorf("%s=%q: %w", name, v, err)
		}
	}
	return nil
}

// setFromEnv parses v into field as the YAML file's plain scalar v would be parsed, so that a
// value means the same in either place (a duration like 90s, a number like 2000 or 1_000, true
// or false). Two things differ, because a variable that is set is meant to set its key: text is
// taken as it stands (null, ~, # or quotes are not YAML's there), and where the file reads null as
// "leave the default", a variable holding it is an error, as is any other value not of the form.
func setFromEnv(field reflect.Value, v string) error {
	form := envForm(field.Type())
	if form == "" {
		return fmt.Errorf("a %s cannot be set from the environment", field.Type())
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	if field.Kind() == reflect.String {
		n.Style = yaml.DoubleQuotedStyle // verbatim, whatever YAML would make of it
	}
	if n.ShortTag() == "!!null" {
		return fmt.Errorf("not %s", form)
	}
	if err := n.Decode(field.Addr().Interface()); err != nil {
		// yaml.v3's message names a line the environment does not have.
		return fmt.Errorf("not %s", form)
	}
	return nil
}
