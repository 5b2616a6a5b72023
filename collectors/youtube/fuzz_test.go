package youtube

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
// of the current fuzz input and YouTube's JSON content type: the platform's
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
		Header:        http.Header{"Content-Type": {"application/json; charset=UTF-8"}},
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

// FuzzCollectResponse feeds arbitrary bytes, as the body of a YouTube Data
// API answer with an arbitrary status (200 + n%400), through the
// collector's real path: the google.golang.org/api youtube/v3 client (its
// decoding of commentThreads.list, comments.list and search.list
// responses, and of error bodies into *googleapi.Error) over an
// http.Client answered by fuzzTransport, the transport that captures the
// body, the mapping and the error classification, for a channel source and
// a search source.
//
// Properties: no panic, no hang; a failed call emits nothing; whatever is
// emitted is a valid YouTube mention whose Raw is JSON; a 2xx body that
// MapCommentThreads (and so `govlisten import`) cannot read fails a
// channel source without emitting anything.
func FuzzCollectResponse(f *testing.F) {
	for _, name := range []string{"threads_html.json", "threads_plain.json", "threads_empty.json", "comments_replies.json"} {
		f.Add(uint16(0), readFixture(f, name))
	}
	ft := &fuzzTransport{}
	hc := &http.Client{Transport: ft}
	cfg := config.Default()
	cfg.YouTube.BaseURL = "http://fuzz.invalid"
	budget := &collectors.DailyBudget{Units: 1 << 40, Location: collectors.Pacific}
	c, err := New(&cfg, func(string) string { return "fuzz-key" }, hc, budget, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	c.Retry = collectors.RetryPolicy{Attempts: 1, Min: time.Millisecond, Max: time.Millisecond, MaxWait: time.Nanosecond}
	sources := []config.Source{
		{Name: "fuzz-channel", Platform: mention.YouTube, Kind: KindChannelComments, ChannelID: "UCsimDWPgovuk00000000001", MaxPages: 2, Own: []string{"UCacmeOfficial000000000"}},
		{Name: "fuzz-search", Platform: mention.YouTube, Kind: KindSearch, Query: "DWP", MaxPages: 2},
	}
	f.Fuzz(func(t *testing.T, n uint16, body []byte) {
		status := 200 + int(n)%400
		ft.set(status, body)
		_, _, mapErr := MapCommentThreads(body, sources[0], time.Now())
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
			emitted := 0
			for _, p := range pages {
				for _, m := range p.Mentions {
					emitted++
					if verr := m.Validate(); verr != nil {
						t.Fatalf("%s: emitted an invalid mention: %v", src.Kind, verr)
					}
					if m.Platform != mention.YouTube || !json.Valid(m.Raw) {
						t.Fatalf("%s: emitted %s:%q with raw %q", src.Kind, m.Platform, m.ID, m.Raw)
					}
				}
			}
			ok2xx := status >= 200 && status < 300
			switch {
			case !ok2xx && emitted > 0:
				t.Fatalf("%s: a %d answer emitted %d mentions", src.Kind, status, emitted)
			case !ok2xx && err == nil && src.Kind == KindChannelComments:
				t.Fatalf("%s: a %d answer was not an error", src.Kind, status)
			case ok2xx && mapErr != nil && src.Kind == KindChannelComments && (err == nil || emitted > 0):
				t.Fatalf("%s: a body MapCommentThreads refuses (%v) was collected: %d mentions, err %v", src.Kind, mapErr, emitted, err)
			}
		}
	})
}
