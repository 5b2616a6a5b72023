// Command govlisten is the one binary of govlisten: social listening for
// public-sector communications teams. Each role (collect, process, serve,
// up) and each operation (migrate, import, rules, dlq) is a subcommand.
//
// The CLI is declared with github.com/alecthomas/kong: commands and flags
// are plain structs with tags, so help text, defaults and validation live
// beside the field they describe, and every subcommand explains itself with
// --help. Configuration layering (defaults, --config file, GOVLISTEN_*
// variables, flags) is the config package's; flags here only override it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/govlisten/govlisten/config"
)

// Globals are the flags every command accepts.
type Globals struct {
	Config   string `help:"Configuration file (YAML)." placeholder:"FILE" env:"GOVLISTEN_CONFIG"`
	LogLevel string `help:"Log level: debug, info, warn, error (overrides log.level)." placeholder:"LEVEL" enum:",debug,info,warn,error" default:""`
}

// CLI is the command tree.
type CLI struct {
	Globals

	Up       UpCmd       `cmd:"" help:"Run everything in one process: in-process NATS, ClickHouse (found or started), migrate, processors and collectors (from built-in API simulators when no sources are configured)."`
	Migrate  MigrateCmd  `cmd:"" help:"Apply the ClickHouse schema, idempotently."`
	Import   ImportCmd   `cmd:"" help:"Publish mentions from JSON Lines files onto the bus."`
	Process  ProcessCmd  `cmd:"" help:"Consume the bus, tag each mention and load it into ClickHouse."`
	Collect  CollectCmd  `cmd:"" help:"Collect mentions from the configured sources onto the bus, on schedule or once."`
	Sources  SourcesCmd  `cmd:"" help:"List the configured sources with their checkpoint, last run and last error."`
	Status   StatusCmd   `cmd:"" help:"Summarise the running pipeline from NATS and ClickHouse: stream depth, consumer lag, DLQ, sources, rows stored."`
	Simulate SimulateCmd `cmd:"" help:"Serve simulators of the X, YouTube and Facebook APIs on loopback."`
	Rules    RulesCmd    `cmd:"" help:"Work with the taxonomy rules."`
	Config   ConfigCmd   `cmd:"" help:"Check or show the configuration."`
	Retag    RetagCmd    `cmd:"" help:"Tag stored mentions again with the current taxonomy (resumable)."`
	DLQ      DLQCmd      `cmd:"" name:"dlq" help:"List or replay dead-lettered messages."`
	Bench    BenchCmd    `cmd:"" help:"Measure collection, the tag step, process against a raw baseline, publish-to-row latency and queries over 10 million mentions, each beside a same-run baseline (bench all)."`
	Serve    ServeCmd    `cmd:"" help:"Serve the dashboard (volume, sentiment, spikes, negative mentions, unanswered questions, response times, alerts) and /api/summary."`
	Export   ExportCmd   `cmd:"" help:"Stream stored mentions of a period (by department, topic, platform) as CSV or JSON Lines."`
	Report   ReportCmd   `cmd:"" help:"Write the daily briefing (HTML, Markdown or a one-page PDF) for one day; --post sends its summary to a Slack or Teams webhook."`
	Settle   SettleCmd   `cmd:"" help:"Count the days that have settled exactly, so long dashboard ranges sum numbers instead of merging distinct-mention states (serve and up do it every rollups.settle_every)."`
	Alerts   AlertsCmd   `cmd:"" help:"Find volume spikes per department and topic, store them in table alerts and post each new one once to a Slack or Teams webhook."`

	// Data protection: retention and erasure.
	Retention RetentionCmd `cmd:"" help:"Drop months of data older than retention.months from every table."`
	Erase     EraseCmd     `cmd:"" help:"Remove one author's mentions from ClickHouse and the streams (a data-protection erasure request)."`
}

// exitCode is an error that sets the process's exit status without being
// printed again (the command already reported what went wrong).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("govlisten"),
		kong.Description("Social listening for public-sector communications: collect public mentions from X, YouTube and Facebook, tag them by department, topic and sentiment, and load them into ClickHouse.\n\nEvery value of the configuration file can be set with a GOVLISTEN_* variable (nats.url is GOVLISTEN_NATS_URL); flags override both."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		parser.Errorf("%s", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(&cli.Globals)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	default:
		fmt.Fprintln(os.Stderr, "govlisten:", err)
		return 1
	}
}

// load reads the configuration and sets up logging.
func (g *Globals) load() (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(g.Config, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	if g.LogLevel != "" {
		cfg.Log.Level = g.LogLevel
	}
	return &cfg, newLogger(cfg.Log), nil
}

// flags is a group of flags that override the configuration.
type flags interface{ apply(*config.Config) }

// loadWith reads the configuration, then lets each group of flags override it.
func (g *Globals) loadWith(fs ...flags) (*config.Config, *slog.Logger, error) {
	cfg, log, err := g.load()
	if err != nil {
		return nil, nil, err
	}
	for _, f := range fs {
		f.apply(cfg)
	}
	return cfg, log, nil
}

// newLogger logs text on a terminal and JSON otherwise (format auto).
func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := c.Format
	if format == "auto" {
		format = "json"
		if term.IsTerminal(int(os.Stderr.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
