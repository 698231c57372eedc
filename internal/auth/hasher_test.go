package auth

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"civicam/internal/fault"
)

func TestHasherDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  HasherConfig
		want int
	}{
		{"slots given", HasherConfig{Params: cheap, Slots: 3}, 3},
		{"cheap hashes: one per CPU", HasherConfig{Params: cheap}, runtime.GOMAXPROCS(0)},
		{"1 GiB hashes: memory allows one", HasherConfig{Params: Params{MemoryKiB: 1 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHasher(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Slots(); got != tt.want {
				t.Errorf("NewHasher(%+v).Slots() = %d; want %d", tt.cfg, got, tt.want)
			}
		})
	}
	if h, err := NewHasher(HasherConfig{}); err != nil || h.Params() != DefaultParams() || h.Slots() > DefaultHashingMemory/(64<<20) {
		t.Errorf("NewHasher(zero) = %d slots of %+v, %v; want DefaultParams, at most 4 slots", h.Slots(), h.Params(), err)
	}
	if _, err := NewHasher(HasherConfig{Params: Params{MemoryKiB: 1}}); err == nil {
		t.Error("NewHasher(unusable params) = nil error; want one")
	}
}

// TestHasherBound: with every slot taken, a hash waits its bounded time and is refused with
// ErrBusy (a fault the faces answer 503 with Retry-After), or ends with its context; once a
// slot is free it runs.
func TestHasherBound(t *testing.T) {
	h, err := NewHasher(HasherConfig{Params: cheap, Slots: 2, Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range h.Slots() {
		if err := h.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Hash(ctx, "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash(all slots taken) = %v; want ErrBusy", err)
	}
	if _, err := h.Verify(ctx, h.Dummy(), "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify(all slots taken) = %v; want ErrBusy", err)
	}
	if fe, ok := fault.As(ErrBusy); !ok || fe.Kind != fault.Unavailable || fe.RetryAfter <= 0 {
		t.Errorf("ErrBusy = %+v; want an Unavailable fault with a RetryAfter", fe)
	}
	slow, err := NewHasher(HasherConfig{Params: cheap, Slots: 1, Wait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	slow.acquire(ctx)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := slow.Hash(cctx, "correct horse battery"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(all slots taken, context ended) = %v; want context.Canceled", err)
	}
	h.release()
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatalf("Hash(a slot free) = %v", err)
	}
	if ok, err := h.Verify(ctx, enc, "correct horse battery"); !ok || err != nil {
		t.Errorf("Verify(own hash) = %v, %v; want true", ok, err)
	}
	if ok, err := h.Verify(ctx, h.Dummy(), "correct horse battery"); ok || err != nil {
		t.Errorf("Verify(dummy) = %v, %v; want false, nil", ok, err)
	}
	if h.NeedsRehash(h.Dummy()) || !h.NeedsRehash(enc[:len(enc)-2]) {
		t.Error("NeedsRehash(dummy) = true or NeedsRehash(broken) = false; want the dummy to pass as current")
	}
}
