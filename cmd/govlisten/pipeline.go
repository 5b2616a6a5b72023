package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/govlisten/govlisten/alerts"
	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/privacy"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/lang"
	"github.com/govlisten/govlisten/processors/sentiment"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
	"github.com/govlisten/govlisten/telemetry"
)

// NATSFlag is --nats.
type NATSFlag struct {
	NATS string `name:"nats" help:"NATS server URL(s), comma-separated (overrides nats.url; env GOVLISTEN_NATS_URL). Default nats://127.0.0.1:4222." placeholder:"URL"`
}

func (f NATSFlag) apply(cfg *config.Config) {
	if f.NATS != "" {
		cfg.NATS.URL = f.NATS
	}
}

// ClickHouseFlag is --clickhouse.
type ClickHouseFlag struct {
	ClickHouse string `name:"clickhouse" help:"ClickHouse DSN, clickhouse://[user@]host:9000/database (overrides clickhouse.dsn; env GOVLISTEN_CLICKHOUSE_DSN). The password comes from GOVLISTEN_CLICKHOUSE_PASSWORD." placeholder:"DSN"`
}

// openStore connects to the configured ClickHouse and, when migrate is
// set, applies the schema first. The caller closes the store.
func openStore(ctx context.Context, cfg *config.Config, migrate bool) (*sink.Store, error) {
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := store.Migrate(ctx); err != nil {
			store.Close()
			return nil, err
		}
	}
	return store, nil
}

func (f ClickHouseFlag) apply(cfg *config.Config) {
	if f.ClickHouse != "" {
		cfg.ClickHouse.DSN = f.ClickHouse
	}
}

// HTTPAddrFlag is --http-addr.
type HTTPAddrFlag struct {
	HTTPAddr string `name:"http-addr" help:"Serve /metrics, /healthz and /readyz on HOST:PORT (overrides http.addr; env GOVLISTEN_HTTP_ADDR). Without it no HTTP is served." placeholder:"HOST:PORT"`
}

func (f HTTPAddrFlag) apply(cfg *config.Config) {
	if f.HTTPAddr != "" {
		cfg.HTTP.Addr = f.HTTPAddr
	}
}

// serveOps serves tel's /metrics, /healthz and /readyz on cfg.HTTP.Addr,
// or nothing when it is empty (a nil *telemetry.Server, which Close
// accepts). /readyz says 503 from the moment ctx ends.
func serveOps(ctx context.Context, cfg *config.Config, tel *telemetry.Telemetry, log *slog.Logger) (*telemetry.Server, error) {
	if cfg.HTTP.Addr == "" {
		return nil, nil
	}
	return serveMux(ctx, cfg.HTTP.Addr, tel, tel.Handler(), log)
}

// serveMux serves mux, on which tel's endpoints are mounted, on addr.
func serveMux(ctx context.Context, addr string, tel *telemetry.Telemetry, mux *http.ServeMux, log *slog.Logger) (*telemetry.Server, error) {
	srv, err := telemetry.Serve(addr, mux, log)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, tel.Health.Stopping)
	return srv, nil
}

// openBus connects to NATS, waiting up to wait for it, and creates the
// streams, consumer and buckets. The caller closes the connection.
func openBus(ctx context.Context, cfg *config.Config, name string, wait time.Duration) (*bus.Conn, error) {
	conn, err := bus.Connect(ctx, cfg, name, os.Getenv, wait)
	if err != nil {
		return nil, err
	}
	if err := bus.Setup(ctx, conn.JS, cfg); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// MigrateCmd is `govlisten migrate`.
type MigrateCmd struct {
	ClickHouseFlag
	Cluster string `help:"Create the replicated schema ON CLUSTER NAME: Replicated*MergeTree tables *_local on every server and Distributed tables with the usual names over them (overrides clickhouse.cluster; env GOVLISTEN_CLICKHOUSE_CLUSTER). NAME is a cluster of the servers' remote_servers." placeholder:"NAME"`
	Print   bool   `help:"Print the statements instead of applying them (no server needed; the codec is left out)."`
}

// Run applies the schema.
func (c *MigrateCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c)
	if err != nil {
		return err
	}
	if c.Cluster != "" {
		cfg.ClickHouse.Cluster = c.Cluster
	}
	if c.Print {
		return printSchema(cfg)
	}
	store, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	log.Info("schema applied", "clickhouse", cfg.ShowClickHouseDSN(), "database", store.DB(), "cluster", store.Cluster())
	return nil
}

// printSchema writes the statements migrate would run, each ending in ";".
func printSchema(cfg *config.Config) error {
	db, err := sink.DatabaseOf(cfg.ClickHouseDSN())
	if err != nil {
		return err
	}
	sts, err := sink.Statements(sink.SchemaParams{DB: db, Cluster: cfg.ClickHouse.Cluster})
	if err != nil {
		return err
	}
	for _, st := range sts {
		fmt.Printf("-- %s, statement %d\n%s;\n\n", st.File, st.N, st.SQL)
	}
	return nil
}

// ProcessCmd is `govlisten process`.
type ProcessCmd struct {
	NATSFlag
	ClickHouseFlag
	HTTPAddrFlag
	Once         bool          `help:"Drain what is on the stream, then exit 0 once the consumer has nothing pending."`
	BatchSize    int           `help:"Most mentions per ClickHouse insert (overrides process.batch_size)." placeholder:"N"`
	BlockSize    int           `help:"Most mentions held before they are sent on to the open insert (overrides process.block_size)." placeholder:"N"`
	BatchTimeout time.Duration `help:"Flush a partial batch after this long (overrides process.batch_timeout)." placeholder:"DURATION"`
	Taxonomy     string        `help:"Taxonomy file (overrides taxonomy); default: the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
	Migrate      bool          `help:"Apply the schema before starting." default:"true" negatable:""`
	CPUProfile   string        `help:"Write a CPU profile of the run to FILE, for go tool pprof." placeholder:"FILE"`
}

// Run processes.
func (c *ProcessCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag, c.HTTPAddrFlag)
	if err != nil {
		return err
	}
	if c.BatchSize > 0 {
		cfg.Process.BatchSize = c.BatchSize
	}
	if c.BlockSize > 0 {
		cfg.Process.BlockSize = c.BlockSize
	}
	if c.BatchTimeout > 0 {
		cfg.Process.BatchTimeout = config.Duration(c.BatchTimeout)
	}
	if c.Taxonomy != "" {
		cfg.Taxonomy = c.Taxonomy
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("%v", errs)
	}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	tel := telemetry.New(log)
	srv, err := serveOps(ctx, cfg, tel, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	return runProcessor(ctx, cfg, log, c.Once, c.Migrate, tel)
}

// runProcessor connects to NATS and ClickHouse and runs one Processor,
// counting in tel and declaring both as dependencies of its readiness.
func runProcessor(ctx context.Context, cfg *config.Config, log *slog.Logger, once, migrate bool, tel *telemetry.Telemetry) error {
	tel.Health.Require("nats", "clickhouse")
	tax, err := loadTaxonomy(cfg)
	if err != nil {
		return err
	}
	pseudo, err := privacy.Load(cfg.Privacy, os.Getenv) // refuses to start without a good key
	if err != nil {
		return err
	}
	conn, err := openBus(ctx, cfg, "process", 30*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	tel.Health.Set("nats", telemetry.NATSReady(conn.NC))
	tel.WatchBus(conn.JS, cfg.NATS.Consumer.Name)
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	tel.Health.Set("clickhouse", store.Ping)
	if migrate {
		if err := waitClickHouse(ctx, store, log); err != nil {
			return err
		}
		if err := store.Migrate(ctx); err != nil {
			return err
		}
	}
	p := processors.New(conn, store, tax, cfg, log)
	p.Metrics = tel.Processor()
	p.Privacy = pseudo
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go tax.Watch(wctx, cfg.Tagging.ReloadInterval.D(), log)
	log.Info("processing", "nats", cfg.ShowNATSURL(), "clickhouse", cfg.ShowClickHouseDSN(), "consumer", cfg.NATS.Consumer.Name, "taxonomy", tax.Current().Version, "once", once)
	err = p.Run(ctx, once)
	log.Info("processor stopped", "received", p.Stats.Received.Load(), "inserted", p.Stats.Inserted.Load(), "dead_lettered", p.Stats.DeadLettered.Load(), "insert_errors", p.Stats.InsertErrors.Load())
	return err
}

// waitClickHouse waits for the server to answer, so a processor started
// before its database does not exit.
func waitClickHouse(ctx context.Context, store *sink.Store, log *slog.Logger) error {
	for i := 0; ; i++ {
		err := store.Ping(ctx)
		if err == nil {
			return nil
		}
		if i%10 == 0 {
			log.Warn("waiting for ClickHouse", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// loadTaxonomy loads the configured taxonomy for processing: compiled,
// versioned, and reloadable.
func loadTaxonomy(cfg *config.Config) (*processors.Taxonomy, error) {
	return processors.LoadTaxonomy(cfg.Taxonomy, processors.Compile(taggerOptions(cfg)))
}

func loadTagger(cfg *config.Config) (*tagger.Tagger, error) {
	tx, err := tagger.LoadTaxonomy(cfg.Taxonomy)
	if err != nil {
		return nil, err
	}
	return tagger.Compile(tx, taggerOptions(cfg))
}

// detector is the one language detector of the process: its models take a
// tenth of a second and some 15 MB to load.
var detector = sync.OnceValue(lang.New)

// taggerOptions are the tagger's options from the configuration: sentiment
// thresholds and language detection.
func taggerOptions(cfg *config.Config) tagger.Options {
	return tagger.Options{
		Thresholds: sentiment.Thresholds{Negative: cfg.Tagging.Sentiment.Negative, Positive: cfg.Tagging.Sentiment.Positive},
		Lang:       detector().Detect,
	}
}

// UpCmd is `govlisten up`.
type UpCmd struct {
	NATSFlag
	ClickHouseFlag
	HTTPAddr string  `name:"http-addr" help:"Serve /metrics, /healthz and /readyz on HOST:PORT (overrides http.addr; env GOVLISTEN_HTTP_ADDR). Default 127.0.0.1:8080; port 0 picks a free one." placeholder:"HOST:PORT" default:""`
	DataDir  string  `help:"Directory for the embedded NATS store and the private ClickHouse (overrides data_dir)." placeholder:"DIR"`
	SimRate  float64 `help:"With no sources configured, up collects from built-in API simulators producing this many items per second per platform." default:"20"`
}

// Run runs the embedded default until interrupted.
func (c *UpCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag, HTTPAddrFlag{c.HTTPAddr})
	if err != nil {
		return err
	}
	if c.DataDir != "" {
		cfg.DataDir = c.DataDir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	// One HTTP server and one mux for the whole process, up first so that
	// /healthz answers while the rest starts: the dashboard mounts here too.
	if cfg.HTTP.Addr == "" {
		cfg.HTTP.Addr = DefaultHTTPAddr
	}
	tel := telemetry.New(log)
	mux := http.NewServeMux()
	tel.Mount(mux)
	srv, err := serveMux(ctx, cfg.HTTP.Addr, tel, mux, log)
	if err != nil {
		return fmt.Errorf("%w (set --http-addr or http.addr to another address)", err)
	}
	defer srv.Close()
	if cfg.NATS.URL == "" {
		store := cfg.NATS.Embedded.StoreDir
		if store == "" {
			store = filepath.Join(cfg.DataDir, "nats")
		}
		ns, err := bus.StartEmbedded(cfg, store)
		if err != nil {
			return err
		}
		defer ns.Shutdown()
		cfg.NATS.URL = ns.URL()
		log.Info("embedded NATS with JetStream", "url", ns.URL(), "store", store)
	}
	if cfg.ClickHouse.DSN == "" {
		bin, err := chlocal.FindBinary(cfg.ClickHouse.Server)
		if err != nil {
			return fmt.Errorf("no clickhouse.dsn configured and %w", err)
		}
		dir := filepath.Join(cfg.DataDir, "clickhouse")
		ch, err := chlocal.Start(ctx, bin, dir, 0)
		if err != nil {
			return err
		}
		defer ch.Stop()
		cfg.ClickHouse.DSN = ch.DSN("govlisten")
		_ = os.WriteFile(filepath.Join(cfg.DataDir, "clickhouse.dsn"), []byte(cfg.ClickHouse.DSN+"\n"), 0o640)
		log.Info("private ClickHouse started", "dsn", cfg.ClickHouse.DSN, "dir", dir, "query", fmt.Sprintf("clickhouse-client --port %d -d govlisten", ch.TCPPort))
	}
	getenv := os.Getenv
	if len(cfg.Sources) == 0 {
		// No sources: collect from the built-in simulators, so a newcomer
		// sees the whole pipeline live with no credentials.
		sims, err := startSimulators(ctx, c.SimRate, 1, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
		if err != nil {
			return err
		}
		for _, s := range sims {
			switch s.platform {
			case "twitter":
				cfg.Twitter.BaseURL = s.url
			case "youtube":
				cfg.YouTube.BaseURL = s.url + "/"
			case "facebook":
				cfg.Facebook.BaseURL = s.url
			}
			log.Info("simulator", "platform", s.platform, "url", s.url)
		}
		cfg.Sources = demoSources()
		// The simulated API has no daily quota, and its comments arrive far
		// faster than a real channel's: a short reply look-back keeps each
		// pass quick.
		cfg.YouTube.DailyQuotaUnits = 1_000_000_000
		cfg.YouTube.ReplyLookback = config.Duration(time.Minute)
		getenv = func(k string) string {
			switch k {
			case cfg.Twitter.BearerTokenEnv, cfg.YouTube.APIKeyEnv, cfg.Facebook.AccessTokenEnv:
				return "simulator"
			}
			return os.Getenv(k)
		}
	}
	log.Info("govlisten up: publish more with `govlisten import --nats " + cfg.NATS.URL + " FILE`; Ctrl-C stops")
	// The schema first: the collectors' ledger writes to it.
	store, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	// The dashboard joins /metrics, /healthz and /readyz on the one mux.
	if err := mountDashboard(mux, cfg, store, log); err != nil {
		return err
	}
	log.Info("dashboard", "role", "up", "url", "http://"+srv.Addr()+"/", "auth", cfg.HTTP.Auth.Mode)
	errs := make(chan error, 4)
	pctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	go func() { // settling, as serve does; a failed run is retried at the next tick
		settleLoop(pctx, store, cfg.Rollups.SettleEvery.D(), log)
		<-pctx.Done()
		errs <- nil
	}()
	go func() { errs <- runProcessor(pctx, cfg, log, false, false, tel) }()
	go func() { errs <- runCollectors(pctx, cfg, getenv, log, tel) }()
	go func() { // alerts failing to start is logged, never a reason to stop up
		if err := alerts.Run(pctx, store, cfg, log); err != nil {
			log.Error("alerts not running", "err", err)
		}
		<-pctx.Done()
		errs <- nil
	}()
	err = <-errs
	for range 3 {
		stopAll()
		if err2 := <-errs; err == nil {
			err = err2
		}
	}
	return err
}

// runCollectors runs the scheduler until ctx ends, counting in tel.
func runCollectors(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger, tel *telemetry.Telemetry) error {
	tel.Health.Require("nats")
	conn, err := openBus(ctx, cfg, "collect", 30*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	tel.Health.Set("nats", telemetry.NATSReady(conn.NC))
	var recorder collectors.RunRecorder
	if st := openLedger(ctx, cfg, log); st != nil {
		defer st.Close()
		recorder = st
	}
	cols, err := buildCollectors(ctx, conn, cfg, getenv, log, tel)
	if err != nil {
		return err
	}
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, cols, recorder, log)
	if err != nil {
		return err
	}
	sched.Instrument(tel)
	return sched.Run(ctx)
}

// demoSources are the sources `up` collects from the simulators: a search
// and a department's mention timeline on X, a department's YouTube channel
// and its Facebook page, each naming the department's own account.
func demoSources() []config.Source {
	every := config.Duration(15 * time.Second)
	dwp := twitter.SimAccounts()[0]
	yt := youtube.SimSources()[0]
	yt.Name, yt.Every, yt.MaxPages = "demo-youtube-channel", every, 1000
	return []config.Source{
		{Name: "demo-x-search", Platform: "twitter", Kind: "search", Query: `(@DWP OR "Universal Credit" OR HMRC OR NHS) -is:retweet`, Every: every},
		{Name: "demo-x-mentions", Platform: "twitter", Kind: "mentions", UserID: dwp.ID, Own: []string{dwp.ID}, Every: every, Department: "dwp"},
		yt,
		{Name: "demo-facebook-page", Platform: "facebook", Kind: "page_posts", PageID: "100000000000001", Every: every, Department: "dfe"},
	}
}
