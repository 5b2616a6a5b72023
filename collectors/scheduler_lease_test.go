package collectors

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
)

// A lease whose revision moved under its holder (a NATS server that lost
// its last writes in a crash) is taken back while it still names the
// holder, or re-created when gone, instead of failing every renewal until
// the pass ends.
func TestLeaseRetaken(t *testing.T) {
	cfg := config.Default()
	cfg.NATS.Embedded.Listen = "127.0.0.1:0"
	ns, err := bus.StartEmbedded(&cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	cfg.NATS.URL = ns.URL()
	ctx := context.Background()
	conn, err := bus.Connect(ctx, &cfg, "test", os.Getenv, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := bus.Setup(ctx, conn.JS, &cfg); err != nil {
		t.Fatal(err)
	}
	leases, err := conn.JS.KeyValue(ctx, bus.BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	s := &Scheduler{leases: leases, owner: "me", leaseTTL: 300 * time.Millisecond, log: slog.New(slog.DiscardHandler)}
	release, err := s.acquire(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// Another write moves the revision, as a restart that lost writes would.
	moved, err := leases.Put(ctx, "src", []byte("me"))
	if err != nil {
		t.Fatal(err)
	}
	renewedAfter(t, ctx, leases, moved)
	// Gone altogether: created again.
	if err := leases.Purge(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	e, _ := leases.Get(ctx, "src")
	var purged uint64
	if e != nil {
		purged = e.Revision()
	}
	renewedAfter(t, ctx, leases, max(moved, purged))
}

// renewedAfter waits until the lease names "me" at a revision after rev.
func renewedAfter(t *testing.T, ctx context.Context, leases jetstream.KeyValue, rev uint64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		e, err := leases.Get(ctx, "src")
		if err == nil && string(e.Value()) == "me" && e.Revision() > rev+1 {
			return // renewed at least twice since
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease not renewed after revision %d: %v, %v", rev, e, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
