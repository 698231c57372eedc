package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"civicam/internal/store"
)

// TestSQLiteFilesOwnerOnly: a new database (and the -wal and -shm files SQLite makes beside it)
// was created with the process's umask, readable by every user, until the server narrowed it.
func TestSQLiteFilesOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "civicam.db")
	db, err := store.Open(context.Background(), store.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("Stat(%s) = %v", p, err)
		}
		if m := st.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s mode = %v; want readable by its owner alone", filepath.Base(p), m)
		}
	}
}
