package app

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// secureDataDir makes the data directory readable by the server's user alone: the directory
// 0700, the files directly in it (the database, its journal, the signing key) 0600. The
// recordings, exports and uploads below it are then out of other users' reach however their own
// modes were set. Anything wider is corrected, with a warning, since it may have been exposed.
func secureDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := narrow(dir, 0o700, log); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := narrow(filepath.Join(dir, e.Name()), 0o600, log); err != nil {
				return err
			}
		}
	}
	return nil
}

// narrow takes from path's mode every permission outside want.
func narrow(path string, want fs.FileMode, log *slog.Logger) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	mode := st.Mode().Perm()
	if mode&^want == 0 {
		return nil
	}
	if err := os.Chmod(path, mode&want); err != nil {
		return fmt.Errorf("data directory: narrow %s: %w", path, err)
	}
	log.Warn("data was readable by other users; permissions narrowed", "path", path,
		"was", fmt.Sprintf("%#o", mode), "now", fmt.Sprintf("%#o", mode&want))
	return nil
}
