package sentiment

import (
	"fmt"
	"strings"
)

// Sentiment labels.
const (
	Negative = "negative"
	Neutral  = "neutral"
	Positive = "positive"
)

// Thresholds turn a score into a label: Positive at or above Positive,
// Negative at or below Negative, Neutral between. The zero value labels
// everything but 0 as positive or negative.
type Thresholds struct {
	Negative float64 // at most this: negative; in [-1, Positive]
	Positive float64 // at least this: positive; in [Negative, 1]
}

// VADERThresholds are VADER's published thresholds for its compound score
// (Hutto and Gilbert, 2014). On tweets they label too little as neutral;
// a Model carries its own defaults (Model.Thresholds).
var VADERThresholds = Thresholds{Negative: -0.05, Positive: 0.05}

// Validate reports whether th can label scores: both in [-1, 1], Negative
// not above Positive, neither NaN.
func (th Thresholds) Validate() error {
	if !(th.Negative >= -1 && th.Negative <= th.Positive && th.Positive <= 1) {
		return fmt.Errorf("sentiment thresholds negative %v, positive %v: want -1 ≤ negative ≤ positive ≤ 1", th.Negative, th.Positive)
	}
	return nil
}

// Label is the label of score: Positive, Neutral or Negative. A NaN score
// is neutral.
func (th Thresholds) Label(score float64) string {
	switch {
	case score >= th.Positive:
		return Positive
	case score <= th.Negative:
		return Negative
	}
	return Neutral
}

// Model scores text with VADER and a domain layer of public-sector words,
// phrases, sarcasm markers and emoji (see the package documentation). It
// is built from data in the format of publicsector.tsv, never changes
// afterwards, and is safe for concurrent use.
type Model struct {
	a       *Analyzer
	entries []modelEntry
	// starts lists, by word id, the entries whose first word has that id,
	// longest first.
	starts     [][]int32
	sarcasm    float64 // the factor on positive valences in a sarcastic mention
	thresholds Thresholds
	cls        *classifier // for public-sector mentions; nil without one
}

// modelEntry is a word, phrase or sarcasm marker, its words as ids.
type modelEntry struct {
	ids     [maxPhraseWords]uint16
	n       int
	val     float64
	sarcasm bool
}

// NewModel returns the built-in public-sector Model (publicsector.tsv,
// compiled in). It costs a few milliseconds, like New; build one and share
// it. It panics only if the embedded data is invalid, which the tests rule
// out.
func NewModel() *Model {
	m, err := loadModel(publicSector, publicSectorClassifier)
	if err != nil {
		panic(err)
	}
	return m
}

// LoadModel builds a Model from data in the format of publicsector.tsv. A
// line it cannot read is reported as a *DataError. Data without a sarcasm
// parameter leaves sarcastic praise alone (factor 1); without thresholds,
// the Model's are VADERThresholds. Empty data is plain VADER: Score is
// Compound. It costs a few milliseconds.
func LoadModel(data []byte) (*Model, error) {
	return loadModel(data, nil)
}

// loadModel is LoadModel with a classifier for public-sector mentions
// (the format of publicsector-classifier.tsv); nil for none.
func loadModel(data, classifierData []byte) (*Model, error) {
	md, err := parseModelData(data)
	if err != nil {
		return nil, err
	}
	var cls *classifier
	if classifierData != nil {
		if cls, err = parseClassifier(classifierData); err != nil {
			return nil, err
		}
	}
	ext := &extension{lexicon: map[string]float64{}, emoji: map[rune]string{}}
	for r, v := range md.emoji {
		ext.emoji[r] = string(r) // scored as a word of its own
		ext.lexicon[string(r)] = v
	}
	for _, r := range md.ignore {
		ext.emoji[r] = ""
	}
	for _, e := range md.entries {
		ext.words = append(ext.words, e.words...)
	}
	a := newAnalyzer(ext)
	m := &Model{a: a, sarcasm: md.sarcasm, thresholds: md.thresholds, cls: cls}
	if cls != nil {
		cls.index()
	}
	maxID := uint16(0)
	for _, de := range md.entries {
		me := modelEntry{n: len(de.words), val: de.val, sarcasm: de.sarcasm}
		for i, w := range de.words {
			if s := a.stripPunctuation(w); s != w {
				return nil, &DataError{Line: de.line, Text: strings.Join(de.words, " "),
					Reason: fmt.Sprintf("%q is not a word as VADER splits text (it reads %q)", w, s)}
			}
			e := a.words.find(w)
			if e < 0 || a.words.entries[e].id == 0 {
				return nil, fmt.Errorf("sentiment data line %d: internal error: %q has no id", de.line, w)
			}
			me.ids[i] = a.words.entries[e].id
			maxID = max(maxID, me.ids[i])
		}
		m.entries = append(m.entries, me)
	}
	m.starts = make([][]int32, int(maxID)+1)
	for i, e := range m.entries {
		m.starts[e.ids[0]] = append(m.starts[e.ids[0]], int32(i))
	}
	for _, s := range m.starts {
		// Longest first; stable, so that the order of the data decides
		// among equals (there are none: duplicates are refused).
		for i := 1; i < len(s); i++ {
			for j := i; j > 0 && m.entries[s[j]].n > m.entries[s[j-1]].n; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
	}
	return m, nil
}

// Thresholds returns the default thresholds of the model's data, chosen
// for its scores (see the package documentation for how).
func (m *Model) Thresholds() Thresholds {
	return m.thresholds
}

// Score returns the sentiment of text in [-1, 1]: VADER's compound score
// with the domain layer. It never panics; text without sentiment words
// scores 0. It costs a little more than Compound and does not allocate.
func (m *Model) Score(text string) float64 {
	return normalize(m.sum(text))
}

// Classify scores text and labels the score with th.
func (m *Model) Classify(text string, th Thresholds) (score float64, label string) {
	score = m.Score(text)
	return score, th.Label(score)
}

// match finds the entries in d's words, longest first at each word, in
// text order, and sets the valences they give: the last word of an entry
// carries its valence and the others none. Empty words (double spaces)
// are skipped within a phrase. It reports whether a sarcasm marker
// matched.
func (m *Model) match(d *doc) (sarcastic bool) {
	toks := d.toks
	var pos [maxPhraseWords]int
	for i := 0; i < len(toks); i++ {
		id := toks[i].id
		if id == 0 || int(id) >= len(m.starts) || toks[i].n == 0 {
			continue
		}
		for _, ei := range m.starts[id] {
			e := &m.entries[ei]
			pos[0] = i
			k := 1
			for j := i + 1; k < e.n && j < len(toks); j++ {
				if toks[j].n == 0 {
					continue
				}
				if toks[j].id != e.ids[k] {
					break
				}
				pos[k] = j
				k++
			}
			if k < e.n {
				continue
			}
			for _, p := range pos[:e.n-1] {
				t := &toks[p]
				t.flags = (t.flags &^ (inLexicon | isBooster | isNegate | tokOrigLex)) | tokOrigDone
				t.kind = 0
			}
			t := &toks[pos[e.n-1]]
			t.kind = 0
			t.val = e.val
			t.flags = (t.flags &^ (inLexicon | isBooster | isNegate | tokOrigLex)) | tokOrigDone | tokOverride
			if e.val != 0 {
				t.flags |= inLexicon | tokOrigLex
			}
			sarcastic = sarcastic || e.sarcasm
			i = pos[e.n-1]
			break
		}
	}
	return sarcastic
}

// sum is VADER's sum of valences with the domain layer, before
// normalisation: Compound's, with the entries' valences and sarcasm
// turning praise round.
func (m *Model) sum(text string) float64 {
	a := m.a
	sc := a.pool.Get().(*scratch)
	d := a.parse(sc, text)
	sum := m.sumDoc(&d)
	a.release(sc)
	return sum
}

// sumDoc is sum of a parsed text.
func (m *Model) sumDoc(d *doc) float64 {
	sarcastic := m.match(d)
	butIdx := d.valences()
	sum := 0.0
	for i := range d.toks {
		v := d.toks[i].val
		if sarcastic && v > 0 {
			v *= m.sarcasm
		}
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
	return sum
}
