package tagger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/mention"
)

func TestExplain(t *testing.T) {
	tg := mustCompile(t, map[string][]string{"dwp": {
		`"Universal Credit"`,
		`benefits AND NOT "universal credit"`,
		`tax NEAR/3 credit`,
		`credit NEAR/9 (cut OR cuts)`,
		`sanction* platform:youtube`,
		`hmrc`,
	}}, nil)
	text := "My Universal-Credit was CUT: benefits, tax and... oh well, credit"
	xs := tg.Explain(text, Fields{Platform: mention.Twitter})
	got := map[string]Explanation{}
	for _, x := range xs {
		got[x.Rule] = x
	}
	for _, tc := range []struct {
		rule   string
		fired  bool
		reason string
		leaves string
	}{
		{`"Universal Credit"`, true, `"Universal Credit" occurs (words 2-3 "Universal-Credit")`, `"Universal Credit": [words 2-3 "Universal-Credit"]`},
		{`benefits AND NOT "universal credit"`, false, `NOT "universal credit" excluded it: "universal credit" occurs (words 2-3 "Universal-Credit")`, `benefits: [word 6 "benefits"]; "universal credit": [words 2-3 "Universal-Credit"]`},
		{`tax NEAR/3 credit`, false, `NEAR/3: the closest tax and credit are 4 words apart (word 7 "tax", word 11 "credit")`, `tax: [word 7 "tax"]; credit: [word 3 "Credit" word 11 "credit"]`},
		{`credit NEAR/9 (cut OR cuts)`, true, `NEAR/9: credit and (cut OR cuts) are 2 words apart (word 3 "Credit", word 5 "CUT")`, `credit: [word 3 "Credit" word 11 "credit"]; cut: [word 5 "CUT"]`},
		{`sanction* platform:youtube`, false, "", ""}, // no leaf occurs: not explained
		{`hmrc`, false, "", ""},
	} {
		x, ok := got[tc.rule]
		if tc.leaves == "" {
			if ok {
				t.Errorf("rule %s explained though none of it occurs: %+v", tc.rule, x)
			}
			continue
		}
		if !ok {
			t.Errorf("rule %s not explained", tc.rule)
			continue
		}
		var leaves []string
		for _, l := range x.Leaves {
			leaves = append(leaves, fmt.Sprintf("%s: %v", l.Leaf, l.At))
		}
		if x.Fired != tc.fired || x.Reason != tc.reason || strings.Join(leaves, "; ") != tc.leaves || x.Slug != "dwp" || !x.Department {
			t.Errorf("rule %s:\n got %v %q\n     %s\nwant %v %q\n     %s", tc.rule, x.Fired, x.Reason, strings.Join(leaves, "; "), tc.fired, tc.reason, tc.leaves)
		}
	}
}

func TestExplainReasons(t *testing.T) {
	for _, tc := range []struct {
		rule, text string
		f          Fields
		want       string
	}{
		{`dwp platform:youtube`, "dwp", Fields{Platform: "twitter"}, `platform:youtube does not hold: the platform is "twitter"`},
		{`dwp lang:cy`, "dwp", Fields{}, `lang:cy does not hold: the lang is not known`},
		{`dwp AND hmrc`, "dwp", Fields{}, `hmrc does not occur`},
		{`dwp AND (hmrc OR nhs)`, "dwp", Fields{}, `no alternative of (hmrc OR nhs) holds: hmrc does not occur; nhs does not occur`},
		{`dwp NEAR/2 hmrc`, "dwp", Fields{}, `NEAR/2: hmrc does not occur`},
		{`"universal credit" NEAR/2 credit`, "universal credit", Fields{}, `NEAR/2: "universal credit" and credit occur only overlapping`},
		{`dwp NOT kind:reply`, "dwp", Fields{Kind: "reply"}, `NOT kind:reply excluded it: kind:reply holds`},
		{`dwp AND NOT hmrc`, "dwp", Fields{}, `dwp occurs (word 1 "dwp"); hmrc does not occur`},
	} {
		tg := mustCompile(t, map[string][]string{"d": {tc.rule}}, nil)
		xs := tg.Explain(tc.text, tc.f)
		if len(xs) != 1 || xs[0].Reason != tc.want {
			t.Errorf("rule %s on %q: %+v, want reason %q", tc.rule, tc.text, xs, tc.want)
		}
	}
}
