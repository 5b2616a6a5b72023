package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/processors"
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
	tg, err := loadTagger(cfg)
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
	p := processors.New(conn, store, tg, cfg, log)
	log.Info("processing", "nats", cfg.ShowNATSURL(), "clickhouse", cfg.ShowClickHouseDSN(), "consumer", cfg.NATS.Consumer.Name, "once", once)
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

func loadTagger(cfg *config.Config) (*tagger.Tagger, error) {
	tx, err := tagger.LoadTaxonomy(cfg.Taxonomy)
	if err != nil {
		return nil, err
	}
	return tagger.New(tx)
}

// UpCmd is `govlisten up`.
type UpCmd struct {
	NATSFlag
	ClickHouseFlag
	DataDir string `help:"Directory for the embedded NATS store and the private ClickHouse (overrides data_dir)." placeholder:"DIR"`
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
	log.Info("govlisten up: publish with `govlisten import --nats " + cfg.NATS.URL + " FILE`; Ctrl-C stops")
	return runProcessor(ctx, cfg, log, false, true)
}
