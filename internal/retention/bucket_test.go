package retention

import (
	"strings"
	"testing"
	"time"

	"civicam/internal/bucket"
	"civicam/internal/policy"
	"civicam/internal/registry"
)

func TestBucketFindings(t *testing.T) {
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cams := []*registry.Camera{{ID: "a", Status: registry.StatusActive}, {ID: "b", Status: registry.StatusPlanned}}
	for _, tc := range []struct {
		name string
		st   bucket.Status
		want int
	}{
		{"nothing waits", bucket.Status{Reachable: true}, 0},
		{"waiting briefly", bucket.Status{Waiting: 3, OldestEnd: now.Add(-time.Minute)}, 0},
		{"waiting too long", bucket.Status{Bucket: "rec", Waiting: 3, WaitingBytes: 9, OldestEnd: now.Add(-BucketWaitLimit),
			LastError: "connection refused"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bucketFindings(tc.st, cams, pack, now)
			if len(got) != tc.want {
				t.Fatalf("bucketFindings = %+v; want %d finding(s)", got, tc.want)
			}
			for _, f := range got {
				if f.CameraID != "a" || f.Code != policy.CodeRecordingsWaitingForBucket || !strings.Contains(f.Message, "connection refused") {
					t.Errorf("finding = %+v; want camera a, %s, naming the error", f, policy.CodeRecordingsWaitingForBucket)
				}
			}
		})
	}
}
