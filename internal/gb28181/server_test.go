package gb28181_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/gb28181"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/mpegps"
	"civicam/internal/policy"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

const (
	platformID = "43020000002000000001"
	domain     = "4302000000"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tracer records what is traced.
type tracer struct {
	mu      sync.Mutex
	records []trace.Record
}

func (tr *tracer) Record(_ context.Context, r trace.Record) error {
	tr.mu.Lock()
	tr.records = append(tr.records, r)
	tr.mu.Unlock()
	return nil
}

// count is how many records of action and outcome were traced for device id.
func (tr *tracer) count(a trace.Action, o trace.Outcome, id string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, r := range tr.records {
		if r.Action == a && r.Outcome == o && (id == "" || r.Reference == id) {
			n++
		}
	}
	return n
}

type env struct {
	srv   *gb28181.Server
	db    *store.DB
	reg   *registry.Service
	clock *clock
	trail *tracer
	// password is the platform's; stop ends srv's Run, as a crash would: no BYE is sent.
	password string
	stop     func()
}

func start(t testing.TB, password string) *env {
	t.Helper()
	db := storetest.SQLite(t)
	pack, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: &clock{t: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}, trail: &tracer{}}
	e.reg = registry.New(registry.Deps{Repo: db, Pack: pack, Tracer: e.trail, Now: e.clock.Now})
	e.password = password
	e.run(t, "127.0.0.1:0")
	return e
}

// run starts a platform on listen over e's store.
func (e *env) run(t testing.TB, listen string) {
	t.Helper()
	var err error
	e.srv, err = gb28181.New(gb28181.Config{Listen: listen, ID: platformID, Domain: domain, Password: e.password,
		KeepaliveInterval: time.Hour}, // the test moves the clock; Run's own sweeps then find nothing due
		gb28181.Deps{Repo: e.db, Cameras: e.reg, Tracer: e.trail, Now: e.clock.Now,
			Throttle: auth.NewThrottle(auth.ThrottleConfig{ClientFailures: 3, UserFailures: 6, IPFailures: 12}, e.clock.Now)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := e.srv
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
}

// restart stops the platform without its BYEs, as a crash does, and starts another on the same
// address and store.
func (e *env) restart(t testing.TB) {
	t.Helper()
	addr := e.srv.Addr()
	e.stop()
	e.run(t, addr)
}

func (e *env) device(t testing.TB, cfg gbdevice.Config) *gbdevice.Device {
	t.Helper()
	cfg.Server, cfg.ServerID, cfg.Domain = e.srv.Addr(), platformID, domain
	d, err := gbdevice.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// eventually polls cond until it holds or a generous deadline passes: the device answers the
// platform's queries in MESSAGEs of its own, which arrive when they arrive.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: never happened", what)
}

func deviceID(n int) string     { return fmt.Sprintf("430200000011800%05d", n) }
func channelID(d, n int) string { return fmt.Sprintf("43020%03d001310%06d", d%1000, n) }

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		name, platform, device, transport string
		want                              int
	}{
		{"no digest, udp", "", "", "udp", 200},
		{"no digest, tcp", "", "", "tcp", 200},
		{"digest, udp", "s3cret", "s3cret", "udp", 200},
		{"digest, tcp", "s3cret", "s3cret", "tcp", 200},
		{"no password given", "s3cret", "", "udp", 401},
		{"wrong password", "s3cret", "guess", "tcp", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, tc.platform)
			id := deviceID(1)
			d := e.device(t, gbdevice.Config{ID: id, Transport: tc.transport, Password: tc.device})
			res, err := d.Register(context.Background(), 600)
			if res == nil {
				t.Fatalf("Register = %v", err)
			}
			if res.StatusCode != tc.want {
				t.Fatalf("Register: status %d; want %d", res.StatusCode, tc.want)
			}
			if tc.want != 200 {
				if _, err := e.db.GBDevice(context.Background(), id); !errors.Is(err, fault.ErrNotFound) {
					t.Errorf("GBDevice after a refused register = %v; want not found", err)
				}
				return
			}
			if h := res.GetHeader("Expires"); h == nil || h.Value() != "600" {
				t.Errorf("Expires = %v; want 600", h)
			}
			if h := res.GetHeader("Date"); h == nil || !strings.HasPrefix(h.Value(), "2026-12-07T08:00:00") {
				t.Errorf("Date = %v; want the platform's time", h)
			}
			got, err := e.srv.Device(context.Background(), registry.Scope{All: true}, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != gb28181.StatusPending || !got.Online || got.Transport != tc.transport {
				t.Errorf("Device = %+v; want pending, online, over %s", got, tc.transport)
			}
			if n := e.trail.count(trace.ActionGBRegister, trace.Allowed, id); n != 1 {
				t.Errorf("traced %d registrations; want 1", n)
			}
			// A refresh from the same place is not a new registration; Expires: 0 unregisters.
			if _, err := d.Register(context.Background(), 600); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if n := e.trail.count(trace.ActionGBRegister, trace.Allowed, id); n != 1 {
				t.Errorf("traced %d registrations after a refresh; want 1", n)
			}
			if _, err := d.Register(context.Background(), 0); err != nil {
				t.Fatalf("unregister: %v", err)
			}
			got, _ = e.srv.Device(context.Background(), registry.Scope{All: true}, id)
			if got.Online {
				t.Errorf("Device after Expires: 0 is online")
			}
			if n := e.trail.count(trace.ActionGBUnregister, trace.Allowed, id); n != 1 {
				t.Errorf("traced %d unregistrations; want 1", n)
			}
			if code, _ := d.Keepalive(context.Background()); code != 403 {
				t.Errorf("keepalive after unregistering: %d; want 403", code)
			}
		})
	}
}

func TestWrongPasswordIsThrottledAndTraced(t *testing.T) {
	e := start(t, "s3cret")
	id := deviceID(2)
	d := e.device(t, gbdevice.Config{ID: id, Transport: "udp", Password: "guess"})
	var codes []int
	for range 5 {
		res, _ := d.Register(context.Background(), 600)
		if res == nil {
			t.Fatal("no answer")
		}
		codes = append(codes, res.StatusCode)
	}
	want := []int{401, 401, 401, 403, 403} // ClientFailures: 3
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("answers to wrong passwords = %v; want %v", codes, want)
	}
	if n := e.trail.count(trace.ActionGBRegister, trace.Denied, id); n != 3 {
		t.Errorf("traced %d failed digests; want 3", n)
	}
	// The right password from the same address waits out the lock too.
	good := e.device(t, gbdevice.Config{ID: id, Transport: "udp", Password: "s3cret"})
	if res, _ := good.Register(context.Background(), 600); res == nil || res.StatusCode != 403 {
		t.Errorf("right password while locked: %v; want 403", res)
	}
	e.clock.Add(2 * time.Minute)
	if _, err := good.Register(context.Background(), 600); err != nil {
		t.Errorf("right password after the lock: %v", err)
	}
}

func TestKeepaliveOnlineThenOfflineAfterThreeIntervals(t *testing.T) {
	e := start(t, "")
	id := deviceID(3)
	d := e.device(t, gbdevice.Config{ID: id, Transport: "udp", Channels: nvr(3, 1)})
	if _, err := d.Register(context.Background(), 86400); err != nil {
		t.Fatal(err)
	}
	// The platform's questions after registration (DeviceInfo, then Catalog) are answered before
	// the clock moves: an answer arriving after a sweep is a message heard from the device, and
	// would bring it back online between the sweep and the checks below.
	eventually(t, "device info and catalog answered", func() bool {
		got, err := e.srv.Device(context.Background(), registry.Scope{All: true}, id)
		return err == nil && got.Manufacturer != "" && len(got.Channels) == 1
	})
	online := func() bool {
		got, err := e.srv.Device(context.Background(), registry.Scope{All: true}, id)
		if err != nil {
			t.Fatal(err)
		}
		return got.Online
	}
	ctx := context.Background()
	for range 4 { // keepalives every interval keep it online
		e.clock.Add(time.Hour)
		if code, err := d.Keepalive(ctx); code != 200 {
			t.Fatalf("keepalive: %d, %v", code, err)
		}
		e.srv.Sweep(ctx)
		if !online() {
			t.Fatal("offline although it kept alive")
		}
	}
	e.clock.Add(3*time.Hour - time.Second)
	e.srv.Sweep(ctx)
	if !online() {
		t.Fatal("offline before three intervals passed")
	}
	e.clock.Add(time.Second)
	e.srv.Sweep(ctx)
	if online() {
		t.Fatal("online after three missed intervals")
	}
	if n := e.trail.count(trace.ActionGBDeviceState, trace.Allowed, id); n != 1 {
		t.Errorf("traced %d state changes; want 1 (offline)", n)
	}
	if code, _ := d.Keepalive(ctx); code != 200 {
		t.Fatalf("keepalive after going offline: %d", code)
	}
	if !online() {
		t.Error("a keepalive did not bring it back online")
	}
	if n := e.trail.count(trace.ActionGBDeviceState, trace.Allowed, id); n != 2 {
		t.Errorf("traced %d state changes; want 2 (offline, online)", n)
	}
}

// nvr is an NVR's channels with Chinese names, which the device sends in GBK.
func nvr(dev, n int) []gbdevice.Channel {
	chans := make([]gbdevice.Channel, n)
	for i := range chans {
		chans[i] = gbdevice.Channel{ID: channelID(dev, i+1), Name: fmt.Sprintf("株洲市天元区路口%03d号", i+1)}
	}
	return chans
}

func TestCatalogOfManyMessagesWithGBKNames(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := start(t, "s3cret")
			id := deviceID(4)
			chans := nvr(4, 300)
			d := e.device(t, gbdevice.Config{ID: id, Name: "天元区录像机", Transport: transport, Password: "s3cret", Channels: chans})
			if _, err := d.Register(context.Background(), 3600); err != nil {
				t.Fatal(err)
			}
			var got *gb28181.Device
			eventually(t, "300 channels stored", func() bool {
				var err error
				got, err = e.srv.Device(context.Background(), registry.Scope{All: true}, id)
				return err == nil && len(got.Channels) == 300 && got.Name != ""
			})
			if got.Name != "天元区录像机" {
				t.Errorf("device name = %q; want 天元区录像机", got.Name)
			}
			byID := map[string]gb28181.Channel{}
			for _, c := range got.Channels {
				byID[c.ID] = c
			}
			for _, c := range chans {
				if g := byID[c.ID]; g.Name != c.Name || g.Status != gb28181.StatusOnline {
					t.Fatalf("channel %s = %+v; want name %q, online", c.ID, g, c.Name)
				}
			}
		})
	}
}

func TestBadInputGetsClearSIPErrors(t *testing.T) {
	e := start(t, "")
	ctx := context.Background()
	bad := e.device(t, gbdevice.Config{ID: "12345", Transport: "udp"})
	if res, _ := bad.Register(ctx, 600); res == nil || res.StatusCode != 400 {
		t.Errorf("register with a 5-digit id: %v; want 400", res)
	}
	id := deviceID(5)
	stranger := e.device(t, gbdevice.Config{ID: id, Transport: "udp"})
	if code, _ := stranger.Keepalive(ctx); code != 403 {
		t.Errorf("keepalive before registering: %d; want 403", code)
	}
	d := e.device(t, gbdevice.Config{ID: id, Transport: "tcp"})
	if _, err := d.Register(ctx, 600); err != nil {
		t.Fatal(err)
	}
	// The same id from another address is not the registered device.
	if code, _ := stranger.Keepalive(ctx); code != 403 {
		t.Errorf("keepalive from another address: %d; want 403", code)
	}
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>` + id + `</DeviceID><Status>&lol2;</Status></Notify>`
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"entity expansion", laughs, 400},
		{"not XML", "hello", 400},
		{"oversized", "<Notify><CmdType>Keepalive</CmdType><Status>" + strings.Repeat("A", 40<<10) + "</Status></Notify>", 413},
		{"unknown command", "<Notify><CmdType>Teleport</CmdType><SN>1</SN></Notify>", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, err := d.Send(ctx, []byte(tc.body)); code != tc.want {
				t.Errorf("MESSAGE with %s: %d (%v); want %d", tc.name, code, err, tc.want)
			}
		})
	}
	if code, _ := d.Keepalive(ctx); code != 200 {
		t.Errorf("keepalive after the bad input: %d; want 200 (the server still serves)", code)
	}
}

func TestAdoptMakesEachChannelAPlannedCamera(t *testing.T) {
	e := start(t, "")
	ctx := auth.WithActor(context.Background(), auth.Actor{Username: "op"})
	org := &registry.Organisation{Name: "天元区公安分局", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	other := &registry.Organisation{Name: "Other", Kind: registry.KindEnterprise}
	for _, o := range []*registry.Organisation{org, other} {
		if err := e.reg.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	id := deviceID(6)
	chans := nvr(6, 4)
	d := e.device(t, gbdevice.Config{ID: id, Transport: "tcp", Channels: chans})
	if _, err := d.Register(ctx, 3600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "catalog stored", func() bool {
		got, err := e.srv.Device(ctx, registry.Scope{All: true}, id)
		return err == nil && len(got.Channels) == 4
	})
	// An operator sees the pending device, but adopts only into their own organisation.
	op := registry.Scope{OrganisationID: org.ID}
	if ds, err := e.srv.Devices(ctx, registry.Scope{OrganisationID: other.ID}); err != nil || len(ds) != 1 {
		t.Fatalf("Devices(other operator) = %d, %v; want the pending device", len(ds), err)
	}
	if _, err := e.srv.Adopt(ctx, op, id, gb28181.AdoptInput{OrganisationID: other.ID}); !errors.Is(err, fault.ErrForbidden) {
		t.Fatalf("Adopt into another organisation = %v; want forbidden", err)
	}
	if n := e.trail.count(trace.ActionGBAdopt, trace.Denied, id); n != 1 {
		t.Errorf("traced %d refused adoptions; want 1", n)
	}
	got, err := e.srv.Adopt(ctx, op, id, gb28181.AdoptInput{OrganisationID: org.ID})
	if err != nil {
		t.Fatalf("Adopt = %v", err)
	}
	if got.Status != gb28181.StatusOnline || got.OrganisationID != org.ID {
		t.Errorf("adopted device = %s of %s; want online of %s", got.Status, got.OrganisationID, org.ID)
	}
	for _, ch := range got.Channels {
		cam, err := e.reg.Camera(ctx, op, ch.CameraID)
		if err != nil {
			t.Fatalf("camera of channel %s: %v", ch.ID, err)
		}
		if cam.GBDeviceID != ch.ID || cam.Status != registry.StatusPlanned || cam.Investment != registry.InvestmentGovernment || cam.Name != ch.Name {
			t.Errorf("camera of channel %s = %+v; want planned, government, gb_device_id and name of the channel", ch.ID, cam)
		}
	}
	// The other organisation no longer sees it; the policy pack still guards activation.
	if _, err := e.srv.Device(ctx, registry.Scope{OrganisationID: other.ID}, id); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Device(other operator) after adoption = %v; want not found", err)
	}
	active := registry.StatusActive
	var pe *registry.PolicyError
	if _, err := e.reg.UpdateCamera(ctx, op, got.Channels[0].CameraID, &registry.CameraInput{Status: &active}); err == nil {
		t.Errorf("activating a camera without a place category succeeded")
	} else if !errors.As(err, &pe) && !strings.Contains(err.Error(), "place_category") {
		t.Errorf("activating without a place category = %v; want the place category refused", err)
	}
	place := "road_intersection"
	if _, err := e.reg.UpdateCamera(ctx, op, got.Channels[0].CameraID, &registry.CameraInput{PlaceCategory: &place, Status: &active}); err != nil {
		t.Errorf("completing and activating = %v", err)
	}
}

func TestPlayInvitesAndByes(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := start(t, "")
			ctx := context.Background()
			id := deviceID(7)
			chans := nvr(7, 2)
			d := e.device(t, gbdevice.Config{ID: id, Transport: transport, Channels: chans})
			if _, err := d.Register(ctx, 3600); err != nil {
				t.Fatal(err)
			}
			// The device's Contact (192.0.2.1, unreachable) is never dialled: every request of
			// the dialog goes where the REGISTER came from.
			// Over TCP the device connects to the media port: something must listen there.
			media, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer media.Close()
			port := 30002
			if transport == "tcp" {
				port = media.Addr().(*net.TCPAddr).Port
			}
			p, err := e.srv.Play(ctx, id, chans[1].ID, gb28181.MediaTarget{IP: "127.0.0.1", Port: port, TCP: transport == "tcp"})
			if err != nil {
				t.Fatalf("Play = %v", err)
			}
			if p.Answer.SSRC != p.SSRC || len(p.SSRC) != 10 || !p.Answer.PS || p.Answer.TCP != (transport == "tcp") {
				t.Errorf("Play answer = %+v with SSRC %s; want the offered SSRC, PS", p.Answer, p.SSRC)
			}
			if n := d.Playing(); n != 1 {
				t.Errorf("device plays %d sessions; want 1", n)
			}
			if err := e.srv.Stop(ctx, p); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			if n := d.Playing(); n != 0 {
				t.Errorf("device plays %d sessions after BYE; want 0", n)
			}
			if _, err := e.srv.Play(ctx, id, "43020000001310999999", gb28181.MediaTarget{IP: "127.0.0.1", Port: 30004}); err == nil {
				t.Error("Play of a channel the device does not have succeeded")
			}
		})
	}
}

func TestPlaySendsPSOverUDPUntilBye(t *testing.T) {
	e := start(t, "")
	ctx := context.Background()
	id := deviceID(8)
	chans := nvr(8, 1)
	d := e.device(t, gbdevice.Config{ID: id, Transport: "udp", Channels: chans})
	if _, err := d.Register(ctx, 3600); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p, err := e.srv.Play(ctx, id, chans[0].ID, gb28181.MediaTarget{IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		t.Fatalf("Play = %v", err)
	}
	var aus []*mpegps.AccessUnit
	dem := mpegps.New(mpegps.Config{VideoOnly: true}, func(au *mpegps.AccessUnit) error { aus = append(aus, au); return nil })
	dep := mpegps.NewDepacketizer(dem)
	buf := make([]byte, 2048)
	var ssrc uint32
	for len(aus) < 30 {
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d access units: read = %v", len(aus), err)
		}
		if err := dep.PushRaw(buf[:n]); err != nil {
			t.Fatalf("PushRaw = %v", err)
		}
		ssrc = uint32(buf[8])<<24 | uint32(buf[9])<<16 | uint32(buf[10])<<8 | uint32(buf[11])
	}
	if want := p.SSRC; fmt.Sprint(ssrc) != strings.TrimLeft(want, "0") {
		t.Errorf("RTP SSRC = %d; want the y= SSRC %s", ssrc, want)
	}
	if st := dep.Stats(); st.Lost != 0 || st.Resets != 0 {
		t.Errorf("depacketizer stats = %+v; want no loss on loopback", st)
	}
	if aus[0].Codec != mpegps.CodecH264 || !aus[0].Keyframe {
		t.Errorf("first access unit = %v keyframe %v; want an H.264 keyframe", aus[0].Codec, aus[0].Keyframe)
	}
	for i := 1; i < len(aus); i++ {
		if got := aus[i].DTS - aus[i-1].DTS; got != 3600 {
			t.Fatalf("access unit %d: DTS step %d; want 3600 (25 fps)", i, got)
		}
	}
	if err := e.srv.Stop(ctx, p); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if n := d.Playing(); n != 0 {
		t.Errorf("device plays %d sessions after BYE; want 0", n)
	}
	// After the BYE the stream goes quiet: at most the frame in flight still arrives.
	quiet := false
	for range 200 {
		pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, _, err := pc.ReadFrom(buf); err != nil {
			quiet = true
			break
		}
	}
	if !quiet {
		t.Error("media still arrives after BYE")
	}
}

func TestFloodOfRegistersAndGarbageLeaveTheServerServing(t *testing.T) {
	e := start(t, "s3cret")
	ctx := context.Background()
	// Garbage datagrams and a half SIP message on TCP are dropped by the parser.
	for _, network := range []string{"udp", "tcp"} {
		c, err := net.Dial(network, e.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		for _, junk := range []string{"\x00\xff garbage", "REGISTER sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n", "INVITE\r\n\r\n"} {
			c.Write([]byte(junk))
		}
		c.Close()
	}
	// A flood of REGISTERs with wrong digests for many ids from one address: every one is
	// answered, 401 until the address is locked, then 403.
	flood := e.device(t, gbdevice.Config{ID: deviceID(90), Transport: "udp", Password: "guess"})
	codes := map[int]int{}
	for i := range 60 {
		res, err := flood.Register(ctx, 600)
		if res == nil {
			t.Fatalf("flood REGISTER %d unanswered: %v", i, err)
		}
		codes[res.StatusCode]++
	}
	if codes[401] != 3 || codes[403] != 57 {
		t.Errorf("answers to the flood = %v; want 3 × 401 then 57 × 403", codes)
	}
	if n := e.trail.count(trace.ActionGBRegister, trace.Denied, ""); n != 3 {
		t.Errorf("traced %d failed digests; want 3 (the locked ones are not checked)", n)
	}
	// A device elsewhere (here: over TCP, another source port) still registers.
	d := e.device(t, gbdevice.Config{ID: deviceID(91), Transport: "tcp", Password: "s3cret"})
	if _, err := d.Register(ctx, 600); err != nil {
		t.Errorf("register after the flood = %v", err)
	}
}

// A second play of a channel BYEs the first, so the device never streams twice.
func TestPlayAgainByesTheOpenPlay(t *testing.T) {
	e := start(t, "")
	ctx := context.Background()
	id := deviceID(11)
	chans := nvr(11, 1)
	d := e.device(t, gbdevice.Config{ID: id, Transport: "udp", Channels: chans})
	if _, err := d.Register(ctx, 3600); err != nil {
		t.Fatal(err)
	}
	to := gb28181.MediaTarget{IP: "127.0.0.1", Port: 30010}
	if _, err := e.srv.Play(ctx, id, chans[0].ID, to); err != nil {
		t.Fatalf("Play = %v", err)
	}
	p, err := e.srv.Play(ctx, id, chans[0].ID, to)
	if err != nil {
		t.Fatalf("Play again = %v", err)
	}
	if n := d.Playing(); n != 1 {
		t.Errorf("device plays %d sessions after a second Play; want 1", n)
	}
	if err := e.srv.Stop(ctx, p); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if n := d.Playing(); n != 0 {
		t.Errorf("device plays %d sessions after Stop; want 0", n)
	}
}

// A platform that stopped without its BYEs (a crash) ends the plays it left open when it
// starts again: at once over UDP, when the device registers again over TCP (whose connection
// went with the old process); then it forgets them.
func TestStaleDialogsEndAfterRestart(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := start(t, "")
			ctx := context.Background()
			id := deviceID(12)
			chans := nvr(12, 2)
			d := e.device(t, gbdevice.Config{ID: id, Transport: transport, Channels: chans})
			if _, err := d.Register(ctx, 3600); err != nil {
				t.Fatal(err)
			}
			media, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer media.Close()
			for _, ch := range chans {
				to := gb28181.MediaTarget{IP: "127.0.0.1", Port: 30012}
				if transport == "tcp" {
					to = gb28181.MediaTarget{IP: "127.0.0.1", Port: media.Addr().(*net.TCPAddr).Port, TCP: true}
				}
				if _, err := e.srv.Play(ctx, id, ch.ID, to); err != nil {
					t.Fatalf("Play %s = %v", ch.ID, err)
				}
			}
			if n := d.Playing(); n != 2 {
				t.Fatalf("device plays %d sessions; want 2", n)
			}
			e.restart(t)
			if transport == "tcp" {
				// Its SIP connection (and the media's) went with the old process: the device
				// connects again, and the BYEs come on that connection.
				d.Close()
				d2 := e.device(t, gbdevice.Config{ID: id, Transport: transport, Channels: chans})
				if _, err := d2.Register(ctx, 3600); err != nil {
					t.Fatal(err)
				}
			} else {
				eventually(t, "the stale plays ended", func() bool { return d.Playing() == 0 })
			}
			eventually(t, "the stale dialogs forgotten", func() bool {
				ds, err := e.db.GBDialogs(ctx, e.srv.Addr())
				return err == nil && len(ds) == 0
			})
		})
	}
}

// RecordInfo asks the device what a channel keeps for a range and assembles the answer over
// its MESSAGEs (one record each over UDP); the question is traced first.
func TestRecordInfo(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			e := start(t, "")
			ctx := context.Background()
			id := deviceID(13)
			chans := nvr(13, 2)
			d := e.device(t, gbdevice.Config{ID: id, Transport: transport, Channels: chans, PerMessage: 1})
			if _, err := d.Register(ctx, 3600); err != nil {
				t.Fatal(err)
			}
			eventually(t, "catalog stored", func() bool {
				got, err := e.srv.Device(ctx, registry.Scope{All: true}, id)
				return err == nil && len(got.Channels) == 2
			})
			cst := time.FixedZone("CST", 8*3600)
			start, end := time.Date(2026, 12, 7, 8, 30, 0, 0, cst), time.Date(2026, 12, 7, 11, 0, 0, 0, cst)
			got, err := e.srv.RecordInfo(ctx, registry.Scope{All: true}, id, chans[1].ID, start, end)
			if err != nil {
				t.Fatalf("RecordInfo = %v", err)
			}
			if !got.Complete || len(got.Records) != 3 {
				t.Fatalf("RecordInfo = %+v; want 3 records, complete", got)
			}
			if r := got.Records[0]; !r.Start.Equal(start) || !r.End.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, cst)) {
				t.Errorf("first record %v–%v; want %v–09:00 CST", r.Start, r.End, start)
			}
			if n := e.trail.count(trace.ActionRecordingsRead, trace.Allowed, id+"/"+chans[1].ID); n != 1 {
				t.Errorf("traced %d record reads; want 1", n)
			}
			if _, err := e.srv.RecordInfo(ctx, registry.Scope{All: true}, id, channelID(99, 1), start, end); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("RecordInfo(a channel the device lacks) = %v; want ErrNotFound", err)
			}
			if _, err := e.srv.RecordInfo(ctx, registry.Scope{All: true}, id, chans[1].ID, end, start); err == nil {
				t.Error("RecordInfo(end before start) = nil error")
			}
		})
	}
}

// TestPerDeviceAuth: with a global password set, a device an admin set to no digest registers
// without one, a device with its own password registers with that and not the global one, and
// only an admin may set either; each setting is traced.
func TestPerDeviceAuth(t *testing.T) {
	admin := registry.Scope{All: true}
	for _, tc := range []struct {
		name      string
		auth      gb28181.DeviceAuth
		device    string // the password the device answers with
		transport string
		want      int
	}{
		{"none, no password, tcp", gb28181.DeviceAuth{Auth: gb28181.AuthNone}, "", "tcp", 200},
		{"none, no password, udp", gb28181.DeviceAuth{Auth: gb28181.AuthNone}, "", "udp", 200},
		{"own password", gb28181.DeviceAuth{Auth: gb28181.AuthPassword, Password: "own-pass"}, "own-pass", "udp", 200},
		{"own password, global given", gb28181.DeviceAuth{Auth: gb28181.AuthPassword, Password: "own-pass"}, "s3cret", "udp", 401},
		{"global again", gb28181.DeviceAuth{Auth: gb28181.AuthGlobal}, "", "tcp", 401},
		{"global, global given", gb28181.DeviceAuth{Auth: gb28181.AuthGlobal}, "s3cret", "tcp", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, "s3cret")
			id := deviceID(7)
			got, err := e.srv.SetAuth(context.Background(), admin, id, tc.auth)
			if err != nil {
				t.Fatalf("SetAuth(%+v) = %v", tc.auth, err)
			}
			if got.Auth != tc.auth.Auth || got.Status != gb28181.StatusPending || got.Online {
				t.Errorf("SetAuth(%+v) = %+v; want auth %s, pending and offline", tc.auth, got, tc.auth.Auth)
			}
			if n := e.trail.count(trace.ActionGBDeviceAuth, trace.Allowed, id); n != 1 {
				t.Errorf("traced %d auth settings; want 1", n)
			}
			d := e.device(t, gbdevice.Config{ID: id, Transport: tc.transport, Password: tc.device})
			res, err := d.Register(context.Background(), 600)
			if res == nil {
				t.Fatalf("Register = %v", err)
			}
			if res.StatusCode != tc.want {
				t.Errorf("Register with auth %s and password %q: status %d; want %d", tc.auth.Auth, tc.device, res.StatusCode, tc.want)
			}
			// Another device, set to nothing, still needs the global password.
			other := e.device(t, gbdevice.Config{ID: deviceID(8), Transport: tc.transport})
			if res, _ := other.Register(context.Background(), 600); res == nil || res.StatusCode != 401 {
				t.Errorf("Register of a device without a setting and no password = %v; want 401", res)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		e := start(t, "s3cret")
		id := deviceID(9)
		for _, tc := range []struct {
			scope registry.Scope
			in    gb28181.DeviceAuth
			want  fault.Kind
		}{
			{registry.Scope{OrganisationID: "org1"}, gb28181.DeviceAuth{Auth: gb28181.AuthNone}, fault.Forbidden},
			{admin, gb28181.DeviceAuth{Auth: "open"}, fault.Invalid},
			{admin, gb28181.DeviceAuth{Auth: gb28181.AuthPassword}, fault.Invalid},
			{admin, gb28181.DeviceAuth{Auth: gb28181.AuthNone, Password: "x"}, fault.Invalid},
		} {
			_, err := e.srv.SetAuth(context.Background(), tc.scope, id, tc.in)
			var f *fault.Error
			if !errors.As(err, &f) || f.Kind != tc.want {
				t.Errorf("SetAuth(%+v, %+v) = %v; want a fault of kind %s", tc.scope, tc.in, err, tc.want)
			}
		}
		if n := e.trail.count(trace.ActionGBDeviceAuth, trace.Denied, id); n != 1 {
			t.Errorf("traced %d refused auth settings; want 1", n)
		}
		if _, err := e.db.GBDevice(context.Background(), id); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("GBDevice after refused settings = %v; want not found", err)
		}
	})
}
