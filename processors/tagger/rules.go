package tagger

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// patternKind says what a compiled rule matches.
type patternKind uint8

const (
	kindWords  patternKind = iota // a word or a phrase of consecutive words
	kindHandle                    // @handle
	kindTag                       // #hashtag
	kindPrefix                    // word*
)

// pattern is one compiled rule.
type pattern struct {
	kind  patternKind
	words []string // folded; one for everything but phrases
	cat   int      // index into Tagger.cats
	rule  string   // the rule as written
	label string   // "slug:rule", for "matched"
}

// RuleError says which rule of the taxonomy is wrong, where and why.
type RuleError struct {
	Category string // slug
	Index    int    // 0-based position in the category's rules
	Rule     string
	Column   int // 1-based, in runes
	Reason   string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %d of %s (%q), column %d: %s", e.Index+1, e.Category, e.Rule, e.Column, e.Reason)
}

// parseRule compiles one rule of this version's language: a term, a
// "quoted phrase", a term with a trailing * wildcard, an @handle or a
// #hashtag. The boolean operators of the full language (AND, OR, NOT,
// NEAR/n, parentheses, field filters) extend this grammar:
//
//	rule    = phrase | handle | hashtag | term
//	phrase  = '"' word { sep word } '"'
//	handle  = '@' word
//	hashtag = '#' word
//	term    = word [ '*' ]          (a term of several words is a phrase)
func parseRule(rule string) (pattern, int, string) {
	r := strings.TrimSpace(rule)
	if r == "" {
		return pattern{}, 1, "empty rule"
	}
	switch r[0] {
	case '"':
		if len(r) < 2 || r[len(r)-1] != '"' {
			return pattern{}, utf8.RuneCountInString(r) + 1, `expected a closing '"'`
		}
		inner := r[1 : len(r)-1]
		if i := strings.IndexAny(inner, `"*`); i >= 0 {
			return pattern{}, utf8.RuneCountInString(r[:i+1]) + 1, fmt.Sprintf("unexpected %q inside a phrase", inner[i])
		}
		words := foldWords(inner)
		if len(words) == 0 {
			return pattern{}, 2, "expected a word inside the quotes"
		}
		return pattern{kind: kindWords, words: words}, 0, ""
	case '@', '#':
		words := foldWords(r[1:])
		if len(words) != 1 || !isSingleWord(r[1:]) {
			return pattern{}, 2, fmt.Sprintf("expected a name of letters, digits or _ after %q", r[0])
		}
		k := kindHandle
		if r[0] == '#' {
			k = kindTag
		}
		return pattern{kind: k, words: words}, 0, ""
	}
	if i := strings.IndexAny(r, `"()`); i >= 0 {
		return pattern{}, utf8.RuneCountInString(r[:i]) + 1, fmt.Sprintf("unexpected %q (boolean rules are not supported by this version)", r[i])
	}
	if strings.HasSuffix(r, "*") {
		stem := r[:len(r)-1]
		words := foldWords(stem)
		if len(words) != 1 || !isSingleWord(stem) {
			return pattern{}, utf8.RuneCountInString(r), "a wildcard must end a single word"
		}
		if utf8.RuneCountInString(words[0]) < 3 {
			return pattern{}, 1, "a wildcard stem needs at least 3 letters"
		}
		return pattern{kind: kindPrefix, words: words}, 0, ""
	}
	if i := strings.IndexByte(r, '*'); i >= 0 {
		return pattern{}, utf8.RuneCountInString(r[:i]) + 1, "a wildcard may only end a word"
	}
	for _, op := range []string{"AND", "OR", "NOT"} {
		for _, f := range strings.Fields(r) {
			if f == op {
				return pattern{}, strings.Index(r, op) + 1, fmt.Sprintf("operator %s is not supported by this version; write one rule per line", op)
			}
		}
	}
	words := foldWords(r)
	if len(words) == 0 {
		return pattern{}, 1, "expected a word"
	}
	return pattern{kind: kindWords, words: words}, 0, ""
}

// isSingleWord says whether s is one run of word characters.
func isSingleWord(s string) bool {
	for _, r := range s {
		if !isWordRune(r) {
			return false
		}
	}
	return s != ""
}

// foldWords splits s into folded words, as the tokenizer does for text.
func foldWords(s string) []string {
	var toks tokens
	toks.reset(s)
	words := make([]string, len(toks.list))
	for i, t := range toks.list {
		words[i] = string(toks.buf[t.start:t.end])
	}
	return words
}

// token is one word of a text, folded, as offsets into tokens.buf.
type token struct {
	start, end int32
	sigil      byte // '@', '#' or 0
}

// tokens is a reusable tokenizer buffer: tokenizing a text allocates only
// when the buffers must grow.
type tokens struct {
	buf  []byte
	list []token
}

// reset tokenizes text: words are runs of letters, digits, combining marks
// and '_', folded to lower case without diacritics; a word directly after
// '@' or '#' carries that sigil.
func (t *tokens) reset(text string) {
	t.buf = t.buf[:0]
	t.list = t.list[:0]
	inWord := false
	var prev rune
	var sigil byte
	for _, r := range text {
		if isWordRune(r) {
			if !inWord {
				inWord = true
				sigil = 0
				if prev == '@' || prev == '#' {
					sigil = byte(prev)
				}
				t.list = append(t.list, token{start: int32(len(t.buf)), sigil: sigil})
			}
			if unicodeMark(r) {
				prev = r
				continue // a combining accent folds away
			}
			t.buf = utf8.AppendRune(t.buf, foldRune(r))
		} else if inWord {
			inWord = false
			t.list[len(t.list)-1].end = int32(len(t.buf))
		}
		prev = r
	}
	if inWord {
		t.list[len(t.list)-1].end = int32(len(t.buf))
	}
}

func (t *tokens) word(i int) []byte { return t.buf[t.list[i].start:t.list[i].end] }
