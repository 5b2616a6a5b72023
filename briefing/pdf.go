package briefing

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
)

// Page geometry, millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 14.0
	bodyW        = pageW - 2*margin
	bottom       = pageH - 12.0 // nothing is drawn below
	noteH        = 6.0          // kept free for the "more in the HTML" note
)

// PDF writes the briefing as one A4 page. Sections that do not fit are left
// out, with a note. Any text can be drawn: see pdfText.
func (b *Briefing) PDF(w io.Writer) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, 12, margin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetLang("en-GB")
	pdf.SetTitle(b.Title(), true)
	pdf.SetSubject(b.Scope(), true)
	pdf.SetCreator("govlisten", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252, embedded in fpdf
	has := func(r rune) bool {
		if r < 0x80 {
			return r >= 0x20 && r < 0x7f
		}
		return tr(string(r)) != "."
	}
	p := &page{pdf: pdf, text: func(s string) string { return tr(pdfText(s, has)) }}
	pdf.AddPage()

	pdf.SetTextColor(11, 12, 12)
	p.font("B", 16)
	pdf.CellFormat(bodyW, 8, p.text(b.Title()), "", 1, "L", false, 0, "")
	p.font("", 8.5)
	pdf.SetTextColor(61, 64, 67)
	p.para(b.subtitle(), 4)
	pdf.SetTextColor(11, 12, 12)

	// Headline: label, value, day before, 7 days.
	p.heading("Headline")
	for _, h := range b.headlines() {
		if !p.fits(6) {
			break
		}
		p.font("", 9)
		pdf.CellFormat(34, 6, p.text(h.Label), "B", 0, "L", false, 0, "")
		p.font("B", 11)
		pdf.CellFormat(26, 6, p.text(h.Value), "B", 0, "R", false, 0, "")
		p.font("", 8.5)
		pdf.CellFormat(61, 6, p.text("day before: "+h.Previous), "B", 0, "R", false, 0, "")
		pdf.CellFormat(bodyW-34-26-61, 6, p.text("7 days: "+h.Week), "B", 1, "R", false, 0, "")
	}

	// The table.
	p.heading(b.tableCaption())
	if len(b.Rows) == 0 {
		p.font("", 9)
		p.para(fmt.Sprintf("No mentions tagged with a %s on this day or the 7 days before.", strings.ToLower(b.RowKind)), 4.5)
	} else if p.fits(10) {
		widths := [5]float64{bodyW - 24 - 32 - 22 - 22, 24, 32, 22, 22}
		heads := tableHeads
		heads[0] = b.RowKind
		p.font("B", 8.5)
		for i, h := range heads {
			pdf.CellFormat(widths[i], 5, p.text(h), "B", boolInt(i == 4), align(i), false, 0, "")
		}
		p.font("", 8.5)
		for _, r := range b.Rows {
			if !p.fits(5) {
				break
			}
			for i, c := range r.cells() {
				pdf.CellFormat(widths[i], 5, p.fit(c, widths[i]-2), "", boolInt(i == 4), align(i), false, 0, "")
			}
		}
		if n := b.rowsLeftNote(); n != "" {
			p.font("I", 8)
			p.para(n, 4)
		}
	}

	p.heading("Biggest movements")
	p.font("", 9)
	if len(b.Movements) == 0 {
		p.para("No movements against the 7 days before.", 4.5)
	}
	for i, m := range b.Movements {
		p.para(fmt.Sprintf("%d. %s", i+1, m.String()), 4.5)
	}

	p.heading("Spikes")
	p.font("", 9)
	if len(b.Spikes) == 0 {
		p.para("No spikes.", 4.5)
	}
	for _, a := range b.Spikes {
		p.para("• "+b.spikeLine(a), 4.5)
	}
	if n := b.spikesLeftNote(); n != "" {
		p.para(n, 4.5)
	}

	p.heading("What people said")
	for _, g := range []struct {
		title string
		ss    []Sample
	}{{"Most engaged", b.Engaged}, {"Negative", b.Negative}} {
		if !p.fits(5) {
			p.cut = true
			break
		}
		p.font("B", 9.5)
		pdf.CellFormat(bodyW, 5, p.text(g.title), "", 1, "L", false, 0, "")
		if len(g.ss) == 0 {
			p.font("", 9)
			p.para("None.", 4.5)
		}
		for _, s := range g.ss {
			p.quote(s)
		}
	}

	if p.cut {
		pdf.SetY(bottom - noteH + 1)
		p.font("I", 8)
		pdf.SetTextColor(61, 64, 67)
		pdf.CellFormat(bodyW, 4, p.text("More in the HTML or Markdown briefing: this page is full."), "", 1, "L", false, 0, "")
	}
	return pdf.Output(w)
}

// page draws onto one page, keeping track of what fits.
type page struct {
	pdf  *fpdf.Fpdf
	text func(string) string // UTF-8 to the font's cp1252
	cut  bool                // something was left out
}

func (p *page) font(style string, size float64) { p.pdf.SetFont("Helvetica", style, size) }

// fits says whether h more millimetres fit above the note; once something
// did not fit, nothing more is drawn.
func (p *page) fits(h float64) bool {
	if p.cut || p.pdf.GetY()+h > bottom-noteH {
		p.cut = true
		return false
	}
	return true
}

// heading draws a section heading with a rule above it.
func (p *page) heading(s string) {
	if !p.fits(14) { // the heading and a line of its section
		return
	}
	p.pdf.Ln(2.5)
	y := p.pdf.GetY()
	p.pdf.SetDrawColor(11, 12, 12)
	p.pdf.SetLineWidth(0.4)
	p.pdf.Line(margin, y, pageW-margin, y)
	p.pdf.SetLineWidth(0.2)
	p.pdf.SetDrawColor(177, 180, 182)
	p.pdf.Ln(1)
	p.font("B", 11.5)
	p.pdf.CellFormat(bodyW, 6, p.text(s), "", 1, "L", false, 0, "")
}

// para draws wrapped text in the current font when all of it fits.
func (p *page) para(s string, lineH float64) {
	t := p.text(s)
	lines := p.pdf.SplitLines([]byte(t), bodyW)
	if !p.fits(float64(len(lines)) * lineH) {
		return
	}
	p.pdf.MultiCell(bodyW, lineH, t, "", "L", false)
}

// quote draws a mention: at most three lines of its text, then who, where,
// how engaged, and a link.
func (p *page) quote(s Sample) {
	p.font("I", 8.5)
	lines := p.pdf.SplitLines([]byte(p.text(s.quote())), bodyW-4)
	if len(lines) > 3 {
		lines = lines[:3]
		lines[2] = append(append([]byte{}, lines[2]...), 0x85) // cp1252 "…"
	}
	if !p.fits(float64(len(lines))*4 + 5) {
		return
	}
	x, y := p.pdf.GetX(), p.pdf.GetY()
	p.pdf.SetDrawColor(80, 90, 95)
	if s.Negative {
		p.pdf.SetDrawColor(148, 37, 20)
	}
	p.pdf.SetLineWidth(0.8)
	p.pdf.Line(x+0.5, y+0.5, x+0.5, y+float64(len(lines))*4+4)
	p.pdf.SetLineWidth(0.2)
	p.pdf.SetDrawColor(177, 180, 182)
	for _, l := range lines {
		p.pdf.SetX(x + 3)
		p.pdf.CellFormat(bodyW-4, 4, string(l), "", 1, "L", false, 0, "")
	}
	p.font("", 7.5)
	p.pdf.SetTextColor(61, 64, 67)
	p.pdf.SetX(x + 3)
	by := p.text(s.byline())
	if u := s.link(); u != "" {
		by += p.text(" · ")
		p.pdf.CellFormat(p.pdf.GetStringWidth(by)+1, 4, by, "", 0, "L", false, 0, "")
		p.pdf.SetTextColor(29, 79, 145)
		p.pdf.CellFormat(30, 4, "open the post", "", 1, "L", false, 0, u)
	} else {
		p.pdf.CellFormat(bodyW-4, 4, by, "", 1, "L", false, 0, "")
	}
	p.pdf.SetTextColor(11, 12, 12)
	p.pdf.Ln(1.5)
}

// fit cuts s (converted) to width w in the current font, ending with "…".
func (p *page) fit(s string, w float64) string {
	t := p.text(s)
	if p.pdf.GetStringWidth(t) <= w {
		return t
	}
	for len(t) > 0 && p.pdf.GetStringWidth(t+"\x85") > w {
		t = t[:len(t)-1]
	}
	return t + "\x85"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func align(col int) string {
	if col == 0 {
		return "L"
	}
	return "R"
}
