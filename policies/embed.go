// Package policies holds the policy packs shipped inside the civicam binary. A policy pack is the
// regulation as data (place categories, duties, floors, deadlines); package internal/policy parses
// and applies it. Keeping the packs here, at the repository root, lets a city's lawyers review
// one plain file without reading Go.
package policies

import "embed"

// FS holds every shipped pack, by file name.
//
//go:embed *.yaml
var FS embed.FS

// Default is the file name in FS of the pack used when no other is configured.
const Default = "zhuzhou.yaml"
