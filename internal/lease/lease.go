// Package lease shares the recording work of many nodes on one database: a node records a camera
// only while it holds the camera's lease, renewed every few seconds and expiring after about ten;
// free and expired cameras are taken by nodes with room, each up to its fair share. Every lease
// carries a fencing token that only grows, and the index refuses a segment write whose token is
// not the camera's lease's any more (ErrLost), so a node that lost a lease cannot write.
package lease

import (
	"context"
	"errors"
	"time"
)

// ErrLost is the refusal of a write made under a lease that is no longer the writer's (another
// node took the camera, or the lease expired). A recorder stops recording the camera on it.
var ErrLost = errors.New("camera lease lost")

// Lease is one camera held by a node.
type Lease struct {
	CameraID string
	Node     string
	Token    int64
	Expires  time.Time
}

// Store keeps the leases and the live nodes; *store.DB implements it. Times are the caller's
// clock, so that every node judges expiry by one rule.
type Store interface {
	// Heartbeat marks node live until expires, with its capacity.
	Heartbeat(ctx context.Context, node string, maxStreams int, expires time.Time) error
	// LiveNodes counts the nodes whose heartbeat has not expired at now.
	LiveNodes(ctx context.Context, now time.Time) (int, error)
	// RenewLeases extends to expires every lease node holds that has not expired at now, and
	// returns them; an expired lease is not renewed (it must be taken again, with a new token).
	RenewLeases(ctx context.Context, node string, now, expires time.Time) ([]Lease, error)
	// AcquireLeases takes, of cameras, those with no lease or an expired one at now, up to limit,
	// each with its token grown by one; it returns those taken.
	AcquireLeases(ctx context.Context, node string, cameras []string, now, expires time.Time, limit int) ([]Lease, error)
	// ReleaseLeases hands back node's leases of cameras (every one of node's when cameras is nil).
	ReleaseLeases(ctx context.Context, node string, cameras []string) error
	// FreeCameras lists, of cameras, those with no lease held at now.
	FreeCameras(ctx context.Context, cameras []string, now time.Time) ([]string, error)
	// LeaseHolder names the node holding camera's lease at now, "" when none.
	LeaseHolder(ctx context.Context, camera string, now time.Time) (string, error)
	// AcquireClusterLease takes or renews the lease of cluster-wide work name for node; false
	// when another node holds it.
	AcquireClusterLease(ctx context.Context, name, node string, now, expires time.Time) (bool, error)
}

// ReleaseWatcher is what a Store shared by many nodes may also do: tell a node as soon as any
// node hands leases back, so that it takes them without waiting for its next round.
type ReleaseWatcher interface {
	// WatchReleases calls wake once it listens (for what was released before) and at each
	// release after, until ctx ends (nil) or it fails (the error);
	// errors.ErrUnsupported when the store cannot tell (no other node shares it).
	WatchReleases(ctx context.Context, wake func()) error
}

// FairShare is how many cameras one of nodes live nodes takes of cameras: ceil(cameras/nodes),
// within its capacity (0 meaning none set).
func FairShare(cameras, nodes, capacity int) int {
	if nodes < 1 {
		nodes = 1
	}
	share := (cameras + nodes - 1) / nodes
	if capacity > 0 && share > capacity {
		share = capacity
	}
	return share
}
