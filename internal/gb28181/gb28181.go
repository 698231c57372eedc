// Package gb28181 is civicam's GB/T 28181 platform: a SIP server (UDP and TCP) that devices and
// NVRs register with (digest, qop=auth, throttled per source address), MANSCDP messages
// (Keepalive, Catalog split over many MESSAGEs, DeviceInfo, DeviceStatus) in GB2312, GBK, GB18030
// or UTF-8, the online state of each device, and the service behind the API: listing devices,
// refreshing a catalog, and adopting a pending device into an organisation, each of whose
// channels then becomes a camera through the registry, so the policy pack applies as for any.
//
// Every answer and every request goes to the address a device's request came from (its source,
// for UDP; the same connection, for TCP), never to the Contact it claims: devices behind NAT put
// addresses there that no one can reach.
package gb28181

import (
	"context"
	"time"

	"civicam/internal/registry"
)

// Device statuses as the API shows them: a device not yet adopted is pending whatever its
// online state (which Online still says).
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
	StatusPending = "pending"
)

// Device is a GB/T 28181 device or NVR that registered with the platform.
type Device struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Status         string    `json:"status"`
	Online         bool      `json:"online"`
	OrganisationID string    `json:"organisation_id,omitempty"`
	Transport      string    `json:"transport"`
	RemoteAddr     string    `json:"remote_addr"`
	Manufacturer   string    `json:"manufacturer,omitempty"`
	Model          string    `json:"model,omitempty"`
	Firmware       string    `json:"firmware,omitempty"`
	RegisteredAt   time.Time `json:"registered_at,omitzero"`
	LastSeen       time.Time `json:"last_seen,omitzero"`
	Channels       []Channel `json:"channels"`
	// Auth is how the device authenticates (AuthGlobal, AuthPassword, AuthNone), derived from
	// Password and NoDigest as the API shows it.
	Auth string `json:"auth"`
	// Password, when set, is this device's own digest password instead of the global one.
	Password string `json:"-"`
	// NoDigest lets the device register without digest while a global password is set.
	NoDigest bool `json:"-"`
}

// How a device authenticates its REGISTER (Device.Auth, DeviceAuth.Auth).
const (
	// AuthGlobal is digest with the global password, or none when no global password is set.
	AuthGlobal = "global"
	// AuthPassword is digest with the device's own password.
	AuthPassword = "password"
	// AuthNone is no digest, whatever the global password.
	AuthNone = "none"
)

// auth derives Device.Auth.
func (d *Device) auth() string {
	switch {
	case d.NoDigest:
		return AuthNone
	case d.Password != "":
		return AuthPassword
	}
	return AuthGlobal
}

// password is the digest password d's REGISTER must answer, "" for none.
func (d *Device) password(global string) string {
	switch {
	case d == nil:
		return global
	case d.NoDigest:
		return ""
	case d.Password != "":
		return d.Password
	}
	return global
}

// status derives the API status from adoption and online state.
func (d *Device) status() string {
	switch {
	case d.OrganisationID == "":
		return StatusPending
	case d.Online:
		return StatusOnline
	}
	return StatusOffline
}

// Channel is one channel of a device, as its catalog lists it; CameraID is the camera it became
// on adoption.
type Channel struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Status       string  `json:"status"`
	CameraID     string  `json:"camera_id"`
	ParentID     string  `json:"parent_id,omitempty"`
	Manufacturer string  `json:"manufacturer,omitempty"`
	Model        string  `json:"model,omitempty"`
	Address      string  `json:"address,omitempty"`
	Lat          float64 `json:"lat,omitempty"`
	Lon          float64 `json:"lon,omitempty"`
}

// DeviceFilter narrows a listing: all devices, or one organisation's and the pending ones (which
// an operator may adopt into theirs).
type DeviceFilter struct {
	All            bool
	OrganisationID string
}

// Repo is the storage of devices and channels; store implements it. A missing device is
// fault.ErrNotFound.
type Repo interface {
	GBDevice(ctx context.Context, id string) (*Device, error)
	GBDevices(ctx context.Context, f DeviceFilter) ([]*Device, error)
	// SaveGBDevice inserts or updates a device's own row (not its channels or organisation).
	SaveGBDevice(ctx context.Context, d *Device) error
	// SaveGBChannels stores a catalog: channels are inserted or updated, keeping the camera each
	// became; complete means the list is the whole catalog, and channels missing from it that
	// never became a camera are removed (those that did are kept, marked OFF).
	SaveGBChannels(ctx context.Context, deviceID string, chans []Channel, complete bool) error
	// AdoptGBDevice sets a pending device's organisation and its channels' cameras, by channel id.
	AdoptGBDevice(ctx context.Context, id, organisationID string, cameras map[string]string) error
	// SaveGBDialog records an open play dialog, DeleteGBDialog forgets one that ended (an
	// unknown one is no error), and GBDialogs lists those a platform has open.
	SaveGBDialog(ctx context.Context, d Dialog) error
	DeleteGBDialog(ctx context.Context, callID string) error
	GBDialogs(ctx context.Context, platform string) ([]Dialog, error)
}

// Dialog is an open play dialog as kept in the store: enough to send its BYE after a restart.
type Dialog struct {
	CallID string
	// Platform is the SIP address of the platform that opened it.
	Platform            string
	DeviceID, ChannelID string
	// Transport and Remote are where the device was reached; Target the dialog's Request-URI.
	Transport, Remote, Target string
	FromTag, ToTag            string
	CSeq                      uint32
	StartedAt                 time.Time
}

// Cameras creates the cameras adopted channels become; registry.Service is one.
type Cameras interface {
	CreateGBCameras(ctx context.Context, scope registry.Scope, ins []*registry.CameraInput) ([]*registry.Camera, error)
	Organisation(ctx context.Context, id string) (*registry.Organisation, error)
}

// Config configures the platform.
type Config struct {
	// Listen is the address served over UDP and TCP.
	Listen string
	// ID is the platform's 20-digit id, Domain its 10-digit domain and the digest realm.
	ID, Domain string
	// Password is the global device password; empty lets devices register without digest.
	Password string
	// KeepaliveInterval is the devices' heartbeat period; three missed make a device offline.
	// Default 60s, the standard's.
	KeepaliveInterval time.Duration
	// NonceTTL is how long a digest nonce may be answered; default 5 minutes.
	NonceTTL time.Duration
	// CatalogTimeout is how long the MESSAGEs of one catalog may take to arrive; default 30s.
	CatalogTimeout time.Duration
	// MaxDevices bounds the devices kept in memory, so a flood of ids cannot grow it without end;
	// default 100,000.
	MaxDevices int
}

func (c Config) withDefaults() Config {
	if c.KeepaliveInterval <= 0 {
		c.KeepaliveInterval = 60 * time.Second
	}
	if c.NonceTTL <= 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.CatalogTimeout <= 0 {
		c.CatalogTimeout = 30 * time.Second
	}
	if c.MaxDevices <= 0 {
		c.MaxDevices = 100_000
	}
	return c
}

// ValidDeviceID reports whether id is a GB/T 28181 id: 20 digits.
func ValidDeviceID(id string) bool {
	if len(id) != 20 {
		return false
	}
	for i := range len(id) {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
