package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/lang"
	"github.com/govlisten/govlisten/processors/sentiment"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
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

func (f ClickHouseFlag) apply(cfg *config.Config) {
	if f.ClickHouse != "" {
		cfg.ClickHouse.DSN = f.ClickHouse
	}
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
}

// Run applies the schema.
func (c *MigrateCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c)
	if err != nil {
		return err
	}
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	log.Info("schema applied", "clickhouse", cfg.ShowClickHouseDSN(), "database", store.DB())
	return nil
}

// ProcessCmd is `govlisten process`.
type ProcessCmd struct {
	NATSFlag
	ClickHouseFlag
	Once         bool          `help:"Drain what is on the stream, then exit 0 once the consumer has nothing pending."`
	BatchSize    int           `help:"Most mentions per ClickHouse insert (overrides process.batch_size)." placeholder:"N"`
	BatchTimeout time.Duration `help:"Flush a partial batch after this long (overrides process.batch_timeout)." placeholder:"DURATION"`
	Taxonomy     string        `help:"Taxonomy file (overrides taxonomy); default: the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
	Migrate      bool          `help:"Apply the schema before starting." default:"true" negatable:""`
}

// Run processes.
func (c *ProcessCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	if c.BatchSize > 0 {
		cfg.Process.BatchSize = c.BatchSize
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
	return runProcessor(ctx, cfg, log, c.Once, c.Migrate)
}

// runProcessor connects to NATS and ClickHouse and runs one Processor.
func runProcessor(ctx context.Context, cfg *config.Config, log *slog.Logger, once, migrate bool) error {
	tax, err := loadTaxonomy(cfg)
	if err != nil {
		return err
	}
	conn, err := openBus(ctx, cfg, "process", 30*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	if migrate {
		if err := waitClickHouse(ctx, store, log); err != nil {
			return err
		}
		if err := store.Migrate(ctx); err != nil {
			return err
		}
	}
	p := processors.New(conn, store, tax, cfg, log)
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
	DataDir string  `help:"Directory for the embedded NATS store and the private ClickHouse (overrides data_dir)." placeholder:"DIR"`
	SimRate float64 `help:"With no sources configured, up collects from built-in API simulators producing this many items per second per platform." default:"20"`
}

// Run runs the embedded default until interrupted.
func (c *UpCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	if c.DataDir != "" {
		cfg.DataDir = c.DataDir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
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
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	err = store.Migrate(ctx)
	store.Close()
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	pctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	go func() { errs <- runProcessor(pctx, cfg, log, false, false) }()
	go func() { errs <- runCollectors(pctx, cfg, getenv, log) }()
	err = <-errs
	stopAll()
	if err2 := <-errs; err == nil {
		err = err2
	}
	return err
}

// runCollectors runs the scheduler until ctx ends.
func runCollectors(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger) error {
	conn, err := openBus(ctx, cfg, "collect", 30*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	var recorder collectors.RunRecorder
	if st := openLedger(ctx, cfg, log); st != nil {
		defer st.Close()
		recorder = st
	}
	cols, err := buildCollectors(ctx, conn, cfg, getenv, log)
	if err != nil {
		return err
	}
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, cols, recorder, log)
	if err != nil {
		return err
	}
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
