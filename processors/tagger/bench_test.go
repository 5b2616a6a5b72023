package tagger

import (
	"testing"

	"github.com/govlisten/govlisten/mention"
)

// Run single-core, as the throughput targets are per core:
//
//	go test -run '^$' -bench . -cpu 1 ./processors/tagger

func benchTaggers(b *testing.B) (def, gen *Tagger, ms []*mention.Mention) {
	b.Helper()
	ms = corpus(2000, 11)
	tx, err := LoadTaxonomy("")
	if err != nil {
		b.Fatal(err)
	}
	if def, err = New(tx); err != nil {
		b.Fatal(err)
	}
	if gen, err = New(generatedTaxonomy(b, 10000, 7, ms)); err != nil {
		b.Fatal(err)
	}
	return def, gen, ms
}

// benchMatch reports mentions/s, and how much fires: the share of mentions
// with a rule firing and the rules fired per mention.
func benchMatch(b *testing.B, tg *Tagger, ms []*mention.Mention, tag bool) {
	fields := make([]Fields, len(ms))
	hit, rules := 0, 0
	for i, m := range ms {
		fields[i] = MentionFields(m, m.Lang)
		_, _, matched := tg.MatchFields(m.Text, fields[i])
		if len(matched) > 0 {
			hit++
		}
		rules += len(matched)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := ms[i%len(ms)]
		if tag {
			tg.Tag(m)
		} else {
			tg.MatchFields(m.Text, fields[i%len(ms)])
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
	b.ReportMetric(100*float64(hit)/float64(len(ms)), "%fired")
	b.ReportMetric(float64(rules)/float64(len(ms)), "rules/mention")
}

// BenchmarkMatch is rule matching alone with the default taxonomy.
func BenchmarkMatch(b *testing.B) {
	def, _, ms := benchTaggers(b)
	benchMatch(b, def, ms, false)
}

// BenchmarkMatch10k is rule matching alone with 10,000 generated rules, a
// fifth of them boolean.
func BenchmarkMatch10k(b *testing.B) {
	_, gen, ms := benchTaggers(b)
	b.ReportMetric(float64(gen.Rules()), "rules")
	benchMatch(b, gen, ms, false)
}

// BenchmarkTag is the whole tag step: rules and sentiment.
func BenchmarkTag(b *testing.B) {
	def, _, ms := benchTaggers(b)
	benchMatch(b, def, ms, true)
}

// BenchmarkTag10k is the whole tag step with 10,000 generated rules.
func BenchmarkTag10k(b *testing.B) {
	_, gen, ms := benchTaggers(b)
	benchMatch(b, gen, ms, true)
}

// BenchmarkNew10k is compiling 10,000 rules.
func BenchmarkNew10k(b *testing.B) {
	ms := corpus(200, 11)
	tx := generatedTaxonomy(b, 10000, 7, ms)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := New(tx); err != nil {
			b.Fatal(err)
		}
	}
}
