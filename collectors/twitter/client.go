package twitter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/michimani/gotwi"
	"github.com/michimani/gotwi/fields"
	"github.com/michimani/gotwi/tweet/searchtweet"
	stypes "github.com/michimani/gotwi/tweet/searchtweet/types"
	"github.com/michimani/gotwi/tweet/timeline"
	ttypes "github.com/michimani/gotwi/tweet/timeline/types"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
)

// maxBody bounds one response body (a page of 100 posts with every field is
// a few hundred kilobytes).
const maxBody = 32 << 20

// pageSize is max_results: the most both endpoints give per call.
const pageSize = 100

// Fields asked for on every call (apis.md 1.1). edit_history_tweet_ids has
// no gotwi constant; edit_controls says whether a post may still change.
var (
	tweetFields = fields.TweetFieldList{
		fields.TweetFieldAuthorID, fields.TweetFieldCreatedAt, fields.TweetFieldConversationID,
		fields.TweetFieldInReplyToUserID, fields.TweetFieldLang, fields.TweetFieldPublicMetrics,
		fields.TweetFieldReferencedTweets, fields.TweetFieldEntities, fields.TweetFieldNoteTweet,
		fields.TweetField("edit_history_tweet_ids"), fields.TweetField("edit_controls"),
	}
	userFields = fields.UserFieldList{fields.UserFieldUsername, fields.UserFieldName}
	expansions = fields.ExpansionList{fields.ExpansionAuthorID}
)

// exchange is what the transport saw of the last response of one call:
// gotwi decodes the body into its own types and drops the headers of a
// success, so the transport keeps both for the mapping (Raw) and for the
// rate-limit headers.
type exchange struct {
	sent   bool // a request went out (for the API call metrics)
	status int
	header http.Header
	body   []byte
}

type exchangeKey struct{}

// transport points gotwi, which hard-codes https://api.twitter.com, at the
// configured base URL, and records each response in the exchange found in
// the request's context. It adds nothing to the request.
type transport struct {
	target *url.URL
	base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.target.Scheme, t.target.Host, t.target.Host
	ex, ok := req.Context().Value(exchangeKey{}).(*exchange)
	if ok {
		ex.sent = true
	}
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return res, nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the response body: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("response body larger than %d bytes", maxBody)
	}
	ex.status, ex.header, ex.body = res.StatusCode, res.Header.Clone(), body
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// call is one page request.
type call struct {
	kind      string // kindSearch or kindMentions
	query     string
	userID    string
	sinceID   string
	startTime *time.Time
	token     string
}

// fetch makes one call through gotwi and maps the body the transport
// captured (gotwi's own decoding of it serves only as a check). Errors are
// classified for collectors.Retry: *RateLimitError, ErrAuth,
// *PermanentError, *MalformedError, or a transient error.
func (c *Collector) fetch(ctx context.Context, q call, src config.Source) (*ResponsePage, *exchange, error) {
	ex := &exchange{}
	ctx = context.WithValue(ctx, exchangeKey{}, ex)
	var err error
	switch q.kind {
	case kindSearch:
		_, err = searchtweet.ListRecent(ctx, c.client, &stypes.ListRecentInput{
			Query: q.query, SinceID: q.sinceID, StartTime: q.startTime, NextToken: q.token,
			MaxResults: pageSize, SortOrder: stypes.ListSortOrderRecency,
			Expansions: expansions, TweetFields: tweetFields, UserFields: userFields,
		})
	case kindMentions:
		_, err = timeline.ListMentions(ctx, c.client, &ttypes.ListMentionsInput{
			ID: q.userID, SinceID: q.sinceID, StartTime: q.startTime, PaginationToken: q.token,
			MaxResults: pageSize,
			Expansions: expansions, TweetFields: tweetFields, UserFields: userFields,
		})
	default:
		return nil, ex, &collectors.PermanentError{Err: fmt.Errorf("kind %q is not search or mentions", q.kind)}
	}
	if err != nil {
		return nil, ex, c.classify(err, ex)
	}
	if ex.status == 0 {
		return nil, ex, &collectors.MalformedError{What: "X API response", Err: errors.New("no response body captured")}
	}
	page, err := MapResponse(ex.body, src, c.now())
	if err != nil {
		return nil, ex, &collectors.MalformedError{What: "X API page", Err: err}
	}
	return page, ex, nil
}

// classify turns a gotwi error into one of the errors collectors.Retry
// understands. Messages never hold the token (it travels only in the
// Authorization header) nor a query string.
func (c *Collector) classify(err error, ex *exchange) error {
	var ge *gotwi.GotwiError
	if errors.As(err, &ge) && ge.OnAPI {
		return apiError(ge, ex, c.now())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Network failure or timeout: transient. url.Error prints the URL
		// with its query; keep only the path.
		return fmt.Errorf("%s %s: %w", ue.Op, stripQuery(ue.URL), ue.Err)
	}
	if ex.status != 0 {
		// A 200 whose body did not decode (truncated, not JSON).
		return &collectors.MalformedError{What: "X API response", Err: err}
	}
	// gotwi refused the call before sending it (empty query, client not
	// ready): retrying cannot help.
	return &collectors.PermanentError{Err: fmt.Errorf("call to the X API not sent: %w", err)}
}

// apiError classifies a non-2xx response.
func apiError(ge *gotwi.GotwiError, ex *exchange, now time.Time) error {
	status := ge.StatusCode
	msg := fmt.Sprintf("the X API answered %d %s", status, http.StatusText(status))
	if ge.Title != "" {
		msg += ": " + ge.Title
	}
	if ge.Detail != "" && ge.Detail != ge.Title {
		msg += ": " + ge.Detail
	}
	for _, e := range ge.APIErrors {
		if e.Message != "" {
			msg += "; " + e.Message
		}
	}
	if ge.Type != "" {
		msg += " (" + ge.Type + ")"
	}
	switch {
	case status == http.StatusTooManyRequests:
		var reset *time.Time
		if ge.RateLimitInfo != nil {
			reset = ge.RateLimitInfo.ResetAt
		}
		return &collectors.RateLimitError{Wait: rateLimitWait(reset, ex.header, now), Reason: msg}
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		// 401 is a refused token. 403 is either a token without access to
		// the endpoint or an app whose product tier lacks it
		// (client-forbidden): both need an operator, so both are ErrAuth.
		return fmt.Errorf("%w: %s", collectors.ErrAuth, msg)
	case status == http.StatusRequestTimeout, status >= 500:
		return errors.New(msg)
	default:
		// 400 invalid request, 404 and the like: the same call fails again.
		return &collectors.PermanentError{Err: errors.New(msg)}
	}
}

// defaultRateLimitWait is used when a 429 names no reset at all.
const defaultRateLimitWait = time.Minute

// rateLimitWait is how long a 429 asks us to wait: until gotwi's reset
// (x-rate-limit-reset, read only when the 429 had a Content-Type), else the
// captured x-rate-limit-reset header, else Retry-After.
func rateLimitWait(reset *time.Time, h http.Header, now time.Time) time.Duration {
	if reset == nil {
		if t, ok := resetHeader(h); ok {
			reset = &t
		}
	}
	if reset != nil {
		if d := reset.Sub(now); d > 0 {
			return d
		}
		return time.Second // the window already reset (or clocks disagree)
	}
	if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(ra); err == nil {
			return max(t.Sub(now), time.Second)
		}
	}
	return defaultRateLimitWait
}

// resetHeader reads x-rate-limit-reset (Unix seconds).
func resetHeader(h http.Header) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

// exhausted reports whether a successful response said no calls remain in
// the window, and when the window resets.
func exhausted(h http.Header) (time.Time, bool) {
	if strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")) != "0" {
		return time.Time{}, false
	}
	return resetHeader(h)
}

// remaining reads x-rate-limit-remaining: the calls left in the
// endpoint's window.
func remaining(h http.Header) (float64, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")))
	if err != nil || n < 0 {
		return 0, false
	}
	return float64(n), true
}

// stripQuery drops the query string (and fragment) of a URL for a message.
func stripQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i]
	}
	return s
}
