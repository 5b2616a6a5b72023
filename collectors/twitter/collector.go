// Package twitter collects public X (Twitter) posts for govlisten: the
// results of a recent-search query (source kind "search", src.Query in X's
// operator syntax) and the mentions timeline of an account (kind
// "mentions", src.UserID), through X API v2, mapped to mention.Mention.
//
// What it must never do: filter or tag (collectors collect, processors
// decide: retweets, replies and the department's own posts are all mapped,
// and the source's query decides what comes); skip posts across a crash
// (the checkpoint moves only through emit, one page at a time, and an
// unfinished pass resumes from its stored page token); emit a page it could
// not parse in full; or let the bearer token out (it travels only in the
// Authorization header; gotwi's Debug mode, which prints headers, stays off;
// errors carry no URLs with queries).
//
// Why gotwi (github.com/michimani/gotwi): it types both endpoints'
// parameters, sends the bearer token and decodes X's error bodies into
// *gotwi.GotwiError. It has no base-URL option, and it drops what a
// faithful mapping needs (impression_count, the item bytes for Raw, the
// rate-limit headers of a success), so the http.Client given to it carries
// a RoundTripper that points every request at twitter.base_url and keeps
// each response's body and headers. The body is mapped by MapResponse,
// which `govlisten import --format twitter-v2` uses for twarc2 output too:
// one mapping, not two.
//
// Simulator (sim.go) serves both endpoints locally in X's wire format, for
// the tests and for running govlisten without an X account.
package twitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/michimani/gotwi"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Source kinds this collector serves.
const (
	kindSearch   = "search"
	kindMentions = "mentions"
)

const (
	// DefaultMaxPages caps the pages of one run of a source that sets no
	// max_pages. A pass longer than that resumes on the next run.
	DefaultMaxPages = 50
	// searchWindow is how far back recent search reaches; windowMargin
	// keeps start_time safely inside it.
	searchWindow = 7 * 24 * time.Hour
	windowMargin = time.Minute
	// defaultMaxWait mirrors collectors.RetryPolicy's default MaxWait.
	defaultMaxWait = 15 * time.Minute
)

// Collector collects X search results and mentions. It is safe for
// concurrent use by different sources.
type Collector struct {
	client *gotwi.Client
	log    *slog.Logger
	now    func() time.Time

	// Retry bounds the retries of one page request (the zero value takes
	// collectors.RetryPolicy's defaults). Set it before the first Collect.
	Retry collectors.RetryPolicy
}

var _ collectors.Collector = (*Collector)(nil)

// New returns a Collector that calls cfg.Twitter.BaseURL with the bearer
// token read through config.Secret from cfg.Twitter.BearerTokenEnv or
// BearerTokenFile. hc supplies the timeout and base transport (nil: a
// client with a 30 s timeout); it is not modified. log may be nil.
//
// New makes no network call. It fails, naming the variable and never a
// value, when no token is set.
func New(cfg *config.Config, getenv func(string) string, hc *http.Client, log *slog.Logger) (*Collector, error) {
	if cfg == nil {
		return nil, errors.New("twitter: no configuration")
	}
	token, err := config.Secret(getenv, cfg.Twitter.BearerTokenEnv, cfg.Twitter.BearerTokenFile)
	if err != nil {
		return nil, fmt.Errorf("twitter: bearer token: %w", err)
	}
	if token == "" {
		return nil, fmt.Errorf("twitter: no bearer token: set %s or twitter.bearer_token_file", orNone(cfg.Twitter.BearerTokenEnv))
	}
	base := cfg.Twitter.BaseURL
	if base == "" {
		base = config.Default().Twitter.BaseURL
	}
	target, err := url.Parse(base)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("twitter: base_url %q is not an http(s) URL", stripQuery(base))
	}
	client := http.Client{Timeout: 30 * time.Second}
	if hc != nil {
		client = *hc
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client.Transport = &transport{target: target, base: rt}
	gc, err := gotwi.NewClientWithAccessToken(&gotwi.NewClientWithAccessTokenInput{
		AccessToken: token,
		HTTPClient:  &client,
		Debug:       false, // Debug prints the request headers, token included
	})
	if err != nil {
		return nil, fmt.Errorf("twitter: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{client: gc, log: log.With("platform", mention.Twitter), now: time.Now}, nil
}

func orNone(env string) string {
	if env == "" {
		return "twitter.bearer_token_env"
	}
	return env
}

// Collect implements collectors.Collector.
//
// A pass asks for posts newer than from.SinceID (since_id, exclusive); with
// no SinceID it asks from from.Since, or for a first run from 7 days ago,
// the reach of recent search (start_time, clamped inside that window for
// search). Pages come newest first. Each page but the last is emitted with
// the unchanged SinceID/Since and a Pass holding the next page's token and
// the newest id seen in the pass; the last page is emitted with SinceID set
// to that newest id and no Pass. from.Pass resumes an unfinished pass at
// its token, with the start_time of its first page (kept in Pass.State). A
// pass with nothing new emits one empty page with the checkpoint unchanged.
// After src.MaxPages pages (DefaultMaxPages) the run ends with the Pass
// stored, and the next run continues it.
//
// A response that does not parse, or whose next token repeats one already
// followed in this run, is retried and never emitted. Errors: ErrAuth (401,
// 403), *collectors.PermanentError (400, 404, a bad source), or the last
// error once Retry gives up; emit's error is returned as is.
func (c *Collector) Collect(ctx context.Context, src config.Source, from collectors.Checkpoint, emit func(context.Context, collectors.Page) error) error {
	log := c.log.With("source", src.Name)
	q, err := c.firstCall(src, from, log)
	if err != nil {
		return fmt.Errorf("source %s: %w", src.Name, err)
	}
	newest, started := "", c.now().UTC()
	if from.Pass != nil {
		q.token, newest = from.Pass.Token, from.Pass.NewestID
		if !from.Pass.Started.IsZero() {
			started = from.Pass.Started
		}
		c.resumeWindow(&q, from.Pass)
	}
	maxPages := src.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	policy := c.retryPolicy(log)
	followed := map[string]bool{}
	if q.token != "" {
		followed[q.token] = true
	}
	for n := 1; ; n++ {
		page, ex, calls, err := c.fetchPage(ctx, policy, q, src, followed)
		if err == nil {
			err = c.checkPartial(q, page, n, log)
		}
		if err != nil {
			return fmt.Errorf("source %s: page %d: %w", src.Name, n, err)
		}
		if page.NewestID != "" && (newest == "" || collectors.CompareIDs(page.NewestID, newest) > 0) {
			newest = page.NewestID
		}
		cp := collectors.Checkpoint{SinceID: from.SinceID, Since: from.Since}
		if page.NextToken != "" {
			cp.Pass = &collectors.Pass{Token: page.NextToken, NewestID: newest, Started: started}
			if q.startTime != nil {
				cp.Pass.State = map[string]string{stateStartTime: q.startTime.Format(time.RFC3339)}
			}
		} else if newest != "" && collectors.CompareIDs(newest, from.SinceID) > 0 {
			cp = collectors.Checkpoint{SinceID: newest}
		}
		log.Debug("X API page", "page", n, "mentions", len(page.Mentions), "more", page.NextToken != "", "calls", calls)
		if err := emit(ctx, collectors.Page{Mentions: page.Mentions, Checkpoint: cp, Calls: calls}); err != nil {
			return err
		}
		if page.NextToken == "" {
			return nil
		}
		if n >= maxPages {
			log.Info("page cap reached; the next run continues this pass", "pages", n)
			return nil
		}
		followed[page.NextToken] = true
		q.token = page.NextToken
		if err := c.pace(ctx, ex.header, log); err != nil {
			return fmt.Errorf("source %s: page %d: %w", src.Name, n+1, err)
		}
	}
}

// fetchPage gets one page, retrying as policy says. A page whose next token
// was already followed in this pass is refused like a malformed one: it
// would loop.
func (c *Collector) fetchPage(ctx context.Context, policy collectors.RetryPolicy, q call, src config.Source, followed map[string]bool) (*ResponsePage, *exchange, int, error) {
	var page *ResponsePage
	var ex *exchange
	calls := 0
	err := collectors.Retry(ctx, policy, func(ctx context.Context) (err error) {
		calls++
		p, x, err := c.fetch(ctx, q, src)
		if x.sent {
			defer func() { policy.Observe(err) }()
			if left, ok := remaining(x.header); ok {
				policy.Metrics.QuotaLeft(left)
			}
		}
		if err != nil {
			return err
		}
		if p.NextToken != "" && followed[p.NextToken] {
			return &collectors.MalformedError{What: "X API page", Err: fmt.Errorf("next_token %q repeats a token already followed in this pass", p.NextToken)}
		}
		page, ex = p, x
		return nil
	})
	return page, ex, calls, err
}

// retryPolicy is c.Retry with every wait logged.
func (c *Collector) retryPolicy(log *slog.Logger) collectors.RetryPolicy {
	policy := c.Retry
	onWait := policy.OnWait
	policy.OnWait = func(wait time.Duration, err error) {
		log.Warn("X API call failed; retrying", "wait", wait.Round(time.Millisecond), "err", err)
		if onWait != nil {
			onWait(wait, err)
		}
	}
	return policy
}

// firstCall builds a pass's request from the source and checkpoint.
func (c *Collector) firstCall(src config.Source, from collectors.Checkpoint, log *slog.Logger) (call, error) {
	q := call{kind: src.Kind, query: src.Query, userID: src.UserID, sinceID: from.SinceID}
	switch src.Kind {
	case kindSearch:
		if src.Query == "" {
			return q, &collectors.PermanentError{Err: errors.New("kind search needs a query")}
		}
	case kindMentions:
		if !isID(src.UserID) {
			return q, &collectors.PermanentError{Err: fmt.Errorf("kind mentions needs a numeric user_id, not %q", src.UserID)}
		}
	default:
		return q, &collectors.PermanentError{Err: fmt.Errorf("kind %q is not search or mentions", src.Kind)}
	}
	floor := searchFloor(c.now())
	if q.kind == kindSearch && q.sinceID != "" {
		// Recent search refuses a since_id older than its window; the
		// posts in between are out of its reach in any case.
		if t, ok := snowflakeTime(q.sinceID); ok && t.Before(floor) {
			log.Warn("checkpoint is older than recent search's 7-day window; posts in between are out of reach",
				"since_id", q.sinceID, "since_id_time", t)
			q.sinceID = ""
		}
	}
	if q.sinceID == "" {
		start := from.Since.UTC().Truncate(time.Second)
		if start.IsZero() || q.kind == kindSearch && start.Before(floor) {
			start = floor
		}
		q.startTime = &start
	}
	return q, nil
}

// stateStartTime is the Pass.State key of the start_time a pass asked
// with, so that a resumed pass asks with the same one.
const stateStartTime = "start_time"

// resumeWindow gives a resumed pass the start_time of its first page, kept
// inside recent search's window (which has moved on since).
func (c *Collector) resumeWindow(q *call, p *collectors.Pass) {
	if q.startTime == nil || p.State[stateStartTime] == "" {
		return
	}
	t, err := time.Parse(time.RFC3339, p.State[stateStartTime])
	if err != nil {
		return
	}
	t = t.UTC()
	// The first page's start_time stays while it is inside the window by
	// a few seconds; past that, recent search would refuse it.
	if now := c.now(); q.kind == kindSearch && t.Before(now.Add(-searchWindow+10*time.Second)) {
		t = searchFloor(now)
	}
	q.startTime = &t
}

// searchFloor is the oldest start_time recent search is asked for: its
// 7-day window less a margin.
func searchFloor(now time.Time) time.Time {
	return now.UTC().Add(-searchWindow + windowMargin).Truncate(time.Second)
}

// checkPartial logs the partial errors of a page, and turns a mentions
// page that says the user does not exist into a PermanentError.
func (c *Collector) checkPartial(q call, page *ResponsePage, n int, log *slog.Logger) error {
	if len(page.Errors) == 0 {
		return nil
	}
	for _, e := range page.Errors {
		if q.kind == kindMentions && len(page.Mentions) == 0 && e.ResourceType == "user" && e.Parameter == "id" {
			return &collectors.PermanentError{Err: fmt.Errorf("the X API has no user %s: %s: %s", q.userID, e.Title, e.Detail)}
		}
	}
	first := page.Errors[0]
	log.Warn("X API partial errors; the page's data is kept", "page", n, "errors", len(page.Errors),
		"title", first.Title, "detail", first.Detail, "resource_type", first.ResourceType, "resource_id", first.ResourceID)
	return nil
}

// pace waits for the rate-limit window to reset when the last response said
// no calls remain in it, instead of spending a call on a 429. A wait longer
// than Retry.MaxWait ends the run with a *RateLimitError; the stored Pass
// resumes it.
func (c *Collector) pace(ctx context.Context, h http.Header, log *slog.Logger) error {
	reset, ok := exhausted(h)
	if !ok {
		return nil
	}
	wait := reset.Sub(c.now())
	if wait <= 0 {
		return nil
	}
	maxWait := c.Retry.MaxWait
	if maxWait <= 0 {
		maxWait = defaultMaxWait
	}
	if wait > maxWait {
		return &collectors.RateLimitError{Wait: wait, Reason: "X API rate-limit window spent"}
	}
	log.Info("X API rate-limit window spent; waiting for its reset", "wait", wait.Round(time.Second))
	c.Retry.Metrics.RateLimited(wait)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
