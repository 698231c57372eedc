package lease_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"civicam/internal/clocktest"
	"civicam/internal/lease"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// node is one Keeper with what it was last told to record.
type node struct {
	k    *lease.Keeper
	mu   sync.Mutex
	held map[string]int64
}

func newNode(db *store.DB, clock *clocktest.Clock, id string, max int, cams []string) *node {
	n := &node{}
	n.k = lease.New(lease.Config{Node: id, MaxStreams: max, TTL: 10 * time.Second, Renew: 2 * time.Second}, lease.Deps{
		Store: db, Now: clock.Now,
		Wanted: func(context.Context) ([]string, error) { return cams, nil },
		Apply: func(held []lease.Lease) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.held = map[string]int64{}
			for _, l := range held {
				n.held[l.CameraID] = l.Token
			}
		},
	})
	return n
}

func (n *node) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.held)
}

func TestKeeperSpreadsAndTakesOver(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		var cams []string
		for i := range 10 {
			cams = append(cams, fmt.Sprintf("cam%02d", i))
		}
		nodes := []*node{newNode(db, clock, "a", 0, cams), newNode(db, clock, "b", 0, cams), newNode(db, clock, "c", 0, cams)}
		round := func(ns ...*node) {
			t.Helper()
			for _, n := range ns {
				if err := n.k.Round(ctx); err != nil {
					t.Fatalf("Round = %v", err)
				}
			}
		}
		// Heartbeats first, so that every node knows the others before it takes its share.
		for _, id := range []string{"a", "b", "c"} {
			if err := db.Heartbeat(ctx, id, 0, clock.Now().Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		round(nodes...)
		total := 0
		for i, n := range nodes {
			if c := n.count(); c > 4 {
				t.Errorf("node %d holds %d cameras; want at most its fair share ceil(10/3) = 4", i, c)
			}
			total += n.count()
		}
		if total != 10 {
			t.Fatalf("nodes hold %d cameras in all; want 10", total)
		}
		seen := map[string]int{}
		for _, n := range nodes {
			for c := range n.held {
				seen[c]++
			}
		}
		for c, k := range seen {
			if k != 1 {
				t.Errorf("camera %s held by %d nodes; want 1", c, k)
			}
		}
		// c stops renewing (killed): after its leases expire, a and b take its cameras with
		// larger tokens.
		lost := nodes[2].held
		for range 6 {
			clock.Advance(2 * time.Second)
			round(nodes[0], nodes[1])
		}
		if got := nodes[0].count() + nodes[1].count(); got != 10 {
			t.Errorf("a and b hold %d cameras after c's leases expired; want 10", got)
		}
		for c, tok := range lost {
			newTok, ok := nodes[0].held[c]
			if !ok {
				newTok = nodes[1].held[c]
			}
			if newTok <= tok {
				t.Errorf("camera %s taken over with token %d; want more than c's %d", c, newTok, tok)
			}
		}
		// a stops gracefully: b takes everything at its next round, without waiting for expiry.
		if err := nodes[0].k.Release(ctx); err != nil {
			t.Fatal(err)
		}
		round(nodes[1])
		if got := nodes[1].count(); got != 10 {
			t.Errorf("b holds %d cameras after a handed its leases back; want 10", got)
		}
	})
}

func TestKeeperMaxStreams(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		n := newNode(db, clock, "a", 3, []string{"c1", "c2", "c3", "c4", "c5"})
		if err := n.k.Round(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := n.count(); got != 3 {
			t.Errorf("node with max_streams 3 holds %d cameras; want 3", got)
		}
	})
}

// A node's release reaches the others at once: a keeper whose rounds are an hour apart takes the
// cameras another node handed back without waiting for its next round (PostgreSQL's LISTEN; on
// SQLite no two nodes share the database).
func TestKeeperTakesReleasedCamerasAtOnce(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	cams := []string{"cam1", "cam2", "cam3", "cam4"}
	held := make(chan int, 16)
	keeper := func(id string) *lease.Keeper {
		return lease.New(lease.Config{Node: id, TTL: 3 * time.Hour, Renew: time.Hour}, lease.Deps{Store: db,
			Wanted: func(context.Context) ([]string, error) { return cams, nil },
			Apply: func(h []lease.Lease) {
				if id == "b" {
					held <- len(h)
				}
			}})
	}
	a, b := keeper("a"), keeper("b")
	for _, id := range []string{"a", "b"} {
		if err := db.Heartbeat(ctx, id, 0, time.Now().Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("b.Run = %v", err)
		}
	}()
	wait := func(want int, what string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case n := <-held:
				if n == want {
					return
				}
			case <-deadline:
				t.Fatalf("b never held %d cameras (%s); its next round is an hour away", want, what)
			}
		}
	}
	wait(2, "its fair share beside a")
	// Released before b listens or after: b is woken once it listens, and again at the release.
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	wait(4, "after a handed its leases back")
}
