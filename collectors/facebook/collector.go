// Package facebook collects the public posts and comments of Facebook Pages
// through the Graph API: the posts on a Page's feed (the Page's own and its
// visitors'), or the public posts that tag the Page, each with its comments
// and replies, mapped faithfully to mention.Mention records.
//
// There is no official Go SDK for the Graph API, and the unofficial ones hide
// what a collector has to see (the usage headers, error codes, raw item
// bytes), so this package speaks plain net/http: a versioned base URL from
// the configuration, the token in an Authorization header, cursors rebuilt
// against the configured base URL.
//
// What it must never do: put the token in a URL, a log line or an error (so
// it never follows paging.next, which embeds a token and the real host);
// persist a cursor (cursors die with the item they point to); skip an item
// when it crashes or gives up (it repeats instead); decode an id through a
// float; filter or tag what it collects (processors decide).
package facebook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Source kinds this collector serves.
const (
	// KindPagePosts is everything on a Page's feed: its posts and visitors'.
	KindPagePosts = "page_posts"
	// KindPageTagged is the public posts that tag a Page.
	KindPageTagged = "page_tagged"
)

const (
	// DefaultMaxPages caps the pages of one pagination loop (the posts of a
	// pass, or one post's comments) when the source sets no max_pages.
	DefaultMaxPages = 50
	// FirstWindow is how far back a source's first pass reaches.
	FirstWindow = 7 * 24 * time.Hour
	// pageSize is the limit asked of every edge (the Graph maximum).
	pageSize = 100

	postFields    = "id,message,created_time,updated_time,permalink_url,from{id,name},status_type,shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"
	commentFields = "id,message,created_time,from{id,name},like_count,comment_count,parent{id},permalink_url"
)

// Collector collects Facebook Page sources (kinds page_posts and
// page_tagged). It is safe for concurrent use by different sources; set
// Policy before the first Collect.
type Collector struct {
	client   *client
	log      *slog.Logger
	now      func() time.Time
	lookback time.Duration // facebook.comment_lookback

	// Policy bounds the retries of each call; the zero value uses the
	// collectors package's defaults.
	Policy collectors.RetryPolicy
}

var _ collectors.Collector = (*Collector)(nil)

// New returns a Collector for cfg.Facebook. The token is read with
// config.Secret from the configured variable or file; New fails, naming the
// variable, when there is none. hc nil uses a client with a 30 s timeout;
// every request is also bounded to 30 s. log nil discards.
func New(cfg *config.Config, getenv func(string) string, hc *http.Client, log *slog.Logger) (*Collector, error) {
	fb := cfg.Facebook
	token, err := config.Secret(getenv, fb.AccessTokenEnv, fb.AccessTokenFile)
	if err != nil {
		return nil, fmt.Errorf("facebook access token: %w", err)
	}
	if token == "" {
		return nil, fmt.Errorf("facebook access token: set %s or facebook.access_token_file", orNone(fb.AccessTokenEnv))
	}
	base, err := url.Parse(strings.TrimRight(fb.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("facebook.base_url %q is not an http(s) URL", fb.BaseURL)
	}
	if fb.APIVersion == "" {
		return nil, errors.New("facebook.api_version is empty (e.g. v23.0)")
	}
	base.RawQuery, base.Fragment = "", ""
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{
		client: &client{
			hc:       hc,
			base:     base.String() + "/" + strings.Trim(fb.APIVersion, "/"),
			basePath: base.Path + "/" + strings.Trim(fb.APIVersion, "/"),
			token:    token,
		},
		log:      log.With("platform", mention.Facebook),
		now:      time.Now,
		lookback: fb.CommentLookback.D(),
	}, nil
}

func orNone(env string) string {
	if env == "" {
		return "facebook.access_token_env"
	}
	return env
}

// Collect implements collectors.Collector. A pass asks for items created
// since from.Since (the last FirstWindow when zero): the Page's posts
// page by page, newest first, and after each page of posts the comments of
// each of its posts (filter=stream, so replies too). It emits one Page per
// API page; until the pass ends each carries Checkpoint{Since: from.Since,
// Pass: {Newest, Started}}, and the last one Checkpoint{Since: the newest
// created_time collected but not after the second the pass started, Pass:
// nil}. A resumed pass (from.Pass set) starts
// again from from.Since, since cursors are not kept, and carries
// Pass.Newest and Pass.Started forward.
//
// A post whose comments cannot be read (deleted since it was listed, or not
// visible with this token) is logged and skipped; any other error ends the
// pass with the error, after emitting what was fully read.
//
// Coverage: a pass lists the posts created since from.Since or within
// facebook.comment_lookback (default 72h) before the pass, whichever is
// earlier, and reads each listed post's comments made since from.Since: a
// comment on a post up to comment_lookback old is collected; one on an older
// post is not. Re-listed posts are emitted again (unchanged ones are
// dropped downstream by message id; changed ones refresh their metrics).
// A repeated cursor or the page cap (src.MaxPages, default
// DefaultMaxPages, per loop) ends a loop early with a warning; the pass
// then completes and older items of that loop are not read.
func (c *Collector) Collect(ctx context.Context, src config.Source, from collectors.Checkpoint, emit func(context.Context, collectors.Page) error) error {
	var edge string
	switch src.Kind {
	case KindPagePosts:
		edge = "feed"
	case KindPageTagged:
		edge = "tagged"
	default:
		return &collectors.PermanentError{Err: fmt.Errorf("source %s: kind %q is not %s or %s", src.Name, src.Kind, KindPagePosts, KindPageTagged)}
	}
	if src.PageID == "" || strings.ContainsAny(src.PageID, "/?#") {
		return &collectors.PermanentError{Err: fmt.Errorf("source %s: page_id %q is not a Page id", src.Name, src.PageID)}
	}
	p := &pass{
		c:        c,
		lookback: c.lookback,
		src:      src,
		from:     from,
		emit:     emit,
		log:      c.log.With("source", src.Name),
		maxPages: src.MaxPages,
		started:  c.now().UTC().Truncate(time.Second),
	}
	if p.maxPages <= 0 {
		p.maxPages = DefaultMaxPages
	}
	if from.Pass != nil {
		p.newest = from.Pass.Newest
		if !from.Pass.Started.IsZero() {
			p.started = from.Pass.Started
		}
	}
	p.since = from.Since
	if p.since.IsZero() {
		p.since = p.started.Add(-FirstWindow)
	}
	p.policy = c.Policy
	if p.policy.OnWait == nil {
		p.policy.OnWait = func(wait time.Duration, err error) {
			p.log.Info("waiting before retrying a Graph call", "wait", wait.Round(time.Millisecond), "err", err)
		}
	}
	return p.run(ctx, "/"+src.PageID+"/"+edge)
}

// pass is the state of one Collect.
type pass struct {
	c        *Collector
	src      config.Source
	from     collectors.Checkpoint
	emit     func(context.Context, collectors.Page) error
	log      *slog.Logger
	policy   collectors.RetryPolicy
	maxPages int

	since    time.Time     // comments asked of the API are this new
	lookback time.Duration // posts this old are listed again for their comments
	started  time.Time
	newest   time.Time

	held *collectors.Page // the last page read, emitted once the next is read

	pages, mentions, skipped, skippedPosts, calls int
}

func (p *pass) run(ctx context.Context, path string) error {
	postsSince := p.since
	if lb := p.started.Add(-p.lookback); p.lookback > 0 && lb.Before(postsSince) {
		postsSince = lb
	}
	q := url.Values{
		"fields": {postFields},
		"since":  {strconv.FormatInt(postsSince.Unix(), 10)},
		"limit":  {strconv.Itoa(pageSize)},
	}
	seen := map[string]bool{}
	for n := 1; ; n++ {
		res, calls, err := p.fetch(ctx, path, q, func(body []byte, at time.Time) (*pageResult, error) {
			return mapPosts(body, p.src, at)
		})
		if err != nil {
			return p.fail(ctx, fmt.Errorf("source %s: posts page %d: %w", p.src.Name, n, err))
		}
		if err := p.push(ctx, res, calls); err != nil {
			return err
		}
		for _, m := range res.mentions {
			if res.quiet[m.ID] {
				continue
			}
			if err := p.comments(ctx, m.ID); err != nil {
				return err
			}
		}
		if q = p.next(q, res, seen, n, path); q == nil {
			break
		}
	}
	return p.finish(ctx)
}

// comments reads the comments of one post, page by page.
func (p *pass) comments(ctx context.Context, postID string) error {
	path := "/" + postID + "/comments"
	q := url.Values{
		"filter": {"stream"},
		"order":  {"chronological"},
		"fields": {commentFields},
		"limit":  {strconv.Itoa(pageSize)},
		"since":  {strconv.FormatInt(p.since.Unix(), 10)},
	}
	seen := map[string]bool{}
	for n := 1; ; n++ {
		res, calls, err := p.fetch(ctx, path, q, func(body []byte, at time.Time) (*pageResult, error) {
			return mapComments(body, postID, p.src, at)
		})
		var perm *collectors.PermanentError
		if errors.As(err, &perm) {
			p.skippedPosts++
			p.log.Warn("skipping the comments of a post", "post", postID, "page", n, "err", err)
			return nil
		}
		if err != nil {
			return p.fail(ctx, fmt.Errorf("source %s: comments of %s page %d: %w", p.src.Name, postID, n, err))
		}
		if err := p.push(ctx, res, calls); err != nil {
			return err
		}
		if q = p.next(q, res, seen, n, path); q == nil {
			return nil
		}
	}
}

// fetch asks one page, retrying per policy, and maps it. A page that does
// not map is a *collectors.MalformedError, retried like a transient error.
func (p *pass) fetch(ctx context.Context, path string, q url.Values, mapPage func([]byte, time.Time) (*pageResult, error)) (*pageResult, int, error) {
	var res *pageResult
	calls := 0
	err := collectors.Retry(ctx, p.policy, func(ctx context.Context) (err error) {
		body, called, err := p.c.client.get(ctx, path, q)
		if called {
			calls++
			defer func() { p.policy.Observe(err) }()
			if used, ok := p.c.client.gate.usage(); ok {
				p.policy.Metrics.QuotaLeft(max(100-used, 0))
			}
		}
		if err != nil {
			return err
		}
		r, err := mapPage(body, p.c.now())
		if err != nil {
			return &collectors.MalformedError{What: "GET " + p.c.client.basePath + path, Err: err}
		}
		res = r
		return nil
	})
	p.calls += calls
	return res, calls, err
}

// next returns the parameters of the page after res, or nil when the loop
// ends: no paging.next, a cursor seen before, or the page cap.
func (p *pass) next(q url.Values, res *pageResult, seen map[string]bool, n int, path string) url.Values {
	if !res.next {
		return nil
	}
	var nq url.Values
	var key string
	switch {
	case res.after != "":
		nq = cloneValues(q)
		nq.Set("after", res.after)
		key = res.after
	case len(res.nextQuery) > 0:
		// A time-paged edge (until, __paging_token): its parameters, never
		// its URL.
		nq = res.nextQuery
		key = nq.Encode()
	default:
		p.log.Warn("paging.next has no cursor and no parameters to follow; ending the loop", "path", path, "page", n)
		return nil
	}
	if seen[key] {
		p.log.Warn("the API repeated a cursor; ending the loop", "path", path, "page", n)
		return nil
	}
	if n >= p.maxPages {
		p.log.Warn("page cap reached; older items of this loop are not collected", "path", path, "max_pages", p.maxPages)
		return nil
	}
	seen[key] = true
	return nq
}

// push holds a page read, emitting the one held before. Holding one page
// back lets the last page of the pass carry the pass's final checkpoint.
func (p *pass) push(ctx context.Context, res *pageResult, calls int) error {
	p.pages++
	p.mentions += len(res.mentions)
	if len(res.skipped) > 0 {
		p.skipped += len(res.skipped)
		p.log.Debug("items the API sent without an id or time skipped", "count", len(res.skipped), "first", res.skipped[0])
	}
	for _, m := range res.mentions {
		if m.CreatedAt.After(p.newest) {
			p.newest = m.CreatedAt
		}
	}
	page := &collectors.Page{
		Mentions: res.mentions,
		Checkpoint: collectors.Checkpoint{
			Since: p.from.Since,
			Pass:  &collectors.Pass{Newest: p.newest, Started: p.started},
		},
		Calls: calls,
	}
	if held := p.held; held != nil {
		p.held = nil
		if err := p.emit(ctx, *held); err != nil {
			return err
		}
	}
	p.held = page
	return nil
}

// fail emits the page held (it was fully read; its checkpoint keeps the
// pass open) and returns err.
func (p *pass) fail(ctx context.Context, err error) error {
	if held := p.held; held != nil {
		p.held = nil
		if eerr := p.emit(ctx, *held); eerr != nil {
			return eerr
		}
	}
	return err
}

// finish emits the last page with the pass's final checkpoint.
func (p *pass) finish(ctx context.Context) error {
	page := p.held
	p.held = nil
	page.Checkpoint = collectors.Checkpoint{Since: p.finalSince()}
	if err := p.emit(ctx, *page); err != nil {
		return err
	}
	p.log.Info("pass complete", "pages", p.pages, "mentions", p.mentions, "calls", p.calls,
		"skipped_items", p.skipped, "skipped_posts", p.skippedPosts, "since", page.Checkpoint.Since)
	return nil
}

// finalSince is where the next pass starts: the newest created_time
// collected, but not after the second this pass started. An item created
// while the pass ran may have older siblings the pass had already gone past
// (a post published after the posts were listed, older than a comment read
// later), so the next pass covers the pass's own span again; the repeats
// are dropped downstream by message id.
func (p *pass) finalSince() time.Time {
	if p.newest.IsZero() {
		return p.from.Since
	}
	s := p.newest
	if p.started.Before(s) {
		s = p.started
	}
	if s.Before(p.from.Since) {
		s = p.from.Since
	}
	return s
}

func cloneValues(q url.Values) url.Values {
	c := make(url.Values, len(q)+1)
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}
