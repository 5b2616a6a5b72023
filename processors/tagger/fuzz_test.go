package tagger

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/govlisten/govlisten/mention"
)

// fuzzTexts are texts every rule that parses is matched against.
var fuzzTexts = []string{
	"",
	"DWP cuts to Universal Credit benefits, says @HMRC #NHS 😡",
	"Llywodraeth Cymru: dŵr, tŷ, “gwasanaeth” — Senedd’s café",
	"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3",
	"\x00\xff\xfe invalid \xc3 utf8 \u200d\u202e\ufe0f",
}

var fuzzFields = []Fields{
	{},
	{Platform: mention.YouTube, Kind: mention.KindReply, Lang: "cy-GB", AuthorHandle: "@dwp", AuthorID: "1"},
}

// checkRule compiles rule alone and checks the properties every rule must
// have: an error that places it, or a compiled rule whose matching agrees
// with evaluating it and with Explain.
func checkRule(t *testing.T, rule string, texts ...string) {
	tg, err := New(&Taxonomy{Version: 1, Topics: []Category{{Slug: "t", Rules: []string{rule}}}})
	if err != nil {
		var re *RuleError
		if !errors.As(err, &re) {
			t.Fatalf("rule %q: error %v is not a *RuleError", rule, err)
		}
		if re.Column < 1 || re.Column > utf8.RuneCountInString(rule)+1 || re.Reason == "" {
			t.Fatalf("rule %q: error %q has column %d of %d runes", rule, re.Reason, re.Column, utf8.RuneCountInString(rule))
		}
		return
	}
	r := &tg.rules[0]
	if !r.direct && len(tg.required(r.root)) == 0 {
		t.Fatalf("rule %q compiled with no required leaf", rule)
	}
	for _, text := range append(texts, fuzzTexts...) {
		for _, f := range fuzzFields {
			_, topics, matched := tg.MatchFields(text, f)
			s := tg.newScratch()
			tg.scan(s, text)
			want := s.eval(r.root, &f)
			if want != (len(matched) == 1) || want != slices.Equal(topics, []string{"t"}) {
				t.Fatalf("rule %q on %q: matched %v, evaluation says %v", rule, text, matched, want)
			}
			xs := tg.Explain(text, f)
			if want && (len(xs) != 1 || !xs[0].Fired || xs[0].Reason == "") {
				t.Fatalf("rule %q on %q fired, Explain says %+v", rule, text, xs)
			}
			if !want && len(xs) == 1 && xs[0].Fired {
				t.Fatalf("rule %q on %q did not fire, Explain says %+v", rule, text, xs)
			}
		}
	}
}

// FuzzParseRule: any rule either fails with a placed error or compiles to a
// rule that matches without panicking, as evaluation and Explain say.
//
//	go test -run '^$' -fuzz FuzzParseRule -fuzztime 60s ./processors/tagger
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		`dwp`, `"Universal Credit"`, `immigra*`, `@DWP`, `#NHS`,
		`(a OR b) AND NOT c`, `a NEAR/3 b`, `dwp platform:youtube lang:cy`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		// The rule's own words as text, so that what it names can occur.
		words := strings.Map(func(r rune) rune {
			if r == '*' || r == '"' || r == '(' || r == ')' {
				return ' '
			}
			return r
		}, rule)
		checkRule(t, rule, rule, words, strings.ReplaceAll(words, "NOT", ""))
	})
}

// FuzzMatch: a rule that compiles matches any text as evaluation says.
//
//	go test -run '^$' -fuzz FuzzMatch -fuzztime 60s ./processors/tagger
func FuzzMatch(f *testing.F) {
	f.Add(`"universal credit" NEAR/2 (cut OR cuts)`, "Universal Credit CUTS again")
	f.Add(`dwp AND NOT hmrc`, "dwp hmrc")
	f.Add(`dŵr*`, "DWRGI 🦦")
	f.Fuzz(func(t *testing.T, rule, text string) {
		checkRule(t, rule, text)
	})
}
