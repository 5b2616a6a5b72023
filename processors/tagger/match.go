package tagger

import (
	"math/bits"
	"strings"
)

// scratch is the per-call state of matching, reused through Tagger.scratch.
// Everything set during a call is reset before it is put back.
type scratch struct {
	toks    tokens
	head    []int32      // by leaf: index in occ of its last occurrence; -1: none
	occ     []occurrence // every occurrence of every leaf, in text order
	touched []int32      // leaves that occurred, in order of first occurrence
	fired   []uint64     // bit set of the rules that fired, so they come out in order
	nfired  int
	queued  []bool   // by rule: queued for evaluation
	cands   []int32  // rules to evaluate
	catHit  []uint64 // bit set of categories, by Tagger.catRank
}

// occurrence is one place a leaf occurs: tokens first..last.
type occurrence struct {
	first, last int32
	prev        int32 // the leaf's previous occurrence in occ; -1: none
}

func (t *Tagger) newScratch() *scratch {
	s := &scratch{
		head:   make([]int32, len(t.leaves)),
		fired:  make([]uint64, (len(t.rules)+63)/64),
		queued: make([]bool, len(t.rules)),
		catHit: make([]uint64, (len(t.cats)+63)/64),
	}
	for i := range s.head {
		s.head[i] = -1
	}
	return s
}

// reset forgets the last text's occurrences and rules.
func (s *scratch) reset() {
	for _, l := range s.touched {
		s.head[l] = -1
	}
	for _, r := range s.cands {
		s.queued[r] = false
	}
	if s.nfired > 0 {
		clear(s.fired)
		s.nfired = 0
	}
	s.touched, s.occ, s.cands = s.touched[:0], s.occ[:0], s.cands[:0]
}

func (s *scratch) occur(l int32, first, last int) {
	if s.head[l] < 0 {
		s.touched = append(s.touched, l)
	}
	s.occ = append(s.occ, occurrence{first: int32(first), last: int32(last), prev: s.head[l]})
	s.head[l] = int32(len(s.occ) - 1)
}

func (s *scratch) fire(r int32) {
	w, bit := r>>6, uint64(1)<<(r&63)
	if s.fired[w]&bit == 0 {
		s.fired[w] |= bit
		s.nfired++
	}
}

// Match returns the departments and topics whose rules fire on text, and
// the rules that fired, with no fields: rules that need a platform:, kind:,
// lang: or author: filter to hold do not fire. It does not score sentiment.
func (t *Tagger) Match(text string) (departments, topics, matched []string) {
	return t.MatchFields(text, Fields{})
}

// MatchFields returns the departments and topics whose rules fire on text
// with fields f, and the rules that fired as "slug:rule" in taxonomy order;
// departments and topics are sorted. All three are nil when nothing fires.
// It costs one pass over the words of text, plus the evaluation of the
// boolean rules that one of their required leaves made candidates; it
// allocates only the three slices it returns.
func (t *Tagger) MatchFields(text string, f Fields) (departments, topics, matched []string) {
	s := t.scratch.Get().(*scratch)
	defer t.scratch.Put(s)
	defer s.reset()
	t.scan(s, text)
	if len(s.touched) == 0 {
		return nil, nil, nil
	}
	t.fireAll(s, &f)
	if s.nfired == 0 {
		return nil, nil, nil
	}
	matched = make([]string, 0, s.nfired)
	clear(s.catHit)
	nd, nt := 0, 0
	for w, set := range s.fired {
		for set != 0 {
			r := &t.rules[w<<6+bits.TrailingZeros64(set)]
			set &= set - 1
			matched = append(matched, r.label)
			rank := t.catRank[r.cat]
			if bit := uint64(1) << (rank & 63); s.catHit[rank>>6]&bit == 0 {
				s.catHit[rank>>6] |= bit
				if int(rank) < t.ndepts {
					nd++
				} else {
					nt++
				}
			}
		}
	}
	if nd > 0 {
		departments = make([]string, 0, nd)
	}
	if nt > 0 {
		topics = make([]string, 0, nt)
	}
	for w, set := range s.catHit {
		for set != 0 {
			rank := w<<6 + bits.TrailingZeros64(set)
			set &= set - 1
			if slug := t.cats[t.byRank[rank]].slug; rank < t.ndepts {
				departments = append(departments, slug)
			} else {
				topics = append(topics, slug)
			}
		}
	}
	return departments, topics, matched
}

// scan tokenizes text and records where each leaf occurs.
func (t *Tagger) scan(s *scratch, text string) {
	s.toks.reset(text)
	toks := &s.toks
	for i := range toks.list {
		w := toks.word(i)
		sigil := toks.list[i].sigil
		if ei, ok := t.index.Get(w); ok {
			e := &t.entries[ei]
			switch sigil {
			case '@':
				for _, l := range e.handles {
					s.occur(l, i, i)
				}
				continue // a handle is a name, not a word of the text
			case '#':
				for _, l := range e.tags {
					s.occur(l, i, i)
				}
			}
			for _, l := range e.words {
				if n := len(t.leaves[l].words); n == 1 || phraseAt(toks, i, t.leaves[l].words) {
					s.occur(l, i, i+n-1)
				}
			}
		} else if sigil == '@' {
			continue
		}
		if t.minPre > 0 && len(w) >= t.minPre && t.hasStemHead(w[:t.minPre]) {
			for n := t.minPre; n <= min(len(w), t.maxPre); n++ {
				if n < len(w) && w[n]&0xC0 == 0x80 {
					continue // not a rune boundary
				}
				if ei, ok := t.index.Get(w[:n]); ok {
					for _, l := range t.entries[ei].prefixes {
						s.occur(l, i, i)
					}
				}
			}
		}
	}
}

// hasStemHead says whether a wildcard stem starts with head.
func (t *Tagger) hasStemHead(head []byte) bool {
	_, ok := t.stemHead.Get(head)
	return ok
}

// phraseAt says whether words occur as consecutive tokens from token i.
// Handles never take part in a phrase.
func phraseAt(toks *tokens, i int, words []string) bool {
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

// fireAll collects the rules that hold once scan has run: those fired by
// a leaf directly, then the candidates that evaluate true.
func (t *Tagger) fireAll(s *scratch, f *Fields) {
	for _, l := range s.touched {
		lf := &t.leaves[l]
		for _, r := range lf.direct {
			s.fire(r)
		}
		for _, r := range lf.trig {
			if !s.queued[r] {
				s.queued[r] = true
				s.cands = append(s.cands, r)
			}
		}
	}
	for _, r := range s.cands {
		if s.eval(t.rules[r].root, f) {
			s.fire(r)
		}
	}
}

// eval says whether e holds for the leaves scan found and fields f.
func (s *scratch) eval(e *expr, f *Fields) bool {
	switch e.op {
	case opText:
		return s.head[e.leaf] >= 0
	case opFilter:
		return f.has(e)
	case opAnd:
		for _, k := range e.kids {
			if !s.eval(k, f) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range e.kids {
			if s.eval(k, f) {
				return true
			}
		}
		return false
	case opNot:
		return !s.eval(e.kids[0], f)
	case opNear:
		d, _, _ := s.nearest(e)
		return d >= 0 && d <= e.near
	}
	return false
}

// nearest returns the smallest distance in words between an occurrence of
// a leaf of one side of a NEAR node and one of the other, and the two
// occurrences; -1 when there is no such pair. Overlapping occurrences are
// not a pair.
func (s *scratch) nearest(e *expr) (dist int, a, b occurrence) {
	dist = -1
	for _, la := range e.sides[0] {
		for i := s.head[la]; i >= 0; i = s.occ[i].prev {
			x := s.occ[i]
			for _, lb := range e.sides[1] {
				for j := s.head[lb]; j >= 0; j = s.occ[j].prev {
					y := s.occ[j]
					var d int32
					switch {
					case x.last < y.first:
						d = y.first - x.last
					case y.last < x.first:
						d = x.first - y.last
					default:
						continue
					}
					if dist < 0 || int(d) < dist {
						dist, a, b = int(d), x, y
					}
				}
			}
		}
	}
	return dist, a, b
}

// has says whether filter e holds for f.
func (f *Fields) has(e *expr) bool {
	switch e.field {
	case fieldPlatform:
		return strings.EqualFold(f.Platform, e.value) || e.value == "twitter" && strings.EqualFold(f.Platform, "x")
	case fieldKind:
		return strings.EqualFold(f.Kind, e.value)
	case fieldLang:
		v, l := e.value, f.Lang
		return strings.EqualFold(l, v) || len(l) > len(v) && (l[len(v)] == '-' || l[len(v)] == '_') && strings.EqualFold(l[:len(v)], v)
	case fieldAuthor:
		return f.AuthorID == e.value || strings.EqualFold(strings.TrimPrefix(f.AuthorHandle, "@"), e.value)
	}
	return false
}
