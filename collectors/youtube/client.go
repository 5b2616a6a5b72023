package youtube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	ytapi "google.golang.org/api/youtube/v3"

	"github.com/govlisten/govlisten/collectors"
)

// Quota costs in units (developers.google.com/youtube/v3/determine_quota_cost).
const (
	costCommentThreads = 1
	costComments       = 1
	costSearch         = 100
)

// maxBody bounds a response body read into memory.
const maxBody = 64 << 20

// defaultRateLimitWait is how long to wait after a throttling answer that
// does not say (no Retry-After).
const defaultRateLimitWait = time.Minute

// newService builds the library's service on base with a client whose
// transport adds the API key and captures each response body. With
// WithHTTPClient the library ignores WithAPIKey (apis.md 2.4), hence the
// transport; it also never tries Application Default Credentials.
func newService(base, key string, hc *http.Client) (*ytapi.Service, error) {
	if !strings.HasSuffix(base, "/") {
		base += "/" // the library resolves "youtube/v3/..." against it
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client := &http.Client{
		Transport:     &keyTransport{key: key, base: rt},
		CheckRedirect: hc.CheckRedirect,
		Jar:           hc.Jar,
		Timeout:       hc.Timeout,
	}
	return ytapi.NewService(context.Background(), option.WithEndpoint(base), option.WithHTTPClient(client))
}

// keyTransport adds key=<API key> to every request and, when the request's
// context carries a *capture, keeps the response body in it: the mapping
// reads the bytes the API sent, so Raw is never re-marshalled.
type keyTransport struct {
	key  string
	base http.RoundTripper
}

// capture receives one response body.
type capture struct{ body []byte }

type captureKey struct{}

func withCapture(ctx context.Context) (context.Context, *capture) {
	c := &capture{}
	return context.WithValue(ctx, captureKey{}, c), c
}

func (t *keyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	q := r.URL.Query()
	q.Set("key", t.key)
	r.URL.RawQuery = q.Encode()
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c, _ := req.Context().Value(captureKey{}).(*capture)
	if c == nil {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("response body larger than %d bytes", maxBody)
	}
	c.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// errInvalidPageToken is a pageToken the API no longer accepts: the pass
// starts again without it.
var errInvalidPageToken = errors.New("invalidPageToken")

// skipReasons are errors about one object (a video with comments off, a
// deleted video, channel or thread): a pass skips the object and goes on.
var skipReasons = []string{"commentsDisabled", "videoNotFound", "channelNotFound", "commentThreadNotFound", "commentNotFound"}

// apiError is a YouTube error answer, without anything of the request URL
// (which carries the key).
type apiError struct {
	Code    int
	Reason  string
	Message string
}

func (e *apiError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("YouTube HTTP %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("YouTube HTTP %d %s: %s", e.Code, e.Reason, e.Message)
}

// reasonOf returns the error's first reason, or "" when it is not an API
// error answer.
func reasonOf(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ""
}

// isSkip says whether err is about one object the pass can do without.
func isSkip(err error) bool { return slices.Contains(skipReasons, reasonOf(err)) }

// classify turns what a call returned into the errors collectors.Retry and
// the scheduler act on. now is the collector's clock (for a quota's end);
// key is removed from any text that could carry it.
func classify(err error, now time.Time, key string) error {
	if err == nil {
		return nil
	}
	if ctxErr := contextError(err); ctxErr != nil {
		return ctxErr
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return classifyAPI(ge, now, key)
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &collectors.MalformedError{What: "YouTube response", Err: errors.New(redact(err.Error(), key))}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Transient (network, timeout): Retry backs off. The URL is the
		// library's, without the key, but strip its query all the same.
		return &collectors.NetworkError{Err: fmt.Errorf("%s %s: %s", ue.Op, stripQuery(ue.URL), redact(ue.Err.Error(), key))}
	}
	return errors.New(redact(err.Error(), key))
}

func contextError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

func classifyAPI(ge *googleapi.Error, now time.Time, key string) error {
	ae := &apiError{Code: ge.Code, Message: redact(ge.Message, key)}
	if len(ge.Errors) > 0 {
		ae.Reason = ge.Errors[0].Reason
		if ae.Message == "" {
			ae.Message = redact(ge.Errors[0].Message, key)
		}
	}
	if ae.Message == "" {
		ae.Message = http.StatusText(ge.Code)
	}
	switch {
	case ae.Reason == "quotaExceeded" || ae.Reason == "dailyLimitExceeded":
		return &collectors.QuotaError{Until: nextPacificMidnight(now), Reason: "YouTube " + ae.Reason}
	case ae.Reason == "rateLimitExceeded" || ae.Reason == "userRateLimitExceeded" || ge.Code == http.StatusTooManyRequests:
		reason := ae.Reason
		if reason == "" {
			reason = "HTTP 429"
		}
		return &collectors.RateLimitError{Wait: retryAfter(ge.Header, now), Reason: "YouTube " + reason}
	case ae.Reason == "keyInvalid" || ge.Code == http.StatusUnauthorized ||
		ge.Code == http.StatusBadRequest && (strings.Contains(ae.Message, "API key not valid") || strings.Contains(ge.Body, "API_KEY_INVALID")):
		return fmt.Errorf("%w: %v", collectors.ErrAuth, ae)
	case ae.Reason == "invalidPageToken":
		return &collectors.PermanentError{Err: fmt.Errorf("%w: %v", errInvalidPageToken, ae)}
	case ge.Code >= 500:
		return ae // transient
	case ge.Code >= 400:
		return &collectors.PermanentError{Err: ae}
	}
	return ae
}

// retryAfter reads Retry-After (seconds or an HTTP date), else the default.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return defaultRateLimitWait
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return defaultRateLimitWait
}

// nextPacificMidnight is when YouTube's daily quota resets after now.
func nextPacificMidnight(now time.Time) time.Time {
	t := now.In(collectors.Pacific)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, collectors.Pacific)
}

func redact(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// stripQuery drops a URL's query (YouTube API keys travel in it).
func stripQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}
