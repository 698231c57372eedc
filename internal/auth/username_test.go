package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckUsername(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"letters", "chief", true},
		{"all allowed characters", "Op_1.b-2", true},
		{"shortest", "abc", true},
		{"longest", strings.Repeat("a", 64), true},
		{"too short", "ab", false},
		{"too long", strings.Repeat("a", 65), false},
		{"empty", "", false},
		{"space", "op one", false},
		{"at sign", "op@psb", false},
		{"slash", "op/1", false},
		{"non-ASCII letters", "张三丰", false},
		{"accented", "josé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUsername(tt.in)
			if tt.ok && err != nil {
				t.Errorf("CheckUsername(%q) = %v; want nil", tt.in, err)
			}
			if !tt.ok && !errors.Is(err, ErrUsername) {
				t.Errorf("CheckUsername(%q) = %v; want ErrUsername", tt.in, err)
			}
		})
	}
}
