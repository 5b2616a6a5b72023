package processors_test

import (
	"testing"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/lang"
	"github.com/govlisten/govlisten/processors/tagger"
)

// BenchmarkTagStep is the whole tag step of the processor, as configured
// by default: language detection, the built-in taxonomy's rules and the
// public-sector sentiment model, on synthetic mentions. X gives a language
// code and YouTube and Facebook do not, so detection runs in full for two
// thirds of them. Run with -cpu 1 for mentions/s per core.
func BenchmarkTagStep(b *testing.B) {
	tax, err := processors.LoadTaxonomy("", processors.Compile(tagger.Options{Lang: lang.New().Detect}))
	if err != nil {
		b.Fatal(err)
	}
	g := synth.New(1)
	ms := make([]*mention.Mention, 4096)
	for i := range ms {
		ms[i] = g.Next()
		if ms[i].Platform != mention.Twitter {
			ms[i].Lang = ""
		}
	}
	tg := tax.Current()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tg.Tag(ms[i%len(ms)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
}
