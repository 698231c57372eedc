// Package export makes reproductions of recorded footage (REG-5) and checks them. An export is
// one zip file holding the MP4 of a time range, exactly as playback builds it (no re-encoding),
// and a manifest that states what it is — camera, range, exporter, purpose, case reference, the
// SHA-256 of every source segment, of the MP4 and of each of its fragments in order, and the
// sequence number of the trail entry that recorded the export — signed with the platform's key
// (the trail's ed25519 key, as a C2SP signed note over the manifest's hash).
//
// Verify checks a zip against the verifier key alone: the signature, every hash, the fragment
// order and the MP4's structure, naming everything that is wrong.
package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"civicam/internal/playback"
	"civicam/internal/registry"
	"civicam/internal/segment"
	"civicam/internal/timespan"
	"civicam/internal/trace"
)

// Names of the zip's entries.
const (
	VideoName     = "video.mp4"
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	// KeyName holds the platform's verifier key, so that the zip alone can be checked; whoever
	// relies on it compares it with the key the platform publishes (GET /api/v1/trace/key), as a
	// forger could carry a key of their own.
	KeyName = "verifier.key"
	// ReadmeName says, in Chinese and English, what the zip holds and how to check it.
	ReadmeName = "README.txt"
	// ReceiptName holds the trail's receipt of the export's own entry (trace.Receipt): a signed
	// checkpoint and the proof that the entry is in it.
	ReceiptName = "trail-receipt.json"
)

// readme is the README.txt of an export.
func readme(m *Manifest) []byte {
	return []byte(`civicam 视频导出 / civicam footage export ` + m.ID + `

本压缩包内容：video.mp4（录像）、manifest.json（来源、时段、导出人、每个片段的 SHA-256）、
manifest.sig（平台对清单的签名）、verifier.key（平台的验证公钥）、
trail-receipt.json（本次导出在访问日志中的记录、平台签名的日志检查点及其包含证明）。
核验：civicam export verify 本文件.zip
（如需确认签名确属本平台，请将 verifier.key 与平台公布的公钥 /api/v1/trace/key 比对，
或使用 --key 指定公布的公钥。）任何改动、增删或重排片段都会导致核验失败。

This zip holds video.mp4 (the footage), manifest.json (its source, range, exporter and the
SHA-256 of every fragment), manifest.sig (the platform's signature of the manifest) and
verifier.key (the platform's public verifier key) and trail-receipt.json (this export's entry in
the access trail, a checkpoint of the trail signed by the platform, and the proof that the entry
is in it).
Check it: civicam export verify THIS.zip
(To be sure the signature is the platform's, compare verifier.key with the key the platform
publishes at /api/v1/trace/key, or give that key with --key.) Any change to the video, or a
fragment added, removed or reordered, fails the check.
`)
}

// Manifest is what an export states about itself.
type Manifest struct {
	Version   int              `json:"version"`
	ID        string           `json:"id"`
	CameraID  string           `json:"camera_id"`
	Camera    string           `json:"camera_name"`
	Requested timespan.Range   `json:"requested"`
	Covered   timespan.Range   `json:"covered"`
	Spans     []playback.Span  `json:"spans"`
	Gaps      []timespan.Range `json:"gaps"`
	Exporter  Exporter         `json:"exporter"`
	// ApprovedBy is the second user who approved the export, when the pack's two-person rule
	// asked for one.
	ApprovedBy *Exporter `json:"approved_by,omitempty"`
	Purpose    string    `json:"purpose"`
	CaseRef    string    `json:"case_ref"`
	// ApplicationID is the lost-person application a reviewer exported under, if any.
	ApplicationID string `json:"application_id,omitempty"`
	// Recipient is where the copy went, when the exporter named it (the pack's
	// export_recipients option makes that a must).
	Recipient *Recipient `json:"recipient,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	// TraceSeq is the sequence number of the trail entry that recorded this export.
	TraceSeq  int64      `json:"trace_seq"`
	Segments  []Source   `json:"segments"`
	Video     Video      `json:"video"`
	Fragments []Fragment `json:"fragments"`
	Signer    string     `json:"signer"` // the key's name, for the reader; the signature decides

	// Recorded is what Verify proved of the export's trail entry from the receipt the zip
	// carries; nil when it carries none (exports made before receipts). Not part of the
	// manifest's bytes.
	Recorded *Recorded `json:"-"`
}

// Recorded is the export's trail entry as its receipt proved it.
type Recorded struct {
	Seq      int64 `json:"seq"`       // the entry
	TreeSize int64 `json:"tree_size"` // the size of the signed checkpoint it was proven in
}

// Recipient is who an export's copy was handed to: an organisation, a person there, and the
// case it is for on their side.
type Recipient struct {
	Organisation string `json:"organisation"`
	Person       string `json:"person"`
	Case         string `json:"case"`
}

// String is the recipient as the trail and the owners' view show it.
func (r Recipient) String() string {
	s := r.Organisation + ", " + r.Person
	if r.Case != "" {
		s += ", case " + r.Case
	}
	return s
}

// Exporter is who made the export.
type Exporter struct {
	UserID         string `json:"user_id"`
	Username       string `json:"username"`
	Role           string `json:"role"`
	OrganisationID string `json:"organisation_id"`
}

// Source is a recorded segment the MP4 was cut from.
type Source struct {
	Path   string    `json:"path"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Bytes  int64     `json:"bytes"`
	SHA256 string    `json:"sha256"`
	Parts  int       `json:"parts_used"`
}

// Video describes the MP4 entry.
type Video struct {
	Name         string `json:"name"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	HeaderSize   int64  `json:"header_size"`
	HeaderSHA256 string `json:"header_sha256"` // ftyp + moov + sidx
	DurationMS   int64  `json:"duration_ms"`
}

// Fragment is one moof + mdat of the MP4, in order.
type Fragment struct {
	Seq    uint32 `json:"seq"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Signer signs manifests; *trace.Key's Signer() and VerifierKey() supply it.
type Signer struct {
	Signer   note.Signer
	Verifier string
}

// Files opens recorded segments by key, to hash them; *segment.Disk implements it.
type Files interface {
	Open(key string) (segment.Reader, error)
}

// Config says where exports are kept.
type Config struct {
	Dir string // DATA/exports
}

// Receipts proves trail entries; *trace.Log implements it.
type Receipts interface {
	Receipt(ctx context.Context, seq int64) (trace.Receipt, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Files Files
	Key   Signer
	// Receipts, when set, puts the receipt of the export's trail entry (Manifest.TraceSeq) in
	// the zip; an export whose entry cannot be proven is not made.
	Receipts Receipts
}

// Service writes and finds exports.
type Service struct {
	cfg  Config
	deps Deps
}

// New returns a Service.
func New(cfg Config, deps Deps) *Service { return &Service{cfg: cfg, deps: deps} }

// Meta is what the server keeps beside an export to decide who may download it: the exporter,
// and what the footage decision is asked again at each download (the camera, the range, the
// case and the application it was exported under).
type Meta struct {
	ID       string `json:"id"`
	CameraID string `json:"camera_id"`
	// CameraName is the camera's name at the export (empty for exports made before it was kept).
	CameraName string         `json:"camera_name,omitempty"`
	Requested  timespan.Range `json:"requested"`
	Exporter   Exporter       `json:"exporter"`
	// CaseRef and ApplicationID are what the export was made under: an emergency grant covers a
	// look only under a case, a reviewer's only under an application.
	CaseRef       string    `json:"case_ref"`
	ApplicationID string    `json:"application_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	Size          int64     `json:"size"`
	TraceSeq      int64     `json:"trace_seq"`
}

// ErrNotFound is an unknown export id.
var ErrNotFound = errors.New("no such export")

// ErrSourceChanged refuses an export whose recorded segment no longer hashes as indexed.
var ErrSourceChanged = errors.New("recorded segment does not match its index entry")

// Create writes the export of plan described by m (its ID, camera, exporter, purpose, case
// ref, creation time and trace sequence filled by the caller) to DIR/<id>.zip, atomically, and
// returns its manifest as written.
func (s *Service) Create(ctx context.Context, plan *playback.Plan, m Manifest) (*Manifest, error) {
	if !registry.ValidID(m.ID) {
		return nil, fmt.Errorf("export id %q is not a valid id", m.ID)
	}
	if s.deps.Key.Signer == nil {
		return nil, errors.New("export: no signing key configured")
	}
	m.Version = 1
	m.Requested, m.Covered, m.Spans, m.Gaps = plan.Requested, plan.Covered, plan.Spans, plan.Gaps
	m.Signer = s.deps.Key.Signer.Name()
	if m.Gaps == nil {
		m.Gaps = []timespan.Range{}
	}
	for _, src := range plan.Sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sum, err := s.hashSegment(src.Record.Path, src.Record.Bytes)
		if err != nil {
			return nil, err
		}
		if src.Record.SHA256 != "" && sum != src.Record.SHA256 {
			return nil, fmt.Errorf("%w: %s hashes to %s; indexed as %s", ErrSourceChanged, src.Record.Path, sum, src.Record.SHA256)
		}
		m.Segments = append(m.Segments, Source{Path: src.Record.Path, Start: src.Record.Start.UTC(), End: src.Record.End.UTC(),
			Bytes: src.Record.Bytes, SHA256: sum, Parts: src.Parts})
	}
	var receipt []byte
	if s.deps.Receipts != nil && m.TraceSeq >= 0 {
		r, err := s.deps.Receipts.Receipt(ctx, m.TraceSeq)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", m.ID, err)
		}
		if receipt, err = json.MarshalIndent(r, "", "  "); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("export directory: %w", err)
	}
	tmp, err := os.CreateTemp(s.cfg.Dir, ".export-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create export: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := s.write(tmp, plan, &m, receipt); err != nil {
		tmp.Close()
		return nil, err
	}
	st, err := tmp.Stat()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	meta := Meta{ID: m.ID, CameraID: m.CameraID, CameraName: m.Camera, Requested: m.Requested, Exporter: m.Exporter, CaseRef: m.CaseRef,
		ApplicationID: m.ApplicationID, CreatedAt: m.CreatedAt, Size: st.Size(), TraceSeq: m.TraceSeq}
	mb, _ := json.Marshal(meta)
	if err := os.WriteFile(s.metaPath(m.ID), mb, 0o640); err != nil {
		return nil, fmt.Errorf("write export meta: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.zipPath(m.ID)); err != nil {
		return nil, fmt.Errorf("store export: %w", err)
	}
	return &m, syncDir(s.cfg.Dir)
}

func (s *Service) zipPath(id string) string  { return filepath.Join(s.cfg.Dir, id+".zip") }
func (s *Service) metaPath(id string) string { return filepath.Join(s.cfg.Dir, id+".json") }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Service) hashSegment(key string, size int64) (string, error) {
	f, err := s.deps.Files.Open(key)
	if err != nil {
		return "", fmt.Errorf("open segment %s: %w", key, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, size))
	if err != nil {
		return "", fmt.Errorf("hash segment %s: %w", key, err)
	}
	if n != size {
		return "", fmt.Errorf("%w: %s has %d bytes; indexed as %d", ErrSourceChanged, key, n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// write puts the MP4 (hashing it fragment by fragment as it goes), then the manifest and its
// signature, into a zip. The MP4 is stored, not deflated: video does not compress, and a stored
// entry can be read in place by Verify.
func (s *Service) write(w io.Writer, plan *playback.Plan, m *Manifest, receipt []byte) error {
	zw := zip.NewWriter(w)
	vw, err := zw.CreateHeader(&zip.FileHeader{Name: VideoName, Method: zip.Store, Modified: m.CreatedAt})
	if err != nil {
		return err
	}
	whole := sha256.New()
	part := sha256.New()
	hw := io.MultiWriter(vw, whole, part)
	hdr := plan.Size
	if len(plan.Fragments) > 0 {
		hdr = plan.Fragments[0].Offset
	}
	if _, err := plan.WriteRange(hw, 0, hdr); err != nil {
		return fmt.Errorf("write video: %w", err)
	}
	m.Video = Video{Name: VideoName, Size: plan.Size, HeaderSize: hdr, HeaderSHA256: sum(part), DurationMS: plan.Duration.Milliseconds()}
	for _, f := range plan.Fragments {
		part.Reset()
		if _, err := plan.WriteRange(hw, f.Offset, f.Size); err != nil {
			return fmt.Errorf("write video: %w", err)
		}
		m.Fragments = append(m.Fragments, Fragment{Seq: f.Seq, Offset: f.Offset, Size: f.Size, SHA256: sum(part)})
	}
	m.Video.SHA256 = sum(whole)
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	mj = append(mj, '\n')
	sig, err := note.Sign(&note.Note{Text: signedText(m.ID, mj)}, s.deps.Key.Signer)
	if err != nil {
		return fmt.Errorf("sign manifest: %w", err)
	}
	entries := []struct {
		name string
		b    []byte
	}{{ManifestName, mj}, {SignatureName, sig}, {KeyName, []byte(s.deps.Key.Verifier + "\n")}, {ReadmeName, readme(m)}}
	if receipt != nil {
		entries = append(entries, struct {
			name string
			b    []byte
		}{ReceiptName, receipt})
	}
	for _, e := range entries {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: m.CreatedAt})
		if err != nil {
			return err
		}
		if _, err := ew.Write(e.b); err != nil {
			return err
		}
	}
	return zw.Close()
}

// signedText is the note the key signs: what it is, which export, and the manifest's hash.
func signedText(id string, manifest []byte) string {
	h := sha256.Sum256(manifest)
	return fmt.Sprintf("civicam export manifest v1\n%s\nsha256 %x\n", id, h)
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// List returns the metas of the exports made by exporter (a user id; "" for everyone's),
// newest first. An export whose zip has gone (removed by hand) is left out.
func (s *Service) List(exporter string) ([]Meta, error) {
	names, err := filepath.Glob(filepath.Join(s.cfg.Dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	out := []Meta{}
	for _, name := range names {
		id := strings.TrimSuffix(filepath.Base(name), ".json")
		if !registry.ValidID(id) {
			continue
		}
		b, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list exports: %w", err)
		}
		var meta Meta
		if err := json.Unmarshal(b, &meta); err != nil || meta.ID != id {
			return nil, fmt.Errorf("list exports: export %s has an unreadable meta", id)
		}
		if exporter != "" && meta.Exporter.UserID != exporter {
			continue
		}
		if _, err := os.Stat(s.zipPath(id)); err != nil {
			continue
		}
		out = append(out, meta)
	}
	slices.SortFunc(out, func(a, b Meta) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// Open returns an export's meta and its zip, opened for reading. The meta of an export written
// before it kept the range, case and application is completed from the zip's manifest.
func (s *Service) Open(id string) (*Meta, *os.File, error) {
	if !registry.ValidID(id) {
		return nil, nil, ErrNotFound
	}
	b, err := os.ReadFile(s.metaPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read export meta: %w", err)
	}
	var meta Meta
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, nil, fmt.Errorf("read export meta %s: %w", id, err)
	}
	f, err := os.Open(s.zipPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open export: %w", err)
	}
	if meta.Requested.Start.IsZero() {
		m, err := ReadManifest(f, meta.Size)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("read manifest of export %s: %w", id, err)
		}
		meta.Requested, meta.CaseRef, meta.ApplicationID = m.Requested, m.CaseRef, m.ApplicationID
	}
	return &meta, f, nil
}
