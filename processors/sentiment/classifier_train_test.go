package sentiment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"slices"
	"testing"
)

var updateClassifier = flag.Bool("update-classifier", false, "rewrite publicsector-classifier.tsv from the labelled mentions")

// trainingSets are the labelled public-sector mentions the classifier
// learns from: this package's domain set and the tagger's evaluation sets
// that rules were tuned on before the classifier was trained. The
// tagger's later holdouts (holdout5.jsonl, holdout6.jsonl) are never
// trained on; package evaluation measures the classifier on them.
var trainingSets = []string{
	"testdata/domain.jsonl",
	"../tagger/evaluation/testdata/mentions.jsonl",
	"../tagger/evaluation/testdata/holdout.jsonl",
	"../tagger/evaluation/testdata/holdout2.jsonl",
	"../tagger/evaluation/testdata/holdout3.jsonl",
	"../tagger/evaluation/testdata/holdout4.jsonl",
}

// Training: every word in at least minDocs mentions gets weights; stochastic
// gradient descent over the mentions in file order (so the result is the
// same every run), epochs passes at rate learnRate, each mention weighed
// by the inverse of its class's frequency (the metric is macro-averaged
// recall), and an L2 penalty of l2 on the words' weights. minDocs and l2
// were chosen by 5-fold cross-validation on the training sets among
// minDocs 2, 3, 5 and l2 0.001 to 0.03 (TestClassifierData logs the
// chosen pair's cross-validated score).
const (
	minDocs   = 2
	l2        = 0.01
	epochs    = 60
	learnRate = 0.1
)

type example struct {
	text  string
	label int
}

func loadTraining(t *testing.T) []example {
	t.Helper()
	var out []example
	for _, path := range trainingSets {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct{ Text, Sentiment, Lang string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if r.Lang != "" && r.Lang != "en" {
				continue // the Model scores English
			}
			c := classIndex(r.Sentiment)
			if c < 0 {
				t.Fatalf("%s: sentiment %q", path, r.Sentiment)
			}
			out = append(out, example{r.Text, c})
		}
		f.Close()
	}
	// A fixed shuffle, so that stochastic gradient descent does not see
	// the sets one after the other (and every run sees the same order).
	slices.SortStableFunc(out, func(a, b example) int { return cmpHash(a.text, b.text) })
	return out
}

func cmpHash(a, b string) int {
	ha, hb := fnv.New64a(), fnv.New64a()
	ha.Write([]byte(a))
	hb.Write([]byte(b))
	x, y := ha.Sum64(), hb.Sum64()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// tokenWords are the distinct words of text as the classifier reads them
// (classifierWords), sorted.
func tokenWords(_ *Model, text string) []string {
	var ws []string
	classifierWords(nil, text, func(w []byte) { ws = append(ws, string(w)) })
	slices.Sort(ws)
	return slices.Compact(ws)
}

// train fits a classifier to examples.
func train(base *Model, examples []example) *classifier {
	words := make([][]string, len(examples))
	docs := map[string]int{}
	for i, e := range examples {
		words[i] = tokenWords(base, e.text)
		for _, w := range words[i] {
			docs[w]++
		}
	}
	vocab := map[string]int{}
	var names []string
	for w, n := range docs {
		if n >= minDocs {
			names = append(names, w)
		}
	}
	slices.Sort(names)
	for i, w := range names {
		vocab[w] = i
	}
	weights := make([][numClasses]float64, len(names))
	feats := make([][]int, len(examples))
	scores := make([]float64, len(examples))
	var count [numClasses]float64
	for i, e := range examples {
		for _, w := range words[i] {
			if j, ok := vocab[w]; ok {
				feats[i] = append(feats[i], j)
			}
		}
		scores[i] = base.Score(e.text)
		count[e.label]++
	}
	c := &classifier{}
	decay := l2 * float64(len(examples)) / 100
	for range epochs {
		for i, e := range examples {
			s := scores[i]
			var z [numClasses]float64
			for k := range numClasses {
				z[k] = c.bias[k] + c.score[k]*s + c.score2[k]*s*s
				for _, j := range feats[i] {
					z[k] += weights[j][k]
				}
			}
			p := softmax(z)
			weight := float64(len(examples)) / (numClasses * count[e.label])
			for k := range numClasses {
				g := p[k]
				if k == e.label {
					g--
				}
				g *= weight
				c.bias[k] -= learnRate * g
				c.score[k] -= learnRate * g * s
				c.score2[k] -= learnRate * g * s * s
				for _, j := range feats[i] {
					weights[j][k] -= learnRate * (g + decay*weights[j][k])
				}
			}
		}
	}
	c.words = make(map[string][numClasses]float64, len(names))
	for i, w := range names {
		c.words[w] = weights[i]
	}
	return c
}

// wordList is c's words in order.
func (c *classifier) wordList() []string {
	ws := make([]string, 0, len(c.words))
	for w := range c.words {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	return ws
}

// format writes c in the format of publicsector-classifier.tsv.
func (c *classifier) format(n int, cv float64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# The classifier for public-sector mentions: weights learned from %d
# labelled mentions (processors/sentiment's TestClassifierData trains them;
# go test ./processors/sentiment -run TestClassifierData -args -update-classifier
# rewrites this file). Do not edit by hand. The package documentation says
# what they mean. Cross-validated macro-averaged recall on the training
# mentions (5 folds): %.3f.
#
#   bias    NEG NEU POS     the logits' constants
#   score   NEG NEU POS     times the Model's score s
#   score2  NEG NEU POS     times s squared
#   word    WORD NEG NEU POS  added when the mention has WORD (a run of
#                           letters and apostrophes, lower-cased; once a mention)

`, n, cv)
	line := func(kind string, w [numClasses]float64) {
		fmt.Fprintf(&b, "%s\t%.5f\t%.5f\t%.5f\n", kind, w[0], w[1], w[2])
	}
	line("bias", c.bias)
	line("score", c.score)
	line("score2", c.score2)
	for _, w := range c.wordList() {
		line("word\t"+w, c.words[w])
	}
	return b.Bytes()
}

// reference is c's score of text from its word map, as training sees it:
// what Model.ScorePublicSector must give.
func (c *classifier) reference(base *Model, text string) float64 {
	z := c.bias
	s := base.Score(text)
	for k := range numClasses {
		z[k] += c.score[k]*s + c.score2[k]*s*s
	}
	for _, w := range tokenWords(base, text) {
		if v, ok := c.words[w]; ok {
			for k := range numClasses {
				z[k] += v[k]
			}
		}
	}
	p := softmax(z)
	return p[classPositive] - p[classNegative]
}

// macroRecall labels examples with c on base's scores, by th.
func macroRecall(base *Model, c *classifier, examples []example, th Thresholds) float64 {
	pred := make([]int, len(examples))
	labels := make([]int, len(examples))
	for i, e := range examples {
		pred[i], labels[i] = classIndex(th.Label(c.reference(base, e.text))), e.label
	}
	return evaluate(pred, labels).macro
}

// The committed classifier is what training on the labelled mentions
// gives, and the Model carrying it scores like the training code.
func TestClassifierData(t *testing.T) {
	base, err := LoadModel(publicSector)
	if err != nil {
		t.Fatal(err)
	}
	examples := loadTraining(t)
	th := base.Thresholds()
	cv := 0.0
	for fold := range 5 {
		var tr, te []example
		for i, e := range examples {
			if i%5 == fold {
				te = append(te, e)
			} else {
				tr = append(tr, e)
			}
		}
		cv += macroRecall(base, train(base, tr), te, th) / 5
	}
	t.Logf("%d training mentions; 5-fold cross-validated macro-averaged recall %.3f", len(examples), cv)
	c := train(base, examples)
	want := c.format(len(examples), cv)
	if *updateClassifier {
		if err := os.WriteFile("publicsector-classifier.tsv", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote publicsector-classifier.tsv: %d words", len(c.words))
	}
	got, err := parseClassifier(publicSectorClassifier)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a, b [numClasses]float64) bool {
		for k := range numClasses {
			if math.Abs(a[k]-b[k]) > 1e-3 {
				return false
			}
		}
		return true
	}
	if len(got.words) != len(c.words) || !near(got.bias, c.bias) || !near(got.score, c.score) || !near(got.score2, c.score2) {
		t.Fatalf("publicsector-classifier.tsv is not what training gives (%d words, want %d): run go test ./processors/sentiment -run TestClassifierData -args -update-classifier", len(got.words), len(c.words))
	}
	for w, v := range c.words {
		if !near(got.words[w], v) {
			t.Fatalf("publicsector-classifier.tsv: word %q has %v, training gives %v: run with -args -update-classifier", w, got.words[w], v)
		}
	}
	// The built-in Model scores as the training code does.
	m := NewModel()
	for _, e := range examples[:200] {
		if want, have := got.reference(base, e.text), m.ScorePublicSector(e.text); math.Abs(want-have) > 1e-9 {
			t.Errorf("ScorePublicSector(%q) = %v, the weights give %v", e.text, have, want)
		}
	}
}
