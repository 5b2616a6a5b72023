package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/govlisten/govlisten/alerts"
)

// AlertsCmd is `govlisten alerts`.
type AlertsCmd struct {
	ClickHouseFlag
	Once    bool          `help:"Look once, store and post what is new, and exit: exit status 1 when a post failed (it is retried by the next run)."`
	Since   time.Duration `help:"Judge the complete hours and days that started within this long before now (always at least the last complete hour and day)." default:"24h" placeholder:"DURATION"`
	Migrate bool          `help:"Apply the schema before starting." default:"true" negatable:""`
}

// Help is shown by `govlisten alerts --help` after the flags.
func (c *AlertsCmd) Help() string {
	return `Finds spikes per department and per topic, each against its own baseline:
an hour against the 12 hours before it, a day against the 14 days before it.
A complete period is a spike when its distinct mentions are at least
alerts.min_mentions, at least alerts.factor times the baseline's mean, and at
least the mean plus 3 standard deviations. Each spike is stored in table
alerts with its explanation (the words standing out, the most-engaged
mentions, the negative share against the baseline's) and posted once to the
webhook held by alerts.webhook_url_env (default GOVLISTEN_ALERTS_WEBHOOK_URL)
or alerts.webhook_url_file, as alerts.format (slack or teams). Without a
webhook, alerts are stored only.

Runs every alerts.every until stopped, or once with --once:
  cron:    */5 * * * * /usr/local/bin/govlisten alerts --once --config /etc/govlisten/govlisten.yaml
  systemd: a service running "govlisten alerts --config /etc/govlisten/govlisten.yaml"

Run one detector: two at once may, rarely, post the same alert twice.`
}

// Run looks for spikes once or on schedule.
func (c *AlertsCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	if !c.Once && cfg.Alerts.Every <= 0 {
		return fmt.Errorf("alerts.every is 0 (alerts off): set it, or run with --once")
	}
	if c.Since <= 0 {
		return fmt.Errorf("--since %s: must be positive", c.Since)
	}
	store, err := openStore(ctx, cfg, c.Migrate)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := alerts.New(store, cfg, os.Getenv, log)
	if err != nil {
		return err
	}
	d.Since = c.Since
	if !c.Once {
		return d.Loop(ctx, cfg.Alerts.Every.D())
	}
	res, err := d.RunOnce(ctx)
	log.Info("alerts run", "found", res.Found, "new", res.New, "posted", res.Posted, "pending", res.Pending, "webhook", d.Webhook != nil)
	return err
}
