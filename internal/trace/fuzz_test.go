package trace

import (
	"encoding/json"
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

// Whatever a row holds, reading it fails or succeeds; it never panics.
func FuzzEntryHead(f *testing.F) {
	f.Add([]byte(Entry{Seq: 3, CameraIDs: []string{"a", `b\"c`}}.Encode(nil)))
	f.Add([]byte(`{"v":1,"seq":1,"camera_ids":"[]","at":2,"user_id":"u","username":"n","role":"r","organisation_id":"o","client_addr":"c","action":"login","range_from":0,"range_to":0,"reference":"","purpose":"","outcome":"allowed","reason":"","detail":"{}"}`))
	f.Add([]byte(`{"v":2,"seq":12,"camera_ids":["`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entryHead(data)
		LeafHash(&Row{Data: data})
		(&Row{Data: data}).Entry()
	})
}
