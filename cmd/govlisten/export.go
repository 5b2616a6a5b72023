package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/export"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// ExportCmd is `govlisten export`.
type ExportCmd struct {
	ClickHouseFlag
	Since        string `help:"Start of the range, included: YYYY-MM-DD (UTC midnight) or an RFC 3339 time." required:"" placeholder:"DATE|TIME"`
	Until        string `help:"End of the range, excluded: YYYY-MM-DD (UTC midnight) or an RFC 3339 time. Default: now." placeholder:"DATE|TIME"`
	Department   string `help:"Only mentions tagged with this department slug." placeholder:"SLUG"`
	Topic        string `help:"Only mentions tagged with this topic slug." placeholder:"SLUG"`
	Platform     string `help:"Only mentions from this platform: twitter, youtube or facebook." placeholder:"PLATFORM"`
	Format       string `help:"csv or jsonl." enum:"csv,jsonl" default:"jsonl"`
	Output       string `help:"File to write (written beside it and renamed when complete); - for stdout." short:"o" default:"-" placeholder:"FILE"`
	Raw          bool   `help:"Add each mention's original platform JSON (column raw)."`
	KeepFormulas bool   `help:"CSV: write cells that start with = + - @ as they are, without the apostrophe that stops a spreadsheet running them."`
	Progress     string `help:"Progress bar on stderr: auto (on a terminal), always, never." enum:"auto,always,never" default:"auto"`
}

// Help explains what is written.
func (c *ExportCmd) Help() string {
	return "Streams the stored mentions posted in [--since, --until) as CSV or JSON Lines: one line per mention, its newest version (the mentions table after FINAL), with the columns of docs/schema.md under their names, ordered by day, platform and id. Read one day at a time, so memory stays small however long the range. Department and topic slugs are checked against the taxonomy."
}

// Run exports.
func (c *ExportCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	from, err := parseBound("--since", c.Since)
	if err != nil {
		return err
	}
	to := time.Now().UTC()
	if c.Until != "" {
		if to, err = parseBound("--until", c.Until); err != nil {
			return err
		}
	}
	o := export.Options{
		Filter:       analytics.Filter{From: from, To: to, Department: c.Department, Topic: c.Topic, Platform: c.Platform},
		Format:       c.Format,
		Raw:          c.Raw,
		KeepFormulas: c.KeepFormulas,
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if c.Department != "" || c.Topic != "" {
		tx, err := tagger.LoadTaxonomy(cfg.Taxonomy)
		if err != nil {
			return err
		}
		isSlug := func(slug string) func(tagger.Category) bool {
			return func(c tagger.Category) bool { return c.Slug == slug }
		}
		if c.Department != "" && !slices.ContainsFunc(tx.Departments, isSlug(c.Department)) {
			return fmt.Errorf("--department %q is not a department of the taxonomy", c.Department)
		}
		if c.Topic != "" && !slices.ContainsFunc(tx.Topics, isSlug(c.Topic)) {
			return fmt.Errorf("--topic %q is not a topic of the taxonomy", c.Topic)
		}
	}
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()

	var out io.Writer = os.Stdout
	var tmp *os.File
	if c.Output != "-" {
		if tmp, err = os.CreateTemp(filepath.Dir(c.Output), "."+filepath.Base(c.Output)+".*"); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer os.Remove(tmp.Name()) // after the rename, nothing is there
		defer tmp.Close()
		out = tmp
	}
	if c.Progress == "always" || c.Progress == "auto" && term.IsTerminal(int(os.Stderr.Fd())) {
		total, err := export.Count(ctx, store.Conn(), store.DB(), o)
		if err != nil {
			return err
		}
		bar := progressbar.NewOptions64(int64(total), progressbar.OptionSetDescription("export"), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("mentions"), progressbar.OptionThrottle(100*time.Millisecond))
		defer bar.Finish()
		o.Progress = func(n int64) { _ = bar.Set64(n) }
	}
	n, err := export.Write(ctx, store.Conn(), store.DB(), o, out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		if err := os.Rename(tmp.Name(), c.Output); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
	}
	log.Info("exported", "mentions", n, "format", c.Format, "since", from.Format(time.RFC3339), "until", to.Format(time.RFC3339), "output", c.Output)
	return nil
}

// parseBound reads YYYY-MM-DD (UTC midnight) or an RFC 3339 time.
func parseBound(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want YYYY-MM-DD or an RFC 3339 time such as 2026-11-20T09:00:00Z", flag, s)
	}
	return t.UTC(), nil
}
