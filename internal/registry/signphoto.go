package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"

	"civicam/internal/fault"
)

// Limits on a sign photo. A phone's photo of a sign is a few megabytes; the pixel bound stops a
// small file that declares a huge image from making the decoder allocate gigabytes.
const (
	MaxSignPhotoBytes  = 8 << 20
	MaxSignPhotoPixels = 40_000_000
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

// SanitizePhoto checks an uploaded photo and returns it re-encoded. The type is sniffed from
// the content (http.DetectContentType), never taken from the client; only JPEG and PNG are
// taken. Re-encoding with the standard library's encoders drops every metadata segment, which
// stripping APP segments by hand would miss in PNG chunks and in malformed files alike.
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
	var (
		cfg image.Config
		err error
	)
	if typ == PhotoJPEG {
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	}
	if err != nil {
		return nil, invalid("photo", "is not a readable %s image", typ)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxSignPhotoPixels {
		return nil, invalid("photo", "is %d×%d pixels; at most %d pixels are taken", cfg.Width, cfg.Height, MaxSignPhotoPixels)
	}
	var img image.Image
	if typ == PhotoJPEG {
		img, err = jpeg.Decode(bytes.NewReader(b))
	} else {
		img, err = png.Decode(bytes.NewReader(b))
	}
	if err != nil {
		return nil, invalid("photo", "is not a readable %s image", typ)
	}
	var out bytes.Buffer
	if typ == PhotoJPEG {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	}
	if err != nil {
		return nil, invalid("photo", "cannot be re-encoded")
	}
	sum := sha256.Sum256(out.Bytes())
	return &Photo{Type: typ, SHA256: hex.EncodeToString(sum[:]), Size: out.Len(), Data: out.Bytes()}, nil
}
