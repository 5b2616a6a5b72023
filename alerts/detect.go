package alerts

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// window is the range of period starts a run at now judges: every complete
// period that started within since, and at least the last complete one.
func window(p Period, now time.Time, since time.Duration) (from, to time.Time) {
	to = p.Floor(now)
	from = p.Floor(now.Add(-since))
	if last := to.Add(-p.Len()); last.Before(from) {
		from = last
	}
	return from, to
}

// counts are one slug's distinct and negative mentions in one period.
type counts struct{ n, neg uint64 }

// Detect judges every period of kind p that starts in [from, to), for every
// department and topic, and returns the spikes in order of start, scope and
// slug, with their numbers but without explanation (see Explain). from and
// to are aligned to p by Floor; the caller keeps to at or before the end of
// the last complete period. Cost: two GROUP BY queries over the rollup
// (the periods plus the baseline window before them).
func (d *Detector) Detect(ctx context.Context, p Period, from, to time.Time) ([]Alert, error) {
	from, to = p.Floor(from), p.Floor(to)
	if !from.Before(to) {
		return nil, nil
	}
	var out []Alert
	for _, s := range []Scope{Department, Topic} {
		series, err := d.series(ctx, p, s, from.Add(-time.Duration(p.Window())*p.Len()), to)
		if err != nil {
			return nil, err
		}
		slugs := make([]string, 0, len(series))
		for slug := range series {
			slugs = append(slugs, slug)
		}
		sort.Strings(slugs)
		for t := from; t.Before(to); t = t.Add(p.Len()) {
			for _, slug := range slugs {
				if a, ok := d.judge(p, s, slug, t, series[slug]); ok {
					out = append(out, a)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// judge applies the spike rule to slug's period starting at t.
func (d *Detector) judge(p Period, s Scope, slug string, t time.Time, series map[int64]counts) (Alert, bool) {
	cur := series[t.Unix()]
	if cur.n < uint64(max(d.MinMentions, 1)) {
		return Alert{}, false
	}
	base := make([]uint64, p.Window())
	var bn, bneg uint64
	for i := range base {
		c := series[t.Add(-time.Duration(i+1)*p.Len()).Unix()]
		base[i] = c.n
		bn += c.n
		bneg += c.neg
	}
	mean, sd, spike := Spike(cur.n, base, d.MinMentions, d.Factor)
	if !spike {
		return Alert{}, false
	}
	return Alert{
		ID: AlertID(p, s, slug, t), Period: p, Scope: s, Slug: slug, Start: t,
		Mentions: cur.n, Baseline: mean, Stddev: sd,
		NegativeShare: share(cur.neg, cur.n), BaselineNegativeShare: share(bneg, bn),
		TopTerms: []string{}, MentionIDs: []string{},
		baselineMentions: bn,
	}, true
}

func share(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// series reads the distinct and negative mentions of every slug of scope s
// per period of kind p in [from, to), keyed by slug and period start (Unix).
// Periods without mentions have no entry.
func (d *Detector) series(ctx context.Context, p Period, s Scope, from, to time.Time) (map[string]map[int64]counts, error) {
	col := string(s) // the view's column: department or topic
	var (
		q    string
		args []any
	)
	if p == Day {
		q = "SELECT day AS start, " + col + " AS slug, uniqMerge(mentions), uniqIfMerge(negative) FROM " + d.Store.DB() +
			".mentions_daily_tags WHERE day >= toDate(?) AND day < toDate(?) AND " + col + " != '' GROUP BY start, slug"
		args = []any{from.Format(time.DateOnly), to.Format(time.DateOnly)}
	} else {
		q = "SELECT hour AS start, " + col + " AS slug, uniqMerge(mentions), uniqIfMerge(negative) FROM " + d.Store.DB() +
			".mentions_hourly_tags WHERE hour >= ? AND hour < ? AND " + col + " != '' GROUP BY start, slug"
		args = []any{from, to}
	}
	rows, err := d.Store.Conn().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s volumes by %s: %w", p, s, err)
	}
	defer rows.Close()
	out := map[string]map[int64]counts{}
	for rows.Next() {
		var (
			start  time.Time
			slug   string
			n, neg uint64
		)
		if err := rows.Scan(&start, &slug, &n, &neg); err != nil {
			return nil, fmt.Errorf("reading %s volumes by %s: %w", p, s, err)
		}
		if out[slug] == nil {
			out[slug] = map[int64]counts{}
		}
		if p == Day { // a Date: its calendar day, whatever location it scans in
			start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		}
		out[slug][start.Unix()] = counts{n, neg}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s volumes by %s: %w", p, s, err)
	}
	return out, nil
}
