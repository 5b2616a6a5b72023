package briefing

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes the briefing as plain CommonMark (tables as in GitHub
// Flavored Markdown). Mention texts and names are escaped, so no text can
// become a link, HTML or formatting.
func (b *Briefing) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("# %s\n\n%s\n\n", mdEscape(b.Title()), mdEscape(b.subtitle()))

	p("## Headline\n\n")
	for _, h := range b.headlines() {
		p("- %s: **%s** · day before: %s · 7 days: %s\n", h.Label, h.Value, h.Previous, h.Week)
	}

	p("\n## %s\n\n", b.tableCaption())
	if len(b.Rows) == 0 {
		p("No mentions tagged with a %s on this day or the 7 days before.\n", strings.ToLower(b.RowKind))
	} else {
		heads := tableHeads
		heads[0] = b.RowKind
		p("| %s |\n| --- | ---: | ---: | ---: | ---: |\n", strings.Join(heads[:], " | "))
		for _, r := range b.Rows {
			c := r.cells() // numbers are ours; the name is escaped
			c[0] = mdEscape(c[0])
			p("| %s |\n", strings.Join(c[:], " | "))
		}
		if n := b.rowsLeftNote(); n != "" {
			p("\n%s\n", n)
		}
	}

	p("\n## Biggest movements\n\n")
	if len(b.Movements) == 0 {
		p("No movements against the 7 days before.\n")
	}
	for i, m := range b.Movements {
		p("%d. %s\n", i+1, mdEscape(m.String()))
	}

	p("\n## Spikes\n\n")
	if len(b.Spikes) == 0 {
		p("No spikes.\n")
	}
	for _, a := range b.Spikes {
		p("- %s\n", mdEscape(b.spikeLine(a)))
	}
	if n := b.spikesLeftNote(); n != "" {
		p("\n%s\n", n)
	}

	p("\n## What people said\n")
	for _, g := range []struct {
		title string
		ss    []Sample
	}{{"Most engaged", b.Engaged}, {"Negative", b.Negative}} {
		p("\n### %s\n", g.title)
		if len(g.ss) == 0 {
			p("\nNone.\n")
		}
		for _, s := range g.ss {
			p("\n> %s\n>\n> — %s", mdEscape(s.quote()), mdEscape(s.byline()))
			if u := s.link(); u != "" {
				p(" · [link](%s)", mdURL(u))
			}
			p("\n")
		}
	}
	return bw.Flush()
}

// mdEscape backslash-escapes the ASCII punctuation that could start
// Markdown syntax (links, HTML, emphasis, code, tables, headings).
func mdEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '#', '&', '!':
			b.WriteByte('\\')
		case '-', '+':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '\n', '\r':
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdURL makes u safe as a link destination.
func mdURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}
