// Package tagger decides what a mention is about and how it feels: the
// government departments and topics of a taxonomy, a sentiment score and
// label, and a language.
//
// Rules are compiled into hash indexes keyed by a rule's first folded word
// (and by handle, hashtag and wildcard stem), so one pass over a mention's
// tokens finds every rule that fires, whatever the number of rules; a
// reusable token buffer keeps the hot path free of per-token allocations.
// Matching is case- and accent-insensitive on word boundaries (see
// tokens.reset). The boolean rule language of DESIGN.md grows out of the
// same indexes: its leaves are these patterns.
//
// Sentiment is VADER, the lexicon-and-rules model built for social media
// text: no model download, deterministic, and the compound score is already
// in [-1, 1]. Scores are github.com/jonreiter/govader's exactly, computed by
// package sentiment, which re-implements that model without allocations.
// The label uses VADER's published thresholds of ±0.05.
//
// A Tagger is immutable once built and safe for concurrent use.
package tagger

import (
	"fmt"
	"slices"
	"sort"
	"sync"

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
	// Matched lists the rules that fired, as "slug:rule".
	Matched []string `json:"matched"`
}

// Score is a sentiment score in [-1, 1] and its label.
type Score struct {
	Score float64 `json:"score"`
	Label string  `json:"label"`
}

type category struct {
	slug       string
	department bool
}

// Tagger tags mentions with one compiled taxonomy.
type Tagger struct {
	cats     []category
	patterns []pattern
	index    map[string]*entry // folded word -> the patterns it can start
	stemHead map[string]bool   // the first minPre bytes of every wildcard stem
	minPre   int               // shortest wildcard stem, in bytes
	vader    *sentiment.Analyzer
	scratch  sync.Pool
}

// entry lists, for one folded word, the patterns that word can fire: one
// map lookup per token finds them all.
type entry struct {
	words    []int32 // terms, and phrases starting with the word
	handles  []int32 // @word
	tags     []int32 // #word
	prefixes []int32 // stems equal to the word (a token starting with it fires them)
}

type scratch struct {
	toks   tokens
	hit    []bool  // by pattern
	hits   []int32 // the patterns set in hit, in firing order
	catHit []bool  // by category
}

// New compiles a taxonomy. The error is a *RuleError for the first rule that
// does not parse, or names the duplicate or empty slug.
func New(tx *Taxonomy) (*Tagger, error) {
	t := &Tagger{
		index:    map[string]*entry{},
		stemHead: map[string]bool{},
		vader:    sentiment.New(),
	}
	seen := map[string]bool{}
	add := func(c Category, dept bool) error {
		if c.Slug == "" {
			return fmt.Errorf("a category named %q has no slug", c.Name)
		}
		if seen[c.Slug] {
			return fmt.Errorf("slug %q is defined twice", c.Slug)
		}
		seen[c.Slug] = true
		ci := len(t.cats)
		t.cats = append(t.cats, category{slug: c.Slug, department: dept})
		for i, r := range c.Rules {
			p, col, reason := parseRule(r)
			if reason != "" {
				return &RuleError{Category: c.Slug, Index: i, Rule: r, Column: col, Reason: reason}
			}
			p.cat, p.rule, p.label = ci, r, c.Slug+":"+r
			t.addPattern(p)
		}
		return nil
	}
	for _, c := range tx.Departments {
		if err := add(c, true); err != nil {
			return nil, err
		}
	}
	for _, c := range tx.Topics {
		if err := add(c, false); err != nil {
			return nil, err
		}
	}
	t.indexStems()
	t.scratch.New = func() any {
		return &scratch{hit: make([]bool, len(t.patterns)), catHit: make([]bool, len(t.cats))}
	}
	return t, nil
}

func (t *Tagger) addPattern(p pattern) {
	id := int32(len(t.patterns))
	t.patterns = append(t.patterns, p)
	key := p.words[0]
	e := t.index[key]
	if e == nil {
		e = &entry{}
		t.index[key] = e
	}
	switch p.kind {
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
	}
}

// indexStems fills stemHead once every stem is known.
func (t *Tagger) indexStems() {
	for _, p := range t.patterns {
		if p.kind == kindPrefix {
			t.stemHead[p.words[0][:t.minPre]] = true
		}
	}
}

// Match returns the departments and topics whose rules fire on text, and
// the rules that fired. It does not score sentiment.
func (t *Tagger) Match(text string) (departments, topics, matched []string) {
	s := t.scratch.Get().(*scratch)
	defer t.scratch.Put(s)
	s.toks.reset(text)
	toks := &s.toks
	hit := func(id int32) {
		if !s.hit[id] {
			s.hit[id] = true
			s.hits = append(s.hits, id)
		}
	}
	mark := func(ids []int32) {
		for _, id := range ids {
			hit(id)
		}
	}
	for i := range toks.list {
		w := toks.word(i)
		if e := t.index[string(w)]; e != nil {
			switch toks.list[i].sigil {
			case '@':
				mark(e.handles)
				continue // a handle is a name, not a word of the text
			case '#':
				mark(e.tags)
			}
			for _, id := range e.words {
				if t.phraseAt(toks, i, t.patterns[id].words) {
					hit(id)
				}
			}
		} else if toks.list[i].sigil == '@' {
			continue
		}
		if t.minPre > 0 && len(w) >= t.minPre && t.stemHead[string(w[:t.minPre])] {
			for l := t.minPre; l <= len(w); l++ {
				if l < len(w) && w[l]&0xC0 == 0x80 {
					continue // not a rune boundary
				}
				if e := t.index[string(w[:l])]; e != nil {
					mark(e.prefixes)
				}
			}
		}
	}
	if len(s.hits) == 0 {
		return nil, nil, nil
	}
	defer func() { s.hits = s.hits[:0] }()
	catHit := s.catHit
	clear(catHit)
	slices.Sort(s.hits) // rule order, so output does not depend on the text's word order
	for _, id := range s.hits {
		s.hit[id] = false
		p := &t.patterns[id]
		matched = append(matched, p.label)
		if catHit[p.cat] {
			continue
		}
		catHit[p.cat] = true
		if t.cats[p.cat].department {
			departments = append(departments, t.cats[p.cat].slug)
		} else {
			topics = append(topics, t.cats[p.cat].slug)
		}
	}
	sort.Strings(departments)
	sort.Strings(topics)
	return departments, topics, matched
}

// phraseAt says whether words occur as consecutive tokens from token i.
// Handles never take part in a phrase.
func (t *Tagger) phraseAt(toks *tokens, i int, words []string) bool {
	if i+len(words) > len(toks.list) {
		return false
	}
	for j := 1; j < len(words); j++ {
		if toks.list[i+j].sigil == '@' || string(toks.word(i+j)) != words[j] {
			return false
		}
	}
	return true
}

// Sentiment scores text with VADER.
func (t *Tagger) Sentiment(text string) Score {
	c := t.vader.Compound(text)
	switch {
	case c >= 0.05:
		return Score{Score: c, Label: Positive}
	case c <= -0.05:
		return Score{Score: c, Label: Negative}
	}
	return Score{Score: c, Label: Neutral}
}

// Tag runs every step on one mention.
func (t *Tagger) Tag(m *mention.Mention) Tags {
	d, tp, matched := t.Match(m.Text)
	return Tags{
		Departments: d,
		Topics:      tp,
		Matched:     matched,
		Sentiment:   t.Sentiment(m.Text),
		Lang:        m.Lang,
	}
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
