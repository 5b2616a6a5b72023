package alerts

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/govlisten/govlisten/alerts/webhook"
)

// Result is what one run did.
type Result struct {
	// Found is the spikes in the run's window, New those stored for the
	// first time, Posted those the webhook accepted, Pending those still
	// unsent when the run ended.
	Found, New, Posted, Pending int
}

// RunOnce detects the spikes of the complete periods in its window (see the
// package comment), stores the new ones with their explanation, and posts
// every unsent alert of the window to the webhook, marking each sent once
// the webhook accepted it. It stops posting at the first failure and
// returns that error (redacted) after storing what it found; the alerts
// left unsent are posted by the next run.
func (d *Detector) RunOnce(ctx context.Context) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var (
		res      Result
		found    []Alert
		earliest = now
		inWindow = map[Period][2]time.Time{}
	)
	for _, p := range []Period{Hour, Day} {
		from, to := window(p, now, d.since())
		inWindow[p] = [2]time.Time{from, to}
		if from.Before(earliest) {
			earliest = from
		}
		as, err := d.Detect(ctx, p, from, to)
		if err != nil {
			return res, err
		}
		found = append(found, as...)
	}
	res.Found = len(found)
	stored, err := d.Stored(ctx, earliest, now)
	if err != nil {
		return res, err
	}
	known := map[string]bool{}
	for _, a := range stored {
		known[a.ID] = true
	}
	var fresh []Alert
	for _, a := range found {
		if known[a.ID] {
			continue
		}
		if err := d.Explain(ctx, &a); err != nil {
			return res, err
		}
		a.DetectedAt = now
		fresh = append(fresh, a)
	}
	if err := d.insert(ctx, fresh); err != nil {
		return res, err
	}
	res.New = len(fresh)
	for _, a := range fresh {
		d.log().Info("spike", "id", a.ID, "mentions", a.Mentions, "baseline", round1(a.Baseline), "stddev", round1(a.Stddev),
			"negative_share", round2(a.NegativeShare), "baseline_negative_share", round2(a.BaselineNegativeShare), "top_terms", a.TopTerms)
	}

	var pending []Alert
	for _, a := range append(stored, fresh...) {
		w := inWindow[a.Period]
		if !a.Notified() && !a.Start.Before(w[0]) && a.Start.Before(w[1]) {
			pending = append(pending, a)
		}
	}
	sort.SliceStable(pending, func(i, j int) bool {
		if !pending[i].Start.Equal(pending[j].Start) {
			return pending[i].Start.Before(pending[j].Start)
		}
		return pending[i].ID < pending[j].ID
	})
	if d.Webhook == nil {
		res.Pending = len(pending)
		return res, nil
	}
	for i := range pending {
		posted, err := d.notify(ctx, &pending[i])
		if posted {
			res.Posted++
		}
		if err != nil {
			res.Pending = len(pending) - i
			if posted {
				return res, fmt.Errorf("alert %s: %w", pending[i].ID, err)
			}
			return res, fmt.Errorf("alert %s not sent (retried next run): %w", pending[i].ID, err)
		}
	}
	return res, nil
}

// notify posts a unless the table says it was sent meanwhile, then stores
// it as sent. posted is false when another run had sent it.
func (d *Detector) notify(ctx context.Context, a *Alert) (posted bool, err error) {
	cur, ok, err := d.reload(ctx, a)
	if err != nil {
		return false, err
	}
	if ok {
		if cur.Notified() {
			return false, nil
		}
		*a = cur
	}
	eng, err := d.links(ctx, a)
	if err != nil {
		return false, err
	}
	if err := d.Webhook.Post(ctx, d.message(a, eng)); err != nil {
		return false, err
	}
	sent := *a
	sent.NotifiedAt = d.now()
	// The sent row must win over any row stored before it: one second past
	// both the clock and the row it replaces.
	v := sent.NotifiedAt
	if a.DetectedAt.After(v) {
		v = a.DetectedAt
	}
	sent.DetectedAt = v.Add(time.Second)
	// Recorded even when ctx ends now (a shutdown): the webhook has it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := d.insert(rctx, []Alert{sent}); err != nil {
		// Posted but not recorded: the next run will post it again.
		return true, fmt.Errorf("posted, but recording it as sent failed (it may be posted again): %w", err)
	}
	*a = sent
	d.log().Info("alert sent", "id", a.ID, "webhook", d.Webhook.String())
	return true, nil
}

// message is the chat message of an alert.
func (d *Detector) message(a *Alert, eng []Engaged) webhook.Message {
	name := d.name(a.Slug)
	kind := "Department"
	if a.Scope == Topic {
		kind = "Topic"
	}
	usual := fmt.Sprintf("%.1f ± %.1f", a.Baseline, a.Stddev)
	head := fmt.Sprintf("%s mentions %s, against an average of %.1f over the previous %s", thousands(a.Mentions), periodPhrase(a), a.Baseline, windowPhrase(a.Period))
	if a.Baseline > 0 {
		head += fmt.Sprintf(" (%.1f×)", float64(a.Mentions)/a.Baseline)
	}
	facts := []webhook.Fact{
		{Name: kind, Value: name},
		{Name: "Mentions", Value: thousands(a.Mentions)},
		{Name: "Usual (mean ± sd)", Value: usual},
		{Name: "Negative share", Value: percent(a.NegativeShare) + " (usually " + percent(a.BaselineNegativeShare) + ")"},
	}
	if len(a.TopTerms) > 0 {
		facts = append(facts, webhook.Fact{Name: "Words standing out", Value: strings.Join(a.TopTerms, ", ")})
	}
	var links []webhook.Link
	for _, e := range eng {
		links = append(links, webhook.Link{Text: fmt.Sprintf("%s (%s interactions)", e.ID, thousands(e.Engagement)), URL: e.URL})
	}
	return webhook.Message{
		Title:      "Spike: " + name,
		Summary:    fmt.Sprintf("Spike: %s, %s mentions %s (usually %.1f)", name, thousands(a.Mentions), periodPhrase(a), a.Baseline),
		Paragraphs: []string{head + "."},
		Facts:      facts,
		Links:      links,
		Footer:     "govlisten alert " + a.ID,
	}
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
