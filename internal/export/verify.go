package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"civicam/internal/playback"
	"civicam/internal/trace"
)

// Problems is everything Verify found wrong with an export.
type Problems []string

func (p Problems) Error() string { return "export does not verify: " + strings.Join(p, "; ") }

// Verify checks the export zip in r (size bytes) against the verifier key: the manifest's
// signature, the MP4's size and hash, its header's hash, each fragment's hash in order (a
// dropped, altered, added or reordered fragment is named), and the MP4's structure (sequence
// numbers counting from 1, decode times continuous). It returns the manifest and nil when all
// hold, else Problems naming each failure (the manifest too, when it could be read). An empty
// verifierKey takes the key the export carries (KeyName): that proves the zip is whole as
// signed, and who signed it only once the key is compared with the platform's published one;
// a given key that differs from the carried one is a problem.
func Verify(r io.ReaderAt, size int64, verifierKey string) (*Manifest, error) {
	var probs Problems
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, Problems{"not a readable zip: " + err.Error()}
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := entries[f.Name]; dup {
			add("entry %q appears twice", f.Name)
		}
		entries[f.Name] = f
		if f.Name != VideoName && f.Name != ManifestName && f.Name != SignatureName && f.Name != KeyName && f.Name != ReadmeName && f.Name != ReceiptName {
			add("unexpected entry %q", f.Name)
		}
	}
	read := func(name string) []byte {
		f := entries[name]
		if f == nil {
			add("missing %s", name)
			return nil
		}
		rc, err := f.Open()
		if err != nil {
			add("%s: %v", name, err)
			return nil
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		if err != nil {
			add("%s: %v", name, err)
			return nil
		}
		return b
	}
	mj, sig := read(ManifestName), read(SignatureName)
	if mj == nil || sig == nil {
		return nil, probs
	}
	if entries[KeyName] != nil {
		carried := strings.TrimSpace(string(read(KeyName)))
		switch given := strings.TrimSpace(verifierKey); {
		case given == "":
			verifierKey = carried
		case carried != given:
			add("the export carries the verifier key %q, not the key given", carried)
		}
	}
	if strings.TrimSpace(verifierKey) == "" {
		return nil, append(probs, "no verifier key: give the platform's (GET /api/v1/trace/key); this export carries none")
	}
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, append(probs, "verifier key: "+err.Error())
	}
	var m Manifest
	if err := json.Unmarshal(mj, &m); err != nil {
		return nil, append(probs, "manifest is not valid JSON: "+err.Error())
	}
	n, err := note.Open(sig, note.VerifierList(v))
	switch {
	case err != nil:
		add("signature does not verify with key %s: %v", v.Name(), err)
	case n.Text != signedText(m.ID, mj):
		add("signature is valid but covers another manifest (the manifest was changed after signing)")
	}
	if entries[ReceiptName] != nil {
		if rec, err := checkReceipt(read(ReceiptName), &m, verifierKey); err != nil {
			add("trail receipt: %v", err)
		} else {
			m.Recorded = rec
		}
	}
	vf := entries[VideoName]
	if vf == nil {
		return &m, append(probs, "missing "+VideoName)
	}
	if vf.Method != zip.Store {
		return &m, append(probs, VideoName+" is compressed; an export stores it")
	}
	off, err := vf.DataOffset()
	if err != nil {
		return &m, append(probs, VideoName+": "+err.Error())
	}
	vsize := int64(vf.UncompressedSize64)
	video := io.NewSectionReader(r, off, vsize)
	if vsize != m.Video.Size {
		add("%s has %d bytes; the manifest says %d", VideoName, vsize, m.Video.Size)
	}
	if h, err := hashRange(video, 0, vsize); err != nil {
		add("read %s: %v", VideoName, err)
	} else if h != m.Video.SHA256 {
		add("%s SHA-256 is %s; the manifest says %s", VideoName, h, m.Video.SHA256)
	}
	layout, err := playback.Inspect(video, vsize)
	if err != nil {
		return &m, append(probs, VideoName+" is not a well-formed fragmented MP4: "+err.Error())
	}
	if h, _ := hashRange(video, 0, layout.HeaderSize); layout.HeaderSize != m.Video.HeaderSize || h != m.Video.HeaderSHA256 {
		add("the MP4 header (init and index) differs from the manifest's")
	}
	want := map[string]int{}
	for i, f := range m.Fragments {
		want[f.SHA256] = i
	}
	var got []string
	for i, fr := range layout.Fragments {
		h, err := hashRange(video, fr.Offset, fr.Size)
		if err != nil {
			add("read fragment %d: %v", i+1, err)
			continue
		}
		got = append(got, h)
		j, known := want[h]
		switch {
		case !known:
			add("fragment %d (at byte %d) matches no fragment of the manifest: altered or added", i+1, fr.Offset)
		case j != i:
			add("fragment %d is the manifest's fragment %d: fragments reordered or dropped", i+1, j+1)
		}
	}
	if len(layout.Fragments) != len(m.Fragments) {
		add("the MP4 has %d fragments; the manifest lists %d", len(layout.Fragments), len(m.Fragments))
	}
	for i, f := range m.Fragments {
		if !slices.Contains(got, f.SHA256) {
			add("the manifest's fragment %d (seq %d) is missing from the MP4", i+1, f.Seq)
		}
	}
	if err := layout.Check(); err != nil {
		add("the MP4's fragments do not form one stream: %v", err)
	}
	if len(probs) > 0 {
		return &m, probs
	}
	return &m, nil
}

// checkReceipt proves the export's own trail entry from the receipt b: in a checkpoint signed
// with verifierKey, the entry the manifest names, recording this export of this camera.
func checkReceipt(b []byte, m *Manifest, verifierKey string) (*Recorded, error) {
	var r trace.Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	e, c, err := r.Check(verifierKey)
	switch {
	case err != nil:
		return nil, err
	case e.Seq != m.TraceSeq:
		return nil, fmt.Errorf("proves entry %d; the manifest names entry %d", e.Seq, m.TraceSeq)
	case e.Action != trace.ActionExport || e.Outcome != trace.Allowed || !slices.Contains(e.CameraIDs, m.CameraID) ||
		!strings.Contains(e.Reason, "export "+m.ID):
		return nil, fmt.Errorf("entry %d records %s of %v (%s), not this export", e.Seq, e.Action, e.CameraIDs, e.Reason)
	}
	return &Recorded{Seq: e.Seq, TreeSize: c.Size}, nil
}

func hashRange(r io.ReaderAt, off, n int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, off, n)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadManifest returns an export's manifest without checking anything.
func ReadManifest(r io.ReaderAt, size int64) (*Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	rc, err := zr.Open(ManifestName)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, 64<<20)); err != nil {
		return nil, err
	}
	var m Manifest
	return &m, json.Unmarshal(buf.Bytes(), &m)
}
