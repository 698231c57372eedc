// Package photo makes an uploaded photo safe to keep and to show: it accepts only what is, by its
// bytes, a JPEG or a PNG (never by its name or declared type), bounds its size and its pixels
// before decoding, and re-encodes the picture alone, so that nothing else the file carried — EXIF
// with the GPS position of the phone, the camera's serial number, comments, a script hidden after
// the image data — is kept.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
)

// Content types of a sanitised photo.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// MaxPixels bounds a photo's width × height before it is decoded: a small file can declare a
// huge picture (a decompression bomb), and decoding allocates 4 bytes per pixel. 40 megapixels
// is more than any phone takes.
const MaxPixels = 40_000_000

// Errors of Sanitize; each is wrapped with the detail.
var (
	// ErrTooLarge: the file is larger than the limit given.
	ErrTooLarge = errors.New("photo is too large")
	// ErrNotPhoto: the bytes are not a JPEG or a PNG, or not a whole, decodable one.
	ErrNotPhoto = errors.New("not a JPEG or PNG photo")
)

// Photo is a sanitised picture: Data holds only the re-encoded pixels.
type Photo struct {
	ContentType   string
	Data          []byte
	Width, Height int
}

// Sanitize checks that data is a JPEG or PNG of at most maxBytes and MaxPixels and returns it
// re-encoded in the same format without any metadata.
func Sanitize(data []byte, maxBytes int64) (*Photo, error) {
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), maxBytes)
	}
	ct := http.DetectContentType(data)
	if ct != JPEG && ct != PNG {
		return nil, fmt.Errorf("%w: the content is %s", ErrNotPhoto, ct)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPhoto, err)
	}
	if (format == "jpeg") != (ct == JPEG) {
		return nil, fmt.Errorf("%w: the header says %s, the content %s", ErrNotPhoto, format, ct)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d pixels, at most %d", ErrTooLarge, cfg.Width, cfg.Height, MaxPixels)
	}
	var img image.Image
	if ct == JPEG {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPhoto, err)
	}
	var out bytes.Buffer
	if ct == JPEG {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img)
	}
	if err != nil {
		return nil, fmt.Errorf("re-encode photo: %w", err)
	}
	b := img.Bounds()
	return &Photo{ContentType: ct, Data: out.Bytes(), Width: b.Dx(), Height: b.Dy()}, nil
}
