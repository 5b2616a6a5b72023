package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// day0 is the first day of the ranges the tests ask about.
var day0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// m describes one mention of a test's data set.
type m struct {
	id       string
	at       time.Time
	platform string // default twitter
	kind     string // default comment
	thread   string
	parent   string
	text     string
	depts    []string
	topics   []string
	srcDept  string
	label    string // default neutral
	score    float64
	own      bool
	likes    uint64
}

func (x m) row() sink.Row {
	mm := &mention.Mention{
		V: mention.Version, Platform: x.platform, ID: x.id, Kind: x.kind, ThreadID: x.thread, ParentID: x.parent,
		AuthorHandle: "citizen", Text: x.text, URL: "https://example.invalid/" + x.id,
		CreatedAt: x.at, CollectedAt: x.at.Add(time.Minute), Metrics: mention.Metrics{Likes: x.likes},
		Source: mention.Source{Name: "test", Department: x.srcDept}, Own: x.own,
	}
	if mm.Platform == "" {
		mm.Platform = mention.Twitter
	}
	if mm.Kind == "" {
		mm.Kind = mention.KindComment
	}
	if mm.Text == "" {
		mm.Text = "mention " + x.id
	}
	label := x.label
	if label == "" {
		label = tagger.Neutral
	}
	return sink.Row{M: mm, Taxonomy: "test@1", Tags: tagger.Tags{Departments: x.depts, Topics: x.topics, Lang: "en",
		Sentiment: tagger.Score{Score: x.score, Label: label}}}
}

// db is one test's database, on the package's ClickHouse server.
type db struct {
	t  *testing.T
	st *sink.Store
	a  *analytics.Analytics
}

func newDB(t *testing.T, dsn func(string) string) *db {
	t.Helper()
	name := "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	st := testenv.Store(t, dsn(name))
	a := analytics.New(st, nil) // spike rule: 20 mentions, factor 3
	return &db{t: t, st: st, a: a}
}

func (d *db) insert(ms ...m) {
	d.t.Helper()
	rows := make([]sink.Row, len(ms))
	for i, x := range ms {
		rows[i] = x.row()
	}
	if err := d.st.Insert(context.Background(), rows); err != nil {
		d.t.Fatal(err)
	}
}

func hours(n int) time.Duration { return time.Duration(n) * time.Hour }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestAnalytics runs every query against one real ClickHouse server, each
// subtest on its own database with a data set whose answers are known.
func TestAnalytics(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	ctx := context.Background()

	t.Run("volume and sentiment by hour", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		dup := m{id: "a1", at: day0.Add(hours(9) + 5*time.Minute), depts: []string{"dwp"}, label: "negative", score: -0.5}
		d.insert(
			dup,
			m{id: "a2", at: day0.Add(hours(9) + 59*time.Minute), depts: []string{"dwp", "hmrc"}, label: "negative", score: -0.5},
			m{id: "a3", at: day0.Add(hours(9) + 30*time.Minute), platform: "youtube", depts: []string{"hmrc"}, label: "positive", score: 0.5},
			m{id: "a4", at: day0.Add(hours(10)), label: "neutral", score: 0.1},
			m{id: "a5", at: day0.Add(hours(12)), label: "unsupported"},
			m{id: "before", at: day0.Add(-time.Second), label: "negative", score: -1},
			m{id: "after", at: day0.Add(hours(24)), label: "negative", score: -1},
		)
		series, err := d.a.Series(ctx, analytics.Filter{From: day0, To: day0.Add(hours(24))})
		if err != nil {
			t.Fatal(err)
		}
		if b := series[9]; b.Negative != 2 || b.Neutral != 0 || b.Positive != 1 || !near(b.MeanSentiment, -0.5/3) {
			t.Errorf("hour 9: %+v, want 2 negative, 1 positive, mean -0.1667", b)
		}
		// Delivered twice: still one mention (the mean score, an avg
		// state, weighs it twice; see deploy/clickhouse/002_rollups.sql).
		d.insert(dup)
		series, err = d.a.Series(ctx, analytics.Filter{From: day0, To: day0.Add(hours(24))})
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 24 {
			t.Fatalf("got %d buckets, want 24 hours", len(series))
		}
		for i, b := range series {
			if !b.Start.Equal(day0.Add(hours(i))) {
				t.Fatalf("bucket %d starts %s", i, b.Start)
			}
			want := map[int]uint64{9: 3, 10: 1, 12: 1}[i]
			if b.Mentions != want {
				t.Errorf("hour %d: %d mentions, want %d", i, b.Mentions, want)
			}
		}
		b := series[9]
		if b.Negative != 2 || b.Neutral != 0 || b.Positive != 1 {
			t.Errorf("hour 9 after a redelivery: %+v, want 2 negative, 1 positive", b)
		}
		if neg, neu, pos := b.Shares(); !near(neg, 2.0/3) || neu != 0 || !near(pos, 1.0/3) {
			t.Errorf("hour 9 shares %v %v %v", neg, neu, pos)
		}
		if b := series[12]; b.Scored() != 0 {
			t.Errorf("an unsupported-language mention has no sentiment label: %+v", b)
		}
		if neg, neu, pos := series[12].Shares(); neg+neu+pos != 0 {
			t.Errorf("shares of a bucket without scored mentions: %v %v %v", neg, neu, pos)
		}

		// Filters: department, platform, both.
		for _, tc := range []struct {
			f    analytics.Filter
			want uint64
		}{
			{analytics.Filter{Department: "dwp"}, 2},
			{analytics.Filter{Department: "hmrc"}, 2},
			{analytics.Filter{Platform: "youtube"}, 1},
			{analytics.Filter{Department: "hmrc", Platform: "twitter"}, 1},
			{analytics.Filter{Department: "dfe"}, 0},
		} {
			f := tc.f
			f.From, f.To = day0, day0.Add(hours(24))
			s, err := d.a.Series(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if s[9].Mentions != tc.want {
				t.Errorf("%+v: hour 9 has %d mentions, want %d", tc.f, s[9].Mentions, tc.want)
			}
		}

		// A week is shown by day, from mentions_daily.
		week, err := d.a.Series(ctx, analytics.Filter{From: day0.Add(-hours(24 * 3)), To: day0.Add(hours(24 * 4))})
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, b := range week {
			got = append(got, b.Mentions)
		}
		if fmt.Sprint(got) != "[0 0 1 5 1 0 0]" {
			t.Errorf("daily volumes %v, want [0 0 1 5 1 0 0] (the day before, the day, the day after)", got)
		}
	})

	t.Run("top departments and topics", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		var ms []m
		add := func(n int, depts, topics []string, negative int) {
			for i := 0; i < n; i++ {
				x := m{id: fmt.Sprintf("%v%v%d", depts, topics, i), at: day0.Add(hours(30) + time.Duration(i)*time.Minute), depts: depts, topics: topics}
				if i < negative {
					x.label, x.score = "negative", -0.6
				}
				ms = append(ms, x)
			}
		}
		add(6, []string{"dwp"}, []string{"welfare"}, 3)
		add(4, []string{"dwp", "hmrc"}, []string{"tax", "welfare"}, 4)
		add(2, []string{"home-office"}, nil, 0)
		add(2, []string{"dfe"}, []string{"education"}, 1)
		add(5, nil, []string{"housing"}, 0)
		d.insert(ms...)
		f := analytics.Filter{From: day0, To: day0.Add(hours(24 * 7))}
		depts, err := d.a.TopDepartments(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := "dwp 10 7 0.70; hmrc 4 4 1.00; dfe 2 1 0.50; home-office 2 0 0.00"
		if got := slugCounts(depts); got != want {
			t.Errorf("top departments:\n got %s\nwant %s", got, want)
		}
		topics, err := d.a.TopTopics(ctx, f, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slugCounts(topics), "welfare 10 7 0.70; housing 5 0 0.00"; got != want {
			t.Errorf("top 2 topics:\n got %s\nwant %s", got, want)
		}
		f.Department = "hmrc"
		co, err := d.a.TopDepartments(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slugCounts(co), "dwp 4 4 1.00; hmrc 4 4 1.00"; got != want {
			t.Errorf("departments tagged with hmrc:\n got %s\nwant %s", got, want)
		}
		// 24 hours: the hourly rollup gives the same answer.
		f = analytics.Filter{From: day0.Add(hours(24)), To: day0.Add(hours(48)), Topic: "welfare"}
		topics, err = d.a.TopTopics(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := slugCounts(topics), "welfare 10 7 0.70; tax 4 4 1.00"; got != want {
			t.Errorf("topics tagged with welfare, by hour:\n got %s\nwant %s", got, want)
		}
	})

	t.Run("spikes", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		var ms []m
		// From 12 hours before the range to its end: hmrc an even 25
		// an hour (above the minimum, never 3 times its mean); dwp 5 an
		// hour, then 40 at 15:00, tagged welfare too (a topic with no
		// history).
		for h := -12; h < 24; h++ {
			at := day0.Add(hours(h))
			for i := 0; i < 25; i++ {
				ms = append(ms, m{id: fmt.Sprintf("hmrc-%d-%d", h, i), at: at.Add(time.Duration(i) * time.Minute), depts: []string{"hmrc"}})
			}
			n, topics := 5, []string(nil)
			if h == 15 {
				n, topics = 40, []string{"welfare"}
			}
			for i := 0; i < n; i++ {
				ms = append(ms, m{id: fmt.Sprintf("dwp-%d-%d", h, i), at: at.Add(time.Duration(i) * time.Minute), depts: []string{"dwp"},
					topics: topics, likes: uint64(i), label: "negative", score: -0.5})
			}
		}
		d.insert(ms...)
		f := analytics.Filter{From: day0, To: day0.Add(hours(24))}
		spikes, err := d.a.Spikes(ctx, f, 10, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range spikes {
			var ids []string
			for _, dm := range s.Drivers {
				ids = append(ids, dm.ID)
			}
			got = append(got, fmt.Sprintf("%s:%s %s n=%d base=%.1f sd=%.1f drivers=%v", s.Scope, s.Slug, s.Start.Format("15:04"),
				s.Mentions, s.Baseline, s.StdDev, ids))
		}
		want := []string{
			"department:dwp 15:00 n=40 base=5.0 sd=0.0 drivers=[dwp-15-39 dwp-15-38 dwp-15-37]",
			"topic:welfare 15:00 n=40 base=0.0 sd=0.0 drivers=[dwp-15-39 dwp-15-38 dwp-15-37]",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("spikes:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		// Filtered to hmrc, whose series is even: no spike.
		f.Department = "hmrc"
		if spikes, err := d.a.Spikes(ctx, f, 10, 3); err != nil || len(spikes) != 0 {
			t.Errorf("an even series has spikes: %+v, %v", spikes, err)
		}
		// A higher minimum hides it.
		d.a.MinMentions = 41
		f.Department = ""
		if spikes, err := d.a.Spikes(ctx, f, 10, 3); err != nil || len(spikes) != 0 {
			t.Errorf("40 mentions with a minimum of 41: %+v, %v", spikes, err)
		}
	})

	t.Run("negative mentions", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		at := day0.Add(hours(5))
		d.insert(
			m{id: "n1", at: at, label: "negative", score: -0.8, likes: 10, depts: []string{"dwp"}},
			m{id: "n2", at: at.Add(time.Minute), label: "negative", score: -0.4, likes: 300},
			m{id: "n3", at: at.Add(2 * time.Minute), label: "negative", score: -0.9, likes: 50, platform: "facebook"},
			m{id: "pos", at: at, label: "positive", score: 0.9, likes: 1000},
			m{id: "own", at: at, label: "negative", score: -0.5, likes: 5000, own: true},
			m{id: "old", at: day0.Add(-hours(1)), label: "negative", score: -0.5, likes: 9000},
		)
		f := analytics.Filter{From: day0, To: day0.Add(hours(24))}
		got, err := d.a.NegativeMentions(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := mentionIDs(got); ids != "n2 n3 n1" {
			t.Errorf("negative mentions %s, want n2 n3 n1 (most engaged first; not positive, own or out of range)", ids)
		}
		if len(got) > 0 && (got[0].URL != "https://example.invalid/n2" || got[0].Engagement != 300 || got[0].SentimentLabel != "negative") {
			t.Errorf("first: %+v", got[0])
		}
		f.Platform = "facebook"
		if got, err := d.a.NegativeMentions(ctx, f, 10); err != nil || mentionIDs(got) != "n3" {
			t.Errorf("facebook only: %s %v", mentionIDs(got), err)
		}
		f.Platform, f.Department = "", "dwp"
		if got, err := d.a.NegativeMentions(ctx, f, 1); err != nil || mentionIDs(got) != "n1" {
			t.Errorf("dwp only: %s %v", mentionIDs(got), err)
		}
	})

	t.Run("questions and response times", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		t0 := day0.Add(hours(6))
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		dwp := []string{"dwp"}
		d.insert(
			// answered: a reply to it, an hour later
			m{id: "q1", at: at(0), thread: "A", text: "How do I apply for this?", depts: dwp},
			m{id: "r1", at: at(3600), thread: "A", parent: "q1", own: true, srcDept: "dwp", text: "Like this"},
			// answered: a question without '?', collected for dwp; an own
			// mention later in its thread
			m{id: "q2", at: at(100), thread: "B", text: "When will my payment arrive", srcDept: "dwp"},
			m{id: "r2", at: at(7300), thread: "B", parent: "B", own: true, srcDept: "dwp"},
			// unanswered, addressed to dfe by replying to dfe's own post
			m{id: "p3", at: at(-3600), thread: "C", kind: "post", own: true, srcDept: "dfe", text: "Our new guidance"},
			m{id: "q3", at: at(200), thread: "C", parent: "p3", text: "is anyone reading these?"},
			// unanswered: the own mention of its thread came before it
			m{id: "r4", at: at(250), thread: "D", own: true, srcDept: "dwp"},
			m{id: "q4", at: at(300), thread: "D", text: "Why is this so slow?", depts: dwp},
			// answered after 10000 s, 600 s, and after two days (beyond the range)
			m{id: "q5", at: at(400), thread: "E", text: "What is going on", depts: dwp},
			m{id: "r5", at: at(10400), thread: "E", parent: "q5", own: true},
			m{id: "q6", at: at(500), thread: "F", text: "does anyone know the deadline?", depts: dwp},
			m{id: "r6", at: at(500 + 172800), thread: "F", parent: "q6", own: true},
			m{id: "q7", at: at(600), thread: "G", text: "Where do I send it?", depts: dwp},
			m{id: "r7", at: at(1200), thread: "G", parent: "q7", own: true},
			// not questions, or not addressed, or not in range, or own
			m{id: "x1", at: at(700), thread: "H", text: "However nice the letter was, it was late.", depts: dwp},
			m{id: "x2", at: at(800), thread: "H", text: "Great service, thanks", depts: dwp},
			m{id: "x3", at: at(900), thread: "I", text: "Who knows?"},
			m{id: "x4", at: day0.Add(-hours(2)), thread: "J", text: "How now?", depts: dwp},
			m{id: "x5", at: at(1000), thread: "K", text: "Can we help?", depts: dwp, own: true, srcDept: "dwp"},
		)
		// Two questions delivered twice: still one question each.
		d.insert(m{id: "q1", at: at(0), thread: "A", text: "How do I apply for this?", depts: dwp},
			m{id: "q4", at: at(300), thread: "D", text: "Why is this so slow?", depts: dwp})
		f := analytics.Filter{From: day0, To: day0.Add(hours(24))}
		d.a.Now = func() time.Time { return day0.Add(hours(24 * 5)) }
		un, err := d.a.Unanswered(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, q := range un {
			got = append(got, q.ID+":"+strings.Join(q.Addressed, ","))
		}
		if fmt.Sprint(got) != "[q4:dwp q3:dfe]" {
			t.Errorf("unanswered %v, want [q4:dwp q3:dfe] (newest first)", got)
		}
		f.Department = "dfe"
		if un, err := d.a.Unanswered(ctx, f, 10); err != nil || len(un) != 1 || un[0].ID != "q3" {
			t.Errorf("unanswered for dfe: %+v %v", un, err)
		}
		f.Department = ""
		resp, err := d.a.ResponseTimes(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, r := range resp {
			got = append(got, fmt.Sprintf("%s q=%d answered=%d unanswered=%d median=%d p90=%d within_day=%.3f of %d",
				r.Department, r.Questions, r.Answered, r.Unanswered, r.MedianSeconds, r.P90Seconds, r.WithinDayShare, r.DayBase))
		}
		// dwp's delays: 600, 3600, 7200, 10000, 172800 s.
		want := []string{
			"dwp q=6 answered=5 unanswered=1 median=7200 p90=172800 within_day=0.667 of 6",
			"dfe q=1 answered=0 unanswered=1 median=0 p90=0 within_day=0.000 of 1",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("response times:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		// Questions younger than a day are not in the within-a-day share.
		d.a.Now = func() time.Time { return at(86400 + 450) }
		resp, err = d.a.ResponseTimes(ctx, analytics.Filter{From: day0, To: day0.Add(hours(24)), Department: "dwp"})
		if err != nil || len(resp) != 1 || resp[0].DayBase != 4 || !near(resp[0].WithinDayShare, 0.75) {
			t.Errorf("dwp a day after: %+v %v (want 4 questions a day old, 3 answered within it)", resp, err)
		}
	})

	t.Run("alerts", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		batch, err := d.st.Conn().PrepareBatch(ctx, "INSERT INTO "+d.st.DB()+".alerts (id, period, scope, slug, period_start, mentions, baseline, explanation, detected_at)")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []struct {
			id, period, scope, slug string
			start                   time.Time
		}{
			{"a1", "hour", "department", "dwp", day0.Add(hours(3))},
			{"a2", "day", "topic", "welfare", day0},
			{"a3", "hour", "department", "hmrc", day0.Add(hours(5))},
			{"a4", "hour", "department", "dwp", day0.Add(-hours(5))},
		} {
			if err := batch.Append(a.id, a.period, a.scope, a.slug, a.start, uint64(50), 10.5, "explained "+a.id, day0.Add(hours(30))); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
		f := analytics.Filter{From: day0, To: day0.Add(hours(24))}
		all, err := d.a.Alerts(ctx, f, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range all {
			ids = append(ids, a.ID)
		}
		if fmt.Sprint(ids) != "[a3 a1 a2]" {
			t.Errorf("alerts %v, want [a3 a1 a2] (in range, newest first)", ids)
		}
		if len(all) > 0 && (all[0].Period != "hour" || all[0].Scope != "department" || all[0].Slug != "hmrc" || all[0].Mentions != 50 || all[0].Explanation != "explained a3") {
			t.Errorf("alert a3: %+v", all[0])
		}
		f.Department = "dwp"
		if got, err := d.a.Alerts(ctx, f, 10); err != nil || len(got) != 1 || got[0].ID != "a1" {
			t.Errorf("alerts for dwp: %+v %v", got, err)
		}
	})

	t.Run("summary", func(t *testing.T) {
		d := newDB(t, srv.DSN)
		d.insert(m{id: "s1", at: day0.Add(hours(2)), depts: []string{"dwp"}, label: "negative", score: -0.5, text: "Can anyone help?"})
		s, err := d.a.Summary(ctx, analytics.Filter{From: day0.Add(30 * time.Minute), To: day0.Add(hours(23) + time.Minute)}, analytics.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Filter.From.Equal(day0) || !s.Filter.To.Equal(day0.Add(hours(24))) || s.Granularity != analytics.Hour {
			t.Errorf("summary filter %+v %s, want the range widened to whole hours", s.Filter, s.Granularity)
		}
		if len(s.Series) != 24 || s.Series[2].Mentions != 1 || len(s.TopDepartments) != 1 || len(s.Negative) != 1 || len(s.Unanswered) != 1 || len(s.Responses) != 1 {
			t.Errorf("summary %+v", s)
		}
		_, err = d.a.Summary(ctx, analytics.Filter{From: day0, To: day0, Platform: "x"}, analytics.Limits{})
		var fe *analytics.FilterError
		if !errors.As(err, &fe) || fe.Field != "to" {
			t.Errorf("empty range: %v, want a FilterError on to", err)
		}
	})
}

func slugCounts(s []analytics.SlugCount) string {
	var parts []string
	for _, c := range s {
		parts = append(parts, fmt.Sprintf("%s %d %d %.2f", c.Slug, c.Mentions, c.Negative, c.NegativeShare))
	}
	return strings.Join(parts, "; ")
}

func mentionIDs(ms []analytics.Mention) string {
	var ids []string
	for _, x := range ms {
		ids = append(ids, x.ID)
	}
	return strings.Join(ids, " ")
}

func TestFilter(t *testing.T) {
	ok := analytics.Filter{From: day0, To: day0.Add(hours(24))}
	for _, tc := range []struct {
		f     func(f *analytics.Filter)
		field string
	}{
		{func(f *analytics.Filter) { f.From = time.Time{} }, "from"},
		{func(f *analytics.Filter) { f.To = time.Time{} }, "to"},
		{func(f *analytics.Filter) { f.To = f.From }, "to"},
		{func(f *analytics.Filter) { f.To = f.From.Add(analytics.MaxRange + time.Hour) }, "to"},
		{func(f *analytics.Filter) { f.Department = "DWP'; DROP TABLE mentions" }, "department"},
		{func(f *analytics.Filter) { f.Topic = "<script>" }, "topic"},
		{func(f *analytics.Filter) { f.Platform = "myspace" }, "platform"},
	} {
		f := ok
		tc.f(&f)
		err := f.Validate()
		var fe *analytics.FilterError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v, want an error on %s", f, err, tc.field)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid filter: %v", err)
	}
	for _, tc := range []struct {
		from, to   time.Time
		g          analytics.Granularity
		afrom, ato time.Time
		buckets    int
	}{
		{day0.Add(90 * time.Minute), day0.Add(hours(5) + time.Second), analytics.Hour, day0.Add(hours(1)), day0.Add(hours(6)), 5},
		{day0, day0.Add(analytics.HourlyUpTo), analytics.Hour, day0, day0.Add(analytics.HourlyUpTo), 72},
		{day0.Add(hours(5)), day0.Add(hours(24*6 + 1)), analytics.Day, day0, day0.Add(hours(24 * 7)), 7},
	} {
		f := analytics.Filter{From: tc.from, To: tc.to}
		a := f.Aligned()
		if f.Granularity() != tc.g || !a.From.Equal(tc.afrom) || !a.To.Equal(tc.ato) || len(f.Buckets()) != tc.buckets {
			t.Errorf("%s..%s: %s, aligned %s..%s, %d buckets", tc.from, tc.to, f.Granularity(), a.From, a.To, len(f.Buckets()))
		}
	}
}
