package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/govlisten/govlisten/internal/rulegen"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/tagger"
)

// BenchTagCmd is `govlisten bench tag`.
type BenchTagCmd struct {
	BenchCommon
	BenchTagOpts
}

// BenchTagOpts size the tag section.
type BenchTagOpts struct {
	Time   time.Duration `help:"How long each measure runs in each round." default:"2s"`
	Rounds int           `help:"Rounds of the three measures, in turn; the best of each is reported." default:"3"`
	Rules  int           `help:"Generated rules of the large taxonomy." default:"10000"`
}

// Help explains the figures.
func (c *BenchTagCmd) Help() string {
	return "The processor's whole tag step (language detection, taxonomy rules, public-sector sentiment, as `process` configures it) on synthetic mentions, as processors' BenchmarkTagStep runs it: X mentions carry a language code, YouTube and Facebook ones do not. Once with the built-in taxonomy and once with generated rules (internal/rulegen, a fifth of them boolean), beside a raw pass over the same texts: strings.ToLower of each, one Unicode-aware pass that allocates the lowered copy. Each runs in one goroutine; mentions per CPU-second counts all of this process's CPU meanwhile (the garbage collector's too), which is the figure per core; mentions/s is wall-clock."
}

// Run benchmarks the tag step.
func (c *BenchTagCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "tag", func(e *benchEnv, res *benchResults) (err error) {
		res.Tag, err = benchTag(e, c.BenchTagOpts)
		return err
	})
}

type tagMeasure struct {
	Name  string `json:"name"`
	Rules int    `json:"rules"`
	// Bests of the rounds: mentions per CPU-second of this process (the
	// figure per core), mentions per second of wall time (one goroutine),
	// and the CPU-seconds per wall-second of the best round (above 1: the
	// garbage collector on the other core).
	PerCore   float64     `json:"mentions_per_cpu_second"`
	PerSecond float64     `json:"mentions_per_second"`
	CoresUsed float64     `json:"cpu_per_wall_second"`
	Rounds    []tagSample `json:"rounds"`
}

type tagSample struct {
	Mentions int64   `json:"mentions"`
	Seconds  float64 `json:"seconds"`
	CPU      float64 `json:"cpu_seconds"`
}

type tagResult struct {
	Mentions      int        `json:"corpus_mentions"`
	MeanTextBytes int        `json:"mean_text_bytes"`
	Raw           tagMeasure `json:"raw"`       // strings.ToLower of each text
	Default       tagMeasure `json:"default"`   // the built-in taxonomy
	Generated     tagMeasure `json:"generated"` // rulegen's rules
	TargetPerCore float64    `json:"target_mentions_per_cpu_second"`
	Met           bool       `json:"targets_met"`
}

func benchTag(e *benchEnv, o BenchTagOpts) (*tagResult, error) {
	if o.Time <= 0 || o.Rounds <= 0 || o.Rules <= 0 {
		return nil, errors.New("--time, --rounds and --rules must be positive")
	}
	g := synth.New(1)
	ms := make([]*mention.Mention, 4096)
	textBytes := 0
	for i := range ms {
		ms[i] = g.Next()
		if ms[i].Platform != mention.Twitter {
			ms[i].Lang = ""
		}
		textBytes += len(ms[i].Text)
	}
	opts := taggerOptions(e.cfg)
	def, err := processors.LoadTaxonomy("", processors.Compile(opts))
	if err != nil {
		return nil, err
	}
	builtin, err := tagger.LoadTaxonomy("")
	if err != nil {
		return nil, err
	}
	var rules []string
	for _, cs := range [][]tagger.Category{builtin.Departments, builtin.Topics} {
		for _, c := range cs {
			rules = append(rules, c.Rules...)
		}
	}
	depts, topics := rulegen.Generate(o.Rules, 7, rules, ms)
	tx := &tagger.Taxonomy{Version: 1}
	for _, c := range depts {
		tx.Departments = append(tx.Departments, tagger.Category{Slug: c.Slug, Rules: c.Rules})
	}
	for _, c := range topics {
		tx.Topics = append(tx.Topics, tagger.Category{Slug: c.Slug, Rules: c.Rules})
	}
	gen, err := tagger.Compile(tx, opts)
	if err != nil {
		return nil, fmt.Errorf("compiling %d generated rules: %w", o.Rules, err)
	}
	res := &tagResult{Mentions: len(ms), MeanTextBytes: textBytes / len(ms), TargetPerCore: 50_000}
	res.Raw = tagMeasure{Name: "raw pass: strings.ToLower of each text"}
	res.Default = tagMeasure{Name: "tag step, built-in taxonomy", Rules: def.Current().Rules()}
	res.Generated = tagMeasure{Name: fmt.Sprintf("tag step, %s generated rules", num(float64(gen.Rules()))), Rules: gen.Rules()}
	section(fmt.Sprintf("tag: %d synthetic mentions (%d bytes of text on average), one goroutine, GOMAXPROCS %d, %s per measure, %s",
		len(ms), res.MeanTextBytes, runtime.GOMAXPROCS(0), o.Time, rounds(o.Rounds)))
	measures := []struct {
		m  *tagMeasure
		fn func(*mention.Mention) int
	}{
		{&res.Raw, func(m *mention.Mention) int { return len(strings.ToLower(m.Text)) }},
		{&res.Default, func(m *mention.Mention) int { return len(def.Current().Tag(m).Matched) }},
		{&res.Generated, func(m *mention.Mention) int { return len(gen.Tag(m).Matched) }},
	}
	for round := 0; round < o.Rounds; round++ {
		for _, x := range measures {
			s := measureTag(o.Time, ms, x.fn)
			x.m.Rounds = append(x.m.Rounds, s)
			if pc := float64(s.Mentions) / s.CPU; pc > x.m.PerCore {
				x.m.PerCore, x.m.CoresUsed = pc, s.CPU/s.Seconds
			}
			x.m.PerSecond = max(x.m.PerSecond, float64(s.Mentions)/s.Seconds)
		}
	}
	res.Met = res.Default.PerCore >= res.TargetPerCore && res.Generated.PerCore >= res.TargetPerCore
	t := newTable(os.Stdout, "measure", "rules", "mentions/s per core (CPU)", "mentions/s (wall)", "CPU/wall", "share of raw", "target")
	for _, x := range measures {
		target, share := "", ""
		if x.m != &res.Raw {
			target = fmt.Sprintf(">= 50,000/core: %s", met(x.m.PerCore >= res.TargetPerCore))
			share = ratio(x.m.PerCore, res.Raw.PerCore)
		}
		rules := "-"
		if x.m.Rules > 0 {
			rules = num(float64(x.m.Rules))
		}
		t.row(x.m.Name, rules, num(x.m.PerCore), num(x.m.PerSecond), fmt.Sprintf("%.2f", x.m.CoresUsed), share, target)
	}
	t.flush()
	fmt.Println("best of the rounds; per core = mentions over this process's CPU-seconds (the garbage collector's included)")
	return res, nil
}

// measureTag runs fn over ms, round and round, for about d.
func measureTag(d time.Duration, ms []*mention.Mention, fn func(*mention.Mention) int) tagSample {
	runtime.GC() // the last measure's garbage is not this one's
	var n int64
	sum := 0 // kept alive, so that the work cannot be dropped
	cpu0, t0 := selfCPU(), time.Now()
	for time.Since(t0) < d {
		for i := 0; i < 256; i++ {
			sum += fn(ms[n%int64(len(ms))])
			n++
		}
	}
	runtime.KeepAlive(sum)
	return tagSample{Mentions: n, Seconds: time.Since(t0).Seconds(), CPU: max((selfCPU() - cpu0).Seconds(), 0.001)}
}
