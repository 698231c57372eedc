package trace

import (
	"bytes"
	"civicam/internal/fuzzbound"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Any entry encodes to JSON that the database's JSON functions and encoding/json read back as
// the entry, and whose head Verify reads as the same sequence number and cameras.
func FuzzEncode(f *testing.F) {
	f.Add(int64(7), "li.wei", "missing child", "cam-1", "cam-2", "rule", "REG-5")
	f.Add(int64(0), "", "", "", "", "", "")
	f.Add(int64(1<<40), "a\"b\\c", "line\nbreak\x00\x1f\u2028", `x","y`, "\xff\xfe", "\\", "日本")
	f.Fuzz(func(t *testing.T, seq int64, user, purpose, cam1, cam2, key, val string) {
		if seq < 0 || seq >= 1e18 {
			return
		}
		e := Entry{Seq: seq, Time: time.UnixMicro(seq), Actor: Actor{UserID: user, Username: user},
			Action: ActionSearch, CameraIDs: []string{cam1, cam2}, Purpose: purpose, Outcome: Denied,
			Detail: map[string]string{key: val}}
		data := e.Encode(nil)
		if !json.Valid(data) {
			t.Fatalf("Encode(%+v) = %s: not valid JSON", e, data)
		}
		valid := validUTF8
		back, err := (&Row{Seq: seq, Data: data}).Entry()
		if err != nil {
			t.Fatalf("Row{%s}.Entry() = %v", data, err)
		}
		wantCams := []string{valid(cam1), valid(cam2)}
		if back.Purpose != valid(purpose) || back.Actor.UserID != valid(user) || !slices.Equal(back.CameraIDs, wantCams) ||
			back.Detail[valid(key)] != valid(val) {
			t.Errorf("Row{%s}.Entry() = %+v; want %+v", data, back, e)
		}
		gotSeq, cams, err := entryHead(data)
		if err != nil || gotSeq != seq || !slices.Equal(cams, wantCams) {
			t.Errorf("entryHead(%s) = %d, %q, %v; want %d, %q", data, gotSeq, cams, err, seq, wantCams)
		}
	})
}

// validUTF8 replaces each byte of s that is not UTF-8 by U+FFFD, as encoding/json and Encode do.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// update rewrites the checked-in seed corpora under testdata/fuzz.
var update = flag.Bool("update", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// entryHeadSeeds are rows as the log writes them (layout 2) and as migration 0007 left them
// (layout 1, spelled as SQLite and as PostgreSQL write JSON), and damaged ones.
func entryHeadSeeds() map[string][]byte {
	at := time.Date(2026, 12, 1, 9, 30, 0, 123456000, time.UTC)
	full := Entry{Seq: 41, Time: at, Actor: Actor{UserID: "u-1", Username: "li.wei", Role: "operator", OrganisationID: "org-1",
		ClientAddr: "192.0.2.7"}, Action: ActionExport, CameraIDs: []string{"c-1", "c-2", "c-1"}, From: at.Add(-time.Hour), To: at,
		Reference: "CASE-7", Purpose: "incident review", Outcome: Allowed, Detail: map[string]string{"export": "e-1", "bytes": "123"}}
	odd := Entry{Seq: 7, Action: ActionSearch, CameraIDs: []string{`q"uote`, "back\\slash", "\xff\xfe", "\u2028"}, Purpose: "line\nbreak\x00",
		Outcome: Denied, Reason: "\t"}
	legacy := `{"v":1,"seq":42,"camera_ids":"[\"c-1\",\"c-2\"]","at":1764581400123456,"user_id":"u-1","username":"n","role":"admin",` +
		`"organisation_id":"","client_addr":"127.0.0.1","action":"playback","range_from":1764577800000000,"range_to":1764581400000000,` +
		`"reference":"","purpose":"p","outcome":"allowed","reason":"","detail":"{\"k\":\"v\"}"}`
	return map[string][]byte{
		"full":         full.Encode(nil),
		"empty":        Entry{}.Encode(nil),
		"escapes":      odd.Encode(nil),
		"legacy":       []byte(legacy),
		"legacy-pg":    []byte(strings.ReplaceAll(strings.ReplaceAll(legacy, `":`, `" : `), `,"`, `, "`)),
		"cut":          full.Encode(nil)[:60],
		"duplicate-id": append(Entry{Seq: 3, CameraIDs: []string{"a"}}.Encode(nil)[:len(Entry{Seq: 3, CameraIDs: []string{"a"}}.Encode(nil))-1], `,"camera_ids":["b"]}`...),
	}
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzEntryHead with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzEntryHead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range entryHeadSeeds() {
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzEntryHead: whatever a row holds, reading it fails or succeeds, never panics, within the
// bound. An entry that decodes hashes as a leaf, and encodes to a row that decodes to the same
// entry, whose head Verify reads as its sequence number and cameras. A row that is exactly what
// Encode writes has a head that agrees with the full decoding (the camera index is built from
// the one and shown from the other).
func FuzzEntryHead(f *testing.F) {
	f.Add([]byte(Entry{Seq: 3, CameraIDs: []string{"a", `b\"c`}}.Encode(nil)))
	f.Add([]byte(`{"v":1,"seq":1,"camera_ids":"[]","at":2,"user_id":"u","username":"n","role":"r","organisation_id":"o","client_addr":"c","action":"login","range_from":0,"range_to":0,"reference":"","purpose":"","outcome":"allowed","reason":"","detail":"{}"}`))
	f.Add([]byte(`{"v":2,"seq":12,"camera_ids":["`))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		headSeq, headCams, headErr := entryHead(data)
		leaf, leafErr := LeafHash(&Row{Data: data})
		r := &Row{Seq: headSeq, Data: data}
		e, err := r.Entry()
		if err == nil {
			if leafErr != nil || len(leaf) != 32 {
				t.Fatalf("LeafHash(%q) = %x, %v; Entry() decodes it", data, leaf, leafErr)
			}
			enc := e.Encode(nil)
			back, err := (&Row{Seq: e.Seq, Data: enc}).Entry()
			if err != nil || !reflect.DeepEqual(back, e) {
				t.Fatalf("Entry(Encode(Entry(%q))) = %+v, %v; want %+v", data, back, err, e)
			}
			seq, cams, err := entryHead(enc)
			if err != nil || seq != e.Seq || !slices.Equal(cams, e.CameraIDs) {
				t.Fatalf("entryHead(%s) = %d, %q, %v; want %d, %q", enc, seq, cams, err, e.Seq, e.CameraIDs)
			}
			if bytes.Equal(enc, data) && (headErr != nil || headSeq != e.Seq || !slices.Equal(headCams, e.CameraIDs)) {
				t.Fatalf("entryHead(%s) = %d, %q, %v; Entry() = seq %d, cameras %q", data, headSeq, headCams, headErr, e.Seq, e.CameraIDs)
			}
		}
		fuzzbound.Check(t, start, "decoding", len(data))
	})
}
