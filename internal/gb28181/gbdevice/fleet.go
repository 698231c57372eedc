package gbdevice

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Target is a platform to register with, from a SIP URI like sip:43020000002000000001@127.0.0.1:5060.
type Target struct {
	Server, ServerID, Domain string
}

// ParseTarget reads a SIP URI naming the platform's id and address; the domain is the id's
// first ten digits, as GB/T 28181 builds it.
func ParseTarget(uri string) (Target, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "sip" || u.Opaque == "" {
		return Target{}, fmt.Errorf("%q is not a SIP URI like sip:43020000002000000001@127.0.0.1:5060", uri)
	}
	user, hostPort, ok := strings.Cut(u.Opaque, "@")
	if !ok || len(user) != 20 {
		return Target{}, fmt.Errorf("%q: the user part must be the platform's 20-digit id", uri)
	}
	hostPort, _, _ = strings.Cut(hostPort, ";")
	if _, _, err := net.SplitHostPort(hostPort); err != nil {
		hostPort = net.JoinHostPort(hostPort, "5060")
	}
	return Target{Server: hostPort, ServerID: user, Domain: user[:10]}, nil
}

// Fleet describes the simulated devices: Count cameras of one channel each, or with NVR one
// recorder with Count channels. Names are Chinese, sent in GBK.
type Fleet struct {
	Target
	Count     int
	NVR       bool
	Transport string
	Password  string
	Keepalive time.Duration // default 60s
	// First numbers the devices' serials, so that several fleets do not share ids.
	First int
	// Bitrate is each channel's, as Config.Bitrate.
	Bitrate int64
}

// Configs are the devices of the fleet.
func (f Fleet) Configs() []Config {
	civil := f.Domain[:8]
	base := Config{Server: f.Server, ServerID: f.ServerID, Domain: f.Domain, Transport: f.Transport, Password: f.Password, Keepalive: f.Keepalive, Bitrate: f.Bitrate}
	if f.NVR {
		c := base
		c.ID = fmt.Sprintf("%s%s%06d", civil, "001180", f.First+1) // industry 00, type 118 NVR, network 0
		c.Name = "模拟硬盘录像机"
		for i := range f.Count {
			c.Channels = append(c.Channels, Channel{ID: fmt.Sprintf("%s%s%06d", civil, "001310", f.First*1000+i+1),
				Name: fmt.Sprintf("模拟通道%03d 路口", i+1)})
		}
		return []Config{c}
	}
	out := make([]Config, f.Count)
	for i := range out {
		c := base
		c.ID = fmt.Sprintf("%s%s%06d", civil, "001320", f.First+i+1) // type 132 network camera
		c.Name = fmt.Sprintf("模拟摄像机%03d", i+1)
		c.Channels = []Channel{{ID: fmt.Sprintf("%s%s%06d", civil, "001310", f.First+i+1), Name: fmt.Sprintf("模拟摄像机%03d 通道1", i+1)}}
		out[i] = c
	}
	return out
}

// Run runs every device of the fleet until ctx ends; devices that cannot start are reported
// and the rest run on.
func (f Fleet) Run(ctx context.Context, log *slog.Logger) error {
	var wg sync.WaitGroup
	for _, cfg := range f.Configs() {
		d, err := New(cfg, log)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer d.Close()
			if err := d.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("gbdevice", "device", cfg.ID, "err", err)
			}
		}()
	}
	wg.Wait()
	return nil
}
