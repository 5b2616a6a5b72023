// Package briefing builds the daily briefing a comms director reads on a
// phone: one page for one UTC day, for all departments or for one, as
// self-contained HTML, plain Markdown or a one-page A4 PDF, and a short
// summary for a Slack or Teams webhook.
//
// # What it says
//
//   - Headline: the day's distinct mentions, negative share and mean
//     sentiment against the previous day and the 7 days before the day
//     (mentions as a daily average; negative share and mean sentiment
//     pooled over the 7 days).
//   - A table: per department (or, for one department, per topic of its
//     mentions), the same numbers, the ten busiest of the day.
//   - The three biggest movements: of the departments and topics (or the
//     department's topics), those whose volume or negative share moved
//     most against their 7-day average. Moves are ranked by how surprising
//     they are, so that a volume move and a share move compare: volume by
//     z = (n − μ) / √max(μ, 1) (μ the 7-day daily mean; Poisson noise),
//     negative share by the two-proportion z of the day against the 7 days
//     (only when both have at least 10 mentions). Each slug appears once,
//     with its larger move; the numbers shown are the plain ones (mentions
//     against the average and the change in percent, or the shares and the
//     change in points).
//   - The spikes of the day: package alerts' rule, applied to the day's
//     complete hours and to the day itself, with the words stored with an
//     alert where the alert detector already found it.
//   - What people said: the three most-engaged mentions and two of the most
//     engaged negative ones, quoted with their links (the department's own
//     posts left out).
//
// # Where the numbers come from
//
// Counts come from the rollup mentions_daily with uniqMerge: distinct
// mentions, true under redelivery. The rollup is exploded here with one
// arrayJoin (departments or topics) rather than read through
// mentions_daily_tags, which explodes departments × topics: uniqMerge
// would be the same, but avgMerge would count a mention with two topics
// twice in its department's mean sentiment. The quoted mentions come from
// mentions FINAL restricted to the day (day = D reads one partition's
// range only). Days are UTC days, as the rollups are.
//
// # Formats
//
// HTML is one file with inline CSS and no external assets (a Content-
// Security-Policy forbids any), lang="en-GB", headings in order, tables
// with captions and header cells, colours at WCAG AA contrast and never the
// only carrier of meaning; it is written with html/template, so mention
// texts are escaped. Markdown is plain CommonMark, with mention texts
// backslash-escaped. The PDF is one A4 page written with
// github.com/go-pdf/fpdf (pure Go, no C or external tools, maintained fork
// of jung-kurt/gofpdf) using its core Helvetica font: that font is
// Windows-1252, so every string goes through pdfText, which keeps what
// cp1252 has, strips accents it lacks (Welsh ŵ → w), and replaces emoji and
// other scripts (Arabic, Hebrew, CJK) by a placeholder: no text can make it
// fail. Content that does not fit the page is cut with a note.
package briefing

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/govlisten/govlisten/alerts"
	"github.com/govlisten/govlisten/processors/sink"
)

// Limits of the one page.
const (
	maxRows     = 10
	maxSpikes   = 6
	topEngaged  = 3
	topNegative = 2
	maxQuote    = 280 // runes of a quoted mention
	minForShare = 10  // mentions on each side before a negative-share move counts
)

// Options say what to brief on.
type Options struct {
	// Date is the UTC day (its time of day is ignored).
	Date time.Time
	// Department is a department slug, or "" for all departments.
	Department string
	// Names maps slugs to display names (alerts.Names).
	Names map[string]string
	// MinMentions and Factor are the spike rule's (alerts.min_mentions,
	// alerts.factor).
	MinMentions int
	Factor      float64
	// Now bounds the spikes judged to complete periods; nil is time.Now.
	Now func() time.Time
}

// Briefing is the content of one briefing, ready to render.
type Briefing struct {
	Date           time.Time
	Department     string // slug, "" for all
	DepartmentName string
	// Today, Previous and Week are the headline numbers: the day, the day
	// before, and the 7 days before the day pooled.
	Today, Previous, Week Stats
	// RowKind is "Department" or "Topic"; Rows the busiest of the day.
	RowKind  string
	Rows     []Row
	RowsLeft int
	// Movements are the three biggest, largest first.
	Movements []Movement
	// Spikes are the day's, in time order; SpikesLeft those not listed.
	Spikes     []alerts.Alert
	SpikesLeft int
	// Engaged and Negative are quoted mentions.
	Engaged, Negative []Sample

	names map[string]string
}

// Stats are distinct mentions, distinct negative mentions and the mean
// sentiment score over some days.
type Stats struct {
	Mentions, Negative uint64
	Sentiment          float64
	Days               int // days pooled: 1, or 7 for Week
}

// Share is the negative share (0 without mentions).
func (s Stats) Share() float64 {
	if s.Mentions == 0 {
		return 0
	}
	return float64(s.Negative) / float64(s.Mentions)
}

// PerDay is the mean mentions per day.
func (s Stats) PerDay() float64 { return float64(s.Mentions) / float64(max(s.Days, 1)) }

// Row is one department's or topic's numbers.
type Row struct {
	Slug, Name            string
	Today, Previous, Week Stats
}

// Movement is one department's or topic's move against its 7 days.
type Movement struct {
	Slug, Name string
	// Share is true for a negative-share move, false for a volume move.
	Share       bool
	Today, Week Stats
	// Z is the move's z-score (see the package comment).
	Z float64
}

// Sample is a quoted mention.
type Sample struct {
	Platform, ID, Handle, Text, URL string
	Engagement                      uint64
	Negative                        bool
}

// Build reads the numbers, spikes and mentions of the briefing from
// ClickHouse. Cost: nine small GROUP BY queries over eight days of the
// daily rollup; the spike rule's four over the hourly rollup (the day and
// the 12 hours before it) and the daily one (the day and the 14 before
// it); one read of the day's stored alerts; two over the day's mentions.
func Build(ctx context.Context, store *sink.Store, o Options) (*Briefing, error) {
	day := time.Date(o.Date.Year(), o.Date.Month(), o.Date.Day(), 0, 0, 0, 0, time.UTC)
	b := &Briefing{Date: day, Department: o.Department, names: o.Names, RowKind: "Department"}
	q := query{store: store, dept: o.Department}
	if o.Department != "" {
		b.DepartmentName = b.name(o.Department)
		b.RowKind = "Topic"
	}
	ranges := []struct {
		from, to time.Time
		days     int
	}{{day, day, 1}, {day.AddDate(0, 0, -1), day.AddDate(0, 0, -1), 1}, {day.AddDate(0, 0, -7), day.AddDate(0, 0, -1), 7}}
	var (
		totals [3]Stats
		rows   [3]map[string]Stats
		topics [3]map[string]Stats // all departments: topics too, for movements
	)
	for i, r := range ranges {
		t, err := q.stats(ctx, "", r.from, r.to, r.days)
		if err != nil {
			return nil, err
		}
		totals[i] = t[""]
		slugs := "departments"
		if o.Department != "" {
			slugs = "topics"
		}
		if rows[i], err = q.stats(ctx, slugs, r.from, r.to, r.days); err != nil {
			return nil, err
		}
		if o.Department == "" {
			if topics[i], err = q.stats(ctx, "topics", r.from, r.to, r.days); err != nil {
				return nil, err
			}
		}
	}
	b.Today, b.Previous, b.Week = totals[0], totals[1], totals[2]
	b.Rows, b.RowsLeft = b.table(rows)
	cands := b.rowsOf(rows)
	if o.Department == "" {
		cands = append(cands, b.rowsOf(topics)...)
	}
	b.Movements = movements(cands, 3)

	var err error
	if b.Spikes, b.SpikesLeft, err = spikes(ctx, store, o, day); err != nil {
		return nil, err
	}
	if b.Engaged, err = q.samples(ctx, day, false, topEngaged, nil); err != nil {
		return nil, err
	}
	shown := map[string]bool{}
	for _, s := range b.Engaged {
		shown[s.Platform+":"+s.ID] = true
	}
	if b.Negative, err = q.samples(ctx, day, true, topNegative, shown); err != nil {
		return nil, err
	}
	return b, nil
}

// name is a slug's display name.
func (b *Briefing) name(slug string) string {
	if n := b.names[slug]; n != "" {
		return n
	}
	return slug
}

// rowsOf joins the three ranges' numbers per slug.
func (b *Briefing) rowsOf(r [3]map[string]Stats) []Row {
	seen := map[string]bool{}
	var out []Row
	for _, m := range r {
		for slug := range m {
			if seen[slug] {
				continue
			}
			seen[slug] = true
			out = append(out, Row{Slug: slug, Name: b.name(slug),
				Today: withDays(r[0][slug], 1), Previous: withDays(r[1][slug], 1), Week: withDays(r[2][slug], 7)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

func withDays(s Stats, d int) Stats {
	s.Days = d
	return s
}

// table is the rows of the day's busiest slugs (with mentions on the day or
// in the week), and how many more there were.
func (b *Briefing) table(r [3]map[string]Stats) ([]Row, int) {
	rows := b.rowsOf(r)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Today.Mentions != rows[j].Today.Mentions {
			return rows[i].Today.Mentions > rows[j].Today.Mentions
		}
		if rows[i].Week.Mentions != rows[j].Week.Mentions {
			return rows[i].Week.Mentions > rows[j].Week.Mentions
		}
		return rows[i].Name < rows[j].Name
	})
	var out []Row
	for _, row := range rows {
		if row.Today.Mentions > 0 || row.Week.Mentions > 0 {
			out = append(out, row)
		}
	}
	if len(out) > maxRows {
		return out[:maxRows], len(out) - maxRows
	}
	return out, 0
}

// movements ranks each slug's larger move by |z| and returns the n largest
// non-zero ones.
func movements(rows []Row, n int) []Movement {
	var out []Movement
	for _, r := range rows {
		mu := r.Week.PerDay()
		best := Movement{Slug: r.Slug, Name: r.Name, Today: r.Today, Week: r.Week,
			Z: (float64(r.Today.Mentions) - mu) / math.Sqrt(math.Max(mu, 1))}
		if r.Today.Mentions >= minForShare && r.Week.Mentions >= minForShare {
			p1, p0 := r.Today.Share(), r.Week.Share()
			pool := float64(r.Today.Negative+r.Week.Negative) / float64(r.Today.Mentions+r.Week.Mentions)
			se := math.Sqrt(pool * (1 - pool) * (1/float64(r.Today.Mentions) + 1/float64(r.Week.Mentions)))
			if se > 0 {
				if z := (p1 - p0) / se; math.Abs(z) > math.Abs(best.Z) {
					best.Share, best.Z = true, z
				}
			}
		}
		if best.Z != 0 {
			out = append(out, best)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := math.Abs(out[i].Z), math.Abs(out[j].Z); a != b {
			return a > b
		}
		return out[i].Name < out[j].Name
	})
	return out[:min(n, len(out))]
}

// spikes are the day's spikes by package alerts' rule: its complete hours
// and, once over, the day itself; for one department only its own. Where
// the detector stored an alert, its words come with it.
func spikes(ctx context.Context, store *sink.Store, o Options, day time.Time) ([]alerts.Alert, int, error) {
	d := &alerts.Detector{Store: store, MinMentions: o.MinMentions, Factor: o.Factor, Names: o.Names}
	now := time.Now().UTC()
	if o.Now != nil {
		now = o.Now().UTC()
	}
	end := day.AddDate(0, 0, 1)
	var found []alerts.Alert
	for _, p := range []alerts.Period{alerts.Hour, alerts.Day} {
		to := end
		if last := p.Floor(now); last.Before(to) {
			to = last
		}
		as, err := d.Detect(ctx, p, day, to)
		if err != nil {
			return nil, 0, err
		}
		found = append(found, as...)
	}
	stored, err := d.Stored(ctx, day, end)
	if err != nil {
		return nil, 0, err
	}
	byID := map[string]alerts.Alert{}
	for _, a := range stored {
		byID[a.ID] = a
	}
	var out []alerts.Alert
	for _, a := range found {
		if o.Department != "" && (a.Scope != alerts.Department || a.Slug != o.Department) {
			continue
		}
		if s, ok := byID[a.ID]; ok {
			a.TopTerms = s.TopTerms
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		if out[i].Period != out[j].Period {
			return out[i].Period == alerts.Day
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > maxSpikes {
		return out[:maxSpikes], len(out) - maxSpikes, nil
	}
	return out, 0, nil
}

// query reads the rollup and the mentions, for all departments or one.
type query struct {
	store *sink.Store
	dept  string
}

// stats returns the numbers of days [from, to] per slug of the array
// column slugs (departments or topics; "" for the total, under key "").
func (q query) stats(ctx context.Context, slugs string, from, to time.Time, days int) (map[string]Stats, error) {
	key := "''"
	if slugs != "" {
		key = "arrayJoin(" + slugs + ")"
	}
	sql := "SELECT " + key + " AS slug, uniqMerge(mentions), uniqIfMerge(negative), avgMerge(sentiment) FROM " + q.store.DB() +
		".mentions_daily WHERE day >= toDate(?) AND day <= toDate(?)"
	args := []any{from.Format(time.DateOnly), to.Format(time.DateOnly)}
	if q.dept != "" {
		sql += " AND has(departments, ?)"
		args = append(args, q.dept)
	}
	rows, err := q.store.Conn().Query(ctx, sql+" GROUP BY slug", args...)
	if err != nil {
		return nil, fmt.Errorf("reading daily numbers: %w", err)
	}
	defer rows.Close()
	out := map[string]Stats{}
	for rows.Next() {
		var (
			slug string
			s    Stats
		)
		if err := rows.Scan(&slug, &s.Mentions, &s.Negative, &s.Sentiment); err != nil {
			return nil, fmt.Errorf("reading daily numbers: %w", err)
		}
		if math.IsNaN(s.Sentiment) {
			s.Sentiment = 0
		}
		s.Days = days
		out[slug] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading daily numbers: %w", err)
	}
	if slugs == "" {
		s := out[""]
		s.Days = days
		out[""] = s
	}
	return out, nil
}

// samples returns the day's n most-engaged mentions (only negative ones
// when negative), leaving out the department's own posts and skip.
func (q query) samples(ctx context.Context, day time.Time, negative bool, n int, skip map[string]bool) ([]Sample, error) {
	sql := "SELECT toString(platform), id, author_handle, text, url, likes + shares + replies AS e, sentiment_label = 'negative' FROM " +
		q.store.DB() + ".mentions FINAL WHERE day = toDate(?) AND own = 0"
	args := []any{day.Format(time.DateOnly)}
	if q.dept != "" {
		sql += " AND has(departments, ?)"
		args = append(args, q.dept)
	}
	if negative {
		sql += " AND sentiment_label = 'negative'"
	}
	sql += fmt.Sprintf(" ORDER BY e DESC, platform, id LIMIT %d", n+len(skip))
	rows, err := q.store.Conn().Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the day's mentions: %w", err)
	}
	defer rows.Close()
	var out []Sample
	for rows.Next() {
		var (
			s   Sample
			neg uint8
		)
		if err := rows.Scan(&s.Platform, &s.ID, &s.Handle, &s.Text, &s.URL, &s.Engagement, &neg); err != nil {
			return nil, fmt.Errorf("reading the day's mentions: %w", err)
		}
		s.Negative = neg == 1
		s.Text = strings.TrimSpace(s.Text)
		if !skip[s.Platform+":"+s.ID] && len(out) < n {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// Formats of Render.
const (
	HTML     = "html"
	Markdown = "md"
	PDF      = "pdf"
)

// Render writes the briefing in format (HTML, Markdown or PDF).
func (b *Briefing) Render(w io.Writer, format string) error {
	switch format {
	case HTML:
		return b.HTML(w)
	case Markdown:
		return b.Markdown(w)
	case PDF:
		return b.PDF(w)
	}
	return fmt.Errorf("briefing format %q: want html, md or pdf", format)
}

// FileName is briefing-YYYY-MM-DD[-department].format.
func (b *Briefing) FileName(format string) string {
	name := "briefing-" + b.Date.Format(time.DateOnly)
	if b.Department != "" {
		name += "-" + b.Department
	}
	return name + "." + format
}
