package briefing

import (
	"fmt"
	"strings"

	"github.com/govlisten/govlisten/alerts/webhook"
)

// Message is the briefing's summary for a chat webhook: the headline
// numbers, the movements and the number of spikes. file, when not "",
// names the full briefing (a file name, not a path: the readers are not on
// this host).
func (b *Briefing) Message(file string) webhook.Message {
	h := b.headlines()
	title := fmt.Sprintf("Daily briefing %s: %s", b.Date.Format("Mon 2 Jan 2006"), b.Scope())
	summary := fmt.Sprintf("%s: %s mentions (day before: %s), negative share %s, mean sentiment %s",
		title, h[0].Value, h[0].Previous, h[1].Value, h[2].Value)
	var facts []webhook.Fact
	for _, x := range h {
		facts = append(facts, webhook.Fact{Name: x.Label, Value: x.Value + " · day before: " + x.Previous + " · 7 days: " + x.Week})
	}
	spikes := "No spikes."
	switch n := len(b.Spikes) + b.SpikesLeft; n {
	case 0:
	case 1:
		spikes = "1 spike: " + b.spikeLine(b.Spikes[0])
	default:
		spikes = fmt.Sprintf("%d spikes, the first: %s", n, b.spikeLine(b.Spikes[0]))
	}
	facts = append(facts, webhook.Fact{Name: "Spikes", Value: spikes})
	var paras []string
	if len(b.Movements) > 0 {
		lines := []string{"Biggest movements:"}
		for i, m := range b.Movements {
			lines = append(lines, fmt.Sprintf("%d. %s", i+1, m.String()))
		}
		paras = append(paras, strings.Join(lines, "\n"))
	}
	footer := "govlisten daily briefing (UTC day)"
	if file != "" {
		footer += ": the full briefing is " + file
	}
	return webhook.Message{Title: title, Summary: summary, Paragraphs: paras, Facts: facts, Footer: footer}
}
