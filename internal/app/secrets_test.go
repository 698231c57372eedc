package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"civicam/internal/auth"
	"civicam/internal/config"
	"civicam/internal/registry"
)

// setupCtx acts as an admin at the console, for fixtures.
var setupCtx = auth.WithActor(context.Background(), auth.Actor{Username: "test-setup", Role: auth.RoleAdmin})

// addCamera registers, through the registry service, a camera pulling from source.
func addCamera(t *testing.T, core *Core, source string) *registry.Camera {
	t.Helper()
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := core.Registry.CreateOrganisation(setupCtx, org); err != nil {
		t.Fatal(err)
	}
	name, inv, cat, lat, lon, networked := "Gate", registry.InvestmentGovernment, "public_square", 27.83, 113.15, true
	c, err := core.Registry.CreateCamera(setupCtx, registry.Scope{All: true}, &registry.CameraInput{Name: &name, OrganisationID: &org.ID,
		Investment: &inv, PlaceCategory: &cat, Lat: &lat, Lon: &lon, SourceURL: &source, Networked: &networked})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The key sealing stream credentials is made at first start, 0600, in the data directory; a
// node pointed at a copy of it (secret_key_file, as nodes sharing a database are) reads the
// credentials; a node with another key does not start, and says which key is at fault.
func TestOpenCoreStreamCredentialsKey(t *testing.T) {
	cfg := config.Default()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	log := slog.New(slog.DiscardHandler)
	core, err := OpenCore(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("OpenCore = %v", err)
	}
	const source = "rtsp://admin:hunter2@10.0.0.1/cam/2?password=hunter3"
	cam := addCamera(t, core, source)
	core.Close()
	keyPath := filepath.Join(cfg.Data, "secret.key")
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s = %v, %v; want a key file of mode 0600", keyPath, st, err)
	}

	shared := filepath.Join(t.TempDir(), "shared.key")
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shared, b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(keyPath)
	cfg.SecretKeyFile = shared
	core, err = OpenCore(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("OpenCore(secret_key_file = a copy of the key) = %v", err)
	}
	got, err := core.Registry.Camera(context.Background(), registry.Scope{All: true}, cam.ID)
	core.Close()
	if err != nil || got.SourceURL != source {
		t.Fatalf("Camera().SourceURL with the shared key = %v, %v; want %q", got, err, source)
	}

	cfg.SecretKeyFile = "" // DATA/secret.key, removed above: a new, wrong key is made
	core, err = OpenCore(context.Background(), cfg, log)
	if err == nil {
		core.Close()
		t.Fatal("OpenCore(another key) = nil error; want it refused at start")
	}
	if msg := err.Error(); !strings.Contains(msg, keyPath) || !strings.Contains(msg, "secret_key_file") || !strings.Contains(msg, cam.ID) || strings.Contains(msg, "hunter") {
		t.Errorf("OpenCore(another key) = %q; want it to name the key file, secret_key_file and the camera, not the password", msg)
	}
}
