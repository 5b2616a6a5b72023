package deploy_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// The helpers of the analyst tests: a synthetic dataset with tags and the
// departments' own replies, what the analyst views should say of any
// dataset (computed here in Go, independently of the SQL), and a way to run
// arbitrary SQL and read the rows back as text.

var (
	dataDepartments = []string{"dwp", "hmrc", "home-office", "dhsc", "dfe", "dft", "defra", "mhclg"}
	dataTopics      = []string{"welfare", "tax", "immigration", "health", "education", "transport", "environment", "housing", "cost-of-living"}
)

// syntheticRows returns about 3,300 tagged mentions posted over the 20 days
// before end: public mentions from internal/synth (X, YouTube, Facebook;
// posts, comments, replies; 400 threads per platform; 250 recurring
// authors), tagged here with seeded random departments, topics, sentiment,
// language (8% Welsh) and matched rules, and about 300 replies from the
// departments' own accounts to public questions and complaints addressed to
// them, 10 minutes to 40 hours later. The same end gives the same rows.
func syntheticRows(end time.Time) []sink.Row {
	end = end.UTC().Truncate(time.Second)
	g := synth.New(42)
	r := rand.New(rand.NewPCG(42, 7))
	pick := func(from []string, most int) []string {
		var out []string
		for range r.IntN(most + 1) {
			if s := from[r.IntN(len(from))]; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	var rows []sink.Row
	for range 3000 {
		m := g.Next()
		m.CreatedAt = end.Add(-time.Duration(r.Int64N(int64(20 * 24 * time.Hour)))).Truncate(time.Second)
		m.CollectedAt = m.CreatedAt.Add(5 * time.Minute)
		m.ThreadID = fmt.Sprintf("t%d", r.IntN(400))
		m.ParentID = ""
		if m.Kind != mention.KindPost {
			m.ParentID = m.ThreadID
		}
		m.AuthorHandle = fmt.Sprintf("citizen_%d", r.IntN(250))
		if r.IntN(10) < 3 {
			m.Source.Department = dataDepartments[r.IntN(len(dataDepartments))]
		}
		tags := tagger.Tags{
			Departments: pick(dataDepartments, 2),
			Topics:      pick(dataTopics, 2),
			Lang:        "en",
		}
		if r.IntN(100) < 8 {
			tags.Lang = "cy"
		}
		score := math.Round((r.Float64()*2-1)*1000) / 1000
		switch {
		case r.IntN(100) < 3:
			tags.Sentiment = tagger.Score{Score: 0, Label: "unsupported"}
		case score < -0.05:
			tags.Sentiment = tagger.Score{Score: score, Label: tagger.Negative}
		case score > 0.05:
			tags.Sentiment = tagger.Score{Score: score, Label: tagger.Positive}
		default:
			tags.Sentiment = tagger.Score{Score: score, Label: tagger.Neutral}
		}
		for _, s := range append(slices.Clone(tags.Departments), tags.Topics...) {
			tags.Matched = append(tags.Matched, s+":rule-"+s)
		}
		rows = append(rows, sink.Row{M: m, Tags: tags, Taxonomy: "uk-government@synthetic"})
	}
	public := len(rows)
	for i := range public {
		q := rows[i]
		addressed := addressedTo(q)
		if len(addressed) == 0 || !(isQuestion(q.M.Text) || q.Tags.Sentiment.Label == tagger.Negative) || r.IntN(3) == 0 {
			continue
		}
		dept := addressed[r.IntN(len(addressed))]
		at := q.M.CreatedAt.Add(10*time.Minute + time.Duration(r.Int64N(int64(40*time.Hour))))
		if at.After(end) {
			continue
		}
		reply := &mention.Mention{
			V: mention.Version, Platform: q.M.Platform, ID: "own-" + q.M.ID, Kind: mention.KindReply,
			ParentID: q.M.ID, ThreadID: q.M.ThreadID,
			AuthorID: "own-" + dept, AuthorHandle: dept + "_govuk", AuthorName: dept + " press office",
			Text: "Thanks for getting in touch. Please send us a direct message with your details.",
			URL:  "https://example.invalid/" + q.M.Platform + "/own-" + q.M.ID, CreatedAt: at, CollectedAt: at.Add(5 * time.Minute),
			Source: mention.Source{Name: dept + "-own", Department: dept}, Own: true, Raw: []byte(`{}`),
		}
		tags := tagger.Tags{Lang: "en", Sentiment: tagger.Score{Score: 0.3, Label: tagger.Positive}, Departments: []string{}, Topics: []string{}}
		if r.IntN(2) == 0 {
			tags.Departments = []string{dept}
			tags.Matched = []string{dept + ":rule-" + dept}
		}
		rows = append(rows, sink.Row{M: reply, Tags: tags, Taxonomy: "uk-government@synthetic"})
	}
	return rows
}

// insertRows stores rows with sink.Store.Insert, as the processors do.
func insertRows(t *testing.T, st *sink.Store, rows []sink.Row) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := st.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
}

// questionWord is the leading-question-word test of view responses
// (deploy/clickhouse/007_analyst_views.sql): the dashboard's own
// (analytics.QuestionStart), so the two count the same questions.
var questionWord = regexp.MustCompile(analytics.QuestionStart)

func isQuestion(text string) bool {
	return strings.Contains(text, "?") || questionWord.MatchString(strings.ToLower(text))
}

// addressedTo is the departments a public mention is addressed to: its tags
// and its source's department.
func addressedTo(r sink.Row) []string {
	out := slices.Clone(r.Tags.Departments)
	if d := r.M.Source.Department; d != "" && !slices.Contains(out, d) {
		out = append(out, d)
	}
	return out
}

// ownDepartments is the departments an own mention speaks for: its source's
// department, else its tags.
func ownDepartments(r sink.Row) []string {
	if d := r.M.Source.Department; d != "" {
		return []string{d}
	}
	return r.Tags.Departments
}

// response is one row of view responses, computed in Go.
type response struct {
	platform, id, department string
	day                      time.Time
	question, complaint      bool
	answered                 bool
	by, replyID              string
	seconds                  int64
}

// expectedResponses applies the rules of view responses to rows (after
// removing duplicates, as FINAL does).
func expectedResponses(rows []sink.Row) []response {
	rows = dedupe(rows)
	own := map[string][]int{} // platform and thread -> own mentions
	for i, r := range rows {
		if r.M.Own {
			k := r.M.Platform + " " + r.M.ThreadID
			own[k] = append(own[k], i)
		}
	}
	var out []response
	for _, q := range rows {
		if q.M.Own {
			continue
		}
		question, complaint := isQuestion(q.M.Text), q.Tags.Sentiment.Label == tagger.Negative
		if !question && !complaint {
			continue
		}
		for _, dept := range addressedTo(q) {
			resp := response{platform: q.M.Platform, id: q.M.ID, department: dept, day: q.M.CreatedAt.UTC().Truncate(24 * time.Hour),
				question: question, complaint: complaint}
			var first *sink.Row
			for _, i := range own[q.M.Platform+" "+q.M.ThreadID] {
				r := rows[i]
				if !slices.Contains(ownDepartments(r), dept) {
					continue
				}
				if r.M.ParentID != q.M.ID && (q.M.ThreadID == "" || !r.M.CreatedAt.After(q.M.CreatedAt)) {
					continue
				}
				if first == nil || r.M.CreatedAt.Before(first.M.CreatedAt) || (r.M.CreatedAt.Equal(first.M.CreatedAt) && r.M.ID < first.M.ID) {
					first = &rows[i]
				}
			}
			if first != nil {
				resp.answered, resp.by, resp.replyID = true, first.M.AuthorHandle, first.M.ID
				resp.seconds = int64(first.M.CreatedAt.Sub(q.M.CreatedAt) / time.Second)
			}
			out = append(out, resp)
		}
	}
	return out
}

// dedupe keeps the last row of each (platform, id), as FINAL keeps the
// newest.
func dedupe(rows []sink.Row) []sink.Row {
	seen := map[string]int{}
	var out []sink.Row
	for _, r := range rows {
		k := r.M.Platform + ":" + r.M.ID
		if i, ok := seen[k]; ok {
			out[i] = r
			continue
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	return out
}

// quantile is ClickHouse's quantile(level) on up to 8,192 values: linear
// interpolation between the sorted values (numpy's default).
func quantile(values []float64, level float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	v := slices.Clone(values)
	sort.Float64s(v)
	pos := level * float64(len(v)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(v) {
		return v[lo]
	}
	return v[lo] + (pos-float64(lo))*(v[lo+1]-v[lo])
}

// queryText runs query and returns its column names and rows, every value
// formatted as text (NULL as "NULL", arrays as [a b]).
func queryText(t *testing.T, st *sink.Store, query string) ([]string, [][]string) {
	t.Helper()
	cols, rows, err := tryQueryText(st, query)
	if err != nil {
		t.Fatalf("%v\nquery:\n%s", err, query)
	}
	return cols, rows
}

func tryQueryText(st *sink.Store, query string) ([]string, [][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := st.Conn().Query(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			row[i] = formatValue(reflect.ValueOf(d).Elem())
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return rows.Columns(), out, nil
}

func formatValue(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	if tm, ok := v.Interface().(time.Time); ok {
		if tm.Hour() == 0 && tm.Minute() == 0 && tm.Second() == 0 {
			return tm.UTC().Format(time.DateOnly)
		}
		return tm.UTC().Format(time.DateTime)
	}
	return fmt.Sprint(v.Interface())
}

// columnIndex maps column names to their positions, failing on a missing one.
func columnIndex(t *testing.T, cols []string, want ...string) map[string]int {
	t.Helper()
	idx := map[string]int{}
	for i, c := range cols {
		idx[c] = i
	}
	for _, w := range want {
		if _, ok := idx[w]; !ok {
			t.Fatalf("no column %s in %v", w, cols)
		}
	}
	return idx
}
