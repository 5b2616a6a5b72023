package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/govlisten/govlisten/telemetry"
)

// ErrAuth is wrapped by collectors when the platform refuses the token
// (X 401/403 on auth, YouTube keyInvalid, Facebook code 190). It is not
// retried: an operator must rotate the token.
var ErrAuth = errors.New("token refused by the platform")

// RateLimitError says the platform asked us to wait (X 429 with
// x-rate-limit-reset, Retry-After, Facebook throttling codes, YouTube
// rateLimitExceeded). Retry waits exactly Wait, plus a little jitter.
type RateLimitError struct {
	Wait   time.Duration
	Reason string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited (%s): retry in %s", e.Reason, e.Wait.Round(time.Second))
}

// QuotaError says a quota is spent until Until (YouTube's daily units, or a
// budget govlisten set itself). The scheduler stops the source until then
// and says so; it is not an error of the source.
type QuotaError struct {
	Until  time.Time
	Reason string
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota spent (%s) until %s", e.Reason, e.Until.UTC().Format(time.RFC3339))
}

// MalformedError is a response that did not parse or was partial. It is
// retried; nothing of it is published and no checkpoint moves.
type MalformedError struct {
	What string
	Err  error
}

func (e *MalformedError) Error() string {
	return "malformed response: " + e.What + ": " + e.Err.Error()
}
func (e *MalformedError) Unwrap() error { return e.Err }

// NetworkError is a call that got no answer from the platform: connection
// refused or reset, DNS, a timeout. It is transient. Collectors use it where
// an error's text had to be rewritten (to keep a key out of it) and its
// type would otherwise be lost.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string { return e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// PermanentError marks an error that retrying cannot fix (a bad parameter,
// a deleted object, a permission missing): Retry returns it at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryPolicy bounds Retry.
type RetryPolicy struct {
	// Attempts is the most tries of one call (default 6).
	Attempts int
	// Min and Max bound the exponential backoff for transient errors
	// (defaults 1s and 60s); jitter is ±20%.
	Min, Max time.Duration
	// MaxWait is the longest rate-limit wait accepted inside one run
	// (default 15m, one X window); a longer one is returned to the caller.
	MaxWait time.Duration
	// OnWait, when set, is told about every wait (for logs and metrics).
	OnWait func(wait time.Duration, err error)
	// Metrics, when set, counts the platform's calls, errors and
	// rate-limit waits for /metrics: Retry counts the waits, and the
	// platform's code calls Observe once per request that went out.
	Metrics *telemetry.API
	// Gate, when set, shares rate-limit waits between every source and
	// replica of a platform: Retry waits on it before each call, and tells
	// it of each wait the platform asks for, so one replica's 429 holds the
	// others back instead of each finding out for itself.
	Gate Gate
}

// Gate is a platform's shared "no calls before" time (see KVGate).
type Gate interface {
	// Until is the time before which no call should be made, and why.
	Until(ctx context.Context) (time.Time, string, error)
	// Hold records that the platform asked for no calls before until.
	Hold(ctx context.Context, until time.Time, reason string) error
}

// Observe counts one request sent to the platform and its outcome (nil,
// or the error the request came to, classified by ErrorClass) in
// p.Metrics. A request cut short by cancellation counts as a call only.
func (p RetryPolicy) Observe(err error) {
	p.Metrics.Call(ErrorClass(err))
}

// ErrorClass names the class of a collector's error for metrics (see
// telemetry.ErrorClasses): auth, rate_limit, quota, malformed, client
// (PermanentError), network (no answer: NetworkError, net.Error, a
// connection cut mid-answer), server (anything else: 5xx and other
// transient failures). It is "" for nil and for cancellation.
func ErrorClass(err error) string {
	var (
		rl *RateLimitError
		qe *QuotaError
		me *MalformedError
		pe *PermanentError
		ne *NetworkError
		nn net.Error
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.As(err, &rl):
		return "rate_limit"
	case errors.As(err, &qe):
		return "quota"
	case errors.As(err, &me):
		return "malformed"
	case errors.As(err, &pe):
		return "client"
	case errors.As(err, &ne), errors.As(err, &nn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "network"
	}
	return "server"
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 6
	}
	if p.Min <= 0 {
		p.Min = time.Second
	}
	if p.Max <= 0 {
		p.Max = time.Minute
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 15 * time.Minute
	}
	return p
}

// Retry calls fn until it succeeds, waiting as the error asks: the
// platform's reset for a RateLimitError (not counted as an attempt),
// exponential backoff with jitter for anything else transient. ErrAuth,
// QuotaError, PermanentError and context errors return at once.
func Retry(ctx context.Context, p RetryPolicy, fn func(context.Context) error) error {
	p = p.withDefaults()
	backoff := p.Min
	for attempt := 1; ; {
		if p.Gate != nil {
			if err := waitGate(ctx, p); err != nil {
				return err
			}
		}
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var rl *RateLimitError
		var qe *QuotaError
		var pe *PermanentError
		switch {
		case errors.Is(err, ErrAuth), errors.As(err, &qe), errors.As(err, &pe),
			errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
			return err
		}
		var wait time.Duration
		if errors.As(err, &rl) {
			if p.Gate != nil {
				// Best effort: a failure here only means other replicas find out for themselves.
				_ = p.Gate.Hold(ctx, time.Now().Add(rl.Wait), rl.Reason)
			}
			if rl.Wait > p.MaxWait {
				return err
			}
			wait = rl.Wait + time.Duration(rand.Int64N(int64(time.Second)))
			p.Metrics.RateLimited(wait)
		} else {
			if attempt >= p.Attempts {
				return fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			attempt++
			wait = time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
			backoff = min(2*backoff, p.Max)
		}
		if p.OnWait != nil {
			p.OnWait(wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// waitGate waits until the shared gate opens, or returns a RateLimitError
// when that is further away than p.MaxWait.
func waitGate(ctx context.Context, p RetryPolicy) error {
	until, reason, err := p.Gate.Until(ctx)
	if err != nil || !until.After(time.Now()) {
		return nil // an unreadable gate does not stop collection
	}
	wait := time.Until(until)
	rl := &RateLimitError{Wait: wait, Reason: "shared: " + reason}
	if wait > p.MaxWait {
		return rl
	}
	p.Metrics.RateLimited(wait)
	if p.OnWait != nil {
		p.OnWait(wait, rl)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}
