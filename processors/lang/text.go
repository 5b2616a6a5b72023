package lang

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxScan is how much of a text is read, in bytes: the language of a
	// long post is plain from its first hundred-odd words, and the cap
	// bounds the cost of long posts and megabyte inputs.
	maxScan = 1024

	// maxWord is the longest word, in bytes, looked up in the lexicon;
	// longer ones are counted but never function words.
	maxWord = 32

	// maxModelText is how much cleaned text, in bytes, the statistical
	// model is given; its cost grows with the length.
	maxModelText = 400
)

// Points a word scores for a language: a function word of that language
// alone, of two languages, of more (a weak word scores ptPair); and a
// word with a letter used by that language alone, or by two or three.
const (
	ptUnique     = 4
	ptPair       = 2
	ptWide       = 1
	ptLetter     = 2
	ptLetterWide = 1
)

// evidence is what one reading of a text found. It lives on the caller's
// stack; nothing in it is shared.
type evidence struct {
	scripts  [numScripts]int32 // letters of each script, in words
	arabic   [numArabicClasses]int32
	cyrillic [numCyrillicClasses]int32

	words    int32           // Latin-script words
	letters  int32           // their letters
	lexWords int32           // of those, words in the lexicon
	score    [numLatin]int32 // points per language
	unique   [numLatin]int32 // function words of that language alone
	foreign  int32           // Latin words with letters beyond ASCII
	welsh    bool            // a whole sentence is Welsh (see endSegment)
	seg      segment         // the sentence being read
	word     [maxWord]byte   // the word being read, lower case
	wordLen  int             // its length in bytes; > maxWord: too long to look up
	wordSc   script          // the script of its first letter
	wordMix  bool            // it has letters of two scripts
	wordLtrs int32           // its letters
	wordMask langMask        // languages its letters point to
	wordWide langMask        // languages its shared letters point to
	wordNum  bool            // it touches a digit: a code, not a word
	wordNon  bool            // it has a non-ASCII letter
	out      *[]byte         // if not nil, Latin words are appended here, space-separated
}

// segment counts the words of one sentence (text between . ! ? | / ; …
// and line breaks).
type segment struct {
	words, cy, en int32
}

// read scans up to maxScan bytes of text. URLs, @handles, #hashtags and
// "RT" are skipped whole; within the other whitespace-separated tokens a
// word is a run of letters (with combining marks), split at apostrophes
// and hyphens ("mae'r" is "mae" and "r"); a run touching a digit is not a
// word ("A470", "covid19"). Emoji, numbers and punctuation separate words.
func (e *evidence) read(text string) {
	if len(text) > maxScan {
		text = text[:maxScan]
	}
	for i := 0; i < len(text); {
		if n := spaceAt(text, i); n > 0 {
			if text[i] == '\n' {
				e.endSegment()
			}
			i += n
			continue
		}
		j := tokenEnd(text, i)
		if !skipToken(text[i:j]) {
			e.readToken(text[i:j])
		}
		i = j
	}
	e.endWord()
	e.endSegment()
}

// spaceAt returns the length of the white space character at text[i],
// or 0. Only the lead bytes of Unicode's few non-ASCII spaces (U+0085,
// U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000) need decoding.
func spaceAt(text string, i int) int {
	switch c := text[i]; c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return 1
	case 0xC2, 0xE1, 0xE2, 0xE3:
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			return size
		}
	}
	return 0
}

// tokenEnd returns the end of the whitespace-delimited token at i.
func tokenEnd(text string, i int) int {
	for i < len(text) && spaceAt(text, i) == 0 {
		i++
	}
	return i
}

// skipToken says whether a token carries no language: an @handle, a
// #hashtag (usually English campaign tags, whatever the post's language),
// a URL or an e-mail address, or the retweet marker "RT".
func skipToken(tok string) bool {
	switch tok[0] {
	case '@', '#':
		return true
	}
	if tok == "RT" {
		return true
	}
	if len(tok) < 5 {
		return false
	}
	if strings.Contains(tok, "://") || strings.Contains(tok, "@") || hasPrefixFold(tok, "www.") {
		return true
	}
	// A bare domain with a path: gov.uk/universal-credit, bit.ly/3xYz.
	dot := strings.IndexByte(tok, '.')
	return dot > 0 && dot+1 < len(tok) && isASCIILetter(tok[dot+1]) &&
		strings.IndexByte(tok[dot:], '/') > 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// readToken reads the words of one token.
func (e *evidence) readToken(tok string) {
	for i := 0; i < len(tok); {
		c := tok[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z':
				e.addLetter(rune(c), scLatin, false)
			case 'A' <= c && c <= 'Z':
				e.addLetter(rune(c+'a'-'A'), scLatin, false)
			case '0' <= c && c <= '9':
				e.wordNum = true
			case c == '.' || c == '!' || c == '?' || c == '|' || c == '/' || c == ';':
				e.endWord()
				e.endSegment()
			default:
				e.endWord()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(tok[i:])
		i += size
		switch {
		case unicode.IsLetter(r):
			sc := scriptOf(r)
			if sc.cased() {
				r = unicode.ToLower(r)
			}
			e.addLetter(r, sc, true)
		case unicode.IsMark(r):
			e.addMark(r)
		case unicode.IsDigit(r):
			e.wordNum = true
		case r == '…' || r == '•' || r == '。' || r == '！' || r == '？' || r == '؟' || r == '।':
			e.endWord()
			e.endSegment()
		default: // apostrophes, dashes, emoji, symbols, invalid bytes
			e.endWord()
		}
	}
	e.endWord()
}

// addLetter appends a lower-case letter to the word being read.
func (e *evidence) addLetter(r rune, sc script, nonASCII bool) {
	if e.wordLtrs == 0 {
		e.wordSc = sc
	} else if sc != e.wordSc {
		e.wordMix = true
	}
	e.wordLtrs++
	e.scripts[sc]++
	if nonASCII {
		e.wordNon = true
		switch sc {
		case scLatin:
			if m := lettersOf(r); m.size() == 1 {
				e.wordMask |= m
			} else {
				e.wordWide |= m
			}
		case scArabic:
			if k := arabicClass(r); k >= 0 {
				e.arabic[k]++
			}
		case scCyrillic:
			if k := cyrillicClass(r); k >= 0 {
				e.cyrillic[k]++
			}
		}
	}
	e.appendWord(r)
}

// addMark appends a combining mark (Indic vowel signs, decomposed
// accents) to the word being read; it is part of a word but no letter.
func (e *evidence) addMark(r rune) {
	if e.wordLtrs > 0 {
		e.appendWord(r)
	}
}

func (e *evidence) appendWord(r rune) {
	if e.wordLen+utf8.UTFMax > maxWord {
		e.wordLen = maxWord + 1
		return
	}
	e.wordLen += utf8.EncodeRune(e.word[e.wordLen:], r)
}

// endWord scores the word just read, if any, and starts the next.
func (e *evidence) endWord() {
	n := e.wordLtrs
	if n > 0 && !e.wordNum && !e.wordMix && e.wordSc == scLatin {
		e.latinWord(n)
	}
	e.wordLen, e.wordLtrs, e.wordMix, e.wordNum, e.wordNon = 0, 0, false, false, false
	e.wordMask, e.wordWide = 0, 0
}

// latinWord scores a finished Latin-script word of n letters.
func (e *evidence) latinWord(n int32) {
	e.words++
	e.letters += n
	e.seg.words++
	if e.wordNon {
		e.foreign++
	}
	for m := e.wordMask; m != 0; m &= m - 1 {
		e.score[m.first()] += ptLetter
	}
	for m := e.wordWide &^ e.wordMask; m != 0; m &= m - 1 {
		e.score[m.first()] += ptLetterWide
	}
	var w []byte
	if e.wordLen <= maxWord {
		w = e.word[:e.wordLen]
	}
	if e.out != nil && w != nil {
		switch {
		case len(*e.out)+1+len(w) > maxModelText:
			e.out = nil // full: the model reads a prefix
		case len(*e.out) > 0:
			*e.out = append(*e.out, ' ')
			fallthrough
		default:
			*e.out = append(*e.out, w...)
		}
	}
	if w == nil {
		return
	}
	i, ok := lexicon.Get(w)
	if !ok {
		return
	}
	entry := lexEntries[i]
	e.lexWords++
	for mm := entry.weak &^ entry.langs; mm != 0; mm &= mm - 1 {
		e.score[mm.first()] += ptPair
	}
	m := entry.langs
	if m == 0 {
		return
	}
	pts := int32(ptWide)
	switch m.size() {
	case 1:
		pts = ptUnique
	case 2:
		pts = ptPair
	}
	for mm := m; mm != 0; mm &= mm - 1 {
		e.score[mm.first()] += pts
	}
	if m.size() == 1 {
		l := m.first()
		e.unique[l]++
		switch l {
		case cy:
			e.seg.cy++
		case en:
			e.seg.en++
		}
	}
}

// Welsh sentence: at least this many words, at least welshSentenceMin of
// them function words of Welsh alone, making at least a third of the
// sentence and outnumbering those of English alone.
const (
	welshSentenceWords = 4
	welshSentenceMin   = 3
)

// endSegment closes the sentence being read and notes whether it was a
// whole Welsh sentence: bilingual posts put one beside an English one.
func (e *evidence) endSegment() {
	s := e.seg
	if s.words >= welshSentenceWords && s.cy >= welshSentenceMin && 3*s.cy >= s.words && s.cy > s.en {
		e.welsh = true
	}
	e.seg = segment{}
}
