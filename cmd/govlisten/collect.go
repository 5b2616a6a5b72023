package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/telemetry"
)

// CollectCmd is `govlisten collect`.
type CollectCmd struct {
	NATSFlag
	ClickHouseFlag
	HTTPAddrFlag
	Once     bool      `help:"Run one pass over the sources and exit (for cron, Kubernetes CronJobs and systemd timers)."`
	Source   []string  `help:"Only this source (repeatable)." placeholder:"NAME"`
	Since    time.Time `help:"Backfill: collect from this date (2006-01-02 or RFC 3339) instead of the checkpoint, within what the platform keeps." placeholder:"DATE" type:"date"`
	NoLedger bool      `help:"Do not record runs in ClickHouse table collection_runs."`
}

// Help explains the guarantees.
func (c *CollectCmd) Help() string {
	return "Each source runs on its own interval (every) or cron expression, at most one collector replica at a time (a lease in NATS KV). A source's checkpoint moves only after JetStream acknowledged every mention of a page, so a killed collector repeats work and never skips it. Every run is recorded in ClickHouse table collection_runs. API tokens come from the variables or files the configuration names (twitter.bearer_token_env, youtube.api_key_env, facebook.access_token_env)."
}

// Run collects.
func (c *CollectCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag, c.HTTPAddrFlag)
	if err != nil {
		return err
	}
	if len(cfg.Sources) == 0 {
		return errors.New("no sources configured: add a sources list to the configuration (see govlisten.example.yaml)")
	}
	// Readiness is NATS only: without ClickHouse the runs are not recorded
	// in the ledger, and collection goes on.
	tel := telemetry.New(log)
	tel.Health.Require("nats")
	srv, err := serveOps(ctx, cfg, tel, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	conn, err := openBus(ctx, cfg, "collect", 30*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	tel.Health.Set("nats", telemetry.NATSReady(conn.NC))
	var recorder collectors.RunRecorder
	if !c.NoLedger {
		if st := openLedger(ctx, cfg, log); st != nil {
			defer st.Close()
			recorder = st
		}
	}
	cols, err := buildCollectors(ctx, conn, cfg, os.Getenv, log, tel)
	if err != nil {
		return err
	}
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, cols, recorder, log)
	if err != nil {
		return err
	}
	sched.Instrument(tel)
	if !c.Once {
		log.Info("collecting on schedule", "sources", len(cfg.Sources))
		return sched.Run(ctx)
	}
	_, err = sched.RunOnce(ctx, collectors.Options{Only: c.Source, Since: c.Since})
	return err
}

// openLedger opens ClickHouse for collection_runs, or returns nil (with a
// warning) when it cannot be reached: collection does not stop for the ledger.
func openLedger(ctx context.Context, cfg *config.Config, log *slog.Logger) *sink.Store {
	st, err := sink.Open(ctx, cfg, os.Getenv)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = st.Ping(pctx)
		cancel()
		if err == nil {
			return st
		}
		st.Close()
	}
	log.Warn("collection runs will not be recorded in ClickHouse", "err", err)
	return nil
}

// buildCollectors makes a collector for each platform that has a source,
// counting its API calls in tel (nil: not counted). YouTube's daily units
// are one budget for every replica, kept in KV.
func buildCollectors(ctx context.Context, conn *bus.Conn, cfg *config.Config, getenv func(string) string, log *slog.Logger, tel *telemetry.Telemetry) (map[string]collectors.Collector, error) {
	quota, err := conn.JS.KeyValue(ctx, bus.BucketQuota)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bus.BucketQuota, err)
	}
	out := map[string]collectors.Collector{}
	for _, src := range cfg.Sources {
		if out[src.Platform] != nil {
			continue
		}
		var c collectors.Collector
		// One gate per platform, shared by every replica: a 429 or a
		// throttling answer to one holds them all back.
		gate := &collectors.KVGate{KV: quota, Key: src.Platform}
		switch src.Platform {
		case "twitter":
			var tc *twitter.Collector
			if tc, err = twitter.New(cfg, getenv, nil, log); err == nil {
				tc.Retry.Gate = gate
				tc.Retry.Metrics = tel.API(src.Platform)
				c = tc
			}
		case "youtube":
			budget := &collectors.KVBudget{KV: quota, Key: "youtube", Units: cfg.YouTube.DailyQuotaUnits, Location: collectors.Pacific, Pace: true}
			var yc *youtube.Collector
			if yc, err = youtube.New(cfg, getenv, nil, budget, log); err == nil {
				yc.Retry.Gate = gate
				yc.Retry.Metrics = tel.API(src.Platform)
				tel.WatchQuota(src.Platform, func(ctx context.Context) (float64, error) {
					n, err := budget.Left(ctx)
					return float64(n), err
				})
				c = yc
			}
		case "facebook":
			var fc *facebook.Collector
			if fc, err = facebook.New(cfg, getenv, nil, log); err == nil {
				fc.Policy.Gate = gate
				fc.Policy.Metrics = tel.API(src.Platform)
				c = fc
			}
		default:
			err = fmt.Errorf("unknown platform %q", src.Platform)
		}
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		out[src.Platform] = c
	}
	return out, nil
}

// SourcesCmd is `govlisten sources`.
type SourcesCmd struct {
	NATSFlag
	ClickHouseFlag
}

// Run lists the sources.
func (c *SourcesCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	// The last day of runs from the ledger, when ClickHouse is reachable.
	ledger := map[string]string{}
	if st := openLedger(ctx, cfg, log); st != nil {
		ledger = ledgerDay(ctx, st)
		st.Close()
	}
	conn, err := openBus(ctx, cfg, "sources", 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	cols := map[string]collectors.Collector{}
	for _, src := range cfg.Sources {
		cols[src.Platform] = nopCollector{}
	}
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, cols, nil, log)
	if err != nil {
		return err
	}
	status, err := sched.Status(ctx)
	if err != nil {
		return err
	}
	quota, err := conn.JS.KeyValue(ctx, bus.BucketQuota)
	if err != nil {
		return err
	}
	// What each platform has left: YouTube's units today; for all, a
	// shared rate-limit hold if one is in force.
	left := map[string]string{}
	for _, p := range []string{"twitter", "youtube", "facebook"} {
		var parts []string
		if p == "youtube" {
			b := &collectors.KVBudget{KV: quota, Key: "youtube", Units: cfg.YouTube.DailyQuotaUnits, Location: collectors.Pacific}
			if n, err := b.Left(ctx); err == nil {
				parts = append(parts, fmt.Sprintf("%d units today", n))
			}
		}
		if until, reason, err := (&collectors.KVGate{KV: quota, Key: p}).Until(ctx); err == nil && until.After(time.Now()) {
			parts = append(parts, "held until "+until.Format(time.RFC3339)+" ("+reason+")")
		}
		left[p] = strings.Join(parts, ", ")
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPLATFORM\tKIND\tCHECKPOINT\tLAST RUN\tPUBLISHED\tQUOTA UNITS\tQUOTA LEFT\tLAST 24H (LEDGER)\tLAST ERROR")
	names := make([]string, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	for _, name := range names {
		var src config.Source
		for _, s := range cfg.Sources {
			if s.Name == name {
				src = s
			}
		}
		cp, err := sched.Checkpoint(ctx, name)
		if err != nil {
			return err
		}
		run, ok := status[name]
		last, published, units, lastErr := "never", "", "", ""
		if ok {
			last = run.Finished.Format(time.RFC3339)
			published = fmt.Sprint(run.Published)
			units = fmt.Sprint(run.QuotaUnits)
			lastErr = run.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, src.Platform, src.Kind, describeCheckpoint(cp), last, published, units, left[src.Platform], ledger[name], oneLine(lastErr, 80))
	}
	return tw.Flush()
}

// ledgerDay sums each source's runs of the last 24 hours from
// collection_runs: runs, mentions published, runs cut short.
func ledgerDay(ctx context.Context, st *sink.Store) map[string]string {
	out := map[string]string{}
	rows, err := st.Conn().Query(ctx, "SELECT source, count(), sum(items_published), countIf(truncated = 1) FROM "+st.DB()+
		".collection_runs WHERE started_at > now() - 86400 GROUP BY source")
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var runs, published, truncated uint64
		if rows.Scan(&source, &runs, &published, &truncated) == nil {
			out[source] = fmt.Sprintf("%d runs, %d published, %d cut short", runs, published, truncated)
		}
	}
	return out
}

func describeCheckpoint(cp collectors.Checkpoint) string {
	var parts []string
	if cp.SinceID != "" {
		parts = append(parts, "since_id "+cp.SinceID)
	}
	if !cp.Since.IsZero() {
		parts = append(parts, "since "+cp.Since.Format(time.RFC3339))
	}
	if cp.Pass != nil {
		parts = append(parts, "mid-pass")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// nopCollector stands in where only the scheduler's views are needed.
type nopCollector struct{}

func (nopCollector) Collect(context.Context, config.Source, collectors.Checkpoint, func(context.Context, collectors.Page) error) error {
	return nil
}

// SimulateCmd is `govlisten simulate`.
type SimulateCmd struct {
	Rate         float64 `help:"New items per second, per platform." default:"50"`
	Seed         uint64  `help:"Seed of the simulated content." default:"1"`
	TwitterAddr  string  `help:"Listen address of the X API simulator." default:"127.0.0.1:8091"`
	YouTubeAddr  string  `name:"youtube-addr" help:"Listen address of the YouTube API simulator." default:"127.0.0.1:8092"`
	FacebookAddr string  `help:"Listen address of the Graph API simulator." default:"127.0.0.1:8093"`
}

// Help explains use.
func (c *SimulateCmd) Help() string {
	return "Serves realistic fakes of the X, YouTube and Facebook APIs on loopback (the same paths, parameters, JSON shapes, pagination, rate-limit headers and error bodies), generating a steady stream of mentions of UK government departments. Point a configuration at them with GOVLISTEN_TWITTER_BASE_URL, GOVLISTEN_YOUTUBE_BASE_URL and GOVLISTEN_FACEBOOK_BASE_URL (printed at start); any token is accepted. GET /_sim/served on each lists the ids served so far."
}

// Run serves until interrupted.
func (c *SimulateCmd) Run(ctx context.Context, g *Globals) error {
	_, log, err := g.load()
	if err != nil {
		return err
	}
	sims, err := startSimulators(ctx, c.Rate, c.Seed, c.TwitterAddr, c.YouTubeAddr, c.FacebookAddr)
	if err != nil {
		return err
	}
	for _, s := range sims {
		fmt.Printf("export %s=%s\n", s.env, s.url)
	}
	log.Info("simulators running; Ctrl-C stops")
	<-ctx.Done()
	return nil
}

// simulator is one platform's simulator, served on loopback.
type simulator struct {
	platform string
	env      string // the base-URL variable to point at it
	url      string
	served   func() []string
}

// startSimulators serves the three simulators until ctx ends.
func startSimulators(ctx context.Context, rate float64, seed uint64, twAddr, ytAddr, fbAddr string) ([]simulator, error) {
	tw := twitter.NewSimulator(twitter.SimConfig{Rate: rate, Seed: seed})
	yt := youtube.NewSimulator(youtube.SimConfig{Rate: rate, Seed: seed + 1})
	fb := facebook.NewSimulator(facebook.SimConfig{Rate: rate, Seed: seed + 2})
	var out []simulator
	for _, s := range []struct {
		platform, env, addr string
		h                   http.Handler
		served              func() []string
	}{
		{"twitter", "GOVLISTEN_TWITTER_BASE_URL", twAddr, tw, tw.Served},
		{"youtube", "GOVLISTEN_YOUTUBE_BASE_URL", ytAddr, yt, yt.Served},
		{"facebook", "GOVLISTEN_FACEBOOK_BASE_URL", fbAddr, fb, fb.Served},
	} {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("%s simulator: %w", s.platform, err)
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		out = append(out, simulator{platform: s.platform, env: s.env, url: "http://" + l.Addr().String(), served: s.served})
	}
	return out, nil
}
