package segment

import (
	"fmt"
	"io"
	"os"
)

// Reader is a stored segment opened for reading, wherever it is kept: a file on local disk or an
// object in a bucket read with range requests. Playback, export and every other reader of
// recordings go through it, so they read both the same way.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size is the segment's length now; a segment still being written grows.
	Size() (int64, error)
}

// LocalFile is a Reader over a segment file on local disk. Its *os.File is exposed so that
// playback can hand it to sendfile.
type LocalFile struct {
	*os.File
}

// Size is the file's current length.
func (f LocalFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat segment: %w", err)
	}
	return st.Size(), nil
}
