package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/govlisten/govlisten/analytics"
)

// A chart is drawn in Go as a list of SVG shapes with computed
// coordinates; templates/charts.html turns it into inline SVG (escaping
// every label). Colours are CSS classes (static/style.css), chosen for at
// least 3:1 against the white background; sentiment also has patterns
// and direct labels, so nothing is told by colour alone.
type chart struct {
	ID      string // unique in the page; prefixes pattern ids
	Summary string // the accessible name: what the chart shows, in words
	W, H    float64
	Rects   []rect
	Lines   []line
	Paths   []path
	Texts   []text
	// Patterns says whether to define the sentiment patterns.
	Patterns bool
	Table    table
}

type rect struct {
	X, Y, W, H float64
	Class      string
	// Fill, when set, is a pattern of this chart: "neg" or "pos". (A
	// CSS fill would override it: such a rect has no colour class.)
	Fill string
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type path struct {
	D     string
	Class string
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	S      string
}

// table is a chart's data as a table, its text alternative.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// f1 formats a coordinate for SVG.
func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// count formats an integer with thousands separators: 12,345.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pct(v float64) string { return strconv.Itoa(int(math.Round(v*100))) + "%" }

// score formats a sentiment score with a real minus sign.
func score(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if strings.HasPrefix(s, "-") {
		if s == "-0.00" {
			return "0.00"
		}
		return "−" + s[1:]
	}
	if v > 0 {
		return "+" + s
	}
	return s
}

// bucketLabel names a bucket on an axis or in a table.
func bucketLabel(t time.Time, g analytics.Granularity, long bool) string {
	if g == analytics.Day {
		if long {
			return t.Format("Mon 2 Jan 2006")
		}
		return t.Format("2 Jan")
	}
	if long {
		return t.Format("Mon 2 Jan 15:04")
	}
	if t.Hour() == 0 {
		return t.Format("2 Jan")
	}
	return t.Format("15:04")
}

const (
	chartW = 720.0
	left   = 56.0
	bottom = 36.0
)

// xAxis adds labels under every k-th of n slots (no more than about 8).
func xAxis(c *chart, buckets []analytics.Bucket, g analytics.Granularity, x0, slot, y float64) {
	k := (len(buckets) + 7) / 8
	for i, b := range buckets {
		if i%k != 0 {
			continue
		}
		c.Texts = append(c.Texts, text{X: x0 + slot*(float64(i)+0.5), Y: y + 18, Anchor: "middle", Class: "axis", S: bucketLabel(b.Start, g, false)})
		c.Lines = append(c.Lines, line{X1: x0 + slot*(float64(i)+0.5), Y1: y, X2: x0 + slot*(float64(i)+0.5), Y2: y + 5, Class: "tick"})
	}
}

func per(g analytics.Granularity) string {
	if g == analytics.Hour {
		return "hour"
	}
	return "day"
}

// volumeChart is mentions per bucket, as columns, with the peak labelled.
func volumeChart(s *analytics.Summary) chart {
	const h, top = 260.0, 30.0
	c := chart{ID: "volume", W: chartW, H: h}
	buckets, g := s.Series, s.Granularity
	plotW, plotH := chartW-left-16, h-top-bottom
	var maxV, total uint64
	peak := 0
	for i, b := range buckets {
		total += b.Mentions
		if b.Mentions > maxV {
			maxV, peak = b.Mentions, i
		}
	}
	ymax := niceMax(float64(maxV))
	for _, v := range []float64{0, ymax / 2, ymax} {
		y := top + plotH*(1-v/ymax)
		c.Lines = append(c.Lines, line{X1: left, Y1: y, X2: left + plotW, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, text{X: left - 6, Y: y + 4, Anchor: "end", Class: "axis", S: count(uint64(v))})
	}
	slot := plotW / float64(max(len(buckets), 1))
	for i, b := range buckets {
		bh := plotH * float64(b.Mentions) / ymax
		c.Rects = append(c.Rects, rect{X: left + slot*float64(i) + slot*0.1, Y: top + plotH - bh, W: slot * 0.8, H: bh, Class: "bar-volume"})
		c.Table.Rows = append(c.Table.Rows, []string{bucketLabel(b.Start, g, true), count(b.Mentions)})
	}
	xAxis(&c, buckets, g, left, slot, top+plotH)
	c.Lines = append(c.Lines, line{X1: left, Y1: top + plotH, X2: left + plotW, Y2: top + plotH, Class: "axis-line"})
	if maxV > 0 {
		px := math.Min(math.Max(left+slot*(float64(peak)+0.5), left+50), left+plotW-50)
		py := top + plotH*(1-float64(maxV)/ymax) - 8
		c.Texts = append(c.Texts, text{X: px, Y: py, Anchor: "middle", Class: "label", S: "Peak " + count(maxV)})
	}
	c.Table.Caption = "Mentions per " + per(g) + " (UTC)"
	c.Table.Head = []string{"Time (UTC)", "Mentions"}
	if len(buckets) > 0 {
		c.Summary = fmt.Sprintf("Column chart of mentions per %s from %s to %s UTC: %s in total", per(g),
			bucketLabel(buckets[0].Start, g, true), bucketLabel(buckets[len(buckets)-1].Start, g, true), count(total))
		if maxV > 0 {
			c.Summary += fmt.Sprintf(", peak %s at %s", count(maxV), bucketLabel(buckets[peak].Start, g, true))
		}
		c.Summary += "."
	}
	return c
}

// sentimentChart is the share of each sentiment per bucket, stacked to
// 100% (negative hatched at the bottom, neutral plain, positive dotted),
// with the mean score as a line on a -1 to +1 scale, every series
// labelled at its right end.
func sentimentChart(s *analytics.Summary) chart {
	const h, top, right = 290.0, 16.0, 170.0
	c := chart{ID: "sentiment", W: chartW, H: h, Patterns: true}
	buckets, g := s.Series, s.Granularity
	plotW, plotH := chartW-left-right, h-top-bottom
	for _, v := range []float64{0, 0.5, 1} {
		y := top + plotH*(1-v)
		c.Lines = append(c.Lines, line{X1: left, Y1: y, X2: left + plotW, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, text{X: left - 6, Y: y + 4, Anchor: "end", Class: "axis", S: pct(v)})
	}
	for _, t := range []struct {
		v float64
		s string
	}{{1, "+1"}, {0, "0"}, {-1, "−1"}} {
		c.Texts = append(c.Texts, text{X: left + plotW + 4, Y: top + plotH*(1-(t.v+1)/2) + 4, Anchor: "start", Class: "axis", S: t.s})
	}
	slot := plotW / float64(max(len(buckets), 1))
	var (
		d          strings.Builder
		last       = -1
		sums       [3]uint64
		meanSum    float64
		meanWeight uint64
	)
	for i, b := range buckets {
		neg, neu, pos := b.Shares()
		c.Table.Rows = append(c.Table.Rows, []string{bucketLabel(b.Start, g, true), count(b.Scored()), pct(neg), pct(neu), pct(pos), meanOrDash(b)})
		if b.Scored() == 0 {
			continue
		}
		sums[0], sums[1], sums[2] = sums[0]+b.Negative, sums[1]+b.Neutral, sums[2]+b.Positive
		meanSum += b.MeanSentiment * float64(b.Mentions)
		meanWeight += b.Mentions
		x, w := left+slot*float64(i)+slot*0.05, slot*0.9
		y := top + plotH
		for _, band := range []struct {
			share      float64
			class, pat string
		}{{neg, "band-mark", "neg"}, {neu, "band-neutral band-mark", ""}, {pos, "band-mark", "pos"}} {
			bh := plotH * band.share
			y -= bh
			c.Rects = append(c.Rects, rect{X: x, Y: y, W: w, H: bh, Class: band.class, Fill: band.pat})
		}
		cmd := "L"
		if last < 0 || last != i-1 {
			cmd = "M" // the first point, or after a gap
		}
		fmt.Fprintf(&d, "%s%s %s ", cmd, f1(left+slot*(float64(i)+0.5)), f1(top+plotH*(1-(b.MeanSentiment+1)/2)))
		last = i
	}
	xAxis(&c, buckets, g, left, slot, top+plotH)
	c.Lines = append(c.Lines, line{X1: left, Y1: top + plotH, X2: left + plotW, Y2: top + plotH, Class: "axis-line"})
	if d.Len() > 0 {
		dd := strings.TrimSpace(d.String())
		c.Paths = append(c.Paths, path{D: dd, Class: "mean-halo"}, path{D: dd, Class: "mean-line"})
	}
	c.Table.Caption = "Sentiment per " + per(g) + " (UTC): share of scored mentions, and mean score from −1 to +1"
	c.Table.Head = []string{"Time (UTC)", "Scored mentions", "Negative", "Neutral", "Positive", "Mean score"}
	if last < 0 {
		c.Summary = "Sentiment chart: no scored mentions in this range."
		return c
	}
	// Direct labels at the right of the last bucket with data, spread so
	// they never overlap.
	b := buckets[last]
	neg, neu, pos := b.Shares()
	mean := b.MeanSentiment
	labels := []struct {
		y     float64
		s     string
		class string
	}{
		{top + plotH*(1-neg/2), "Negative " + pct(neg), "label label-negative"},
		{top + plotH*(1-neg-neu/2), "Neutral " + pct(neu), "label label-neutral"},
		{top + plotH*(1-neg-neu-pos/2), "Positive " + pct(pos), "label label-positive"},
		{top + plotH*(1-(mean+1)/2), "Mean score " + score(mean), "label label-mean"},
	}
	// sort by y, then push apart by at least 15 px
	for i := 1; i < len(labels); i++ {
		for j := i; j > 0 && labels[j].y < labels[j-1].y; j-- {
			labels[j], labels[j-1] = labels[j-1], labels[j]
		}
	}
	for i := 1; i < len(labels); i++ {
		if labels[i].y < labels[i-1].y+15 {
			labels[i].y = labels[i-1].y + 15
		}
	}
	for _, l := range labels {
		c.Texts = append(c.Texts, text{X: left + plotW + 28, Y: l.y + 4, Anchor: "start", Class: l.class, S: l.s})
	}
	scored := sums[0] + sums[1] + sums[2]
	c.Summary = fmt.Sprintf("Stacked chart of sentiment per %s, with the mean score as a line. Over the range, of %s scored mentions %s were negative, %s neutral and %s positive; mean score %s. Last %s: %s negative, %s neutral, %s positive, mean %s.",
		per(g), count(scored), pct(float64(sums[0])/float64(scored)), pct(float64(sums[1])/float64(scored)), pct(float64(sums[2])/float64(scored)),
		score(meanSum/float64(max(meanWeight, 1))), per(g), pct(neg), pct(neu), pct(pos), score(mean))
	return c
}

func meanOrDash(b analytics.Bucket) string {
	if b.Mentions == 0 {
		return "–"
	}
	return score(b.MeanSentiment)
}

// barChart is a top list as horizontal bars: the name above each bar, the
// count and negative share at its end, the negative part hatched.
func barChart(id, what, one string, items []analytics.SlugCount) chart {
	const rowH, top = 44.0, 8.0
	h := top + rowH*float64(max(len(items), 1)) + 8
	c := chart{ID: id, W: chartW, H: h, Patterns: true}
	var maxV uint64
	for _, it := range items {
		maxV = max(maxV, it.Mentions)
	}
	barMax := chartW - 8 - 190
	var parts []string
	for i, it := range items {
		y := top + rowH*float64(i)
		w := barMax * float64(it.Mentions) / float64(max(maxV, 1))
		nw := barMax * float64(it.Negative) / float64(max(maxV, 1))
		c.Texts = append(c.Texts, text{X: 8, Y: y + 13, Anchor: "start", Class: "label", S: it.Name})
		c.Rects = append(c.Rects, rect{X: 8, Y: y + 18, W: w, H: 18, Class: "bar-volume"})
		c.Rects = append(c.Rects, rect{X: 8, Y: y + 18, W: nw, H: 18, Class: "band-mark", Fill: "neg"})
		c.Texts = append(c.Texts, text{X: 8 + w + 6, Y: y + 32, Anchor: "start", Class: "value",
			S: count(it.Mentions) + " · " + pct(it.NegativeShare) + " negative"})
		c.Table.Rows = append(c.Table.Rows, []string{it.Name, count(it.Mentions), count(it.Negative), pct(it.NegativeShare)})
		parts = append(parts, fmt.Sprintf("%s %s (%s negative)", it.Name, count(it.Mentions), pct(it.NegativeShare)))
	}
	c.Table.Caption = "Top " + what + " by mentions"
	c.Table.Head = []string{one, "Mentions", "Negative", "Negative share"}
	if len(items) == 0 {
		c.Summary = "Bar chart of the top " + what + ": none in this range."
	} else {
		c.Summary = "Bar chart of the top " + what + " by mentions, with the negative part hatched: " + strings.Join(parts, "; ") + "."
	}
	return c
}
