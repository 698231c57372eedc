package gbdevice

import "testing"

func TestFleetIDs(t *testing.T) {
	tg, err := ParseTarget("sip:43020000002000000001@127.0.0.1:5060")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Server != "127.0.0.1:5060" || tg.Domain != "4302000000" {
		t.Fatalf("ParseTarget = %+v", tg)
	}
	for _, f := range []Fleet{{Target: tg, Count: 3}, {Target: tg, Count: 300, NVR: true}} {
		seen := map[string]bool{}
		for _, c := range f.Configs() {
			ids := []string{c.ID}
			for _, ch := range c.Channels {
				ids = append(ids, ch.ID)
			}
			for _, id := range ids {
				if len(id) != 20 || seen[id] {
					t.Errorf("Fleet(nvr=%v) id %q: want 20 digits, unique", f.NVR, id)
				}
				seen[id] = true
			}
		}
	}
	for _, bad := range []string{"http://x", "sip:123@127.0.0.1", "127.0.0.1:5060"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) = nil error", bad)
		}
	}
}
