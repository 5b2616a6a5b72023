package tagger

import (
	"fmt"
	"strings"
)

// Explanation says why one rule fired on a text, or why not.
type Explanation struct {
	Slug       string
	Department bool // else a topic
	Index      int  // 0-based position of the rule in its category
	Rule       string
	Fired      bool
	// Leaves are the text operands of the rule that occur in the text, in
	// the order the rule writes them.
	Leaves []LeafHit
	// Reason says why the rule fired, or what stopped it: a leaf that did
	// not occur, a NOT that excluded it, a NEAR whose closest pair was too
	// far apart, a field filter that did not hold.
	Reason string
}

// LeafHit is one text operand of a rule and where it occurs.
type LeafHit struct {
	Leaf string // as written in the rule
	At   []Occurrence
}

// Occurrence is one place a leaf occurs in the text.
type Occurrence struct {
	First, Last int    // 1-based word numbers (the same for a single word)
	Text        string // the words as written in the text
}

func (o Occurrence) String() string {
	if o.First == o.Last {
		return fmt.Sprintf("word %d %q", o.First, o.Text)
	}
	return fmt.Sprintf("words %d-%d %q", o.First, o.Last, o.Text)
}

// Explain says, for every rule that fired on text with fields f or that
// has any leaf occurring in it, which of its leaves occur where, and why it
// fired or not, in taxonomy order. The rules it says fired are exactly the
// ones MatchFields reports. It is meant for people writing rules, not for
// the hot path: it allocates freely.
func (t *Tagger) Explain(text string, f Fields) []Explanation {
	s := t.newScratch()
	t.scan(s, text)
	x := explainer{s: s, text: text, f: &f}
	var out []Explanation
	for id := range t.rules {
		r := &t.rules[id]
		x.rule = r.text
		var hits []LeafHit
		seen := map[int32]bool{}
		r.root.walk(func(e *expr) {
			if e.op != opText || seen[e.leaf] || s.head[e.leaf] < 0 {
				return
			}
			seen[e.leaf] = true
			hits = append(hits, LeafHit{Leaf: r.text[e.pos:e.end], At: x.occurrences(e.leaf)})
		})
		if len(hits) == 0 {
			continue // nothing of it occurs, so it cannot fire
		}
		fired, why := x.eval(r.root)
		c := t.cats[r.cat]
		out = append(out, Explanation{Slug: c.slug, Department: c.department, Index: r.index, Rule: r.text, Fired: fired, Leaves: hits, Reason: why})
	}
	return out
}

func (e *expr) walk(fn func(*expr)) {
	fn(e)
	for _, k := range e.kids {
		k.walk(fn)
	}
}

// explainer evaluates one rule as scratch.eval does, saying why.
type explainer struct {
	s    *scratch
	text string
	f    *Fields
	rule string
}

func (x *explainer) occurrences(l int32) []Occurrence {
	var at []Occurrence
	for i := x.s.head[l]; i >= 0; i = x.s.occ[i].prev {
		at = append(at, x.occurrence(x.s.occ[i]))
	}
	for i, j := 0, len(at)-1; i < j; i, j = i+1, j-1 {
		at[i], at[j] = at[j], at[i]
	}
	return at
}

func (x *explainer) occurrence(o occurrence) Occurrence {
	toks := x.s.toks.list
	return Occurrence{First: int(o.first) + 1, Last: int(o.last) + 1, Text: x.text[toks[o.first].srcStart:toks[o.last].srcEnd]}
}

func (x *explainer) src(e *expr) string { return x.rule[e.pos:e.end] }

func (x *explainer) eval(e *expr) (bool, string) {
	switch e.op {
	case opText:
		if x.s.head[e.leaf] < 0 {
			return false, x.src(e) + " does not occur"
		}
		return true, fmt.Sprintf("%s occurs (%s)", x.src(e), x.occurrence(x.first(e.leaf)))
	case opFilter:
		if x.f.has(e) {
			return true, x.src(e) + " holds"
		}
		v := [...]string{fieldPlatform: x.f.Platform, fieldLang: x.f.Lang, fieldKind: x.f.Kind, fieldAuthor: x.f.AuthorHandle}[e.field]
		if v == "" {
			return false, fmt.Sprintf("%s does not hold: the %s is not known", x.src(e), fieldNames[e.field])
		}
		return false, fmt.Sprintf("%s does not hold: the %s is %q", x.src(e), fieldNames[e.field], v)
	case opAnd:
		var why []string
		for _, k := range e.kids {
			ok, w := x.eval(k)
			if !ok {
				return false, w
			}
			why = append(why, w)
		}
		return true, strings.Join(why, "; ")
	case opOr:
		var why []string
		for _, k := range e.kids {
			ok, w := x.eval(k)
			if ok {
				return true, w
			}
			why = append(why, w)
		}
		return false, "no alternative of " + x.src(e) + " holds: " + strings.Join(why, "; ")
	case opNot:
		ok, w := x.eval(e.kids[0])
		if ok {
			return false, fmt.Sprintf("NOT %s excluded it: %s", x.src(e.kids[0]), w)
		}
		return true, w
	case opNear:
		name := fmt.Sprintf("NEAR/%d", e.near)
		for i, k := range e.kids {
			if !x.any(e.sides[i]) {
				return false, fmt.Sprintf("%s: %s does not occur", name, x.src(k))
			}
		}
		d, a, b := x.s.nearest(e)
		switch {
		case d < 0:
			return false, fmt.Sprintf("%s: %s and %s occur only overlapping", name, x.src(e.kids[0]), x.src(e.kids[1]))
		case d > e.near:
			return false, fmt.Sprintf("%s: the closest %s and %s are %d words apart (%s, %s)", name, x.src(e.kids[0]), x.src(e.kids[1]), d, x.occurrence(a), x.occurrence(b))
		}
		return true, fmt.Sprintf("%s: %s and %s are %d words apart (%s, %s)", name, x.src(e.kids[0]), x.src(e.kids[1]), d, x.occurrence(a), x.occurrence(b))
	}
	return false, "?"
}

func (x *explainer) any(leaves []int32) bool {
	for _, l := range leaves {
		if x.s.head[l] >= 0 {
			return true
		}
	}
	return false
}

// first returns the first occurrence of leaf l in the text.
func (x *explainer) first(l int32) occurrence {
	i := x.s.head[l]
	for x.s.occ[i].prev >= 0 {
		i = x.s.occ[i].prev
	}
	return x.s.occ[i]
}
