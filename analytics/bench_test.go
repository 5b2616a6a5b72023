package analytics_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/analytics/analyticstest"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
)

// BenchmarkDashboardQueries measures every dashboard query on synthetic
// mentions spread over 60 days: for the last 24 hours (hourly rollup), 7
// and 30 days (daily rollup), without and with a department filter. Each
// sub-benchmark is one query; ns/op is its latency.
//
// GOVLISTEN_BENCH_MENTIONS sets how many mentions (default 200,000, a few
// seconds to load). The figure that matters is 10 million:
//
//	GOVLISTEN_BENCH_MENTIONS=10000000 go test -run '^$' -bench DashboardQueries -benchtime 5x -timeout 1h ./analytics/
//
// Loading 10 million takes a few minutes. GOVLISTEN_BENCH_CLICKHOUSE=DSN
// uses that server's database instead of a private server, and loads only
// when it holds fewer mentions than asked, so later runs start at once
// (one loaded before table questions existed gets its questions copied by
// the migrate at the start: about 5 s for 10 million).
//
// The data (analyticstest.Load): 10 million mentions over 60 days is
// about 167,000 a day, so the 30-day range holds 5 million; 80% tagged
// with a department, a fifth of the public ones questions, 2% own
// replies. Measured on Debian's ClickHouse 18.16, 2 cores, with other
// work running (load average 2 to 6; ms per query; 24h / 7d / 30d, no
// filter):
//
//	series           16 / 113 /  366     top departments  14 /  91 /  334
//	top topics       14 /  85 /  312     spikes           20 / 171 /  410
//	negative         57 / 141 /  293     unanswered       30 /  19 /   19
//	response times   26 / 119 /  578     alerts            1 /   1 /    1
//	summary (page)  149 / 661 / 2195
//
// Response times and unanswered questions read table questions, filled at
// insert time (deploy/clickhouse/008_questions.sql); finding the questions
// in mentions by their text took 78 / 416 / 1835 ms in the same run. The
// 30-day page stays above a second: its rollup queries run side by side
// on 2 cores. docs/performance.md has the comparison.
func BenchmarkDashboardQueries(b *testing.B) {
	n := 200_000
	if v := os.Getenv("GOVLISTEN_BENCH_MENTIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("GOVLISTEN_BENCH_MENTIONS=%q: want a positive number", v)
		}
	}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var st *sink.Store
	if dsn := os.Getenv("GOVLISTEN_BENCH_CLICKHOUSE"); dsn != "" {
		st = testenv.Store(b, dsn)
	} else {
		srv, _ := testenv.ClickHouseServer(b)
		st = testenv.Store(b, srv.DSN("bench"))
	}
	ctx := context.Background()
	if have := testenv.Count(b, st, "SELECT count() FROM "+st.DB()+".mentions"); have < uint64(n) {
		start := time.Now()
		if _, err := analyticstest.Load(ctx, st, analyticstest.Options{N: n, End: end, Days: 60, Seed: 7}); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d mentions in %s", n, time.Since(start).Round(time.Millisecond))
	}
	a := analytics.New(st, nil)
	a.Now = func() time.Time { return end }
	ranges := []struct {
		name string
		d    time.Duration
	}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}
	queries := []struct {
		name string
		run  func(analytics.Filter) error
	}{
		{"series", func(f analytics.Filter) error { _, err := a.Series(ctx, f); return err }},
		{"top_departments", func(f analytics.Filter) error { _, err := a.TopDepartments(ctx, f, 10); return err }},
		{"top_topics", func(f analytics.Filter) error { _, err := a.TopTopics(ctx, f, 10); return err }},
		{"spikes", func(f analytics.Filter) error { _, err := a.Spikes(ctx, f, 10, 3); return err }},
		{"negative", func(f analytics.Filter) error { _, err := a.NegativeMentions(ctx, f, 10); return err }},
		{"unanswered", func(f analytics.Filter) error { _, err := a.Unanswered(ctx, f, 20); return err }},
		{"response_times", func(f analytics.Filter) error { _, err := a.ResponseTimes(ctx, f); return err }},
		{"alerts", func(f analytics.Filter) error { _, err := a.Alerts(ctx, f, 20); return err }},
		{"summary", func(f analytics.Filter) error { _, err := a.Summary(ctx, f, analytics.Limits{}); return err }},
	}
	for _, r := range ranges {
		for _, dept := range []string{"", "hmrc"} {
			f := analytics.Filter{From: end.Add(-r.d), To: end, Department: dept}
			name := r.name
			if dept != "" {
				name += "_" + dept
			}
			for _, q := range queries {
				b.Run(name+"/"+q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
