package tagger

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps a lower-case letter with diacritics to its base letter
// (é→e, ŵ→w, ŷ→y, ẁ→w, ø→o, ł→l). It is built once from Unicode
// decompositions for the Latin blocks, where Welsh, Irish, Scottish Gaelic
// and the languages of most UK residents' names live, plus the few Latin
// letters whose "accent" is a stroke and so has no decomposition. It also
// maps the "fancy text" letters of social media (𝐃𝐖𝐏, 𝘕𝘏𝘚, ＮＨＳ: the
// Mathematical Alphanumeric Symbols and the fullwidth forms) to plain
// letters and digits through their compatibility decompositions. Other
// scripts are folded by case only.
var foldTable = func() map[rune]rune {
	t := map[rune]rune{'ø': 'o', 'ł': 'l', 'đ': 'd', 'ħ': 'h', 'ı': 'i', 'ŧ': 't', 'ƀ': 'b', 'ɨ': 'i'}
	for _, block := range [][2]rune{{0x00C0, 0x024F}, {0x1E00, 0x1EFF}} {
		for r := block[0]; r <= block[1]; r++ {
			lr := unicode.ToLower(r)
			if _, ok := t[lr]; ok {
				continue
			}
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
	for _, block := range [][2]rune{{0x1D400, 0x1D7FF}, {0xFF10, 0xFF5A}} {
		for r := block[0]; r <= block[1]; r++ {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				continue
			}
			d := norm.NFKD.String(string(r))
			base, size := utf8.DecodeRuneInString(d)
			if size != len(d) || base == r {
				continue
			}
			base = unicode.ToLower(base)
			if b, ok := t[base]; ok {
				base = b
			}
			t[r] = base
		}
	}
	return t
}()

// softHyphen is invisible and ignored inside a word.
const softHyphen = '\u00AD'

// foldRune lower-cases r and removes its diacritics.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	if r >= 0xFF10 { // fancy text, before case folding
		if b, ok := foldTable[r]; ok {
			return b
		}
	}
	r = unicode.ToLower(r)
	if b, ok := foldTable[r]; ok {
		return b
	}
	return r
}

func unicodeMark(r rune) bool { return r >= 0x300 && unicode.Is(unicode.Mn, r) }
