package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// TestExampleFileMatchesConfig keeps civicam.example.yaml documenting exactly the struct's keys,
// each with its variable and its default.
func TestExampleFileMatchesConfig(t *testing.T) {
	// civicam.example.yaml is at the repository's root.
	examplePath := filepath.Join("..", "..", "civicam.example.yaml")
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	documented, err := yamlKeys(b)
	if err != nil {
		t.Fatalf("civicam.example.yaml: %v", err)
	}
	c := Default()
	var keys []string
	for _, l := range c.leaves() {
		keys = append(keys, l.key)
		if !slices.Contains(documented, l.key) {
			t.Errorf("civicam.example.yaml does not document the key %s", l.key)
		}
		name := envName(l.key)
		if !regexp.MustCompile(`\b` + name + `\b`).Match(b) {
			t.Errorf("civicam.example.yaml does not name %s's variable %s", l.key, name)
		}
	}
	for _, k := range documented {
		if !slices.Contains(keys, k) {
			t.Errorf("civicam.example.yaml documents %s, which is no key of Config", k)
		}
	}
	loaded, err := Load(examplePath, func(string) string { return "" })
	if err != nil {
		t.Fatalf("Load(example) = %v", err)
	}
	if !reflect.DeepEqual(loaded, Default()) {
		t.Errorf("Load(example) = %+v; want the defaults it claims to show, %+v", loaded, Default())
	}
}
