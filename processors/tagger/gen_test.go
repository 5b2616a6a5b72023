package tagger

import (
	"testing"

	"github.com/govlisten/govlisten/internal/rulegen"
	"github.com/govlisten/govlisten/mention"
)

// corpus is synthetic mentions for tests and benchmarks, with some Welsh,
// Scottish and Irish text and some authors the generated author: filters
// name (rulegen.Corpus).
func corpus(n int, seed uint64) []*mention.Mention { return rulegen.Corpus(n, seed) }

// generatedTaxonomy has n random rules over 100 departments and 100
// topics, written by rulegen from the words of the built-in taxonomy and
// of ms.
func generatedTaxonomy(tb testing.TB, n int, seed uint64, ms []*mention.Mention) *Taxonomy {
	tb.Helper()
	def, err := LoadTaxonomy("")
	if err != nil {
		tb.Fatal(err)
	}
	var rules []string
	for _, cs := range [][]Category{def.Departments, def.Topics} {
		for _, c := range cs {
			rules = append(rules, c.Rules...)
		}
	}
	depts, topics := rulegen.Generate(n, seed, rules, ms)
	tx := &Taxonomy{Version: 1}
	for _, c := range depts {
		tx.Departments = append(tx.Departments, Category{Slug: c.Slug, Rules: c.Rules})
	}
	for _, c := range topics {
		tx.Topics = append(tx.Topics, Category{Slug: c.Slug, Rules: c.Rules})
	}
	return tx
}
