package facebook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

const testToken = "EAAB-test-token-7f3c9a1d"

var (
	feedSource   = config.Source{Name: "dwp-feed", Platform: "facebook", Kind: KindPagePosts, PageID: "100000000000001", Department: "DWP"}
	taggedSource = config.Source{Name: "hmrc-tagged", Platform: "facebook", Kind: KindPageTagged, PageID: "100000000000002", Department: "HMRC"}
	fastRetry    = collectors.RetryPolicy{Attempts: 4, Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	errCrash     = errors.New("simulated crash while publishing")
)

// harness is a Collector against a Simulator on a loopback httptest server,
// with every outgoing request and log line recorded.
type harness struct {
	t    *testing.T
	sim  *Simulator
	srv  *httptest.Server
	c    *Collector
	out  *recorder
	logs *syncBuffer
}

// recorder is a RoundTripper that records every request the collector makes.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	base http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// backlog is a simulator config with 90 s of items already there.
func backlog() SimConfig {
	return SimConfig{Rate: 20, Seed: 42, Token: testToken, Start: time.Now().Add(-90 * time.Second)}
}

func newHarness(t *testing.T, sc SimConfig) *harness {
	t.Helper()
	sim := NewSimulator(sc)
	return newHarnessWith(t, sim, sim)
}

func newHarnessWith(t *testing.T, sim *Simulator, h http.Handler) *harness {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	out := &recorder{base: srv.Client().Transport}
	logs := &syncBuffer{}
	cfg := config.Default()
	cfg.Facebook.BaseURL = srv.URL
	getenv := func(k string) string {
		if k == cfg.Facebook.AccessTokenEnv {
			return testToken
		}
		return ""
	}
	c, err := New(&cfg, getenv, &http.Client{Transport: out}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	c.Policy = fastRetry
	c.lookback = 0 // the since-semantics tests; TestCommentLookback sets it
	hs := &harness{t: t, sim: sim, srv: srv, c: c, out: out, logs: logs}
	t.Cleanup(hs.checkSecrets)
	return hs
}

// checkSecrets: every request went to the test server, with the token in
// the Authorization header only (paging.next, which points at
// graph.facebook.com with the token, was never followed), and the token
// is in no log line.
func (h *harness) checkSecrets() {
	t := h.t
	u, _ := url.Parse(h.srv.URL)
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	for _, r := range h.out.reqs {
		if r.URL.Host != u.Host {
			t.Errorf("request to %s (not the test server)", r.URL.Host)
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("request %s without the bearer token", r.URL.Path)
		}
		if r.URL.Query().Has("access_token") || strings.Contains(r.URL.String(), testToken) {
			t.Errorf("token in the URL of request %s", r.URL.Path)
		}
	}
	if strings.Contains(h.logs.String(), testToken) {
		t.Error("the token appears in the logs")
	}
}

// collect runs Collect, recording the pages emitted; crashAt > 0 makes the
// crashAt-th emit fail.
func (h *harness) collect(src config.Source, from collectors.Checkpoint, crashAt int) ([]collectors.Page, error) {
	var pages []collectors.Page
	err := h.c.Collect(context.Background(), src, from, func(_ context.Context, p collectors.Page) error {
		if len(pages)+1 == crashAt {
			return errCrash
		}
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

func (h *harness) requests(pathSuffix string) []SimRequest {
	var out []SimRequest
	for _, r := range h.sim.Requests() {
		if strings.HasSuffix(r.Path, pathSuffix) {
			out = append(out, r)
		}
	}
	return out
}

func ids(pages ...[]collectors.Page) []string {
	set := map[string]bool{}
	for _, ps := range pages {
		for _, p := range ps {
			for _, m := range p.Mentions {
				set[m.ID] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	g, w := map[string]bool{}, map[string]bool{}
	for _, id := range got {
		g[id] = true
	}
	for _, id := range want {
		w[id] = true
	}
	var missing, extra []string
	for id := range w {
		if !g[id] {
			missing = append(missing, id)
		}
	}
	for id := range g {
		if !w[id] {
			extra = append(extra, id)
		}
	}
	t.Errorf("%s: %d collected, %d served; missing %d %.5q, extra %d %.5q", what, len(got), len(want), len(missing), missing, len(extra), extra)
}

// checkPass checks the checkpoints of one complete pass from from: each page
// but the last keeps from.Since and carries the open pass; the last closes
// it; comments follow the page of their post.
func checkPass(t *testing.T, pages []collectors.Page, from collectors.Checkpoint) {
	t.Helper()
	if len(pages) == 0 {
		t.Fatal("no page emitted")
	}
	posts := map[string]bool{}
	var started, newest time.Time
	for i, p := range pages {
		cp := p.Checkpoint
		last := i == len(pages)-1
		switch {
		case last && cp.Pass != nil:
			t.Errorf("last page %d: pass still open", i)
		case !last && (cp.Pass == nil || !cp.Since.Equal(from.Since)):
			t.Fatalf("page %d: checkpoint %+v, want since %v and an open pass", i, cp, from.Since)
		case !last:
			if started.IsZero() {
				started = cp.Pass.Started
			}
			if !cp.Pass.Started.Equal(started) || cp.Pass.Newest.Before(newest) {
				t.Errorf("page %d: pass %+v after started %v, newest %v", i, cp.Pass, started, newest)
			}
			newest = cp.Pass.Newest
		}
		for _, m := range p.Mentions {
			if m.Kind == mention.KindPost {
				posts[m.ID] = true
			} else if !posts[m.ThreadID] {
				t.Errorf("page %d: %s %s before its post %s", i, m.Kind, m.ID, m.ThreadID)
			}
			if m.CreatedAt.After(newest) && !last {
				t.Errorf("page %d: %s newer (%v) than the pass's newest %v", i, m.ID, m.CreatedAt, newest)
			}
		}
	}
}

func TestCollectPassPaginatesAndEmitsInOrder(t *testing.T) {
	h := newHarness(t, backlog())
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPass(t, pages, collectors.Checkpoint{})
	sameSet(t, "one pass", ids(pages), h.sim.Served())
	feeds := h.requests("/feed")
	if len(feeds) < 2 || feeds[1].Query.Get("after") == "" {
		t.Fatalf("%d feed requests; want several pages followed by cursor", len(feeds))
	}
	for _, r := range h.sim.Requests() {
		if r.Auth != "bearer" || r.Query.Has("access_token") {
			t.Errorf("request %s: auth %q, query %v", r.Path, r.Auth, r.Query)
		}
	}
	var posts, comments, replies, calls int
	for _, p := range pages {
		calls += p.Calls
		for _, m := range p.Mentions {
			switch m.Kind {
			case mention.KindPost:
				posts++
			case mention.KindComment:
				comments++
			case mention.KindReply:
				replies++
			}
			if err := m.Validate(); err != nil {
				t.Errorf("%s: %v", m.ID, err)
			}
		}
	}
	if posts < 101 || comments == 0 || replies == 0 {
		t.Errorf("%d posts, %d comments, %d replies", posts, comments, replies)
	}
	if calls != len(h.sim.Requests()) {
		t.Errorf("pages report %d calls, the simulator saw %d", calls, len(h.sim.Requests()))
	}
	last := pages[len(pages)-1].Checkpoint
	if last.Since.IsZero() || last.Since.After(time.Now()) {
		t.Errorf("final since %v", last.Since)
	}
}

func TestLaterRunReturnsOnlyNewItems(t *testing.T) {
	h := newHarness(t, backlog())
	first, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cp := first[len(first)-1].Checkpoint
	time.Sleep(1200 * time.Millisecond) // about 24 new items
	second, err := h.collect(feedSource, cp, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPass(t, second, cp)
	before := map[string]bool{}
	for _, id := range ids(first) {
		before[id] = true
	}
	fresh := 0
	for _, p := range second {
		for _, m := range p.Mentions {
			if m.CreatedAt.Before(cp.Since) {
				t.Errorf("second run returned %s from %v, before since %v", m.ID, m.CreatedAt, cp.Since)
			}
			if !before[m.ID] {
				fresh++
			}
		}
	}
	if fresh == 0 {
		t.Error("second run found nothing new")
	}
	if n1, n2 := len(ids(first)), len(ids(second)); n2 >= n1/2 {
		t.Errorf("second run returned %d items, the first %d: not only the new ones", n2, n1)
	}
	sameSet(t, "two runs", ids(first, second), h.sim.Served())
}

func TestResumeAfterCrashSkipsNothing(t *testing.T) {
	h := newHarness(t, backlog())
	from := collectors.Checkpoint{}
	first, err := h.collect(feedSource, from, 4)
	if !errors.Is(err, errCrash) {
		t.Fatalf("Collect = %v, want the emit error", err)
	}
	if len(first) != 3 {
		t.Fatalf("%d pages stored before the crash, want 3", len(first))
	}
	stored := first[len(first)-1].Checkpoint
	if stored.Pass == nil || !stored.Since.Equal(from.Since) {
		t.Fatalf("stored checkpoint %+v: want the open pass", stored)
	}
	second, err := h.collect(feedSource, stored, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkPass(t, second, stored)
	if got := second[0].Checkpoint.Pass; got == nil || !got.Started.Equal(stored.Pass.Started) || got.Newest.Before(stored.Pass.Newest) {
		t.Errorf("resumed pass %+v does not carry %+v forward", got, stored.Pass)
	}
	sameSet(t, "crash and resume", ids(first, second), h.sim.Served())
}

func TestResumedPassCarriesNewest(t *testing.T) {
	h := newHarness(t, backlog())
	now := time.Now().UTC().Truncate(time.Second)
	from := collectors.Checkpoint{
		Since: now.Add(-30 * time.Second),
		// Items newer than anything left (deleted since, say) were seen
		// before the crash; the pass started later still.
		Pass: &collectors.Pass{Newest: now.Add(30 * time.Minute), Started: now.Add(time.Hour)},
	}
	pages, err := h.collect(feedSource, from, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := pages[len(pages)-1].Checkpoint; got.Pass != nil || !got.Since.Equal(from.Pass.Newest) {
		t.Errorf("final checkpoint %+v, want since %v", got, from.Pass.Newest)
	}
}

func TestNothingNewEmitsOneEmptyPage(t *testing.T) {
	h := newHarness(t, backlog())
	from := collectors.Checkpoint{Since: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	pages, err := h.collect(feedSource, from, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || len(pages[0].Mentions) != 0 || pages[0].Checkpoint.Pass != nil || !pages[0].Checkpoint.Since.Equal(from.Since) {
		t.Errorf("pages %+v, want one empty page with checkpoint %+v", pages, from)
	}
}

func TestThrottlingWaitsForTheAnnouncedTime(t *testing.T) {
	const wait = 2 * time.Second
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultRateLimit, Count: 1, Wait: wait})
	start := time.Now()
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.sim.Requests()
	if reqs[0].Status != http.StatusBadRequest || reqs[1].Status != http.StatusOK {
		t.Fatalf("statuses %d, %d; want the 80001 error then success", reqs[0].Status, reqs[1].Status)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < wait || gap > wait+2500*time.Millisecond {
		t.Errorf("retried after %v; want within [%v, %v]", gap, wait, wait+2500*time.Millisecond)
	}
	if el := time.Since(start); el < wait {
		t.Errorf("Collect took %v, less than the wait", el)
	}
	checkPass(t, pages, collectors.Checkpoint{})
	sameSet(t, "after throttling", ids(pages), h.sim.Served())
}

func TestHighUsageWaitsBeforeTheNextCall(t *testing.T) {
	const wait = 1500 * time.Millisecond
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultHighUsage, Count: 1, Wait: wait})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	reqs := h.sim.Requests()
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < wait || gap > wait+2500*time.Millisecond {
		t.Errorf("next call after %v; the headers asked for %v at 96%%", gap, wait)
	}
	for i := 2; i < len(reqs); i++ {
		if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap > time.Second {
			t.Errorf("request %d waited %v with usage low", i, gap)
		}
	}
	sameSet(t, "after high usage", ids(pages), h.sim.Served())
}

func TestServerErrorsAreRetried(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultServerError, Count: 2}) // a 500 from Graph and a 503 from a proxy
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pages[0].Calls != 3 {
		t.Errorf("first page cost %d calls, want 3", pages[0].Calls)
	}
	reqs := h.sim.Requests()
	if reqs[0].Status < 500 || reqs[1].Status < 500 || reqs[2].Status != http.StatusOK {
		t.Errorf("statuses %d %d %d", reqs[0].Status, reqs[1].Status, reqs[2].Status)
	}
	sameSet(t, "after 5xx", ids(pages), h.sim.Served())
}

func TestMalformedPageIsRetried(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultMalformed, Count: 1})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pages[0].Calls != 2 {
		t.Errorf("first page cost %d calls, want 2", pages[0].Calls)
	}
	checkPass(t, pages, collectors.Checkpoint{})
	sameSet(t, "after a malformed page", ids(pages), h.sim.Served())
}

func TestPersistentlyMalformedFailsWithoutEmitting(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultMalformed, Count: 100})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	var me *collectors.MalformedError
	if !errors.As(err, &me) {
		t.Fatalf("Collect = %v, want a MalformedError", err)
	}
	if len(pages) != 0 {
		t.Errorf("%d pages emitted from malformed responses", len(pages))
	}
	if n := len(h.sim.Requests()); n != fastRetry.Attempts {
		t.Errorf("%d requests, want %d attempts", n, fastRetry.Attempts)
	}
	if !strings.Contains(err.Error(), feedSource.Name) {
		t.Errorf("error %q does not name the source", err)
	}
}

func TestMalformedMidPassKeepsThePassOpen(t *testing.T) {
	sim := NewSimulator(backlog())
	var n int
	var mu sync.Mutex
	h := newHarnessWith(t, sim, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if n++; n == 2 {
			sim.Inject(Fault{Kind: FaultMalformed, Count: 100})
		}
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	var me *collectors.MalformedError
	if !errors.As(err, &me) {
		t.Fatalf("Collect = %v, want a MalformedError", err)
	}
	// The posts page was read whole: it is emitted, and its checkpoint
	// keeps the pass open at the old since.
	if len(pages) != 1 || pages[0].Checkpoint.Pass == nil || !pages[0].Checkpoint.Since.IsZero() {
		t.Fatalf("pages %d, checkpoint %+v", len(pages), pages[0].Checkpoint)
	}
	for _, m := range pages[0].Mentions {
		if m.Kind != mention.KindPost {
			t.Errorf("%s %s emitted from a malformed comments page", m.Kind, m.ID)
		}
	}
}

func TestEmptyPageWithNextIsFollowed(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultEmpty, Count: 1})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages[0].Mentions) != 0 {
		t.Errorf("first page has %d mentions, want the empty one", len(pages[0].Mentions))
	}
	if feeds := h.requests("/feed"); len(feeds) < 2 || feeds[1].Query.Get("after") == "" {
		t.Errorf("the empty page's next was not followed")
	}
	checkPass(t, pages, collectors.Checkpoint{})
	sameSet(t, "after an empty page", ids(pages), h.sim.Served())
}

func TestExpiredTokenIsNotRetried(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultTokenExpired, Count: 1})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if !errors.Is(err, collectors.ErrAuth) {
		t.Fatalf("Collect = %v, want ErrAuth", err)
	}
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Code != 190 || ge.Subcode != 463 {
		t.Errorf("graph error %+v, want 190/463", ge)
	}
	if !strings.Contains(err.Error(), "token expired") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error text %q: want the subcode's meaning and no token", err)
	}
	if n := len(h.sim.Requests()); n != 1 || len(pages) != 0 {
		t.Errorf("%d requests, %d pages; want 1 and none", n, len(pages))
	}
}

func TestRepeatedCursorEndsTheLoop(t *testing.T) {
	h := newHarness(t, backlog())
	h.sim.Inject(Fault{Kind: FaultRepeatToken, Count: 1})
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.requests("/feed")); n != 2 {
		t.Errorf("%d feed requests, want 2 (the second repeats its cursor)", n)
	}
	checkPass(t, pages, collectors.Checkpoint{})
	if !strings.Contains(h.logs.String(), "repeated a cursor") {
		t.Error("the repeated cursor was not logged")
	}
}

func TestMaxPagesCapsTheLoop(t *testing.T) {
	h := newHarness(t, backlog())
	src := feedSource
	src.MaxPages = 1
	pages, err := h.collect(src, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.requests("/feed")); n != 1 {
		t.Errorf("%d feed requests, want 1", n)
	}
	checkPass(t, pages, collectors.Checkpoint{})
}

func TestDeletedPostsCommentsAreSkipped(t *testing.T) {
	h := newHarness(t, backlog())
	var deleted string
	var pages []collectors.Page
	err := h.c.Collect(context.Background(), feedSource, collectors.Checkpoint{}, func(_ context.Context, p collectors.Page) error {
		if deleted == "" {
			// The posts page is emitted once the first post's comments are
			// read; delete a later post that has comments.
			for _, m := range slices.Backward(p.Mentions) {
				if m.Kind == mention.KindPost && m.Metrics.Replies > 0 && h.sim.Delete(m.ID) {
					deleted = m.ID
					break
				}
			}
		}
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if deleted == "" {
		t.Fatal("no post with comments to delete")
	}
	reqs := h.sim.Requests()
	i := slices.IndexFunc(reqs, func(r SimRequest) bool { return r.Path == "/v23.0/"+deleted+"/comments" })
	if i < 0 || reqs[i].Status != http.StatusBadRequest {
		t.Fatalf("the deleted post's comments were not asked, or did not fail")
	}
	if i == len(reqs)-1 {
		t.Error("the pass stopped at the deleted post")
	}
	checkPass(t, pages, collectors.Checkpoint{})
	for _, p := range pages {
		for _, m := range p.Mentions {
			if m.ThreadID == deleted && m.Kind != mention.KindPost {
				t.Errorf("comment %s of the deleted post collected", m.ID)
			}
		}
	}
	if !strings.Contains(h.logs.String(), "skipping the comments of a post") {
		t.Error("the skipped post was not logged")
	}
	sameSet(t, "with a deleted post", ids(pages), h.sim.Served())
}

func TestOwnIDsAndTextAreExact(t *testing.T) {
	h := newHarness(t, backlog())
	src := feedSource
	src.Own = []string{"10000000000007919"} // a citizen's id, as if it were the department's
	pages, err := h.collect(src, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ownPosts, ownReplies, bigIDs, zwj, welshFlag int
	for _, p := range pages {
		for _, m := range p.Mentions {
			own := m.AuthorID == src.PageID || slices.Contains(src.Own, m.AuthorID)
			if m.Own != own {
				t.Errorf("%s by %s: own %v", m.ID, m.AuthorID, m.Own)
			}
			if m.Own && m.Kind == mention.KindPost {
				ownPosts++
			}
			if m.Own && m.Kind == mention.KindReply {
				ownReplies++
			}
			_, num, _ := strings.Cut(m.ID, "_")
			if n, err := strconv.ParseUint(num, 10, 64); err == nil && n > 1<<53 && uint64(float64(n)) != n {
				bigIDs++ // an id a float64 would have corrupted, kept exact
			}
			if strings.Contains(m.Text, "👩\u200d👩\u200d👧\u200d👦") && bytes.Contains(m.Raw, []byte(`\ud83d\udc69\u200d\ud83d\udc69`)) {
				zwj++
			}
			if strings.Contains(m.Text, "🏴\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F") {
				welshFlag++
			}
		}
	}
	if ownPosts == 0 || ownReplies == 0 || bigIDs == 0 || zwj == 0 || welshFlag == 0 {
		t.Errorf("own posts %d, own replies %d, ids beyond 2^53 %d, ZWJ texts %d, Welsh flags %d: want some of each",
			ownPosts, ownReplies, bigIDs, zwj, welshFlag)
	}
	sameSet(t, "exact ids", ids(pages), h.sim.Served())
}

func TestConcurrentSources(t *testing.T) {
	h := newHarness(t, backlog())
	var wg sync.WaitGroup
	results := make([][]collectors.Page, 2)
	errs := make([]error, 2)
	for i, src := range []config.Source{feedSource, taggedSource} {
		wg.Go(func() { results[i], errs[i] = h.collect(src, collectors.Checkpoint{}, 0) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
		checkPass(t, results[i], collectors.Checkpoint{})
	}
	if len(h.requests("/100000000000002/tagged")) == 0 || len(ids(results[1])) == 0 {
		t.Error("nothing read from the tagged edge")
	}
	sameSet(t, "two sources", ids(results...), h.sim.Served())
}

// TestTimePagedNextIsRebuilt: an edge that pages by time (no cursors,
// paging.next with until and __paging_token) is followed with next's
// parameters against the configured base URL, without its token.
func TestTimePagedNextIsRebuilt(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	h := newHarnessWith(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		n := len(seen)
		mu.Unlock()
		switch {
		case n == 1:
			_, _ = w.Write(readFixture(t, "feed_timepaged.json"))
		default:
			_, _ = w.Write([]byte(`{"data":[]}`))
		}
	}))
	pages, err := h.collect(feedSource, collectors.Checkpoint{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("%d requests, want feed, comments, feed", len(seen))
	}
	q := seen[2].URL.Query()
	if seen[2].URL.Path != "/v23.0/100000000000001/feed" || q.Get("until") != "1748937000" || q.Get("__paging_token") != "enc_next" || q.Has("access_token") {
		t.Errorf("second feed request %s", seen[2].URL)
	}
	if len(ids(pages)) != 1 {
		t.Errorf("collected %v", ids(pages))
	}
}

func TestCollectRejectsBadSources(t *testing.T) {
	h := newHarness(t, backlog())
	for _, src := range []config.Source{
		{Name: "no-kind", PageID: "1"},
		{Name: "no-page", Kind: KindPagePosts},
		{Name: "bad-page", Kind: KindPagePosts, PageID: "1/../2"},
	} {
		_, err := h.collect(src, collectors.Checkpoint{}, 0)
		var pe *collectors.PermanentError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), src.Name) {
			t.Errorf("%s: %v, want a PermanentError naming the source", src.Name, err)
		}
	}
	if n := len(h.sim.Requests()); n != 0 {
		t.Errorf("%d requests for bad sources", n)
	}
}

func BenchmarkCollect(b *testing.B) {
	const n = 5000 // items in the simulator's backlog
	var mentions int
	start := time.Now()
	for b.Loop() {
		sim := NewSimulator(SimConfig{Rate: n / 60.0, Seed: 7, Start: time.Now().Add(-60 * time.Second)})
		srv := httptest.NewServer(sim)
		cfg := config.Default()
		cfg.Facebook.BaseURL = srv.URL
		c, err := New(&cfg, func(string) string { return "bench-token" }, srv.Client(), nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, src := range []config.Source{feedSource, {Name: "dwp-tagged", Kind: KindPageTagged, PageID: feedSource.PageID}} {
			err = c.Collect(context.Background(), src, collectors.Checkpoint{}, func(_ context.Context, p collectors.Page) error {
				mentions += len(p.Mentions)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		srv.Close()
	}
	b.ReportMetric(float64(mentions)/time.Since(start).Seconds(), "mentions/s")
}

// With comment_lookback, a pass lists again the posts of the look-back
// window (so comments made since the last pass on older posts are read) and
// asks each post for its comments since the checkpoint only.
func TestCommentLookback(t *testing.T) {
	h := newHarness(t, backlog())
	h.c.lookback = 72 * time.Hour
	since := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	if err := h.c.Collect(context.Background(), feedSource, collectors.Checkpoint{Since: since}, func(context.Context, collectors.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	var posts, comments int
	for _, r := range h.out.reqs {
		got, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
		switch {
		case strings.HasSuffix(r.URL.Path, "/feed"):
			posts++
			if lb := time.Now().Add(-72 * time.Hour).Unix(); got > lb+5 || got < lb-5 {
				t.Errorf("posts asked since %d, want the look-back %d", got, lb)
			}
		case strings.HasSuffix(r.URL.Path, "/comments"):
			comments++
			if got != since.Unix() {
				t.Errorf("comments asked since %d, want the checkpoint %d", got, since.Unix())
			}
		}
	}
	if posts == 0 || comments == 0 {
		t.Fatalf("%d posts requests, %d comments requests", posts, comments)
	}
}
