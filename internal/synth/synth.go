// Package synth makes realistic synthetic mentions for tests and
// benchmarks: varied platforms, kinds, departments, tones, Unicode, and ids
// as large as X's. The same seed gives the same mentions.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/govlisten/govlisten/mention"
)

var (
	openers = []string{
		"@DWP my Universal Credit payment is late again", "Waited 3 hours on the HMRC helpline about my tax code",
		"Huge thanks to the NHS staff at our local hospital", "The Home Office still hasn't processed my passport renewal",
		"Why are potholes on the A road never fixed? @transportgov", "Ofsted report for our school was fair and encouraging",
		"Energy bills up again, the warm home discount barely helps", "Council tax rise is a joke when services keep shrinking",
		"The armed forces deserve better housing than this", "Great news on the new rail timetable, trains finally on time",
		"Self Assessment deadline stress 😩 the HMRC app keeps crashing", "Cost of living is crushing families, food prices everywhere",
		"Sewage in the river again, @EnvAgency where are you", "Free school meals should be extended, simple as that",
		"Asylum hotels in our town and no answers from the Home Office", "Prisons are overcrowded and probation can't cope",
		"Diolch i'r GIG am y gofal ardderchog yn yr ysbyty", "Pourquoi le Foreign Office ne répond-il pas? travel advice unclear",
		"Spending Review cuts will hit local libraries hardest", "The GOV.UK One Login setup took me five minutes, impressive",
	}
	middles = []string{
		" and nobody answers the phone.", ". Absolutely useless service!", ", really impressed this time.", " – can someone explain?",
		". My neighbour had the same problem last month.", " 🙏 please sort it out.", "!!! Disgraceful.", ". Thank you so much 👏",
		" and the website just times out.", ", which is not what was promised in the manifesto.",
	}
	closers = []string{
		" #UniversalCredit", " #NHS", " #CostOfLiving", " #HMRC", " #Budget2025", "", "", " #potholes", " 🇬🇧", " #NetZero",
	}
	fillers = []string{
		"I have written to my MP twice and had a template reply both times.",
		"My mum is 82 and cannot use the online form, what is she supposed to do?",
		"The letter said 4 weeks, it has been 11 weeks now.",
		"Honestly the staff on the ground are great, it's the system that is broken.",
		"Please share this if it has happened to you too.",
		"Called at 8am sharp, queue position 147.",
	}
	platforms = []string{mention.Twitter, mention.YouTube, mention.Facebook}
	kinds     = []string{mention.KindPost, mention.KindComment, mention.KindReply}
)

// Generator produces mentions. Not safe for concurrent use.
type Generator struct {
	r      *rand.Rand
	base   time.Time
	spread time.Duration
	n      uint64
}

// DefaultSpread is how far apart New's mentions were posted: their
// creation times are uniform over the 20 days from 1 November 2026.
const DefaultSpread = 20 * 24 * time.Hour

// New returns a Generator; the same seed yields the same sequence.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), base: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), spread: DefaultSpread}
}

// Spread sets the span the creation times are spread over, from
// 1 November 2026 (a second at least), and returns g.
func (g *Generator) Spread(d time.Duration) *Generator {
	g.spread = max(d, time.Second)
	return g
}

// Next returns the next mention, with a unique id.
func (g *Generator) Next() *mention.Mention {
	g.n++
	r := g.r
	p := platforms[r.IntN(len(platforms))]
	k := kinds[r.IntN(len(kinds))]
	var id string
	switch p {
	case mention.Twitter:
		id = fmt.Sprintf("19%017d", g.n) // > 2^53, like real X ids
	case mention.YouTube:
		id = fmt.Sprintf("Ugz%020dAaABAg", g.n)
	default:
		id = fmt.Sprintf("118822334455_%d", 99000000+g.n)
	}
	var b strings.Builder
	b.WriteString(openers[r.IntN(len(openers))])
	b.WriteString(middles[r.IntN(len(middles))])
	for i := 0; i < 1+r.IntN(2); i++ {
		b.WriteByte(' ')
		b.WriteString(fillers[r.IntN(len(fillers))])
	}
	b.WriteString(closers[r.IntN(len(closers))])
	created := g.base.Add(time.Duration(r.Int64N(int64(g.spread)))).Truncate(time.Second)
	m := &mention.Mention{
		V: mention.Version, Platform: p, ID: id, Kind: k,
		ThreadID:     fmt.Sprintf("t%d", r.IntN(5000)),
		AuthorID:     fmt.Sprintf("%d", 1000000+r.IntN(200000)),
		AuthorHandle: fmt.Sprintf("citizen_%d", r.IntN(200000)),
		AuthorName:   "Member of the Public",
		Text:         b.String(),
		Lang:         "en",
		URL:          "https://example.invalid/" + p + "/" + id,
		CreatedAt:    created,
		CollectedAt:  created.Add(5 * time.Minute),
		Metrics:      mention.Metrics{Likes: uint64(r.IntN(500)), Replies: uint64(r.IntN(40)), Shares: uint64(r.IntN(60))},
		Source:       mention.Source{Name: p + "-search"},
	}
	if k != mention.KindPost {
		m.ParentID = m.ThreadID
	}
	m.Raw, _ = json.Marshal(map[string]any{"id": id, "lang": "en"})
	return m
}

// Line returns the next mention as one JSON line (without the newline).
func (g *Generator) Line() []byte {
	b, _ := json.Marshal(g.Next())
	return b
}
