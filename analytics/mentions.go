package analytics

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Mention is one stored mention as the dashboard shows it. Text, author
// and URL are as posted: hostile until escaped.
type Mention struct {
	Platform     string    `json:"platform"`
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	CreatedAt    time.Time `json:"created_at"`
	AuthorHandle string    `json:"author_handle,omitempty"`
	AuthorName   string    `json:"author_name,omitempty"`
	Text         string    `json:"text"`
	URL          string    `json:"url,omitempty"`
	Likes        uint64    `json:"likes"`
	Shares       uint64    `json:"shares"`
	Replies      uint64    `json:"replies"`
	// Engagement is likes + shares + replies, what "most engaged" ranks by
	// (the same sum as the rollups' engagement column).
	Engagement     uint64   `json:"engagement"`
	Departments    []string `json:"departments"`
	Topics         []string `json:"topics"`
	Sentiment      float64  `json:"sentiment"`
	SentimentLabel string   `json:"sentiment_label"`
}

// mentionColumns are what scanMention reads, in its order.
const mentionColumns = "toString(platform), id, toString(kind), created_at, author_handle, author_name, text, url, " +
	"likes, shares, replies, departments, topics, sentiment, toString(sentiment_label)"

// scanMention scans mentionColumns, then extra.
func scanMention(rows driver.Rows, m *Mention, extra ...any) error {
	var score float32
	dest := append([]any{&m.Platform, &m.ID, &m.Kind, &m.CreatedAt, &m.AuthorHandle, &m.AuthorName, &m.Text, &m.URL,
		&m.Likes, &m.Shares, &m.Replies, &m.Departments, &m.Topics, &score, &m.SentimentLabel}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	m.Sentiment = float64(score)
	m.Engagement = m.Likes + m.Shares + m.Replies
	m.CreatedAt = m.CreatedAt.UTC()
	return nil
}

// NegativeMentions returns the most-engaged negative public mentions (not
// the departments' own) posted in f, most engaged first (then newest), at
// most limit.
//
// Two steps, so that FINAL never runs over a month of mentions (on 18.16
// it merges every column it reads, text included, in one stream): the
// first reads only the small columns of every row of the range, without
// FINAL, and keeps the keys of the 4*limit+20 most-engaged negative rows;
// the second reads those mentions FINAL by sorting key, which touches only
// their granules, and checks and orders them again on their newest row. A
// mention whose older row was negative and its newest is not is dropped
// there; the margin covers such rows.
func (a *Analytics) NegativeMentions(ctx context.Context, f Filter, limit int) ([]Mention, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	f = f.Aligned()
	var pre, c cond
	pre.days(f.From, f.To)
	c.created(f.From, f.To)
	c.add("sentiment_label = 'negative' AND own = 0")
	c.tags(f)
	q := "SELECT toString(day), toString(platform), id FROM " + a.table("mentions") + " PREWHERE " + pre.sql() + " WHERE " + c.sql() +
		" ORDER BY likes + shares + replies DESC LIMIT " + strconv.Itoa(4*limit+20)
	keys, err := a.keys(ctx, q, append(pre.args, c.args...))
	if err != nil {
		return nil, fmt.Errorf("negative mentions: %w", err)
	}
	ms, err := a.lookup(ctx, keys, c, limit)
	if err != nil {
		return nil, fmt.Errorf("negative mentions: %w", err)
	}
	return ms, nil
}

// key is a mention's sorting key in table mentions: day, platform, id.
type key struct{ day, platform, id string }

// keys runs a query returning toString(day), toString(platform), id.
func (a *Analytics) keys(ctx context.Context, q string, args []any) ([]key, error) {
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []key
	seen := map[key]bool{}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.day, &k.platform, &k.id); err != nil {
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, rows.Err()
}

// lookup reads the newest row (FINAL) of the mentions of keys that still
// meet c, most engaged first, at most limit (0: all). The condition on the
// sorting key makes ClickHouse read only the granules that hold them.
func (a *Analytics) lookup(ctx context.Context, keys []key, c cond, limit int) ([]Mention, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var (
		tuples []string
		targs  []any
	)
	for _, k := range keys {
		tuples = append(tuples, "(toDate(?), ?, ?)")
		targs = append(targs, k.day, k.platform, k.id)
	}
	// The key condition is on sorting-key columns only, so it may go in
	// PREWHERE under FINAL: all rows of a mention pass or fail it
	// together. There it selects the granules to read; in WHERE, FINAL
	// read whole days first (measured: 2.5 times slower).
	q := "SELECT " + mentionColumns + " FROM " + a.table("mentions") + " FINAL PREWHERE (day, platform, id) IN (" +
		strings.Join(tuples, ", ") + ") WHERE " + c.sql() + " ORDER BY likes + shares + replies DESC, created_at DESC, id"
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := a.conn.Query(ctx, q, append(targs, c.args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Mention
	for rows.Next() {
		var m Mention
		if err := scanMention(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Alert is a row of table alerts: a spike that the alerting found.
type Alert struct {
	ID          string    `json:"id"`
	Period      string    `json:"period"` // hour or day
	Scope       string    `json:"scope"`  // department or topic
	Slug        string    `json:"slug"`
	Name        string    `json:"name,omitempty"` // filled in by the caller
	PeriodStart time.Time `json:"period_start"`
	Mentions    uint64    `json:"mentions"`
	Baseline    float64   `json:"baseline"`
	Explanation string    `json:"explanation"`
	DetectedAt  time.Time `json:"detected_at"`
}

// Alerts returns the alerts whose period starts in f's range, newest
// first, at most limit. A department or topic filter keeps the alerts of
// that department or topic (either, when both are given); alerts are not
// per platform.
func (a *Analytics) Alerts(ctx context.Context, f Filter, limit int) ([]Alert, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 20
	}
	f = f.Aligned()
	var c cond
	c.add("period_start >= toDateTime(?) AND period_start < toDateTime(?)", f.From.Unix(), f.To.Unix())
	switch {
	case f.Department != "" && f.Topic != "":
		c.add("((scope = 'department' AND slug = ?) OR (scope = 'topic' AND slug = ?))", f.Department, f.Topic)
	case f.Department != "":
		c.add("scope = 'department' AND slug = ?", f.Department)
	case f.Topic != "":
		c.add("scope = 'topic' AND slug = ?", f.Topic)
	}
	q := "SELECT id, toString(period), toString(scope), slug, period_start, mentions, baseline, explanation, detected_at FROM " +
		a.table("alerts") + " FINAL WHERE " + c.sql() + " ORDER BY period_start DESC, detected_at DESC, id LIMIT " + strconv.Itoa(limit)
	rows, err := a.conn.Query(ctx, q, c.args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var al Alert
		if err := rows.Scan(&al.ID, &al.Period, &al.Scope, &al.Slug, &al.PeriodStart, &al.Mentions, &al.Baseline, &al.Explanation, &al.DetectedAt); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		al.PeriodStart, al.DetectedAt = al.PeriodStart.UTC(), al.DetectedAt.UTC()
		out = append(out, al)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return out, nil
}
