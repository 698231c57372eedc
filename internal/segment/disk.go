package segment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Disk keeps segments as files under Root (DATA/recordings), at their keys.
type Disk struct {
	Root string
}

// NewDisk returns a Disk rooted at root.
func NewDisk(root string) *Disk { return &Disk{Root: root} }

// Path is the host path of key. Keys that would escape Root are refused.
func (d *Disk) Path(key string) (string, error) {
	clean := path.Clean(key)
	if key == "" || clean != key || path.IsAbs(key) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("segment key %q is not a clean relative path", key)
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

// Create makes a new, empty segment file at key, open for reading too (the Writer hashes a part's
// samples back from it). Its directory entry is synced before returning, so a segment whose
// parts were synced cannot vanish with its directory in a crash.
func (d *Disk) Create(key string) (File, error) {
	p, err := d.Path(key)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create segment directory: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open segment directory: %w", err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("sync segment directory: %w", err)
	}
	return nil
}

// Open opens the segment at key for reading. A missing file gives an error satisfying
// errors.Is(err, fs.ErrNotExist).
func (d *Disk) Open(key string) (Reader, error) {
	f, err := d.OpenFile(key)
	if err != nil {
		return nil, err
	}
	return LocalFile{f}, nil
}

// OpenFile opens the segment file at key for reading.
func (d *Disk) OpenFile(key string) (*os.File, error) {
	p, err := d.Path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Scan reads and checks the segment at key.
func (d *Disk) Scan(key string) (*Info, error) {
	f, err := d.OpenFile(key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment: %w", err)
	}
	return Scan(f, st.Size())
}

// Repair cuts the segment at key to its last complete part and syncs it. It returns what remains.
// A segment without a valid init holds nothing playable: Repair then returns ErrNoInit and
// leaves the file for the caller to remove. A missing file gives an error satisfying
// errors.Is(err, fs.ErrNotExist).
func (d *Disk) Repair(key string) (*Info, error) {
	p, err := d.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment for repair: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment: %w", err)
	}
	in, err := Scan(f, st.Size())
	if err != nil {
		return nil, err
	}
	if in.Trailing > 0 {
		if err := f.Truncate(in.Size); err != nil {
			return nil, fmt.Errorf("truncate segment to %d: %w", in.Size, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("sync repaired segment: %w", err)
		}
		in.Trailing, in.TrailingErr = 0, nil
	}
	return in, nil
}

// Remove deletes the segment at key, and its day directory once that is empty. Removing a
// segment that is already gone is not an error, so deletion can be retried.
func (d *Disk) Remove(key string) error {
	p, err := d.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove segment: %w", err)
	}
	// Fails harmlessly while the directory still holds other segments.
	_ = os.Remove(filepath.Dir(p))
	return nil
}
