package sink

import (
	"context"
	"fmt"
	"time"
)

// SettleQuiet is how long a day must have gone without a newly stored
// mention before Settle counts it: longer than an insert can stay open
// (process.batch_timeout is at most 5 minutes, and a batch's mentions are
// stamped with processed_at when its blocks are written), so that no
// mention stamped before the day's newest processed_at can still be on its
// way when the day is counted.
const SettleQuiet = 15 * time.Minute

// Settling is one day that Settle counted.
type Settling struct {
	Day time.Time
	// Mentions is the day's mentions after FINAL.
	Mentions uint64
	// Again is true when the day had been settled before and a mention
	// stored since made that settling stale.
	Again bool
	Took  time.Duration
}

// Settle writes the exact per-row counts of every settled day that has no
// current settling (deploy/clickhouse/009_settled.sql): the days before
// now's UTC day whose newest mention was stored at least SettleQuiet
// before now, counted from mentions FINAL. It returns the days it counted,
// oldest first. Running it again, or from several hosts at once, is
// harmless: readers use the newest settling of a day, and a settling that
// lost a race is only a settling of the same mentions.
func (s *Store) Settle(ctx context.Context, now time.Time) ([]Settling, error) {
	return s.SettleBefore(ctx, now.UTC().Truncate(24*time.Hour), now)
}

// SettleBefore is Settle for the days before day (a UTC midnight) instead
// of before today: for data whose "today" is not the clock's, as the
// benchmarks' synthetic days.
func (s *Store) SettleBefore(ctx context.Context, day, now time.Time) ([]Settling, error) {
	now = now.UTC()
	newest, err := s.newestPerDay(ctx, day.UTC())
	if err != nil {
		return nil, err
	}
	settled, err := s.settlings(ctx)
	if err != nil {
		return nil, err
	}
	var out []Settling
	for _, d := range newest {
		prev, had := settled[d.day.Unix()]
		switch {
		case d.newest.After(now.Add(-SettleQuiet)):
			continue // still receiving mentions
		case had && !d.newest.After(prev.through):
			continue // current
		}
		at := now.Truncate(time.Second)
		if had && !at.After(prev.at) {
			at = prev.at.Add(time.Second)
		}
		start := time.Now()
		n, err := s.settleDay(ctx, d.day, at, d.newest, had)
		if err != nil {
			return out, err
		}
		out = append(out, Settling{Day: d.day, Mentions: n, Again: had, Took: time.Since(start)})
	}
	return out, nil
}

type dayNewest struct {
	day, newest time.Time
}

// newestPerDay is the newest processed_at of every day before before.
func (s *Store) newestPerDay(ctx context.Context, before time.Time) ([]dayNewest, error) {
	rows, err := s.conn.Query(ctx, "SELECT day, max(processed_at) FROM "+s.db+".mentions WHERE day < toDate(?) GROUP BY day ORDER BY day",
		before.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("settling: reading when each day last changed: %w", err)
	}
	defer rows.Close()
	var out []dayNewest
	for rows.Next() {
		var d dayNewest
		if err := rows.Scan(&d.day, &d.newest); err != nil {
			return nil, fmt.Errorf("settling: reading when each day last changed: %w", err)
		}
		d.day = d.day.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

type settlingMark struct {
	at, through time.Time
}

// settlings are the newest settling of every settled day, by the day's
// Unix time.
func (s *Store) settlings(ctx context.Context) (map[int64]settlingMark, error) {
	rows, err := s.conn.Query(ctx, "SELECT day, max(settled_at), argMax(through, settled_at) FROM "+s.db+".mentions_daily_settled GROUP BY day")
	if err != nil {
		return nil, fmt.Errorf("settling: reading the settled days: %w", err)
	}
	defer rows.Close()
	out := map[int64]settlingMark{}
	for rows.Next() {
		var (
			day time.Time
			m   settlingMark
		)
		if err := rows.Scan(&day, &m.at, &m.through); err != nil {
			return nil, fmt.Errorf("settling: reading the settled days: %w", err)
		}
		out[day.UTC().Unix()] = m
	}
	return out, rows.Err()
}

// settleDay counts day from mentions FINAL under settled_at at, then
// records the settling (through: the day's newest processed_at, read
// before counting), and when the day had older settlings, deletes their
// rows.
func (s *Store) settleDay(ctx context.Context, day, at, through time.Time, again bool) (uint64, error) {
	d := day.Format(time.DateOnly)
	ictx := s.insertContext(ctx)
	count := "INSERT INTO " + s.db + ".mentions_daily_counts" +
		" (day, settled_at, platform, departments, topics, mentions, negative, neutral, positive, sentiment_sum, engagement)" +
		" SELECT day, toDateTime(?, 'UTC'), platform, departments, topics, count()," +
		" countIf(sentiment_label = 'negative'), countIf(sentiment_label = 'neutral'), countIf(sentiment_label = 'positive')," +
		" sum(sentiment), max(likes + shares + replies)" +
		" FROM " + s.db + ".mentions FINAL WHERE day = toDate(?) GROUP BY day, platform, departments, topics"
	if err := s.conn.Exec(ictx, count, at.Unix(), d); err != nil {
		return 0, fmt.Errorf("settling %s: counting: %w", d, err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT sum(mentions) FROM "+s.db+".mentions_daily_counts WHERE day = toDate(?) AND settled_at = toDateTime(?, 'UTC')",
		d, at.Unix()).Scan(&n); err != nil {
		return 0, fmt.Errorf("settling %s: reading the counts back: %w", d, err)
	}
	mark := "INSERT INTO " + s.db + ".mentions_daily_settled (day, settled_at, through, mentions)" +
		" SELECT toDate(?), toDateTime(?, 'UTC'), toDateTime(?, 'UTC'), toUInt64(?)"
	if err := s.conn.Exec(ictx, mark, d, at.Unix(), through.Unix(), n); err != nil {
		return 0, fmt.Errorf("settling %s: recording it: %w", d, err)
	}
	if again {
		// Readers have moved to the new settling; the old rows only take
		// space. A mutation, applied in the background.
		p := s.Params()
		del := "ALTER TABLE " + s.db + "." + p.Table("mentions_daily_counts") + p.OnCluster() +
			" DELETE WHERE day = toDate(?) AND settled_at < toDateTime(?, 'UTC')"
		if err := s.conn.Exec(ctx, del, d, at.Unix()); err != nil {
			return n, fmt.Errorf("settling %s: deleting the counts of older settlings: %w", d, err)
		}
	}
	return n, nil
}
