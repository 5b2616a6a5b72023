package sentiment

import (
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/jonreiter/govader"
)

// VADER's published constants, as in govader's constants.go, where they are
// unexported. The booster, negation and idiom tables, the lexicon and the
// emoji dictionary are exported by govader and copied in New instead.
const (
	cIncr          = 0.733 // ALL-CAPS emphasis of a word, while others are not
	nScalar        = -0.74 // negation
	alphaDefault   = 15    // normalisation of the summed valence
	scalarScale1   = 0.95  // a booster two words before the sentiment word
	scalarScale2   = 0.9   // a booster three words before the sentiment word
	epAmplifyScale = 0.292 // per '!'
	qmAmplifyScale = 0.18  // per '?'
	maxEP          = 4     // at most this many '!' count
	maxQM          = 0.96  // the amplification of more than three '?'
	negationScale  = 1.25  // "never so", "never this"
	butScale       = 0.5   // weight shift around the first "but"
)

// Word classes: the words govader's rules compare by their lower-case form.
const (
	_ uint8 = iota
	kindNo
	kindOr
	kindNor
	kindNever
	kindSo
	kindThis
	kindWithout
	kindDoubt
	kindKind
	kindOf
	kindBut
)

var kindWords = map[string]uint8{
	"no": kindNo, "or": kindOr, "nor": kindNor, "never": kindNever,
	"so": kindSo, "this": kindThis, "without": kindWithout, "doubt": kindDoubt,
	"kind": kindKind, "of": kindOf, "but": kindBut,
}

// wordInfo flags.
const (
	inLexicon uint8 = 1 << iota // a key of govader's Lexicon
	isBooster                   // a key of BoosterDict
	isNegate                    // in NegateList
)

// wordInfo is everything the rules need to know of one lower-case word.
type wordInfo struct {
	lex   float64 // Lexicon value, if inLexicon
	boost float64 // BoosterDict value, if isBooster
	flags uint8
	kind  uint8  // one of the kind constants
	id    uint16 // index among the words of multi-word phrases; 0 = none
}

// phrase is two or three word ids, 16 bits each from the lowest; a
// two-word phrase has 0 in third place.
type phrase uint64

// phraseValue is a phrase and its value.
type phraseValue struct {
	p   phrase
	val float64
}

// Analyzer scores text with VADER. Safe for concurrent use; build once
// with New (the zero value is not usable).
type Analyzer struct {
	words      *wordTable    // lexicon, boosters, negations, kind and phrase words
	idioms     []phraseValue // govader's SpecialCaseIdioms of two or three words
	boostNGram []phraseValue // govader's multi-word BoosterDict keys
	class      [256]uint8    // byte classes; clsPunct from govader's PunctuationString

	// The single-rune keys of govader's EmojiDict: a membership bitmap
	// over runes, the number of keys before each of its words, and the
	// descriptions in rune order.
	emojiBits []uint64
	emojiRank []uint32
	emojiDesc []string
	minEmoji  rune

	pool sync.Pool // *scratch
}

// New builds an Analyzer from the tables of a govader analyzer. It costs
// about as much as govader.NewSentimentIntensityAnalyzer (a few
// milliseconds); build one and share it.
func New() *Analyzer {
	return newAnalyzer(nil)
}

// extension is what a domain layer changes in govader's tables before an
// Analyzer is built from them (see Model). Plain VADER has none.
type extension struct {
	// lexicon sets the valence of lower-case words: a new word, or a
	// word of govader's Lexicon with another value; 0 takes the word out
	// of the lexicon.
	lexicon map[string]float64
	// emoji adds or replaces emoji descriptions, single runes only; an
	// empty description drops the rune.
	emoji map[rune]string
	// words are given phrase ids (wordInfo.id) so that a domain phrase
	// can be matched word by word.
	words []string
}

// newAnalyzer builds an Analyzer from a govader analyzer's tables changed
// by ext, which may be nil.
func newAnalyzer(ext *extension) *Analyzer {
	sia := govader.NewSentimentIntensityAnalyzer()
	tc := sia.Constants
	words := make(map[string]wordInfo, len(sia.Lexicon)+len(tc.BoosterDict)+len(tc.NegateList)+32)
	a := &Analyzer{minEmoji: utf8.MaxRune + 1}
	for w, v := range sia.Lexicon {
		e := words[w]
		e.lex, e.flags = v, e.flags|inLexicon
		words[w] = e
	}
	if ext != nil {
		for w, v := range ext.lexicon {
			e := words[w]
			e.lex, e.flags = v, e.flags|inLexicon
			if v == 0 {
				e.flags &^= inLexicon
			}
			words[w] = e
		}
	}
	for w, v := range tc.BoosterDict {
		e := words[w]
		e.boost, e.flags = v, e.flags|isBooster
		words[w] = e
	}
	for _, w := range tc.NegateList {
		e := words[w]
		e.flags |= isNegate
		words[w] = e
	}
	for w, k := range kindWords {
		e := words[w]
		e.kind = k
		words[w] = e
	}
	// govader matches idioms and multi-word boosters by joining two or three
	// words with a space and looking the result up. Words never contain a
	// space, so that is a match word by word; keys of one word ("badass") or
	// of more than three can never match and are left out.
	var nextID uint16
	phraseOf := func(key string) (phrase, bool) {
		parts := strings.Split(key, " ")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, false
		}
		var p phrase
		for i, w := range parts {
			e := words[w]
			if e.id == 0 {
				nextID++
				e.id = nextID
				words[w] = e
			}
			p |= phrase(e.id) << (16 * i)
		}
		return p, true
	}
	for k, v := range tc.SpecialCaseIdioms {
		if p, ok := phraseOf(k); ok {
			a.idioms = append(a.idioms, phraseValue{p, v})
		}
	}
	for k, v := range tc.BoosterDict {
		if p, ok := phraseOf(k); ok {
			a.boostNGram = append(a.boostNGram, phraseValue{p, v})
		}
	}
	if ext != nil {
		for _, w := range ext.words {
			if e := words[w]; e.id == 0 {
				nextID++
				e.id = nextID
				words[w] = e
			}
		}
	}
	a.words = newWordTable(words)
	for i := range 256 {
		switch c := uint8(i); {
		case c >= 'a' && c <= 'z':
			a.class[i] = clsLower
		case c >= 'A' && c <= 'Z':
			a.class[i] = clsUpper
		case c >= utf8.RuneSelf:
			a.class[i] = clsNonASCII
		case c == '\'':
			a.class[i] = clsApos
		}
	}
	// strings.Trim with an ASCII cutset trims bytes of the set (and the
	// set is ASCII: see TestPunctuationSet).
	for _, c := range []byte(tc.Regex.PunctuationString) {
		if c < utf8.RuneSelf {
			a.class[c] |= clsPunct
		}
	}
	// govader looks up string(r) for each rune r of the text, so only
	// single-rune keys can ever match; a key that is a lone invalid byte
	// cannot either (string(r) is always valid UTF-8).
	emoji := make(map[rune]string, len(sia.EmojiDict))
	maxEmoji := rune(0)
	for k, d := range sia.EmojiDict {
		r, size := utf8.DecodeRuneInString(k)
		if size != len(k) || (r == utf8.RuneError && size == 1) {
			continue
		}
		emoji[r] = d
	}
	if ext != nil {
		for r, d := range ext.emoji {
			emoji[r] = d
		}
	}
	for r := range emoji {
		a.minEmoji = min(a.minEmoji, r)
		maxEmoji = max(maxEmoji, r)
	}
	a.emojiBits = make([]uint64, maxEmoji/64+1)
	for r := range emoji {
		a.emojiBits[r/64] |= 1 << (r % 64)
	}
	a.emojiRank = make([]uint32, len(a.emojiBits))
	for i, w := range a.emojiBits {
		a.emojiRank[i] = uint32(len(a.emojiDesc))
		for ; w != 0; w &= w - 1 {
			a.emojiDesc = append(a.emojiDesc, emoji[rune(i*64+bits.TrailingZeros64(w))])
		}
	}
	a.pool.New = func() any { return new(scratch) }
	return a
}

// isEmoji reports whether r is a key of the emoji dictionary.
func (a *Analyzer) isEmoji(r rune) bool {
	i := int(r / 64)
	return r >= a.minEmoji && i < len(a.emojiBits) && a.emojiBits[i]&(1<<(r%64)) != 0
}

// emojiDescription is the description of r, a key of the emoji dictionary.
func (a *Analyzer) emojiDescription(r rune) string {
	i, b := r/64, r%64
	return a.emojiDesc[int(a.emojiRank[i])+bits.OnesCount64(a.emojiBits[i]&(1<<b-1))]
}

// token is one word of the text, govader's WordsAndEmoticons[i] with what
// the rules ask of it precomputed. It holds no pointers: the word is
// s[off:off+n] of the text being scored.
type token struct {
	val   float64 // the word's valence, govader's sentiments[i]; before valences, a tokOverride word's value
	off   int
	n     int
	entry int32  // index of the lower-cased word in the word table, or -1
	id    uint16 // wordInfo.id
	kind  uint8  // wordInfo.kind
	flags uint8  // wordInfo.flags (isNegate also for "n't"), then the bits below
}

// token flags, after the wordInfo flags.
const (
	tokUpper    uint8 = 1 << (iota + 3) // Python's str.isupper as govader implements it
	tokSame                             // the word is already lower-case
	tokOrigDone                         // tokOrigLex is known
	tokOrigLex                          // the word as written is a Lexicon key
	tokOverride                         // val, set by Model.match, replaces the table's value
)

// scratch is the per-call working memory, pooled.
type scratch struct {
	text  []byte // the text after emoji replacement, when it differs
	pad   []byte // the text, then 16 zero bytes
	runes []byte // the lower-case form of a word, when it is needed
	toks  []token
	rows  []int32  // the classifier's rows of a mention's words (Model.ScorePublicSector)
	seen  []uint64 // a bitset over those rows, clear between calls
}

// Scratch buffers larger than these are dropped rather than pooled, so one
// huge text does not pin memory.
const (
	maxPooledBytes  = 64 << 10
	maxPooledTokens = 8 << 10
)

// doc is one text being scored.
type doc struct {
	a       *Analyzer
	s       string // the text after emoji replacement, trimmed
	pad     []byte // s, then 16 zero bytes
	toks    []token
	capDiff bool // govader's IsCapDiff
}

// Compound returns VADER's compound score of text, in [-1, 1]: the same
// value as govader's PolarityScores(text).Compound. It never panics (nor,
// as far as the tests have found, does govader); the empty string, blank
// text and text without sentiment words score 0. Invalid UTF-8 is scored
// as govader does, each invalid byte read as U+FFFD.
func (a *Analyzer) Compound(text string) float64 {
	sc := a.pool.Get().(*scratch)
	d := a.parse(sc, text)
	butIdx := d.valences()

	// butCheck, then the plain left-to-right sum mat.Sum computes.
	sum := 0.0
	for i := range d.toks {
		v := d.toks[i].val
		if butIdx >= 0 {
			if i < butIdx {
				v = (1 - butScale) * v
			} else if i > butIdx {
				v = (1 + butScale) * v
			}
		}
		sum += v
	}

	if sum != 0 {
		amp := punctuationEmphasis(d.s)
		if sum > 0 {
			sum += amp
		} else {
			sum -= amp
		}
	}

	a.release(sc)
	return normalize(sum)
}

// parse is the start of govader's PolarityScores: emoji replacement,
// trimming and tokenizing, into sc.
func (a *Analyzer) parse(sc *scratch, text string) doc {
	d := doc{a: a, s: strings.TrimSpace(a.replaceEmoji(sc, text))}
	d.tokenize(sc)
	return d
}

// release returns sc to the pool unless one huge text grew it.
func (a *Analyzer) release(sc *scratch) {
	if cap(sc.text) <= maxPooledBytes && cap(sc.pad) <= maxPooledBytes && cap(sc.runes) <= maxPooledBytes && cap(sc.toks) <= maxPooledTokens {
		a.pool.Put(sc)
	}
}

// valences sets the valence of every word (govader's sentiments list,
// before butCheck) and returns the index of the first "but", or -1.
func (d *doc) valences() int {
	toks := d.toks
	n := len(toks)
	butIdx := -1
	for i := range toks {
		t := &toks[i]
		if butIdx < 0 && t.kind == kindBut {
			butIdx = i
		}
		switch {
		case t.flags&isBooster != 0:
			t.val = 0
		case i < n-1 && t.kind == kindKind && toks[i+1].kind == kindOf:
			t.val = 0
		case t.flags&inLexicon != 0:
			t.val = d.valence(i)
		default:
			t.val = 0
		}
	}
	return butIdx
}

// replaceEmoji is the first loop of govader's PolarityScores: every rune
// that is a key of the emoji dictionary becomes its description, preceded
// by a space unless the previous rune was a space; invalid UTF-8 bytes
// become U+FFFD (govader writes string(r) for each rune r of range text).
// It returns text itself when nothing changes, which is the common case,
// and otherwise copies the unchanged stretches in bulk.
func (a *Analyzer) replaceEmoji(sc *scratch, text string) string {
	j := a.plainUntil(text, 0)
	if j == len(text) {
		return text
	}
	buf := append(sc.text[:0], text[:j]...)
	prevSpace := j == 0 || text[j-1] == ' '
	for j < len(text) {
		// text[j:] starts with an emoji or an invalid byte.
		r, size := utf8.DecodeRuneInString(text[j:])
		if a.isEmoji(r) {
			// An empty description (a Model's ignored runes; govader has
			// none) drops the rune.
			if desc := a.emojiDescription(r); desc != "" {
				if !prevSpace {
					buf = append(buf, ' ')
				}
				buf = append(buf, desc...)
				prevSpace = false
			}
		} else {
			buf = append(buf, "\uFFFD"...)
			prevSpace = false
		}
		j += size
		if k := a.plainUntil(text, j); k > j {
			buf = append(buf, text[j:k]...)
			prevSpace = text[k-1] == ' '
			j = k
		}
	}
	sc.text = buf
	return bytesToString(buf)
}

// plainUntil returns the index of the first emoji or invalid UTF-8 byte in
// text at or after j, or len(text).
func (a *Analyzer) plainUntil(text string, j int) int {
	asciiPlain := a.minEmoji >= utf8.RuneSelf
	for j < len(text) {
		c := text[j]
		if c < utf8.RuneSelf {
			if !asciiPlain {
				if a.isEmoji(rune(c)) {
					return j
				}
				j++
				continue
			}
			for j+8 <= len(text) && le64(text[j:])&0x8080808080808080 == 0 {
				j += 8
			}
			for j < len(text) && text[j] < utf8.RuneSelf {
				j++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[j:])
		if (r == utf8.RuneError && size == 1) || a.isEmoji(r) {
			return j
		}
		j += size
	}
	return j
}

// bytesToString views b as a string without copying. The result must not
// be used once b is written to again, nor outlive the Compound call that
// made it: it views a pooled scratch buffer.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Byte classes, for tokenize (Analyzer.class).
const (
	clsLower    uint8 = 1 << iota // a–z
	clsUpper                      // A–Z
	clsNonASCII                   // ≥ 0x80
	clsApos                       // '
	clsPunct                      // in govader's PunctuationString
)

// asciiLower lower-cases ASCII letters and leaves other bytes alone.
var asciiLower = func() (low [256]uint8) {
	for i := range 256 {
		low[i] = uint8(i)
		if i >= 'A' && i <= 'Z' {
			low[i] += 'a' - 'A'
		}
	}
	return low
}()

// tokenize is govader's NewSentiText: split on ' ' (empty words included),
// strip leading and trailing ASCII punctuation unless that leaves fewer
// than three bytes, lower-case (strings.ToLower), look the lower-case word
// up, and compute allcapDifferential.
func (d *doc) tokenize(sc *scratch) {
	// Work on a copy of the text followed by 16 zero bytes, so that the
	// first 16 bytes of any word can be read as two 64-bit words.
	n := len(d.s)
	if cap(sc.pad) < n+16 {
		sc.pad = make([]byte, n+16)
	}
	pad := sc.pad[:n+16]
	copy(pad, d.s)
	clear(pad[n:])
	s := bytesToString(pad[:n])
	d.s, d.pad = s, pad

	cls := &d.a.class
	words := d.a.words
	toks := sc.toks[:0]
	if nt := strings.Count(s, " ") + 1; cap(toks) < nt {
		toks = make([]token, 0, nt)
	}
	upperCount := 0
	for start := 0; ; {
		k, f := scanWord(s, start, cls)

		// stripPunctuationIfWord: strings.Trim with govader's ASCII
		// punctuation set, unless fewer than three bytes would remain.
		// Stripping changes none of f's letter and non-ASCII bits.
		i, j := start, k
		if f&clsPunct != 0 {
			for i < j && cls[s[i]]&clsPunct != 0 {
				i++
			}
			for j > i && cls[s[j-1]]&clsPunct != 0 {
				j--
			}
			if j-i < 3 {
				i, j = start, k
			}
		}
		w := s[i:j]

		t := token{off: i, n: j - i, entry: -1}
		lw := w // strings.ToLower(w)
		var e int
		if f&clsNonASCII == 0 {
			// Lower-casing ASCII is the identity on a word without
			// capitals; the string itself is needed only to compare a
			// long word in full and to look for "n't".
			k0, k1 := keyWordsPadded(pad[i:], j-i)
			k0, k1 = lowerWord(k0), lowerWord(k1)
			if f&clsUpper == 0 {
				t.flags |= tokSame
			} else if len(w) > 16 || f&clsApos != 0 {
				r := sc.runes[:0]
				for k := 0; k < len(w); k++ {
					r = append(r, asciiLower[w[k]])
				}
				sc.runes = r
				lw = bytesToString(r)
			}
			e = words.findKey(k0, k1, lw) // lw may still be w: the same length
		} else {
			r := sc.runes[:0]
			for _, c := range w {
				r = utf8.AppendRune(r, unicode.ToLower(c))
			}
			sc.runes = r
			if lw = bytesToString(r); lw == w {
				t.flags |= tokSame
			}
			e = words.find(lw)
		}
		if e >= 0 {
			info := &words.entries[e]
			t.entry, t.id, t.kind, t.flags = int32(e), info.id, info.kind, t.flags|info.flags
		}
		if f&clsApos != 0 && strings.Contains(lw, "n't") {
			t.flags |= isNegate
		}
		// Python's isupper: a capital and no lower-case letter.
		isUpper := f&(clsUpper|clsLower) == clsUpper
		if isUpper {
			t.flags |= tokUpper
		}
		upperCount += b2i(isUpper)
		toks = append(toks, t)

		if k == len(s) {
			break
		}
		start = k + 1
	}
	sc.toks = toks
	d.toks = toks
	capDifferential := len(toks) - upperCount
	d.capDiff = 0 < capDifferential && capDifferential < len(toks)
}

// scanWord returns the end of the word of s that starts at start (the
// next ' ' or len(s)) and the union of its bytes' classes. It is a
// function of its own so that its loop keeps everything in registers.
//
//go:noinline
func scanWord(s string, start int, cls *[256]uint8) (int, uint8) {
	var f uint8
	k := start
	for ; k < len(s); k++ {
		c := s[k]
		if c == ' ' {
			break
		}
		f |= cls[c]
	}
	return k, f
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lowerWord lower-cases the ASCII letters of 8 ASCII bytes at once.
func lowerWord(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	upper := (x + (0x80-'A')*ones) &^ (x + (0x80-'Z'-1)*ones) & highs
	return x | upper>>2
}

// orig is the i-th word as written.
func (d *doc) orig(i int) string {
	t := &d.toks[i]
	return d.s[t.off : t.off+t.n]
}

// value is the Lexicon value of the i-th word, lower-cased, or its
// BoosterDict value if it is a booster; or the value a domain phrase gave
// it.
func (d *doc) value(i int) float64 {
	t := &d.toks[i]
	if t.flags&tokOverride != 0 {
		// Set by Model.match; valences reads it before it overwrites
		// val, and only of the word itself (an override is no booster).
		return t.val
	}
	return d.a.words.entries[t.entry].val
}

// origInLexicon reports whether the i-th word as written (not lower-cased)
// is a Lexicon key, which is what govader asks of the words before a
// sentiment word and in leastCheck.
func (d *doc) origInLexicon(i int) bool {
	t := &d.toks[i]
	if t.flags&tokOrigDone == 0 {
		in := t.flags&inLexicon != 0
		if t.flags&tokSame == 0 {
			var e int
			if t.off+t.n+16 <= len(d.pad) {
				k0, k1 := keyWordsPadded(d.pad[t.off:], t.n)
				e = d.a.words.findKey(k0, k1, d.orig(i))
			} else {
				e = d.a.words.find(d.orig(i))
			}
			in = e >= 0 && d.a.words.entries[e].flags&inLexicon != 0
		}
		t.flags |= tokOrigDone
		if in {
			t.flags |= tokOrigLex
		}
	}
	return t.flags&tokOrigLex != 0
}

// valence is govader's sentimentValence for the i-th word, a Lexicon word
// that is not a booster.
func (d *doc) valence(i int) float64 {
	toks := d.toks
	n := len(toks)
	t := &toks[i]
	lex := d.value(i)
	v := lex
	if t.kind == kindNo && i+1 < n && toks[i+1].flags&inLexicon != 0 {
		v = 0
	}
	if (i > 0 && toks[i-1].kind == kindNo) ||
		(i > 1 && toks[i-2].kind == kindNo) ||
		(i > 2 && toks[i-3].kind == kindNo && (toks[i-1].kind == kindOr || toks[i-1].kind == kindNor)) {
		v = lex * nScalar
	}
	if t.flags&tokUpper != 0 && d.capDiff {
		if v > 0 {
			v += cIncr
		} else {
			v -= cIncr
		}
	}

	for startI := 0; startI < 3; startI++ {
		if i <= startI {
			break
		}
		j := i - (startI + 1)
		if d.origInLexicon(j) {
			continue
		}
		// scalarIncDec
		s := 0.0
		if p := &toks[j]; p.flags&isBooster != 0 {
			s = d.value(j)
			if v < 0 {
				s *= -1
			}
			if p.flags&tokUpper != 0 && d.capDiff {
				if v > 0 {
					s += cIncr
				} else {
					s -= cIncr
				}
			}
		}
		if startI == 1 && s != 0 {
			s = s * scalarScale1
		}
		if startI == 2 && s != 0 {
			s = s * scalarScale2
		}
		v = v + s
		v = d.negationCheck(v, startI, i)
		if startI == 2 {
			v = d.specialIdiomsCheck(v, i)
		}
	}
	return d.leastCheck(v, i)
}

// negationCheck is govader's.
func (d *doc) negationCheck(v float64, startI, i int) float64 {
	toks := d.toks
	switch startI {
	case 0:
		if toks[i-1].flags&isNegate != 0 {
			v = v * nScalar
		}
	case 1:
		k2, k1 := toks[i-2].kind, toks[i-1].kind
		if k2 == kindNever && (k1 == kindSo || k1 == kindThis) {
			v = v * negationScale
		} else if k2 == kindWithout && k1 == kindDoubt {
			// unchanged
		} else if toks[i-2].flags&isNegate != 0 {
			v = v * nScalar
		}
	case 2:
		k3, k2, k1 := toks[i-3].kind, toks[i-2].kind, toks[i-1].kind
		if k3 == kindNever && (k2 == kindSo || k2 == kindThis || k1 == kindSo || k1 == kindThis) {
			v = v * negationScale
		} else if k3 == kindWithout && (k2 == kindDoubt || k1 == kindDoubt) {
			// unchanged
		} else if toks[i-3].flags&isNegate != 0 {
			v = v * nScalar
		}
	}
	return v
}

// specialIdiomsCheck is govader's, for i > 2. govader joins the words of
// each n-gram with spaces and looks the result up; here the n-grams are
// compared as word ids, and one with a word outside every phrase cannot
// match.
func (d *doc) specialIdiomsCheck(v float64, i int) float64 {
	toks, idioms, boostNGram := d.toks, d.a.idioms, d.a.boostNGram
	n := len(toks)
	w0, w1, w2, w3 := toks[i].id, toks[i-1].id, toks[i-2].id, toks[i-3].id
	if val, ok := lookup2(idioms, w1, w0); ok { // onezero
		v = val
	} else if val, ok := lookup3(idioms, w2, w1, w0); ok { // twoonezero
		v = val
	} else if val, ok := lookup2(idioms, w2, w1); ok { // twoone
		v = val
	} else if val, ok := lookup3(idioms, w3, w2, w1); ok { // threetwoone
		v = val
	} else if val, ok := lookup2(idioms, w3, w2); ok { // threetwo
		v = val
	}
	if n-1 > i {
		if val, ok := lookup2(idioms, w0, toks[i+1].id); ok { // zeroone
			v = val
		}
	}
	if n-1 > i+1 {
		if val, ok := lookup3(idioms, w0, toks[i+1].id, toks[i+2].id); ok { // zeroonetwo
			v = val
		}
	}
	if val, ok := lookup3(boostNGram, w3, w2, w1); ok { // threetwoone
		v = v + val
	}
	if val, ok := lookup2(boostNGram, w3, w2); ok { // threetwo
		v = v + val
	}
	if val, ok := lookup2(boostNGram, w2, w1); ok { // twoone
		v = v + val
	}
	return v
}

// lookup2 looks the two-word phrase x y up in m.
func lookup2(m []phraseValue, x, y uint16) (float64, bool) {
	if x == 0 || y == 0 {
		return 0, false
	}
	return lookup(m, phrase(x)|phrase(y)<<16)
}

// lookup3 looks the three-word phrase x y z up in m.
func lookup3(m []phraseValue, x, y, z uint16) (float64, bool) {
	if x == 0 || y == 0 || z == 0 {
		return 0, false
	}
	return lookup(m, phrase(x)|phrase(y)<<16|phrase(z)<<32)
}

// lookup finds p in m, a handful of phrases.
func lookup(m []phraseValue, p phrase) (float64, bool) {
	for _, pv := range m {
		if pv.p == p {
			return pv.val, true
		}
	}
	return 0, false
}

// leastCheck is govader's; like govader it compares the words as written.
func (d *doc) leastCheck(v float64, i int) float64 {
	if i > 1 && d.orig(i-1) == "least" && !d.origInLexicon(i-1) {
		if o := d.orig(i - 2); o != "at" && o != "very" {
			v = v * nScalar
		}
	} else if i > 0 && d.orig(i-1) == "least" && !d.origInLexicon(i-1) {
		v = v * nScalar
	}
	return v
}

// punctuationEmphasis is govader's, over the text after emoji replacement
// (two emoji descriptions contain a '!').
func punctuationEmphasis(s string) float64 {
	ep := strings.Count(s, "!")
	if ep > maxEP {
		ep = maxEP
	}
	epAmplifier := float64(ep) * epAmplifyScale
	qmAmplifier := 0.0
	if qm := strings.Count(s, "?"); qm > 1 {
		if qm <= 3 {
			qmAmplifier = float64(qm) * qmAmplifyScale
		} else {
			qmAmplifier = maxQM
		}
	}
	return epAmplifier + qmAmplifier
}

// normalize is govader's normalize with its default alpha.
func normalize(score float64) float64 {
	norm := score / math.Sqrt((score*score)+alphaDefault)
	if norm < -1.0 {
		return -1.0
	} else if norm > 1.0 {
		return 1.0
	}
	return norm
}
