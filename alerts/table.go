package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// epoch is notified_at of an alert not sent yet.
var epoch = time.Unix(0, 0).UTC()

const alertColumns = "id, period, scope, slug, period_start, mentions, baseline, stddev, negative_share, baseline_negative_share, " +
	"top_terms, mention_ids, explanation, detected_at, notified_at"

// insert stores alerts in one batch (a batch insert naming its columns:
// the only insert ClickHouse 18.16 takes from clickhouse-go).
func (d *Detector) insert(ctx context.Context, as []Alert) (err error) {
	if len(as) == 0 {
		return nil
	}
	if d.Store.Cluster() != "" {
		// Through the Distributed table, return only once the shard has
		// the row, so the next read (this run's, or another detector's)
		// sees "sent".
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	}
	batch, err := d.Store.Conn().PrepareBatch(ctx, "INSERT INTO "+d.Store.DB()+".alerts ("+alertColumns+")")
	if err != nil {
		return fmt.Errorf("storing %d alerts: %w", len(as), err)
	}
	defer func() {
		if err != nil {
			_ = batch.Abort()
		}
	}()
	for _, a := range as {
		notified := a.NotifiedAt
		if notified.IsZero() {
			notified = epoch
		}
		if err := batch.Append(a.ID, string(a.Period), string(a.Scope), a.Slug, a.Start.UTC(), a.Mentions, a.Baseline, a.Stddev,
			a.NegativeShare, a.BaselineNegativeShare, nonNil(a.TopTerms), nonNil(a.MentionIDs), a.Explanation,
			a.DetectedAt.UTC(), notified.UTC()); err != nil {
			return fmt.Errorf("storing alert %s: %w", a.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("storing %d alerts: %w", len(as), err)
	}
	return nil
}

// Stored reads the alerts whose period started in [from, to), as they are
// now (FINAL: the newest row of each), in order of start, period, scope and
// slug.
func (d *Detector) Stored(ctx context.Context, from, to time.Time) ([]Alert, error) {
	return d.query(ctx, "WHERE period_start >= ? AND period_start < ? ORDER BY period_start, period, scope, slug", from.UTC(), to.UTC())
}

// reload reads one alert as it is now; ok is false when it is not stored.
func (d *Detector) reload(ctx context.Context, a *Alert) (Alert, bool, error) {
	as, err := d.query(ctx, "WHERE period_start = ? AND id = ?", a.Start.UTC(), a.ID)
	if err != nil || len(as) == 0 {
		return Alert{}, false, err
	}
	return as[0], true, nil
}

func (d *Detector) query(ctx context.Context, where string, args ...any) ([]Alert, error) {
	rows, err := d.Store.Conn().Query(ctx, "SELECT "+alertColumns+" FROM "+d.Store.DB()+".alerts FINAL "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var (
			a             Alert
			period, scope string
		)
		if err := rows.Scan(&a.ID, &period, &scope, &a.Slug, &a.Start, &a.Mentions, &a.Baseline, &a.Stddev, &a.NegativeShare,
			&a.BaselineNegativeShare, &a.TopTerms, &a.MentionIDs, &a.Explanation, &a.DetectedAt, &a.NotifiedAt); err != nil {
			return nil, fmt.Errorf("reading alerts: %w", err)
		}
		a.Period, a.Scope = Period(period), Scope(scope)
		a.Start, a.DetectedAt, a.NotifiedAt = a.Start.UTC(), a.DetectedAt.UTC(), a.NotifiedAt.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading alerts: %w", err)
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
