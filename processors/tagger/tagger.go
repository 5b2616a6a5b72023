// Package tagger decides what a mention is about and how it feels: the
// government departments and topics of a taxonomy, a sentiment score and
// label, and a language.
//
// # Rules
//
// Each department and topic of a taxonomy has rules; a mention gets the
// slug when any of its rules matches. A rule is written in the boolean
// query language comms teams know from commercial listening tools:
//
//	rule     = or .
//	or       = and { "OR" and } .
//	and      = near { [ "AND" ] near } .           adjacent operands are ANDed
//	near     = unary [ "NEAR/" distance unary ] .  distance is 1..100
//	unary    = "NOT" unary | primary .
//	primary  = phrase | term | wildcard | handle | hashtag | filter
//	         | "(" or ")" .
//	phrase   = quote { any character but a quote or "*" } quote .
//	quote    = '"' | '“' | '”' | '„' | '‟' .
//	term     = word { punctuation word } .         A&E, GOV.UK, cost-of-living
//	wildcard = word "*" .                          at least 3 letters before *
//	handle   = "@" word .
//	hashtag  = "#" word .
//	filter   = field ":" value .
//	field    = "platform" | "lang" | "kind" | "author" .
//
// Operators are upper case (and, or, not and near are ordinary terms).
// Precedence, tightest first: NOT, NEAR, AND (written or implied), OR; so
// `a OR b c` is `a OR (b AND c)` and `a NOT b` is `a AND NOT b`.
//
// A word is a run of letters, digits, combining marks and '_'; everything
// else (spaces, punctuation, apostrophes, hyphens, emoji) separates words,
// in rules as in mentions. A term is one word; a term or phrase of several
// words matches those words consecutively, whatever separates them in the
// mention ("cost-of-living" and `"Cost of living"` both match "COST OF
// LIVING!"). A wildcard matches any word its stem begins. @handle matches a
// mention of that account (not the word); #hashtag matches the hashtag;
// a term also matches a hashtag of the same word.
//
// `a NEAR/n b` holds when an occurrence of a and one of b, in either order,
// are at most n words apart, counting from the end of the first to the
// start of the second: NEAR/1 is adjacent, NEAR/3 allows two words between.
// Occurrences that overlap do not count. Each side of NEAR is a term,
// phrase, wildcard, @handle or #hashtag, or a parenthesised OR of them:
// `(cuts OR cut) NEAR/5 "universal credit"`. NEAR does not chain.
//
// Field filters test the mention, not its text: platform:twitter (or x),
// platform:youtube, platform:facebook; kind:post, kind:comment, kind:reply;
// lang:cy (also matching cy-GB; the language is the caller's, see Fields);
// author:handle, matching the author's handle case-insensitively (a leading
// @ optional) or the author id exactly. Filter names and values other than
// author ids are case-insensitive.
//
// Matching is case-insensitive and accent-insensitive (Welsh ŵ ŷ â ê î ô û
// ë ï fold to their base letters, as do é, ø, ł, and the "fancy text"
// letters 𝐃𝐖𝐏 and ＮＨＳ), and always on word boundaries: DWP does not
// match "DWPX".
//
// A rule must match something positive: every way it can be true must
// need a term, phrase, wildcard, @handle or #hashtag to occur. `NOT x`,
// `platform:youtube`, `a OR NOT b` and `lang:cy OR dwp` are errors, since
// they would tag nearly every mention (and a filter-only rule would only
// repeat the platform or language columns). Nesting of parentheses and NOT
// is limited to 32 levels.
//
// Every rule of the first version of the language (one term, phrase,
// wildcard, @handle or #hashtag) keeps its meaning, with one exception:
// words separated by spaces outside quotes used to be a phrase and are now
// ANDed, as in every listening tool (`Universal Credit` matches "credit for
// universal services"; write `"Universal Credit"`). A term starting with
// '-' is an error rather than a silent positive term, since '-' means
// exclusion in search engines; write NOT.
//
// New reports the first rule that does not compile, Lint every one; each
// is a *RuleError naming the category, the rule, the line of the taxonomy
// file (LoadTaxonomy keeps the YAML line of every rule) and the column,
// with what was expected there.
//
// # Speed
//
// New compiles all rules together. Every text operand of every rule is a
// leaf, stored once however many rules use it, in one hash index keyed by
// folded word (a phrase by its first word, a wildcard by its stem), so one
// lookup per token of a mention finds every leaf that occurs, with its
// word positions. The index is a static table (internal/wordtab), not a Go
// map: most words of a mention are in no rule, and its filter answers
// them from the L1 cache. A rule that is a single leaf, or an OR of leaves (nearly
// all rules), fires straight from the index. Any other rule is evaluated
// only when one of its required leaves occurred: leaves one of which must
// occur for the rule to hold (for a AND b, the side with fewer leaves; for
// a OR b, the leaves of both). Matching costs one pass over the tokens
// whatever the number of rules, and a sync.Pool of scratch buffers keeps it
// free of allocations but for the slices it returns.
//
// # Sentiment
//
// Sentiment is package sentiment's Model: VADER (the lexicon-and-rules
// model built for social media text, re-implemented there without
// allocations) with a layer of public-sector words, phrases, sarcasm
// markers and emoji kept as data. A mention the rules tagged with a
// department or topic is about government, and is scored by the Model's
// classifier for public-sector mentions (weights learned from labelled
// mentions, also data): the probability that it is positive minus the
// probability that it is negative. Other mentions get the Model's score.
// The label's thresholds, for both, come from Options (config
// tagging.sentiment), else from the model's data. VADER
// scores English only: a mention in another known language is labelled
// Unsupported with score 0 rather than guessed at; a mention whose
// language is unknown ("und": too short, only emoji) is scored.
//
// # Language
//
// Options.Lang decides each mention's language from its text and the
// platform's code (package lang does, in the processors); without it the
// platform's code is used as given. lang: filters test the language so
// decided, and it is what Tags.Lang reports.
//
// A Tagger is immutable once built and safe for concurrent use.
package tagger

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/govlisten/govlisten/internal/wordtab"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sentiment"
)

// Sentiment labels.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Tags is what the tagger says of one mention.
type Tags struct {
	Departments []string `json:"departments"`
	Topics      []string `json:"topics"`
	Sentiment   Score    `json:"sentiment"`
	Lang        string   `json:"lang"`
	// Matched lists the rules that fired, as "slug:rule", in taxonomy order.
	Matched []string `json:"matched"`
}

// Score is a sentiment score in [-1, 1] and its label.
type Score struct {
	Score float64 `json:"score"`
	Label string  `json:"label"`
}

// Fields are what field filters test. The zero value matches no
// platform:, kind:, lang: or author: filter.
type Fields struct {
	Platform     string // mention.Twitter, mention.YouTube or mention.Facebook
	Kind         string // mention.KindPost, KindComment or KindReply
	Lang         string // BCP 47 tag, such as en or cy-GB; "" when unknown
	AuthorHandle string
	AuthorID     string
}

// MentionFields returns the fields of m, with lang as its language (the
// record's own, or a detector's).
func MentionFields(m *mention.Mention, lang string) Fields {
	return Fields{Platform: m.Platform, Kind: m.Kind, Lang: lang, AuthorHandle: m.AuthorHandle, AuthorID: m.AuthorID}
}

type category struct {
	slug       string
	department bool
}

// Tagger tags mentions with one compiled taxonomy.
type Tagger struct {
	cats     []category
	catRank  []int32 // by category: its place among departments then topics, each by slug
	byRank   []int32 // the category of each rank
	ndepts   int
	rules    []rule
	leaves   []leaf
	byWord   map[string]int32 // folded word -> its entry, while compiling
	entries  []entry          // the leaves each word can start
	index    *wordtab.Table   // folded word -> its entry in entries
	stemHead *wordtab.Table   // the first minPre bytes of every wildcard stem
	minPre   int              // shortest wildcard stem, in bytes
	maxPre   int              // longest wildcard stem, in bytes
	model    *sentiment.Model
	th       sentiment.Thresholds
	lang     func(text, platformLang string) string
	scored   []string
	scratch  sync.Pool
}

// rule is one compiled rule.
type rule struct {
	cat    int32 // index into Tagger.cats
	index  int   // position in its category
	text   string
	label  string // "slug:rule", for Tags.Matched
	root   *expr
	direct bool // a leaf or an OR of leaves: fires when any of them occurs
}

// leaf is one text operand, shared by every rule that uses it.
type leaf struct {
	kind   patternKind
	words  []string // folded
	direct []int32  // rules that fire when the leaf occurs
	trig   []int32  // rules to evaluate when the leaf occurs
}

// entry lists, for one folded word, the leaves that word can fire: one map
// lookup per token finds them all.
type entry struct {
	words    []int32 // terms, and phrases starting with the word
	handles  []int32 // @word
	tags     []int32 // #word
	prefixes []int32 // stems equal to the word (a token starting with it fires them)
}

// New compiles a taxonomy with the default Options. The error is the first
// problem found: a *RuleError for a rule that does not parse, a
// *CategoryError for a missing or duplicate slug. Lint reports them all.
func New(tx *Taxonomy) (*Tagger, error) {
	return Compile(tx, Options{})
}

// Compile is New with options.
func Compile(tx *Taxonomy, o Options) (*Tagger, error) {
	t, errs := compile(tx, false)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if o.Thresholds != (sentiment.Thresholds{}) {
		if err := o.Thresholds.Validate(); err != nil {
			return nil, err
		}
		t.th = o.Thresholds
	}
	t.lang = o.Lang
	if o.Scored != nil {
		t.scored = o.Scored
	}
	return t, nil
}

// Lint compiles a taxonomy and returns every problem, in file order: each a
// *RuleError or a *CategoryError. It returns nil when New would succeed.
func Lint(tx *Taxonomy) []error {
	_, errs := compile(tx, true)
	return errs
}

// compile builds a Tagger; it stops at the first error unless all is set.
func compile(tx *Taxonomy, all bool) (*Tagger, []error) {
	t := &Tagger{
		byWord: map[string]int32{},
		model:  model(),
		th:     model().Thresholds(),
		scored: []string{"en"},
	}
	var errs []error
	leafIDs := map[string]int32{}
	seen := map[string]bool{}
	for _, group := range []struct {
		cats []Category
		dept bool
	}{{tx.Departments, true}, {tx.Topics, false}} {
		for _, c := range group.cats {
			if c.Slug == "" || seen[c.Slug] {
				reason := fmt.Sprintf("slug %q is defined twice", c.Slug)
				if c.Slug == "" {
					reason = fmt.Sprintf("a category named %q has no slug", c.Name)
				}
				errs = append(errs, &CategoryError{File: tx.File, Line: c.Line, Column: c.Column, Slug: c.Slug, Reason: reason})
				if !all {
					return nil, errs
				}
			}
			seen[c.Slug] = true
			ci := int32(len(t.cats))
			t.cats = append(t.cats, category{slug: c.Slug, department: group.dept})
			for i, text := range c.Rules {
				root, se := parseRule(text)
				if se != nil {
					errs = append(errs, c.ruleError(tx.File, i, se))
					if !all {
						return nil, errs
					}
					continue
				}
				t.addRule(rule{cat: ci, index: i, text: text, label: c.Slug + ":" + text, root: root}, leafIDs)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	heads := map[string]int32{}
	for _, l := range t.leaves {
		if l.kind == kindPrefix {
			heads[l.words[0][:t.minPre]] = 1
		}
	}
	t.index, t.stemHead, t.byWord = wordtab.New(t.byWord), wordtab.New(heads), nil
	t.rankCategories()
	t.scratch.New = func() any { return t.newScratch() }
	return t, nil
}

// rankCategories orders the categories as Match reports them: departments
// then topics, each by slug.
func (t *Tagger) rankCategories() {
	t.byRank = make([]int32, len(t.cats))
	for i := range t.byRank {
		t.byRank[i] = int32(i)
	}
	slices.SortFunc(t.byRank, func(a, b int32) int {
		ca, cb := t.cats[a], t.cats[b]
		if ca.department != cb.department {
			if ca.department {
				return -1
			}
			return 1
		}
		return strings.Compare(ca.slug, cb.slug)
	})
	t.catRank = make([]int32, len(t.cats))
	for rank, c := range t.byRank {
		t.catRank[c] = int32(rank)
		if t.cats[c].department {
			t.ndepts++
		}
	}
}

// ruleError places a syntax error of rule i in the taxonomy file.
func (c *Category) ruleError(file string, i int, se *syntaxError) *RuleError {
	text := c.Rules[i]
	e := &RuleError{File: file, Category: c.Slug, Index: i, Rule: text, Column: column(text, se.pos), Reason: se.reason}
	if i < len(c.RulePos) {
		p := c.RulePos[i]
		e.Line, e.FileColumn = p.Line, p.fileColumn(text, se.pos)
	}
	return e
}

// addRule assigns the leaves of r and indexes r under them.
func (t *Tagger) addRule(r rule, leafIDs map[string]int32) {
	id := int32(len(t.rules))
	t.assignLeaves(r.root, leafIDs)
	var on []int32
	if r.direct = isLeafOr(r.root); r.direct {
		on = leavesOf(r.root, nil)
	} else {
		on = t.required(r.root)
	}
	slices.Sort(on)
	for _, l := range slices.Compact(on) {
		if r.direct {
			t.leaves[l].direct = append(t.leaves[l].direct, id)
		} else {
			t.leaves[l].trig = append(t.leaves[l].trig, id)
		}
	}
	t.rules = append(t.rules, r)
}

// assignLeaves gives every text node of e its leaf, adding new leaves to
// the index, and fills the sides of NEAR nodes.
func (t *Tagger) assignLeaves(e *expr, leafIDs map[string]int32) {
	if e.op == opText {
		key := string(rune('0'+e.kind)) + strings.Join(e.words, " ")
		id, ok := leafIDs[key]
		if !ok {
			id = int32(len(t.leaves))
			leafIDs[key] = id
			t.leaves = append(t.leaves, leaf{kind: e.kind, words: e.words})
			t.indexLeaf(id)
		}
		e.leaf = id
		return
	}
	for _, k := range e.kids {
		t.assignLeaves(k, leafIDs)
	}
	if e.op == opNear {
		e.sides[0], e.sides[1] = leavesOf(e.kids[0], nil), leavesOf(e.kids[1], nil)
	}
}

func (t *Tagger) indexLeaf(id int32) {
	l := &t.leaves[id]
	key := l.words[0]
	ei, ok := t.byWord[key]
	if !ok {
		ei = int32(len(t.entries))
		t.entries = append(t.entries, entry{})
		t.byWord[key] = ei
	}
	e := &t.entries[ei]
	switch l.kind {
	case kindWords:
		e.words = append(e.words, id)
	case kindHandle:
		e.handles = append(e.handles, id)
	case kindTag:
		e.tags = append(e.tags, id)
	case kindPrefix:
		e.prefixes = append(e.prefixes, id)
		if t.minPre == 0 || len(key) < t.minPre {
			t.minPre = len(key)
		}
		t.maxPre = max(t.maxPre, len(key))
	}
}

// isLeafOr says whether e is a leaf or an OR of leaves.
func isLeafOr(e *expr) bool {
	switch e.op {
	case opText:
		return true
	case opOr:
		for _, k := range e.kids {
			if !isLeafOr(k) {
				return false
			}
		}
		return true
	}
	return false
}

// leavesOf appends the leaves of every text node under e (positive or not).
func leavesOf(e *expr, to []int32) []int32 {
	if e.op == opText {
		return append(to, e.leaf)
	}
	for _, k := range e.kids {
		to = leavesOf(k, to)
	}
	return to
}

// required returns leaves one of which occurs whenever e holds, or nil when
// e can hold with no leaf occurring (parseRule rejects such rules).
func (t *Tagger) required(e *expr) []int32 {
	switch e.op {
	case opText:
		return []int32{e.leaf}
	case opNear:
		a, b := e.sides[0], e.sides[1]
		if t.cheaper(b, a) {
			return b
		}
		return a
	case opAnd:
		var best []int32
		for _, k := range e.kids {
			if r := t.required(k); r != nil && (best == nil || t.cheaper(r, best)) {
				best = r
			}
		}
		return best
	case opOr:
		var all []int32
		for _, k := range e.kids {
			r := t.required(k)
			if r == nil {
				return nil
			}
			all = append(all, r...)
		}
		return all
	}
	return nil // NOT, filters
}

// cheaper says whether triggering on a should make fewer candidates than on
// b: fewer leaves, and phrases and names rather than single words.
func (t *Tagger) cheaper(a, b []int32) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	rank := func(ls []int32) int {
		n := 0
		for _, l := range ls {
			if lf := &t.leaves[l]; lf.kind == kindWords && len(lf.words) == 1 || lf.kind == kindPrefix {
				n++
			}
		}
		return n
	}
	return rank(a) < rank(b)
}

// model is the one sentiment model of every Tagger: it takes a few
// milliseconds to build and is safe for concurrent use.
var model = sync.OnceValue(sentiment.NewModel)

// Unsupported is the sentiment label of a mention in a language sentiment
// cannot score.
const Unsupported = "unsupported"

// Options tune a Tagger beyond its taxonomy. The zero value is the
// defaults.
type Options struct {
	// Thresholds label sentiment scores; the zero value means the
	// sentiment model's own defaults.
	Thresholds sentiment.Thresholds
	// Lang decides a mention's language (an ISO 639-1 code, or "und") from
	// its text and the platform's code. Nil uses the platform's code.
	Lang func(text, platformLang string) string
	// Scored lists the languages sentiment can score. Default: en.
	Scored []string
}

// Sentiment scores text, taken to be English, with the sentiment model.
func (t *Tagger) Sentiment(text string) Score {
	c, label := t.model.Classify(text, t.th)
	return Score{Score: c, Label: label}
}

// SentimentPublicSector scores text, taken to be English and about
// government, with the sentiment model's classifier for public-sector
// mentions (sentiment.Model.ScorePublicSector).
func (t *Tagger) SentimentPublicSector(text string) Score {
	c, label := t.model.ClassifyPublicSector(text, t.th)
	return Score{Score: c, Label: label}
}

// Tag runs every step on one mention: language, rules, sentiment.
func (t *Tagger) Tag(m *mention.Mention) Tags {
	lang := m.Lang
	if t.lang != nil {
		lang = t.lang(m.Text, m.Lang)
	}
	return t.TagLang(m, lang)
}

// TagLang is Tag with the language decided by the caller: lang is what
// lang: filters test, what decides whether sentiment is scored, and what
// Tags.Lang reports.
func (t *Tagger) TagLang(m *mention.Mention, lang string) Tags {
	d, tp, matched := t.MatchFields(m.Text, MentionFields(m, lang))
	score := Score{Label: Unsupported}
	switch {
	case !t.scores(lang):
	case len(d) > 0 || len(tp) > 0:
		score = t.SentimentPublicSector(m.Text)
	default:
		score = t.Sentiment(m.Text)
	}
	return Tags{
		Departments: d,
		Topics:      tp,
		Matched:     matched,
		Sentiment:   score,
		Lang:        lang,
	}
}

// scores says whether sentiment can score a mention in lang: one of the
// scored languages, or unknown.
func (t *Tagger) scores(lang string) bool {
	if lang == "" || lang == "und" {
		return true
	}
	base, _, _ := strings.Cut(lang, "-")
	for _, l := range t.scored {
		if strings.EqualFold(base, l) {
			return true
		}
	}
	return false
}

// Slugs lists the department and topic slugs of the taxonomy.
func (t *Tagger) Slugs() (departments, topics []string) {
	for _, c := range t.cats {
		if c.department {
			departments = append(departments, c.slug)
		} else {
			topics = append(topics, c.slug)
		}
	}
	return departments, topics
}

// Rules returns the number of compiled rules.
func (t *Tagger) Rules() int { return len(t.rules) }
