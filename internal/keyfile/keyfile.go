// Package keyfile keeps a process's long-lived secret keys in files of their own: read when
// present, made once when not, never readable by others and never overwritten. The trail's
// signing key and the key that seals stream credentials both live this way; overwriting either
// would orphan what was signed or sealed with the old one.
package keyfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreate returns the contents of the key file at path. When there is none, it writes the
// bytes that generate returns, durably and with mode 0600; when another process writes one
// first, it returns that process's key instead of its own. A file that others may read is
// refused: a key in it may already be known.
func LoadOrCreate(path string, generate func() ([]byte, error)) ([]byte, error) {
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			st, err := os.Stat(path)
			if err != nil {
				return nil, err
			}
			if st.Mode().Perm()&0o077 != 0 {
				return nil, fmt.Errorf("mode %o lets others read it; want 0600", st.Mode().Perm())
			}
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		data, err := generate()
		if err != nil {
			return nil, err
		}
		err = writeNew(path, data)
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Another process made it between our read and our write: use theirs.
	}
	return nil, fmt.Errorf("key file appeared and vanished twice")
}

// writeNew writes data to path with mode 0600, never over an existing file (fs.ErrExist). It
// writes a temporary file and links it into place, so the key appears whole or not at all.
func writeNew(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the link failed, the temp name's removal after it worked
	if err := writeSynced(f, data); err != nil {
		return err
	}
	// A link, not a rename: a rename would replace a key another process has just written.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links: create exclusively in place. Still never an
		// overwrite; a crash mid-write leaves a short file that the key's parser refuses.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if err := writeSynced(f, data); err != nil {
			return err
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeSynced writes data to f with mode 0600, syncs and closes it.
func writeSynced(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
