package briefing

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/govlisten/govlisten/alerts"
)

// The words and numbers every format shows, written once so that the HTML,
// Markdown, PDF and webhook summary always agree.

// headline is one headline number with its comparisons.
type headline struct{ Label, Value, Previous, Week string }

func (b *Briefing) headlines() []headline {
	t, p, w := b.Today, b.Previous, b.Week
	return []headline{
		{"Mentions", count(t.Mentions),
			count(p.Mentions) + " (" + change(float64(t.Mentions), float64(p.Mentions)) + ")",
			decimal(w.PerDay()) + " a day (" + change(float64(t.Mentions), w.PerDay()) + ")"},
		{"Negative share", share(t), share(p) + points(t, p), share(w) + points(t, w)},
		{"Mean sentiment", sentiment(t), sentiment(p), sentiment(w)},
	}
}

// Title is "Daily briefing: Friday 20 November 2026".
func (b *Briefing) Title() string { return "Daily briefing: " + b.Date.Format("Monday 2 January 2006") }

// Scope is "All departments" or the department's name.
func (b *Briefing) Scope() string {
	if b.Department == "" {
		return "All departments"
	}
	return b.DepartmentName
}

// subtitle says what is compared with what.
func (b *Briefing) subtitle() string {
	return fmt.Sprintf("%s · UTC day · compared with the day before and with the 7 days %s–%s",
		b.Scope(), b.Date.AddDate(0, 0, -7).Format("2 Jan"), b.Date.AddDate(0, 0, -1).Format("2 Jan"))
}

// tableCaption names the table.
func (b *Briefing) tableCaption() string {
	if b.Department == "" {
		return "By department"
	}
	return "By topic"
}

// rowsLeftNote says how many rows were left out, or "".
func (b *Briefing) rowsLeftNote() string {
	if b.RowsLeft == 0 {
		return ""
	}
	kind := "departments"
	if b.Department != "" {
		kind = "topics"
	}
	if b.RowsLeft == 1 {
		kind = strings.TrimSuffix(kind, "s")
	}
	return fmt.Sprintf("%d more %s with fewer mentions.", b.RowsLeft, kind)
}

// cells are a table row's cells: name, mentions, vs 7-day average,
// negative share, mean sentiment.
func (r Row) cells() [5]string {
	return [5]string{r.Name, count(r.Today.Mentions), change(float64(r.Today.Mentions), r.Week.PerDay()), share(r.Today), sentiment(r.Today)}
}

var tableHeads = [5]string{"", "Mentions", "vs 7-day avg", "Negative", "Sentiment"}

// String is one line: "Name: 50 mentions against a 7-day average of 20.0 (+150%)".
func (m Movement) String() string {
	if m.Share {
		return fmt.Sprintf("%s: negative share %s against %s over 7 days (%s), on %s mentions",
			m.Name, share(m.Today), share(m.Week), strings.TrimSuffix(strings.TrimPrefix(points(m.Today, m.Week), " ("), ")"), count(m.Today.Mentions))
	}
	return fmt.Sprintf("%s: %s mentions against a 7-day average of %s (%s)",
		m.Name, count(m.Today.Mentions), decimal(m.Week.PerDay()), change(float64(m.Today.Mentions), m.Week.PerDay()))
}

// spikeLine is one spike: "20:00–21:00 · Name: 40 mentions against 3.0 an
// hour over the 12 hours before; negative 75% (usually 33%); words: a, b".
func (b *Briefing) spikeLine(a alerts.Alert) string {
	when, per, before := "All day", "a day", "14 days"
	if a.Period == alerts.Hour {
		when = a.Start.Format("15:04") + "–" + a.Start.Add(a.Period.Len()).Format("15:04")
		per, before = "an hour", "12 hours"
	}
	s := fmt.Sprintf("%s · %s: %s mentions against %s %s over the %s before; negative %s (usually %s)",
		when, b.name(a.Slug), count(a.Mentions), decimal(a.Baseline), per, before, pct(a.NegativeShare), pct(a.BaselineNegativeShare))
	if len(a.TopTerms) > 0 {
		s += "; words: " + strings.Join(a.TopTerms, ", ")
	}
	return s
}

// spikesLeftNote says how many spikes were left out, or "".
func (b *Briefing) spikesLeftNote() string {
	if b.SpikesLeft == 0 {
		return ""
	}
	return fmt.Sprintf("%d more spikes.", b.SpikesLeft)
}

// quote is a mention's text shortened for quoting, on one line.
func (s Sample) quote() string {
	t := strings.Join(strings.Fields(s.Text), " ")
	if utf8.RuneCountInString(t) > maxQuote {
		r := []rune(t)
		t = strings.TrimSpace(string(r[:maxQuote-1])) + "…"
	}
	return t
}

// byline is "@handle on X · 9,000 interactions".
func (s Sample) byline() string {
	who := "Someone"
	if s.Handle != "" {
		who = "@" + strings.TrimPrefix(s.Handle, "@")
	}
	return fmt.Sprintf("%s on %s · %s interactions", who, platformName(s.Platform), count(s.Engagement))
}

// link is the mention's URL when it is an http(s) URL, else "".
func (s Sample) link() string {
	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

func platformName(p string) string {
	switch p {
	case "twitter":
		return "X"
	case "youtube":
		return "YouTube"
	case "facebook":
		return "Facebook"
	}
	return p
}

// count is n with thousands separators: 12,345.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// decimal is x with one decimal and thousands separators: 1,234.5.
func decimal(x float64) string {
	r := math.Round(x*10) / 10
	whole := math.Trunc(r)
	return count(uint64(whole)) + "." + strconv.Itoa(int(math.Round((r-whole)*10)))
}

// change is the relative change from base to now in whole percent: +50%,
// -20%, 0%; "new" when base is 0 and now is not, "–" when both are 0.
func change(now, base float64) string {
	if base == 0 {
		if now == 0 {
			return "–"
		}
		return "new"
	}
	p := int(math.Round((now - base) / base * 100))
	if p > 0 {
		return "+" + strconv.Itoa(p) + "%"
	}
	return strconv.Itoa(p) + "%"
}

// pct is a share as a whole percentage, rounded half away from zero.
func pct(x float64) string { return strconv.Itoa(int(math.Round(x*100))) + "%" }

// share is the negative share of s, or "–" without mentions.
func share(s Stats) string {
	if s.Mentions == 0 {
		return "–"
	}
	return pct(s.Share())
}

// points is " (+15 pts)": the difference of the two shares as shown
// (rounded first, so the numbers on the page add up), or "" when either
// has no mentions.
func points(now, base Stats) string {
	if now.Mentions == 0 || base.Mentions == 0 {
		return ""
	}
	d := int(math.Round(now.Share()*100)) - int(math.Round(base.Share()*100))
	switch {
	case d > 0:
		return fmt.Sprintf(" (+%d pts)", d)
	case d < 0:
		return fmt.Sprintf(" (%d pts)", d)
	}
	return " (0 pts)"
}

// sentiment is the mean score with two decimals and a sign, or "–".
func sentiment(s Stats) string {
	if s.Mentions == 0 {
		return "–"
	}
	v := math.Round(s.Sentiment*100) / 100
	if v == 0 {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v)
}
