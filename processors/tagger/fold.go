package tagger

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps a lower-case letter with diacritics to its base letter
// (é→e, ŵ→w, ŷ→y, ø stays ø). It is built once from Unicode decompositions
// for the Latin blocks, where Welsh, Irish, Scottish Gaelic and the
// languages of most UK residents' names live; other scripts are folded by
// case only.
var foldTable = func() map[rune]rune {
	t := map[rune]rune{}
	for _, block := range [][2]rune{{0x00C0, 0x024F}, {0x1E00, 0x1EFF}} {
		for r := block[0]; r <= block[1]; r++ {
			lr := unicode.ToLower(r)
			d := norm.NFD.String(string(lr))
			base, size := utf8.DecodeRuneInString(d)
			if size == len(d) || base == lr {
				continue
			}
			onlyMarks := true
			for _, m := range d[size:] {
				if !unicode.Is(unicode.Mn, m) {
					onlyMarks = false
				}
			}
			if onlyMarks {
				t[lr] = base
			}
		}
	}
	return t
}()

// foldRune lower-cases r and removes its diacritics.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(r)
	if b, ok := foldTable[r]; ok {
		return b
	}
	return r
}

// isWordRune says whether r belongs inside a word. Apostrophes (straight and
// curly) and hyphens separate words, so "Renters' Rights" and
// "cost-of-living" match the phrases "renters rights" and "cost of living".
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func unicodeMark(r rune) bool { return r >= 0x300 && unicode.Is(unicode.Mn, r) }
