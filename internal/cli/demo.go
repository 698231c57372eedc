package cli

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"civicam/internal/accounts"
	"civicam/internal/app"
	"civicam/internal/auth"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/sharing"
	"civicam/internal/simcam"
)

// demo runs civicam on its embedded default with simulated cameras: a new user sees a working
// platform at once. It is idempotent: a second run reuses the data directory.
func demo(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "demo")
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP listen address")
	rtsp := fs.String("rtsp", "127.0.0.1:8554", "RTSP address of the simulated cameras")
	count := fs.Int("cameras", 6, "number of simulated cameras")
	gbListen := fs.String("gb28181", "127.0.0.1:15060", "SIP address of the GB/T 28181 platform, where a simulated NVR registers (empty: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cf.data == "" {
		cf.data = "./civicam-demo"
	}
	cfg, err := cf.load(e)
	if err != nil {
		return err
	}
	cfg.Listen = *listen
	if cfg.GB28181.Listen == "" {
		cfg.GB28181.Listen = *gbListen
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	sim := simcam.New(simcam.Config{Listen: *rtsp, Count: *count}, app.NewLogger(cfg, e.stderr).With("component", "simcam"))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var simErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		if simErr = sim.Run(ctx); simErr != nil && !errors.Is(simErr, context.Canceled) {
			cancel()
		}
	}()
	defer wg.Wait()
	select {
	case <-sim.Ready():
	case <-ctx.Done():
		wg.Wait()
		return fmt.Errorf("simulated cameras: %w", simErr)
	}

	log := app.NewLogger(cfg, e.stderr)
	core, err := app.OpenCore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer core.Close()
	seed, err := seedDemo(consoleActor(ctx), core, sim, *count)
	if err != nil {
		return err
	}
	password := seed.password
	if cfg.Applications.WebhookURL == "" {
		// No SMS or e-mail gateway in a demo: citizens' codes and notices are printed here.
		core.Console = e.stdout
	}
	srv, err := app.NewServer(core)
	if err != nil {
		return err
	}
	if seed.fresh {
		if err := seedDemoCity(consoleActor(ctx), core, srv, seed); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\ncivicam demo is running: open %s/\n", srv.URL())
	if password != "" {
		fmt.Fprintf(e.stdout, "  log in as  admin / %s   (shown once; stored only as a hash)\n", password)
		fmt.Fprintf(e.stdout, "  or as  citizen / %s  (a guardian whose application is open), urban.op / %s  (sees a camera shared with it)\n",
			password, password)
		fmt.Fprintf(e.stdout, "  data in %s: give `--data %s` to civicam user add and the other commands\n", cfg.Data, cfg.Data)
	} else {
		fmt.Fprintf(e.stdout, "  log in as the admin created on the first run (data in %s)\n", cfg.Data)
	}
	fmt.Fprintf(e.stdout, "  %d simulated cameras at %s … %s\n", *count, sim.URL(1), sim.URL(*count))
	if cfg.GB28181.Listen != "" {
		// A simulated NVR registers with the platform and shows as a pending device with its
		// channels, for an operator to adopt (GET /api/v1/gb28181/devices).
		fleet := gbdevice.Fleet{Target: gbdevice.Target{Server: cfg.GB28181.Listen, ServerID: cfg.GB28181.ID, Domain: cfg.GB28181.Domain},
			Count: 4, NVR: true, Transport: "udp", Password: cfg.GB28181.Password, Keepalive: 30 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fleet.Run(ctx, log.With("component", "gbdevice")); err != nil && ctx.Err() == nil {
				log.Warn("demo: simulated GB/T 28181 NVR stopped", "err", err)
			}
		}()
		fmt.Fprintf(e.stdout, "  GB/T 28181 platform at sip:%s@%s, where a simulated NVR with 4 channels registers (pending: adopt it at %s/api/v1/gb28181/devices)\n",
			cfg.GB28181.ID, cfg.GB28181.Listen, srv.URL())
	}
	if core.Console != nil {
		fmt.Fprintf(e.stdout, "  citizens register at %s/register; with no gateway configured, their codes and notices are printed here ([outbox])\n", srv.URL())
	}
	fmt.Fprintf(e.stdout, "  API: %s/api/v1/openapi.json   trail checkpoint: %s/api/v1/trace/checkpoint\n", srv.URL(), srv.URL())
	fmt.Fprintln(e.stdout, "  Ctrl-C stops it.")
	return srv.Run(ctx)
}

// demoPlaces spread the simulated cameras over central Zhuzhou, in categories that show the
// policy at work: key areas, a private hotel lobby without a sign, a government camera not yet
// networked.
var demoPlaces = []struct {
	name, category, investment, address string
	lat, lon, bearing                   float64
	networked, sign                     bool
}{
	{"Shennong Square north", "public_square", "government", "神农城广场", 27.8337, 113.1455, 180, true, true},
	{"Zhuzhou Railway Station east exit", "transport_hub", "government", "株洲站东出口", 27.8578, 113.1565, 90, true, true},
	{"Jianshe Rd / Xinhua Rd", "road_intersection", "government", "建设路与新华路交叉口", 27.8452, 113.1421, 45, true, true},
	{"No. 2 Middle School gate", "school_perimeter", "government", "株洲市第二中学门口", 27.8399, 113.1510, 270, true, true},
	{"Xiangjiang Hotel lobby", "hotel_lobby", "private", "湘江宾馆大堂", 27.8311, 113.1389, 0, false, false},
	{"Central Hospital entrance", "hospital", "government", "市中心医院入口", 27.8470, 113.1604, 135, false, true},
}

// demoSeed is what the first run of the demo made, for the rest of the city to be seeded once
// the server's services exist.
type demoSeed struct {
	fresh     bool   // seeded on this run
	password  string // the admin's, shown once; "" when the admin existed already
	admin     *auth.User
	urban     *registry.Organisation // the department a camera is shared with
	sharedCam string
}

func seedDemo(ctx context.Context, core *app.Core, sim *simcam.Server, count int) (demoSeed, error) {
	var seed demoSeed
	if n, err := core.DB.CountUsers(ctx); err != nil {
		return seed, err
	} else if n == 0 {
		b := make([]byte, 10)
		rand.Read(b)
		seed.password = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
		if seed.admin, err = core.Accounts.CreateUser(ctx, accounts.NewUser{Username: "admin", Password: seed.password, Role: "admin"}); err != nil {
			return seed, fmt.Errorf("demo admin: %w", err)
		}
	}
	orgs, err := core.Registry.Organisations(ctx)
	if err != nil {
		return seed, err
	}
	if len(orgs) > 0 || seed.admin == nil {
		return seed, nil // seeded on an earlier run
	}
	seed.fresh = true
	psb := &registry.Organisation{Name: "Zhuzhou Public Security Bureau (demo)", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	hotel := &registry.Organisation{Name: "Xiangjiang Hotel (demo)", Kind: registry.KindEstablishment, EstablishmentType: "hotel"}
	seed.urban = &registry.Organisation{Name: "Zhuzhou Urban Management Bureau (demo)", Kind: registry.KindDepartment, DepartmentType: "urban_management"}
	for _, o := range []*registry.Organisation{psb, hotel, seed.urban} {
		if err := core.Registry.CreateOrganisation(ctx, o); err != nil {
			return seed, err
		}
	}
	all := registry.Scope{All: true}
	for i := 0; i < count; i++ {
		p := demoPlaces[i%len(demoPlaces)]
		org := psb.ID
		if p.investment == "private" {
			org = hotel.ID
		}
		name := p.name
		if i >= len(demoPlaces) {
			name = fmt.Sprintf("%s #%d", p.name, i/len(demoPlaces)+1)
		}
		lat, lon := p.lat+float64(i/len(demoPlaces))*0.001, p.lon
		active := "active"
		in := &registry.CameraInput{
			Name: &name, OrganisationID: &org, Investment: &p.investment, Lat: &lat, Lon: &lon, Address: &p.address,
			PlaceCategory: &p.category, Bearing: &p.bearing, FOVAngle: ptr(70.0), RangeM: ptr(60.0),
			SourceURL: ptr(sim.URL(i + 1)), Networked: &p.networked, InterfaceReserved: ptr(true),
			SignInstalled: &p.sign, Status: &active,
		}
		cam, err := core.Registry.CreateCamera(ctx, all, in)
		if err != nil {
			return seed, fmt.Errorf("demo camera %q: %w", name, err)
		}
		if i == 0 {
			seed.sharedCam = cam.ID
		}
	}
	// A camera whose source refuses connections: the console shows it offline.
	offline := &registry.CameraInput{Name: ptr("Hetang Bridge (source down)"), OrganisationID: &psb.ID, Investment: ptr("government"),
		Lat: ptr(27.8262), Lon: ptr(113.1302), Address: ptr("荷塘大桥"), PlaceCategory: ptr("road_intersection"), Bearing: ptr(20.0),
		FOVAngle: ptr(70.0), RangeM: ptr(60.0), SourceURL: ptr("rtsp://127.0.0.1:1/down"), Networked: ptr(true),
		InterfaceReserved: ptr(true), SignInstalled: ptr(true), Status: ptr("active")}
	if _, err := core.Registry.CreateCamera(ctx, all, offline); err != nil {
		return seed, fmt.Errorf("demo offline camera: %w", err)
	}
	// The policy at work: a camera in a hotel guest room is refused, with its reason, in the trail.
	room := "hotel_guest_room"
	_, err = core.Registry.CreateCamera(ctx, all, &registry.CameraInput{Name: ptr("Room 1203"), OrganisationID: &hotel.ID,
		Investment: ptr("private"), Lat: ptr(27.8311), Lon: ptr(113.1389), PlaceCategory: &room})
	var pe *registry.PolicyError
	if !errors.As(err, &pe) {
		return seed, fmt.Errorf("demo: a guest-room camera should be refused, got %v", err)
	}
	return seed, nil
}

// seedDemoCity makes what needs the server's services: the square's camera shared with the
// urban-management bureau for a year, an operator there, and a guardian's open application for a
// child last seen near the square. The demo's users share the admin's password, shown once.
func seedDemoCity(ctx context.Context, core *app.Core, srv *app.Server, seed demoSeed) error {
	now := time.Now().UTC()
	ends := now.AddDate(1, 0, 0)
	if _, err := srv.Sharing().CreateGrant(auth.WithUser(ctx, seed.admin), seed.admin, sharing.GrantInput{CameraIDs: []string{seed.sharedCam},
		GranteeOrganisationID: seed.urban.ID, Scopes: []string{sharing.ScopeLive, sharing.ScopePlayback},
		Purpose: "city management of Shennong Square (demo)", StartsAt: now, EndsAt: &ends}); err != nil {
		return fmt.Errorf("demo grant: %w", err)
	}
	if _, err := core.Accounts.CreateUser(ctx, accounts.NewUser{Username: "urban.op", Password: seed.password, Role: "operator",
		OrganisationID: seed.urban.ID}); err != nil {
		return fmt.Errorf("demo urban operator: %w", err)
	}
	citizen, err := core.Accounts.CreateUser(ctx, accounts.NewUser{Username: "citizen", Password: seed.password, Role: "applicant"})
	if err != nil {
		return fmt.Errorf("demo citizen: %w", err)
	}
	cctx := auth.WithUser(auth.WithActor(ctx, auth.ActorOf(citizen, "console")), citizen)
	if _, err := srv.Requests().Submit(cctx, citizen.ID, &lostperson.ApplicationInput{Relationship: "guardian", RelationshipDetail: "father",
		SubjectCategory: "child", LastSeenAt: now.Add(-90 * time.Minute), Lat: ptr(27.8336), Lon: ptr(113.1457),
		Address: "神农城广场北侧", Description: "8-year-old boy, red jacket, blue school bag (demo)"}); err != nil {
		return fmt.Errorf("demo application: %w", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
