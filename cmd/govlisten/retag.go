package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/govlisten/govlisten/processors/retag"
)

// RetagCmd is `govlisten retag`.
type RetagCmd struct {
	ClickHouseFlag
	Since    time.Time `help:"First day to re-tag (YYYY-MM-DD, UTC)." required:"" format:"2006-01-02" placeholder:"DATE"`
	Until    time.Time `help:"Last day to re-tag, included (YYYY-MM-DD, UTC); default today." format:"2006-01-02" placeholder:"DATE"`
	Taxonomy string    `help:"Taxonomy file (overrides taxonomy); default: the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
	PageSize int       `help:"Mentions read, tagged and stored at a time." default:"10000" placeholder:"N"`
	State    string    `help:"Progress file, for resuming after a crash; default <data_dir>/retag.state.json." placeholder:"FILE"`
	Restart  bool      `help:"Start from --since even if the progress file says an earlier run got further."`
	Progress string    `help:"Progress bar: auto (on a terminal), always, never." enum:"auto,always,never" default:"auto"`
}

// Help explains resuming.
func (c *RetagCmd) Help() string {
	return "Reads the mentions posted in the range from ClickHouse, tags each with the current taxonomy and stores it again; the new row replaces the old (ReplacingMergeTree keeps the newest processed_at). Mentions the current taxonomy already tagged are skipped. Progress is saved after every page: run the same command again after a crash and it resumes where it stopped (same range and taxonomy; --restart starts over). At the end the daily and hourly rollups of every month touched are rebuilt. Processors may keep running meanwhile."
}

// Run re-tags.
func (c *RetagCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	if c.Taxonomy != "" {
		cfg.Taxonomy = c.Taxonomy
	}
	until := c.Until
	if until.IsZero() {
		until = time.Now().UTC()
	}
	state := c.State
	if state == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return fmt.Errorf("data_dir: %w", err)
		}
		state = filepath.Join(cfg.DataDir, "retag.state.json")
	}
	tax, err := loadTaxonomy(cfg)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	opts := retag.Options{Since: c.Since, Until: until, PageSize: c.PageSize, StateFile: state, Restart: c.Restart}
	if c.Progress == "always" || c.Progress == "auto" && term.IsTerminal(int(os.Stderr.Fd())) {
		total, err := store.CountDays(ctx, c.Since, until)
		if err != nil {
			return err
		}
		bar := progressbar.NewOptions64(int64(total), progressbar.OptionSetDescription("retag"), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("mentions"), progressbar.OptionThrottle(100*time.Millisecond))
		defer bar.Finish()
		opts.Progress = func(read int64) { _ = bar.Set64(read) }
	}
	log.Info("re-tagging", "since", c.Since.Format(time.DateOnly), "until", until.Format(time.DateOnly), "taxonomy", tax.Current().Version, "state", state)
	s, err := retag.Run(ctx, store, tax, opts)
	if s != nil {
		log.Info("re-tag "+map[bool]string{true: "stopped", false: "done"}[err != nil], "read", s.Read, "retagged", s.Retagged, "changed", s.Changed, "resumed", s.Resumed)
	}
	return err
}
