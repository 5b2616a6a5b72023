package tagger

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sentiment"
)

func mustCompile(t testing.TB, depts, topics map[string][]string) *Tagger {
	t.Helper()
	tx := &Taxonomy{Version: 1}
	for slug, rules := range depts {
		tx.Departments = append(tx.Departments, Category{Slug: slug, Rules: rules})
	}
	for slug, rules := range topics {
		tx.Topics = append(tx.Topics, Category{Slug: slug, Rules: rules})
	}
	tg, err := New(tx)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestMatching(t *testing.T) {
	tg := mustCompile(t, map[string][]string{
		"dwp":          {`DWP`, `"Universal Credit"`, `@DWP`, `#UniversalCredit`, `jobcentre*`},
		"hmrc":         {`HMRC`, `"Self Assessment"`, `"renters rights"`},
		"wales-office": {`"Swyddfa Cymru"`, `Cymraeg`},
	}, map[string][]string{
		"welfare": {`benefits`, `"cost of living payment"`},
		"health":  {`ysbyty`, `café`},
	})
	for _, tc := range []struct {
		text          string
		depts, topics []string
	}{
		{"dwp sorted it", []string{"dwp"}, nil},
		{"DWPX is not DWP's sister", []string{"dwp"}, nil},      // whole words; apostrophe separates
		{"nothing about dwpx or undwp", nil, nil},               // no substring matches
		{"my UNIVERSAL   credit was cut", []string{"dwp"}, nil}, // case, extra spaces
		{"universal-credit payments", []string{"dwp"}, nil},     // hyphen between phrase words
		{"universal, credit", []string{"dwp"}, nil},             // punctuation between phrase words
		{"credit universal", nil, nil},                          // order matters
		{"thanks @dwp", []string{"dwp"}, nil},
		{"#universalcredit again", []string{"dwp"}, nil},
		{"the Jobcentres are shut", []string{"dwp"}, nil},     // wildcard
		{"@HMRC_help said no", nil, nil},                      // a different handle
		{"“Self Assessment” deadline", []string{"hmrc"}, nil}, // curly quotes
		{"Renters’ Rights Bill", []string{"hmrc"}, nil},       // curly apostrophe
		{"SWYDDFA CYMRU yn Llundain", []string{"wales-office"}, nil},
		{"siarad Cymraeg", []string{"wales-office"}, nil},
		{"yn yr YSBYTY 🏥", nil, []string{"health"}},
		{"cafe near me", nil, []string{"health"}}, // accent-insensitive both ways
		{"CAFÉ near me", nil, []string{"health"}},
		{"café", nil, []string{"health"}}, // combining accent
		{"benefits and the cost of living payment 😡😡 #DWP", []string{"dwp"}, []string{"welfare"}},
		{"", nil, nil},
		{"😀😀😀 \u200d\u202e", nil, nil},
	} {
		d, tp, _ := tg.Match(tc.text)
		if !slices.Equal(d, tc.depts) || !slices.Equal(tp, tc.topics) {
			t.Errorf("%q: got %v %v, want %v %v", tc.text, d, tp, tc.depts, tc.topics)
		}
	}
}

func TestMatchedNamesRules(t *testing.T) {
	tg := mustCompile(t, map[string][]string{"dwp": {`"Universal Credit"`, `DWP`}}, nil)
	_, _, matched := tg.Match("Universal Credit from the DWP")
	slices.Sort(matched)
	if !slices.Equal(matched, []string{`dwp:"Universal Credit"`, `dwp:DWP`}) {
		t.Fatalf("matched %v", matched)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, tc := range []struct{ rule, want string }{
		{`"Universal Credit`, `closing '"'`},
		{`DWP AND`, "after AND"},
		{`(DWP`, "unclosed '('"},
		{`un*iversal`, "wildcard may only end"},
		{`ab*`, "at least 3 letters"},
		{`@`, "expected a name"},
		{`#foo.bar`, "expected a name"},
		{``, "empty rule"},
	} {
		tx := &Taxonomy{Version: 1, Departments: []Category{{Slug: "dwp", Rules: []string{"ok", tc.rule}}}}
		_, err := New(tx)
		var re *RuleError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || re.Category != "dwp" || re.Index != 1 {
			t.Errorf("rule %q: %v, want a RuleError for rule 2 of dwp containing %q", tc.rule, err, tc.want)
		}
	}
	if _, err := New(&Taxonomy{Version: 1, Departments: []Category{{Slug: "a"}, {Slug: "a"}}}); err == nil {
		t.Error("duplicate slug accepted")
	}
}

// The built-in taxonomy parses and carries every slug DESIGN.md fixes.
func TestDefaultTaxonomy(t *testing.T) {
	tx, err := LoadTaxonomy("")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := New(tx)
	if err != nil {
		t.Fatal(err)
	}
	depts, topics := tg.Slugs()
	wantDepts := strings.Fields("cabinet-office hm-treasury home-office fcdo mod dhsc dfe dwp dbt desnz dsit dcms defra dft mhclg moj nio scotland-office wales-office hmrc number-10")
	wantTopics := strings.Fields("health education immigration cost-of-living public-spending tax welfare housing transport energy-climate crime-justice defence environment digital-services economy-business culture-media-sport international")
	slices.Sort(depts)
	slices.Sort(topics)
	slices.Sort(wantDepts)
	slices.Sort(wantTopics)
	if !slices.Equal(depts, wantDepts) || !slices.Equal(topics, wantTopics) {
		t.Fatalf("slugs %v %v", depts, topics)
	}
	for _, tc := range []struct{ text, dept, topic string }{
		{"@DWP my Universal Credit payment is late again", "dwp", "welfare"},
		{"HMRC self assessment deadline is a nightmare", "hmrc", "tax"},
		{"A&E waiting times at our NHS hospital are awful", "dhsc", "health"},
		{"Home Office still has not sorted the small boats crossings", "home-office", "immigration"},
	} {
		d, tp, _ := tg.Match(tc.text)
		if !slices.Contains(d, tc.dept) || !slices.Contains(tp, tc.topic) {
			t.Errorf("%q: got %v %v, want %s and %s", tc.text, d, tp, tc.dept, tc.topic)
		}
	}
}

func TestSentiment(t *testing.T) {
	tg := mustCompile(t, nil, nil)
	for _, tc := range []struct{ text, label string }{
		{"Absolutely useless, disgraceful service. I am furious.", Negative},
		{"Thank you so much, brilliant help from the staff!", Positive},
		{"The office opens at 9.", Neutral},
	} {
		s := tg.Sentiment(tc.text)
		if s.Label != tc.label || s.Score < -1 || s.Score > 1 {
			t.Errorf("%q: %+v, want %s", tc.text, s, tc.label)
		}
	}
}

func TestTagConcurrent(t *testing.T) {
	tx, _ := LoadTaxonomy("")
	tg, _ := New(tx)
	g := synth.New(3)
	ms := make([]*mention.Mention, 200)
	want := make([]Tags, len(ms))
	for i := range ms {
		ms[i] = g.Next()
		want[i] = tg.Tag(ms[i])
	}
	done := make(chan error)
	for w := 0; w < 4; w++ {
		go func() {
			for i, m := range ms {
				got := tg.Tag(m)
				if !slices.Equal(got.Departments, want[i].Departments) || !slices.Equal(got.Topics, want[i].Topics) {
					done <- fmt.Errorf("mention %d tagged %v, then %v", i, want[i], got)
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

// Options: the language function decides the language filters test and
// whether sentiment is scored; thresholds set the labels.
func TestOptionsLanguageAndThresholds(t *testing.T) {
	tx := &Taxonomy{Version: 1, Departments: []Category{
		{Slug: "wales-office", Name: "Wales Office", Rules: []string{`Senedd AND lang:cy`}},
	}}
	detect := func(text, platformLang string) string {
		if strings.Contains(text, "Diolch") {
			return "cy"
		}
		if platformLang != "" {
			return platformLang
		}
		return "und"
	}
	tg, err := Compile(tx, Options{Lang: detect})
	if err != nil {
		t.Fatal(err)
	}
	cy := tg.Tag(&mention.Mention{Platform: mention.Twitter, Kind: mention.KindPost, Text: "Diolch i'r Senedd am y gwasanaeth gwych", Lang: "en"})
	if cy.Lang != "cy" || cy.Sentiment.Label != Unsupported || cy.Sentiment.Score != 0 || len(cy.Departments) != 1 {
		t.Fatalf("Welsh mention: %+v", cy)
	}
	en := tg.Tag(&mention.Mention{Platform: mention.Twitter, Kind: mention.KindPost, Text: "The Senedd is brilliant, thank you", Lang: "en"})
	if en.Lang != "en" || en.Sentiment.Label != Positive || len(en.Departments) != 0 {
		t.Fatalf("English mention: %+v", en)
	}
	und := tg.Tag(&mention.Mention{Platform: mention.YouTube, Kind: mention.KindComment, Text: "love it"})
	if und.Lang != "und" || und.Sentiment.Label == Unsupported {
		t.Fatalf("mention of unknown language: %+v", und)
	}
	// "love it" scores about 0.64: positive by default, neutral when the
	// positive label starts higher.
	strict, err := Compile(tx, Options{Thresholds: sentiment.Thresholds{Negative: -0.9, Positive: 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	if s := strict.Sentiment("love it"); s.Label != Neutral {
		t.Fatalf("with thresholds ±0.9, %q is %+v", "love it", s)
	}
	if _, err := Compile(tx, Options{Thresholds: sentiment.Thresholds{Negative: 0.5, Positive: -0.5}}); err == nil {
		t.Fatal("inverted thresholds accepted")
	}
}
