package tagger

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/mention"
)

// fires says whether rule, alone in a taxonomy, fires on text with fields f.
func fires(t *testing.T, rule, text string, f Fields) bool {
	t.Helper()
	tg, err := New(&Taxonomy{Version: 1, Departments: []Category{{Slug: "d", Rules: []string{rule}}}})
	if err != nil {
		t.Fatalf("rule %s: %v", rule, err)
	}
	_, _, matched := tg.MatchFields(text, f)
	return len(matched) == 1
}

func TestLanguage(t *testing.T) {
	yt := Fields{Platform: mention.YouTube, Kind: mention.KindReply, Lang: "cy-GB", AuthorHandle: "@Citizen_1", AuthorID: "UC123abc"}
	tw := Fields{Platform: mention.Twitter, Kind: mention.KindPost, Lang: "en", AuthorHandle: "someone", AuthorID: "42"}
	none := Fields{}
	for _, tc := range []struct {
		rule, text string
		f          Fields
		want       bool
	}{
		// AND, written and implied
		{`dwp AND hmrc`, "HMRC then the DWP", none, true},
		{`dwp AND hmrc`, "only the dwp", none, false},
		{`dwp hmrc`, "hmrc, dwp", none, true},
		{`dwp hmrc`, "dwp", none, false},
		{`dwp AND hmrc AND nhs`, "nhs hmrc dwp", none, true},
		// OR
		{`dwp OR hmrc`, "hmrc", none, true},
		{`dwp OR hmrc OR "home office"`, "the home office", none, true},
		{`dwp OR hmrc`, "neither", none, false},
		// NOT, prefix and infix
		{`benefits AND NOT "universal credit"`, "benefits are late", none, true},
		{`benefits AND NOT "universal credit"`, "universal credit benefits", none, false},
		{`benefits NOT "universal credit"`, "Universal-Credit benefits", none, false},
		{`benefits NOT "universal credit"`, "benefits credit universal", none, true},
		{`NOT "universal credit" benefits`, "benefits", none, true},
		{`NOT NOT benefits AND dwp`, "benefits dwp", none, true},
		{`dwp NOT (hmrc OR nhs)`, "dwp nhs", none, false},
		{`dwp NOT (hmrc OR nhs)`, "dwp", none, true},
		// precedence: NOT > NEAR > AND > OR
		{`a1 OR b1 AND c1`, "a1", none, true},
		{`a1 OR b1 AND c1`, "b1", none, false},
		{`a1 OR b1 AND c1`, "c1 b1", none, true},
		{`(a1 OR b1) AND c1`, "a1", none, false},
		{`(a1 OR b1) AND c1`, "a1 c1", none, true},
		{`a1 OR b1 NOT c1`, "a1 c1", none, true}, // a1 OR (b1 AND NOT c1)
		{`a1 OR b1 NOT c1`, "b1 c1", none, false},
		{`a1 OR b1 c1`, "a1", none, true}, // a1 OR (b1 AND c1)
		{`a1 NEAR/1 b1 AND c1`, "a1 b1 then c1", none, true},
		{`a1 NEAR/1 b1 AND c1`, "a1 x b1 c1", none, false},
		{`a1 OR b1 NEAR/1 c1`, "a1", none, true},
		{`a1 OR b1 NEAR/1 c1`, "b1 x c1", none, false},
		{`a1 OR b1 NEAR/1 c1`, "c1 b1", none, true},
		{`((a1))`, "a1", none, true},
		// NEAR: at most n words apart, either order
		{`tax NEAR/1 credit`, "tax credit", none, true},
		{`tax NEAR/1 credit`, "credit, tax", none, true},
		{`tax NEAR/1 credit`, "tax the credit", none, false},
		{`tax NEAR/2 credit`, "tax the credit", none, true},
		{`tax NEAR/2 credit`, "credit for tax", none, true},
		{`tax NEAR/2 credit`, "tax on the credit", none, false},
		{`tax NEAR/2 credit`, "tax on the credit, tax credit", none, true}, // the closest pair counts
		{`"universal credit" NEAR/3 sanction*`, "Sanctions hit universal credit claimants", none, true},
		{`"universal credit" NEAR/3 sanction*`, "universal credit claimants face new sanctions", none, false},
		{`"universal credit" NEAR/3 sanction*`, "universal credit claimants face sanctions", none, true},
		{`(cut OR cuts) NEAR/2 benefits`, "benefits cuts", none, true},
		{`(cut OR cuts) NEAR/2 (benefits OR "tax credits")`, "cuts to tax credits", none, true},
		{`credit NEAR/3 credit`, "credit", none, false}, // one occurrence is not a pair
		{`credit NEAR/3 credit`, "credit where credit is due", none, true},
		{`"universal credit" NEAR/3 credit`, "universal credit", none, false}, // overlapping
		{`@DWP NEAR/2 sanctions`, "@DWP sanctions again", none, true},
		{`#NHS NEAR/2 strike`, "#NHS strike", none, true},
		{`dwp NEAR/2 "cost of living"`, "dwp: cost-of-living", none, true},
		// field filters
		{`dwp AND platform:youtube`, "dwp", yt, true},
		{`dwp AND platform:youtube`, "dwp", tw, false},
		{`dwp AND platform:youtube`, "dwp", none, false},
		{`dwp platform:x`, "dwp", tw, true},
		{`dwp platform:twitter`, "dwp", Fields{Platform: "x"}, true},
		{`dwp NOT platform:facebook`, "dwp", none, true},
		{`dwp AND (lang:cy OR lang:gd)`, "dwp", yt, true}, // cy-GB
		{`dwp AND (lang:cy OR lang:gd)`, "dwp", tw, false},
		{`dwp lang:cym`, "dwp", yt, false},
		{`dwp lang:cy-gb`, "dwp", yt, true},
		{`dwp lang:en`, "dwp", Fields{Lang: "eng"}, false},
		{`dwp kind:reply`, "dwp", yt, true},
		{`dwp kind:reply`, "dwp", tw, false},
		{`dwp NOT kind:reply`, "dwp", tw, true},
		{`dwp author:citizen_1`, "dwp", yt, true},
		{`dwp author:@CITIZEN_1`, "dwp", yt, true},
		{`dwp author:UC123abc`, "dwp", yt, true},
		{`dwp author:uc123abc`, "dwp", yt, false}, // ids are exact
		{`dwp author:42`, "dwp", tw, true},
		{`dwp Platform:YouTube`, "dwp", yt, true},
		{`(dwp platform:youtube) OR (hmrc platform:twitter)`, "hmrc", tw, true},
		{`(dwp platform:youtube) OR (hmrc platform:twitter)`, "hmrc", yt, false},
		// wildcards
		{`immigra*`, "IMMIGRATION", none, true},
		{`immigra*`, "immigra", none, true},
		{`immigra*`, "immigr", none, false},
		{`immigra*`, "#immigration", none, true},
		{`immigra*`, "@immigration_uk", none, false},
		{`immigra*`, "non-immigrants", none, true}, // hyphens split words
		{`llyw*`, "Llywodraeth Cymru", none, true},
		{`café*`, "CAFES", none, true},
		{`dŵr*`, "dwrgi", none, true},
		// phrases, handles, hashtags
		{`"Universal Credit"`, "universal... credit", none, true},
		{`"Universal Credit"`, "credit universal", none, false},
		{`"Universal Credit"`, "universal @credit", none, false},
		{`@DWP`, "thanks @dwp", none, true},
		{`@DWP`, "thanks dwp", none, false},
		{`DWP`, "thanks @dwp", none, false}, // a handle is a name, not a word
		{`DWP`, "#DWP", none, true},
		{`#DWP`, "dwp", none, false},
		{`A&E`, "A & E waiting times", none, true},
		{`GOV.UK`, "gov uk", none, true},
		{`cost-of-living`, "COST OF LIVING!", none, true},
		{`and`, "this and that", none, true}, // lower-case operators are words
		{`NEARBY`, "nearby", none, true},
		// Unicode: accents, Welsh, curly quotes, emoji, fancy text
		{`"Llywodraeth Cymru"`, "LLYWODRAETH CYMRU", none, true},
		{`gwasanaeth`, "Gwasanaeth Iechyd", none, true},
		{`Senedd`, "#Senedd 🏴󠁧󠁢󠁷󠁬󠁳󠁿", none, true},
		{`tŷ`, "ty", none, true},
		{`ty`, "TŶ", none, true},
		{`dŵr`, "DWR", none, true},
		{`dwr`, "dw\u0302r", none, true}, // combining circumflex
		{`"Gweinidog Iechyd"`, "gweinidog  iechyd", none, true},
		{`ŵyr`, "Ŵyr", none, true},
		{`"Llyfrgell Genedlaethol"`, "llyfrgell genedlaethôl", none, true},
		{`ysgol`, "ysgôl", none, true},
		{`Ëire`, "eire", none, true},
		{`naïve`, "NAIVE", none, true},
		{`“Universal Credit”`, "universal credit", none, true}, // curly phrase quotes in the rule
		{`„Universal Credit“`, "universal credit", none, true},
		{`"Renters Rights"`, "Renters’ Rights Bill", none, true},
		{`"Renters Rights"`, "Rentersʼ Rights Bill", none, true},
		{`"Self Assessment"`, "“Self Assessment” deadline", none, true},
		{`"universal credit"`, "universal ❤️ credit", none, true}, // emoji separate words
		{`nhs NEAR/1 hospital`, "NHS 🏥 hospital", none, true},
		{`nhs`, "🏥NHS🏥", none, true},
		{`dwp`, "𝐃𝐖𝐏 again", none, true},
		{`nhs`, "ＮＨＳ", none, true},
		{`gov`, "gov\u00adernment", none, false}, // soft hyphen inside a word
		{`government`, "gov\u00adernment", none, true},
		{`łódź`, "Lodz", none, true},
	} {
		if got := fires(t, tc.rule, tc.text, tc.f); got != tc.want {
			t.Errorf("rule %s on %q (%+v): fired %v, want %v", tc.rule, tc.text, tc.f, got, tc.want)
		}
	}
}

func TestRuleErrorColumns(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		column int
		want   string
	}{
		{`dwp AND`, 8, "expected a term, phrase, @handle, #hashtag, field filter or '(' after AND, but the rule ends"},
		{`AND dwp`, 1, "at the start of the rule, found AND"},
		{`dwp AND OR hmrc`, 9, "after AND, found OR"},
		{`dwp OR`, 7, "after OR, but the rule ends"},
		{`dwp NOT`, 8, "after NOT, but the rule ends"},
		{`dwp NEAR/3`, 11, "after NEAR/3, but the rule ends"},
		{`(dwp OR hmrc`, 1, "unclosed '('"},
		{`café AND (dwp`, 10, "unclosed '('"}, // columns count runes
		{`dwp)`, 4, "unexpected ')' with no matching '('"},
		{`()`, 2, "empty parentheses"},
		{`dwp AND ()`, 10, "empty parentheses"},
		{`dwp NEAR/0 hmrc`, 5, "NEAR/n needs a number 1..100"},
		{`dwp NEAR/101 hmrc`, 5, "NEAR/n needs a number 1..100"},
		{`dwp NEAR/999999 hmrc`, 5, "NEAR/n needs a number 1..100"},
		{`dwp NEAR/x hmrc`, 5, "NEAR/n needs a number 1..100"},
		{`dwp NEAR hmrc`, 5, "NEAR needs a distance"},
		{`NEAR/3 dwp`, 1, "at the start of the rule, found NEAR/3"},
		{`plaform:youtube dwp`, 1, `unknown field "plaform"; fields are platform, lang, kind, author`},
		{`dwp platform:myspace`, 14, `unknown platform "myspace"; platforms are twitter, youtube, facebook (or x)`},
		{`dwp platform:`, 14, `unknown platform ""`},
		{`dwp kind:tweet`, 10, `unknown kind "tweet"; kinds are post, comment, reply`},
		{`dwp lang:english`, 10, "lang:english is not a language code"},
		{`dwp author:`, 12, "author: needs a handle"},
		{`NOT dwp`, 1, "a rule must match something positive: NOT only excludes"},
		{`platform:youtube`, 1, "a rule must match something positive: a field filter only narrows"},
		{`platform:youtube AND lang:cy`, 1, "a field filter only narrows"},
		{`dwp OR NOT hmrc`, 8, "and so must each alternative of OR"},
		{`dwp OR lang:cy`, 8, "and so must each alternative of OR"},
		{`(dwp OR NOT hmrc) AND platform:x`, 9, "each alternative of OR"},
		{`(dwp OR NOT hmrc) AND nhs`, 0, ""}, // nhs is required
		{`NOT dwp NEAR/3 hmrc`, 1, "NEAR/3 joins terms, phrases, wildcards, @handles and #hashtags, or (a OR b) groups of them; found NOT"},
		{`dwp NEAR/3 platform:youtube`, 12, "found a field filter"},
		{`(a1 AND b1) NEAR/3 c1`, 1, "found AND"},
		{`(a1 OR NOT b1) NEAR/3 c1`, 1, "found NOT"},
		{`a1 NEAR/3 b1 NEAR/3 c1`, 14, "cannot be chained"},
		{`(a1 NEAR/3 b1) NEAR/3 c1`, 1, "found NEAR"},
		{`"universal credit`, 18, `expected a closing '"' for the phrase opened at column 1`},
		{`dwp “universal credit`, 22, `expected a closing '"' for the phrase opened at column 5`},
		{`"univ* credit"`, 6, "unexpected '*' inside a phrase"},
		{`""`, 2, "expected a word inside the quotes"},
		{`un*iversal`, 3, "a wildcard may only end a word"},
		{`ab*`, 1, "a wildcard stem needs at least 3 letters"},
		{`dwp AND ŵy*`, 9, "a wildcard stem needs at least 3 letters"},
		{`A&E*`, 4, "a wildcard must end a single word"},
		{`@`, 2, "expected a name of letters, digits or _ after '@'"},
		{`dwp #`, 6, "expected a name of letters, digits or _ after '#'"},
		{`@dwp.gov`, 2, "expected a name"},
		{`dwp -jobs`, 5, "write NOT to exclude"},
		{`dwp 😡`, 5, "has no letters or digits"},
		{``, 1, "empty rule"},
		{"  \t", 1, "empty rule"},
		{strings.Repeat("(", 40) + "dwp" + strings.Repeat(")", 40), 33, "nests too deeply"},
		{strings.Repeat("NOT ", 40) + "dwp", 129, "nests too deeply"},
	} {
		_, se := parseRule(tc.rule)
		if tc.want == "" {
			if se != nil {
				t.Errorf("rule %s: %s", tc.rule, se.reason)
			}
			continue
		}
		if se == nil {
			t.Errorf("rule %s: no error, want %q", tc.rule, tc.want)
			continue
		}
		if col := column(tc.rule, se.pos); col != tc.column || !strings.Contains(se.reason, tc.want) {
			t.Errorf("rule %s: column %d: %s\nwant column %d: ...%s...", tc.rule, col, se.reason, tc.column, tc.want)
		}
	}
}

// Every rule of the default taxonomy is on the fast path: a leaf or an OR
// of leaves fires straight from the index, and any other rule (NOT, NEAR,
// AND, filters) is indexed under leaves one of which it needs, so it is
// evaluated only for the mentions where one of them occurs.
func TestDefaultTaxonomyIsIndexed(t *testing.T) {
	tx, err := LoadTaxonomy("")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := New(tx)
	if err != nil {
		t.Fatal(err)
	}
	triggered := map[int32]bool{}
	for _, l := range tg.leaves {
		for _, id := range l.trig {
			triggered[id] = true
		}
	}
	for id, r := range tg.rules {
		if r.root.op == opText && !r.direct {
			t.Errorf("rule %s is a single leaf but not direct", r.text)
		}
		if !r.direct && !triggered[int32(id)] {
			t.Errorf("rule %s is not indexed under any leaf", r.text)
		}
	}
}

// The index finds exactly the rules that evaluating every rule would:
// candidate selection never loses a rule, and Explain agrees.
func TestMatchAgreesWithEvaluation(t *testing.T) {
	ms := corpus(300, 5)
	tx := generatedTaxonomy(t, 3000, 3, ms)
	tg, err := New(tx)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	platforms := []string{mention.Twitter, mention.YouTube, mention.Facebook, ""}
	kinds := []string{mention.KindPost, mention.KindComment, mention.KindReply, ""}
	langs := []string{"en", "cy", "cy-GB", "gd", ""}
	total := 0
	for _, m := range ms {
		f := MentionFields(m, langs[r.IntN(len(langs))])
		f.Platform, f.Kind = platforms[r.IntN(len(platforms))], kinds[r.IntN(len(kinds))]
		_, _, got := tg.MatchFields(m.Text, f)
		s := tg.newScratch()
		tg.scan(s, m.Text)
		var want []string
		for _, rl := range tg.rules {
			if s.eval(rl.root, &f) {
				want = append(want, rl.label)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: Match %v\nevaluation %v", m.Text, got, want)
		}
		var explained []string
		for _, x := range tg.Explain(m.Text, f) {
			if x.Fired {
				explained = append(explained, x.Slug+":"+x.Rule)
			}
		}
		if !slices.Equal(explained, want) {
			t.Fatalf("%q: Explain %v\nevaluation %v", m.Text, explained, want)
		}
		total += len(got)
	}
	if total == 0 {
		t.Fatal("no rule fired: the test proves nothing")
	}
}

func TestMatchAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	tg := mustCompile(t, map[string][]string{
		"dwp": {`"Universal Credit"`, `dwp AND NOT hmrc`, `(cuts OR cut) NEAR/3 benefit*`},
	}, map[string][]string{"welfare": {`benefit*`, `sanctions platform:twitter`}})
	text := "DWP cuts to benefits and Universal Credit sanctions"
	f := Fields{Platform: mention.Twitter}
	d, tp, m := tg.MatchFields(text, f)
	if len(d) != 1 || len(tp) != 1 || len(m) != 5 {
		t.Fatalf("got %v %v %v", d, tp, m)
	}
	if n := testing.AllocsPerRun(100, func() { tg.MatchFields(text, f) }); n > 3 {
		t.Errorf("%v allocations per match, want at most the 3 returned slices", n)
	}
	if n := testing.AllocsPerRun(100, func() { tg.MatchFields("nothing to see", f) }); n != 0 {
		t.Errorf("%v allocations per match with nothing matched, want 0", n)
	}
}

func TestLint(t *testing.T) {
	tx := &Taxonomy{Version: 1, File: "x.yaml",
		Departments: []Category{{Slug: "dwp", Rules: []string{`ok`, `dwp AND`, `NOT x`}}, {Slug: "dwp"}},
		Topics:      []Category{{Name: "No slug", Rules: []string{`(a`}}},
	}
	errs := Lint(tx)
	var got []string
	for _, err := range errs {
		var re *RuleError
		var ce *CategoryError
		switch {
		case errors.As(err, &re):
			got = append(got, re.Category+":"+re.Rule)
		case errors.As(err, &ce):
			got = append(got, "category:"+ce.Slug)
		}
	}
	want := []string{"dwp:dwp AND", "dwp:NOT x", "category:dwp", "category:", ":(a"}
	if !slices.Equal(got, want) {
		t.Fatalf("Lint: %v, want %v", got, want)
	}
	if _, err := New(tx); !errors.Is(err, errs[0]) && err.Error() != errs[0].Error() {
		t.Fatalf("New: %v, want the first error %v", err, errs[0])
	}
	if errs := Lint(&Taxonomy{Version: 1, Departments: []Category{{Slug: "a", Rules: []string{"a"}}}}); errs != nil {
		t.Fatalf("Lint of a good taxonomy: %v", errs)
	}
}

func TestLoadTaxonomyPositions(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/t.yaml"
	src := "version: 1\n" +
		"departments:\n" +
		"  - slug: dwp\n" +
		"    rules:\n" +
		"      - DWP\n" +
		"      - dwp AND\n" + // plain, from column 9: rule column 8 is file column 16
		"      - '\"Universal Credit\" NEAR/0 cuts'\n" + // single-quoted: 20 -> 29
		"      - 'it''s AND ('\n" + // '' is one rune: 11 -> 21
		"      - \"\\\"a\\\" OR\"\n" + // double-quoted, \" is one rune: 7 -> 18
		"topics:\n" +
		"  - slug: welfare\n" +
		"    rules: [benefits, 'NOT x']\n" // flow sequence: 1 -> 24
	if err := writeFile(path, src); err != nil {
		t.Fatal(err)
	}
	tx, err := LoadTaxonomy(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, err := range Lint(tx) {
		got = append(got, err.Error())
	}
	want := []string{
		path + ":6:16: dwp rule 2 (dwp AND): expected a term, phrase, @handle, #hashtag, field filter or '(' after AND, but the rule ends",
		path + `:7:29: dwp rule 3 ("Universal Credit" NEAR/0 cuts): NEAR/n needs a number 1..100, not "0"`,
		path + ":8:21: dwp rule 4 (it's AND (): expected a term, phrase, @handle, #hashtag, field filter or '(' after '(', but the rule ends",
		path + `:9:18: dwp rule 5 ("a" OR): expected a term, phrase, @handle, #hashtag, field filter or '(' after OR, but the rule ends`,
		path + ":12:24: welfare rule 2 (NOT x): a rule must match something positive: NOT only excludes; write a AND NOT b",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
