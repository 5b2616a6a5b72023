package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/govlisten/govlisten/alerts"
	"github.com/govlisten/govlisten/alerts/webhook"
	"github.com/govlisten/govlisten/briefing"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// ReportCmd is `govlisten report`.
type ReportCmd struct {
	ClickHouseFlag
	Date       string `help:"The UTC day to brief on, YYYY-MM-DD. Default: yesterday (the last complete day)." placeholder:"YYYY-MM-DD"`
	Department string `help:"One department's slug: its numbers, its topics and its mentions. Default: all departments." placeholder:"SLUG"`
	Format     string `help:"html (one self-contained page), md (plain Markdown) or pdf (one A4 page)." enum:"html,md,pdf" default:"html"`
	Out        string `help:"File to write, or an existing directory to write briefing-DATE[-SLUG].FORMAT in; - writes to stdout. Default: report.dir, else <data_dir>/reports." placeholder:"FILE|DIR"`
	Post       bool   `help:"Also post a summary to the webhook held by report.webhook_url_env (default GOVLISTEN_REPORT_WEBHOOK_URL) or report.webhook_url_file, as report.webhook_format (slack or teams)."`
}

// Help is shown by `govlisten report --help` after the flags.
func (c *ReportCmd) Help() string {
	return `Writes the daily briefing for one UTC day: headline numbers against the day
before and the 7 days before, the busiest departments (or the department's
topics), the three biggest movements, the day's spikes, and the most-engaged
and negative mentions, quoted with links. It prints the file written.

Schedule it once a day, after midnight UTC, for the day just over:

  cron (crontab -e):
    15 6 * * * /usr/local/bin/govlisten report --config /etc/govlisten/govlisten.yaml --format pdf --post

  systemd timer (govlisten-report.timer, with a govlisten-report.service of
  Type=oneshot and the same ExecStart):
    [Timer]
    OnCalendar=*-*-* 06:15:00 UTC
    Persistent=true

Exit status 1 when the briefing could not be written, or when --post was
given and the webhook did not accept the summary (the file is written).`
}

// Run writes the briefing.
func (c *ReportCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	day := time.Now().UTC().AddDate(0, 0, -1)
	if c.Date != "" {
		if day, err = time.Parse(time.DateOnly, c.Date); err != nil {
			return fmt.Errorf("--date %q: want YYYY-MM-DD", c.Date)
		}
	}
	tx, err := tagger.LoadTaxonomy(cfg.Taxonomy)
	if err != nil {
		return err
	}
	if c.Department != "" && !slices.ContainsFunc(tx.Departments, func(d tagger.Category) bool { return d.Slug == c.Department }) {
		return fmt.Errorf("--department %q is not a department of the taxonomy", c.Department)
	}
	var hook *webhook.Client
	if c.Post { // before any work: a missing webhook fails at once
		if hook, err = reportWebhook(cfg); err != nil {
			return err
		}
	}
	names, err := alerts.Names(cfg.Taxonomy)
	if err != nil {
		return err
	}
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	b, err := briefing.Build(ctx, store, briefing.Options{
		Date: day, Department: c.Department, Names: names, MinMentions: cfg.Alerts.MinMentions, Factor: cfg.Alerts.Factor,
	})
	if err != nil {
		return err
	}
	path, err := c.write(cfg, b)
	if err != nil {
		return err
	}
	if path != "-" {
		fmt.Println(path)
	}
	log.Info("briefing written", "date", b.Date.Format(time.DateOnly), "department", c.Department, "format", c.Format, "file", path,
		"mentions", b.Today.Mentions, "spikes", len(b.Spikes)+b.SpikesLeft)
	if hook != nil {
		name := ""
		if path != "-" {
			name = filepath.Base(path)
		}
		if err := hook.Post(ctx, b.Message(name)); err != nil {
			return fmt.Errorf("posting the briefing's summary: %w", err)
		}
		log.Info("briefing summary posted", "webhook", hook.String(), "format", hook.Format())
	}
	return nil
}

// reportWebhook is the client for report.webhook_url_env / _file.
func reportWebhook(cfg *config.Config) (*webhook.Client, error) {
	u, err := config.Secret(os.Getenv, cfg.Report.WebhookURLEnv, cfg.Report.WebhookURLFile)
	if err != nil {
		return nil, fmt.Errorf("report webhook (report.webhook_url_file): %w", err)
	}
	if u == "" {
		return nil, fmt.Errorf("--post: no webhook URL: set %s or report.webhook_url_file", cfg.Report.WebhookURLEnv)
	}
	hook, err := webhook.New(u, cfg.Report.WebhookFormat, 0)
	if err != nil {
		return nil, fmt.Errorf("report webhook: %w", err)
	}
	return hook, nil
}

// write renders the briefing where --out says and returns the path ("-"
// for stdout). A file is written beside its final name and renamed, so a
// reader never sees half a briefing.
func (c *ReportCmd) write(cfg *config.Config, b *briefing.Briefing) (string, error) {
	if c.Out == "-" {
		return "-", b.Render(os.Stdout, c.Format)
	}
	path := c.Out
	if path == "" {
		dir := cfg.Report.Dir
		if dir == "" {
			dir = filepath.Join(cfg.DataDir, "reports")
		}
		path = filepath.Join(dir, b.FileName(c.Format))
	} else if st, err := os.Stat(path); (err == nil && st.IsDir()) || strings.HasSuffix(path, string(os.PathSeparator)) {
		path = filepath.Join(path, b.FileName(c.Format))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("report directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("writing the briefing: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := b.Render(tmp, c.Format); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing the briefing: %w", err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing the briefing: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("writing the briefing: %w", err)
	}
	return path, nil
}
