// Package webhook posts messages to chat incoming webhooks: Slack (and the
// Slack-compatible Mattermost and Rocket.Chat) and Microsoft Teams.
//
// It exists so that alerts and the daily briefing speak the two request
// shapes in one place: a Message is written once and rendered either as a
// Slack incoming-webhook body ({"text": ..., "blocks": [...]}, Block Kit) or
// as a Teams message carrying an Adaptive Card (the body Teams Workflows'
// "post to a channel when a webhook request is received" and the older
// incoming-webhook connector both accept). Only the standard library is
// used: both are a JSON POST, and neither vendor's Go SDK adds anything a
// webhook needs.
//
// A webhook URL is a secret: its path (Slack) or query (Teams, sig=...)
// carries the token that lets anyone post. Nothing this package returns or
// logs contains more of it than scheme and host (see Redact); the URL is
// never followed through a redirect either.
//
// Messages carry no markup from their callers: the renderers escape text
// for each platform, so a name with "&" or a word with "<" cannot form a
// Slack link or mention.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Formats of the request body.
const (
	Slack = "slack"
	Teams = "teams"
)

// Message is what to post, platform-neutral. All strings are plain text.
type Message struct {
	// Title is the headline (Slack header block, Teams card title).
	Title string
	// Summary is the one-line plain-text fallback: Slack's notification
	// text, Teams' summary.
	Summary string
	// Paragraphs follow the title, each a block of plain text.
	Paragraphs []string
	// Facts are name/value pairs shown as a grid.
	Facts []Fact
	// Links are listed under the facts.
	Links []Link
	// Footer is small print at the end.
	Footer string
}

// Fact is one name/value pair.
type Fact struct{ Name, Value string }

// Link is a labelled http(s) URL; others are shown as text only.
type Link struct{ Text, URL string }

// Client posts to one webhook. It is safe for concurrent use.
type Client struct {
	url    string
	shown  string
	format string
	http   *http.Client
}

// New returns a client for the webhook at rawURL, posting bodies in format
// (Slack or Teams) and giving up on a request after timeout (0: 10 s).
// Errors never contain the URL's path or query.
func New(rawURL, format string, timeout time.Duration) (*Client, error) {
	shown := Redact(rawURL)
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook URL %s: not an http(s) URL", shown)
	}
	if format != Slack && format != Teams {
		return nil, fmt.Errorf("webhook format %q: want slack or teams", format)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Client{
		url:    u.String(),
		shown:  shown,
		format: format,
		http: &http.Client{
			Timeout: timeout,
			// A webhook answers; it does not redirect. Following one
			// could carry the token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// String is the redacted URL, safe for logs.
func (c *Client) String() string { return c.shown }

// Format is slack or teams.
func (c *Client) Format() string { return c.format }

// Redact returns scheme://host/… of a webhook URL: enough to tell webhooks
// apart in a log, never the token in the path or query.
func Redact(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" {
		return "(webhook URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// ErrStatus is returned, wrapped, when the webhook answered with a status
// other than 2xx.
var ErrStatus = errors.New("webhook refused the message")

// Post sends m and returns nil once the webhook accepted it (any 2xx: Slack
// answers 200 "ok", Teams Workflows 202). A network error, a timeout or a
// non-2xx answer returns an error that names the redacted URL and, for an
// answer, its status and the start of its body.
func (c *Client) Post(ctx context.Context, m Message) error {
	var body any
	if c.format == Teams {
		body = teamsBody(m)
	} else {
		body = slackBody(m)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding message for %s: %w", c.shown, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("posting to %s: %w", c.shown, c.scrub(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", c.shown, c.scrub(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting to %s: %w: %s: %q", c.shown, ErrStatus, resp.Status, c.scrubText(strings.TrimSpace(string(answer))))
	}
	return nil
}

// scrub removes the URL from an error of net/http, which names it in full.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if strings.Contains(err.Error(), c.url) || c.leaks(err.Error()) {
		return errors.New(c.scrubText(err.Error()))
	}
	return err
}

// leaks says whether s holds the URL's path or query.
func (c *Client) leaks(s string) bool {
	u, _ := url.Parse(c.url)
	return (len(u.Path) > 1 && strings.Contains(s, u.Path)) || (u.RawQuery != "" && strings.Contains(s, u.RawQuery))
}

// scrubText replaces the URL, its path and its query in s.
func (c *Client) scrubText(s string) string {
	u, _ := url.Parse(c.url)
	pairs := []string{c.url, c.shown}
	if len(u.Path) > 1 {
		pairs = append(pairs, u.Path, "/…")
	}
	if u.RawQuery != "" {
		pairs = append(pairs, u.RawQuery, "…")
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
