package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/govlisten/govlisten/collectors"
)

const (
	// requestTimeout bounds one HTTP request, whatever the caller's client.
	requestTimeout = 30 * time.Second
	// maxBody is the largest response read; a bigger one is malformed.
	maxBody = 32 << 20
	// throttleWait is the wait after a throttling error that came without a
	// usable usage header.
	throttleWait = time.Minute
	// policyBlockWait is the wait after error 368 (temporarily blocked for
	// policy reasons).
	policyBlockWait = time.Hour
)

// client is a plain net/http Graph API client: versioned base URL, bearer
// token, error classification and usage-header pacing. Safe for concurrent
// use.
type client struct {
	hc       *http.Client
	base     string // https://graph.facebook.com/v23.0, without a trailing slash
	basePath string // /v23.0: base's path, shown in errors before the asked path
	token    string
	gate     usageGate
}

// GraphError is an error body the Graph API answered with
// ({"error":{...}}), and the path that was asked (never its query). It is
// wrapped by the collectors' error types: errors.As finds it.
type GraphError struct {
	Status    int    // HTTP status
	Code      int    // error.code, what errors are classified by
	Subcode   int    // error.error_subcode
	Type      string // error.type, e.g. OAuthException
	Message   string // error.message, with the token (should it appear) redacted
	Transient bool   // error.is_transient
	TraceID   string // error.fbtrace_id, for Meta support
	Path      string
}

func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: HTTP %d: graph error code %d", e.Path, e.Status, e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, " subcode %d", e.Subcode)
	}
	if m := meaning(e.Code, e.Subcode); m != "" {
		b.WriteString(" (" + m + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" [fbtrace_id " + e.TraceID + "]")
	}
	return b.String()
}

// meaning explains the codes an operator acts on.
func meaning(code, subcode int) string {
	switch code {
	case 190:
		switch subcode {
		case 458:
			return "token invalid: the app was removed by the user"
		case 459:
			return "token invalid: the user is checkpointed and must log in to Facebook"
		case 460:
			return "token invalid: the password changed"
		case 463:
			return "token expired"
		case 464:
			return "token invalid: the user is unconfirmed"
		case 467:
			return "token invalid"
		}
		return "token invalid or expired"
	case 100:
		if subcode == 33 {
			return "object deleted or not visible with this token"
		}
		return "invalid parameter"
	case 10:
		return "permission missing"
	case 368:
		return "temporarily blocked for policy reasons"
	}
	if code >= 200 && code <= 299 {
		return "permission missing"
	}
	return ""
}

// get asks path (e.g. /100000000000001/feed) with q and returns the body of
// a 2xx answer. called tells whether a request went out (the usage gate may
// refuse one first). Errors are classified for collectors.Retry:
// *collectors.RateLimitError, collectors.ErrAuth, *collectors.PermanentError,
// anything else transient; each wraps a *GraphError when the API sent one.
func (c *client) get(ctx context.Context, path string, q url.Values) (body []byte, called bool, err error) {
	shown := c.basePath + path // never the query
	wait, pace, why := c.gate.check(time.Now())
	if wait > 0 {
		return nil, false, &collectors.RateLimitError{Wait: wait, Reason: why}
	}
	if pace > 0 {
		t := time.NewTimer(pace)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-t.C:
		}
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, false, &collectors.PermanentError{Err: fmt.Errorf("GET %s: %w", shown, stripURL(err))}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("GET %s: %w", shown, stripURL(err))
	}
	defer resp.Body.Close()
	c.gate.observe(resp.Header, time.Now())
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, true, fmt.Errorf("GET %s: reading the body: %w", shown, stripURL(err))
	}
	if len(body) > maxBody {
		return nil, true, &collectors.MalformedError{What: "GET " + shown, Err: fmt.Errorf("body larger than %d bytes", maxBody)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, true, nil
	}
	return nil, true, c.classify(shown, resp.StatusCode, body)
}

// classify turns an error answer into the error type Retry acts on. It
// dispatches on error.code, not on the HTTP status (Graph throttles with a
// generic 400 or 403).
func (c *client) classify(path string, status int, body []byte) error {
	var env struct {
		Error *struct {
			Message     string `json:"message"`
			Type        string `json:"type"`
			Code        int    `json:"code"`
			Subcode     int    `json:"error_subcode"`
			IsTransient bool   `json:"is_transient"`
			FBTraceID   string `json:"fbtrace_id"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		// Not Graph's shape: a proxy or load balancer answered.
		err := fmt.Errorf("GET %s: HTTP %d: %q", path, status, c.redact(snippet(body)))
		switch {
		case status == http.StatusTooManyRequests:
			return &collectors.RateLimitError{Wait: c.gate.waitOr(time.Now(), throttleWait), Reason: fmt.Sprintf("HTTP 429 on %s", path)}
		case status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", collectors.ErrAuth, err)
		case status >= 400 && status < 500 && status != http.StatusRequestTimeout:
			return &collectors.PermanentError{Err: err}
		}
		return err
	}
	e := env.Error
	ge := &GraphError{
		Status: status, Code: e.Code, Subcode: e.Subcode, Type: e.Type,
		Message: c.redact(e.Message), Transient: e.IsTransient, TraceID: e.FBTraceID, Path: path,
	}
	switch {
	case e.Code == 4 || e.Code == 17 || e.Code == 32 || e.Code == 341 || e.Code == 613 || e.Code == 80001:
		return &collectors.RateLimitError{
			Wait:   c.gate.waitOr(time.Now(), throttleWait),
			Reason: fmt.Sprintf("graph error code %d on %s", e.Code, path),
		}
	case e.Code == 368:
		return &collectors.RateLimitError{Wait: policyBlockWait, Reason: fmt.Sprintf("graph error code 368 on %s: %s", path, ge.Message)}
	case e.Code == 190 || e.Code == 102 || e.Code == 104:
		return fmt.Errorf("%w: %w", collectors.ErrAuth, ge)
	case e.Code == 1 || e.Code == 2:
		return ge
	case e.Code == 10 || e.Code >= 200 && e.Code <= 299 || e.Code == 100:
		return &collectors.PermanentError{Err: ge}
	case e.IsTransient || status >= 500:
		return ge
	}
	return &collectors.PermanentError{Err: ge}
}

// redact removes the token from text that came from the network.
func (c *client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[redacted]")
}

func snippet(body []byte) string {
	const n = 200
	if len(body) > n {
		return string(body[:n]) + "…"
	}
	return string(body)
}

// stripURL drops the URL (and its query) that net/http puts in its errors,
// keeping the cause, so that cancellation and timeouts still match
// errors.Is.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// usageGate paces calls by the usage headers Graph sends on every response
// (X-App-Usage, X-Business-Use-Case-Usage, X-Page-Usage: percentages of the
// limits). At 95% or more it refuses calls until the announced regain time,
// else for a backoff of 60 s doubling while usage stays high (at most 15
// min); from 80% it sleeps before each call, longer as usage nears 95%.
// One gate serves all of a Collector's sources: the app's limits are
// app-wide, and pages' limits are pooled conservatively. Safe for concurrent
// use.
type usageGate struct {
	mu      sync.Mutex
	until   time.Time     // no call before
	backoff time.Duration // next wait at high usage without a regain time
	pace    time.Duration // sleep before each call
	level   float64       // the last usage seen, percent
	seen    bool          // a usage header has been seen
	regain  time.Duration // the last regain time announced
}

const (
	usageBlock  = 95
	usagePace   = 80
	maxPace     = 3 * time.Second
	minBackoff  = time.Minute
	maxBackoff  = 15 * time.Minute
	headerApp   = "X-App-Usage"
	headerPage  = "X-Page-Usage"
	headerBUC   = "X-Business-Use-Case-Usage"
	minuteSlack = time.Millisecond
)

type usage struct {
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	// EstimatedTimeToRegainAccess is in minutes.
	EstimatedTimeToRegainAccess float64 `json:"estimated_time_to_regain_access"`
}

func (u usage) max() float64 { return max(u.CallCount, u.TotalCPUTime, u.TotalTime) }

// readUsage returns the highest percentage and the longest regain time in
// h; ok is false when h has no readable usage header.
func readUsage(h http.Header) (level float64, regain time.Duration, ok bool) {
	var minutes float64
	for _, name := range []string{headerApp, headerPage} {
		var u usage
		if v := h.Get(name); v != "" && json.Unmarshal([]byte(v), &u) == nil {
			level, minutes, ok = max(level, u.max()), max(minutes, u.EstimatedTimeToRegainAccess), true
		}
	}
	if v := h.Get(headerBUC); v != "" {
		var buc map[string][]usage
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, us := range buc {
				for _, u := range us {
					level, minutes, ok = max(level, u.max()), max(minutes, u.EstimatedTimeToRegainAccess), true
				}
			}
		}
	}
	if minutes > 0 && !math.IsInf(minutes, 0) && !math.IsNaN(minutes) {
		// Whole minutes from the API; the simulator may send fractions.
		regain = time.Duration(math.Ceil(min(minutes, 24*60)*60e3))*time.Millisecond + minuteSlack
	}
	return level, regain, ok
}

// observe records the usage headers of a response received at now.
func (g *usageGate) observe(h http.Header, now time.Time) {
	level, regain, ok := readUsage(h)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.level, g.regain, g.seen = level, regain, true
	switch {
	case regain > 0:
		g.until, g.pace = now.Add(regain), 0
	case level >= usageBlock:
		if g.backoff == 0 {
			g.backoff = minBackoff
		}
		g.until, g.pace = now.Add(g.backoff), 0
		g.backoff = min(2*g.backoff, maxBackoff)
	case level >= usagePace:
		g.backoff = 0
		g.pace = time.Duration((level - usagePace) / (usageBlock - usagePace) * float64(maxPace))
	default:
		g.backoff, g.pace = 0, 0
	}
}

// check returns how long to wait before a call at now (with the reason), or
// how long to pace it.
func (g *usageGate) check(now time.Time) (wait, pace time.Duration, why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := g.until.Sub(now); w > 0 {
		why = fmt.Sprintf("Graph usage at %.0f%%", g.level)
		if g.regain > 0 {
			why += fmt.Sprintf(", access regained in %s", g.regain.Round(time.Second))
		}
		return w, 0, why
	}
	return 0, g.pace, ""
}

// usage is the highest usage percentage the last response with usage
// headers announced; ok is false before any did.
func (g *usageGate) usage() (level float64, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.level, g.seen
}

// waitOr is the wait the usage headers ask for at now, or def when they
// ask for none.
func (g *usageGate) waitOr(now time.Time, def time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := g.until.Sub(now); w > 0 {
		return w
	}
	return def
}
