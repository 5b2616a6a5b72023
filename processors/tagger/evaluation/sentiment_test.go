package evaluation

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sentiment"
)

// sentimentSet is labelled text and the floor of the tagger's
// macro-averaged recall of the three labels on it.
type sentimentSet struct {
	name  string
	texts []string
	// labels are 0 negative, 1 neutral, 2 positive.
	labels []int
	floor  float64
}

var labelClass = map[string]int{sentiment.Negative: 0, sentiment.Neutral: 1, sentiment.Positive: 2}

// macroRecall is the mean over the three classes of the share of each
// class's texts labelled with it.
func macroRecall(pred, labels []int) (macro float64, recall [3]float64) {
	var hit, n [3]float64
	for i, l := range labels {
		n[l]++
		if pred[i] == l {
			hit[l]++
		}
	}
	for c := range 3 {
		recall[c] = hit[c] / n[c]
		macro += recall[c] / 3
	}
	return macro, recall
}

// The tagger labels sentiment as annotators do, measured as TweetEval's
// metric (macro-averaged recall): on the English mentions of the fresh
// holdout, which no rule and no sentiment weight was fitted to, of the
// fifth holdout, which no sentiment weight was fitted to, and on
// TweetEval's validation tweets. It logs the table for every set, beside
// the Model's own label (no public-sector classifier), and fails under a
// set's floor.
//
// The classifier is trained on the other sets
// (processors/sentiment's TestClassifierData), so their figures flatter
// it; holdout5, holdout6 and TweetEval are the estimates.
func TestSentimentScores(t *testing.T) {
	tg := builtin(t)
	model := sentiment.NewModel()
	th := model.Thresholds()
	var all []sentimentSet
	for _, ls := range sets {
		set := loadSet(t, ls.path)
		s := sentimentSet{name: strings.TrimSuffix(filepath.Base(ls.path), ".jsonl"), floor: ls.sentimentFloor}
		for _, m := range set {
			if m.Lang != "en" {
				continue
			}
			s.texts = append(s.texts, m.Text)
			s.labels = append(s.labels, labelClass[m.Sentiment])
		}
		all = append(all, s)
	}
	te := sentimentSet{name: "tweeteval-val", floor: 0.60}
	text, err := os.ReadFile("../../sentiment/testdata/tweeteval/val_text.txt")
	if err != nil {
		t.Fatal(err)
	}
	labels, err := os.ReadFile("../../sentiment/testdata/tweeteval/val_labels.txt")
	if err != nil {
		t.Fatal(err)
	}
	te.texts = strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	for _, l := range strings.Fields(string(labels)) {
		c, err := strconv.Atoi(l)
		if err != nil || c < 0 || c > 2 {
			t.Fatalf("TweetEval label %q", l)
		}
		te.labels = append(te.labels, c)
	}
	if len(te.texts) != 2000 || len(te.labels) != 2000 {
		t.Fatalf("TweetEval: %d texts, %d labels", len(te.texts), len(te.labels))
	}
	all = append(all, te)

	t.Logf("%-15s %5s %7s  %-22s  %-22s", "set", "texts", "tagged", "tagger: macro (n/n/p)", "Model alone")
	for _, s := range all {
		pred := make([]int, len(s.texts))
		plain := make([]int, len(s.texts))
		tagged := 0
		for i, text := range s.texts {
			tags := tg.TagLang(&mention.Mention{Platform: mention.Twitter, Kind: mention.KindPost, Text: text}, "en")
			pred[i] = labelClass[tags.Sentiment.Label]
			_, l := model.Classify(text, th)
			plain[i] = labelClass[l]
			if len(tags.Departments)+len(tags.Topics) > 0 {
				tagged++
			}
		}
		m, r := macroRecall(pred, s.labels)
		pm, pr := macroRecall(plain, s.labels)
		t.Logf("%-15s %5d %7d  %.3f (%.2f/%.2f/%.2f)    %.3f (%.2f/%.2f/%.2f)", s.name, len(s.texts), tagged, m, r[0], r[1], r[2], pm, pr[0], pr[1], pr[2])
		if m < s.floor {
			t.Errorf("%s: macro-averaged recall %.3f is below the floor %.2f", s.name, m, s.floor)
		}
	}
}
