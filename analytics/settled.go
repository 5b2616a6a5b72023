package analytics

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// settledTTL is how long the answer to "which days of this range are
// settled" is reused: the page's queries ask it at once, and a settling
// that turned stale a moment ago costs nothing in the meantime but a
// late mention not yet counted.
const settledTTL = 2 * time.Second

// settledCache shares settledDays' answers between the queries of a page.
type settledCache struct {
	mu      sync.Mutex
	entries map[[2]int64]*settledEntry
}

type settledEntry struct {
	ready chan struct{}
	at    time.Time
	days  map[int64]int64 // day (Unix) -> settled_at (Unix)
	err   error
}

// settledDays returns the days of [from, to) (whole UTC days) whose counts
// in mentions_daily_counts are current, each with the settled_at of its
// newest settling, by the day's Unix time: a day is current when no
// mention of it has a processed_at later than the settling's through
// (deploy/clickhouse/009_settled.sql).
func (a *Analytics) settledDays(ctx context.Context, from, to time.Time) (map[int64]int64, error) {
	key := [2]int64{from.Unix(), to.Unix()}
	c := &a.settled
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[[2]int64]*settledEntry{}
	}
	if e := c.entries[key]; e != nil && (e.at.IsZero() || time.Since(e.at) < settledTTL) {
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.days, nil
		}
		// Another query's failure (perhaps its cancellation) is not this
		// one's: ask again.
		return a.querySettled(ctx, from, to)
	}
	for k, e := range c.entries {
		if !e.at.IsZero() && time.Since(e.at) >= settledTTL {
			delete(c.entries, k)
		}
	}
	e := &settledEntry{ready: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()
	e.days, e.err = a.querySettled(ctx, from, to)
	c.mu.Lock()
	e.at = time.Now()
	if e.err != nil {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(e.ready)
	return e.days, e.err
}

// querySettled is settledDays without the cache: one query joining the
// newest settling of each day to the newest processed_at of its mentions.
func (a *Analytics) querySettled(ctx context.Context, from, to time.Time) (map[int64]int64, error) {
	var s, m cond
	s.days(from, to)
	m.days(from, to)
	q := "SELECT day, at FROM (SELECT day, max(settled_at) AS at, argMax(through, settled_at) AS through FROM " + a.table("mentions_daily_settled") +
		" WHERE " + s.sql() + " GROUP BY day) ANY LEFT JOIN (SELECT day, max(processed_at) AS newest FROM " + a.table("mentions") +
		" WHERE " + m.sql() + " GROUP BY day) USING day WHERE newest <= through"
	rows, err := a.conn.Query(ctx, q, append(s.args, m.args...)...)
	if err != nil {
		return nil, fmt.Errorf("settled days: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var day, at time.Time
		if err := rows.Scan(&day, &at); err != nil {
			return nil, fmt.Errorf("settled days: %w", err)
		}
		out[day.UTC().Unix()] = at.Unix()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("settled days: %w", err)
	}
	return out, nil
}

// daily returns a subquery, and its arguments, with one row per day,
// platform and combination of tags of [from, to) (whole UTC days) that
// f's tags and platform select, and the columns day, platform,
// departments, topics, n (mentions), neg, neu, pos (mentions per
// sentiment label), ssum (the sum of their sentiment scores) and eng (the
// largest engagement of one of them). Settled days come from the exact
// counts of mentions_daily_counts, the others from mentions_daily's
// distinct-mention states; either way a mention is in exactly one row, so
// sums over rows count each mention once.
func (a *Analytics) daily(ctx context.Context, from, to time.Time, f Filter) (string, []any, error) {
	settled, err := a.settledDays(ctx, from, to)
	if err != nil {
		return "", nil, err
	}
	var (
		parts              []string
		args               []any
		pairs, open        []string
		pairArgs, openArgs []any
	)
	for t := from.UTC().Truncate(24 * time.Hour); t.Before(to); t = t.Add(24 * time.Hour) {
		day := t.Format(time.DateOnly)
		if at, ok := settled[t.Unix()]; ok {
			pairs = append(pairs, "(toDate(?), toDateTime(?, 'UTC'))")
			pairArgs = append(pairArgs, day, at)
		} else {
			open = append(open, "toDate(?)")
			openArgs = append(openArgs, day)
		}
	}
	// Both parts name their days (IN on the first key column, which the
	// primary key narrows to those days' granules; NOT IN would read the
	// whole range's states).
	if len(pairs) > 0 {
		var c cond
		c.days(from, to)
		c.add("(day, settled_at) IN ("+strings.Join(pairs, ", ")+")", pairArgs...)
		c.tags(f)
		parts = append(parts, "SELECT day, platform, departments, topics, mentions AS n, negative AS neg, neutral AS neu, positive AS pos,"+
			" sentiment_sum AS ssum, engagement AS eng FROM "+a.table("mentions_daily_counts")+" WHERE "+c.sql())
		args = append(args, c.args...)
	}
	if len(open) > 0 {
		var c cond
		c.add("day IN ("+strings.Join(open, ", ")+")", openArgs...)
		c.tags(f)
		parts = append(parts, "SELECT day, platform, departments, topics, toUInt64(uniqMerge(mentions)) AS n,"+
			" toUInt64(uniqIfMerge(negative)) AS neg, toUInt64(uniqIfMerge(neutral)) AS neu, toUInt64(uniqIfMerge(positive)) AS pos,"+
			" avgMerge(sentiment) * n AS ssum, toUInt64(maxMerge(engagement)) AS eng FROM "+a.table("mentions_daily")+
			" WHERE "+c.sql()+" GROUP BY day, platform, departments, topics")
		args = append(args, c.args...)
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")", args, nil
}
