package facebook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// fuzzTransport answers every request, in memory, with the status and body
// of the current fuzz input and Graph's JSON content type: the platform's
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

// FuzzCollectResponse feeds arbitrary bytes, as the body of a Graph API
// answer with an arbitrary status (200 + n%400), through the collector's
// real path: the plain net/http client (answered by fuzzTransport), the
// body limit, error classification (Graph error bodies and proxies'
// answers), the mapping of posts and of each post's comments, and the
// pass's paging, for both source kinds.
//
// Properties: no panic, no hang; a failed call emits nothing; whatever is
// emitted is a valid Facebook mention whose Raw is JSON; a 2xx body that
// MapPosts (and so `govlisten import`) cannot read fails the pass without
// emitting anything.
func FuzzCollectResponse(f *testing.F) {
	for _, name := range []string{"feed_page.json", "feed_timepaged.json", "tagged_last.json", "comments_page.json", "comments_empty.json", "no_data.json", "numeric_id.json"} {
		f.Add(uint16(0), readFixture(f, name))
	}
	f.Add(uint16(200), readFixture(f, "error_body.json"))
	ft := &fuzzTransport{}
	hc := &http.Client{Transport: ft}
	cfg := config.Default()
	cfg.Facebook.BaseURL = "http://fuzz.invalid"
	c, err := New(&cfg, func(string) string { return "fuzz-token" }, hc, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	c.Policy = collectors.RetryPolicy{Attempts: 1, Min: time.Millisecond, Max: time.Millisecond, MaxWait: time.Nanosecond}
	sources := []config.Source{
		{Name: "fuzz-feed", Platform: mention.Facebook, Kind: KindPagePosts, PageID: "100000000000001", MaxPages: 2, Own: []string{"100000000000001"}},
		{Name: "fuzz-tagged", Platform: mention.Facebook, Kind: KindPageTagged, PageID: "100000000000001", MaxPages: 2},
	}
	f.Fuzz(func(t *testing.T, n uint16, body []byte) {
		status := 200 + int(n)%400
		ft.set(status, body)
		_, _, _, mapErr := MapPosts(body, sources[0], time.Now())
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
					if m.Platform != mention.Facebook || !json.Valid(m.Raw) {
						t.Fatalf("%s: emitted %s:%q with raw %q", src.Kind, m.Platform, m.ID, m.Raw)
					}
				}
			}
			ok2xx := status >= 200 && status < 300
			switch {
			case !ok2xx && (emitted > 0 || err == nil):
				t.Fatalf("%s: a %d answer emitted %d mentions, err %v", src.Kind, status, emitted, err)
			case ok2xx && mapErr != nil && (err == nil || emitted > 0):
				t.Fatalf("%s: a body MapPosts refuses (%v) was collected: %d mentions, err %v", src.Kind, mapErr, emitted, err)
			}
		}
	})
}

// FuzzReadUsage feeds arbitrary header values to the pacing that reads
// Graph's usage headers (X-App-Usage, X-Page-Usage and
// X-Business-Use-Case-Usage, JSON the API sends with every answer).
// Properties: no panic; a wait it asks for is never negative nor longer
// than a day and a minute; a gate fed with it never refuses a call for
// longer than that.
func FuzzReadUsage(f *testing.F) {
	f.Add(`{"call_count":12,"total_cputime":3,"total_time":5}`, `{"call_count":96,"estimated_time_to_regain_access":7}`, `{"100000000000001":[{"type":"pages","call_count":81,"total_cputime":2,"total_time":4,"estimated_time_to_regain_access":0}]}`)
	f.Add(`{"call_count":1e400}`, `{"estimated_time_to_regain_access":-5}`, `{"x":[{"call_count":"NaN"}]}`)
	f.Add(`null`, `[]`, `{"x":null}`)
	f.Fuzz(func(t *testing.T, app, page, buc string) {
		h := http.Header{}
		h.Set(headerApp, app)
		h.Set(headerPage, page)
		h.Set(headerBUC, buc)
		level, regain, _ := readUsage(h)
		if regain < 0 || regain > 24*time.Hour+time.Minute {
			t.Fatalf("regain %s from %q %q %q", regain, app, page, buc)
		}
		if math.IsNaN(level) {
			t.Fatalf("usage level NaN from %q %q %q", app, page, buc)
		}
		var g usageGate
		now := time.Now()
		for range 3 {
			g.observe(h, now)
		}
		wait, pace, _ := g.check(now)
		if wait < 0 || wait > 24*time.Hour+time.Minute || pace < 0 || pace > maxPace {
			t.Fatalf("gate wait %s pace %s from %q %q %q", wait, pace, app, page, buc)
		}
	})
}
