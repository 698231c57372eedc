package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"civicam/internal/app"
	"civicam/internal/auth"
	"civicam/internal/config"
	"civicam/internal/registry"
	"civicam/internal/segment"
)

// TestRecordingsCommands seeds a data directory with a camera and three indexed segments, then
// runs `civicam recordings status` and `forecast` as a user would.
func TestRecordingsCommands(t *testing.T) {
	data := t.TempDir()
	cfg := config.Default()
	cfg.Data = data
	ctx := auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})
	core, err := app.OpenCore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("OpenCore = %v", err)
	}
	org := &registry.Organisation{Name: "PSB", Kind: "department", DepartmentType: "public_security"}
	if err := core.Registry.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	var in registry.CameraInput
	if err := json.Unmarshal([]byte(fmt.Sprintf(`{"name":"Square East","organisation_id":%q,"investment":"government",
		"lat":27.8,"lon":113.1,"place_category":"public_square","retention_days":45,"status":"active","networked":true,"sign_installed":true}`, org.ID)), &in); err != nil {
		t.Fatal(err)
	}
	cam, err := core.Registry.CreateCamera(ctx, registry.Scope{All: true}, &in)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i, off := range []time.Duration{0, time.Minute, 10 * time.Minute} {
		rec := segment.Record{CameraID: cam.ID, Path: fmt.Sprintf("%s/%d.mp4", cam.ID, i), Start: t0.Add(off),
			End: t0.Add(off + time.Minute), Bytes: 512, SHA256: "00", Sealed: true}
		if err := core.DB.SegmentSealed(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := core.Close(); err != nil {
		t.Fatal(err)
	}

	out, code := runCLI(t, "", "recordings", "status", "--data", data)
	if code != 0 {
		t.Fatalf("recordings status = exit %d: %s", code, out)
	}
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, cam.ID) {
			row = l
		}
	}
	f := strings.Fields(row)
	// CAMERA NAME(2 words) STATUS SEGMENTS KEPT(2) OLDEST(2) NEWEST(2) LAST(2) DAYS RETENTION GAPS GAP-TIME
	if len(f) != 17 || f[3] != "active" || f[4] != "3" || f[5]+" "+f[6] != "1.5 KiB" || f[14] != "45" || f[15] != "1" || f[16] != "8m0s" {
		t.Errorf("recordings status row = %q; want 3 segments, 1.5 KiB, retention 45, one gap of 8m0s\n%s", row, out)
	}

	out, code = runCLI(t, "", "recordings", "forecast", "--data", data, "--format", "json")
	if code != 0 {
		t.Fatalf("recordings forecast = exit %d: %s", code, out)
	}
	var fc struct {
		Locations []struct {
			Location  string `json:"location"`
			KeptBytes int64  `json:"kept_bytes"`
			FreeBytes int64  `json:"free_bytes"`
			Intake    int64  `json:"intake_bytes_per_day"`
			Error     string `json:"error"`
		} `json:"locations"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil {
		t.Fatalf("forecast JSON: %v\n%s", err, out)
	}
	// 1536 bytes over 180 s recorded: 68 bit/s (whole bits), 734,400 bytes a day.
	if len(fc.Locations) != 1 || fc.Locations[0].Location != "local" || fc.Locations[0].KeptBytes != 1536 ||
		fc.Locations[0].FreeBytes <= 0 || fc.Locations[0].Error != "" || fc.Locations[0].Intake != 68*86400/8 {
		t.Errorf("forecast = %+v; want the local location, 1536 bytes kept, free space measured, %d bytes a day", fc.Locations, 68*86400/8)
	}
	if out, code := runCLI(t, "", "recordings", "nonsense"); code != 2 {
		t.Errorf("recordings nonsense = exit %d: %s; want 2", code, out)
	}
}
