package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"civicam/internal/gb28181"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

func TestGBDevicesRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
		org := &registry.Organisation{ID: registry.NewID(), Name: "PSB", Kind: "department", DepartmentType: "public_security", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GBDevice(ctx, "43020000001180000001"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GBDevice(missing) = %v; want ErrNotFound", err)
		}
		for _, id := range []string{"43020000001180000001", "43020000001180000002"} {
			d := &gb28181.Device{ID: id, Name: "录像机", Online: true, Transport: "udp", RemoteAddr: "127.0.0.1:5062", RegisteredAt: now, LastSeen: now}
			if err := db.SaveGBDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		dev := "43020000001180000001"
		chans := []gb28181.Channel{{ID: "43020000001310000001", Name: "路口一", Status: "online"}, {ID: "43020000001310000002", Name: "路口二", Status: "online"}}
		if err := db.SaveGBChannels(ctx, dev, chans, true); err != nil {
			t.Fatal(err)
		}
		cam := &registry.Camera{ID: registry.NewID(), Name: "路口一", OrganisationID: org.ID, Investment: "government", RetentionDays: 30,
			Status: "planned", GBDeviceID: chans[0].ID, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateCameras(ctx, []*registry.Camera{cam}); err != nil {
			t.Fatal(err)
		}
		if err := db.AdoptGBDevice(ctx, dev, org.ID, map[string]string{chans[0].ID: cam.ID}); err != nil {
			t.Fatal(err)
		}
		// A new complete catalog without either channel: the one that became a camera stays, offline.
		if err := db.SaveGBChannels(ctx, dev, []gb28181.Channel{{ID: "43020000001310000003", Name: "三", Status: "online"}}, true); err != nil {
			t.Fatal(err)
		}
		got, err := db.GBDevice(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		if got.OrganisationID != org.ID || !got.Online || got.Name != "录像机" || !got.RegisteredAt.Equal(now) || len(got.Channels) != 2 {
			t.Fatalf("GBDevice = %+v", got)
		}
		if c := got.Channels[0]; c.ID != chans[0].ID || c.CameraID != cam.ID || c.Status != "offline" {
			t.Errorf("kept channel = %+v; want its camera, offline", c)
		}
		if c := got.Channels[1]; c.ID != "43020000001310000003" || c.CameraID != "" {
			t.Errorf("new channel = %+v", c)
		}
		for _, tc := range []struct {
			f    gb28181.DeviceFilter
			want int
		}{{gb28181.DeviceFilter{All: true}, 2}, {gb28181.DeviceFilter{OrganisationID: org.ID}, 2}, {gb28181.DeviceFilter{OrganisationID: registry.NewID()}, 1}} {
			ds, err := db.GBDevices(ctx, tc.f)
			if err != nil || len(ds) != tc.want {
				t.Errorf("GBDevices(%+v) = %d devices, %v; want %d", tc.f, len(ds), err, tc.want)
			}
		}
		if err := db.AdoptGBDevice(ctx, "43020000001180000009", org.ID, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AdoptGBDevice(missing) = %v; want ErrNotFound", err)
		}
		// How a device authenticates is kept: no digest, or its own password.
		for _, want := range []gb28181.Device{{ID: "43020000001180000091", NoDigest: true}, {ID: "43020000001180000092", Password: "own-pass"}} {
			if err := db.SaveGBDevice(ctx, &want); err != nil {
				t.Fatal(err)
			}
			got, err := db.GBDevice(ctx, want.ID)
			if err != nil || got.NoDigest != want.NoDigest || got.Password != want.Password {
				t.Errorf("GBDevice(%s) = %+v, %v; want no_digest %v, password %q", want.ID, got, err, want.NoDigest, want.Password)
			}
		}
	})
}

func TestGBDialogsRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
		mine := gb28181.Dialog{CallID: "a1@civicam", Platform: "127.0.0.1:5060", DeviceID: "43020000001180000001",
			ChannelID: "43020000001310000001", Transport: "udp", Remote: "127.0.0.1:5062",
			Target: "sip:43020000001310000001@192.0.2.1:5060", FromTag: "f1", ToTag: "t1", CSeq: 7, StartedAt: now}
		other := mine
		other.CallID, other.Platform = "b2@civicam", "127.0.0.2:5060"
		for _, d := range []gb28181.Dialog{mine, other} {
			if err := db.SaveGBDialog(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.GBDialogs(ctx, mine.Platform)
		if err != nil || len(got) != 1 || got[0] != mine {
			t.Fatalf("GBDialogs(%s) = %+v, %v; want [%+v]", mine.Platform, got, err, mine)
		}
		if err := db.DeleteGBDialog(ctx, mine.CallID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteGBDialog(ctx, "unknown"); err != nil {
			t.Errorf("DeleteGBDialog(unknown) = %v; want nil", err)
		}
		if got, err := db.GBDialogs(ctx, mine.Platform); err != nil || len(got) != 0 {
			t.Errorf("GBDialogs after delete = %+v, %v; want none", got, err)
		}
	})
}
