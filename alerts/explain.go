package alerts

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Sample sizes of the texts compared for top terms, and how many
// most-engaged mentions an alert names.
const (
	periodSample   = 2000
	baselineSample = 4000
	topMentions    = 3
)

// Engaged is one of a period's most-engaged mentions.
type Engaged struct {
	// ID is platform:id.
	ID  string
	URL string
	// Engagement is likes + shares + replies when collected.
	Engagement uint64
}

// Explain fills in a's TopTerms, MentionIDs and Explanation from the
// mentions of its period and baseline. Cost: three reads of mentions,
// bounded by the sample sizes and by the days of the period and baseline.
func (d *Detector) Explain(ctx context.Context, a *Alert) error {
	start, end := a.Start, a.Start.Add(a.Period.Len())
	bstart := start.Add(-time.Duration(a.Period.Window()) * a.Period.Len())
	cur, err := d.texts(ctx, a.Scope, a.Slug, start, end, a.Mentions, periodSample)
	if err != nil {
		return err
	}
	base, err := d.texts(ctx, a.Scope, a.Slug, bstart, start, a.baselineMentions, baselineSample)
	if err != nil {
		return err
	}
	a.TopTerms = topTerms(cur, base, maxTerms)
	eng, err := d.engaged(ctx, a.Scope, a.Slug, start, end)
	if err != nil {
		return err
	}
	a.MentionIDs = []string{}
	for _, e := range eng {
		a.MentionIDs = append(a.MentionIDs, e.ID)
	}
	a.Explanation = d.explanation(a, eng)
	return nil
}

// texts returns a uniform sample of at most limit texts of the mentions of
// slug posted in [from, to): those whose id hashes to 0 modulo the step
// that brings expected (the rollup's count) down to limit.
func (d *Detector) texts(ctx context.Context, s Scope, slug string, from, to time.Time, expected uint64, limit int) ([]string, error) {
	step := max(uint64(1), (expected+uint64(limit)-1)/uint64(limit))
	q := "SELECT text FROM " + d.Store.DB() + ".mentions WHERE day >= toDate(?) AND day <= toDate(?) AND created_at >= ? AND created_at < ? AND has(" +
		tagColumn(s) + ", ?) AND cityHash64(id) % " + strconv.FormatUint(step, 10) + " = 0 LIMIT " + strconv.Itoa(limit)
	rows, err := d.Store.Conn().Query(ctx, q, from.Format(time.DateOnly), to.Add(-time.Second).Format(time.DateOnly), from, to, slug)
	if err != nil {
		return nil, fmt.Errorf("sampling texts of %s %s: %w", s, slug, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("sampling texts of %s %s: %w", s, slug, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// engaged returns the most-engaged mentions of slug posted in [from, to),
// leaving out the department's own posts, from mentions FINAL.
func (d *Detector) engaged(ctx context.Context, s Scope, slug string, from, to time.Time) ([]Engaged, error) {
	q := "SELECT toString(platform), id, url, likes + shares + replies AS e FROM " + d.Store.DB() +
		".mentions FINAL WHERE day >= toDate(?) AND day <= toDate(?) AND created_at >= ? AND created_at < ? AND has(" +
		tagColumn(s) + ", ?) AND own = 0 ORDER BY e DESC, platform, id LIMIT " + strconv.Itoa(topMentions)
	return d.queryEngaged(ctx, q, from.Format(time.DateOnly), to.Add(-time.Second).Format(time.DateOnly), from, to, slug)
}

// links looks up the mentions an alert names, for its message, in the
// order it names them. A mention no longer stored is left out.
func (d *Detector) links(ctx context.Context, a *Alert) ([]Engaged, error) {
	if len(a.MentionIDs) == 0 {
		return nil, nil
	}
	from, to := a.Start, a.Start.Add(a.Period.Len())
	q := "SELECT toString(platform), id, url, likes + shares + replies FROM " + d.Store.DB() +
		".mentions FINAL WHERE day >= toDate(?) AND day <= toDate(?) AND has(?, concat(toString(platform), ':', id))"
	found, err := d.queryEngaged(ctx, q, from.Format(time.DateOnly), to.Add(-time.Second).Format(time.DateOnly), a.MentionIDs)
	if err != nil {
		return nil, err
	}
	byID := map[string]Engaged{}
	for _, e := range found {
		byID[e.ID] = e
	}
	var out []Engaged
	for _, id := range a.MentionIDs {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func (d *Detector) queryEngaged(ctx context.Context, q string, args ...any) ([]Engaged, error) {
	rows, err := d.Store.Conn().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading most-engaged mentions: %w", err)
	}
	defer rows.Close()
	var out []Engaged
	for rows.Next() {
		var (
			platform, id string
			e            Engaged
		)
		if err := rows.Scan(&platform, &id, &e.URL, &e.Engagement); err != nil {
			return nil, fmt.Errorf("reading most-engaged mentions: %w", err)
		}
		e.ID = platform + ":" + id
		out = append(out, e)
	}
	return out, rows.Err()
}

// tagColumn is the mentions column holding a scope's slugs.
func tagColumn(s Scope) string {
	if s == Topic {
		return "topics"
	}
	return "departments"
}

// explanation is the paragraph stored with the alert.
func (d *Detector) explanation(a *Alert, eng []Engaged) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s had %s mentions %s, against an average of %.1f (standard deviation %.1f) over the previous %s",
		d.name(a.Slug), thousands(a.Mentions), periodPhrase(a), a.Baseline, a.Stddev, windowPhrase(a.Period))
	if a.Baseline > 0 {
		fmt.Fprintf(&b, ": %.1f times the usual", float64(a.Mentions)/a.Baseline)
	}
	fmt.Fprintf(&b, ". Negative share %s (baseline %s).", percent(a.NegativeShare), percent(a.BaselineNegativeShare))
	if len(a.TopTerms) > 0 {
		fmt.Fprintf(&b, " Words standing out: %s.", strings.Join(a.TopTerms, ", "))
	}
	if len(eng) > 0 {
		b.WriteString(" Most engaged: ")
		for i, e := range eng {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s (%s interactions) %s", e.ID, thousands(e.Engagement), e.URL)
		}
		b.WriteString(".")
	}
	return b.String()
}

// periodPhrase says which period: "in the hour from 14:00 UTC on Fri 20 Nov 2026".
func periodPhrase(a *Alert) string {
	if a.Period == Day {
		return "on " + a.Start.UTC().Format("Mon 2 Jan 2006") + " (UTC)"
	}
	return "in the hour from " + a.Start.UTC().Format("15:04") + " UTC on " + a.Start.UTC().Format("Mon 2 Jan 2006")
}

func windowPhrase(p Period) string {
	if p == Day {
		return "14 days"
	}
	return "12 hours"
}

// percent is a share as a whole percentage.
func percent(x float64) string { return strconv.Itoa(int(math.Round(x*100))) + "%" }

// thousands writes n with comma thousands separators.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
