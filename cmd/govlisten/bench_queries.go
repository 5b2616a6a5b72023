package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/analytics/analyticstest"
	"github.com/govlisten/govlisten/internal/docqueries"
	"github.com/govlisten/govlisten/processors/sink"
)

// BenchQueriesCmd is `govlisten bench queries`.
type BenchQueriesCmd struct {
	BenchCommon
	BenchQueriesOpts
}

// BenchQueriesOpts size the queries section.
type BenchQueriesOpts struct {
	Rows     int           `help:"Mentions in the table queried (loading 10 million takes minutes)." default:"10000000"`
	Runs     int           `help:"Runs of each query, all queries in turn; p50 and the worst are reported." default:"5"`
	Database string        `help:"Database to load and query. One that already holds at least --rows mentions is queried as it is (with --clickhouse, a database loaded by an earlier run); an empty or missing one is loaded." default:"bench_queries" placeholder:"NAME"`
	Doc      string        `help:"The analyst examples: every sql block of this Markdown file." default:"docs/queries.md" placeholder:"FILE"`
	Settle   time.Duration `help:"After loading, wait up to this long for ClickHouse's merges to finish before timing." default:"60s"`
}

// Help explains the figures.
func (c *BenchQueriesCmd) Help() string {
	return "Times the ten analyst examples of docs/queries.md and every dashboard query (analytics, as the dashboard calls them, for the last 24 hours, 7 and 30 days, without and with a department filter, and the whole page) over synthetic mentions (analytics/analyticstest: 60 days, seed 7, the data of analytics' BenchmarkDashboardQueries), beside a floor measured in the same run: SELECT count() FROM mentions. The examples' today() and now() become the newest mention's day and time, so a database loaded earlier answers the same. Without --clickhouse the data lives in a private server and is loaded every run."
}

// Run benchmarks the queries.
func (c *BenchQueriesCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "queries", func(e *benchEnv, res *benchResults) (err error) {
		res.Queries, err = benchQueries(ctx, e, c.BenchQueriesOpts)
		return err
	})
}

// queryTiming is one query's runs.
type queryTiming struct {
	Group   string  `json:"group"` // floor, analyst, dashboard or page (the whole dashboard)
	Name    string  `json:"name"`
	Rows    int     `json:"rows"` // returned by the last run (SQL queries only)
	P50MS   float64 `json:"p50_ms"`
	WorstMS float64 `json:"worst_ms"`
	runs    []time.Duration
	run     func(context.Context) (int, error)
}

type queriesResult struct {
	Mentions    uint64  `json:"mentions"`
	Database    string  `json:"database"`
	Loaded      bool    `json:"loaded"` // false: an earlier run's data was reused
	LoadSeconds float64 `json:"load_seconds,omitempty"`
	Settled     bool    `json:"merges_settled"`
	// SettledDays were counted into mentions_daily_counts before timing,
	// in SettleSeconds.
	SettledDays   int           `json:"settled_days"`
	SettleSeconds float64       `json:"settle_seconds"`
	Now           time.Time     `json:"now"` // what today() and now() stood for
	Runs          int           `json:"runs"`
	Queries       []queryTiming `json:"queries"`
	// Summaries: the floor's p50, the worst p50 of the analyst examples
	// and of the dashboard's queries, and the dashboard queries whose p50
	// is over the target.
	FloorP50MS           float64  `json:"floor_p50_ms"`
	AnalystWorstP50MS    float64  `json:"analyst_worst_p50_ms"`
	DashboardWorstP50MS  float64  `json:"dashboard_worst_p50_ms"`
	DashboardOverTarget  []string `json:"dashboard_over_target"`
	DashboardTargetMS    float64  `json:"dashboard_target_ms"`
	Met                  bool     `json:"targets_met"`
	DashboardPageWorstMS float64  `json:"dashboard_page_worst_p50_ms"`
}

// queriesSeed, queriesEnd and queriesDays are analytics'
// BenchmarkDashboardQueries's data set, so that a database either loaded
// serves both.
const (
	queriesSeed = 7
	queriesDays = 60
)

var queriesEnd = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func benchQueries(ctx context.Context, e *benchEnv, o BenchQueriesOpts) (*queriesResult, error) {
	if o.Rows <= 0 || o.Runs <= 0 {
		return nil, errors.New("--rows and --runs must be positive")
	}
	if _, err := sink.DatabaseOf("clickhouse://127.0.0.1/" + o.Database); err != nil {
		return nil, fmt.Errorf("--database: %w", err)
	}
	examples, err := docqueries.Read(o.Doc)
	if err != nil {
		return nil, fmt.Errorf("analyst examples: %w (run from the repository's root, or give --doc)", err)
	}
	st, err := e.store(ctx, o.Database)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	res := &queriesResult{Database: o.Database, Runs: o.Runs, DashboardTargetMS: 1000}
	section(fmt.Sprintf("queries: %d analyst examples (%s) and the dashboard's queries over %s mentions, %d run(s) each",
		len(examples), o.Doc, num(float64(o.Rows)), o.Runs))
	have, err := countMentions(ctx, st)
	if err != nil {
		return nil, err
	}
	switch {
	case have >= uint64(o.Rows):
		fmt.Printf("database %s already holds %s mentions: querying it as it is\n", o.Database, num(float64(have)))
	case have > 0:
		return nil, fmt.Errorf("database %s holds %d mentions, fewer than --rows %d: drop it or name another database", o.Database, have, o.Rows)
	default:
		if err := loadQueries(ctx, st, o.Rows, res); err != nil {
			return nil, err
		}
		res.Settled = waitMerges(ctx, st, o.Settle)
		if !res.Settled {
			fmt.Printf("merges still running after %s; timing anyway\n", o.Settle)
		}
	}
	if res.Mentions, err = countMentions(ctx, st); err != nil {
		return nil, err
	}
	var newest time.Time
	if err := st.Conn().QueryRow(ctx, "SELECT max(created_at) FROM "+o.Database+".mentions").Scan(&newest); err != nil {
		return nil, err
	}
	res.Now = newest.UTC().Truncate(time.Hour).Add(time.Hour)

	// As serve would have by then: every day before the data's last one
	// settled (deploy/clickhouse/009_settled.sql).
	start := time.Now()
	done, err := st.SettleBefore(ctx, res.Now.Truncate(24*time.Hour), time.Now().Add(sink.SettleQuiet))
	if err != nil {
		return nil, err
	}
	res.SettledDays, res.SettleSeconds = len(done), time.Since(start).Seconds()
	fmt.Printf("settled %d day(s) in %.1f s (days before %s; the others were settled by an earlier run)\n",
		len(done), res.SettleSeconds, res.Now.Format(time.DateOnly))
	queries := []*queryTiming{{Group: "floor", Name: "SELECT count() FROM mentions", run: sqlRunner(st, "SELECT count() FROM "+o.Database+".mentions")}}
	today := "toDate('" + res.Now.Format(time.DateOnly) + "')"
	now := "toDateTime('" + res.Now.Format(time.DateTime) + "', 'UTC')"
	for _, q := range examples {
		sql := strings.NewReplacer("govlisten.", o.Database+".", "today()", today, "now()", now).Replace(q.SQL)
		queries = append(queries, &queryTiming{Group: "analyst", Name: q.Title, run: sqlRunner(st, sql)})
	}
	queries = append(queries, dashboardQueries(st, res.Now)...)

	for range o.Runs {
		for _, q := range queries {
			start := time.Now()
			rows, err := q.run(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", q.Group, q.Name, err)
			}
			q.runs = append(q.runs, time.Since(start))
			q.Rows = rows
		}
	}
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, q := range queries {
		s := sortedDurations(q.runs)
		q.P50MS, q.WorstMS = msOf(quantile(s, 0.5)), msOf(s[len(s)-1])
		switch q.Group {
		case "floor":
			res.FloorP50MS = q.P50MS
		case "analyst":
			res.AnalystWorstP50MS = max(res.AnalystWorstP50MS, q.P50MS)
		case "dashboard":
			res.DashboardWorstP50MS = max(res.DashboardWorstP50MS, q.P50MS)
			if q.P50MS >= res.DashboardTargetMS {
				res.DashboardOverTarget = append(res.DashboardOverTarget, q.Name)
			}
		case "page":
			res.DashboardPageWorstMS = max(res.DashboardPageWorstMS, q.P50MS)
		}
		res.Queries = append(res.Queries, *q)
	}
	res.Met = len(res.DashboardOverTarget) == 0

	t := newTable(os.Stdout, "query", "rows", "p50", "worst", "p50 / floor", "target")
	for _, q := range res.Queries {
		rows, target := "", ""
		if q.Group == "floor" || q.Group == "analyst" {
			rows = num(float64(q.Rows))
		}
		if q.Group == "dashboard" {
			target = "< 1 s: " + met(q.P50MS < res.DashboardTargetMS)
		}
		name := q.Group + ": " + q.Name
		if q.Group == "page" {
			name = "dashboard page, all at once: " + strings.TrimSuffix(q.Name, "/summary")
		}
		t.row(name, rows, millis(q.P50MS), millis(q.WorstMS), ratio(q.P50MS, res.FloorP50MS), target)
	}
	t.flush()
	fmt.Printf("%s mentions; today() and now() stood for %s. Worst p50: analyst examples %s, dashboard queries %s (target < 1 s each: %s), whole dashboard page %s\n",
		num(float64(res.Mentions)), res.Now.Format(time.RFC3339), millis(res.AnalystWorstP50MS), millis(res.DashboardWorstP50MS), met(res.Met), millis(res.DashboardPageWorstMS))
	if !res.Met {
		fmt.Printf("over the target: %s\n", strings.Join(res.DashboardOverTarget, ", "))
	}
	return res, nil
}

// dashboardQueries are the dashboard's queries as it runs them (aligned
// filters, its default limits) for the last 24 hours, 7 and 30 days before
// now, without and with a department filter, and the whole page (Summary,
// all of them at once): analytics' BenchmarkDashboardQueries's list.
func dashboardQueries(st *sink.Store, now time.Time) []*queryTiming {
	a := analytics.New(st, nil)
	a.Now = func() time.Time { return now }
	var out []*queryTiming
	for _, r := range []struct {
		name string
		d    time.Duration
	}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}} {
		for _, dept := range []string{"", "hmrc"} {
			f := analytics.Filter{From: now.Add(-r.d), To: now, Department: dept}.Aligned()
			prefix := r.name
			if dept != "" {
				prefix += "_" + dept
			}
			for _, q := range []struct {
				name string
				run  func(context.Context) error
			}{
				{"series", func(ctx context.Context) error { _, err := a.Series(ctx, f); return err }},
				{"top_departments", func(ctx context.Context) error { _, err := a.TopDepartments(ctx, f, 10); return err }},
				{"top_topics", func(ctx context.Context) error { _, err := a.TopTopics(ctx, f, 10); return err }},
				{"spikes", func(ctx context.Context) error { _, err := a.Spikes(ctx, f, 10, 3); return err }},
				{"negative", func(ctx context.Context) error { _, err := a.NegativeMentions(ctx, f, 10); return err }},
				{"unanswered", func(ctx context.Context) error { _, err := a.Unanswered(ctx, f, 20); return err }},
				{"response_times", func(ctx context.Context) error { _, err := a.ResponseTimes(ctx, f); return err }},
				{"alerts", func(ctx context.Context) error { _, err := a.Alerts(ctx, f, 20); return err }},
				{"summary", func(ctx context.Context) error { _, err := a.Summary(ctx, f, analytics.Limits{}); return err }},
			} {
				group := "dashboard"
				if q.name == "summary" {
					group = "page"
				}
				out = append(out, &queryTiming{Group: group, Name: prefix + "/" + q.name, run: func(ctx context.Context) (int, error) { return 0, q.run(ctx) }})
			}
		}
	}
	return out
}

// sqlRunner runs sql and reads every row; it returns how many.
func sqlRunner(st *sink.Store, sql string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		rows, err := st.Conn().Query(ctx, sql)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		return n, rows.Err()
	}
}

func countMentions(ctx context.Context, st *sink.Store) (uint64, error) {
	var n uint64
	err := st.Conn().QueryRow(ctx, "SELECT count() FROM "+st.DB()+".mentions").Scan(&n)
	return n, err
}

// loadQueries loads n mentions of the data set, printing progress.
func loadQueries(ctx context.Context, st *sink.Store, n int, res *queriesResult) error {
	fmt.Printf("loading %s synthetic mentions into %s (analytics/analyticstest, %d days to %s, seed %d)\n",
		num(float64(n)), st.DB(), queriesDays, queriesEnd.Format(time.RFC3339), queriesSeed)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-time.After(30 * time.Second):
			}
			if have, err := countMentions(ctx, st); err == nil {
				fmt.Printf("  %s loaded after %s\n", num(float64(have)), time.Since(start).Round(time.Second))
			}
		}
	}()
	_, err := analyticstest.Load(ctx, st, analyticstest.Options{N: n, End: queriesEnd, Days: queriesDays, Seed: queriesSeed})
	close(done)
	if err != nil {
		return fmt.Errorf("loading: %w", err)
	}
	res.Loaded, res.LoadSeconds = true, time.Since(start).Seconds()
	fmt.Printf("loaded in %s (%s mentions/s)\n", time.Since(start).Round(time.Second), num(float64(n)/res.LoadSeconds))
	return nil
}

// waitMerges waits, up to limit, until ClickHouse runs no merge in the
// store's database; it reports whether it got there.
func waitMerges(ctx context.Context, st *sink.Store, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = '"+st.DB()+"'").Scan(&n); err != nil || n == 0 {
			return err == nil
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}
