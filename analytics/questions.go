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
// these English or Welsh question words (any case). The analysts' view
// responses (deploy/clickhouse/007_analyst_views.sql) uses the same words,
// so the dashboard and SQL count the same questions.
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

// questionCond is how the queries tell a question: a question mark
// anywhere, or QuestionStart. Both are bound arguments ("?" never appears
// in the SQL text, where it would be a placeholder).
const questionCond = "own = 0 AND (position(text, ?) > 0 OR match(text, ?))"

var questionArgs = []any{"?", QuestionStart}

// questions is the query of the public questions posted in f (aligned),
// with, for each, the departments it is addressed to (addressed) and when
// the first own reply came (first_reply, 1970 when none did). Its columns
// are the ones of cols, addressed and first_reply.
//
// final chooses how each mention's newest row is found. With final, the
// query reads mentions FINAL with the columns the unanswered list shows
// (Unanswered asks for a day or a few at a time). Without, for response
// times over a whole range, it reads the rows without FINAL (on 18.16
// FINAL merges every column it reads, the text included, in one stream)
// and groups the questions' rows by a UInt64 hash of platform and id,
// taking the newest row's tags: measured on a month of 5 million mentions,
// a third of the time of FINAL, of FINAL on the small columns restricted
// to the questions' keys, or of GROUP BY on the string key.
//
// Answers are looked for among the own mentions posted from the range's
// first day to now, grouped by thread: an own mention of the question's
// thread answers it when it was posted after it or replies to it. The
// lambdas take the question's columns through replicate(), not by
// capture: 18.16 drops a subquery's columns that only a lambda uses.
func (a *Analytics) questions(f Filter, final bool) (sql, cols string, args []any) {
	var pre, c cond
	pre.days(f.From, f.To)
	c.created(f.From, f.To)
	if final {
		c.add(questionCond, questionArgs...)
		c.tags(Filter{Topic: f.Topic, Platform: f.Platform})
		cols = mentionSource
		sql = "SELECT " + mentionSource + ", thread_id, parent_id, source_department FROM " + a.table("mentions") +
			" FINAL PREWHERE " + pre.sql() + " WHERE " + c.sql()
		args = append(pre.args, c.args...)
	} else {
		// Without FINAL: each mention's rows grouped by a hash of its
		// key; what never changes between its rows is any() of them,
		// the tags are the newest row's (argMax by processed_at). The
		// columns are renamed first, so that the aggregates can take
		// their names back.
		c.add(questionCond, questionArgs...)
		c.tags(Filter{Platform: f.Platform})
		having := "1"
		if f.Topic != "" {
			having = "has(topics, ?)"
		}
		cols = "platform, id, created_at, departments, topics"
		sql = "SELECT cityHash64(toString(q_platform), q_id) AS k, any(q_platform) AS platform, any(q_id) AS id," +
			" any(q_thread) AS thread_id, any(q_parent) AS parent_id, any(q_at) AS created_at," +
			" argMax(q_depts, q_v) AS departments, argMax(q_topics, q_v) AS topics, any(q_src) AS source_department FROM (" +
			"SELECT platform AS q_platform, id AS q_id, thread_id AS q_thread, parent_id AS q_parent, created_at AS q_at," +
			" departments AS q_depts, topics AS q_topics, source_department AS q_src, processed_at AS q_v FROM " + a.table("mentions") +
			" PREWHERE " + pre.sql() + " WHERE " + c.sql() + ") GROUP BY k HAVING " + having
		args = append(pre.args, c.args...)
		if f.Topic != "" {
			args = append(args, f.Topic)
		}
	}
	inner := sql
	ownWhere := "own = 1 AND thread_id != ''"
	args = append(args, f.From.UTC().Format(time.DateOnly))
	if f.Platform != "" {
		ownWhere += " AND platform = ?"
		args = append(args, f.Platform)
	}
	sql = `SELECT ` + cols + `,
	arrayFilter(d -> d != '', arrayDistinct(arrayConcat(departments, [source_department],
		arrayFilter((d, i, pid) -> i = pid, own_dept, own_id, replicate(parent_id, own_id))))) AS addressed,
	arrayReduce('min', arrayFilter((t, p, qid, qat) -> p = qid OR t > qat,
		own_at, own_parent, replicate(id, own_at), replicate(created_at, own_at))) AS first_reply
FROM (` + inner + `) ANY LEFT JOIN (
	SELECT platform, thread_id, groupArray(created_at) AS own_at, groupArray(parent_id) AS own_parent,
		groupArray(id) AS own_id, groupArray(source_department) AS own_dept
	FROM ` + a.table("mentions") + ` PREWHERE day >= toDate(?) WHERE ` + ownWhere + `
	GROUP BY platform, thread_id
) USING (platform, thread_id)`
	return sql, cols, args
}

// Unanswered returns the questions asked in f that no own mention has
// answered yet, newest first, at most limit. A department filter keeps the
// questions addressed to it.
//
// It reads the range from its end backwards, a day first, then windows
// four times as long, and stops as soon as it has limit questions: the
// newest unanswered questions are usually within the last day, so a
// month's range costs about what a day does.
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
	inner, _, args := a.questions(f, true)
	where := "notEmpty(addressed) AND toUInt32(first_reply) = 0"
	if f.Department != "" {
		where += " AND has(addressed, ?)"
		args = append(args, f.Department)
	}
	q := "SELECT " + mentionColumns + ", addressed FROM (" + inner + ") WHERE " + where +
		" ORDER BY created_at DESC, id LIMIT " + strconv.Itoa(limit)
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
	}
	defer rows.Close()
	var out []Question
	for rows.Next() {
		var qn Question
		if err := scanMention(rows, &qn.Mention, &qn.Addressed); err != nil {
			return nil, fmt.Errorf("unanswered questions: %w", err)
		}
		out = append(out, qn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unanswered questions: %w", err)
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
	inner, _, args := a.questions(f, false)
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
