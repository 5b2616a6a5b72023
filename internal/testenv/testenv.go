// Package testenv starts the real servers integration tests need: an
// in-process NATS server with JetStream and a private ClickHouse server,
// both on loopback and free ports, both stopped when the test ends.
//
// There is no skip: a test that needs ClickHouse fails, naming what to
// install, when no clickhouse-server binary is found (`make test` installs
// it). A green run therefore always means the integration tests ran.
package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/processors/sink"
)

// Config returns a configuration for tests: defaults with small batch
// timeouts and retries so that tests finish quickly.
func Config() *config.Config {
	cfg := config.Default()
	cfg.NATS.Embedded.Listen = "127.0.0.1:0"
	cfg.Process.BatchTimeout = config.Duration(200 * time.Millisecond)
	cfg.Process.RetryMin = config.Duration(200 * time.Millisecond)
	cfg.Process.RetryMax = config.Duration(2 * time.Second)
	cfg.Log.Level = "warn"
	return &cfg
}

// NATS starts an in-process NATS server for t and returns its URL.
func NATS(t testing.TB) string {
	t.Helper()
	cfg := Config()
	ns, err := bus.StartEmbedded(cfg, filepath.Join(t.TempDir(), "nats"))
	if err != nil {
		t.Fatalf("starting NATS: %v", err)
	}
	t.Cleanup(ns.Shutdown)
	return ns.URL()
}

// ClickHouseServer starts a private ClickHouse server for t.
func ClickHouseServer(t testing.TB) (*chlocal.Server, string) {
	t.Helper()
	bin, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER"))
	if err != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v (run `make test`, which installs it)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := chlocal.Start(ctx, bin, t.TempDir(), 0)
	if err != nil {
		t.Fatalf("starting ClickHouse: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv, bin
}

// Store opens database db on the server at addr, migrated.
func Store(t testing.TB, dsn string) *sink.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sink.OpenDSN(ctx, dsn, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// Bus connects to the NATS at url and creates the streams.
func Bus(t testing.TB, cfg *config.Config) *bus.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, cfg, "test", os.Getenv, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := bus.Setup(ctx, conn.JS, cfg); err != nil {
		t.Fatal(err)
	}
	return conn
}

// Count runs a query returning one number.
func Count(t testing.TB, st *sink.Store, query string) uint64 {
	t.Helper()
	var n uint64
	if err := st.Conn().QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
