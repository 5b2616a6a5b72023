package rulegen

import (
	"slices"
	"strings"
	"testing"
)

var taxonomyRules = []string{
	`"Universal Credit"`, "DWP", `"State Pension" AND age`, "HMRC", `"tax return"`, "#NHS", `"waiting list*"`,
	`"Home Office"`, "passport", `"cost of living"`, "pothole*",
}

func TestGenerate(t *testing.T) {
	ms := Corpus(300, 5)
	depts, topics := Generate(2000, 3, taxonomyRules, ms)
	if len(depts) != 100 || len(topics) != 100 || depts[0].Slug != "d0" || topics[99].Slug != "t99" {
		t.Fatalf("categories: %d departments from %s, %d topics to %s", len(depts), depts[0].Slug, len(topics), topics[99].Slug)
	}
	var rules []string
	for _, c := range append(slices.Clone(depts), topics...) {
		rules = append(rules, c.Rules...)
	}
	if len(rules) != 2000 {
		t.Fatalf("%d rules, want 2000", len(rules))
	}
	boolean := 0
	for _, r := range rules {
		if strings.Contains(r, " AND ") || strings.Contains(r, " OR ") || strings.Contains(r, " NOT ") || strings.Contains(r, " NEAR/") || strings.Count(r, " ") > 0 && !strings.HasPrefix(r, `"`) {
			boolean++
		}
	}
	if boolean < 300 || boolean > 500 {
		t.Errorf("%d of 2000 rules boolean, want about a fifth", boolean)
	}
	// The same inputs and seed, the same rules.
	d2, t2 := Generate(2000, 3, taxonomyRules, Corpus(300, 5))
	for i := range depts {
		if !slices.Equal(depts[i].Rules, d2[i].Rules) || !slices.Equal(topics[i].Rules, t2[i].Rules) {
			t.Fatalf("category %d differs between two runs with the same seed", i)
		}
	}
}

func TestCorpus(t *testing.T) {
	ms := Corpus(70, 1)
	if ms[0].Lang != "cy" || ms[10].Lang != "cy" || ms[0].AuthorHandle != "citizen_0" || ms[7].AuthorHandle != "citizen_7" {
		t.Errorf("corpus: %+v %+v", ms[0], ms[7])
	}
}
