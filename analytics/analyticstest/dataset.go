// Package analyticstest loads synthetic mentions shaped like a real
// deployment's into ClickHouse, for the benchmarks and browser tests of
// analytics and dashboard: tags skewed towards a few departments and
// topics, a public that asks questions, and departments that answer some
// of them in the same thread. The same seed gives the same data.
package analyticstest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Departments and Topics are the default taxonomy's slugs, most mentioned
// first in the data Load makes.
var (
	Departments = []string{"dwp", "hmrc", "home-office", "dhsc", "dfe", "hm-treasury", "dft", "mhclg", "moj", "desnz",
		"defra", "fcdo", "mod", "dsit", "dbt", "dcms", "cabinet-office", "number-10", "nio", "scotland-office", "wales-office"}
	Topics = []string{"cost-of-living", "welfare", "tax", "health", "immigration", "housing", "transport", "education",
		"public-spending", "energy-climate", "crime-justice", "environment", "digital-services", "economy-business",
		"defence", "international", "culture-media-sport"}
)

// Options shape a data set.
type Options struct {
	// N is how many mentions (public and own) to load.
	N int
	// End is the newest time posted; mentions spread evenly over the Days
	// before it.
	End  time.Time
	Days int
	// Seed makes the data; the same seed gives the same mentions.
	Seed uint64
	// Batch is the insert batch size; default 50,000.
	Batch int
}

// Load inserts o.N mentions with st.Insert (which the rollups' materialized
// views follow) and returns how many were own replies. About 2% of the
// mentions are a department's own replies, each to an earlier public
// mention of the same thread; about a fifth of the public ones are
// questions.
func Load(ctx context.Context, st *sink.Store, o Options) (own int, err error) {
	if o.Batch <= 0 {
		o.Batch = 50_000
	}
	if o.Days <= 0 {
		o.Days = 30
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed+1))
	g := synth.New(o.Seed)
	span := time.Duration(o.Days) * 24 * time.Hour
	start := o.End.Add(-span)
	threads := max(o.N/20, 1)
	// last public mention of each thread, for own replies to answer
	type post struct {
		id, dept string
		at       time.Time
	}
	last := make([]post, threads)
	rows := make([]sink.Row, 0, o.Batch)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := st.Insert(ctx, rows); err != nil {
			return err
		}
		rows = rows[:0]
		return nil
	}
	for i := 0; i < o.N; i++ {
		m := g.Next()
		// Time grows with i, so a thread's own reply follows its question.
		at := start.Add(time.Duration(float64(span) * (float64(i) + r.Float64()) / float64(o.N))).Truncate(time.Second)
		m.CreatedAt, m.CollectedAt = at, at.Add(time.Minute)
		t := r.IntN(threads)
		m.ThreadID = fmt.Sprintf("th%d", t)
		if m.Kind != mention.KindPost {
			m.ParentID = m.ThreadID
		}
		var tags tagger.Tags
		if p := last[t]; p.id != "" && r.Float64() < 0.02 {
			m.Own, m.Kind, m.ParentID = true, mention.KindReply, p.id
			m.Text = "Thanks for getting in touch. Please send us a direct message with your reference number."
			m.Source = mention.Source{Name: "own", Department: p.dept}
			tags.Departments = []string{p.dept}
			tags.Sentiment = tagger.Score{Score: 0.2, Label: tagger.Neutral}
			own++
		} else {
			tags.Departments = pick(r, Departments, []float64{0.2, 0.7, 0.1})
			tags.Topics = topics(r, tags.Departments)
			if r.Float64() < 0.3 && len(tags.Departments) > 0 {
				m.Source.Department = tags.Departments[0]
			}
			// About a fifth of public mentions are questions, as in
			// real listening data: synth's own question marks go, and
			// some mentions ask one (synth's "Why are potholes..."
			// opener still counts, by its first word).
			m.Text = strings.ReplaceAll(m.Text, "?", ".")
			if r.Float64() < 0.18 {
				m.Text = "Can someone explain when this will be fixed? " + m.Text
			}
			tags.Sentiment = score(r)
			dept := ""
			if len(tags.Departments) > 0 {
				dept = tags.Departments[0]
			}
			last[t] = post{id: m.ID, dept: dept, at: at}
			// The tagger lists slugs sorted; so does the data, or a
			// rollup would see each pair twice, in both orders.
			slices.Sort(tags.Departments)
			slices.Sort(tags.Topics)
		}
		tags.Lang = "en"
		rows = append(rows, sink.Row{M: m, Tags: tags, Taxonomy: "bench@synthetic"})
		if len(rows) == o.Batch {
			if err := flush(); err != nil {
				return own, err
			}
		}
	}
	return own, flush()
}

// topics draws 0, 1 or 2 topics; like real mentions, mostly the
// department's own ones (dwp: welfare, cost of living).
func topics(r *rand.Rand, depts []string) []string {
	if len(depts) == 0 || r.Float64() < 0.25 {
		return pick(r, Topics, []float64{0.4, 0.5, 0.1})
	}
	i := slices.Index(Departments, depts[0])
	home := []string{Topics[i%len(Topics)], Topics[(i*7+3)%len(Topics)]}
	switch x := r.Float64(); {
	case x < 0.2:
		return nil
	case x < 0.9:
		return home[r.IntN(2):][:1]
	default:
		return home
	}
}

// pick draws 0, 1 or 2 slugs (with the chances given) from a Zipf-like
// distribution over slugs: the first few are much more common.
func pick(r *rand.Rand, slugs []string, chances []float64) []string {
	x := r.Float64()
	n := 0
	for n < len(chances)-1 && x >= chances[n] {
		x -= chances[n]
		n++
	}
	out := make([]string, 0, n)
	for len(out) < n {
		s := slugs[zipf(r, len(slugs))]
		if len(out) == 0 || out[0] != s {
			out = append(out, s)
		}
	}
	return out
}

func zipf(r *rand.Rand, n int) int {
	// inverse of a 1/(k+1) distribution, good enough for skew
	i := int(math.Exp(r.Float64()*math.Log(float64(n+1)))) - 1
	return min(max(i, 0), n-1)
}

// score draws a sentiment: about 45% negative, 35% neutral, 20% positive.
func score(r *rand.Rand) tagger.Score {
	switch x := r.Float64(); {
	case x < 0.45:
		return tagger.Score{Score: -0.1 - 0.9*r.Float64(), Label: tagger.Negative}
	case x < 0.8:
		return tagger.Score{Score: -0.1 + 0.45*r.Float64(), Label: tagger.Neutral}
	default:
		return tagger.Score{Score: 0.35 + 0.65*r.Float64(), Label: tagger.Positive}
	}
}
