package deploy_test

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/docqueries"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// TestDocQueries runs every example of docs/queries.md against a
// ClickHouse holding the synthetic dataset of dataset_test.go: each must
// succeed and return rows, and three must return exactly what the dataset
// says.
func TestDocQueries(t *testing.T) {
	queries, err := docqueries.Read("../docs/queries.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) != 10 {
		t.Fatalf("docs/queries.md has %d sql blocks, want 10", len(queries))
	}
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("analyst_queries"))
	// Every mention lies in the 20 days before an hour ago, inside every
	// 30-day window of the examples.
	rows := syntheticRows(time.Now().Add(-time.Hour))
	insertRows(t, st, rows)

	checks := map[string]func(t *testing.T, cols []string, got [][]string){
		"1. Daily volume and negative share per department, last 30 days": func(t *testing.T, cols []string, got [][]string) {
			checkDailyVolume(t, cols, got, rows)
		},
		"5. Median response time per department": func(t *testing.T, cols []string, got [][]string) {
			checkResponseTimes(t, cols, got, rows)
		},
		"8. Welsh-language mentions per department": func(t *testing.T, cols []string, got [][]string) {
			checkWelsh(t, cols, got, rows)
		},
	}
	for _, q := range queries {
		t.Run(q.Title, func(t *testing.T) {
			if !strings.Contains(q.SQL, "govlisten.") {
				t.Fatalf("query names no govlisten. table:\n%s", q.SQL)
			}
			sql := strings.ReplaceAll(q.SQL, "govlisten.", "analyst_queries.")
			cols, got := queryText(t, st, sql)
			if len(got) == 0 {
				t.Fatalf("no rows from\n%s", sql)
			}
			if check := checks[q.Title]; check != nil {
				check(t, cols, got)
				delete(checks, q.Title)
			}
		})
	}
	for title := range checks {
		t.Errorf("no query titled %q in docs/queries.md", title)
	}

	// The examples in docs/schema.md run too.
	t.Run("docs/schema.md examples", func(t *testing.T) {
		doc, err := os.ReadFile("../docs/schema.md")
		if err != nil {
			t.Fatal(err)
		}
		// The settled counts' example needs settled days: settle as if
		// the data had stopped arriving a while ago.
		if _, err := st.Settle(t.Context(), time.Now().Add(sink.SettleQuiet+time.Minute)); err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
		if len(blocks) == 0 {
			t.Fatal("no sql blocks in docs/schema.md")
		}
		for _, b := range blocks {
			if _, got := queryText(t, st, strings.ReplaceAll(b[1], "govlisten.", "analyst_queries.")); len(got) == 0 {
				t.Errorf("no rows from\n%s", b[1])
			}
		}
	})

	// The views under the examples, on the same larger dataset.
	t.Run("daily views", func(t *testing.T) { checkDaily(t, st, "analyst_queries", rows) })
	t.Run("responses view", func(t *testing.T) {
		_, got := queryText(t, st, "SELECT platform, id, department, answered, answered_by, first_reply_id, ifNull(response_seconds, 0) "+
			"FROM analyst_queries.responses")
		var gotRows, wantRows []string
		for _, g := range got {
			gotRows = append(gotRows, strings.Join(g, " "))
		}
		for _, r := range expectedResponses(rows) {
			answered := 0
			if r.answered {
				answered = 1
			}
			wantRows = append(wantRows, fmt.Sprintf("%s %s %s %d %s %s %d", r.platform, r.id, r.department, answered, r.by, r.replyID, r.seconds))
		}
		sort.Strings(gotRows)
		sort.Strings(wantRows)
		if len(gotRows) != len(wantRows) {
			t.Fatalf("responses has %d rows, want %d", len(gotRows), len(wantRows))
		}
		for i := range gotRows {
			if gotRows[i] != wantRows[i] {
				t.Errorf("responses row %q, want %q", gotRows[i], wantRows[i])
			}
		}
	})
}

func checkDailyVolume(t *testing.T, cols []string, got [][]string, rows []sink.Row) {
	idx := columnIndex(t, cols, "day", "department", "total_mentions", "negative_mentions", "negative_share")
	type count struct{ mentions, negative int }
	want := map[string]*count{}
	for _, r := range dedupe(rows) {
		for _, d := range r.Tags.Departments {
			k := r.M.CreatedAt.UTC().Format(time.DateOnly) + " " + d
			if want[k] == nil {
				want[k] = &count{}
			}
			want[k].mentions++
			if r.Tags.Sentiment.Label == tagger.Negative {
				want[k].negative++
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d (one per day and department)", len(got), len(want))
	}
	for _, g := range got {
		k := g[idx["day"]] + " " + g[idx["department"]]
		w := want[k]
		if w == nil {
			t.Errorf("unexpected row %v", g)
			continue
		}
		share := math.Round(float64(w.negative)/float64(w.mentions)*1000) / 1000
		if g[idx["total_mentions"]] != strconv.Itoa(w.mentions) || g[idx["negative_mentions"]] != strconv.Itoa(w.negative) ||
			!near(g[idx["negative_share"]], share, 0.0011) {
			t.Errorf("%s: got %v, want %d mentions, %d negative, share %.3f", k, g, w.mentions, w.negative, share)
		}
	}
}

func checkResponseTimes(t *testing.T, cols []string, got [][]string, rows []sink.Row) {
	idx := columnIndex(t, cols, "department", "addressed", "answered_count", "median_hours", "p90_hours", "within_day_share")
	type agg struct {
		addressed, answered, withinDay int
		seconds                        []float64
	}
	want := map[string]*agg{}
	for _, r := range expectedResponses(rows) {
		a := want[r.department]
		if a == nil {
			a = &agg{}
			want[r.department] = a
		}
		a.addressed++
		if r.answered {
			a.answered++
			a.seconds = append(a.seconds, float64(r.seconds))
			if r.seconds <= 86400 {
				a.withinDay++
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d departments, want %d", len(got), len(want))
	}
	answered := 0
	for _, g := range got {
		d := g[idx["department"]]
		w := want[d]
		if w == nil {
			t.Errorf("unexpected department %v", g)
			continue
		}
		answered += w.answered
		median := math.Round(quantile(w.seconds, 0.5)/3600*100) / 100
		p90 := math.Round(quantile(w.seconds, 0.9)/3600*100) / 100
		within := math.Round(float64(w.withinDay)/float64(w.addressed)*1000) / 1000
		if g[idx["addressed"]] != strconv.Itoa(w.addressed) || g[idx["answered_count"]] != strconv.Itoa(w.answered) ||
			!near(g[idx["median_hours"]], median, 0.011) || !near(g[idx["p90_hours"]], p90, 0.011) || !near(g[idx["within_day_share"]], within, 0.0011) {
			t.Errorf("%s: got %v, want addressed %d, answered %d, median %.2f h, p90 %.2f h, within a day %.3f",
				d, g, w.addressed, w.answered, median, p90, within)
		}
	}
	if answered < 100 {
		t.Errorf("only %d answered mentions in the dataset: the check proves little", answered)
	}
}

func checkWelsh(t *testing.T, cols []string, got [][]string, rows []sink.Row) {
	idx := columnIndex(t, cols, "department", "welsh_mentions", "scored", "negative")
	want := map[string][3]int{}
	for _, r := range dedupe(rows) {
		if r.Tags.Lang != "cy" {
			continue
		}
		for _, d := range r.Tags.Departments {
			w := want[d]
			w[0]++
			if r.Tags.Sentiment.Label != "unsupported" {
				w[1]++
			}
			if r.Tags.Sentiment.Label == tagger.Negative {
				w[2]++
			}
			want[d] = w
		}
	}
	var gotRows, wantRows []string
	for _, g := range got {
		gotRows = append(gotRows, strings.Join([]string{g[idx["department"]], g[idx["welsh_mentions"]], g[idx["scored"]], g[idx["negative"]]}, " "))
	}
	for d, w := range want {
		wantRows = append(wantRows, fmt.Sprintf("%s %d %d %d", d, w[0], w[1], w[2]))
	}
	sort.Strings(gotRows)
	sort.Strings(wantRows)
	if fmt.Sprint(gotRows) != fmt.Sprint(wantRows) {
		t.Errorf("got %v\nwant %v", gotRows, wantRows)
	}
}

// near says whether the number s is within tol of want.
func near(s string, want, tol float64) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && math.Abs(v-want) <= tol
}
