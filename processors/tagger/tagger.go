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
	words    map[string][]int32 // first word -> patterns (terms and phrases)
	handles  map[string][]int32
	tags     map[string][]int32
	prefixes map[string][]int32
	minPre   int // shortest wildcard stem, in bytes
	vader    *sentiment.Analyzer
	scratch  sync.Pool
}

type scratch struct {
	toks   tokens
	hit    []bool // by pattern
	catHit []bool // by category
}

// New compiles a taxonomy. The error is a *RuleError for the first rule that
// does not parse, or names the duplicate or empty slug.
func New(tx *Taxonomy) (*Tagger, error) {
	t := &Tagger{
		words:    map[string][]int32{},
		handles:  map[string][]int32{},
		tags:     map[string][]int32{},
		prefixes: map[string][]int32{},
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
			t.index(p)
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
	t.scratch.New = func() any {
		return &scratch{hit: make([]bool, len(t.patterns)), catHit: make([]bool, len(t.cats))}
	}
	return t, nil
}

func (t *Tagger) index(p pattern) {
	id := int32(len(t.patterns))
	t.patterns = append(t.patterns, p)
	key := p.words[0]
	switch p.kind {
	case kindWords:
		t.words[key] = append(t.words[key], id)
	case kindHandle:
		t.handles[key] = append(t.handles[key], id)
	case kindTag:
		t.tags[key] = append(t.tags[key], id)
	case kindPrefix:
		t.prefixes[key] = append(t.prefixes[key], id)
		if t.minPre == 0 || len(key) < t.minPre {
			t.minPre = len(key)
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
	any := false
	mark := func(ids []int32) {
		for _, id := range ids {
			s.hit[id] = true
			any = true
		}
	}
	for i := range toks.list {
		w := toks.word(i)
		switch toks.list[i].sigil {
		case '@':
			mark(t.handles[string(w)])
			continue
		case '#':
			mark(t.tags[string(w)])
		}
		for _, id := range t.words[string(w)] {
			if t.phraseAt(toks, i, t.patterns[id].words) {
				s.hit[id] = true
				any = true
			}
		}
		if t.minPre > 0 {
			for l := t.minPre; l <= len(w); l++ {
				if l < len(w) && w[l]&0xC0 == 0x80 {
					continue // not a rune boundary
				}
				mark(t.prefixes[string(w[:l])])
			}
		}
	}
	if !any {
		return nil, nil, nil
	}
	catHit := s.catHit
	clear(catHit)
	for id, h := range s.hit {
		if !h {
			continue
		}
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
