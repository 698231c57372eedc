//go:build !unix

package segment

// vectored is nil where writev is not available: the Writer then writes buffer by buffer.
func vectored(File) func(bufs [][]byte) (int, error) { return nil }
