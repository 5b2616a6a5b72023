// Package youtube collects public comments on YouTube videos and channels
// for govlisten: the comment threads of a department's channel, of one
// video, or of the videos a search finds, mapped to mention.Mention.
//
// It talks to the YouTube Data API v3 through the official client,
// google.golang.org/api/youtube/v3, which builds the requests and decodes
// the error envelope into *googleapi.Error; the package adds what the
// library leaves out: the API key on a custom transport (with a custom
// client the library drops WithAPIKey), the raw response bytes for each
// mention's Raw, paging with a repeated-token guard and a page cap (the
// library's Pages has neither), retries, and the daily quota.
//
// What it must never do: spend quota it was not given (every call is paid
// for in the Budget first, and a spent budget or a quotaExceeded answer ends
// the run at once); move a checkpoint past a page it has not emitted; emit a
// half-parsed page; put the API key in a log line or an error (it travels
// in the URL's query, so URLs are stripped of their query); filter or tag
// what it collects (processors decide).
//
// The API has no "since" parameter for comments, so each pass reads threads
// newest first (order=time) and stops at the page where it meets a thread
// started more than youtube.reply_lookback (default 48h) before the
// checkpoint's Since with nothing at or after Since; threads inside the
// look-back are read again, so new replies to them are collected, and only
// what is new is emitted. Replies to threads older than the look-back are
// not seen: the API lists threads by when they started.
package youtube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	ytapi "google.golang.org/api/youtube/v3"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Source kinds this collector reads (config.Source.Kind).
const (
	// KindChannelComments reads every comment thread of src.ChannelID's videos.
	KindChannelComments = "channel_comments"
	// KindVideoComments reads the comment threads of src.VideoID.
	KindVideoComments = "video_comments"
	// KindSearch searches videos for src.Query and reads each one's threads.
	KindSearch = "search"
)

const (
	// defaultMaxPages caps the pages of comment threads one pass reads (of
	// each video, for a search) when src.MaxPages is 0.
	defaultMaxPages = 50
	// maxSearchPages caps search.list pages (50 videos, 100 units each).
	maxSearchPages = 4
	// searchLookback is how far before Since a search looks for videos:
	// videos keep getting comments after they are published.
	searchLookback = 7 * 24 * time.Hour
)

// Collector collects YouTube comments. It is safe for concurrent use by
// different sources.
type Collector struct {
	svc    *ytapi.Service
	key    string // only to scrub it from error texts
	budget collectors.Budget
	log    *slog.Logger
	// Retry bounds the retries of each call; set it before the first Collect.
	Retry collectors.RetryPolicy
	now   func() time.Time
	// lookback is youtube.reply_lookback: threads this much older than the
	// checkpoint are read again for new replies.
	lookback time.Duration
}

var _ collectors.Collector = (*Collector)(nil)

// New returns a Collector for cfg.YouTube. The API key comes from
// config.Secret(getenv, cfg.YouTube.APIKeyEnv, cfg.YouTube.APIKeyFile); New
// fails, naming the variable, when there is none. hc nil uses a client with
// a 30 s timeout. budget nil uses a collectors.DailyBudget of
// cfg.YouTube.DailyQuotaUnits per Pacific day (in this process only: pass a
// shared Budget when several collectors share one API project). When
// budget is a *collectors.DailyBudget with a Now func, the collector uses
// that clock too (quota ends, pass times, search windows). log nil logs
// nowhere.
func New(cfg *config.Config, getenv func(string) string, hc *http.Client, budget collectors.Budget, log *slog.Logger) (*Collector, error) {
	key, err := config.Secret(getenv, cfg.YouTube.APIKeyEnv, cfg.YouTube.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("youtube: API key: %w", err)
	}
	if key == "" {
		return nil, fmt.Errorf("youtube: no API key: set the environment variable %s or youtube.api_key_file", orDefault(cfg.YouTube.APIKeyEnv, "(youtube.api_key_env is empty)"))
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if budget == nil {
		budget = &collectors.DailyBudget{Units: cfg.YouTube.DailyQuotaUnits, Location: collectors.Pacific}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if db, ok := budget.(*collectors.DailyBudget); ok && db.Now != nil {
		now = db.Now
	}
	svc, err := newService(cfg.YouTube.BaseURL, key, hc)
	if err != nil {
		return nil, fmt.Errorf("youtube: client for %s: %w", stripQuery(cfg.YouTube.BaseURL), err)
	}
	return &Collector{svc: svc, key: key, budget: budget, log: log, now: now, lookback: cfg.YouTube.ReplyLookback.D()}, nil
}

func orDefault(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// Collect implements collectors.Collector for the kinds channel_comments,
// video_comments and search. Every call is paid for in the Budget first;
// when the Budget or the API says the quota is spent, Collect returns the
// *collectors.QuotaError at once, having emitted nothing more, so the next
// run resumes from the last emitted page. A video with comments disabled
// (or deleted) is skipped by a search pass; for a video or channel source
// it is a *collectors.PermanentError.
//
// Each page's checkpoint keeps Since and carries the unfinished Pass (the
// next pageToken, the newest time seen, for a search the videos and the
// index of the current one); the last page of a pass carries Since = the
// newest time seen (unchanged when nothing was new) and no Pass. A pass
// with nothing new emits one empty page.
func (c *Collector) Collect(ctx context.Context, src config.Source, from collectors.Checkpoint, emit func(context.Context, collectors.Page) error) error {
	log := c.log.With("platform", mention.YouTube, "source", src.Name)
	r := &run{c: c, src: src, log: log, emit: emit, since: from.Since, maxPages: src.MaxPages}
	if r.maxPages <= 0 {
		r.maxPages = defaultMaxPages
	}
	r.policy = c.Retry
	r.policy.OnWait = func(wait time.Duration, err error) {
		log.Warn("YouTube call failed; waiting before the next try", "wait", wait, "err", err)
	}
	if p := from.Pass; p != nil {
		r.token, r.newest, r.started = p.Token, p.Newest, p.Started
		r.resumed = p.State
	} else {
		r.started = c.now().UTC()
	}
	switch src.Kind {
	case KindChannelComments:
		if src.ChannelID == "" {
			return fmt.Errorf("source %s: kind %s needs channel_id", src.Name, src.Kind)
		}
		r.lastTarget = true
		return r.readTarget(ctx, target{channel: src.ChannelID})
	case KindVideoComments:
		if src.VideoID == "" {
			return fmt.Errorf("source %s: kind %s needs video_id", src.Name, src.Kind)
		}
		r.lastTarget = true
		return r.readTarget(ctx, target{video: src.VideoID})
	case KindSearch:
		if src.Query == "" {
			return fmt.Errorf("source %s: kind %s needs query", src.Name, src.Kind)
		}
		return r.collectSearch(ctx)
	}
	return fmt.Errorf("source %s: unknown YouTube kind %q (want %s, %s or %s)", src.Name, src.Kind, KindChannelComments, KindVideoComments, KindSearch)
}

// target is what a commentThreads.list listing reads: a channel or a video.
type target struct{ channel, video string }

func (t target) String() string {
	if t.channel != "" {
		return "channel " + t.channel
	}
	return "video " + t.video
}

// run is one Collect call: the pass state and what was spent since the
// last emitted page.
type run struct {
	c        *Collector
	src      config.Source
	log      *slog.Logger
	policy   collectors.RetryPolicy
	emit     func(context.Context, collectors.Page) error
	maxPages int

	since, newest, started time.Time
	token                  string
	resumed                map[string]string // the Pass.State the run resumed from

	// Search passes: the videos and the index of the one being read.
	videos     []string
	videoIdx   int
	lastTarget bool // the current target is the pass's last

	calls, units int // spent since the last emitted page
	pages        int // emitted
	finished     bool
}

// readTarget reads tg's threads from r.token until the pass over it ends,
// emitting each page.
func (r *run) readTarget(ctx context.Context, tg target) error {
	seen := map[string]bool{}
	if r.token != "" {
		seen[r.token] = true
	}
	restarted := false
	for pages := 1; ; pages++ {
		page, err := r.fetchThreads(ctx, tg, r.token)
		if errors.Is(err, errInvalidPageToken) && r.token != "" && !restarted {
			r.log.Warn("page token refused; restarting the pass from Since", "target", tg.String(), "since", r.since)
			r.token, restarted, seen, pages = "", true, map[string]bool{}, 0
			continue
		}
		if err != nil {
			return err
		}
		ms, reachedOld := r.keepNew(page.threads)
		done := true
		switch {
		case reachedOld, page.next == "":
		case seen[page.next]:
			r.log.Warn("the API repeated a page token; ending the pass", "target", tg.String(), "page", pages)
		case pages >= r.maxPages:
			r.log.Warn("page cap reached; ending the pass, older comments are not read", "target", tg.String(), "max_pages", r.maxPages)
		default:
			done = false
		}
		seen[page.next] = true
		r.token = page.next
		if done {
			r.token = ""
		}
		if err := r.emitPage(ctx, ms, done); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// keepNew drops the threads with nothing at or after Since (the pass has
// reached what it read before) and moves the pass's newest time.
func (r *run) keepNew(threads []*thread) (ms []*mention.Mention, reachedOld bool) {
	for _, t := range threads {
		latest := t.latest()
		if latest.Before(r.since) {
			// Nothing new. Past the look-back window, the pass has reached
			// what it read before.
			if t.top.active.Before(r.since.Add(-r.c.lookback)) {
				reachedOld = true
			}
			continue
		}
		if latest.After(r.newest) {
			r.newest = latest
		}
		ms = append(ms, t.mentions()...)
	}
	return ms, reachedOld
}

// emitPage emits a page with its checkpoint. targetDone says the listing
// of the current target ended with this page. An empty page that does not
// end the pass is not emitted: its cost goes on the next page.
func (r *run) emitPage(ctx context.Context, ms []*mention.Mention, targetDone bool) error {
	final := targetDone && r.lastTarget
	if len(ms) == 0 && !final {
		return nil
	}
	page := collectors.Page{Mentions: ms, Checkpoint: r.checkpoint(final, targetDone), Calls: r.calls, QuotaUnits: r.units}
	if err := r.emit(ctx, page); err != nil {
		return err // the contract: emit's error, at once
	}
	r.pages++
	r.calls, r.units = 0, 0
	if final {
		r.finished = true
		r.log.Info("pass done", "pages", r.pages, "since", page.Checkpoint.Since)
	}
	return nil
}

func (r *run) checkpoint(final, targetDone bool) collectors.Checkpoint {
	if final {
		// The newest item seen, but never later than the second the pass
		// started: a reply posted during the pass to a thread already read
		// is older than items read after it, and must stay at or after the
		// next pass's Since to be collected. The overlap is read again and
		// dropped downstream by message id.
		since := r.since
		if r.newest.After(since) {
			since = r.newest
		}
		if start := r.started.Truncate(time.Second); !r.started.IsZero() && since.After(start) {
			since = start
			if r.since.After(since) {
				since = r.since
			}
		}
		return collectors.Checkpoint{Since: since}
	}
	p := &collectors.Pass{Token: r.token, Newest: r.newest, Started: r.started}
	if r.videos != nil {
		idx := r.videoIdx
		if targetDone {
			idx++
		}
		p.State = map[string]string{"videos": strings.Join(r.videos, ","), "video": strconv.Itoa(idx)}
	}
	return collectors.Checkpoint{Since: r.since, Pass: p}
}

// call pays for and makes one API call with retries. fn returns the
// classified error of one try.
func (r *run) call(ctx context.Context, what string, units int, fn func(context.Context) error) error {
	err := collectors.Retry(ctx, r.policy, func(ctx context.Context) error {
		if err := r.c.budget.Spend(ctx, units); err != nil {
			return err
		}
		r.calls++
		r.units += units
		err := fn(ctx)
		r.policy.Observe(err)
		return err
	})
	if err != nil {
		return fmt.Errorf("source %s: page %d: %s: %w", r.src.Name, r.pages+1, what, err)
	}
	return nil
}

// fetchThreads reads one commentThreads.list page of tg and completes the
// replies of its threads that have more than the API embedded.
func (r *run) fetchThreads(ctx context.Context, tg target, token string) (*threadPage, error) {
	var page *threadPage
	err := r.call(ctx, "commentThreads.list "+tg.String(), costCommentThreads, func(ctx context.Context) error {
		ctx, body := withCapture(ctx)
		call := r.c.svc.CommentThreads.List([]string{"snippet", "replies"}).
			Order("time").TextFormat("plainText").MaxResults(100).Context(ctx)
		if tg.channel != "" {
			call.AllThreadsRelatedToChannelId(tg.channel)
		} else {
			call.VideoId(tg.video)
		}
		if token != "" {
			call.PageToken(token)
		}
		if _, err := call.Do(); err != nil {
			return classify(err, r.c.now(), r.c.key)
		}
		p, err := parseThreads(body.body, r.src, r.c.now())
		if err != nil {
			return &collectors.MalformedError{What: "commentThreads.list page", Err: err}
		}
		page = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range page.threads {
		if !t.incomplete() {
			continue
		}
		replies, err := r.fetchReplies(ctx, t)
		if isSkip(err) {
			r.log.Info("replies no longer listed; keeping the embedded ones", "comment", t.top.m.ID, "reason", reasonOf(err))
			continue
		}
		if err != nil {
			return nil, err
		}
		t.replies = replies
	}
	return page, nil
}

// fetchReplies lists all replies of t with comments.list.
func (r *run) fetchReplies(ctx context.Context, t *thread) ([]item, error) {
	parent := t.top.m.ID
	var out []item
	seen := map[string]bool{}
	token, restarted := "", false
	for pages := 1; ; pages++ {
		var items []item
		var next string
		err := r.call(ctx, "comments.list parent "+parent, costComments, func(ctx context.Context) error {
			ctx, body := withCapture(ctx)
			call := r.c.svc.Comments.List([]string{"snippet"}).ParentId(parent).
				TextFormat("plainText").MaxResults(100).Context(ctx)
			if token != "" {
				call.PageToken(token)
			}
			if _, err := call.Do(); err != nil {
				return classify(err, r.c.now(), r.c.key)
			}
			its, nx, err := parseComments(body.body, r.src, r.c.now(), t.videoID)
			if err != nil {
				return &collectors.MalformedError{What: "comments.list page", Err: err}
			}
			items, next = its, nx
			return nil
		})
		if errors.Is(err, errInvalidPageToken) && token != "" && !restarted {
			token, restarted, out, seen, pages = "", true, nil, map[string]bool{}, 0
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.m.ParentID == "" {
				it.m.ParentID = parent
			}
		}
		out = append(out, items...)
		if next == "" || seen[next] || pages >= r.maxPages {
			return out, nil
		}
		seen[next] = true
		token = next
	}
}

// collectSearch runs a search pass: search.list once per pass (resumed
// passes keep their list of videos), then each video's threads.
func (r *run) collectSearch(ctx context.Context) error {
	if vs := r.resumed["videos"]; vs != "" {
		r.videos = strings.Split(vs, ",")
		r.videoIdx, _ = strconv.Atoi(r.resumed["video"])
	} else {
		videos, err := r.search(ctx)
		if err != nil {
			return err
		}
		r.videos, r.videoIdx, r.token = videos, 0, ""
	}
	for ; r.videoIdx < len(r.videos); r.videoIdx++ {
		r.lastTarget = r.videoIdx == len(r.videos)-1
		id := r.videos[r.videoIdx]
		err := r.readTarget(ctx, target{video: id})
		if isSkip(err) {
			r.log.Warn("skipping video", "video", id, "reason", reasonOf(err))
			r.token = ""
			continue
		}
		if err != nil {
			return err
		}
	}
	if !r.finished {
		r.lastTarget = true
		return r.emitPage(ctx, nil, true)
	}
	return nil
}

// search lists the videos matching the query published since a week
// before Since (a week before now on a first pass), newest first.
func (r *run) search(ctx context.Context) ([]string, error) {
	after := r.since.Add(-searchLookback)
	if r.since.IsZero() {
		after = r.c.now().Add(-searchLookback)
	}
	videos := []string{}
	seenVideo, seenToken := map[string]bool{}, map[string]bool{}
	token := ""
	for pages := 1; pages <= maxSearchPages; pages++ {
		var res *ytapi.SearchListResponse
		err := r.call(ctx, "search.list", costSearch, func(ctx context.Context) error {
			call := r.c.svc.Search.List([]string{"snippet"}).Q(r.src.Query).Type("video").Order("date").
				PublishedAfter(after.UTC().Format(time.RFC3339)).MaxResults(50).Context(ctx)
			if token != "" {
				call.PageToken(token)
			}
			var err error
			if res, err = call.Do(); err != nil {
				return classify(err, r.c.now(), r.c.key)
			}
			if res == nil { // a body of JSON null decodes to no response at all
				return &collectors.MalformedError{What: "search.list response", Err: errors.New("null instead of a searchListResponse")}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, it := range res.Items {
			if it != nil && it.Id != nil && it.Id.VideoId != "" && !seenVideo[it.Id.VideoId] {
				seenVideo[it.Id.VideoId] = true
				videos = append(videos, it.Id.VideoId)
			}
		}
		if res.NextPageToken == "" || seenToken[res.NextPageToken] {
			break
		}
		seenToken[res.NextPageToken] = true
		token = res.NextPageToken
	}
	r.log.Info("search done", "query", r.src.Query, "published_after", after.UTC(), "videos", len(videos))
	return videos, nil
}
