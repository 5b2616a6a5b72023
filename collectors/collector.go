package collectors

import (
	"context"
	"strconv"
	"time"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Collector fetches one source's new items from one platform. The
// scheduler drives it; it knows nothing of NATS or KV.
//
// Collect fetches everything newer than from, page by page, oldest
// unfetched state first, and calls emit once per page, in order. emit
// publishes the page's mentions, waits until JetStream acknowledged every
// one, and only then stores page.Checkpoint; an error from emit ends the run
// (return it). A crash at any point therefore repeats work and never skips
// it: the next run starts from the last checkpoint emit stored.
//
// Collect retries what will pass (429 with a reset, 5xx, network errors,
// malformed or partial responses) itself, with RetryPolicy, and returns an
// error only when it gives up, when the token is refused (ErrAuth), or when
// the quota is spent (QuotaError). Implementations are safe for concurrent
// use by different sources.
type Collector interface {
	Collect(ctx context.Context, src config.Source, from Checkpoint, emit func(context.Context, Page) error) error
}

// Checkpoint is where a source's next collection starts, stored as JSON in
// KV bucket govlisten_checkpoints under the source's name. Each platform
// uses the fields it needs.
type Checkpoint struct {
	// SinceID is the newest item id fully collected (X: since_id).
	SinceID string `json:"since_id,omitempty"`
	// Since is the time of the newest item fully collected (YouTube,
	// Facebook). The next pass asks for items at or after it; the content
	// hash in Nats-Msg-Id drops the overlap.
	Since time.Time `json:"since,omitzero"`
	// Pass is an unfinished pass (a crash or a stop between pages), so the
	// next run resumes exactly where this one stopped rather than starting
	// the pass again.
	Pass *Pass `json:"pass,omitempty"`
}

// xEpochMs is the Unix time in milliseconds X snowflake ids count from
// (id >> 22 is milliseconds since it); the same constant as the twitter
// package's, which cannot be imported here.
const xEpochMs = 1288834974657

// Time is the time of the newest item the checkpoint says is fully
// collected: Since, or, for an X checkpoint that keeps only an id, the
// time the snowflake id encodes. It is zero when the checkpoint says
// neither (a source that has found nothing yet, or an X id older than
// snowflakes).
func (c Checkpoint) Time(platform string) time.Time {
	if !c.Since.IsZero() || c.SinceID == "" || platform != "twitter" {
		return c.Since
	}
	// Ids from before snowflakes (late 2010) are below 2^32 or so; the
	// first snowflakes are above 10^15.
	id, err := strconv.ParseUint(c.SinceID, 10, 64)
	if err != nil || id < 1e15 {
		return time.Time{}
	}
	return time.UnixMilli(int64(id>>22) + xEpochMs).UTC()
}

// Pass is the state of a pass over a source's pages that has not finished.
type Pass struct {
	// Token is the platform's token or cursor for the next page (X
	// next_token, YouTube pageToken). Facebook cursors die with the item they
	// point to, so Facebook passes do not persist them.
	Token string `json:"token,omitempty"`
	// NewestID and Newest are the newest item seen so far in this pass: they
	// become SinceID and Since when the pass completes.
	NewestID string    `json:"newest_id,omitempty"`
	Newest   time.Time `json:"newest,omitzero"`
	// Started is when the pass began.
	Started time.Time `json:"started,omitzero"`
	// State holds anything else a platform needs to resume (for example the
	// index of the video a YouTube search pass was reading).
	State map[string]string `json:"state,omitempty"`
}

// Page is one page of results, mapped.
type Page struct {
	// Mentions in the page, mapped faithfully (Raw holds each item's
	// original JSON).
	Mentions []*mention.Mention
	// Checkpoint to store once every mention of this page is acknowledged.
	Checkpoint Checkpoint
	// Calls and QuotaUnits this page cost (YouTube counts units; others 0).
	Calls      int
	QuotaUnits int
}

// CompareIDs orders numeric id strings such as X's snowflakes (which exceed
// 2^53): by length, then lexically. It returns -1, 0 or 1.
func CompareIDs(a, b string) int {
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
