// Package analytics holds the ClickHouse queries behind the dashboard and
// the daily briefing: volume and sentiment over time, the top departments
// and topics, spikes with the mentions that drove them, the most-engaged
// negative mentions, the questions still waiting for an answer, and how
// fast departments answer. Every query takes a Filter (a time range and
// optional department, topic and platform) and returns plain Go structs.
//
// Why these queries:
//
//   - Volume, sentiment and the top lists read the rollups, never the
//     mentions table: mentions_hourly for ranges up to HourlyUpTo,
//     mentions_daily for longer ones. A rollup row holds distinct-mention
//     states (uniq over the mention id) per bucket, platform and
//     combination of tags, so a month is a few thousand rows whatever the
//     volume, uniqMerge stays true when a mention was delivered twice or is
//     tagged with several departments, and a department or topic filter is
//     has() on the rollup's tag arrays. The *_tags views explode every row
//     into department x topic pairs; these queries explode only the
//     dimension they group by (arrayJoin), which reads fewer rows. uniq is
//     exact up to tens of thousands of mentions per group and within about
//     1% beyond.
//   - Over days, a state holds a hash per mention, so a month of 10
//     million mentions is millions of hashes to merge (0.3 to 0.4 s per
//     query). Days that have settled are read as plain numbers instead:
//     exact per-row counts that `govlisten serve` writes from mentions
//     FINAL into mentions_daily_counts once a day is over and quiet
//     (deploy/clickhouse/009_settled.sql). A mention is in exactly one
//     rollup row, so per-row counts add up exactly; each query (daily)
//     reads the settled days' counts and the other days' states in one
//     UNION ALL, naming each part's days so that the primary key narrows
//     both. Which days are settled is checked on every read (settledDays:
//     the newest settling of each day against the newest processed_at of
//     its mentions, shared by a page's queries for two seconds), so a late
//     or re-tagged mention shows at once, from the states, until its day
//     is settled again.
//   - Spikes need each bucket's baseline (the mean and standard deviation
//     of the preceding SpikeWindow buckets). ClickHouse 18.16 has no window
//     functions, so one rollup query returns every department's and topic's
//     series (a few thousand numbers) and Go does the arithmetic; one query
//     on the mentions table then finds the most-engaged mentions of every
//     spike at once (LIMIT n BY bucket and slug).
//   - The most-engaged negative mentions and a spike's drivers need single
//     mentions, exactly as last stored: mentions FINAL. On 18.16 FINAL merges
//     every column it reads in one stream, so it never runs over a range:
//     a first query reads the small columns of the range (PREWHERE on day,
//     the first key column and the partition, so only those days are read;
//     created_at in WHERE for the exact range) and keeps the keys of the
//     most engaged rows, and a second reads those few mentions FINAL by
//     their sorting key, checked and ordered again on their newest row.
//   - Unanswered questions and response times read table questions, which
//     a materialized view fills at insert time with the public questions
//     (QuestionStart, or a '?') and the departments' own mentions, without
//     their text (deploy/clickhouse/008_questions.sql): finding a month's
//     questions in mentions meant reading the text of every mention. The
//     range's questions (FINAL: narrow rows, so affordable over a month)
//     are joined to the own mentions of their threads, grouped per thread
//     into arrays (one ANY LEFT JOIN; 18.16 has neither ASOF JOIN nor
//     correlated subqueries). A question is answered by the first own
//     mention of its thread posted after it, or whose parent is the
//     question. The unanswered list works a day at a time from the end of
//     the range and stops when it has enough, then reads what it shows of
//     those few mentions FINAL by their sorting key.
//
// Time is UTC throughout; ranges are widened to whole buckets (see
// Filter.Aligned) so the rollups and the mentions table count the same
// time. Filter values reach ClickHouse only as bound arguments.
//
// Everything here works on Debian's ClickHouse 18.16 and on current
// releases; see BenchmarkDashboardQueries for what each query costs.
//
// An Analytics is safe for concurrent use.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/processors/sink"
)

// SpikeWindow is how many preceding buckets form a bucket's baseline.
const SpikeWindow = 12

// Analytics runs the dashboard's queries against one ClickHouse database.
type Analytics struct {
	conn driver.Conn
	db   string
	// MinMentions and Factor are the spike rule (alerts.min_mentions and
	// alerts.factor): a bucket is a spike when it has at least MinMentions
	// mentions, at least Factor times its baseline's mean, and at least
	// Factor standard deviations above it.
	MinMentions uint64
	Factor      float64
	// Now is the clock (time.Now unless a test sets it); it decides which
	// questions have had a full day to be answered.
	Now func() time.Time

	settled settledCache
}

// New returns an Analytics reading the database of st, with the spike rule
// of cfg.Alerts. The caller keeps st open while the Analytics is in use.
func New(st *sink.Store, cfg *config.Config) *Analytics {
	a := &Analytics{conn: st.Conn(), db: st.DB(), MinMentions: 20, Factor: 3, Now: time.Now}
	if cfg != nil {
		if cfg.Alerts.MinMentions > 0 {
			a.MinMentions = uint64(cfg.Alerts.MinMentions)
		}
		if cfg.Alerts.Factor > 0 {
			a.Factor = cfg.Alerts.Factor
		}
	}
	return a
}

// Ping checks that ClickHouse answers.
func (a *Analytics) Ping(ctx context.Context) error { return a.conn.Ping(ctx) }

// Limits caps the lists of a Summary.
type Limits struct {
	Top        int // departments and topics; default 10
	Spikes     int // default 10
	Drivers    int // mentions per spike; default 3
	Negative   int // default 10
	Unanswered int // default 20
	Alerts     int // default 20
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Top, 10)
	def(&l.Spikes, 10)
	def(&l.Drivers, 3)
	def(&l.Negative, 10)
	def(&l.Unanswered, 20)
	def(&l.Alerts, 20)
	return l
}

// Summary is everything the dashboard shows for one filter.
type Summary struct {
	Filter         Filter               `json:"filter"`
	Granularity    Granularity          `json:"granularity"`
	Series         []Bucket             `json:"series"`
	TopDepartments []SlugCount          `json:"top_departments"`
	TopTopics      []SlugCount          `json:"top_topics"`
	Spikes         []Spike              `json:"spikes"`
	Negative       []Mention            `json:"negative"`
	Unanswered     []Question           `json:"unanswered"`
	Responses      []DepartmentResponse `json:"responses"`
	Alerts         []Alert              `json:"alerts"`
}

// Summary runs every query for f (aligned to whole buckets) at once and
// returns their answers; the first error ends it.
func (a *Analytics) Summary(ctx context.Context, f Filter, lim Limits) (*Summary, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Aligned()
	lim = lim.withDefaults()
	s := &Summary{Filter: f, Granularity: f.Granularity()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	run("series", func() (err error) { s.Series, err = a.Series(ctx, f); return })
	run("top departments", func() (err error) { s.TopDepartments, err = a.TopDepartments(ctx, f, lim.Top); return })
	run("top topics", func() (err error) { s.TopTopics, err = a.TopTopics(ctx, f, lim.Top); return })
	run("spikes", func() (err error) { s.Spikes, err = a.Spikes(ctx, f, lim.Spikes, lim.Drivers); return })
	run("negative mentions", func() (err error) { s.Negative, err = a.NegativeMentions(ctx, f, lim.Negative); return })
	run("unanswered questions", func() (err error) { s.Unanswered, err = a.Unanswered(ctx, f, lim.Unanswered); return })
	run("response times", func() (err error) { s.Responses, err = a.ResponseTimes(ctx, f); return })
	run("alerts", func() (err error) { s.Alerts, err = a.Alerts(ctx, f, lim.Alerts); return })
	wg.Wait()
	if len(errs) > 0 {
		// The first error is the cause; the others are mostly the
		// cancellation it caused.
		for _, err := range errs {
			if !errors.Is(err, context.Canceled) {
				return nil, err
			}
		}
		return nil, errs[0]
	}
	return s, nil
}

// table names a table of the database.
func (a *Analytics) table(name string) string { return a.db + "." + name }
