package recbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"civicam/internal/gb28181"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/recorder"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/trace"
)

// The bench's GB/T 28181 platform: its id, and the 10-digit domain its devices' ids start with.
const (
	gbPlatformID = "34020000002000000001"
	gbDomain     = "3402000000"
	// gbMediaPorts is where the platform's worker receives the channels' RTP, a port each.
	gbMediaPortLo = 36000
)

// gbFleet is the simulated devices of a run: n cameras of one channel each, both workers
// computing the same ids.
func gbFleet(server string, n int, transport string, bitrate int64) gbdevice.Fleet {
	return gbdevice.Fleet{Target: gbdevice.Target{Server: server, ServerID: gbPlatformID, Domain: gbDomain},
		Count: n, Transport: transport, Bitrate: bitrate}
}

// workGBDevices runs n simulated GB/T 28181 devices registering with the platform at source,
// each sending its channel as PS over RTP at bitrate when invited.
func workGBDevices(ctx context.Context, n int, source, transport string, bitrate int64, out *json.Encoder) error {
	if err := out.Encode(report{Flowing: n}); err != nil {
		return fmt.Errorf("gbdevices: report: %w", err)
	}
	return gbFleet(source, n, transport, bitrate).Run(ctx, slog.Default())
}

// noTrail is the bench platform's tracer: registrations are not what is measured, and a signed
// trail would need a key.
type noTrail struct{}

func (noTrail) Record(context.Context, trace.Record) error { return nil }

// workCivicamGB runs civicam's GB/T 28181 platform and recorder as `civicam serve` does (app's
// gb28181.Source for gb28181:// cameras) for the n channels of the fleet, which registers once
// the harness has read the platform's address from the first report.
func workCivicamGB(ctx context.Context, n int, dir, transport, heapProfile string, out *json.Encoder) error {
	db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "civicam.db")})
	if err != nil {
		return fmt.Errorf("civicam-gb: open index: %w", err)
	}
	defer db.Close()
	gb, err := gb28181.New(gb28181.Config{Listen: "127.0.0.1:0", ID: gbPlatformID, Domain: gbDomain},
		gb28181.Deps{Repo: db, Tracer: noTrail{}})
	if err != nil {
		return fmt.Errorf("civicam-gb: %w", err)
	}
	src := gb28181.NewSource(gb28181.SourceConfig{IP: "127.0.0.1", PortLo: gbMediaPortLo, PortHi: gbMediaPortLo + 2*n + 100,
		Transport: transport}, gb, nil)
	rec := recorder.New(recorder.Config{}, recorder.Deps{Store: segment.NewDisk(filepath.Join(dir, "recordings")), Index: db,
		Sources: map[string]recorder.MediaSource{"gb28181": src}})
	fleet := gbFleet(gb.Addr(), n, transport, 0).Configs()
	cams := make([]recorder.Camera, len(fleet))
	for i, d := range fleet {
		cams[i] = recorder.Camera{ID: fmt.Sprintf("cam%d", i+1), SourceURL: "gb28181://" + d.ID + "/" + d.Channels[0].ID}
	}
	rec.Sync(cams)
	// The platform outlives the recorder, whose streams send their BYEs through it.
	gbCtx, stopGB := context.WithCancel(context.WithoutCancel(ctx))
	gbDone := make(chan error, 1)
	go func() { gbDone <- gb.Run(gbCtx) }()
	status := recorderStatus(rec, len(cams))
	first := status()
	first.Addr = gb.Addr()
	if err := out.Encode(first); err != nil {
		stopGB()
		<-gbDone
		return fmt.Errorf("civicam-gb: report address: %w", err)
	}
	err = runReporting(ctx, rec, status, heapProfile, out)
	stopGB()
	err = errors.Join(err, <-gbDone)
	if err != nil {
		return fmt.Errorf("civicam-gb: %w", err)
	}
	return nil
}
