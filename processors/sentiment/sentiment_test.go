package sentiment

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/jonreiter/govader"
)

// tolerance is the contract: |Compound − govader's Compound| for every input.
const tolerance = 1e-9

// tweetEvalPath is the full TweetEval sentiment validation split (2,000
// tweets), committed (testdata/tweeteval/README.md); testdata/tweets.txt is
// its first 500 lines.
const tweetEvalPath = "testdata/tweeteval/val_text.txt"

var (
	buildOnce sync.Once
	ours      *Analyzer
	theirs    *govader.SentimentIntensityAnalyzer
)

func analyzers() (*Analyzer, *govader.SentimentIntensityAnalyzer) {
	buildOnce.Do(func() {
		ours = New()
		theirs = govader.NewSentimentIntensityAnalyzer()
	})
	return ours, theirs
}

// govaderCompound is the reference. Where govader panics, the contract is
// that Compound returns 0 (no input found so far makes it panic: the empty
// string, blank text, invalid UTF-8 and NUL bytes all score 0 or a normal
// score there too; see TestTrickyCases).
func govaderCompound(sia *govader.SentimentIntensityAnalyzer, text string) (score float64, panicked bool) {
	defer func() {
		if recover() != nil {
			score, panicked = 0, true
		}
	}()
	return sia.PolarityScores(text).Compound, false
}

// diffChecker compares ours with govader and remembers the worst case.
type diffChecker struct {
	t        testing.TB
	a        *Analyzer
	sia      *govader.SentimentIntensityAnalyzer
	n        int
	panics   int
	maxDiff  float64
	failures int
}

func newDiffChecker(t testing.TB) *diffChecker {
	a, sia := analyzers()
	return &diffChecker{t: t, a: a, sia: sia}
}

func (c *diffChecker) check(name, text string) {
	c.t.Helper()
	want, panicked := govaderCompound(c.sia, text)
	if panicked {
		c.panics++
	}
	got := c.a.Compound(text)
	c.n++
	d := math.Abs(got - want)
	if math.IsNaN(got) || math.IsNaN(d) {
		d = math.Inf(1)
	}
	c.maxDiff = max(c.maxDiff, d)
	if d > tolerance || got < -1 || got > 1 {
		c.failures++
		if c.failures <= 20 {
			c.t.Errorf("%s: Compound(%s) = %.17g, govader = %.17g (panicked %v), diff %.3g",
				name, abbrev(text), got, want, panicked, d)
		}
	}
}

func (c *diffChecker) report() {
	c.t.Logf("%d inputs, %d govader panics, max |ours − govader| = %.3g", c.n, c.panics, c.maxDiff)
}

func abbrev(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%q… (%d bytes)", s[:200], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("exactness corpus %s is missing: %v", path, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return lines
}

// TestTweetsTestdata is the primary corpus: 500 real tweets committed with
// the package.
func TestTweetsTestdata(t *testing.T) {
	lines := readLines(t, "testdata/tweets.txt")
	if len(lines) < 300 {
		t.Fatalf("testdata/tweets.txt has %d lines, want at least 300", len(lines))
	}
	c := newDiffChecker(t)
	for i, line := range lines {
		c.check(fmt.Sprintf("testdata/tweets.txt:%d", i+1), line)
	}
	c.report()
}

// TestTweetEvalValidation runs every line of the TweetEval validation
// split.
func TestTweetEvalValidation(t *testing.T) {
	lines := readLines(t, tweetEvalPath)
	if len(lines) == 0 {
		t.Fatalf("%s is empty", tweetEvalPath)
	}
	c := newDiffChecker(t)
	for i, line := range lines {
		c.check(fmt.Sprintf("val_text.txt:%d", i+1), line)
	}
	c.report()
}

// trickyCases exercise every rule and quirk of govader's model.
func trickyCases() []struct{ name, text string } {
	big := strings.Builder{}
	for i := 0; big.Len() < 100<<10; i++ {
		fmt.Fprintf(&big, "Update %d: the @user service was NOT good, but the staff were very helpful 😀 #feedback https://t.co/x%d !! ", i, i)
	}
	return []struct{ name, text string }{
		// govader's own examples (the Python reference sentences)
		{"vader smart", "VADER is smart, handsome, and funny."},
		{"vader smart!", "VADER is smart, handsome, and funny!"},
		{"vader very", "VADER is very smart, handsome, and funny."},
		{"vader caps", "VADER is VERY SMART, handsome, and FUNNY."},
		{"vader caps!!!", "VADER is VERY SMART, handsome, and FUNNY!!!"},
		{"vader friggin", "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!"},
		{"vader not nor", "VADER is not smart, handsome, nor funny."},
		{"book good", "The book was good."},
		{"at least", "At least it isn't a horrible book."},
		{"kind of good", "The book was only kind of good."},
		{"plot but", "The plot was good, but the characters are uncompelling and the dialog is not great."},
		{"sux", "Today SUX!"},
		{"kinda sux", "Today only kinda sux! But I'll get by, lol"},
		{"emoticons", "Make sure you :) or :D today!"},
		{"emoji", "Catch utf-8 emoji such as such as 💘 and 💋 and 😁"},
		{"not bad at all", "Not bad at all"},
		{"never been good", "Sentiment analysis has never been good."},
		{"never been this good", "Sentiment analysis has never been this good!"},
		{"are shit", "Most automated sentiment analysis tools are shit."},
		{"the shit", "With VADER, sentiment analysis is the shit!"},
		{"quite bad", "Other sentiment analysis tools can be quite bad."},
		{"bad ass", "On the other hand, VADER is quite bad ass"},
		{"badass", "VADER is such a badass!"},
		{"without a doubt", "Without a doubt, excellent idea."},
		{"most compelling", "Roger Dodger is one of the most compelling variations on this theme."},
		{"at least compelling", "Roger Dodger is at least compelling as a variation on the theme."},
		{"least compelling", "Roger Dodger is one of the least compelling variations on this theme."},
		{"not such a badass", "Not such a badass after all."},
		{"without a doubt an", "Without a doubt, an excellent idea."},
		{"not greatly", "Not GREATLY bad at all!!!!!"},

		// negations
		{"not good", "not good"},
		{"Not good.", "Not good."},
		{"isn't bad", "isn't bad"},
		{"isnt bad", "this isnt bad at all"},
		{"never so happy", "I have never so happy been"},
		{"never so happy 2", "never so happy"},
		{"never this happy", "never been this happy"},
		{"never x so happy", "never felt so happy"},
		{"without doubt", "without doubt good"},
		{"without any doubt", "without any doubt good"},
		{"doesn't", "it doesn't work and it won't get better"},
		{"n't inside", "couldn't care less, wouldn't recommend, shouldn't have loved it"},
		{"uh-uh", "uh-uh that is not nice"},
		{"despite", "despite the great weather"},
		{"nor", "neither good nor bad"},
		{"rarely", "rarely happy, seldom sad"},
		{"NOT caps", "This is NOT good at all"},
		{"curly apostrophe", "it isn’t bad, it’s great"},
		{"three back", "not at all very good"},

		// "no"
		{"no", "no"},
		{"no good", "no good"},
		{"no problem", "no problem at all"},
		{"no x good", "no way good"},
		{"no x y good", "no way nor good"},
		{"no or", "no love or hate"},
		{"no nor hate", "no one nor hate"},
		{"no.", "no. good"},
		{"No caps", "No NO no! good"},
		{"no no", "no no no"},

		// but
		{"but", "I love it but it is terrible"},
		{"BUT", "I love it BUT it is terrible"},
		{"but twice", "good but bad but good"},
		{"but first", "but good"},
		{"but last", "great and happy but"},
		{"but.", "good, but. bad"},

		// caps
		{"caps mixed", "This is GREAT, really GREAT"},
		{"all caps", "THIS IS GREAT"},
		{"caps booster", "this is VERY good"},
		{"caps booster neg", "this is VERY bad"},
		{"caps word with digits", "GR8 day, LOVE it 2DAY"},
		{"caps single letter", "I LOVE you"},
		{"caps with punctuation", "OMG!!! so HAPPY!!!"},
		{"caps ú", "ÉTÉ is GRÉAT and good"},
		{"caps only non-ascii", "ÉÉÉ good"},

		// punctuation amplification
		{"!!!", "good!!!"},
		{"!!!!!!", "good!!!!!!"},
		{"bad!!!", "bad!!!"},
		{"?", "good?"},
		{"??", "good??"},
		{"???", "good???"},
		{"????", "good????"},
		{"?!?!", "bad?!?!"},
		{"! no sentiment", "hello!!!"},

		// boosters and dampeners
		{"very", "very good"},
		{"extremely", "extremely bad"},
		{"kind of", "kind of good"},
		{"kind of end", "it was kind of"},
		{"kind", "you are kind"},
		{"kind of kind", "kind of kind"},
		{"sort of", "sort of good"},
		{"sort of x", "sort of a good one"},
		{"just enough", "just enough good"},
		{"just enough x", "it was just enough to be good"},
		{"kinda", "kinda good"},
		{"booster 2 back", "very very good"},
		{"booster 3 back", "extremely very really good"},
		{"booster neg", "really not good"},
		{"booster caps neg", "REALLY not good"},
		{"hardly", "hardly good, barely bad"},
		{"so so", "so so good so so bad"},
		{"so booster neg", "so not bad"},
		{"fucking", "fucking amazing fucking terrible"},

		// idioms
		{"the shit", "this is the shit"},
		{"the shit early", "the shit"},
		{"the bomb", "that party was the bomb"},
		{"kiss of death", "that is the kiss of death"},
		{"kiss of death short", "kiss of death"},
		{"bad ass", "he is such a bad ass"},
		{"yeah right", "oh yeah right sure"},
		{"to die for", "a cake to die for"},
		{"to die for 2", "this cake is to die for"},
		{"cut the mustard", "it does not cut the mustard"},
		{"hand to mouth", "living hand to mouth"},
		{"in the red", "the company is in the red"},
		{"break a leg", "break a leg tonight"},
		{"upper hand", "we have the upper hand"},
		{"The Shit caps", "this is THE SHIT"},
		{"idiom after", "good the shit"},
		{"idiom next", "wow shit the bomb"},

		// least
		{"least", "the least good movie"},
		{"at least", "at least good"},
		{"very least", "the very least good"},
		{"least first", "least good"},
		{"LEAST", "the LEAST good"},
		{"least.", "the least. good"},

		// emoji
		{"😀", "😀"},
		{"😡", "I am 😡"},
		{"🙏", "thanks 🙏"},
		{"👏", "well done👏👏"},
		{"😩", "😩😩😩 so tired"},
		{"mixed emoji", "love it😀😡🙏👏😩"},
		{"ZWJ family", "family 👨‍👩‍👧 day"},
		{"ZWJ family attached", "family👨‍👩‍👧day"},
		{"skin tone", "👍🏽 nice"},
		{"variation selector", "❤️ you"},
		{"flag", "🇬🇧 🇫🇷 vote"},
		{"copyright", "©2024 Acme® all rights"},
		{"emoji with !", "🔛 we are 🆙"},
		{"emoji first", "😀 good"},
		{"emoji after space", "a 😀"},
		{"emoji tab", "a\t😀"},
		{"10000 emoji", strings.Repeat("😀", 10000)},
		{"10000 mixed emoji", strings.Repeat("😡🙏 👏😩👨‍👩‍👧", 2000)},

		// emoticons
		{":)", ":)"},
		{":-(", "bad day :-("},
		{"<3", "<3 you"},
		{":D caps", "yes :D :d"},
		{"emoticons mixed", "lol :) :( :P ;) xD XD :/"},
		{":Þ", "ok :Þ good"},

		// quotes, urls, handles, hashtags
		{"curly quotes", "“good” ‘bad’"},
		{"straight quotes", "\"good\" 'bad'"},
		{"url", "see https://example.com/great?x=good&y=bad"},
		{"handle", "@user @GoodLuck you are great"},
		{"hashtag", "#good #LoveIt #NotBad"},
		{"dotted", "good...bad...ugly"},

		// non-English
		{"welsh", "Diolch yn fawr"},
		{"french", "C'est très bien, merci beaucoup! Été génial."},
		{"german", "Das ist SEHR gut, ÄÖÜ straße"},
		{"greek caps", "ΣΊΣΥΦΟΣ is good"},
		{"turkish İ", "İstanbul is GREAT"},
		{"kelvin", "\u212A good"},
		{"Ⱥ growth", "ȺȺȺ good"},
		{"cjk", "今日は良い日 good"},
		{"arabic", "شكرا جزيلا good"},

		// degenerate
		{"empty", ""},
		{"space", " "},
		{"whitespace", " \t\n\r\v\f  "},
		{"unicode whitespace", "\u00a0\u2003\u3000"},
		{"nbsp inside", "good\u00a0bad"},
		{"punctuation only", "!!!???...,,,;;;"},
		{"punctuation spaced", "! ? . , ; : - ' \""},
		{"double spaces", "good  bad   ugly    "},
		{"newlines", "good\nbad\n\nugly"},
		{"100KB", big.String()},
		{"invalid utf-8", "good \xff\xfe bad"},
		{"invalid truncated", "great \xe2\x82"},
		{"invalid latin1", "caf\xe9 good"},
		{"surrogate", "\xed\xa0\x80 good"},
		{"replacement char", "\ufffd good"},
		{"invalid only", "\xff"},
		{"NUL", "good\x00bad"},
		{"NULs", "\x00\x00\x00"},
		{"NUL word", "not\x00 good"},
		{"NUL spaced", "not \x00 good"},
		{"single letter", "a"},
		{"two letters", "ok"},
	}
}

func TestTrickyCases(t *testing.T) {
	c := newDiffChecker(t)
	for _, tc := range trickyCases() {
		c.check(tc.name, tc.text)
	}
	c.report()
	if c.panics > 0 {
		t.Logf("govader panicked on %d inputs; ours returned 0 for them", c.panics)
	}
}

// TestSpecificScores pins a few values so that a change in govader itself
// (a dependency upgrade) is noticed even though both sides would move.
func TestSpecificScores(t *testing.T) {
	a, _ := analyzers()
	for _, tc := range []struct {
		text string
		want float64
	}{
		{"", 0},
		{"   ", 0},
		{"no", -0.295958174200194},
		{"The book was good.", 0.4404},
		{"Not bad at all", 0.431},
		{"With VADER, sentiment analysis is the shit!", 0.6476},
	} {
		if got := a.Compound(tc.text); math.Abs(got-tc.want) > 5e-5 {
			t.Errorf("Compound(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// generatedVocabulary is the material of TestGenerated: words every rule
// looks at, in every case, with punctuation, emoji and broken bytes.
func generatedVocabulary() []string {
	_, sia := analyzers()
	vocab := []string{
		"no", "No", "NO", "not", "NOT", "never", "Never", "so", "SO", "this", "without", "doubt",
		"kind", "of", "Kind", "OF", "but", "But", "BUT", "least", "LEAST", "Least", "at", "very", "VERY",
		"or", "nor", "isn't", "ISN'T", "don't", "wasnt", "n't", "can't", "stand", "fed", "up",
		"the", "The", "shit", "bomb", "bad", "ass", "badass", "yeah", "right", "kiss", "death", "to", "die", "for",
		"just", "enough", "sort", "cut", "mustard", "hand", "mouth", "upper",
		"good", "GOOD", "Good", "bad", "BAD", "great", "love", "hate", "kind", "doubt",
		":)", ":-(", "<3", ":D", ":d", ":P", ":Þ", ":þ", "(:", "):", "xD",
		"!", "!!", "!!!", "?", "??", "???", "...", "-", "'", "\"",
		"😀", "😡", "🙏", "👏", "😩", "👨‍👩‍👧", "❤️", "©", "®", "🔛", "🆙", "💘",
		"@user", "#good", "#BAD", "https://t.co/abc", "Diolch", "très", "ÉTÉ", "İ", "\u212A", "Ⱥ",
		"", "\t", "\n", "\x00", "\xff", "\xe2\x82", "\ufffd", "\u00a0", "gr8", "2DAY", "A", "I",
	}
	var keys []string
	for k := range sia.Lexicon {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r := rand.New(rand.NewPCG(7, 7))
	for range 400 {
		vocab = append(vocab, keys[r.IntN(len(keys))])
	}
	for k := range sia.Constants.BoosterDict {
		vocab = append(vocab, k, strings.ToUpper(k))
	}
	vocab = append(vocab, sia.Constants.NegateList...)
	var emoji []string
	for k := range sia.EmojiDict {
		if utf8.RuneCountInString(k) == 1 {
			emoji = append(emoji, k)
		}
	}
	slices.Sort(emoji)
	for range 100 {
		vocab = append(vocab, emoji[r.IntN(len(emoji))])
	}
	slices.Sort(vocab) // map iteration above is random; keep runs reproducible
	return vocab
}

// TestGenerated compares ours with govader on random texts built from a
// vocabulary dense in the words the rules look at, glued with spaces, no
// spaces, punctuation and caps changes.
func TestGenerated(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 3000
	}
	vocab := generatedVocabulary()
	seps := []string{" ", " ", " ", " ", "  ", "", ", ", ". ", "! ", "\t", " \n"}
	r := rand.New(rand.NewPCG(1, 2))
	c := newDiffChecker(t)
	var b strings.Builder
	for i := range n {
		b.Reset()
		words := 1 + r.IntN(24)
		for range words {
			w := vocab[r.IntN(len(vocab))]
			switch r.IntN(10) {
			case 0:
				w = strings.ToUpper(w)
			case 1:
				w = w + "!"
			}
			b.WriteString(w)
			b.WriteString(seps[r.IntN(len(seps))])
		}
		c.check(fmt.Sprintf("generated #%d", i), b.String())
	}
	c.report()
}

// TestNeverPanics feeds random bytes and random runes; ours must return a
// score in [-1, 1] and agree with govader.
func TestNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := newDiffChecker(t)
	for i := range 5000 {
		b := make([]byte, r.IntN(64))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		c.check(fmt.Sprintf("random bytes #%d", i), string(b))
		var sb strings.Builder
		for range r.IntN(32) {
			switch r.IntN(4) {
			case 0:
				sb.WriteRune(rune(r.IntN(0x80)))
			case 1:
				sb.WriteRune(rune(r.IntN(0x3000)))
			case 2:
				sb.WriteRune(rune(0x1F300 + r.IntN(0x800)))
			default:
				sb.WriteString([]string{" good", " not", " BAD", " but", " the shit", " no", " least"}[r.IntN(7)])
			}
		}
		c.check(fmt.Sprintf("random runes #%d", i), sb.String())
	}
	c.report()
}

// TestPunctuationSet checks the assumption that govader's cutset is ASCII
// (strings.Trim then trims bytes) and is what the table holds.
func TestPunctuationSet(t *testing.T) {
	a, sia := analyzers()
	cut := sia.Constants.Regex.PunctuationString
	for i := range 256 {
		want := i < utf8.RuneSelf && strings.ContainsRune(cut, rune(i))
		if got := a.class[i]&clsPunct != 0; got != want {
			t.Errorf("class[%q] has clsPunct %v, want %v", rune(i), got, want)
		}
	}
	for _, r := range cut {
		if r >= utf8.RuneSelf {
			t.Errorf("govader's punctuation set has non-ASCII %q; stripPunctuationIfWord assumes ASCII", r)
		}
	}
}

// TestConcurrent scores the corpus from several goroutines at once (run
// with -race) and expects the sequential results.
func TestConcurrent(t *testing.T) {
	a, _ := analyzers()
	texts := readLines(t, "testdata/tweets.txt")
	for _, tc := range trickyCases()[:60] {
		texts = append(texts, tc.text)
	}
	want := make([]float64, len(texts))
	for i, s := range texts {
		want[i] = a.Compound(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range len(texts) {
				i := (k + g*37) % len(texts)
				if got := a.Compound(texts[i]); got != want[i] {
					t.Errorf("concurrent Compound(%q) = %v, sequential %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestAllocs: a typical mention is scored without heap allocation once the
// pool is warm.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	a, _ := analyzers()
	mentions := benchMentions()
	for _, s := range mentions[:10] {
		a.Compound(s)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		a.Compound(mentions[i%len(mentions)])
		i++
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per Compound, want 0", allocs)
	}
}

func FuzzCompound(f *testing.F) {
	for _, tc := range trickyCases() {
		if len(tc.text) < 1000 {
			f.Add(tc.text)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := newDiffChecker(t)
		c.check("fuzz", text)
	})
}
