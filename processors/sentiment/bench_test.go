package sentiment

import (
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// Phrase lists for the benchmark corpus: what mentions of a government
// service look like, with handles, hashtags, URLs, emoji, negations,
// boosters, idioms, caps and punctuation runs. Clauses are assembled word
// by word at random, so the corpus is not a handful of sentences repeated
// (which a branch predictor would learn).
var (
	benchOpeners = []string{
		"@user", "@DVLAgov", "@hmrcgovuk", "@NHSEngland", "Just got off the phone with", "Honestly,",
		"Update:", "Thread 🧵", "So", "PSA:", "Can anyone explain why", "Day 3 of waiting for",
		"Shoutout to", "RT @user:", "Not gonna lie,", "WOW.", "Ugh,", "Quick question -", "Well",
	}
	benchSubjects = []string{
		"the council", "my local MP", "the DVLA", "HMRC", "the passport office", "the NHS app",
		"the jobcentre", "our GP surgery", "the new minister", "the bin collection", "the consultation",
		"the website", "the helpline", "the school", "the benefits team", "the planning department",
		"the police", "the library", "the bus service", "the tax office", "the form", "the new policy",
		"the queue", "the staff", "the process", "this government", "the A&E department", "the portal",
	}
	benchLinks = []string{"is", "was", "has been", "seems", "looks", "felt", "will be", "is still", "was never"}
	benchNegs  = []string{"", "", "", "", "not", "never", "isn't", "hardly", "not at all", "without doubt"}
	benchBoost = []string{"", "", "", "very", "extremely", "really", "kind of", "somewhat", "so", "totally",
		"incredibly", "barely", "sort of", "a bit", "quite", "fucking", "especially"}
	benchAdjs = []string{
		"helpful", "useless", "brilliant", "awful", "slow", "quick", "rude", "kind", "confusing",
		"fantastic", "terrible", "fine", "ok", "disappointing", "amazing", "broken", "fair", "unfair",
		"efficient", "chaotic", "friendly", "hopeless", "excellent", "poor", "great", "bad", "good",
		"frustrating", "impressive", "pathetic", "reasonable", "ridiculous", "smooth", "a joke",
		"a nightmare", "the shit", "the bomb", "a bad ass", "the kiss of death", "to die for",
	}
	benchTails = []string{
		"", "", "", "", "", "for months", "again", "today", "this week", "as usual", "at least",
		"at the very least", "for once", "to be honest", "if you ask me", "and nobody cares",
		"which is a relief", "which is a disgrace", "no problem at all", "no help whatsoever",
		"cut the mustard", "living hand to mouth", "yeah right",
	}
	benchExtras = []string{
		"😀", "😡", "🙏", "👏", "😩", "🙄", "👍", "❤️", "😂😂", "🤦‍♀️", "👨‍👩‍👧", ":)", ":-(", "<3", ":D",
		"lol", "smh", "tbh", "#fail", "#govuk", "#NHS", "#CostOfLiving", "#localgov", "@user",
		"https://t.co/Ab12Cd34Ef", "via @user", "(ref 2024/118)", "£45", "3 hours", "6 weeks",
	}
	benchJoins = []string{".", ",", " but", " and", "!", "!!!", "?", "???", " -", "...", ";", ". Also,", ". BUT"}
)

// benchClause is one random clause: subject, verb, negation, booster,
// adjective and maybe a tail and an extra, some words in capitals.
func benchClause(r *rand.Rand) string {
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	words := []string{pick(benchSubjects), pick(benchLinks), pick(benchNegs), pick(benchBoost), pick(benchAdjs), pick(benchTails)}
	if r.IntN(3) == 0 {
		words = append(words, pick(benchExtras))
	}
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		switch r.IntN(14) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			if c := w[0]; c >= 'a' && c <= 'z' {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

var (
	benchOnce sync.Once
	benchSet  []string
)

// benchMentions returns 1000 reproducible mentions of 400–800 bytes.
func benchMentions() []string {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(2024, 11))
		for len(benchSet) < 1000 {
			target := 400 + r.IntN(400)
			var b strings.Builder
			b.WriteString(benchOpeners[r.IntN(len(benchOpeners))])
			for b.Len() < target {
				b.WriteByte(' ')
				b.WriteString(benchClause(r))
				b.WriteString(benchJoins[r.IntN(len(benchJoins))])
			}
			s := b.String()
			if len(s) > 800 {
				s = s[:strings.LastIndexByte(s[:800], ' ')]
			}
			benchSet = append(benchSet, s)
		}
	})
	return benchSet
}

// benchTweets returns the committed tweets glued into texts of about 600
// bytes: real text, for comparison with the generated mentions.
func benchTweets(b *testing.B) []string {
	data, err := os.ReadFile("testdata/tweets.txt")
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		cur.WriteString(strings.TrimSpace(line))
		cur.WriteByte(' ')
		if cur.Len() >= 600 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

func benchScore(b *testing.B, texts []string, score func(string) float64) {
	var bytes int
	for _, t := range texts {
		bytes += len(t)
	}
	b.SetBytes(int64(bytes / len(texts)))
	b.ReportAllocs()
	sink := 0.0
	for i := 0; b.Loop(); i++ {
		sink += score(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
	_ = sink
}

// BenchmarkCompound scores the generated mentions.
func BenchmarkCompound(b *testing.B) {
	a := New()
	benchScore(b, benchMentions(), a.Compound)
}

// BenchmarkGovader is the same with govader, for comparison.
func BenchmarkGovader(b *testing.B) {
	_, sia := analyzers()
	benchScore(b, benchMentions(), func(s string) float64 { return sia.PolarityScores(s).Compound })
}

// BenchmarkCompoundTweets scores real tweets, glued into ~600-byte texts.
func BenchmarkCompoundTweets(b *testing.B) {
	a := New()
	benchScore(b, benchTweets(b), a.Compound)
}

// BenchmarkGovaderTweets is the same with govader, for comparison.
func BenchmarkGovaderTweets(b *testing.B) {
	_, sia := analyzers()
	benchScore(b, benchTweets(b), func(s string) float64 { return sia.PolarityScores(s).Compound })
}

// BenchmarkDomain scores the generated mentions with the public-sector
// Model: VADER and the domain layer.
func BenchmarkDomain(b *testing.B) {
	m := NewModel()
	benchScore(b, benchMentions(), m.Score)
}

// BenchmarkPublicSector scores the generated mentions with the Model's
// classifier for public-sector mentions (the Model's score and the
// classifier's words).
func BenchmarkPublicSector(b *testing.B) {
	m := NewModel()
	benchScore(b, benchMentions(), m.ScorePublicSector)
}

// BenchmarkDomainTweets scores real tweets, glued into ~600-byte texts,
// with the public-sector Model.
func BenchmarkDomainTweets(b *testing.B) {
	m := NewModel()
	benchScore(b, benchTweets(b), m.Score)
}

// TestBenchMentions checks the benchmark corpus is what it claims to be,
// and that ours agrees with govader on it.
func TestBenchMentions(t *testing.T) {
	ms := benchMentions()
	if len(ms) != 1000 {
		t.Fatalf("%d mentions, want 1000", len(ms))
	}
	c := newDiffChecker(t)
	for _, m := range ms {
		if len(m) < 400 || len(m) > 800 {
			t.Errorf("mention of %d bytes, want 400–800: %q", len(m), m)
		}
		c.check("bench mention", m)
	}
	c.report()
}
