package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/govlisten/govlisten/alerts"
	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/dashboard"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/telemetry"
	"github.com/govlisten/govlisten/webauth"
)

// ServeCmd is `govlisten serve`: the dashboard.
type ServeCmd struct {
	ClickHouseFlag
	HTTPAddr string `name:"http-addr" help:"Listen on HOST:PORT (overrides http.addr; env GOVLISTEN_HTTP_ADDR). Default 127.0.0.1:8080; port 0 picks a free one." placeholder:"HOST:PORT"`
}

// DefaultHTTPAddr is where serve and up listen when http.addr is empty.
const DefaultHTTPAddr = "127.0.0.1:8080"

// Run serves the dashboard until interrupted.
func (c *ServeCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	if c.HTTPAddr != "" {
		cfg.HTTP.Addr = c.HTTPAddr
	}
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	return serveHTTP(ctx, cfg, store, log, "serve")
}

// mountDashboard puts the dashboard behind the authentication http.auth.*
// configures at "/" of mux: every path but the ones already registered
// there (/metrics, /healthz, /readyz, which stay outside authentication).
func mountDashboard(mux *http.ServeMux, cfg *config.Config, store *sink.Store, log *slog.Logger) error {
	auth, err := webauth.New(cfg.HTTP.Auth, log)
	if err != nil {
		return err
	}
	mux.Handle("/", auth(dashboard.New(analytics.New(store, cfg), cfg, log)))
	return nil
}

// serveHTTP listens on http.addr and serves the dashboard with /metrics,
// /healthz and /readyz (ready when ClickHouse answers), runs spike alerts
// every alerts.every and settles days every rollups.settle_every, and stops when ctx ends, giving requests in flight up
// to 5 seconds.
func serveHTTP(ctx context.Context, cfg *config.Config, store *sink.Store, log *slog.Logger, role string) error {
	tel := telemetry.New(log)
	tel.Health.Require("clickhouse")
	tel.Health.Set("clickhouse", store.Ping)
	mux := http.NewServeMux()
	tel.Mount(mux)
	if err := mountDashboard(mux, cfg, store, log); err != nil {
		return err
	}
	addr := cfg.HTTP.Addr
	if addr == "" {
		addr = DefaultHTTPAddr
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	actx, stopAlerts := context.WithCancel(ctx)
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		if err := alerts.Run(actx, store, cfg, log); err != nil {
			log.Error("alerts not running", "err", err)
		}
	}()
	settleDone := make(chan struct{})
	go func() {
		defer close(settleDone)
		settleLoop(actx, store, cfg.Rollups.SettleEvery.D(), log)
	}()
	log.Info("dashboard", "role", role, "url", "http://"+l.Addr().String()+"/", "clickhouse", cfg.ShowClickHouseDSN(), "auth", cfg.HTTP.Auth.Mode)
	select {
	case err = <-done:
		err = fmt.Errorf("serving HTTP on %s: %w", l.Addr(), err)
	case <-ctx.Done():
		tel.Health.Stopping()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
		if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	stopAlerts()
	<-alertsDone
	<-settleDone
	log.Info("dashboard stopped")
	return err
}
