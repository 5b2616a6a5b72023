package lang

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// mention is one input of the benchmark mix.
type mention struct{ text, platform string }

// benchMix builds a mix of n mentions like the ones govlisten reads:
// 80% English, 6% Welsh and bilingual, 14% other languages and texts
// without language, drawn from the corpus in a fixed shuffled order.
// With xCodes every mention carries the code X would give it (English
// for Welsh a third of the time); without, none does, as for YouTube and
// Facebook — the dearer case, since only there the model is consulted.
func benchMix(n int, xCodes bool) []mention {
	var english, welsh, other []mention
	for _, c := range corpus {
		m := mention{text: c.text}
		if xCodes {
			m.platform = c.want
		}
		switch c.want {
		case "en":
			english = append(english, m)
		case "cy":
			welsh = append(welsh, m)
		default:
			other = append(other, m)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	mix := make([]mention, 0, n)
	for i := range n {
		var m mention
		switch k := r.IntN(100); {
		case k < 80:
			m = english[r.IntN(len(english))]
		case k < 86:
			m = welsh[r.IntN(len(welsh))]
			if xCodes && i%3 == 0 {
				m.platform = "en"
			}
		default:
			m = other[r.IntN(len(other))]
		}
		mix = append(mix, m)
	}
	return mix
}

// BenchmarkDetect measures Detect on the mix, one mention per op; run it
// on one core (go test -bench Detect -cpu 1). It reports mentions/s, the
// process's CPU time per op (on a shared, loaded machine a steadier figure
// than wall time; it includes the GC), the share of mentions the model
// decided, and the heap the models hold.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct {
		name   string
		xCodes bool
	}{{"no-platform-code", false}, {"x-codes", true}} {
		b.Run(bc.name, func(b *testing.B) {
			mix := benchMix(10000, bc.xCodes)
			model := 0
			for _, m := range mix {
				if _, st := detector.detect(m.text, m.platform); st == stepModel {
					model++
				}
			}
			b.ReportAllocs()
			i := 0
			cpu := cpuTime()
			for b.Loop() {
				m := mix[i%len(mix)]
				detector.Detect(m.text, m.platform)
				i++
			}
			cpu = cpuTime() - cpu
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(100*float64(model)/float64(len(mix)), "%model")
			b.ReportMetric(modelHeapMB, "model-MB")
		})
	}
}

// BenchmarkDetectPath measures each way Detect decides on its own.
func BenchmarkDetectPath(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"english-words", "@DWP my Universal Credit payment hasn't arrived and the journal just says it's being processed. What am I supposed to do?"},
		{"welsh-words", "Mae Llywodraeth Cymru wedi cyhoeddi £10 miliwn ychwanegol ar gyfer gwasanaethau iechyd meddwl"},
		{"script", "کیا کوئی جانتا ہے کہ برطانیہ میں ورک ویزا کتنے عرصے میں ملتا ہے؟"},
		{"model", "Alguém sabe quanto tempo demora para receber o National Insurance Number?"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				detector.Detect(bc.text, "")
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
