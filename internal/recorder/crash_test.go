package recorder_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/simcam"
	"civicam/internal/store"
)

// envRecordChild makes the test binary a recorder ("dir,url") for the crash test to kill.
const envRecordChild = "CIVICAM_TEST_RECORDER_CHILD"

func runChildRecorder(spec string) int {
	dir, url, _ := strings.Cut(spec, ",")
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rec := recorder.New(recorder.Config{SegmentLength: 3 * time.Second},
		recorder.Deps{Store: segment.NewDisk(filepath.Join(dir, "recordings")), Index: db})
	rec.Sync([]recorder.Camera{{ID: "cam1", SourceURL: url, Transport: recorder.TransportTCP}})
	// Runs until killed.
	if err := rec.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKillDuringRecording kills a recording process with SIGKILL several times, each time once
// it is in the middle of a segment, restarts it (which repairs what the kill left), and finally
// checks that every segment on disk is indexed, sealed and strictly valid.
func TestKillDuringRecording(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts and kills recorder processes")
	}
	cam, _ := startSimcam(t, simcam.H264, 1)
	dir := t.TempDir()
	d := segment.NewDisk(filepath.Join(dir, "recordings"))
	ctx := context.Background()
	const kills = 3
	var killedIn string
	midPart := 0 // kills that left part of a part behind
	for i := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envRecordChild+"="+dir+","+cam.URL(1))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill once the newest segment has two complete parts and the file holds some of a third:
		// samples reach the file in batches as they come, the part's moof only at its end.
		waitFor(t, fmt.Sprintf("run %d to be mid-segment", i), func() bool {
			db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
			if err != nil {
				return false
			}
			defer db.Close()
			un, err := db.UnsealedSegments(ctx, "")
			if err != nil || len(un) == 0 || un[len(un)-1].Path == killedIn {
				return false
			}
			in, err := d.Scan(un[len(un)-1].Path)
			if err == nil && len(in.Parts) >= 2 && in.Trailing > 0 {
				killedIn = un[len(un)-1].Path
				return true
			}
			return false
		})
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		// The kill left the start of a part behind, which the next run's repair must cut (unless
		// the part was completed between the check and the kill).
		if in, err := d.Scan(killedIn); err != nil {
			t.Errorf("Scan(%s) after kill %d = %v", killedIn, i, err)
		} else if in.Trailing > 0 {
			midPart++
		}
	}
	t.Logf("%d of %d kills left an incomplete part behind", midPart, kills)
	if midPart == 0 {
		t.Errorf("no kill left an incomplete part; the test did not cover a kill mid-part")
	}

	db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := recorder.New(recorder.Config{}, recorder.Deps{Store: d, Index: db}).RepairUnsealed(ctx, "cam1"); err != nil {
		t.Fatalf("RepairUnsealed = %v", err)
	}
	segs := checkSegments(t, d, db, "cam1")
	if len(segs) < kills {
		t.Errorf("indexed %d segments; want at least %d, one per run", len(segs), kills)
	}
	var files int
	filepath.WalkDir(filepath.Join(dir, "recordings"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files++
		}
		return nil
	})
	if files != len(segs) {
		t.Errorf("%d segment files on disk; the index holds %d", files, len(segs))
	}
}
