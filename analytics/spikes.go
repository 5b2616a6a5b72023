package analytics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Spike is a bucket in which a department or topic had far more mentions
// than in the SpikeWindow buckets before it.
type Spike struct {
	Scope       string      `json:"scope"` // department or topic
	Slug        string      `json:"slug"`
	Name        string      `json:"name,omitempty"` // filled in by the caller
	Granularity Granularity `json:"granularity"`
	Start       time.Time   `json:"start"`
	Mentions    uint64      `json:"mentions"`
	// Baseline and StdDev are the mean and (population) standard
	// deviation of the preceding SpikeWindow buckets, empty ones counting
	// as 0.
	Baseline float64 `json:"baseline"`
	StdDev   float64 `json:"stddev"`
	// Drivers are the spike's most-engaged mentions.
	Drivers []Mention `json:"drivers"`
}

// IsSpike is the spike rule: n at least minMentions, at least factor times
// the mean, and at least factor standard deviations above it.
func IsSpike(n uint64, mean, sd float64, minMentions uint64, factor float64) bool {
	x := float64(n)
	return n >= minMentions && x >= factor*mean && x >= mean+factor*sd
}

// Spikes finds, in f's range, every bucket whose volume for a department
// or topic meets the spike rule against the SpikeWindow buckets before it,
// and returns the newest limit of them (then the largest), each with its
// drivers most-engaged mentions. The filter's platform and tags apply: with
// department=dwp, the topics' series count only mentions tagged dwp.
//
// One rollup query reads both scopes' series (including the window before
// the range); Go computes the baselines; one query on mentions FINAL, on
// the spikes' days only, reads the drivers of all spikes.
func (a *Analytics) Spikes(ctx context.Context, f Filter, limit, drivers int) ([]Spike, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 10
	}
	if drivers <= 0 {
		drivers = 3
	}
	f = f.Aligned()
	g := f.Granularity()
	step := time.Hour
	if g == Day {
		step = 24 * time.Hour
	}
	from := f.From.Add(-SpikeWindow * step)
	// Both scopes in one pass: each rollup row yields a department:slug
	// and a topic:slug key per tag.
	keys := "arrayJoin(arrayConcat(arrayMap(d -> concat('department:', d), departments), arrayMap(t -> concat('topic:', t), topics))) AS key"
	var (
		q    string
		args []any
	)
	if g == Hour {
		r := a.rollup(g)
		c := r.where(from, f.To, f)
		q = "SELECT " + r.bucket + " AS b, " + keys + ", uniqMerge(mentions) AS n FROM " + r.table + " WHERE " + c.sql() + " GROUP BY b, key"
		args = c.args
	} else {
		src, srcArgs, err := a.daily(ctx, from, f.To, f)
		if err != nil {
			return nil, fmt.Errorf("spike series: %w", err)
		}
		q = "SELECT day AS b, " + keys + ", sum(n) AS mentions FROM " + src + " GROUP BY b, key"
		args = srcArgs
	}
	rows, err := a.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("spike series: %w", err)
	}
	defer rows.Close()
	n := int(f.To.Sub(from) / step)
	series := map[string][]uint64{}
	for rows.Next() {
		var (
			b   time.Time
			key string
			v   uint64
		)
		if err := rows.Scan(&b, &key, &v); err != nil {
			return nil, fmt.Errorf("spike series: %w", err)
		}
		i := int(b.Sub(from) / step)
		if i < 0 || i >= n {
			continue
		}
		s := series[key]
		if s == nil {
			s = make([]uint64, n)
			series[key] = s
		}
		s[i] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("spike series: %w", err)
	}
	var spikes []Spike
	for key, s := range series {
		scope, slug, _ := strings.Cut(key, ":")
		for i := SpikeWindow; i < n; i++ {
			mean, sd := meanSD(s[i-SpikeWindow : i])
			if IsSpike(s[i], mean, sd, a.MinMentions, a.Factor) {
				spikes = append(spikes, Spike{Scope: scope, Slug: slug, Granularity: g, Start: from.Add(time.Duration(i) * step),
					Mentions: s[i], Baseline: mean, StdDev: sd})
			}
		}
	}
	sort.Slice(spikes, func(i, j int) bool {
		x, y := spikes[i], spikes[j]
		if !x.Start.Equal(y.Start) {
			return x.Start.After(y.Start)
		}
		if x.Mentions != y.Mentions {
			return x.Mentions > y.Mentions
		}
		return x.Scope+x.Slug < y.Scope+y.Slug
	})
	if len(spikes) > limit {
		spikes = spikes[:limit]
	}
	if len(spikes) == 0 {
		return nil, nil
	}
	if err := a.drivers(ctx, f, spikes, step, drivers); err != nil {
		return nil, err
	}
	return spikes, nil
}

func meanSD(w []uint64) (mean, sd float64) {
	for _, v := range w {
		mean += float64(v)
	}
	mean /= float64(len(w))
	for _, v := range w {
		d := float64(v) - mean
		sd += d * d
	}
	return mean, math.Sqrt(sd / float64(len(w)))
}

// drivers fills in the most-engaged mentions of each spike, in the two
// steps of NegativeMentions: the keys of the 2n+5 most-engaged rows of each
// spike's bucket and slug (LIMIT BY) from the small columns of the spikes'
// days, then those mentions FINAL by sorting key.
func (a *Analytics) drivers(ctx context.Context, f Filter, spikes []Spike, step time.Duration, n int) error {
	var (
		pre, c       cond
		days, tuples []string
		args         []any
		seenDay      = map[string]bool{}
	)
	for _, s := range spikes {
		for t := s.Start; t.Before(s.Start.Add(step)); t = t.Add(24 * time.Hour) {
			d := t.Format(time.DateOnly)
			if !seenDay[d] {
				seenDay[d] = true
				days = append(days, "toDate(?)")
				pre.args = append(pre.args, d)
			}
		}
		tuples = append(tuples, "(?, ?)")
		args = append(args, s.Start.Unix(), s.Scope+":"+s.Slug)
	}
	pre.parts = []string{"day IN (" + strings.Join(days, ", ") + ")"}
	c.add("own = 0")
	c.tags(f)
	bucket := "toStartOfHour(created_at)"
	if step > time.Hour {
		bucket = "toStartOfDay(created_at)"
	}
	q := "SELECT toString(day), toString(platform), id FROM (" +
		"SELECT day, platform, id, likes + shares + replies AS e, " + bucket + " AS b," +
		" arrayJoin(arrayConcat(arrayMap(d -> concat('department:', d), departments), arrayMap(t -> concat('topic:', t), topics))) AS key" +
		" FROM " + a.table("mentions") + " PREWHERE " + pre.sql() + " WHERE " + c.sql() +
		") WHERE (toUInt32(b), key) IN (" + strings.Join(tuples, ", ") + ")" +
		" ORDER BY e DESC LIMIT " + strconv.Itoa(2*n+5) + " BY b, key"
	keys, err := a.keys(ctx, q, append(append(pre.args, c.args...), args...))
	if err != nil {
		return fmt.Errorf("spike drivers: %w", err)
	}
	ms, err := a.lookup(ctx, keys, c, 0)
	if err != nil {
		return fmt.Errorf("spike drivers: %w", err)
	}
	// ms is most engaged first: give each spike its first n.
	for i := range spikes {
		s := &spikes[i]
		for _, m := range ms {
			if len(s.Drivers) == n {
				break
			}
			tags := m.Departments
			if s.Scope == "topic" {
				tags = m.Topics
			}
			if m.CreatedAt.Truncate(step).Equal(s.Start) && slices.Contains(tags, s.Slug) {
				s.Drivers = append(s.Drivers, m)
			}
		}
	}
	return nil
}
