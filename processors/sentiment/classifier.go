package sentiment

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// publicSectorClassifier is the built-in classifier for public-sector
// mentions (see the package documentation, "The classifier"): weights
// learned by TestClassifierData from the labelled mentions, kept as data.
//
//go:embed publicsector-classifier.tsv
var publicSectorClassifier []byte

// Fingerprint identifies the built-in model's data (publicsector.tsv and
// publicsector-classifier.tsv): the hex SHA-256 of both. A tagging
// version that includes it changes when the sentiment model does, so that
// `govlisten retag` scores stored mentions again.
func Fingerprint() string { return fingerprint() }

var fingerprint = sync.OnceValue(func() string {
	h := sha256.New()
	h.Write(publicSector)
	h.Write([]byte{0})
	h.Write(publicSectorClassifier)
	return hex.EncodeToString(h.Sum(nil))
})

// Classes of the classifier, in the order of its weights.
const (
	classNegative = iota
	classNeutral
	classPositive
	numClasses
)

// classifier is a multinomial logistic regression over the Model's score
// and the words of a mention: the logit of class c is
//
//	bias[c] + score[c]·s + score2[c]·s² + Σ word[w][c]
//
// for s the Model's score and w each distinct word of the mention
// (classifierWords) that has weights.
type classifier struct {
	bias, score, score2 [numClasses]float64
	words               map[string][numClasses]float64
	// table finds a word's row of rows, by the word's index in it.
	table *wordTable
	rows  [][numClasses]float64
}

// parseClassifier reads the format of publicsector-classifier.tsv: lines
// "bias", "score" and "score2" with three weights (negative, neutral,
// positive), and "word WORD" lines with three weights; '#' comments.
func parseClassifier(data []byte) (*classifier, error) {
	c := &classifier{words: map[string][numClasses]float64{}}
	var haveBias, haveScore, haveScore2 bool
	for n, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		bad := func(reason string) error {
			return &DataError{Line: n + 1, Text: text, Reason: reason}
		}
		var w [numClasses]float64
		weights := func(fs []string) error {
			if len(fs) != numClasses {
				return bad(fmt.Sprintf("want %d weights (negative, neutral, positive), have %d", numClasses, len(fs)))
			}
			for i, s := range fs {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 100 {
					return bad(fmt.Sprintf("weight %q is not a number in [-100, 100]", s))
				}
				w[i] = v
			}
			return nil
		}
		switch f[0] {
		case "bias", "score", "score2":
			if err := weights(f[1:]); err != nil {
				return nil, err
			}
			switch f[0] {
			case "bias":
				c.bias, haveBias = w, true
			case "score":
				c.score, haveScore = w, true
			default:
				c.score2, haveScore2 = w, true
			}
		case "word":
			if len(f) < 2 {
				return nil, bad("a word line needs the word and three weights")
			}
			if err := weights(f[2:]); err != nil {
				return nil, err
			}
			if f[1] != strings.ToLower(f[1]) {
				return nil, bad(fmt.Sprintf("%q is not lower-case", f[1]))
			}
			if _, dup := c.words[f[1]]; dup {
				return nil, bad(fmt.Sprintf("%q is given twice", f[1]))
			}
			c.words[f[1]] = w
		default:
			return nil, bad(fmt.Sprintf("unknown kind %q (want bias, score, score2 or word)", f[0]))
		}
	}
	if !haveBias || !haveScore || !haveScore2 {
		return nil, &DataError{Text: "bias, score, score2", Reason: "the classifier needs all three lines"}
	}
	return c, nil
}

// index builds table and rows from words.
func (c *classifier) index() {
	m := make(map[string]wordInfo, len(c.words))
	for w := range c.words {
		m[w] = wordInfo{}
	}
	c.table = newWordTable(m)
	c.rows = make([][numClasses]float64, len(c.table.entries))
	for w, v := range c.words {
		c.rows[c.table.find(w)] = v
	}
}

// wordByte is, for an ASCII byte, what a word holds of it: the lower-case
// letter, the apostrophe, or 0 for a byte that ends a word.
var wordByte = func() (t [utf8.RuneSelf]byte) {
	for c := byte('a'); c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = c, c
	}
	t['\''] = '\''
	return t
}()

// nextWord reads the next word of text from byte i on, as the classifier
// reads a mention, in training as in use: a run of letters and
// apostrophes, lower-cased, apostrophes trimmed from both ends, of two
// bytes or more. It builds the word in buf and returns it (nil when text
// has no more words), the grown buf, and the byte after the word.
func nextWord(text string, i int, buf []byte) (word, grown []byte, next int) {
	for i < len(text) {
		buf = buf[:0]
		for i < len(text) {
			if b := text[i]; b < utf8.RuneSelf {
				i++
				if w := wordByte[b]; w != 0 {
					buf = append(buf, w)
					continue
				}
				break
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			i += n
			if r != utf8.RuneError {
				r = unicode.ToLower(r)
			}
			if r == utf8.RuneError || !unicode.IsLetter(r) {
				break
			}
			buf = utf8.AppendRune(buf, r)
		}
		w := buf
		for len(w) > 0 && w[0] == '\'' {
			w = w[1:]
		}
		for len(w) > 0 && w[len(w)-1] == '\'' {
			w = w[:len(w)-1]
		}
		if len(w) > 1 {
			return w, buf, i
		}
	}
	return nil, buf, i
}

// classifierWords calls fn with every word of text (nextWord), in order;
// fn's word is buf's memory, valid until fn returns. It returns the grown
// buf.
func classifierWords(buf []byte, text string, fn func(w []byte)) []byte {
	var w []byte
	for i := 0; ; {
		if w, buf, i = nextWord(text, i, buf); w == nil {
			return buf
		}
		fn(w)
	}
}

// probabilities are the classes' probabilities for a mention of score s
// whose distinct words have rows.
func (c *classifier) probabilities(s float64, rows []int32) [numClasses]float64 {
	var z [numClasses]float64
	for k := range numClasses {
		z[k] = c.bias[k] + c.score[k]*s + c.score2[k]*s*s
	}
	for _, r := range rows {
		w := &c.rows[r]
		for k := range numClasses {
			z[k] += w[k]
		}
	}
	return softmax(z)
}

// rowsOf appends to rows the row of every distinct word of text
// (nextWord) that has one; seen is a bitset over rows, all clear on entry
// and on return. buf is scratch space; both grown slices are returned.
func (c *classifier) rowsOf(text string, buf []byte, rows []int32, seen []uint64) ([]byte, []int32) {
	var w []byte
	for i := 0; ; {
		if w, buf, i = nextWord(text, i, buf); w == nil {
			break
		}
		if e := c.table.find(bytesToString(w)); e >= 0 && seen[e/64]&(1<<(e%64)) == 0 {
			seen[e/64] |= 1 << (e % 64)
			rows = append(rows, int32(e))
		}
	}
	for _, r := range rows {
		seen[r/64] = 0
	}
	return buf, rows
}

func softmax(z [numClasses]float64) [numClasses]float64 {
	m := max(z[0], z[1], z[2])
	var p [numClasses]float64
	sum := 0.0
	for k := range numClasses {
		p[k] = math.Exp(z[k] - m)
		sum += p[k]
	}
	for k := range numClasses {
		p[k] /= sum
	}
	return p
}

// ScorePublicSector returns the sentiment of a mention known to be about
// government (the taxonomy tagged it with a department or topic), in
// [-1, 1]: the classifier's probability of positive minus that of
// negative, from the Model's score and the mention's words (see the
// package documentation, "The classifier"). Without a classifier (a Model
// from LoadModel) it is Score. It never panics and does not allocate.
func (m *Model) ScorePublicSector(text string) float64 {
	s := m.Score(text)
	if m.cls == nil {
		return s
	}
	a := m.a
	sc := a.pool.Get().(*scratch)
	if n := (len(m.cls.rows) + 63) / 64; len(sc.seen) < n {
		sc.seen = make([]uint64, n)
	}
	sc.runes, sc.rows = m.cls.rowsOf(text, sc.runes, sc.rows[:0], sc.seen)
	rows := sc.rows
	p := m.cls.probabilities(s, rows)
	a.release(sc)
	return p[classPositive] - p[classNegative]
}

// ClassifyPublicSector is ScorePublicSector with the score labelled by th.
func (m *Model) ClassifyPublicSector(text string, th Thresholds) (score float64, label string) {
	score = m.ScorePublicSector(text)
	return score, th.Label(score)
}
