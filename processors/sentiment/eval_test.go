package sentiment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The evaluation: how well labels agree with people's on the TweetEval
// sentiment validation split and on public-sector mentions, for plain
// VADER and for the Model, printed as a table (go test -run TestEvaluation
// -v) and held above floors set a little below the measured figures, so
// that a regression fails.

// Classes, in TweetEval's order.

// classIndex is the class of a label, or -1.
func classIndex(label string) int {
	switch label {
	case Negative:
		return classNegative
	case Neutral:
		return classNeutral
	case Positive:
		return classPositive
	}
	return -1
}

// labelled is an evaluation set: texts and their classes.
type labelled struct {
	name   string
	texts  []string
	labels []int
}

// loadTweetEval reads the committed copy of the TweetEval sentiment
// validation split (testdata/tweeteval/README.md).
func loadTweetEval(t testing.TB) labelled {
	t.Helper()
	texts := readLinesTB(t, "testdata/tweeteval/val_text.txt")
	raw := readLinesTB(t, "testdata/tweeteval/val_labels.txt")
	if len(texts) != 2000 || len(raw) != 2000 {
		t.Fatalf("TweetEval: %d texts and %d labels, want 2000 of each", len(texts), len(raw))
	}
	s := labelled{name: "TweetEval validation", texts: texts}
	for i, l := range raw {
		c, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || c < 0 || c >= numClasses {
			t.Fatalf("val_labels.txt:%d: %q is not 0, 1 or 2", i+1, l)
		}
		s.labels = append(s.labels, c)
	}
	return s
}

// loadJSONL reads mentions with "text" and "sentiment" fields, one JSON
// object a line. ok is false if the file does not exist.
func loadJSONL(t testing.TB, name, path string) (s labelled, ok bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, false
	}
	if err != nil {
		t.Fatal(err)
	}
	s.name = name
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m struct {
			Text      string `json:"text"`
			Sentiment string `json:"sentiment"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		c := classIndex(m.Sentiment)
		if c < 0 {
			t.Fatalf("%s:%d: sentiment %q is not negative, neutral or positive", path, i+1, m.Sentiment)
		}
		s.texts = append(s.texts, m.Text)
		s.labels = append(s.labels, c)
	}
	return s, true
}

func readLinesTB(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// result is how a labelling did on a set.
type result struct {
	recall   [numClasses]float64 // per class
	macro    float64             // the mean of recall: the metric
	accuracy float64
}

func (r result) String() string {
	return fmt.Sprintf("%.3f  %.3f  %.3f  %.3f   %.3f", r.macro, r.recall[classNegative], r.recall[classNeutral], r.recall[classPositive], r.accuracy)
}

// evaluate compares predicted classes with labels.
func evaluate(pred, labels []int) result {
	var hit, n [numClasses]int
	correct := 0
	for i, p := range pred {
		n[labels[i]]++
		if p == labels[i] {
			hit[labels[i]]++
			correct++
		}
	}
	var r result
	for c := range r.recall {
		if n[c] > 0 {
			r.recall[c] = float64(hit[c]) / float64(n[c])
		}
		r.macro += r.recall[c] / numClasses
	}
	if len(pred) > 0 {
		r.accuracy = float64(correct) / float64(len(pred))
	}
	return r
}

// classify labels scores with th.
func classify(scores []float64, th Thresholds) []int {
	pred := make([]int, len(scores))
	for i, s := range scores {
		pred[i] = classIndex(th.Label(s))
	}
	return pred
}

// bestThresholds searches thresholds on a 0.01 grid for the highest
// macro-averaged recall of scores, preferring, among equals, the first
// found (most negative Negative, then smallest Positive).
func bestThresholds(scores []float64, labels []int) Thresholds {
	best, bestTh := -1.0, VADERThresholds
	pred := make([]int, len(scores))
	for n := -100; n <= 0; n++ {
		for p := 0; p <= 100; p++ {
			th := Thresholds{Negative: float64(n) / 100, Positive: float64(p) / 100}
			for i, s := range scores {
				pred[i] = classIndex(th.Label(s))
			}
			if r := evaluate(pred, labels); r.macro > best+1e-12 {
				best, bestTh = r.macro, th
			}
		}
	}
	return bestTh
}

// crossValidate is 2-fold cross-validation of the thresholds: they are
// fitted on the first half of the set and used on the second, and the
// other way round. It returns the result on the pooled held-out
// predictions and the thresholds each fold chose.
func crossValidate(scores []float64, labels []int) (result, [2]Thresholds) {
	h := len(scores) / 2
	var ths [2]Thresholds
	ths[0] = bestThresholds(scores[:h], labels[:h])
	ths[1] = bestThresholds(scores[h:], labels[h:])
	pred := append(classify(scores[:h], ths[1]), classify(scores[h:], ths[0])...)
	return evaluate(pred, labels), ths
}

// evalThresholds are the thresholds of the "VADER, new thresholds" rows.
var evalThresholds = Thresholds{Negative: -0.1, Positive: 0.35}

// TestEvaluation prints the tables of the package documentation and holds
// the figures above their floors.
func TestEvaluation(t *testing.T) {
	a, m := New(), NewModel()
	if got := m.Thresholds(); got != evalThresholds {
		t.Fatalf("the data's thresholds are %+v; the evaluation (and the package documentation) expect %+v", got, evalThresholds)
	}
	header := "                                     macro  neg    neu    pos     accuracy"
	score := func(set labelled) (vader, model []float64) {
		for _, s := range set.texts {
			vader = append(vader, a.Compound(s))
			model = append(model, m.Score(s))
		}
		return vader, model
	}
	row := func(name string, r result) { t.Logf("  %-34s %v", name, r) }

	// TweetEval: the thresholds are the only parameters fitted to data.
	te := loadTweetEval(t)
	vader, model := score(te)
	plain := evaluate(classify(vader, VADERThresholds), te.labels)
	vaderNew := evaluate(classify(vader, evalThresholds), te.labels)
	full := evaluate(classify(model, m.Thresholds()), te.labels)
	cvVader, thVader := crossValidate(vader, te.labels)
	cvModel, thModel := crossValidate(model, te.labels)
	t.Logf("%s, %d tweets (macro-averaged recall, recall per class, accuracy):", te.name, len(te.texts))
	t.Log(header)
	row("VADER ±0.05", plain)
	row(fmt.Sprintf("VADER %+.2f/%+.2f", evalThresholds.Negative, evalThresholds.Positive), vaderNew)
	row("domain layer, default thresholds", full)
	row("VADER, 2-fold CV thresholds", cvVader)
	row("domain layer, 2-fold CV thresholds", cvModel)
	t.Logf("  thresholds fitted per fold: VADER %+v %+v, domain layer %+v %+v", thVader[0], thVader[1], thModel[0], thModel[1])

	// Floors: a little below the measured figures.
	for _, c := range []struct {
		name  string
		got   float64
		floor float64
	}{
		{"TweetEval VADER ±0.05", plain.macro, 0.595},
		{"TweetEval domain layer, default thresholds", full.macro, 0.605},
		{"TweetEval domain layer, cross-validated", cvModel.macro, 0.600},
	} {
		if c.got < c.floor {
			t.Errorf("%s: macro-averaged recall %.3f, below its floor %.3f", c.name, c.got, c.floor)
		}
	}
	if full.macro < vaderNew.macro-0.005 {
		t.Errorf("TweetEval: the domain layer (%.3f) does worse than VADER with the same thresholds (%.3f)", full.macro, vaderNew.macro)
	}

	// Public-sector mentions: ours, then the tagger's if it exists.
	sets := []struct {
		path  string
		floor float64 // of the domain layer's macro-averaged recall; 0: none
	}{
		{"testdata/domain.jsonl", 0.82},
		{"../tagger/evaluation/testdata/mentions.jsonl", 0},
	}
	for _, s := range sets {
		set, ok := loadJSONL(t, s.path, s.path)
		if !ok {
			if s.floor > 0 {
				t.Fatalf("%s is missing", s.path)
			}
			t.Logf("%s does not exist (yet): measured on testdata/domain.jsonl only", s.path)
			continue
		}
		var n [numClasses]int
		for _, l := range set.labels {
			n[l]++
		}
		vader, model := score(set)
		plain := evaluate(classify(vader, VADERThresholds), set.labels)
		vaderNew := evaluate(classify(vader, evalThresholds), set.labels)
		dom := evaluate(classify(model, m.Thresholds()), set.labels)
		t.Logf("%s, %d mentions (%d negative, %d neutral, %d positive):", set.name, len(set.texts), n[0], n[1], n[2])
		t.Log(header)
		row("VADER ±0.05", plain)
		row(fmt.Sprintf("VADER %+.2f/%+.2f", evalThresholds.Negative, evalThresholds.Positive), vaderNew)
		row("domain layer, default thresholds", dom)
		if s.floor > 0 && dom.macro < s.floor {
			t.Errorf("%s: domain layer macro-averaged recall %.3f, below its floor %.3f", s.path, dom.macro, s.floor)
		}
		if dom.macro < plain.macro {
			t.Errorf("%s: the domain layer (%.3f) does worse than plain VADER (%.3f)", s.path, dom.macro, plain.macro)
		}
	}
}
