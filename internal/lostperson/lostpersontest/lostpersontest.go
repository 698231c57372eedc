// Package lostpersontest helps tests of lost-person applications read what the platform sends.
package lostpersontest

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
)

// PDFText inflates a PDF's content streams, where the core-font text of a result notice is
// written literally, so that a test can look for words in it.
func PDFText(b []byte) string {
	var out strings.Builder
	for {
		i := bytes.Index(b, []byte("stream\n"))
		if i < 0 {
			break
		}
		b = b[i+len("stream\n"):]
		j := bytes.Index(b, []byte("endstream"))
		if j < 0 {
			break
		}
		if zr, err := zlib.NewReader(bytes.NewReader(b[:j])); err == nil {
			data, _ := io.ReadAll(zr)
			out.Write(data)
		} else {
			out.Write(b[:j])
		}
		b = b[j:]
	}
	return out.String()
}
