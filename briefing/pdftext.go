package briefing

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Placeholders for what the PDF's cp1252 font cannot show.
const (
	emojiMark = "[emoji]"
	otherMark = "[…]"
)

// cp1252 says whether the core fonts can show r: printable ASCII, or a
// rune fpdf's cp1252 translator maps (inCP is that translator's test).
type cp1252 func(r rune) bool

// pdfText rewrites s so that it can be drawn with a cp1252 core font and
// still reads: runes cp1252 has are kept; a letter it lacks loses its
// accents when that leaves one it has (Welsh ŵ, ŷ → w, y; Polish ł stays
// unknown); a run of emoji (with their joiners, skin tones, variation
// selectors and flag letters) becomes one [emoji]; a run of anything else
// (Arabic, Hebrew, CJK, symbols; spaces inside the run included) becomes
// one […]. Control characters become spaces. It never fails.
func pdfText(s string, has cp1252) string {
	var (
		b       strings.Builder
		mark    string // the placeholder of the run being replaced, if any
		pending bool   // spaces seen since the run's last rune
	)
	endRun := func() {
		if mark != "" {
			b.WriteString(mark)
			if pending {
				b.WriteByte(' ')
			}
		}
		mark, pending = "", false
	}
	for _, r := range norm.NFC.String(s) {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			r = ' '
		}
		switch {
		case r == ' ' && mark != "":
			pending = true // the run may go on after the space
		case has(r):
			endRun()
			b.WriteRune(r)
		default:
			if base, ok := stripAccents(r, has); ok {
				endRun()
				b.WriteString(base)
				continue
			}
			m := otherMark
			if isEmoji(r) {
				m = emojiMark
			}
			if mark != m {
				endRun()
				mark = m
			}
			pending = false // one placeholder for the whole run, its spaces included
		}
	}
	endRun()
	return b.String()
}

// stripAccents returns r without its combining marks when every remaining
// rune can be shown.
func stripAccents(r rune, has cp1252) (string, bool) {
	d := norm.NFD.String(string(r))
	var b strings.Builder
	for _, c := range d {
		if unicode.Is(unicode.Mn, c) {
			continue
		}
		if !has(c) {
			return "", false
		}
		b.WriteRune(c)
	}
	return b.String(), b.Len() > 0
}

// isEmoji says whether r is part of an emoji sequence: pictographs and
// symbols, skin-tone modifiers, regional-indicator (flag) letters, the
// zero-width joiner, variation selectors and keycap/tag characters.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, // mahjong … symbols and pictographs extended-A (incl. flags, skin tones)
		r >= 0x2600 && r <= 0x27BF,   // miscellaneous symbols, dingbats
		r >= 0x2B00 && r <= 0x2BFF,   // arrows and stars (⭐)
		r >= 0x2190 && r <= 0x21FF,   // arrows used as emoji
		r >= 0xFE00 && r <= 0xFE0F,   // variation selectors
		r >= 0xE0020 && r <= 0xE007F, // tags (subdivision flags)
		r == 0x200D, r == 0x20E3, r == 0x2122, r == 0x2139, r == 0x3030, r == 0x303D:
		return true
	}
	return false
}
