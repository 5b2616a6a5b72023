// Package rulegen writes random taxonomy rules in the whole rule language
// (terms, "phrases", trailing * wildcards, @handles, #hashtags, AND, OR,
// NOT, NEAR/n, parentheses and field filters) for the tagger's tests and
// for the benchmarks, which measure tagging with 10,000 rules. Words come
// from a real taxonomy's rules and from a corpus, so that generated rules
// fire on a fair share of mentions without firing on every one. The same
// inputs and seed give the same rules.
//
// It must not import package tagger: tagger's own (internal) tests use it,
// and Go forbids the cycle. Callers pass the real taxonomy's rules in and
// turn the Categories out into a tagger.Taxonomy.
package rulegen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger/wordrune"
)

// Corpus returns n synthetic mentions (internal/synth with seed): every
// tenth one starts with Welsh, Scottish Gaelic or Irish text and says lang
// cy, and every seventh one is by one of the 50 authors (citizen_0 to
// citizen_49) that generated author: filters name.
func Corpus(n int, seed uint64) []*mention.Mention {
	g := synth.New(seed)
	ms := make([]*mention.Mention, n)
	for i := range ms {
		ms[i] = g.Next()
	}
	extra := []string{
		"Llywodraeth Cymru yn cyhoeddi cyllid newydd i'r gwasanaeth iechyd 🏴",
		"Mae'r Senedd wedi pleidleisio ar y gyllideb heddiw, da iawn",
		"Riaghaltas na h-Alba: tha am buidseat ùr a' gearradh sheirbheisean",
		"Tá an Rialtas ag iarraidh níos mó tithe a thógáil i mBéal Feirste",
		"DŴR CYMRU: dim dŵr yn y tŷ ers dau ddiwrnod 😡",
	}
	for i, m := range ms {
		if i%10 == 0 {
			m.Text = extra[(i/10)%len(extra)] + " " + m.Text
			m.Lang = "cy"
		}
		if i%7 == 0 {
			m.AuthorHandle = fmt.Sprintf("citizen_%d", i%50)
		}
	}
	return ms
}

// Category is one generated department or topic: slug d0…d99 or t0…t99.
type Category struct {
	Slug  string
	Rules []string
}

// Generate returns n random rules spread over 100 departments and 100
// topics, with seed. taxonomyRules are a real taxonomy's rules in file
// order (every department's, then every topic's); they give the words and
// phrases. The first 200 mentions of ms give the other words, one pick in
// forty. Most rules are a single term, phrase, wildcard, @handle or
// #hashtag; one in five is boolean.
func Generate(n int, seed uint64, taxonomyRules []string, ms []*mention.Mention) (departments, topics []Category) {
	taxonomy, common, phrases := vocabulary(taxonomyRules, ms)
	if len(common) == 0 {
		common = taxonomy
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 1)), taxonomy: taxonomy, common: common, phrases: phrases}
	for i := 0; i < 100; i++ {
		departments = append(departments, Category{Slug: fmt.Sprintf("d%d", i)})
		topics = append(topics, Category{Slug: fmt.Sprintf("t%d", i)})
	}
	for i := 0; i < n; i++ {
		cats := departments
		if g.r.IntN(2) == 0 {
			cats = topics
		}
		c := &cats[g.r.IntN(len(cats))]
		c.Rules = append(c.Rules, g.rule())
	}
	return departments, topics
}

// vocabulary returns the words and phrases of the taxonomy's rules, and
// the other words of the corpus (common), without stop words, so that
// generated rules fire on a fair share of mentions without firing on every
// one (the corpus repeats a few sentences, so its phrases would).
func vocabulary(rules []string, ms []*mention.Mention) (taxonomy, common []string, phrases [][]string) {
	stop := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been but by can did do for from had has have he her his
		i if in is it its me my no not of on or our out she so than that the their them then there they this to
		too up us was we were what when where which who why will with you your just again still really very`) {
		stop[w] = true
	}
	seen := map[string]bool{}
	add := func(to *[]string, w string, min int) {
		lw := strings.ToLower(w)
		if utf8.RuneCountInString(w) >= min && !seen[lw] && !stop[lw] && !isKeyword(w) {
			seen[lw] = true
			*to = append(*to, w)
		}
	}
	for _, r := range rules {
		f := strings.FieldsFunc(r, func(r rune) bool { return !wordrune.Is(r) })
		if len(f) > 1 && !slices.ContainsFunc(f, isKeyword) {
			phrases = append(phrases, f)
		}
		for _, w := range f {
			if len(f) == 1 {
				add(&taxonomy, w, 2) // a word that is a rule on its own
			} else {
				add(&taxonomy, w, 6) // a word of a phrase, if not too common
			}
		}
	}
	for _, m := range ms[:min(len(ms), 200)] {
		f := strings.FieldsFunc(m.Text, func(r rune) bool { return !wordrune.Is(r) })
		for _, w := range f {
			add(&common, w, 5)
		}
	}
	return taxonomy, common, phrases
}

func isKeyword(w string) bool { return w == "AND" || w == "OR" || w == "NOT" || w == "NEAR" }

// gen writes random rules of the whole language.
type gen struct {
	r        *rand.Rand
	taxonomy []string // words of the taxonomy
	common   []string // other words of the corpus, one pick in forty
	phrases  [][]string
}

func (g *gen) word() string {
	if g.r.IntN(40) == 0 {
		return g.common[g.r.IntN(len(g.common))]
	}
	return g.taxonomy[g.r.IntN(len(g.taxonomy))]
}

// wildcard is a stem of 5 letters or more of a word of 6 or more, and *.
func (g *gen) wildcard() string {
	for {
		if w := []rune(g.word()); len(w) >= 6 {
			return string(w[:5+g.r.IntN(len(w)-5)]) + "*"
		}
	}
}

// text is a term, phrase or wildcard.
func (g *gen) text() string {
	switch n := g.r.IntN(10); {
	case n < 5:
		return g.word()
	case n < 9:
		return `"` + strings.Join(g.phrases[g.r.IntN(len(g.phrases))], " ") + `"`
	}
	return g.wildcard()
}

func (g *gen) filter() string {
	switch g.r.IntN(5) {
	case 0:
		return "platform:" + []string{"twitter", "youtube", "facebook", "x"}[g.r.IntN(4)]
	case 1:
		return "kind:" + []string{"post", "comment", "reply"}[g.r.IntN(3)]
	case 2:
		return "(lang:en OR lang:cy)"
	case 3:
		return "lang:cy"
	}
	return fmt.Sprintf("author:citizen_%d", g.r.IntN(50))
}

// rule returns one rule: mostly single leaves, boolean one time in five.
func (g *gen) rule() string {
	switch n := g.r.IntN(100); {
	case n < 30:
		return g.word()
	case n < 55:
		return `"` + strings.Join(g.phrases[g.r.IntN(len(g.phrases))], " ") + `"`
	case n < 65:
		return g.wildcard()
	case n < 70:
		return "@" + g.word()
	case n < 80:
		return "#" + g.word()
	}
	a, b, c := g.text(), g.text(), g.text()
	switch g.r.IntN(10) {
	case 0:
		return a + " AND " + b
	case 1:
		return a + " OR " + b + " OR " + c
	case 2:
		return "(" + a + " OR " + b + ") AND NOT " + c
	case 3:
		return fmt.Sprintf("%s NEAR/%d %s", a, 1+g.r.IntN(8), b)
	case 4:
		return a + " AND " + g.filter()
	case 5:
		return a + " NOT " + g.filter()
	case 6:
		return fmt.Sprintf("(%s OR %s) NEAR/%d %s", a, b, 1+g.r.IntN(8), c)
	case 7:
		return a + " " + b
	case 8:
		return fmt.Sprintf("%s AND (%s OR %s NEAR/%d %s) NOT %s", a, b, c, 1+g.r.IntN(5), g.text(), g.filter())
	}
	return a + " NOT " + b
}
