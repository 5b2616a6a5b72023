// Package alerts finds spikes in the volume of mentions of each department
// and each topic, explains them, stores them in ClickHouse table alerts and
// posts each new one, once, to a Slack or Teams webhook.
//
// # The spike rule
//
// Every department and every topic is judged against its own baseline, per
// hour and per day, the way commercial listening tools do:
//
//   - hour: the distinct mentions of a slug in one complete UTC hour
//     (mentions_hourly_tags) against the 12 hours before it;
//   - day: the distinct mentions in one complete UTC day
//     (mentions_daily_tags) against the 14 days before it.
//
// With n the period's distinct mentions and b₁…b_W the baseline periods'
// (W = 12 or 14; a period with no row counts as 0, so an empty baseline is
// all zeros), mean μ = Σbᵢ/W and population standard deviation
// σ = √(Σ(bᵢ−μ)²/W), the period is a spike when all three hold:
//
//	n ≥ alerts.min_mentions   (default 20)
//	n ≥ alerts.factor × μ     (default 3)
//	n ≥ μ + 3σ
//
// The first keeps quiet slugs quiet, the second asks for a real multiple of
// the usual, the third ignores a slug whose volume is always jumpy. With an
// empty baseline (μ = σ = 0) a period is a spike when it reaches
// min_mentions: something new has started.
//
// Only complete periods are judged: an hour once it is over, a day once
// midnight UTC has passed. A run judges every complete period that started
// within --since (default 24h) and at least the last complete hour and day,
// so mentions that arrive late are judged again on the next run; a spike
// already stored is not found twice.
//
// # The explanation
//
// Each alert says why, in numbers: the negative share of the period against
// the baseline's (both from the rollups); the words most over-represented
// in the period's mention texts against the baseline's (see topTerms: a
// smoothed log-ratio of the share of texts containing the word, after
// dropping URLs, @handles, stopwords and numbers); and the most-engaged
// mentions of the period (likes + shares + replies, the department's own
// posts left out), as platform:id with their links. The texts are a
// uniform sample of at most 2,000 period and 4,000 baseline mentions
// (cityHash64 of the id modulo a step the rollup's counts give, then
// LIMIT), so the cost of explaining one spike is bounded whatever the
// volume; they are read without FINAL, which a rare duplicate cannot move.
//
// # Never posted twice
//
// An alert's id is period:scope:slug:period-start (RFC 3339), and table
// alerts is a ReplacingMergeTree whose newest row (by detected_at) wins per
// key. A run:
//
//  1. detects the spikes of its window from the rollups;
//  2. reads the stored alerts of the window (FINAL) and stores only the
//     spikes not there yet, with notified_at = 1970-01-01 (not sent);
//  3. for each stored alert not yet sent, reads it again (FINAL) just
//     before posting, posts it, and once the webhook accepted it (2xx)
//     stores it again with notified_at set and detected_at one second past
//     both the clock and the previous row's, so the sent row wins.
//
// A webhook that fails (network error, timeout, non-2xx) leaves the alert
// unsent, and the run stops posting (the webhook is down): the next run
// posts it. An alert whose period leaves the run's window unsent (the
// webhook was down for longer than --since) stays in the table, unsent.
// Because the table is the record, a restart, or a second detector, sees
// what was sent; a spike found again keeps its first row and explanation.
// One detector in one process never posts an alert twice (runs are
// serialised). What remains:
//
//   - two detectors posting the same alert within one webhook round trip
//     of each other (both read "unsent" before either stored "sent") both
//     post it;
//   - a process killed between the webhook's answer and the store posts it
//     again after a restart (a stop on SIGTERM still stores it);
//   - on a replicated cluster, a replica that has not yet received the
//     "sent" row reads "unsent" (alerts are written through the Distributed
//     table synchronously, insert_distributed_sync, which narrows but does
//     not close that window across a shard's replicas).
//
// Run one detector (the alerts command, or serve/up on one host) to rule
// out the first and the last; the second is at-least-once by design: a
// spike is never lost, at worst announced twice.
//
// Detector and Run never log or return the webhook URL, which carries its
// token: messages name scheme and host only.
//
// Libraries: ClickHouse is read and written with clickhouse-go/v2, the
// project's driver (through sink.Store; batch inserts naming their columns,
// the only insert ClickHouse 18.16 takes from it); webhooks are posted by
// package alerts/webhook with the standard library. The rule needs a mean
// and a standard deviation and the terms a tokeniser and a log, so no
// statistics or text library is worth its weight here.
package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"github.com/govlisten/govlisten/alerts/webhook"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Period is how long the judged period is.
type Period string

// Periods.
const (
	Hour Period = "hour"
	Day  Period = "day"
)

// Len is the period's length.
func (p Period) Len() time.Duration {
	if p == Day {
		return 24 * time.Hour
	}
	return time.Hour
}

// Window is the number of periods before a period that form its baseline.
func (p Period) Window() int {
	if p == Day {
		return 14
	}
	return 12
}

// Floor is the start of the period t falls in (UTC).
func (p Period) Floor(t time.Time) time.Time { return t.UTC().Truncate(p.Len()) }

// Scope says what a slug is.
type Scope string

// Scopes.
const (
	Department Scope = "department"
	Topic      Scope = "topic"
)

// Alert is one spike: a row of table alerts.
type Alert struct {
	ID     string
	Period Period
	Scope  Scope
	Slug   string
	// Start is the start of the hour or day that spiked.
	Start time.Time
	// Mentions is the period's distinct mentions.
	Mentions uint64
	// Baseline and Stddev are the mean and standard deviation of the
	// baseline periods' distinct mentions.
	Baseline, Stddev float64
	// NegativeShare and BaselineNegativeShare are the shares of negative
	// mentions in the period and over the whole baseline (0 when empty).
	NegativeShare, BaselineNegativeShare float64
	// TopTerms are the words most over-represented in the period.
	TopTerms []string
	// MentionIDs are the period's most-engaged mentions, as platform:id.
	MentionIDs []string
	// Explanation is one paragraph for people.
	Explanation string
	// DetectedAt is when it was found (and the row's version).
	DetectedAt time.Time
	// NotifiedAt is when the webhook accepted it; Unix 0 when not sent.
	NotifiedAt time.Time

	baselineMentions uint64 // Σbᵢ, to size the baseline text sample
}

// Notified says whether the webhook has accepted the alert.
func (a *Alert) Notified() bool { return a.NotifiedAt.Unix() > 0 }

// AlertID is the id of the alert of period p, scope s, slug at start.
func AlertID(p Period, s Scope, slug string, start time.Time) string {
	return string(p) + ":" + string(s) + ":" + slug + ":" + start.UTC().Format(time.RFC3339)
}

// Spike applies the spike rule (see the package comment) to a period's n
// distinct mentions and its baseline periods' counts (missing periods as
// zeros). It returns the baseline's mean and population standard deviation
// and whether n is a spike.
func Spike(n uint64, baseline []uint64, minMentions int, factor float64) (mean, stddev float64, spike bool) {
	if len(baseline) > 0 {
		var sum float64
		for _, b := range baseline {
			sum += float64(b)
		}
		mean = sum / float64(len(baseline))
		var sq float64
		for _, b := range baseline {
			d := float64(b) - mean
			sq += d * d
		}
		stddev = math.Sqrt(sq / float64(len(baseline)))
	}
	x := float64(n)
	spike = n >= uint64(max(minMentions, 0)) && x >= factor*mean && x >= mean+3*stddev
	return mean, stddev, spike
}

// Detector finds, explains, stores and posts spikes. Its fields are set
// before first use; RunOnce may be called from several goroutines (runs are
// serialised).
type Detector struct {
	Store *sink.Store
	// MinMentions and Factor are alerts.min_mentions and alerts.factor.
	MinMentions int
	Factor      float64
	// Since is how far back each run judges complete periods (at least the
	// last complete hour and day are always judged). Default 24h.
	Since time.Duration
	// Webhook receives new alerts; nil stores them only.
	Webhook *webhook.Client
	// Names maps department and topic slugs to display names.
	Names map[string]string
	// Log receives what a run did; never the webhook URL.
	Log *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// New returns a Detector configured from cfg: the thresholds, the taxonomy's
// names, and the webhook at the URL held by alerts.webhook_url_env or
// alerts.webhook_url_file (none: alerts are stored, not posted). getenv is
// os.Getenv outside tests.
func New(store *sink.Store, cfg *config.Config, getenv func(string) string, log *slog.Logger) (*Detector, error) {
	names, err := Names(cfg.Taxonomy)
	if err != nil {
		return nil, err
	}
	d := &Detector{Store: store, MinMentions: cfg.Alerts.MinMentions, Factor: cfg.Alerts.Factor, Names: names, Log: log}
	u, err := config.Secret(getenv, cfg.Alerts.WebhookURLEnv, cfg.Alerts.WebhookURLFile)
	if err != nil {
		return nil, fmt.Errorf("alerts webhook (alerts.webhook_url_env %s, alerts.webhook_url_file): %w", cfg.Alerts.WebhookURLEnv, err)
	}
	if u != "" {
		if d.Webhook, err = webhook.New(u, cfg.Alerts.Format, 0); err != nil {
			return nil, fmt.Errorf("alerts webhook: %w", err)
		}
	}
	return d, nil
}

// Names reads the display names of the departments and topics of the
// taxonomy at path ("" the built-in one), by slug.
func Names(path string) (map[string]string, error) {
	tx, err := tagger.LoadTaxonomy(path)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range tx.Departments {
		names[c.Slug] = c.Name
	}
	for _, c := range tx.Topics {
		names[c.Slug] = c.Name
	}
	return names, nil
}

// Run runs detection now and then every cfg.Alerts.Every until ctx ends,
// logging each run's outcome (a failed run is logged and retried at the
// next tick). It returns nil when ctx ends, at once when alerts.every is 0
// (alerts off), and an error only when it cannot start. serve and up run it
// in the background.
func Run(ctx context.Context, store *sink.Store, cfg *config.Config, log *slog.Logger) error {
	if cfg.Alerts.Every <= 0 {
		log.Info("alerts off (alerts.every is 0)")
		return nil
	}
	d, err := New(store, cfg, os.Getenv, log)
	if err != nil {
		return err
	}
	return d.Loop(ctx, cfg.Alerts.Every.D())
}

// Loop runs RunOnce now and then every interval until ctx ends; it returns
// nil then.
func (d *Detector) Loop(ctx context.Context, every time.Duration) error {
	d.logStart(every)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.log().Warn("alerts run failed; trying again at the next tick", "err", err, "every", every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (d *Detector) logStart(every time.Duration) {
	if d.Webhook == nil {
		d.log().Info("looking for spikes; no alerts webhook configured, alerts are stored only", "every", every, "min_mentions", d.MinMentions, "factor", d.Factor)
		return
	}
	d.log().Info("looking for spikes", "every", every, "min_mentions", d.MinMentions, "factor", d.Factor, "webhook", d.Webhook.String(), "format", d.Webhook.Format())
}

func (d *Detector) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Detector) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (d *Detector) since() time.Duration {
	if d.Since > 0 {
		return d.Since
	}
	return 24 * time.Hour
}

// name is the display name of a slug.
func (d *Detector) name(slug string) string {
	if n, ok := d.Names[slug]; ok && n != "" {
		return n
	}
	return slug
}
