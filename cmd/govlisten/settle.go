package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
)

// SettleCmd is `govlisten settle`.
type SettleCmd struct {
	ClickHouseFlag
	Migrate bool `help:"Apply the schema before starting." default:"true" negatable:""`
}

// Help is shown by `govlisten settle --help` after the flags.
func (c *SettleCmd) Help() string {
	return `Counts every day that has settled (it is over, and no mention of it was
stored in the last 15 minutes) and has not been counted since its last
change, from mentions FINAL, into table mentions_daily_counts: the
dashboard, the briefing and the alerts then sum those counts for settled
days instead of merging distinct-mention states, which makes long ranges
fast (30 days of 10 million mentions: see docs/performance.md). A day that
gets a new mention afterwards (late, redelivered, re-tagged) is read from
the states again until it is counted anew, so the figures never wait for
this command.

serve and up run it every rollups.settle_every (default 10m); run it by
hand after loading or importing old data, or from cron when no serve runs:
  cron: */10 * * * * /usr/local/bin/govlisten settle --config /etc/govlisten/govlisten.yaml`
}

// Run settles once and prints what it counted.
func (c *SettleCmd) Run(ctx context.Context, g *Globals) error {
	cfg, _, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, c.Migrate)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	done, err := store.Settle(ctx, time.Now())
	for _, s := range done {
		again := ""
		if s.Again {
			again = " (again: it had changed)"
		}
		fmt.Printf("%s: %d mentions counted in %s%s\n", s.Day.Format(time.DateOnly), s.Mentions, s.Took.Round(time.Millisecond), again)
	}
	if err != nil {
		return err
	}
	fmt.Printf("settled %d day(s) in %s\n", len(done), time.Since(start).Round(time.Millisecond))
	return nil
}

// settleLoop settles every interval until ctx ends (serve and up). A
// failed run is logged and tried again at the next tick: until then the
// dashboard reads the days from the states, as it reads any unsettled day.
func settleLoop(ctx context.Context, store *sink.Store, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		log.Info("settling off (rollups.settle_every is 0): long ranges are read from the distinct-mention states")
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		done, err := store.Settle(ctx, time.Now())
		if len(done) > 0 {
			var n uint64
			for _, s := range done {
				n += s.Mentions
			}
			log.Info("settled days", "days", len(done), "first", done[0].Day.Format(time.DateOnly),
				"last", done[len(done)-1].Day.Format(time.DateOnly), "mentions", n, "took", time.Since(start).Round(time.Millisecond))
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("settling failed; trying again at the next tick", "err", err, "every", every)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
