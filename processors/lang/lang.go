// Package lang tells the language of a mention's text, as an ISO 639-1
// code ("en", "cy", "pl"…) or Und.
//
// Why it exists: comms teams ask how much of the conversation is in
// Welsh, Polish or Urdu, sentiment can only score some languages, and
// only X says what language a post is in — YouTube and Facebook comments
// carry none, and X calls short Welsh posts "en" or "und".
//
// How it decides, cheapest first (Detect):
//
//  1. Reading. URLs, @handles, #hashtags (mostly English campaign tags,
//     whatever the post's language), emoji, numbers and punctuation are
//     dropped; letters are counted by script; Latin-script words are
//     lower-cased and looked up in a table of function words — articles,
//     pronouns, prepositions, auxiliaries — of the fourteen Latin-script
//     languages it tells apart (lexicon.go), and letters only some of them
//     use (ł, ŵ, ș, ã, ñ, ğ, ő) are counted. One pass over at most 1 KB,
//     no allocation.
//  2. Script. A text mostly in another script is decided by it: Gurmukhi
//     is Punjabi, Bengali script Bengali, Gujarati, Tamil, Devanagari
//     (Hindi), Han (Chinese; with Kana, Japanese), Hangul, Greek, Hebrew,
//     Thai and a few more. The Arabic script is split by letters: Urdu
//     has ٹ ڈ ڑ ں ے ہ ھ, Persian ی ک پ گ, Pashto and Sorani Kurdish
//     their own; the rest is Arabic. Cyrillic: і ї є make Ukrainian, ы э ё
//     Russian, ъ Bulgarian. Even a one-word text is called this way.
//  3. Function words. A Latin-script text where one language's function
//     words clearly outnumber every other's is called without the model
//     (functionWords). English, most of the traffic, needs less evidence
//     than the others. A whole Welsh sentence makes the post "cy", even
//     beside English: bilingual posts are how most Welsh-language
//     government content appears, and its presence is what the Welsh
//     Language Standards make comms teams count. A Welsh phrase inside an
//     English sentence ("Diolch yn fawr to the team at Ysbyty Gwynedd")
//     leaves it English, and names never count: they are not in the
//     table, and Welsh nouns that English posts use in names ("Ysgol",
//     "Cyngor", "Llywodraeth") count only weakly.
//  4. Model. What is left — a Latin-script text of at least minWords
//     words and minLetters letters with no clear function-word majority,
//     or a Cyrillic one without telling letters — goes to lingua-go's
//     statistical model, restricted to the candidate languages. Its pick
//     stands only if the text shows some evidence of that language
//     (model), so a language it does not know comes out Und rather than
//     as its nearest candidate. Shorter texts are Und: no method calls
//     two or three words reliably.
//
// The platform's code (Normalize) is trusted when there is one, since X
// sees the same text and is usually right, with two exceptions: text
// with Welsh function words is "cy" whatever X says (X has no good model
// of Welsh and calls it "en" or "und"), and a Latin-script text of at
// least overrideWords words whose function words clearly say another
// language overrides it; a text in another script overrides a code for a
// language not written in it. The model is never consulted when the
// platform has spoken. A text with no letters at all is Und, whatever
// the platform.
//
// # Library
//
// The statistical part is github.com/pemistahl/lingua-go v1.4.0, the only
// language identification library on the Go module proxy that knows
// Welsh. It can be restricted to a set of languages, and in low-accuracy
// mode (trigrams only) the models of the seventeen languages asked take
// about 15 MB of heap. Its cost is why it is the last resort: about
// 130 µs for a tweet among twelve languages (regular expressions per
// character, arbitrary-precision decimals, a goroutine per call), against
// a budget of well under 10 µs per mention; high-accuracy mode is twice as
// slow and needs 200 MB more. Its other cost is size: it embeds the models
// of all its 75 languages, so a binary that imports this package grows by
// about 130 MB (a process's resident memory does not: only the models
// loaded are read). github.com/abadojack/whatlanggo, the other candidate,
// has no Welsh (it calls Welsh text Kurdish) and is no faster: about
// 180 µs a tweet, 73 µs restricted to ten languages.
//
// With steps 1–3, most mentions never reach the model: on a mix of 80%
// English, 6% Welsh and 14% other texts with no platform code, 3.5% do,
// and Detect averages about 3 µs of CPU (BenchmarkDetect); with X's codes,
// under 1 µs and no allocation.
//
// Known limits: a language outside Languages() written in the Latin
// script usually comes out Und, but Kurmanji Kurdish and Albanian can
// come out French and Scottish Gaelic English; Romanised Urdu and Hindi
// usually come out Und; Devanagari is always Hindi and Punjabi in the
// Arabic script (Shahmukhi) Urdu, unless X says otherwise; text in
// decomposed Unicode
// (NFD) loses its function words. The model's arithmetic sums in map
// order, so a borderline call can in principle differ between runs.
//
// What it must never do: panic, whatever the input (empty, invalid UTF-8,
// megabytes of emoji), do I/O after New, or return a code other than Und,
// one of Languages(), or the platform's own code normalised.
package lang

import (
	"github.com/pemistahl/lingua-go"
)

// Und is the code for a text whose language cannot be told: empty, only
// emoji, URLs, @handles, #hashtags or numbers, or too short to call.
const Und = "und"

const (
	// minWords and minLetters: a Latin-script text with fewer words, or
	// fewer letters in them, is Und unless its function words leave no
	// doubt ("Diolch yn fawr") or the platform named its language.
	minWords   = 3
	minLetters = 15

	// overrideWords is how many words a Latin-script text needs before its
	// function words may overrule the platform's code.
	overrideWords = 5

	// minScore is how many points (text.go) a language's function words
	// and letters must reach for step 3 to call it without the model, with
	// at least twice the points of the runner-up; or minScoreAlone points
	// and three times the runner-up's. Either way at least one of its
	// function words must be its alone.
	minScore      = 3 * ptUnique
	minScoreAlone = 2 * ptUnique

	// minScoreEnglish: English is most of what govlisten reads, so it
	// needs less evidence. A text spelt in plain ASCII, with function
	// words of English alone and of no other language alone, is English
	// once they score this much and twice the runner-up.
	minScoreEnglish = ptUnique

	// minModelScore is the evidence (points) the text must show for the
	// language the model picks (see model).
	minModelScore = ptUnique

	// minConfidence is the least confidence the model (lingua's, which
	// sums to 1 over the candidates) must give its choice; below, Und.
	minConfidence = 0.5
)

// linguaLatin are the model's candidates for Latin-script text, in
// latinLang order.
var linguaLatin = [numLatin]lingua.Language{
	lingua.English, lingua.Welsh, lingua.Polish, lingua.Romanian, lingua.Portuguese,
	lingua.Spanish, lingua.French, lingua.Italian, lingua.Lithuanian, lingua.German,
	lingua.Dutch, lingua.Turkish, lingua.Somali, lingua.Hungarian,
}

// linguaCyrillic are the model's candidates for Cyrillic text whose
// letters do not decide it.
var linguaCyrillic = []lingua.Language{lingua.Russian, lingua.Ukrainian, lingua.Bulgarian}

// Detector tells the language of texts. Build one with New and share it:
// it is safe for concurrent use and holds no per-call state.
type Detector struct {
	latin    lingua.LanguageDetector
	cyrillic lingua.LanguageDetector
	codes    map[lingua.Language]string
}

// New builds a Detector, loading the model's trigram tables for the
// seventeen languages it may ask it about: about 15 MB of heap and a
// tenth of a second, once per process (lingua keeps its models in
// package-level maps for the life of the process, so a second Detector
// costs nothing more).
func New() *Detector {
	codes := map[lingua.Language]string{
		lingua.Russian: "ru", lingua.Ukrainian: "uk", lingua.Bulgarian: "bg",
	}
	for l, ll := range linguaLatin {
		codes[ll] = latinCodes[l]
	}
	return &Detector{
		latin: lingua.NewLanguageDetectorBuilder().FromLanguages(linguaLatin[:]...).
			WithLowAccuracyMode().WithPreloadedLanguageModels().Build(),
		cyrillic: lingua.NewLanguageDetectorBuilder().FromLanguages(linguaCyrillic...).
			WithLowAccuracyMode().WithPreloadedLanguageModels().Build(),
		codes: codes,
	}
}

// languages is what Detect can tell from text, sorted.
var languages = []string{
	"ar", "bg", "bn", "cy", "de", "el", "en", "es", "fa", "fr", "gu", "he", "hi", "hu", "hy",
	"it", "ja", "ka", "kn", "ko", "ku", "lt", "ml", "nl", "pa", "pl", "ps", "pt", "ro", "ru",
	"si", "so", "ta", "te", "th", "tr", "uk", "ur", "zh",
}

// Languages returns the ISO 639-1 codes Detect can tell from text alone,
// sorted. Detect also returns Und, and passes through a platform's code
// for a language not listed here (Normalize). The slice is a copy.
func Languages() []string {
	return append([]string(nil), languages...)
}

// Detect returns the language of text as an ISO 639-1 code, or Und.
// platformLang is the code the platform gave the post ("" if none; X's
// "und", "qme", "zxx"… count as none); see the package comment for when
// the text overrules it.
//
// Cost: one pass over at most 1 KB of text (maxScan) and no allocation
// for most mentions — about 1 µs of CPU for a tweet; the statistical
// model, reached only by unclear Latin-script or Cyrillic text without a
// platform code, takes about 100 µs and some 20 allocations.
func (d *Detector) Detect(text, platformLang string) string {
	code, _ := d.detect(text, platformLang)
	return code
}

// step says which step of Detect decided; tests and benchmarks count them.
type step uint8

const (
	stepNoLetters step = iota
	stepScript
	stepWords
	stepPlatform
	stepShort
	stepModel
	numSteps
)

var stepNames = [numSteps]string{"no letters", "script", "function words", "platform", "too short", "model"}

func (d *Detector) detect(text, platformLang string) (string, step) {
	p := Normalize(platformLang)
	var e evidence
	e.read(text)

	sc, letters := e.dominantScript()
	if letters == 0 {
		return Und, stepNoLetters
	}
	if sc != scLatin {
		if p != "" && writtenIn(p, sc) {
			return p, stepPlatform
		}
		return d.scriptCode(&e, sc, text)
	}

	fast, ok := e.functionWords()
	switch {
	case e.welsh || ok && fast == cy:
		return "cy", stepWords
	case p != "":
		if ok && latinCodes[fast] != p && e.words >= overrideWords && e.letters >= minLetters {
			return latinCodes[fast], stepWords
		}
		return p, stepPlatform
	case ok:
		return latinCodes[fast], stepWords
	case e.words < minWords || e.letters < minLetters:
		return Und, stepShort
	}
	return d.model(text), stepModel
}

// dominantScript returns the script most of the text's letters are in
// and how many letters the text has. A text is Latin unless at least two
// of its letters are in one other script and that script has at least as
// many letters as the Latin one: "¯\_(ツ)_/¯ whatever" is Latin, "شکریہ"
// is Arabic, an Urdu sentence naming "Universal Credit" is Arabic. Han and
// Kana count together, as scHan.
func (e *evidence) dominantScript() (script, int32) {
	var total int32
	for _, n := range e.scripts {
		total += n
	}
	best, bestN := scLatin, int32(0)
	for sc := scArabic; sc < numScripts; sc++ {
		n := e.scripts[sc]
		switch sc {
		case scKana:
			continue
		case scHan:
			n += e.scripts[scKana]
		}
		if n > bestN {
			best, bestN = sc, n
		}
	}
	if bestN < 2 || bestN < e.scripts[scLatin] {
		return scLatin, total
	}
	return best, total
}

// scriptCode names the language of a text in a script other than Latin.
func (d *Detector) scriptCode(e *evidence, sc script, text string) (string, step) {
	switch sc {
	case scArabic:
		return arabicCode(&e.arabic), stepScript
	case scCyrillic:
		if c := cyrillicCode(&e.cyrillic); c != "" {
			return c, stepScript
		}
		if e.scripts[scCyrillic] < minLetters {
			return Und, stepShort
		}
		return d.ask(d.cyrillic, truncate(text, maxModelText)), stepModel
	case scHan:
		// Japanese mixes Kana into every sentence; Chinese posts may use
		// a decorative の.
		kana, han := e.scripts[scKana], e.scripts[scHan]
		if kana > 0 && (kana >= 2 || han == 0) && 5*kana >= han {
			return "ja", stepScript
		}
		return "zh", stepScript
	}
	if c := scriptCodes[sc]; c != "" {
		return c, stepScript
	}
	return Und, stepScript
}

// writtenIn says whether a language is written in a script other than
// Latin. Languages written in two (Punjabi in Gurmukhi and Shahmukhi,
// Sindhi in Arabic and Devanagari) count for both.
func writtenIn(code string, sc script) bool {
	switch code {
	case "ar", "fa", "ur", "ps", "ku", "ug":
		return sc == scArabic
	case "pa":
		return sc == scGurmukhi || sc == scArabic
	case "sd":
		return sc == scArabic || sc == scDevanagari
	case "ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg":
		return sc == scCyrillic
	case "zh", "ja":
		return sc == scHan
	case "hi", "mr", "ne", "sa":
		return sc == scDevanagari
	case "bn", "as":
		return sc == scBengali
	case "he", "yi":
		return sc == scHebrew
	}
	return scriptCodes[sc] == code
}

// functionWords returns the language whose function words and letters
// clearly dominate the text, if one does. A text too short for the model
// is called only when at least two function words of that language
// alone, and none of any other, make up half its words.
func (e *evidence) functionWords() (latinLang, bool) {
	best, second := latinLang(0), latinLang(1)
	if e.score[second] > e.score[best] {
		best, second = second, best
	}
	for l := latinLang(2); l < numLatin; l++ {
		switch {
		case e.score[l] > e.score[best]:
			best, second = l, best
		case e.score[l] > e.score[second]:
			second = l
		}
	}
	if e.words < minWords || e.letters < minLetters {
		ok := e.unique[best] >= 2 && e.score[second] == 0 && 2*e.lexWords >= e.words
		return best, ok
	}
	s, s2 := e.score[best], e.score[second]
	ok := e.unique[best] >= 1 && (s >= minScore && s >= 2*s2 || s >= minScoreAlone && s >= 3*s2)
	if ok || best != en {
		return best, ok
	}
	// An English sentence with a Welsh phrase in it ("Diolch yn fawr to
	// the staff at…"): English if its words outnumber the Welsh ones and
	// nothing else competes.
	if second == cy && !e.welsh && s >= minScore && e.unique[en] > e.unique[cy] && e.third(en, cy) == 0 {
		return en, true
	}
	// English in plain ASCII with no function word of another language
	// alone (see minScoreEnglish).
	if e.foreign == 0 && e.unique[en] >= 1 && s >= minScoreEnglish && s >= 2*s2 && e.third(en, en) == 0 {
		return en, true
	}
	return best, false
}

// third counts the function words of a language alone, for the
// languages other than a and b.
func (e *evidence) third(a, b latinLang) int32 {
	var n int32
	for l := range numLatin {
		if l != a && l != b {
			n += e.unique[l]
		}
	}
	return n
}

// model asks the statistical model about the Latin-script words of text.
// The model picks among its candidates whatever the text, and is all but
// certain of its pick whatever the text (its confidence is 1.00 for
// Tagalog it calls Turkish), so its pick stands only if the text already
// shows some evidence of that language: a function word of it alone, or
// as many points (minModelScore) from shared words and letters; for
// Welsh, always a function word of Welsh alone, so that names
// ("Ysbyty Glan Clwyd A&E waiting times") never make a post Welsh.
// Otherwise Und.
func (d *Detector) model(text string) string {
	out := make([]byte, 0, maxModelText+maxWord)
	e := evidence{out: &out}
	e.read(text)
	code := d.ask(d.latin, string(out))
	for l, c := range latinCodes {
		if c != code {
			continue
		}
		if e.score[l] < minModelScore || l == int(cy) && e.unique[cy] == 0 {
			return Und
		}
	}
	return code
}

// ask returns the model's choice for text, or Und when it is not
// confident.
func (d *Detector) ask(m lingua.LanguageDetector, text string) string {
	values := m.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() < minConfidence {
		return Und
	}
	if c, ok := d.codes[values[0].Language()]; ok {
		return c
	}
	return Und
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
