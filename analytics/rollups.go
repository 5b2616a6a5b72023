package analytics

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Bucket is the volume and sentiment of one hour or day.
type Bucket struct {
	Start    time.Time `json:"start"`
	Mentions uint64    `json:"mentions"`
	// Negative, Neutral and Positive count the mentions of each sentiment
	// label; mentions in a language that cannot be scored are in none.
	Negative uint64 `json:"negative"`
	Neutral  uint64 `json:"neutral"`
	Positive uint64 `json:"positive"`
	// MeanSentiment is the mean score in [-1, 1]; 0 without mentions.
	MeanSentiment float64 `json:"mean_sentiment"`
}

// Scored is the number of mentions with a sentiment label.
func (b Bucket) Scored() uint64 { return b.Negative + b.Neutral + b.Positive }

// Shares are the shares of negative, neutral and positive mentions among
// the scored ones (they add up to 1), all 0 when none was scored.
func (b Bucket) Shares() (negative, neutral, positive float64) {
	n := b.Scored()
	if n == 0 {
		return 0, 0, 0
	}
	return float64(b.Negative) / float64(n), float64(b.Neutral) / float64(n), float64(b.Positive) / float64(n)
}

// rollup is where a granularity's figures live.
type rollup struct {
	table  string // mentions_hourly or mentions_daily
	bucket string // its time column
}

func (a *Analytics) rollup(g Granularity) rollup {
	if g == Hour {
		return rollup{a.table("mentions_hourly"), "hour"}
	}
	return rollup{a.table("mentions_daily"), "day"}
}

// where is the rollup condition for [from, to) and f's tags.
func (r rollup) where(from, to time.Time, f Filter) cond {
	var c cond
	if r.bucket == "hour" {
		c.add("hour >= toDateTime(?) AND hour < toDateTime(?)", from.Unix(), to.Unix())
	} else {
		c.days(from, to)
	}
	c.tags(f)
	return c
}

// Series returns the volume and sentiment of every bucket of f's range
// (aligned), oldest first, with zeros where nothing was posted. It reads
// mentions_hourly for hours, and for days the settled counts and
// mentions_daily (see Filter.Granularity and daily).
func (a *Analytics) Series(ctx context.Context, f Filter) ([]Bucket, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Aligned()
	var (
		q    string
		args []any
	)
	if f.Granularity() == Hour {
		r := a.rollup(Hour)
		c := r.where(f.From, f.To, f)
		q = "SELECT " + r.bucket + " AS b, uniqMerge(mentions), uniqIfMerge(negative), uniqIfMerge(neutral), uniqIfMerge(positive), avgMerge(sentiment)" +
			" FROM " + r.table + " WHERE " + c.sql() + " GROUP BY b ORDER BY b"
		args = c.args
	} else {
		src, srcArgs, err := a.daily(ctx, f.From, f.To, f)
		if err != nil {
			return nil, fmt.Errorf("volume and sentiment: %w", err)
		}
		q = "SELECT day AS b, sum(n) AS mentions, sum(neg), sum(neu), sum(pos), if(mentions = 0, 0, sum(ssum) / mentions)" +
			" FROM " + src + " GROUP BY b ORDER BY b"
		args = srcArgs
	}
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("volume and sentiment: %w", err)
	}
	defer rows.Close()
	got := map[int64]Bucket{}
	for rows.Next() {
		var b Bucket
		if err := rows.Scan(&b.Start, &b.Mentions, &b.Negative, &b.Neutral, &b.Positive, &b.MeanSentiment); err != nil {
			return nil, fmt.Errorf("volume and sentiment: %w", err)
		}
		got[b.Start.Unix()] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("volume and sentiment: %w", err)
	}
	starts := f.Buckets()
	out := make([]Bucket, len(starts))
	for i, t := range starts {
		b, ok := got[t.Unix()]
		if !ok {
			b = Bucket{}
		}
		b.Start = t
		out[i] = b
	}
	return out, nil
}

// SlugCount is how many mentions a department or topic had.
type SlugCount struct {
	Slug string `json:"slug"`
	// Name is the human-readable name; analytics leaves it empty for the
	// caller, who knows the taxonomy, to fill in.
	Name     string `json:"name,omitempty"`
	Mentions uint64 `json:"mentions"`
	Negative uint64 `json:"negative"`
	// NegativeShare is Negative / Mentions.
	NegativeShare float64 `json:"negative_share"`
}

// TopDepartments returns the departments with the most mentions in f,
// most first (ties by slug), at most limit of them, with their negative
// mentions. With a department filter, the others are those tagged
// together with it.
func (a *Analytics) TopDepartments(ctx context.Context, f Filter, limit int) ([]SlugCount, error) {
	return a.top(ctx, f, "departments", limit)
}

// TopTopics is TopDepartments for topics.
func (a *Analytics) TopTopics(ctx context.Context, f Filter, limit int) ([]SlugCount, error) {
	return a.top(ctx, f, "topics", limit)
}

func (a *Analytics) top(ctx context.Context, f Filter, column string, limit int) ([]SlugCount, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	f = f.Aligned()
	var (
		q    string
		args []any
	)
	if f.Granularity() == Hour {
		r := a.rollup(Hour)
		c := r.where(f.From, f.To, f)
		q = "SELECT arrayJoin(" + column + ") AS slug, uniqMerge(mentions) AS n, uniqIfMerge(negative) AS neg FROM " + r.table +
			" WHERE " + c.sql() + " AND notEmpty(" + column + ") GROUP BY slug ORDER BY n DESC, slug LIMIT " + strconv.Itoa(limit)
		args = c.args
	} else {
		src, srcArgs, err := a.daily(ctx, f.From, f.To, f)
		if err != nil {
			return nil, fmt.Errorf("top %s: %w", column, err)
		}
		q = "SELECT arrayJoin(" + column + ") AS slug, sum(n) AS mentions, sum(neg) FROM " + src +
			" WHERE notEmpty(" + column + ") GROUP BY slug ORDER BY mentions DESC, slug LIMIT " + strconv.Itoa(limit)
		args = srcArgs
	}
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", column, err)
	}
	defer rows.Close()
	var out []SlugCount
	for rows.Next() {
		var s SlugCount
		if err := rows.Scan(&s.Slug, &s.Mentions, &s.Negative); err != nil {
			return nil, fmt.Errorf("top %s: %w", column, err)
		}
		if s.Mentions > 0 {
			s.NegativeShare = float64(s.Negative) / float64(s.Mentions)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top %s: %w", column, err)
	}
	return out, nil
}
