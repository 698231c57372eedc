package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestVariables keeps every variable deployments already set working as before, and the ones that
// were missing working now.
func TestVariables(t *testing.T) {
	tests := []struct {
		env, value string
		got        func(c Config) any
		want       any
	}{
		{"CIVICAM_DATA", "/var/lib/civicam", func(c Config) any { return c.Data }, "/var/lib/civicam"},
		{"CIVICAM_LISTEN", "0.0.0.0:9000", func(c Config) any { return c.Listen }, "0.0.0.0:9000"},
		{"CIVICAM_POSTGRES_DSN", "postgres://civicam@db/civicam", func(c Config) any { return c.PostgresDSN }, "postgres://civicam@db/civicam"},
		{"CIVICAM_POLICY", "/etc/civicam/pack.yaml", func(c Config) any { return c.Policy }, "/etc/civicam/pack.yaml"},
		{"CIVICAM_LOG_LEVEL", "debug", func(c Config) any { return c.LogLevel }, "debug"},
		{"CIVICAM_LOG_FORMAT", "json", func(c Config) any { return c.LogFormat }, "json"},
		{"CIVICAM_SESSION_TTL", "2h", func(c Config) any { return c.SessionTTL.D() }, 2 * time.Hour},
		{"CIVICAM_LOGIN_MAX_FAILURES", "9", func(c Config) any { return c.LoginMaxFailures }, 9},
		{"CIVICAM_LOGIN_WINDOW", "1h30m", func(c Config) any { return c.LoginWindow.D() }, 90 * time.Minute},
		{"CIVICAM_CAMERA_REPORTS_PER_ADDRESS", "12", func(c Config) any { return c.CameraReports.PerAddress }, 12},
		{"CIVICAM_CAMERA_REPORTS_WINDOW", "30m", func(c Config) any { return c.CameraReports.Window.D() }, 30 * time.Minute},
		{"CIVICAM_PASSWORD_HASHING_SLOTS", "3", func(c Config) any { return c.PasswordHashing.Slots }, 3},
		{"CIVICAM_PASSWORD_HASHING_WAIT", "250ms", func(c Config) any { return c.PasswordHashing.Wait.D() }, 250 * time.Millisecond},
		{"CIVICAM_TRACE_ORIGIN", "city.example/trail", func(c Config) any { return c.Trace.Origin }, "city.example/trail"},
		{"CIVICAM_TRACE_CHECKPOINT_EVERY", "50", func(c Config) any { return c.Trace.CheckpointEvery }, 50},
		{"CIVICAM_TRACE_CHECKPOINT_INTERVAL", "500ms", func(c Config) any { return c.Trace.CheckpointInterval.D() }, 500 * time.Millisecond},
		{"CIVICAM_UI_LANGUAGE", "en", func(c Config) any { return c.UI.Language }, "en"},
		{"CIVICAM_UI_TILE_URL", "https://t.example/{z}/{x}/{y}.png", func(c Config) any { return c.UI.TileURL }, "https://t.example/{z}/{x}/{y}.png"},
		{"CIVICAM_APPLICATIONS_WEBHOOK_URL", "https://gw.example/notify", func(c Config) any { return c.Applications.WebhookURL }, "https://gw.example/notify"},
		{"CIVICAM_APPLICATIONS_SEARCH_RADIUS_M", "1500.5", func(c Config) any { return c.Applications.SearchRadiusM }, 1500.5},
		{"CIVICAM_APPLICATIONS_REGISTRATIONS_PER_ADDRESS", "20", func(c Config) any { return c.Applications.RegistrationsPerAddress }, 20},
		{"CIVICAM_APPLICATIONS_MAX_WINDOW", "24h", func(c Config) any { return c.Applications.MaxWindow.D() }, 24 * time.Hour},
		{"CIVICAM_APPLICATIONS_NOTICE_FONT", "/usr/share/fonts/a.ttf", func(c Config) any { return c.Applications.NoticeFont }, "/usr/share/fonts/a.ttf"},
		{"CIVICAM_RECORDING_MEMORY_PER_STREAM_MIB", "2", func(c Config) any { return c.Recording.MemoryPerStreamMiB }, 2.0},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			c, err := Load("", func(k string) string {
				if k == tt.env {
					return tt.value
				}
				return ""
			})
			if err != nil {
				t.Fatalf("Load(%s=%s) = %v", tt.env, tt.value, err)
			}
			if got := tt.got(c); got != tt.want {
				t.Errorf("Load(%s=%s) sets %v; want %v", tt.env, tt.value, got, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

// TestEveryKeyHasAVariable fails when a key's type has no form in the environment, or two keys
// would share a variable.
func TestEveryKeyHasAVariable(t *testing.T) {
	c := Default()
	owner := map[string]string{}
	for _, l := range c.leaves() {
		if form := envForm(l.field.Type()); form == "" {
			t.Errorf("key %s: envForm(%s) = \"\"; the environment cannot set it (add its type to envForm)", l.key, l.field.Type())
		}
		name := envName(l.key)
		if other, ok := owner[name]; ok {
			t.Errorf("keys %s and %s both have the variable %s", other, l.key, name)
		}
		owner[name] = l.key
	}
}

// TestLeavesNameKeysAsYAMLDoes compares the keys leaves derives with those yaml.v3 writes for the
// same struct.
func TestLeavesNameKeysAsYAMLDoes(t *testing.T) {
	type inner struct {
		Tagged   int `yaml:"tagged_name"`
		Untagged string
	}
	type odd struct {
		Plain    string `yaml:"plain,omitempty"`
		Skipped  int    `yaml:"-"`
		hidden   int
		Nested   inner    `yaml:"nested"`
		Flat     inner    `yaml:",inline"`
		Interval Duration `yaml:"interval"`
	}
	cfg := Default()
	tests := []struct {
		name string
		v    any
	}{
		{"Config", &cfg},
		{"odd tags", &odd{Plain: "x", hidden: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range leavesOf(reflect.ValueOf(tt.v).Elem(), "") {
				got = append(got, l.key)
			}
			b, err := yaml.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			want, err := yamlKeys(b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("leavesOf(%s) = %q; want %q", tt.name, got, want)
			}
		})
	}
}

// TestVariablesParseAsTheFile sets every key once in the file and once in the environment, with
// each value of the key's kind, and wants the same configuration or an error from both. (Text and
// null, where the two differ on purpose, have tests of their own.)
func TestVariablesParseAsTheFile(t *testing.T) {
	values := map[string][]string{
		"a duration":     {"90s", "1h30m", "-5m", "0", "90", "forever"},
		"a whole number": {"7", "+7", "-3", "1_000", "0x1f", "0o17", "010", "7.0", "1e3", "many", "true"},
		"a number":       {"2.5", "12", ".5", "1e3", "1_000", "0x10", "-0.25", "far"},
		"true or false":  {"true", "false", "yes", "off", "maybe"},
		"text":           {"x", "a b", "127.0.0.1:8080", "12", "true"},
	}
	dir := t.TempDir()
	for _, l := range (&Config{}).leaves() {
		form := envForm(l.field.Type())
		if len(values[form]) == 0 {
			t.Errorf("key %s: no values of form %q to try", l.key, form)
		}
		for _, v := range values[form] {
			t.Run(l.key+"="+v, func(t *testing.T) {
				file := filepath.Join(dir, "c.yaml")
				if err := os.WriteFile(file, []byte(yamlSetting(l.key, v)), 0o600); err != nil {
					t.Fatal(err)
				}
				fromFile, fileErr := Load(file, func(string) string { return "" })
				fromEnv, envErr := Load("", func(k string) string {
					if k == envName(l.key) {
						return v
					}
					return ""
				})
				switch {
				case (fileErr == nil) != (envErr == nil):
					t.Errorf("Load(%s=%q) = %v; the file's %s: %s gives %v", envName(l.key), v, envErr, l.key, v, fileErr)
				case envErr == nil && !reflect.DeepEqual(fromEnv, fromFile):
					t.Errorf("Load(%s=%q) = %+v; want the file's %+v", envName(l.key), v, fromEnv, fromFile)
				}
			})
		}
	}
}

// TestVariablesKeepTextAsItStands checks that YAML's null, comments and quotes mean nothing in a
// variable.
func TestVariablesKeepTextAsItStands(t *testing.T) {
	for _, v := range []string{"null", "~", "#x", "a: b", "'quoted'", `"quoted"`, " spaced ", "[x]", "a\nb"} {
		c, err := Load("", func(k string) string {
			if k == "CIVICAM_POLICY" {
				return v
			}
			return ""
		})
		if err != nil || c.Policy != v {
			t.Errorf("Load(CIVICAM_POLICY=%q) = policy %q, %v; want %q", v, c.Policy, err, v)
		}
	}
}

// TestVariableErrors pins the messages, which name the variable and what it must hold.
func TestVariableErrors(t *testing.T) {
	tests := []struct {
		env, value, want string
	}{
		{"CIVICAM_TRACE_CHECKPOINT_EVERY", "many", `CIVICAM_TRACE_CHECKPOINT_EVERY="many": not a whole number`},
		{"CIVICAM_LOGIN_MAX_FAILURES", "5x", `CIVICAM_LOGIN_MAX_FAILURES="5x": not a whole number`},
		{"CIVICAM_SESSION_TTL", "forever", `CIVICAM_SESSION_TTL="forever": not a duration`},
		{"CIVICAM_APPLICATIONS_MAX_WINDOW", "3", `CIVICAM_APPLICATIONS_MAX_WINDOW="3": not a duration`},
		{"CIVICAM_APPLICATIONS_SEARCH_RADIUS_M", "far", `CIVICAM_APPLICATIONS_SEARCH_RADIUS_M="far": not a number`},
		{"CIVICAM_RECORDING_MEMORY_PER_STREAM_MIB", "1MiB", `CIVICAM_RECORDING_MEMORY_PER_STREAM_MIB="1MiB": not a number`},
		// The file reads null as "leave the default"; a variable that is set must set its key.
		{"CIVICAM_TRACE_CHECKPOINT_EVERY", "null", `CIVICAM_TRACE_CHECKPOINT_EVERY="null": not a whole number`},
		{"CIVICAM_LOGIN_WINDOW", "~", `CIVICAM_LOGIN_WINDOW="~": not a duration`},
		{"CIVICAM_APPLICATIONS_SEARCH_RADIUS_M", "Null", `CIVICAM_APPLICATIONS_SEARCH_RADIUS_M="Null": not a number`},
	}
	for _, tt := range tests {
		_, err := Load("", func(k string) string {
			if k == tt.env {
				return tt.value
			}
			return ""
		})
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load(%s=%s) = %v; want %s", tt.env, tt.value, err, tt.want)
		}
	}
}

// TestEnvForm lists which types the environment can set; the others make
// TestEveryKeyHasAVariable fail for a key of that type.
func TestEnvForm(t *testing.T) {
	tests := []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[string](), "text"},
		{reflect.TypeFor[int](), "a whole number"},
		{reflect.TypeFor[uint32](), "a whole number"},
		{reflect.TypeFor[float64](), "a number"},
		{reflect.TypeFor[bool](), "true or false"},
		{reflect.TypeFor[Duration](), "a duration"},
		{reflect.TypeFor[[]string](), ""},
		{reflect.TypeFor[map[string]string](), ""},
		{reflect.TypeFor[*int](), ""},
		{reflect.TypeFor[time.Time](), ""}, // parses itself and is not listed
	}
	for _, tt := range tests {
		if got := envForm(tt.t); got != tt.want {
			t.Errorf("envForm(%s) = %q; want %q", tt.t, got, tt.want)
		}
	}
	var list struct{ L []string }
	if err := setFromEnv(reflect.ValueOf(&list).Elem().Field(0), "a,b"); err == nil {
		t.Errorf("setFromEnv([]string, \"a,b\") = nil; want an error")
	}
}

// yamlKeys lists the paths of a YAML document's scalar keys, like "trace.origin", in order.
func yamlKeys(b []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var out []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.MappingNode {
				walk(v, prefix+k.Value+".")
			} else {
				out = append(out, prefix+k.Value)
			}
		}
	}
	if len(doc.Content) == 1 {
		walk(doc.Content[0], "")
	}
	return out, nil
}

// yamlSetting is a YAML document setting the key at path to the plain scalar v.
func yamlSetting(path, v string) string {
	var b strings.Builder
	parts := strings.Split(path, ".")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i < len(parts)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString(" " + v + "\n")
	return b.String()
}
