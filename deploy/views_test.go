package deploy_test

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// analystViews are the views of deploy/clickhouse/007_analyst_views.sql.
var analystViews = []string{
	"mentions_tagged", "daily_departments", "daily_topics", "daily_department_topics",
	"authors", "responses", "responses_daily", "thread_sentiment",
}

// day0 is the day of the hand-made dataset.
var day0 = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)

// handRow is one mention of the hand-made dataset.
type handRow struct {
	platform, id, thread, parent, handle, text string
	at                                         time.Duration // after day0
	depts, topics                              []string
	sourceDept                                 string
	own                                        bool
	score                                      float64
	label, lang                                string
}

// handMade is a small dataset whose response-tracking numbers are worked
// out by hand in TestAnalystViews. Twitter threads T1-T4 are about dwp:
//
//	T1  q1 question 09:00, answered by DWPgovuk's reply r1 to it at 11:00 (2 h)
//	T2  q2 question ("How ..." without ?) addressed through its source only,
//	    answered by r2 the next day at 14:00 (30 h)
//	T3  q3 question 07:00, unanswered: dwp's own post o3 came before it, the
//	    reply h3 is HMRC's, yr3 is dwp's but on YouTube, pr3 is the public's
//	T4  c1 complaint 10:00, answered at 11:00 (1 h) by r4, a later own
//	    mention in the thread that replies to something else
//
// plus mentions that must not count: public replies (p0, p1, pr3, not
// addressed to a department), a Welsh one that cannot be scored (u1), and
// a YouTube comment (y1).
func handMade() []sink.Row {
	h := time.Hour
	dwp, none := []string{"dwp"}, []string{}
	src := []handRow{
		{"twitter", "q1", "T1", "", "alice", "@DWP when will my payment arrive?", 9 * h, dwp, []string{"welfare"}, "", false, 0, "neutral", "en"},
		{"twitter", "p0", "T1", "q1", "dan", "Same here, still waiting", 10 * h, none, none, "", false, -0.6, "negative", "en"},
		{"twitter", "r1", "T1", "q1", "DWPgovuk", "Sorry to hear that, please DM us", 11 * h, none, none, "dwp", true, 0.2, "positive", "en"},
		{"twitter", "p1", "T1", "r1", "erin", "Thanks, sorted now", 12 * h, none, none, "", false, 0.5, "positive", "en"},
		{"twitter", "u1", "T1", "q1", "gwen", "Diolch yn fawr", 12*h + 30*time.Minute, none, none, "", false, 0, "unsupported", "cy"},
		{"twitter", "q2", "T2", "", "bob", "How do I appeal a sanction", 8 * h, none, none, "dwp", false, 0.1, "neutral", "en"},
		{"twitter", "r2", "T2", "q2", "DWPgovuk", "Here is how to appeal", 38 * h, none, none, "dwp", true, 0.1, "neutral", "en"},
		{"twitter", "o3", "T3", "", "DWPgovuk", "Our guide to Universal Credit payments", 6 * h, dwp, []string{"welfare"}, "dwp", true, 0, "neutral", "en"},
		{"twitter", "q3", "T3", "o3", "carol", "Is anyone at DWP reading this?", 7 * h, dwp, none, "", false, 0, "neutral", "en"},
		{"twitter", "pr3", "T3", "q3", "frank", "Don't hold your breath", 8 * h, none, none, "", false, -0.5, "negative", "en"},
		{"twitter", "h3", "T3", "q3", "HMRCgovuk", "This one is for DWP", 9 * h, none, none, "hmrc", true, 0, "neutral", "en"},
		{"youtube", "yr3", "T3", "", "DWPgovuk", "Video replies are read too", 9*h + 30*time.Minute, none, none, "dwp", true, 0, "neutral", "en"},
		{"twitter", "c1", "T4", "", "alice", "Absolutely useless service. Nobody answers.", 10 * h, dwp, []string{"welfare", "cost-of-living"}, "", false, -0.8, "negative", "en"},
		{"twitter", "r4", "T4", "x-other", "DWPgovuk", "We are looking into the delays", 11 * h, none, none, "dwp", true, 0, "neutral", "en"},
		{"youtube", "y1", "V5", "V5", "alice", "Great video, very clear", 13 * h, none, none, "", false, 0.7, "positive", "en"},
	}
	var rows []sink.Row
	for i, s := range src {
		kind := mention.KindReply
		if s.parent == "" {
			kind = mention.KindPost
		} else if s.platform == mention.YouTube {
			kind = mention.KindComment
		}
		at := day0.Add(s.at)
		m := &mention.Mention{
			V: mention.Version, Platform: s.platform, ID: s.id, Kind: kind, ParentID: s.parent, ThreadID: s.thread,
			AuthorID: "id-" + s.handle, AuthorHandle: s.handle, AuthorName: strings.ToUpper(s.handle[:1]) + s.handle[1:],
			Text: s.text, Lang: s.lang, URL: "https://example.invalid/" + s.platform + "/" + s.id,
			CreatedAt: at, CollectedAt: at.Add(time.Minute),
			Metrics: mention.Metrics{Likes: uint64(10 * i), Replies: 1, Shares: 2},
			Source:  mention.Source{Name: "hand", Department: s.sourceDept}, Own: s.own, Raw: []byte(`{}`),
		}
		var matched []string
		for _, d := range s.depts {
			matched = append(matched, d+":hand")
		}
		rows = append(rows, sink.Row{M: m, Taxonomy: "hand@1", Tags: tagger.Tags{
			Departments: s.depts, Topics: s.topics, Lang: s.lang, Matched: matched,
			Sentiment: tagger.Score{Score: s.score, Label: s.label},
		}})
	}
	return rows
}

func TestAnalystViews(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("analyst_views"))
	rows := handMade()
	// Twice, as a redelivery would: the views must count each mention once.
	insertRows(t, st, rows)
	insertRows(t, st, rows)

	t.Run("responses", func(t *testing.T) {
		cols, got := queryText(t, st, "SELECT department, id, is_question, is_complaint, answered, answered_by, first_reply_id, "+
			"response_seconds, answered_within_day, first_reply_at, day FROM analyst_views.responses ORDER BY department, id")
		want := [][]string{
			// department id question complaint answered by reply seconds within_day first_reply_at day
			{"dwp", "c1", "0", "1", "1", "DWPgovuk", "r4", "3600", "1", "2026-11-10 11:00:00", "2026-11-10"},
			{"dwp", "q1", "1", "0", "1", "DWPgovuk", "r1", "7200", "1", "2026-11-10 11:00:00", "2026-11-10"},
			{"dwp", "q2", "1", "0", "1", "DWPgovuk", "r2", "108000", "0", "2026-11-11 14:00:00", "2026-11-10"},
			{"dwp", "q3", "1", "0", "0", "", "", "NULL", "0", "NULL", "2026-11-10"},
		}
		sameRows(t, cols, got, want)
		// The Go rules of dataset_test.go say the same, which the queries test
		// then relies on for a larger dataset.
		var fromGo [][]string
		for _, r := range expectedResponses(rows) {
			fromGo = append(fromGo, []string{r.department, r.id, strconv.FormatBool(r.answered), r.by, strconv.FormatInt(r.seconds, 10)})
		}
		slices.SortFunc(fromGo, func(a, b []string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
		wantGo := [][]string{
			{"dwp", "c1", "true", "DWPgovuk", "3600"}, {"dwp", "q1", "true", "DWPgovuk", "7200"},
			{"dwp", "q2", "true", "DWPgovuk", "108000"}, {"dwp", "q3", "false", "", "0"},
		}
		if fmt.Sprint(fromGo) != fmt.Sprint(wantGo) {
			t.Errorf("expectedResponses = %v, want %v", fromGo, wantGo)
		}
	})

	t.Run("responses_daily", func(t *testing.T) {
		cols, got := queryText(t, st, "SELECT day, department, addressed, questions, complaints, answered, unanswered, answered_share, "+
			"median_response_seconds, p90_response_seconds, answered_within_day_share FROM analyst_views.responses_daily ORDER BY day, department")
		// Answered after 1 h, 2 h and 30 h: median 2 h; p90 interpolates
		// 80% of the way from 2 h to 30 h: 7200 + 0.8 * 100800 = 87840 s.
		// Within a day: c1 and q1 of the four.
		want := [][]string{{"2026-11-10", "dwp", "4", "3", "1", "3", "1", "0.75", "7200", "87840", "0.5"}}
		sameRows(t, cols, got, want)
		if p90 := quantile([]float64{3600, 7200, 108000}, 0.9); p90 != 87840 {
			t.Errorf("Go quantile p90 = %v, want 87840", p90)
		}
	})

	t.Run("thread_sentiment", func(t *testing.T) {
		cols, got := queryText(t, st, "SELECT day, platform, thread_id, department, first_reply_id, replied_by, before_mentions, after_mentions, "+
			"round(before_sentiment, 4), round(after_sentiment, 4), round(sentiment_change, 4), before_negative_share, after_negative_share "+
			"FROM analyst_views.thread_sentiment ORDER BY platform, thread_id, department")
		want := [][]string{
			// T1: before q1 (0) and p0 (-0.6); after p1 (0.5); u1 is unscored.
			{"2026-11-10", "twitter", "T1", "dwp", "r1", "DWPgovuk", "2", "1", "-0.3", "0.5", "0.8", "0.5", "0"},
			{"2026-11-11", "twitter", "T2", "dwp", "r2", "DWPgovuk", "1", "0", "0.1", "NULL", "NULL", "0", "NULL"},
			// T3: dwp's first own mention (o3, 06:00) came before the public's.
			{"2026-11-10", "twitter", "T3", "dwp", "o3", "DWPgovuk", "0", "2", "NULL", "-0.25", "NULL", "NULL", "0.5"},
			{"2026-11-10", "twitter", "T3", "hmrc", "h3", "HMRCgovuk", "2", "0", "-0.25", "NULL", "NULL", "0.5", "NULL"},
			{"2026-11-10", "twitter", "T4", "dwp", "r4", "DWPgovuk", "1", "0", "-0.8", "NULL", "NULL", "1", "NULL"},
		}
		sameRows(t, cols, got, want)
	})

	t.Run("authors", func(t *testing.T) {
		cols, got := queryText(t, st, "SELECT author_handle, author_name, mentions, platforms, negative, round(negative_share, 4), "+
			"first_seen, last_seen, own, departments, topics FROM analyst_views.authors WHERE author_handle IN ('alice', 'DWPgovuk') ORDER BY author_handle")
		want := [][]string{
			{"DWPgovuk", "DWPgovuk", "5", "[twitter youtube]", "0", "0", "2026-11-10 06:00:00", "2026-11-11 14:00:00", "1", "[dwp]", "[welfare]"},
			{"alice", "Alice", "3", "[twitter youtube]", "1", "0.3333", "2026-11-10 09:00:00", "2026-11-10 13:00:00", "0", "[dwp]", "[cost-of-living welfare]"},
		}
		sameRows(t, cols, got, want)
	})

	t.Run("mentions_tagged", func(t *testing.T) {
		_, got := queryText(t, st, "SELECT count(), uniqExact(platform, id), countIf(department = '' AND topic = '') FROM analyst_views.mentions_tagged")
		var rowsWant, plain int
		for _, r := range rows {
			rowsWant += max(1, len(r.Tags.Departments)) * max(1, len(r.Tags.Topics))
			if len(r.Tags.Departments) == 0 && len(r.Tags.Topics) == 0 {
				plain++
			}
		}
		if want := []string{strconv.Itoa(rowsWant), strconv.Itoa(len(rows)), strconv.Itoa(plain)}; fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("mentions_tagged rows, mentions, untagged = %v, want %v", got[0], want)
		}
		_, got = queryText(t, st, "SELECT department, topic, engagement FROM analyst_views.mentions_tagged WHERE id = 'c1' ORDER BY topic")
		if fmt.Sprint(got) != "[[dwp cost-of-living 123] [dwp welfare 123]]" {
			t.Errorf("c1 in mentions_tagged = %v", got)
		}
	})

	t.Run("daily", func(t *testing.T) {
		checkDaily(t, st, "analyst_views", rows)
	})

	t.Run("comments", func(t *testing.T) {
		// Every column of every table and view has a COMMENT, except those
		// of materialized views (whose columns are their target table's)
		// and of the two views of 002 and 005, which predate this rule.
		_, got := queryText(t, st, "SELECT table, name FROM system.columns WHERE database = 'analyst_views' AND comment = '' "+
			"AND table NOT IN (SELECT name FROM system.tables WHERE database = 'analyst_views' AND engine = 'MaterializedView') "+
			"AND table NOT IN ('mentions_daily_tags', 'mentions_hourly_tags') ORDER BY table, name")
		for _, r := range got {
			t.Errorf("column %s.%s has no COMMENT", r[0], r[1])
		}
	})

	t.Run("docs/schema.md", func(t *testing.T) {
		// Every table and view has a section "### name" listing every
		// column as "| `name` | `type` | ...", so the page cannot fall
		// behind the DDL.
		doc, err := os.ReadFile("../docs/schema.md")
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]string{}
		var name string
		for _, line := range strings.Split(string(doc), "\n") {
			switch {
			case strings.HasPrefix(line, "### "):
				name = strings.TrimSpace(strings.TrimPrefix(line, "### "))
			case strings.HasPrefix(line, "## "):
				name = ""
			case name != "":
				sections[name] += line + "\n"
			}
		}
		_, cols := queryText(t, st, "SELECT table, name, type FROM system.columns WHERE database = 'analyst_views' "+
			"AND table NOT IN (SELECT name FROM system.tables WHERE database = 'analyst_views' AND engine = 'MaterializedView')")
		for _, c := range cols {
			sec, ok := sections[c[0]]
			if !ok {
				t.Errorf("docs/schema.md has no section ### %s", c[0])
				sections[c[0]] = "reported"
				continue
			}
			if want := "| `" + c[1] + "` | `" + c[2] + "` |"; sec != "reported" && !strings.Contains(sec, want) {
				t.Errorf("docs/schema.md, ### %s: no row %s", c[0], want)
			}
		}
	})

	t.Run("declared types", func(t *testing.T) {
		// 18.16 keeps a view's column list as metadata only; current
		// releases convert the SELECT's result to it. Keep them identical.
		for _, v := range analystViews {
			_, declared := queryText(t, st, "SELECT name, type FROM system.columns WHERE database = 'analyst_views' AND table = '"+v+"'")
			rows, err := st.Conn().Query(t.Context(), "SELECT * FROM analyst_views."+v+" LIMIT 0")
			if err != nil {
				t.Fatal(err)
			}
			var actual [][]string
			for _, ct := range rows.ColumnTypes() {
				actual = append(actual, []string{ct.Name(), ct.DatabaseTypeName()})
			}
			rows.Close()
			if fmt.Sprint(declared) != fmt.Sprint(actual) {
				t.Errorf("view %s declares\n%v\nbut its SELECT gives\n%v", v, declared, actual)
			}
		}
	})
}

// checkDaily compares the daily_* views of database db with what rows say.
func checkDaily(t *testing.T, st *sink.Store, db string, rows []sink.Row) {
	t.Helper()
	type counts struct {
		mentions, negative, neutral, positive int
		sum                                   float64
		maxEng                                uint64
	}
	expect := func(key func(r sink.Row) [][]string) map[string]*counts {
		out := map[string]*counts{}
		for _, r := range dedupe(rows) {
			for _, k := range key(r) {
				id := strings.Join(k, " ")
				c := out[id]
				if c == nil {
					c = &counts{}
					out[id] = c
				}
				c.mentions++
				switch r.Tags.Sentiment.Label {
				case tagger.Negative:
					c.negative++
				case tagger.Neutral:
					c.neutral++
				case tagger.Positive:
					c.positive++
				}
				c.sum += float64(float32(r.Tags.Sentiment.Score))
				c.maxEng = max(c.maxEng, r.M.Metrics.Likes+r.M.Metrics.Shares+r.M.Metrics.Replies)
			}
		}
		return out
	}
	orNone := func(s []string) []string {
		if len(s) == 0 {
			return []string{""}
		}
		return s
	}
	dayOf := func(r sink.Row) string { return r.M.CreatedAt.UTC().Format(time.DateOnly) }
	for _, c := range []struct {
		view string
		keys string
		key  func(r sink.Row) [][]string
	}{
		{"daily_departments", "department", func(r sink.Row) (k [][]string) {
			for _, d := range orNone(r.Tags.Departments) {
				k = append(k, []string{dayOf(r), r.M.Platform, d})
			}
			return k
		}},
		{"daily_topics", "topic", func(r sink.Row) (k [][]string) {
			for _, tp := range orNone(r.Tags.Topics) {
				k = append(k, []string{dayOf(r), r.M.Platform, tp})
			}
			return k
		}},
		{"daily_department_topics", "department, topic", func(r sink.Row) (k [][]string) {
			for _, d := range orNone(r.Tags.Departments) {
				for _, tp := range orNone(r.Tags.Topics) {
					k = append(k, []string{dayOf(r), r.M.Platform, d, tp})
				}
			}
			return k
		}},
	} {
		want := expect(c.key)
		cols, got := queryText(t, st, "SELECT day, platform, "+c.keys+", mentions, negative, neutral, positive, negative_share, mean_sentiment, max_engagement FROM "+
			db+"."+c.view)
		n := len(cols) - 7
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d", c.view, len(got), len(want))
		}
		for _, g := range got {
			id := strings.Join(g[:n], " ")
			w := want[id]
			if w == nil {
				t.Errorf("%s: unexpected row %v", c.view, g)
				continue
			}
			counts := fmt.Sprint(g[n : n+4])
			if wc := fmt.Sprint([]int{w.mentions, w.negative, w.neutral, w.positive}); counts != wc {
				t.Errorf("%s %s: mentions, negative, neutral, positive = %s, want %s", c.view, id, counts, wc)
			}
			share, _ := strconv.ParseFloat(g[n+4], 64)
			mean, _ := strconv.ParseFloat(g[n+5], 64)
			if math.Abs(share-float64(w.negative)/float64(w.mentions)) > 1e-9 || math.Abs(mean-w.sum/float64(w.mentions)) > 1e-6 ||
				g[n+6] != strconv.FormatUint(w.maxEng, 10) {
				t.Errorf("%s %s: negative_share, mean_sentiment, max_engagement = %v, want %v %v %v", c.view, id, g[n+4:],
					float64(w.negative)/float64(w.mentions), w.sum/float64(w.mentions), w.maxEng)
			}
		}
	}
}

// sameRows fails unless got equals want, printing both.
func sameRows(t *testing.T, cols []string, got, want [][]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		var b strings.Builder
		fmt.Fprintf(&b, "columns %v\ngot:\n", cols)
		for _, r := range got {
			fmt.Fprintf(&b, "  %v\n", r)
		}
		b.WriteString("want:\n")
		for _, r := range want {
			fmt.Fprintf(&b, "  %v\n", r)
		}
		t.Error(b.String())
	}
}
