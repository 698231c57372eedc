package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"civicam/internal/fault"
	"civicam/internal/photo"
)

// MaxSignPhotoBytes bounds a sign photo: a phone's photo of a sign is a few megabytes (package
// photo bounds the pixels).
const (
	MaxSignPhotoBytes = 8 << 20
)

// Photo types a sign photo may be.
const (
	PhotoJPEG = "image/jpeg"
	PhotoPNG  = "image/png"
)

// Photo is a sign photo as kept: re-encoded, so that nothing of the uploaded file but its
// pixels survives (EXIF with the phone's GPS position, XMP, comments, trailing data), named by
// the SHA-256 of the kept bytes.
type Photo struct {
	Type   string `json:"type"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
	Data   []byte `json:"-"`
}

// SanitizePhoto checks an uploaded photo and returns it re-encoded by package photo (only the
// pixels kept). The checks here answer the uploader with the kind of refusal — empty, too
// large, not a JPEG or PNG by its content — before photo decodes anything.
func SanitizePhoto(b []byte) (*Photo, error) {
	if len(b) == 0 {
		return nil, invalid("photo", "is empty")
	}
	if len(b) > MaxSignPhotoBytes {
		return nil, &fault.Error{Kind: fault.TooLarge, Field: "photo", Message: fmt.Sprintf("photo is larger than %d bytes", MaxSignPhotoBytes)}
	}
	typ := http.DetectContentType(b)
	if typ != PhotoJPEG && typ != PhotoPNG {
		return nil, &fault.Error{Kind: fault.Unsupported, Field: "photo", Message: "photo is " + typ + "; a JPEG or PNG image is required"}
	}
	p, err := photo.Sanitize(b, MaxSignPhotoBytes)
	if err != nil {
		return nil, invalid("photo", "is not a readable %s image of at most %d pixels", typ, photo.MaxPixels)
	}
	sum := sha256.Sum256(p.Data)
	return &Photo{Type: p.ContentType, SHA256: hex.EncodeToString(sum[:]), Size: len(p.Data), Data: p.Data}, nil
}
