package evaluation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

// labelledSet is one file of labelled mentions and the floors the
// micro-averaged F1 of the built-in taxonomy must reach on it.
//
// The floors sit a little under the figures measured when the rules were
// last changed, so that a rule change that makes tagging worse fails here
// while a mention or two of noise does not. Raise them when the rules get
// better; never lower them to let a change through.
type labelledSet struct {
	path string
	// main marks the set the rules are tuned on, which must have at least
	// minMentions mentions; the others measure how well that tuning
	// generalises.
	main bool
	// minPositives is how many positives every slug needs in the set, so
	// that its precision and recall say something (0: no check).
	minPositives                int
	departmentFloor, topicFloor float64
	// sentimentFloor is the floor of the macro-averaged recall of the
	// tagger's sentiment labels on the set's English mentions
	// (TestSentimentScores).
	sentimentFloor float64
}

var sets = []labelledSet{
	// The rules were tuned on this set: micro-F1 0.990 for departments and
	// 0.957 for topics measured after the fifth tuning (2026-11-27), 0.990
	// and 0.959 after the third and the fourth, 0.990 and 0.956 after the
	// second (boolean rules), 0.972 and 0.929 after the first, 0.900 and
	// 0.760 before any.
	{path: "testdata/mentions.jsonl", main: true, minPositives: 8, departmentFloor: 0.97, topicFloor: 0.93, sentimentFloor: 0.86},
	// The first holdout, used up: the second tuning read its misses, so it
	// is a development set now. 0.990 and 0.936 measured after the fifth
	// tuning, 0.990 and 0.941 after the third, 0.990 and 0.936 after the
	// second (0.899 and 0.808 before it, when it was still unseen).
	{path: "testdata/holdout.jsonl", departmentFloor: 0.97, topicFloor: 0.92, sentimentFloor: 0.80},
	// The second holdout, used up in turn: written and labelled before the
	// second tuning and scored once after it (0.886 and 0.827; 0.853 and
	// 0.799 with the rules before that tuning), then the third tuning
	// (2026-11-27) read its misses, so it is a development set now: 0.986
	// and 0.955 measured after the third tuning, 0.989 and 0.967 after the
	// fifth.
	{path: "testdata/holdout2.jsonl", minPositives: 4, departmentFloor: 0.96, topicFloor: 0.93, sentimentFloor: 0.81},
	// The third holdout, used up in turn: written and labelled by an
	// annotator who had not read the rules and scored once, after the third
	// tuning (0.936 and 0.844, macro 0.938 and 0.853); the fourth tuning
	// (2026-11-27) read its misses, so it is a development set now: 0.981
	// and 0.934 measured after it, 0.983 and 0.943 after the fifth.
	{path: "testdata/holdout3.jsonl", minPositives: 5, departmentFloor: 0.96, topicFloor: 0.91, sentimentFloor: 0.85},
	// The fourth holdout, used up in turn: written and labelled by another
	// annotator who had not read the rules, the other sets or any tagger
	// output, from DESIGN.md's slugs and the guidelines only, and scored
	// once, after the fourth tuning (0.894 and 0.840, macro 0.904 and
	// 0.837); the fifth tuning (2026-11-27) read its misses, so it is a
	// development set now: 0.960 and 0.929 measured after it.
	{path: "testdata/holdout4.jsonl", minPositives: 8, departmentFloor: 0.94, topicFloor: 0.91, sentimentFloor: 0.87},
	// The fifth holdout, used up in turn: written and labelled by another
	// annotator who had not read the rules, the other sets or any tagger
	// output, and scored once, after the fifth tuning (0.904 and 0.833,
	// macro 0.911 and 0.830); the sixth tuning (2026-11-27) read its
	// misses, so it is a development set now: 0.956 and 0.920 measured
	// after it.
	{path: "testdata/holdout5.jsonl", minPositives: 10, departmentFloor: 0.94, topicFloor: 0.90, sentimentFloor: 0.65},
	// The fresh holdout: written and labelled by another annotator who had
	// not read the rules, the other sets or any tagger output, and scored
	// once, after the sixth tuning (2026-11-27): 0.925 and 0.860 (macro
	// 0.927 and 0.867). Never tune on it. Its topic floor is the target
	// of 0.85 for unseen mentions.
	{path: "testdata/holdout6.jsonl", minPositives: 12, departmentFloor: 0.90, topicFloor: 0.85, sentimentFloor: 0.69},
}

// minMentions is the least size of the main set.
const minMentions = 320

// kinds are the mention kinds each platform's collector produces.
var kinds = map[string][]string{
	mention.Twitter:  {mention.KindPost, mention.KindReply},
	mention.YouTube:  {mention.KindComment, mention.KindReply},
	mention.Facebook: {mention.KindPost, mention.KindComment, mention.KindReply},
}

var sentiments = []string{tagger.Negative, tagger.Neutral, tagger.Positive}

// labelled is one line of the set: a mention and what an annotator said
// it is about.
type labelled struct {
	ID          string   `json:"id"`
	Platform    string   `json:"platform"`
	Kind        string   `json:"kind"`
	Lang        string   `json:"lang"`
	Text        string   `json:"text"`
	Departments []string `json:"departments"`
	Topics      []string `json:"topics"`
	Sentiment   string   `json:"sentiment"`
}

// loadSet reads a set and fails the test on any malformed line, naming
// it.
func loadSet(t testing.TB, setPath string) []labelled {
	t.Helper()
	data, err := os.ReadFile(setPath)
	if err != nil {
		t.Fatal(err)
	}
	var set []labelled
	ids := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			t.Errorf("%s:%d: empty line", setPath, n)
			continue
		}
		var m labelled
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Errorf("%s:%d: %v", setPath, n, err)
			continue
		}
		if dec.More() {
			t.Errorf("%s:%d: more than one JSON value on the line", setPath, n)
			continue
		}
		if err := m.check(); err != nil {
			t.Errorf("%s:%d: %s: %v", setPath, n, m.ID, err)
			continue
		}
		if prev, ok := ids[m.ID]; ok {
			t.Errorf("%s:%d: id %s already used on line %d", setPath, n, m.ID, prev)
			continue
		}
		ids[m.ID] = n
		set = append(set, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return set
}

// check reports the first field of m that is missing or wrong.
func (m *labelled) check() error {
	switch {
	case m.ID == "":
		return fmt.Errorf("no id")
	case kinds[m.Platform] == nil:
		return fmt.Errorf("platform %q is not one of twitter, youtube, facebook", m.Platform)
	case !slices.Contains(kinds[m.Platform], m.Kind):
		return fmt.Errorf("kind %q is not one of %v for %s", m.Kind, kinds[m.Platform], m.Platform)
	case m.Lang == "":
		return fmt.Errorf("no lang")
	case strings.TrimSpace(m.Text) == "":
		return fmt.Errorf("no text")
	case m.Departments == nil:
		return fmt.Errorf("no departments array (write [] for none)")
	case m.Topics == nil:
		return fmt.Errorf("no topics array (write [] for none)")
	case !slices.Contains(sentiments, m.Sentiment):
		return fmt.Errorf("sentiment %q is not one of %v", m.Sentiment, sentiments)
	}
	for _, list := range [][]string{m.Departments, m.Topics} {
		for i, s := range list {
			if slices.Contains(list[:i], s) {
				return fmt.Errorf("slug %s listed twice", s)
			}
		}
	}
	return nil
}

// builtin compiles the built-in taxonomy.
func builtin(t testing.TB) *tagger.Tagger {
	t.Helper()
	tx, err := tagger.LoadTaxonomy("")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := tagger.New(tx)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// Each set parses and uses only the taxonomy's slugs (departments as
// departments, topics as topics), ids are unique across the sets, and the
// sets that ask for it give every slug enough positives.
func TestSetIsWellFormed(t *testing.T) {
	depts, topics := builtin(t).Slugs()
	owner := map[string]string{}
	for _, ls := range sets {
		set := loadSet(t, ls.path)
		positives := map[string]int{}
		for _, m := range set {
			if prev, ok := owner[m.ID]; ok {
				t.Errorf("%s: id %s is also used in %s", ls.path, m.ID, prev)
			}
			owner[m.ID] = ls.path
			for _, g := range []struct {
				what   string
				labels []string
				known  []string
			}{{"department", m.Departments, depts}, {"topic", m.Topics, topics}} {
				for _, s := range g.labels {
					if !slices.Contains(g.known, s) {
						t.Errorf("%s: %s: %q is not a %s slug of the taxonomy", ls.path, m.ID, s, g.what)
					}
					positives[s]++
				}
			}
		}
		if ls.main && len(set) < minMentions {
			t.Errorf("%s has %d mentions, want at least %d", ls.path, len(set), minMentions)
		}
		if ls.minPositives > 0 {
			for _, s := range slices.Concat(depts, topics) {
				if positives[s] < ls.minPositives {
					t.Errorf("%s: slug %s has %d positives, want at least %d", ls.path, s, positives[s], ls.minPositives)
				}
			}
		}
		t.Logf("composition of %s:\n%s", ls.path, composition(set, depts, topics, positives))
	}
}

// composition describes the set: mentions per platform, language and
// sentiment label, the share with no tags, and positives per slug.
func composition(set []labelled, depts, topics []string, positives map[string]int) string {
	by := func(field func(labelled) string) string {
		n := map[string]int{}
		for _, m := range set {
			n[field(m)]++
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(n)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
		}
		return strings.Join(parts, ", ")
	}
	untagged := 0
	for _, m := range set {
		if len(m.Departments) == 0 && len(m.Topics) == 0 {
			untagged++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %d mentions; %d (%.1f%%) with no department and no topic\n", len(set), untagged, 100*float64(untagged)/float64(len(set)))
	fmt.Fprintf(&b, "  platform:  %s\n", by(func(m labelled) string { return m.Platform }))
	fmt.Fprintf(&b, "  kind:      %s\n", by(func(m labelled) string { return m.Platform + "/" + m.Kind }))
	fmt.Fprintf(&b, "  lang:      %s\n", by(func(m labelled) string { return m.Lang }))
	fmt.Fprintf(&b, "  sentiment: %s\n", by(func(m labelled) string { return m.Sentiment }))
	for _, g := range []struct {
		what  string
		slugs []string
	}{{"departments", depts}, {"topics", topics}} {
		var parts []string
		for _, s := range g.slugs {
			parts = append(parts, fmt.Sprintf("%s %d", s, positives[s]))
		}
		fmt.Fprintf(&b, "  %s: %s\n", g.what, strings.Join(parts, ", "))
	}
	return b.String()
}

// counts are one slug's true positives, false positives and false
// negatives over the set.
type counts struct{ tp, fp, fn int }

func (c counts) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c counts) recall() float64    { return ratio(c.tp, c.tp+c.fn) }

// f1 is the harmonic mean of precision and recall, 0 when both are.
func (c counts) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// ratio is a/b, and 0 when b is (a slug never predicted has no
// precision to speak of; every slug of the set has positives).
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// scores are the counts of every slug of one group (departments or
// topics), in taxonomy order.
type scores struct {
	slugs []string
	by    map[string]*counts
}

func newScores(slugs []string) *scores {
	s := &scores{slugs: slugs, by: map[string]*counts{}}
	for _, slug := range slugs {
		s.by[slug] = &counts{}
	}
	return s
}

// add counts one mention: want are its labels, got what the tagger said.
func (s *scores) add(want, got []string) {
	for _, slug := range s.slugs {
		w, g := slices.Contains(want, slug), slices.Contains(got, slug)
		c := s.by[slug]
		switch {
		case w && g:
			c.tp++
		case g:
			c.fp++
		case w:
			c.fn++
		}
	}
}

// micro pools the counts of every slug.
func (s *scores) micro() counts {
	var sum counts
	for _, c := range s.by {
		sum.tp += c.tp
		sum.fp += c.fp
		sum.fn += c.fn
	}
	return sum
}

// macro averages precision, recall and F1 over the slugs, each slug
// weighing the same however many positives it has.
func (s *scores) macro() (p, r, f1 float64) {
	for _, c := range s.by {
		p += c.precision()
		r += c.recall()
		f1 += c.f1()
	}
	n := float64(len(s.by))
	return p / n, r / n, f1 / n
}

// table renders the scores for t.Logf.
func (s *scores) table(title string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "%s\tTP\tFP\tFN\tprecision\trecall\tF1\t\n", title)
	for _, slug := range s.slugs {
		c := s.by[slug]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", slug, c.tp, c.fp, c.fn, c.precision(), c.recall(), c.f1())
	}
	m := s.micro()
	fmt.Fprintf(w, "micro\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", m.tp, m.fp, m.fn, m.precision(), m.recall(), m.f1())
	p, r, f1 := s.macro()
	fmt.Fprintf(w, "macro\t\t\t\t%.3f\t%.3f\t%.3f\t\n", p, r, f1)
	w.Flush()
	return b.String()
}

// miss is a mention the taxonomy tagged differently from its labels.
type miss struct {
	m             labelled
	depts, topics []string
	matched       []string
}

func (x miss) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s %s %s] %q\n", x.m.ID, x.m.Platform, x.m.Kind, x.m.Lang, x.m.Text)
	for _, g := range []struct {
		what      string
		want, got []string
	}{{"departments", x.m.Departments, x.depts}, {"topics", x.m.Topics, x.topics}} {
		if !slices.Equal(g.want, g.got) {
			fmt.Fprintf(&b, "    %-11s want %v, got %v%s\n", g.what, g.want, g.got, diff(g.want, g.got))
		}
	}
	if len(x.matched) > 0 {
		fmt.Fprintf(&b, "    matched     %s\n", strings.Join(x.matched, " | "))
	}
	return b.String()
}

// diff names the slugs got adds to want and those it misses.
func diff(want, got []string) string {
	var extra, missing []string
	for _, s := range got {
		if !slices.Contains(want, s) {
			extra = append(extra, "+"+s)
		}
	}
	for _, s := range want {
		if !slices.Contains(got, s) {
			missing = append(missing, "-"+s)
		}
	}
	return " (" + strings.Join(slices.Concat(extra, missing), " ") + ")"
}

// The built-in taxonomy tags each set at least as well as its floors say.
// With -v, or when a floor is missed, it logs the per-slug table and every
// mention whose tags differ from its labels, with the rules that fired.
func TestDefaultTaxonomyScores(t *testing.T) {
	tg := builtin(t)
	for _, ls := range sets {
		t.Run(strings.TrimSuffix(filepath.Base(ls.path), ".jsonl"), func(t *testing.T) {
			score(t, tg, ls)
		})
	}
}

// score tags one set, logs the scores and checks the floors.
func score(t *testing.T, tg *tagger.Tagger, ls labelledSet) {
	set := loadSet(t, ls.path)
	deptSlugs, topicSlugs := tg.Slugs()
	depts, topics := newScores(deptSlugs), newScores(topicSlugs)
	var misses []miss
	agree := 0
	for _, m := range set {
		f := tagger.Fields{Platform: m.Platform, Kind: m.Kind, Lang: m.Lang}
		d, tp, matched := tg.MatchFields(m.Text, f)
		slices.Sort(m.Departments)
		slices.Sort(m.Topics)
		depts.add(m.Departments, d)
		topics.add(m.Topics, tp)
		if !slices.Equal(d, m.Departments) || !slices.Equal(tp, m.Topics) {
			misses = append(misses, miss{m: m, depts: d, topics: tp, matched: matched})
		}
		if tg.TagLang(&mention.Mention{Platform: m.Platform, Kind: m.Kind, Text: m.Text}, m.Lang).Sentiment.Label == m.Sentiment {
			agree++
		}
	}
	t.Logf("per-slug scores on %s (%d mentions):\n%s\n%s", ls.path, len(set), depts.table("departments"), topics.table("topics"))
	dm, tm := depts.micro(), topics.micro()
	_, _, dmacro := depts.macro()
	_, _, tmacro := topics.macro()
	t.Logf("departments: micro-F1 %.3f, macro-F1 %.3f (floor on micro %.2f)", dm.f1(), dmacro, ls.departmentFloor)
	t.Logf("topics:      micro-F1 %.3f, macro-F1 %.3f (floor on micro %.2f)", tm.f1(), tmacro, ls.topicFloor)
	t.Logf("mentions tagged exactly as labelled: %d of %d", len(set)-len(misses), len(set))
	t.Logf("sentiment label agrees with the annotator on %d of %d (%.1f%%; for information, no floor)", agree, len(set), 100*float64(agree)/float64(len(set)))
	if dm.f1() < ls.departmentFloor {
		t.Errorf("departments: micro-F1 %.3f is below the floor %.2f", dm.f1(), ls.departmentFloor)
	}
	if tm.f1() < ls.topicFloor {
		t.Errorf("topics: micro-F1 %.3f is below the floor %.2f", tm.f1(), ls.topicFloor)
	}
	if t.Failed() || testing.Verbose() {
		var b strings.Builder
		for _, x := range misses {
			b.WriteString(x.String())
		}
		t.Logf("%d mentions tagged differently from their labels:\n%s", len(misses), b.String())
	}
}
