//go:build unix

package segment

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// iovMax is the most buffers one writev takes (IOV_MAX on Linux and the BSDs).
const iovMax = 1024

// vectored returns a function writing bufs with writev(2) when f is an OS file, or nil. Batches
// go out in one system call instead of two a sample, which on a journalling file system is what
// a small write costs.
func vectored(f File) func(bufs [][]byte) (int, error) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func(bufs [][]byte) (int, error) {
		var n int
		var werr error
		for len(bufs) > 0 && werr == nil {
			chunk := bufs[:min(len(bufs), iovMax)]
			var k int
			if err := rc.Write(func(fd uintptr) bool {
				k, werr = unix.Writev(int(fd), chunk)
				return true // a regular file is never "not ready"
			}); err != nil && werr == nil {
				werr = err
			}
			if k < 0 {
				k = 0
			}
			n += k
			bufs = advance(bufs, k)
			if werr == nil && k == 0 && len(bufs) > 0 {
				werr = syscall.EIO // no progress: a regular file never does this
			}
		}
		return n, werr
	}
}
