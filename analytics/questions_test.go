package analytics_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/analytics/analyticstest"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
)

// The schema's copies of the question test (the materialized view that
// fills table questions, its backfill and its rebuild) are QuestionStart,
// written as a SQL string.
func TestQuestionStartInSchema(t *testing.T) {
	p := sink.SchemaParams{DB: "govlisten"}
	sts, err := sink.Statements(p)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := sink.RebuildStatements("clickhouse/rebuild/questions.sql", p, 202611)
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`match\(text, '((?:[^'\\]|\\.)*)'\)`)
	n := 0
	for _, s := range append(sts, rb...) {
		for _, m := range literal.FindAllStringSubmatch(s.SQL, -1) {
			n++
			if got := strings.ReplaceAll(m[1], `\\`, `\`); got != analytics.QuestionStart {
				t.Errorf("%s, statement %d tests questions with\n%s\nnot analytics.QuestionStart\n%s", s.File, s.N, got, analytics.QuestionStart)
			}
		}
	}
	if n != 3 {
		t.Errorf("found the question test %d times, want 3 (008's view and backfill, rebuild/questions.sql)", n)
	}
}

// The questions table answers as the mentions table does. ResponseTimes
// and Unanswered read table questions; the same queries written directly
// over mentions (the text of every mention tested for a question, FINAL)
// must give the same numbers and lists: after loading, after a redelivery
// that re-tags some mentions, for mentions stored before the table existed
// (migrate's backfill), and after an erase and the rebuild of its month.
func TestQuestionsTableMatchesMentions(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	ctx := context.Background()
	st := testenv.Store(t, srv.DSN("questions_table"))
	end := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	own, err := analyticstest.Load(ctx, st, analyticstest.Options{N: 20_000, End: end, Days: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	a := analytics.New(st, nil)
	a.Now = func() time.Time { return end }
	filters := []analytics.Filter{
		{From: end.Add(-7 * 24 * time.Hour), To: end},
		{From: end.Add(-24 * time.Hour), To: end},
		{From: end.Add(-10 * 24 * time.Hour), To: end, Department: "dwp"},
		{From: end.Add(-7 * 24 * time.Hour), To: end, Topic: "welfare"},
		{From: end.Add(-7 * 24 * time.Hour), To: end, Platform: mention.YouTube, Department: "hmrc"},
	}
	check := func(stage string) {
		t.Helper()
		for _, f := range filters {
			got, err := a.ResponseTimes(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			want := directResponseTimes(t, st, f, end)
			if len(want) == 0 || responseLines(got) != responseLines(want) {
				t.Errorf("%s, %+v: response times from table questions\n%s\nfrom mentions\n%s", stage, f, responseLines(got), responseLines(want))
			}
			un, err := a.Unanswered(ctx, f, 30)
			if err != nil {
				t.Fatal(err)
			}
			var gotUn []string
			for _, q := range un {
				gotUn = append(gotUn, q.Platform+":"+q.ID+" "+strings.Join(q.Addressed, ","))
				if q.Text == "" || q.CreatedAt.Before(f.Aligned().From) {
					t.Errorf("%s: unanswered %+v", stage, q)
				}
			}
			if wantUn := directUnanswered(t, st, f, 30); len(wantUn) == 0 || strings.Join(gotUn, "\n") != strings.Join(wantUn, "\n") {
				t.Errorf("%s, %+v: unanswered from table questions\n%s\nfrom mentions\n%s", stage, f, strings.Join(gotUn, "\n"), strings.Join(wantUn, "\n"))
			}
		}
	}
	if n := testenv.Count(t, st, "SELECT count() FROM questions_table.questions FINAL WHERE own = 1"); n != uint64(own) {
		t.Fatalf("questions holds %d own mentions, want the %d loaded", n, own)
	}
	check("loaded")

	// Redelivered: one day of one platform stored again, after a second
	// (a newer processed_at), half of it re-tagged with other departments.
	day := end.Add(-2 * 24 * time.Hour).Truncate(24 * time.Hour)
	redeliver := func() {
		t.Helper()
		page, err := st.ScanDay(ctx, day, mention.Twitter, "", 5000)
		if err != nil || len(page) < 100 {
			t.Fatalf("reading back %s: %d mentions, %v", day, len(page), err)
		}
		time.Sleep(1100 * time.Millisecond)
		rows := make([]sink.Row, len(page))
		for i, s := range page {
			rows[i] = s.Row
			if i%2 == 0 && !s.M.Own {
				rows[i].Tags.Departments = []string{"dfe", "mod"}
				rows[i].M.Source.Department = ""
			}
		}
		if err := st.Insert(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	redeliver()
	if n := testenv.Count(t, st, "SELECT count() FROM questions_table.questions FINAL WHERE has(departments, 'mod') AND own = 0"); n == 0 {
		t.Fatal("no question re-tagged")
	}
	check("redelivered")

	// Stored before the table existed: without questions and its view, a
	// redelivery again; then migrate copies every question of mentions,
	// once.
	for _, q := range []string{"DROP TABLE questions_table.questions_backfilled", "DROP TABLE questions_table.questions_mv", "DROP TABLE questions_table.questions"} {
		if err := st.Conn().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	redeliver()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	check("backfilled")
	// Every insert makes parts with new block numbers (merges keep them).
	lastBlock := "SELECT toUInt64(max(max_block_number)) FROM system.parts WHERE database = 'questions_table' AND table = 'questions' AND active"
	block := testenv.Count(t, st, lastBlock)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testenv.Count(t, st, lastBlock); n != block {
		t.Errorf("a second migrate inserted into questions (last block %d, then %d): the backfill ran again", block, n)
	}

	// Erased, as `govlisten erase` does: the mentions deleted, then their
	// month rebuilt.
	if err := st.Conn().Exec(ctx, "ALTER TABLE questions_table.mentions DELETE WHERE day = toDate(?) AND platform = 'twitter' AND cityHash64(id) % 3 = 0",
		day.Format(time.DateOnly)); err != nil {
		t.Fatal(err)
	}
	for testenv.Count(t, st, "SELECT count() FROM system.mutations WHERE database = 'questions_table' AND is_done = 0") > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	if err := st.RebuildRollups(ctx, 202603); err != nil {
		t.Fatal(err)
	}
	check("erased and rebuilt")
}

// responseLines formats response times for comparison.
func responseLines(rs []analytics.DepartmentResponse) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s questions=%d answered=%d unanswered=%d median=%d p90=%d day_base=%d within_day=%.6f\n",
			r.Department, r.Questions, r.Answered, r.Unanswered, r.MedianSeconds, r.P90Seconds, r.DayBase, r.WithinDayShare)
	}
	return b.String()
}

// directQuestions is the query of ResponseTimes and Unanswered written
// over mentions alone: the questions found by their text in mentions
// FINAL, joined to the own mentions of their threads.
func directQuestions(st *sink.Store, f analytics.Filter) (string, []any) {
	f = f.Aligned()
	db := st.DB()
	where := "own = 0 AND (position(text, '?') > 0 OR match(text, ?)) AND created_at >= toDateTime(?) AND created_at < toDateTime(?)"
	args := []any{analytics.QuestionStart, f.From.Unix(), f.To.Unix()}
	ownWhere := "own = 1 AND thread_id != '' AND day >= toDate(?)"
	ownArgs := []any{f.From.Format(time.DateOnly)}
	if f.Topic != "" {
		where += " AND has(topics, ?)"
		args = append(args, f.Topic)
	}
	if f.Platform != "" {
		where += " AND platform = ?"
		args = append(args, f.Platform)
		ownWhere += " AND platform = ?"
		ownArgs = append(ownArgs, f.Platform)
	}
	args = append(args, ownArgs...)
	return `SELECT day, platform, id, created_at,
	arrayFilter(d -> d != '', arrayDistinct(arrayConcat(departments, [source_department],
		arrayFilter((d, i, pid) -> i = pid, own_dept, own_id, replicate(parent_id, own_id))))) AS addressed,
	arrayReduce('min', arrayFilter((t, p, qid, qat) -> p = qid OR t > qat,
		own_at, own_parent, replicate(id, own_at), replicate(created_at, own_at))) AS first_reply
FROM (
	SELECT day, platform, id, thread_id, parent_id, created_at, departments, source_department
	FROM ` + db + `.mentions FINAL WHERE ` + where + `
) ANY LEFT JOIN (
	SELECT platform, thread_id, groupArray(created_at) AS own_at, groupArray(parent_id) AS own_parent,
		groupArray(id) AS own_id, groupArray(source_department) AS own_dept
	FROM ` + db + `.mentions FINAL WHERE ` + ownWhere + `
	GROUP BY platform, thread_id
) USING (platform, thread_id)`, args
}

func directResponseTimes(t *testing.T, st *sink.Store, f analytics.Filter, now time.Time) []analytics.DepartmentResponse {
	t.Helper()
	inner, args := directQuestions(st, f)
	cutoff := now.Unix() - analytics.DaySeconds
	q := `SELECT dept, count() AS questions, countIf(answered) AS answered_n, quantilesExactIf(0.5, 0.9)(delay, answered),
	countIf(created_at <= toDateTime(?)), countIf(created_at <= toDateTime(?) AND answered AND delay <= 86400)
FROM (
	SELECT arrayJoin(addressed) AS dept, created_at, toUInt32(first_reply) > 0 AS answered,
		toInt64(toUInt32(first_reply)) - toInt64(toUInt32(created_at)) AS delay
	FROM (` + inner + `) WHERE notEmpty(addressed)
) WHERE dept = ? OR ? = ''
GROUP BY dept ORDER BY questions DESC, dept`
	rows, err := st.Conn().Query(context.Background(), q, append(append([]any{cutoff, cutoff}, args...), f.Department, f.Department)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []analytics.DepartmentResponse
	for rows.Next() {
		var (
			r      analytics.DepartmentResponse
			qs     []int64
			within uint64
		)
		if err := rows.Scan(&r.Department, &r.Questions, &r.Answered, &qs, &r.DayBase, &within); err != nil {
			t.Fatal(err)
		}
		r.Unanswered = r.Questions - r.Answered
		if r.Answered > 0 {
			r.MedianSeconds, r.P90Seconds = qs[0], qs[1]
		}
		if r.DayBase > 0 {
			r.WithinDayShare = float64(within) / float64(r.DayBase)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func directUnanswered(t *testing.T, st *sink.Store, f analytics.Filter, limit int) []string {
	t.Helper()
	inner, args := directQuestions(st, f)
	q := "SELECT concat(toString(platform), ':', id, ' ', arrayStringConcat(addressed, ',')) FROM (" + inner + ")" +
		" WHERE notEmpty(addressed) AND toUInt32(first_reply) = 0 AND (has(addressed, ?) OR ? = '') ORDER BY created_at DESC, id LIMIT " + fmt.Sprint(limit)
	rows, err := st.Conn().Query(context.Background(), q, append(args, f.Department, f.Department)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
