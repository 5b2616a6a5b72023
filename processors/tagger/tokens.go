package tagger

import (
	"unicode/utf8"

	"github.com/govlisten/govlisten/processors/tagger/wordrune"
)

// token is one word of a text, folded, as offsets into tokens.buf, with the
// byte offsets of the word in the text it came from.
type token struct {
	start, end       int32 // folded word: tokens.buf[start:end]
	srcStart, srcEnd int32 // original word: text[srcStart:srcEnd]
	sigil            byte  // '@', '#' or 0
}

// tokens is a reusable tokenizer buffer: tokenizing a text allocates only
// when the buffers must grow.
type tokens struct {
	buf  []byte
	list []token
}

// reset tokenizes text: words are runs of letters, digits, combining marks
// and '_', folded to lower case without diacritics (see foldRune); a word
// directly after '@' or '#' carries that sigil. Everything else separates
// words: spaces, punctuation, straight and curly quotes and apostrophes,
// hyphens, emoji. A combining mark that follows no word character (an emoji
// variation selector) is ignored, and so is a soft hyphen inside a word.
func (t *tokens) reset(text string) {
	t.buf = t.buf[:0]
	t.list = t.list[:0]
	inWord := false
	var prev rune
	var sigil byte
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r < utf8.RuneSelf { // the common case, without decoding
			if c := asciiFold[r]; c != 0 {
				if !inWord {
					inWord = true
					sigil = 0
					if prev == '@' || prev == '#' {
						sigil = byte(prev)
					}
					t.list = append(t.list, token{start: int32(len(t.buf)), srcStart: int32(i), sigil: sigil})
				}
				t.buf = append(t.buf, c)
			} else if inWord {
				inWord = false
				tk := &t.list[len(t.list)-1]
				tk.end, tk.srcEnd = int32(len(t.buf)), int32(i)
			}
			prev = r
			i++
			continue
		}
		r, n = utf8.DecodeRuneInString(text[i:])
		if r == softHyphen && inWord {
			i += n
			continue
		}
		if wordrune.Is(r) {
			mark := unicodeMark(r)
			if !inWord {
				if mark { // a stray mark is not a word
					prev = r
					i += n
					continue
				}
				inWord = true
				sigil = 0
				if prev == '@' || prev == '#' {
					sigil = byte(prev)
				}
				t.list = append(t.list, token{start: int32(len(t.buf)), srcStart: int32(i), sigil: sigil})
			}
			if !mark { // a combining accent folds away
				t.buf = utf8.AppendRune(t.buf, foldRune(r))
			}
		} else if inWord {
			inWord = false
			tk := &t.list[len(t.list)-1]
			tk.end, tk.srcEnd = int32(len(t.buf)), int32(i)
		}
		prev = r
		i += n
	}
	if inWord {
		tk := &t.list[len(t.list)-1]
		tk.end, tk.srcEnd = int32(len(t.buf)), int32(len(text))
	}
}

// asciiFold maps an ASCII word character to its folded byte, and anything
// else to 0.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		if wordrune.Is(rune(c)) {
			t[c] = byte(foldRune(rune(c)))
		}
	}
	return t
}()

func (t *tokens) word(i int) []byte { return t.buf[t.list[i].start:t.list[i].end] }

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

// isSingleWord says whether s is one run of word characters.
func isSingleWord(s string) bool {
	for _, r := range s {
		if !wordrune.Is(r) {
			return false
		}
	}
	return s != ""
}
