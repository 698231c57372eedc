package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The shape of the code (ARCHITECTURE.md) as rules on imports, so that a change that breaks it
// fails here rather than in a reviewer's reading:
//   - the faces (httpapi, webui, cli) are siblings: none imports another;
//   - only app builds the faces' servers: nothing else imports httpapi or webui;
//   - nothing but main and cli imports app;
//   - domain packages, the API and the web UI do not import store: the domains own the
//     interfaces store implements, and the faces reach data only through the services.
//
// Tests are left out: a face's tests may assemble the whole server, as a user meets it.

const module = "civicam/internal/"

// faces are the packages people and programs talk to; each may have helper packages of its own
// below it (httpapi/apitest), which count as part of it.
var faces = []string{"httpapi", "webui", "cli"}

// notDomain are the packages that may import store: the store itself and its test databases,
// the composition roots (app for the server, recbench for the recording benchmark's worker),
// the command line (which opens the database itself to verify the trail offline), and helpers
// that assemble servers or recorded footage for tests. The API and the web UI reach the data
// only through the services.
var notDomain = []string{"store", "app", "recbench", "cli", "httpapi/apitest", "playback/playbacktest"}

// tree reports whether pkg (relative to civicam/internal/) is root or below it.
func tree(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

type listed struct {
	ImportPath string
	Imports    []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkgs []listed
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; want the whole module", len(pkgs))
	}
	faceOf := func(pkg string) string {
		for _, f := range faces {
			if tree(pkg, f) {
				return f
			}
		}
		return ""
	}
	for _, p := range pkgs {
		from, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok {
			from = p.ImportPath // main
		}
		for _, imp := range p.Imports {
			to, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			switch f, g := faceOf(from), faceOf(to); {
			case f != "" && g != "" && f != g:
				t.Errorf("%s imports %s: a face imports another face", p.ImportPath, imp)
			case (g == "httpapi" || g == "webui") && f != g && from != "app":
				t.Errorf("%s imports %s: only app builds the faces' servers", p.ImportPath, imp)
			case tree(to, "app") && from != "civicam" && from != "cli":
				t.Errorf("%s imports %s: only main and cli import app", p.ImportPath, imp)
			case tree(to, "store") && !slices.ContainsFunc(notDomain, func(root string) bool { return tree(from, root) }):
				t.Errorf("%s imports %s: a domain package imports store", p.ImportPath, imp)
			}
		}
	}
}
