package sentiment

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

var (
	modelOnce sync.Once
	theModel  *Model
)

func model() *Model {
	modelOnce.Do(func() { theModel = NewModel() })
	return theModel
}

// TestModelData: the embedded data loads, and says what the documentation
// says.
func TestModelData(t *testing.T) {
	md, err := parseModelData(publicSector)
	if err != nil {
		t.Fatal(err)
	}
	if md.sarcasm != -0.5 {
		t.Errorf("sarcasm factor %v, want -0.5", md.sarcasm)
	}
	if len(md.entries) < 200 {
		t.Errorf("%d entries, want the full public-sector layer", len(md.entries))
	}
	if got := model().Thresholds(); got != (Thresholds{Negative: -0.1, Positive: 0.35}) {
		t.Errorf("default thresholds %+v", got)
	}
}

// TestEmptyModelIsVADER: a Model without entries is exactly VADER, so the
// layer adds nothing but its data.
func TestEmptyModelIsVADER(t *testing.T) {
	m, err := LoadModel(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := analyzers()
	texts := readLines(t, "testdata/tweets.txt")
	for _, tc := range trickyCases() {
		texts = append(texts, tc.text)
	}
	for _, s := range texts {
		if got, want := m.Score(s), a.Compound(s); got != want {
			t.Errorf("empty Model Score(%s) = %v, Compound %v", abbrev(s), got, want)
		}
	}
}

// TestDomain checks what each kind of entry does, through VADER's rules.
func TestDomain(t *testing.T) {
	m := model()
	a, _ := analyzers()
	const zero, neg, pos = 0, -1, 1
	for _, tc := range []struct {
		text string
		want int // the sign of Score
	}{
		// Programme names are not praise.
		{"Universal Credit", zero},
		{"UNIVERSAL CREDIT", zero},
		{"universal  credit", zero}, // an empty word inside a phrase
		{"#universalcredit", zero},  // one word, not in the lexicon
		{"tax credits, pension credit and child benefit", zero},
		{"Help to Buy closes in March", zero},
		{"free school meals", zero},
		{"winter fuel payment", zero},
		{"cost of living support", zero},
		{"social care, health care and child care", zero},
		{"welfare benefits", zero},
		// but the same words elsewhere keep VADER's valence
		{"credit where it's due", pos},
		{"thanks for your support", pos},
		{"they don't care", neg},
		// Complaints VADER does not know.
		{"what a shambles", neg},
		{"omnishambles", neg},
		{"another U-turn", neg},
		{"the backlog", neg},
		{"potholes everywhere", neg},
		{"still waiting", neg},
		{"on hold for an hour", neg},
		{"sleaze and cronyism", neg},
		{"a postcode lottery", neg},
		{"cost of living crisis", neg},
		{"unfit for purpose", neg},
		// Negation still applies to a domain word, and a phrase's own
		// negation is not applied twice.
		{"not a shambles", pos},
		{"not fit for purpose", neg},
		{"NOT fit for purpose", neg},
		{"not good enough", neg},
		{"no help at all", neg},
		// Sarcasm turns praise round.
		{"Great service as always 🙄", neg},
		{"well done 🙄", neg},
		{"brilliant 🤡", neg},
		{"oh great, another consultation", neg},
		{"yeah right", neg},
		{"thanks for nothing", neg},
		{"love this /s", neg},
		{"slow clap for the council", neg},
		// Emoji by their use, through variation selectors and skin tones.
		{"thank you NHS ❤️", pos},
		{"❤", pos},
		{"👍🏽", pos},
		{"😡😡", neg},
		{"🤦‍♀️", neg},
		{"👍", pos},
	} {
		got := m.Score(tc.text)
		sign := 0
		if got > 0 {
			sign = 1
		} else if got < 0 {
			sign = -1
		}
		if sign != tc.want {
			t.Errorf("Score(%q) = %.3f, want sign %d (VADER %.3f)", tc.text, got, tc.want, a.Compound(tc.text))
		}
	}
}

// TestDomainRules: VADER's boosters and capitals apply to domain words.
func TestDomainRules(t *testing.T) {
	m := model()
	base := m.Score("a shambles")
	for _, s := range []string{"a total shambles", "a SHAMBLES today"} {
		if got := m.Score(s); got >= base {
			t.Errorf("Score(%q) = %.3f, want below Score(\"a shambles\") = %.3f", s, got, base)
		}
	}
}

func TestThresholds(t *testing.T) {
	th := Thresholds{Negative: -0.1, Positive: 0.35}
	for _, tc := range []struct {
		score float64
		want  string
	}{
		{-1, Negative}, {-0.1, Negative}, {-0.0999, Neutral}, {0, Neutral}, {0.3499, Neutral},
		{0.35, Positive}, {1, Positive}, {math.NaN(), Neutral},
	} {
		if got := th.Label(tc.score); got != tc.want {
			t.Errorf("Label(%v) = %s, want %s", tc.score, got, tc.want)
		}
	}
	if got := VADERThresholds.Label(0.05); got != Positive {
		t.Errorf("VADER labels 0.05 %s, want positive", got)
	}
	for _, bad := range []Thresholds{{0.5, 0.1}, {-2, 0}, {0, 1.5}, {math.NaN(), 0}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	for _, good := range []Thresholds{{}, VADERThresholds, th, {-1, 1}} {
		if err := good.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", good, err)
		}
	}
	score, label := model().Classify("The council fixed the pothole within a day. Brilliant!", model().Thresholds())
	if label != Positive || score < 0.35 {
		t.Errorf("Classify = %v, %s", score, label)
	}
}

func TestLoadModelErrors(t *testing.T) {
	for _, tc := range []struct{ data, reason string }{
		// Each error is on the data's last line, line 3 or 4.
		{"nonsense\tx\t1", "unknown kind"},
		{"word\tgood", "fields"},
		{"word\tvery good\t1", "one word"},
		{"phrase\tgood\t1", "two words"},
		{"word\tgood\tx", "not a number"},
		{"word\tgood\tNaN", "not a number"},
		{"word\tgood\t5", "outside"},
		{"word\t!!good\t1", "not a word as VADER splits"},
		{"phrase\ta b c d e f g\t1", "more than"},
		{"word\tGOOD\t2\nword\tgood\t1", "already defined"},
		{"sarcasm\tsure\t1", "must not be positive"},
		{"emoji\tab\t1", "one non-ASCII rune"},
		{"ignore\tFE0F", "U+XXXX"},
		{"param\tirony\t1", "unknown parameter"},
		{"param\tsarcasm\t2", "[-1, 1]"},
		{"threshold\tneutral\t0", "negative or positive"},
		{"word\tgood\t1\xff", "invalid UTF-8"},
	} {
		_, err := LoadModel([]byte("# comment\n\n" + tc.data + "\n"))
		line := 3 + strings.Count(tc.data, "\n")
		var de *DataError
		if !errors.As(err, &de) || de.Line != line || !strings.Contains(de.Reason, tc.reason) {
			t.Errorf("LoadModel(%q) = %v, want a *DataError on line %d with %q", tc.data, err, line, tc.reason)
		}
	}
	for _, data := range []string{
		"threshold\tnegative\t-0.1",
		"threshold\tnegative\t0.5\nthreshold\tpositive\t0.1",
		"emoji\t😀\t1\nignore\tU+1F600",
	} {
		if _, err := LoadModel([]byte(data)); err == nil {
			t.Errorf("LoadModel(%q) = nil error", data)
		}
	}
	m, err := LoadModel([]byte("phrase\tcouncil tax\t-1\r\nthreshold\tnegative\t-0.2\nthreshold\tpositive\t0.2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Score("council tax") >= 0 || m.Thresholds() != (Thresholds{-0.2, 0.2}) {
		t.Errorf("custom model: Score %v, thresholds %+v", m.Score("council tax"), m.Thresholds())
	}
}

// TestModelNeverPanics feeds random bytes, runes and domain words.
func TestModelNeverPanics(t *testing.T) {
	m := model()
	r := rand.New(rand.NewPCG(5, 6))
	words := []string{" universal", " credit", " not", " fit", " for", " purpose", " 🙄", " great", "❤️", "\uFE0F",
		" ", "  ", " but", " no", " shambles", " /s", " yeah", " right", "!", "?", " NOT"}
	for range 20000 {
		var sb strings.Builder
		for range r.IntN(40) {
			switch r.IntN(4) {
			case 0:
				sb.WriteByte(byte(r.IntN(256)))
			case 1:
				sb.WriteRune(rune(0x1F300 + r.IntN(0x800)))
			default:
				sb.WriteString(words[r.IntN(len(words))])
			}
		}
		checkScore(t, m, sb.String())
	}
	for _, tc := range trickyCases() {
		checkScore(t, m, tc.text)
	}
}

func checkScore(t *testing.T, m *Model, text string) {
	t.Helper()
	s := m.Score(text)
	if math.IsNaN(s) || s < -1 || s > 1 {
		t.Fatalf("Score(%s) = %v", abbrev(text), s)
	}
	if _, l := m.Classify(text, m.Thresholds()); classIndex(l) < 0 {
		t.Fatalf("Classify(%s) label %q", abbrev(text), l)
	}
}

func TestModelConcurrent(t *testing.T) {
	m := model()
	texts := loadTweetEval(t).texts[:300]
	dom, _ := loadJSONL(t, "domain", "testdata/domain.jsonl")
	texts = append(texts, dom.texts...)
	want := make([]float64, len(texts))
	for i, s := range texts {
		want[i] = m.Score(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range texts {
				i := (k + g*53) % len(texts)
				if got := m.Score(texts[i]); got != want[i] {
					t.Errorf("concurrent Score(%q) = %v, sequential %v", texts[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestModelAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	m := model()
	mentions := benchMentions()
	for _, s := range mentions[:10] {
		m.Score(s)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		m.Score(mentions[i%len(mentions)])
		i++
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per Score, want 0", allocs)
	}
	for _, s := range mentions[:10] {
		m.ScorePublicSector(s)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		m.ScorePublicSector(mentions[i%len(mentions)])
		i++
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per ScorePublicSector, want 0", allocs)
	}
}

// FuzzScore: Score never panics and stays in [-1, 1]; the seed corpus is
// testdata/fuzz/FuzzScore plus the tricky cases.
func FuzzScore(f *testing.F) {
	for _, tc := range trickyCases() {
		if len(tc.text) < 1000 {
			f.Add(tc.text)
		}
	}
	m := model()
	f.Fuzz(func(t *testing.T, text string) {
		checkScore(t, m, text)
		if a, b := m.Score(text), m.Score(text); a != b {
			t.Fatalf("Score(%q) is not deterministic: %v, %v", text, a, b)
		}
		if a, b := m.ScorePublicSector(text), m.ScorePublicSector(text); a != b || !(a >= -1 && a <= 1) {
			t.Fatalf("ScorePublicSector(%q) = %v then %v, want the same value in [-1, 1]", text, a, b)
		}
		// The classifier's fast reading of the words (rowsOf) is the
		// training's (classifierWords).
		want := map[int32]bool{}
		classifierWords(nil, text, func(w []byte) {
			if e := m.cls.table.find(string(w)); e >= 0 {
				want[int32(e)] = true
			}
		})
		seen := make([]uint64, (len(m.cls.rows)+63)/64)
		_, rows := m.cls.rowsOf(text, nil, nil, seen)
		if len(rows) != len(want) {
			t.Fatalf("%q: rowsOf found %d words, classifierWords %d", text, len(rows), len(want))
		}
		for _, r := range rows {
			if !want[r] {
				t.Fatalf("%q: rowsOf found row %d, classifierWords not", text, r)
			}
		}
		for _, b := range seen {
			if b != 0 {
				t.Fatalf("%q: rowsOf left its bitset dirty", text)
			}
		}
	})
}

func ExampleModel_Classify() {
	m := NewModel()
	for _, text := range []string{
		"How do I apply for Universal Credit?",
		"Still waiting for my tax refund. Shambles.",
		"Brilliant service from the passport office, thank you!",
	} {
		score, label := m.Classify(text, m.Thresholds())
		fmt.Printf("%-8s %+.2f %s\n", label, score, text)
	}
	// Output:
	// neutral  +0.00 How do I apply for Universal Credit?
	// negative -0.74 Still waiting for my tax refund. Shambles.
	// positive +0.76 Brilliant service from the passport office, thank you!
}

func ExampleModel_ClassifyPublicSector() {
	m := NewModel()
	for _, text := range []string{
		"How do I apply for Universal Credit?",
		"Been waiting 14 weeks for my PIP assessment and nobody answers the phone",
		"Brilliant service from the passport office, thank you!",
	} {
		score, label := m.ClassifyPublicSector(text, m.Thresholds())
		fmt.Printf("%-8s %+.2f %s\n", label, score, text)
	}
	// Output:
	// neutral  -0.07 How do I apply for Universal Credit?
	// negative -0.93 Been waiting 14 weeks for my PIP assessment and nobody answers the phone
	// positive +0.97 Brilliant service from the passport office, thank you!
}
