package webhook

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Slack's limits on Block Kit fields (api.slack.com/reference/block-kit).
const (
	slackHeaderMax  = 150
	slackTextMax    = 3000
	slackFieldMax   = 2000
	slackFieldsMax  = 10
	slackFallbackMx = 3000
)

// slackBody renders m as a Slack incoming-webhook body: text is the
// notification fallback, blocks the message (header, sections, fields,
// links, context).
func slackBody(m Message) map[string]any {
	var blocks []map[string]any
	if m.Title != "" {
		blocks = append(blocks, map[string]any{
			"type": "header",
			"text": map[string]any{"type": "plain_text", "text": clip(m.Title, slackHeaderMax), "emoji": false},
		})
	}
	for _, p := range m.Paragraphs {
		if p == "" {
			continue
		}
		blocks = append(blocks, map[string]any{
			"type": "section",
			"text": map[string]any{"type": "mrkdwn", "text": clip(slackEscape(p), slackTextMax)},
		})
	}
	for i := 0; i < len(m.Facts); i += slackFieldsMax {
		var fields []map[string]any
		for _, f := range m.Facts[i:min(i+slackFieldsMax, len(m.Facts))] {
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": clip("*"+slackEscape(f.Name)+"*\n"+slackEscape(f.Value), slackFieldMax)})
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	if len(m.Links) > 0 {
		var b strings.Builder
		for _, l := range m.Links {
			b.WriteString("• ")
			if u, ok := safeURL(l.URL); ok {
				b.WriteString("<" + strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E").Replace(u) + "|" + slackEscape(l.Text) + ">")
			} else {
				b.WriteString(slackEscape(l.Text))
			}
			b.WriteByte('\n')
		}
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": clip(b.String(), slackTextMax)}})
	}
	if m.Footer != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": clip(slackEscape(m.Footer), slackTextMax)}}})
	}
	text := m.Summary
	if text == "" {
		text = m.Title
	}
	return map[string]any{"text": clip(slackEscape(text), slackFallbackMx), "blocks": blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to
// in control sequences (<link|text>, <!channel>, <@user>).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// teamsBody renders m as a Teams message with one Adaptive Card (schema
// 1.4, which Teams renders).
func teamsBody(m Message) map[string]any {
	var body []map[string]any
	if m.Title != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": teamsEscape(m.Title), "size": "Large", "weight": "Bolder", "wrap": true, "style": "heading"})
	}
	for _, p := range m.Paragraphs {
		if p != "" {
			body = append(body, map[string]any{"type": "TextBlock", "text": teamsEscape(p), "wrap": true})
		}
	}
	if len(m.Facts) > 0 {
		var facts []map[string]any
		for _, f := range m.Facts {
			facts = append(facts, map[string]any{"title": teamsEscape(f.Name), "value": teamsEscape(f.Value)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	for _, l := range m.Links {
		text := teamsEscape(l.Text)
		if u, ok := safeURL(l.URL); ok {
			text = "[" + text + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u) + ")"
		}
		body = append(body, map[string]any{"type": "TextBlock", "text": "- " + text, "wrap": true, "spacing": "None"})
	}
	if m.Footer != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": teamsEscape(m.Footer), "wrap": true, "isSubtle": true, "size": "Small"})
	}
	summary := m.Summary
	if summary == "" {
		summary = m.Title
	}
	return map[string]any{
		"type":    "message",
		"summary": summary,
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
				"msteams": map[string]any{"width": "Full"},
			},
		}},
	}
}

// teamsEscape keeps text from forming an Adaptive Card markdown link:
// Teams renders no backslash escapes, so square brackets become round.
// Emphasis (* and _) is left alone: it can only change how a word looks.
func teamsEscape(s string) string {
	return strings.NewReplacer("[", "(", "]", ")").Replace(s)
}

// safeURL returns u re-encoded when it is an absolute http(s) URL.
func safeURL(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// clip shortens s to at most n runes, ending with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
