package analytics

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// QuestionStart is the pattern of a question without a question mark: a
// mention that starts, after any @handles it is addressed to, with one of
// these English or Welsh question words (any case). With "has a '?'", it
// is the definition of a question: the materialized view that fills table
// questions (deploy/clickhouse/008_questions.sql), its backfill and its
// rebuild hold it as a SQL string, which TestQuestionStartInSchema keeps
// equal to this constant, and the queries here read that table. The
// analysts' view responses (007_analyst_views.sql) applies the same words
// to the lower-cased text, so the dashboard and SQL count the same
// questions.
const QuestionStart = `(?i)^\s*(@\w+[\s,:]*)*(who|what|when|where|why|how|which|whose|can|could|will|would|should|shall|is|are|am|was|were|do|does|did|has|pam|beth|sut|pryd|ble|pwy)\b`

// DaySeconds is the time within which an answer counts as prompt.
const DaySeconds = 24 * 60 * 60

// Question is a public question addressed to one or more departments.
type Question struct {
	Mention
	// Addressed lists the departments the question is for: those it is
	// tagged with, the one its source collects for, and the one whose own
	// post it replies to.
	Addressed []string `json:"addressed"`
}

// DepartmentResponse is how one department answered the questions
// addressed to it that were asked in a range.
type DepartmentResponse struct {
	Department string `json:"department"`
	Name       string `json:"name,omitempty"` // filled in by the caller
	Questions  uint64 `json:"questions"`
	Answered   uint64 `json:"answered"`
	Unanswered uint64 `json:"unanswered"`
	// MedianSeconds and P90Seconds are the median and 90th percentile of
	// the time to the first own reply, over the answered questions: the
	// observed time at rank floor(q * answered) (for an even count, the
	// upper of the two middle ones). Both 0 when none was answered.
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
	// WithinDayShare is the share of questions answered within a day, of
	// the DayBase questions asked at least a day before now (younger ones
	// have not had their day yet); 0 when DayBase is 0.
	WithinDayShare float64 `json:"within_day_share"`
	DayBase        uint64  `json:"day_base"`
}

// questions is the query of the public questions posted in f (aligned),
// one row each with columns day, platform, id, created_at, addressed (the
// departments it is addressed to) and first_reply (when the first own
// reply came, as Unix seconds; 0 when none did).
//
// It reads table questions, which the materialized view of
// deploy/clickhouse/008_questions.sql fills at insert time with the public
// questions and every own mention, without their text (in the benchmark
// data a quarter of the rows of mentions and a twelfth of their bytes), so
// that FINAL (each question's newest row, as stored by its latest delivery
// or re-tag) is affordable over a whole month: 30 days of 10 million
// mentions take 0.6 s, against 1.8 s or more when the questions are found
// by their text in mentions.
//
// Answers are looked for among the own mentions posted from the range's
// first day to now (any row of a mention will do, so without FINAL): an
// own mention of the question's platform and thread answers it when it
// was posted after it or replies to it. They are grouped per thread into
// arrays, joined on a 64-bit hash of platform and thread (the join on the
// two columns themselves took two to three times as long over a month of
// 10 million mentions); the lambdas check the platform and thread of each
// own mention, so two threads whose hashes collide are still told apart. The
// lambdas take the question's columns through replicate(), not by
// capture: 18.16 drops a subquery's columns that only a lambda uses.
//
// Most questions sit in a thread no department posted in (in the
// benchmark data 72,000 of a month's 1.1 million): those skip the join
// and the lambdas (a UNION ALL of the questions in threads with own
// mentions, joined, and the others, NOT IN their threads), which took
// 30-day response times from 627 to 517 ms (p50 of 5, 10 million
// mentions); the whole 30-day page, whose queries share the 2 cores, is
// unchanged at 0.87–0.89 s.
func (a *Analytics) questions(f Filter) (sql string, args []any) {
	var pre, c cond
	pre.days(f.From, f.To)
	c.add("own = 0")
	c.created(f.From, f.To)
	c.tags(Filter{Topic: f.Topic, Platform: f.Platform})
	qsArgs := append(pre.args, c.args...)
	qs := `SELECT cityHash64(platform, thread_id) AS thread_key, day, platform, id, thread_id, parent_id, created_at, departments, source_department
	FROM ` + a.table("questions") + ` FINAL PREWHERE ` + pre.sql() + ` WHERE ` + c.sql()
	ownWhere := "own = 1 AND thread_id != ''"
	ownArgs := []any{f.From.UTC().Format(time.DateOnly)}
	if f.Platform != "" {
		ownWhere += " AND platform = ?"
		ownArgs = append(ownArgs, f.Platform)
	}
	own := ` FROM ` + a.table("questions") + ` PREWHERE day >= toDate(?) WHERE ` + ownWhere
	sql = `SELECT day, platform, id, created_at,
	arrayFilter(d -> d != '', arrayDistinct(arrayConcat(departments, [source_department],
		arrayFilter((d, i, pl, th, qparent, qpl, qth) -> i = qparent AND pl = qpl AND th = qth,
			own_dept, own_id, own_platform, own_thread, replicate(parent_id, own_id), replicate(platform, own_id), replicate(thread_id, own_id))))) AS addressed,
	toUInt32(arrayReduce('min', arrayFilter((t, p, pl, th, qid, qat, qpl, qth) -> (p = qid OR t > qat) AND pl = qpl AND th = qth,
		own_at, own_parent, own_platform, own_thread,
		replicate(id, own_at), replicate(created_at, own_at), replicate(platform, own_at), replicate(thread_id, own_at)))) AS first_reply
FROM (` + qs + `) ANY INNER JOIN (
	SELECT cityHash64(platform, thread_id) AS thread_key, groupArray(platform) AS own_platform, groupArray(thread_id) AS own_thread,
		groupArray(created_at) AS own_at, groupArray(parent_id) AS own_parent, groupArray(id) AS own_id, groupArray(source_department) AS own_dept` + own + `
	GROUP BY thread_key
) USING (thread_key)
UNION ALL
SELECT day, platform, id, created_at,
	arrayFilter(d -> d != '', arrayDistinct(arrayConcat(departments, [source_department]))) AS addressed, toUInt32(0) AS first_reply
FROM (` + qs + `) WHERE thread_key NOT IN (SELECT cityHash64(platform, thread_id)` + own + `)`
	args = append(append(append(append([]any{}, qsArgs...), ownArgs...), qsArgs...), ownArgs...)
	return sql, args
}

// Unanswered returns the questions asked in f that no own mention has
// answered yet, newest first, at most limit. A department filter keeps the
// questions addressed to it.
//
// It reads the range from its end backwards, a day first, then windows
// four times as long, and stops as soon as it has limit questions: the
// newest unanswered questions are usually within the last day, so a
// month's range costs about what a day does. Each window finds the keys of
// its newest unanswered questions in table questions, then reads those
// mentions FINAL by their sorting key for what the list shows.
func (a *Analytics) Unanswered(ctx context.Context, f Filter, limit int) ([]Question, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 20
	}
	f = f.Aligned()
	var out []Question
	width := 24 * time.Hour
	for to := f.To; to.After(f.From) && len(out) < limit; width *= 4 {
		w := f
		w.From, w.To = to.Add(-width), to
		if w.From.Before(f.From) {
			w.From = f.From
		}
		got, err := a.unanswered(ctx, w, limit-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		to = w.From
	}
	return out, nil
}

func (a *Analytics) unanswered(ctx context.Context, f Filter, limit int) ([]Question, error) {
	inner, args := a.questions(f)
	where := "notEmpty(addressed) AND toUInt32(first_reply) = 0"
	if f.Department != "" {
		where += " AND has(addressed, ?)"
		args = append(args, f.Department)
	}
	q := "SELECT toString(day), toString(platform), id, addressed FROM (" + inner + ") WHERE " + where +
		" ORDER BY created_at DESC, id LIMIT " + strconv.Itoa(limit)
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	defer rows.Close()
	var (
		keys      []key
		addressed [][]string
	)
	for rows.Next() {
		var (
			k key
			d []string
		)
		if err := rows.Scan(&k.day, &k.platform, &k.id, &d); err != nil {
			return nil, fmt.Errorf("unanswered questions: %w", err)
		}
		keys, addressed = append(keys, k), append(addressed, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	ms, err := a.lookup(ctx, keys, cond{}, 0)
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	byKey := make(map[[2]string]Mention, len(ms))
	for _, m := range ms {
		byKey[[2]string{m.Platform, m.ID}] = m
	}
	out := make([]Question, 0, len(keys))
	for i, k := range keys {
		// A question whose mention is gone (erased, before the rebuild
		// of its month) is left out.
		if m, ok := byKey[[2]string{k.platform, k.id}]; ok {
			out = append(out, Question{Mention: m, Addressed: addressed[i]})
		}
	}
	return out, nil
}

// ResponseTimes returns, for every department that public questions asked
// in f were addressed to, how many there were, how many were answered and
// how fast; most questions first. With a department filter, only that
// department.
func (a *Analytics) ResponseTimes(ctx context.Context, f Filter) ([]DepartmentResponse, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Aligned()
	inner, args := a.questions(f)
	cutoff := a.Now().Unix() - DaySeconds
	var dept cond
	if f.Department != "" {
		dept.add("dept = ?", f.Department)
	}
	q := `SELECT dept, count() AS questions, countIf(answered) AS answered_n,
	quantilesExactIf(0.5, 0.9)(delay, answered) AS qs,
	countIf(created_at <= toDateTime(?)) AS base,
	countIf(created_at <= toDateTime(?) AND answered AND delay <= ` + strconv.Itoa(DaySeconds) + `) AS within
FROM (
	SELECT arrayJoin(addressed) AS dept, created_at, toUInt32(first_reply) > 0 AS answered,
		toInt64(toUInt32(first_reply)) - toInt64(toUInt32(created_at)) AS delay
	FROM (` + inner + `)
	WHERE notEmpty(addressed)
)
WHERE ` + dept.sql() + `
GROUP BY dept ORDER BY questions DESC, dept`
	all := append([]any{cutoff, cutoff}, args...)
	all = append(all, dept.args...)
	rows, err := a.conn.Query(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("response times: %w", err)
	}
	defer rows.Close()
	var out []DepartmentResponse
	for rows.Next() {
		var (
			r      DepartmentResponse
			qs     []int64
			within uint64
		)
		if err := rows.Scan(&r.Department, &r.Questions, &r.Answered, &qs, &r.DayBase, &within); err != nil {
			return nil, fmt.Errorf("response times: %w", err)
		}
		r.Unanswered = r.Questions - r.Answered
		if r.Answered > 0 && len(qs) == 2 {
			r.MedianSeconds, r.P90Seconds = qs[0], qs[1]
		}
		if r.DayBase > 0 {
			r.WithinDayShare = float64(within) / float64(r.DayBase)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("response times: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Questions > out[j].Questions })
	return out, nil
}
