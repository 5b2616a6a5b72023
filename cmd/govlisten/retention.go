package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/purge"
)

// RetentionCmd is `govlisten retention`.
type RetentionCmd struct {
	Apply RetentionApplyCmd `cmd:"" help:"Drop the monthly partitions older than retention.months from every table."`
}

// RetentionApplyCmd is `govlisten retention apply`.
type RetentionApplyCmd struct {
	ClickHouseFlag
	Months *int `help:"Months to keep, counting the current one (overrides retention.months; 0 keeps everything)." placeholder:"N"`
	DryRun bool `help:"Show what would be dropped and drop nothing."`
}

// Help explains what goes.
func (c *RetentionApplyCmd) Help() string {
	return "Keeps the last N months, counting the current one (UTC): with N = 3 in June, April, May and June stay and everything posted before April goes. " +
		"Every table of the database partitioned by month (toYYYYMM) loses its older partitions with ALTER TABLE ... DROP PARTITION: mentions, its rollups mentions_daily and mentions_hourly, collection_runs, alerts, and any table added later; tables partitioned otherwise are listed as skipped. " +
		"Dropping a partition is immediate and cannot be undone; run it from cron or a systemd timer once a day (it is idempotent). " +
		"retention.months 0 (the default) keeps everything, and the command then refuses to run."
}

// Run drops.
func (c *RetentionApplyCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.ClickHouseFlag)
	if err != nil {
		return err
	}
	months := cfg.Retention.Months
	if c.Months != nil {
		months = *c.Months
	}
	if months < 0 {
		return fmt.Errorf("--months %d: must not be negative", months)
	}
	if months == 0 {
		return errors.New("retention.months is 0, which keeps everything: nothing to do. Set retention.months (or GOVLISTEN_RETENTION_MONTHS, or --months N) to the number of months to keep")
	}
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	plan, err := purge.PlanRetention(ctx, store, months, time.Now())
	if err != nil {
		return err
	}
	verb := "dropped"
	if c.DryRun {
		verb = "would drop"
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	var rows, bytes uint64
	report := func(p purge.Partition) {
		rows += p.Rows
		bytes += p.Bytes
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d rows\t%s\n", verb, p.Table, p.Month, p.Rows, humanBytes(p.Bytes))
	}
	if c.DryRun {
		for _, p := range plan.Drop {
			report(p)
		}
	} else {
		err = purge.DropPartitions(ctx, store, plan, report)
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(tw, "skipped\t%s\t%s\n", s.Table, s.Reason)
	}
	_ = tw.Flush()
	if plan.Sharded {
		fmt.Println("note: this database is sharded (Distributed tables): the partitions above are this server's shard; replicas of the shard follow, other shards do not. Run retention against one server of every shard.")
	}
	fmt.Printf("kept %d months (%d and later) of %s; %s %d partitions, %d rows, %s\n",
		months, plan.Oldest, store.DB(), verb, len(plan.Drop), rows, humanBytes(bytes))
	if err != nil {
		return err
	}
	log.Info("retention applied", "database", store.DB(), "months", months, "oldest_kept", plan.Oldest, "partitions", len(plan.Drop), "rows", rows, "dry_run", c.DryRun)
	return nil
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
