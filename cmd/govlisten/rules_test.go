package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

func TestRulesLint(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	good := filepath.Join(dir, "good.yaml")
	for path, src := range map[string]string{
		bad: `version: 1
departments:
  - slug: dwp
    rules:
      - '"Universal Credit"'
      - '"Universal Credit" AND (sanction* OR cuts'
      - plaform:youtube AND dwp
  - slug: dwp
    rules: [ok]
topics:
  - slug: welfare
    rules: ['NOT benefits']
`,
		good: `version: 1
departments:
  - slug: dwp
    rules: [DWP, '"Universal Credit" NEAR/3 sanction*']
topics:
  - slug: welfare
    rules: [benefits AND NOT lang:cy]
`,
	} {
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if !lintFiles(&out, []string{bad, good}) {
		t.Error("lint passed a bad taxonomy")
	}
	want := bad + ":6:33: dwp rule 2: unclosed '(': expected ')' before the end of the rule\n" +
		bad + `:7:9: dwp rule 3: unknown field "plaform"; fields are platform, lang, kind, author` + "\n" +
		bad + ":8:5: slug \"dwp\" is defined twice\n" +
		bad + ":12:14: welfare rule 1: a rule must match something positive: NOT only excludes; write a AND NOT b\n" +
		good + ": 1 departments, 1 topics, 3 rules\n"
	if out.String() != want {
		t.Errorf("lint printed\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if lintFiles(&out, []string{good}) {
		t.Errorf("lint failed a good taxonomy: %s", out.String())
	}
}

func TestRulesExplain(t *testing.T) {
	tx := &tagger.Taxonomy{Version: 1,
		Departments: []tagger.Category{{Slug: "dwp", Rules: []string{`"Universal Credit"`, `sanction* AND platform:youtube`}}},
		Topics:      []tagger.Category{{Slug: "welfare", Rules: []string{`benefits NOT "universal credit"`}}},
	}
	tg, err := tagger.New(tx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := FieldFlags{Platform: mention.Twitter}.mention("Universal Credit sanctions and benefits")
	explain(&out, tg, m.Text, tagger.MentionFields(m, m.Lang))
	for _, want := range []string{
		"fields: platform=twitter\n",
		"departments: dwp\ntopics: none\n",
		"1 rules fired, 2 more had words occur\n",
		"dwp rule 1: \"Universal Credit\"\n  fired: \"Universal Credit\" occurs (words 1-2 \"Universal Credit\")\n",
		"dwp rule 2: sanction* AND platform:youtube\n  not fired: platform:youtube does not hold: the platform is \"twitter\"\n  occurs: sanction* at word 3 \"sanctions\"\n",
		"welfare rule 1: benefits NOT \"universal credit\"\n  not fired: NOT \"universal credit\" excluded it",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain printed\n%s\nwithout\n%s", out.String(), want)
		}
	}
}
