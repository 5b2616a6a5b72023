package twitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// fuzzTransport answers every request, in memory, with the status and body
// of the current fuzz input and the X API's JSON content type: the platform's
// client and govlisten's own transports above it are the real ones, only
// the socket is left out (an input then costs microseconds, not a loopback
// round trip, whatever the machine's load). Inputs run one at a time in
// each fuzzing process; the mutex is for the race detector's sake.
type fuzzTransport struct {
	mu     sync.Mutex
	status int
	body   []byte
}

func (ft *fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	ft.mu.Lock()
	status, body := ft.status, ft.body
	ft.mu.Unlock()
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

func (ft *fuzzTransport) set(status int, body []byte) {
	ft.mu.Lock()
	ft.status, ft.body = status, body
	ft.mu.Unlock()
}

// fuzzStatus turns the fuzzer's number into an HTTP status from 200 to
// 599; 0 (every seed's choice for a success) is 200.
func fuzzStatus(n uint16) int { return 200 + int(n)%400 }

// FuzzCollectResponse feeds arbitrary bytes, as the body of an X API answer
// with an arbitrary status, through the collector's real path: gotwi's
// client (its decoding of successes and of problem bodies) over an
// http.Client answered by fuzzTransport, the transport that captures the
// body, MapResponse, the error classification and Collect's paging, for
// both source kinds.
//
// Properties: no panic, no hang; a failed call emits nothing; whatever is
// emitted is a valid mention with X's numeric id and Raw that is JSON; a
// 2xx body that MapResponse (and so `govlisten import`) cannot read is an
// error, and one it can read is collected as the same mentions.
func FuzzCollectResponse(f *testing.F) {
	for _, name := range []string{"search_page.json", "no_data.json", "mentions_page.json", "long_post.json", "twarc2_line.json", "user_not_found.json"} {
		f.Add(uint16(0), readFixture(f, name))
	}
	ft := &fuzzTransport{}
	hc := &http.Client{Transport: ft}
	cfg := config.Default()
	cfg.Twitter.BaseURL = "http://fuzz.invalid"
	c, err := New(&cfg, func(string) string { return "fuzz-bearer" }, hc, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	// One try, no waiting: a rate limit or a reset further away than a
	// nanosecond ends the run with its error.
	c.Retry = collectors.RetryPolicy{Attempts: 1, Min: time.Millisecond, Max: time.Millisecond, MaxWait: time.Nanosecond}
	sources := []config.Source{
		{Name: "fuzz-search", Platform: mention.Twitter, Kind: kindSearch, Query: "DWP", MaxPages: 3},
		{Name: "fuzz-mentions", Platform: mention.Twitter, Kind: kindMentions, UserID: "7712", MaxPages: 3, Own: []string{"7712"}},
	}
	f.Fuzz(func(t *testing.T, n uint16, body []byte) {
		status := fuzzStatus(n)
		ft.set(status, body)
		want, mapErr := MapResponse(body, sources[0], time.Now())
		for _, src := range sources {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			var pages []collectors.Page
			err := c.Collect(ctx, src, collectors.Checkpoint{}, func(_ context.Context, p collectors.Page) error {
				pages = append(pages, p)
				return nil
			})
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: Collect hung on a %d answer", src.Kind, status)
			}
			for _, p := range pages {
				for _, m := range p.Mentions {
					if verr := m.Validate(); verr != nil {
						t.Fatalf("%s: emitted an invalid mention: %v", src.Kind, verr)
					}
					if m.Platform != mention.Twitter || !isID(m.ID) || !json.Valid(m.Raw) {
						t.Fatalf("%s: emitted %s:%q with raw %q", src.Kind, m.Platform, m.ID, m.Raw)
					}
				}
			}
			ok2xx := status >= 200 && status < 300
			switch {
			case !ok2xx && len(pages) > 0:
				t.Fatalf("%s: a %d answer emitted %d pages", src.Kind, status, len(pages))
			case !ok2xx && err == nil:
				t.Fatalf("%s: a %d answer was not an error", src.Kind, status)
			case ok2xx && mapErr != nil && (err == nil || len(pages) > 0):
				t.Fatalf("%s: a body MapResponse refuses (%v) was collected: %d pages, err %v", src.Kind, mapErr, len(pages), err)
			case ok2xx && mapErr == nil && len(pages) == 0:
				// A body the mapping reads but gotwi's typed decoding
				// refuses fails the call (malformed, retried): the collector
				// never emits what it could not check. Say so, but it is not
				// a failure.
				var me *collectors.MalformedError
				var pe *collectors.PermanentError
				if !errors.As(err, &me) && !errors.As(err, &pe) {
					t.Fatalf("%s: a readable page failed with an unclassified error: %v", src.Kind, err)
				}
			case ok2xx && mapErr == nil && src.Kind == kindSearch:
				got := pages[0].Mentions
				if len(got) != len(want.Mentions) {
					t.Fatalf("collected %d mentions, MapResponse %d", len(got), len(want.Mentions))
				}
				for i := range got {
					if got[i].ID != want.Mentions[i].ID || got[i].Text != want.Mentions[i].Text || string(got[i].Raw) != string(want.Mentions[i].Raw) {
						t.Fatalf("mention %d collected as %s %q, mapped as %s %q", i, got[i].ID, got[i].Text, want.Mentions[i].ID, want.Mentions[i].Text)
					}
				}
			}
		}
	})
}
