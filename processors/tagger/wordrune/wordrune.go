// Package wordrune is the tagger's definition of a word character, kept
// apart so that the rule generator of the benchmarks (internal/rulegen),
// which package tagger's own tests import, splits words exactly as the
// tagger does without importing it.
package wordrune

import (
	"unicode"
	"unicode/utf8"
)

// Is says whether r belongs inside a word: letters, digits, _ and
// combining marks. Apostrophes (straight, curly and the modifier letter ʼ)
// and hyphens separate words, so "Renters' Rights" and "cost-of-living"
// match the phrases "renters rights" and "cost of living".
func Is(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	if r == 'ʼ' {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
