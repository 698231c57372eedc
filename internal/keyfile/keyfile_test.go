package keyfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte // nil: no file
		mode     os.FileMode
		want     string
		wantErr  bool
	}{
		{name: "no file: generated", want: "new"},
		{name: "existing key kept", existing: []byte("old"), mode: 0o600, want: "old"},
		{name: "readable by the group", existing: []byte("old"), mode: 0o640, wantErr: true},
		{name: "readable by all", existing: []byte("old"), mode: 0o644, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if tc.existing != nil {
				if err := os.WriteFile(path, tc.existing, tc.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadOrCreate(path, func() ([]byte, error) { return []byte("new"), nil })
			if tc.wantErr {
				if err == nil {
					t.Fatalf("LoadOrCreate(mode %o) = %q, nil; want an error", tc.mode, got)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("LoadOrCreate = %q, %v; want %q", got, err, tc.want)
			}
			st, err := os.Stat(path)
			if err != nil || st.Mode().Perm() != 0o600 && tc.existing == nil {
				t.Errorf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
			}
		})
	}
}

// Processes starting at once must agree on one key: a second writer that replaced the first
// one's key would orphan whatever the first had already sealed or signed with it.
func TestLoadOrCreateRaceKeepsOneKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	var n atomic.Int64
	got := make([][]byte, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			b, err := LoadOrCreate(path, func() ([]byte, error) { return fmt.Appendf(nil, "key-%d", n.Add(1)), nil })
			if err != nil {
				t.Errorf("LoadOrCreate: %v", err)
			}
			got[i] = b
		})
	}
	wg.Wait()
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range got {
		if !bytes.Equal(b, onDisk) {
			t.Errorf("caller %d got %q; the file holds %q", i, b, onDisk)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("directory holds %d entries; want the key alone (no temp files left)", len(es))
	}
}
