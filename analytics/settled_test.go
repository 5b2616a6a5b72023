package analytics_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/analytics/analyticstest"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
)

// page is what the rollup queries answer for one filter, for comparing
// answers before and after settling.
type page struct {
	series []analytics.Bucket
	depts  []analytics.SlugCount
	topics []analytics.SlugCount
	spikes []analytics.Spike
}

func readPage(t *testing.T, a *analytics.Analytics, f analytics.Filter) page {
	t.Helper()
	ctx := context.Background()
	var (
		p   page
		err error
	)
	if p.series, err = a.Series(ctx, f); err != nil {
		t.Fatal(err)
	}
	if p.depts, err = a.TopDepartments(ctx, f, 30); err != nil {
		t.Fatal(err)
	}
	if p.topics, err = a.TopTopics(ctx, f, 30); err != nil {
		t.Fatal(err)
	}
	if p.spikes, err = a.Spikes(ctx, f, 50, 1); err != nil {
		t.Fatal(err)
	}
	return p
}

// samePage reports how got differs from want: every count equal, mean
// sentiment equal to rounding.
func samePage(want, got page) error {
	if len(want.series) != len(got.series) {
		return fmt.Errorf("%d buckets, want %d", len(got.series), len(want.series))
	}
	for i, w := range want.series {
		g := got.series[i]
		if g.Mentions != w.Mentions || g.Negative != w.Negative || g.Neutral != w.Neutral || g.Positive != w.Positive ||
			math.Abs(g.MeanSentiment-w.MeanSentiment) > 1e-5 {
			return fmt.Errorf("bucket %s: %+v, want %+v", w.Start.Format(time.DateOnly), g, w)
		}
	}
	if a, b := slugCounts(got.depts), slugCounts(want.depts); a != b {
		return fmt.Errorf("top departments %s, want %s", a, b)
	}
	if a, b := slugCounts(got.topics), slugCounts(want.topics); a != b {
		return fmt.Errorf("top topics %s, want %s", a, b)
	}
	if a, b := spikeList(got.spikes), spikeList(want.spikes); a != b {
		return fmt.Errorf("spikes %s, want %s", a, b)
	}
	return nil
}

func spikeList(s []analytics.Spike) string {
	out := ""
	for _, x := range s {
		out += fmt.Sprintf("%s:%s@%s=%d ", x.Scope, x.Slug, x.Start.Format(time.DateOnly), x.Mentions)
	}
	return out
}

// Settled days are read from exact counts, and every answer stays what
// the distinct-mention states say: after settling, after a mention
// arrives late on a settled day (before and after that day is settled
// again), after a redelivery, and after the rollups of a month are
// rebuilt.
func TestSettledDays(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	ctx := context.Background()
	d := newDB(t, srv.DSN)
	end := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	if _, err := analyticstest.Load(ctx, d.st, analyticstest.Options{N: 40_000, End: end, Days: 40, Seed: 3, Batch: 10_000}); err != nil {
		t.Fatal(err)
	}
	// A spike, so that the spike list has something to agree on.
	var burst []m
	for i := range 300 {
		burst = append(burst, m{id: fmt.Sprintf("burst%d", i), at: end.Add(-10*24*time.Hour + time.Duration(i)*time.Second),
			depts: []string{"dcms"}, topics: []string{"culture-media-sport"}, label: "negative", score: -0.4, likes: uint64(i)})
	}
	d.insert(burst...)
	f := analytics.Filter{From: end.Add(-30 * 24 * time.Hour), To: end}
	fd := analytics.Filter{From: f.From, To: f.To, Department: "dcms"}
	fresh := func() *analytics.Analytics { return analytics.New(d.st, nil) } // no cached answers
	states, statesDept := readPage(t, fresh(), f), readPage(t, fresh(), fd)
	if len(states.spikes) == 0 {
		t.Fatal("no spike in the data set: the comparison of spikes says nothing")
	}

	// Just stored: nothing has settled yet.
	done, err := d.st.Settle(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 0 {
		t.Errorf("settled %d days of mentions stored a moment ago, want none before %s of quiet", len(done), sink.SettleQuiet)
	}

	// Quiet: every day before the last one settles, each with its
	// mentions after FINAL.
	later := time.Now().Add(sink.SettleQuiet + time.Minute)
	last := end.Truncate(24 * time.Hour)
	done, err = d.st.SettleBefore(ctx, last, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 40 {
		t.Errorf("settled %d days, want the 40 before %s", len(done), last.Format(time.DateOnly))
	}
	for _, s := range done {
		var n uint64
		if err := d.st.Conn().QueryRow(ctx, "SELECT count() FROM "+d.st.DB()+".mentions FINAL WHERE day = toDate(?)", s.Day.Format(time.DateOnly)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if s.Mentions != n || s.Again {
			t.Errorf("%s: settled %d mentions (again %v), want %d, first time", s.Day.Format(time.DateOnly), s.Mentions, s.Again, n)
		}
	}
	if err := samePage(states, readPage(t, fresh(), f)); err != nil {
		t.Errorf("after settling: %v", err)
	}
	if err := samePage(statesDept, readPage(t, fresh(), fd)); err != nil {
		t.Errorf("after settling, department dcms: %v", err)
	}
	// The settled days are read from the counts: without the states of
	// April (settled throughout), every answer is the same.
	if err := d.st.Conn().Exec(ctx, "ALTER TABLE "+d.st.DB()+".mentions_daily DROP PARTITION 202604"); err != nil {
		t.Fatal(err)
	}
	if err := samePage(states, readPage(t, fresh(), f)); err != nil {
		t.Errorf("without April's states: %v", err)
	}
	// Nothing changed: settling again counts nothing.
	if done, err = d.st.SettleBefore(ctx, last, later); err != nil || len(done) != 0 {
		t.Errorf("settling again: %d days, %v; want none", len(done), err)
	}

	// A late mention on a settled day: the day is read from the states
	// again at once.
	lateDay := end.Add(-5 * 24 * time.Hour).Truncate(24 * time.Hour)
	late := m{id: "late", at: lateDay.Add(3 * time.Hour), depts: []string{"dcms"}, topics: []string{"tax"}, label: "positive", score: 0.6}
	// processed_at has whole seconds; the quiet rule keeps a settling's
	// through 15 minutes behind any new mention, which this test, settling
	// as if later, must wait out by hand.
	time.Sleep(1100 * time.Millisecond)
	d.insert(late)
	i := int(lateDay.Sub(f.From.Truncate(24*time.Hour)) / (24 * time.Hour))
	want := readPage(t, fresh(), f)
	if got, was := want.series[i], states.series[i]; got.Mentions != was.Mentions+1 || got.Positive != was.Positive+1 {
		t.Fatalf("%s after a late mention: %d mentions, %d positive; want %d and %d", lateDay.Format(time.DateOnly),
			got.Mentions, got.Positive, was.Mentions+1, was.Positive+1)
	}
	if err := samePage(states, readPage(t, fresh(), f)); err == nil {
		t.Fatal("the late mention changed nothing")
	}
	// Settled again, that day alone, with the same answers.
	done, err = d.st.SettleBefore(ctx, last, later.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || !done[0].Day.Equal(lateDay) || !done[0].Again || done[0].Mentions != want.series[i].Mentions {
		t.Errorf("settling after the late mention: %+v; want %s again with %d mentions", done, lateDay.Format(time.DateOnly), want.series[i].Mentions)
	}
	if err := samePage(want, readPage(t, fresh(), f)); err != nil {
		t.Errorf("after settling the late mention: %v", err)
	}
	// Delivered again: still one mention (the day is read from the states
	// until it settles again; their mean weighs the mention twice).
	time.Sleep(1100 * time.Millisecond)
	d.insert(late)
	if got := readPage(t, fresh(), f).series[i]; got.Mentions != want.series[i].Mentions || got.Positive != want.series[i].Positive {
		t.Errorf("after a redelivery: %+v, want %+v", got, want.series[i])
	}
	if done, err = d.st.SettleBefore(ctx, last, later.Add(90*time.Second)); err != nil || len(done) != 1 {
		t.Errorf("settling after the redelivery: %d days, %v; want 1", len(done), err)
	}
	if err := samePage(want, readPage(t, fresh(), f)); err != nil {
		t.Errorf("after settling the redelivery: %v", err)
	}

	// Rebuilding a month (retag, erase) forgets its settlings: its days
	// are read from the rebuilt states until they settle again.
	month := lateDay.Year()*100 + int(lateDay.Month())
	if err := d.st.RebuildRollups(ctx, month); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := d.st.Conn().QueryRow(ctx, "SELECT count() FROM "+d.st.DB()+".mentions_daily_settled WHERE toYYYYMM(day) = ?", month).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d settlings of %d left after rebuilding it", n, month)
	}
	if err := samePage(want, readPage(t, fresh(), f)); err != nil {
		t.Errorf("after rebuilding %d: %v", month, err)
	}
	if done, err = d.st.SettleBefore(ctx, last, later.Add(2*time.Minute)); err != nil || len(done) == 0 {
		t.Errorf("settling after the rebuild: %d days, %v; want the month's days", len(done), err)
	}
	if err := samePage(want, readPage(t, fresh(), f)); err != nil {
		t.Errorf("after settling the rebuilt month: %v", err)
	}
}
