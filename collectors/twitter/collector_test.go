package twitter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

const testToken = "AAAAAAAAAAAAAAAAAAAAAsecret-bearer-value"

// harness is a Collector talking to a Simulator over loopback, with a log
// of the requests the Simulator received.
type harness struct {
	sim *Simulator
	srv *httptest.Server
	c   *Collector

	mu    sync.Mutex
	reqs  []seenRequest
	front http.Handler // when set, answers before the Simulator (see fakeThen)
}

type seenRequest struct {
	at     time.Time
	query  map[string][]string
	status int
	header http.Header
}

func newHarness(t testing.TB, sc SimConfig) *harness {
	t.Helper()
	if sc.Token == "" {
		sc.Token = testToken
	}
	h := &harness{sim: NewSimulator(sc)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.mu.Lock()
		front := h.front
		h.mu.Unlock()
		if front != nil {
			front.ServeHTTP(rec, r)
		} else {
			h.sim.ServeHTTP(rec, r)
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, seenRequest{at: time.Now(), query: r.URL.Query(), status: rec.Code, header: rec.Header().Clone()})
		h.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(h.srv.Close)
	h.c = newTestCollector(t, h.srv, testToken)
	return h
}

func newTestCollector(t testing.TB, srv *httptest.Server, token string) *Collector {
	t.Helper()
	cfg := config.Default()
	cfg.Twitter.BaseURL = srv.URL
	cfg.Twitter.BearerTokenEnv = "TEST_X_BEARER"
	getenv := func(k string) string {
		if k == "TEST_X_BEARER" {
			return token
		}
		return ""
	}
	c, err := New(&cfg, getenv, srv.Client(), slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = collectors.RetryPolicy{Attempts: 4, Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	return c
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func (h *harness) requests() []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

// recorder is the emit side: it stores each page's checkpoint as the
// scheduler would, and can crash on a given page.
type recorder struct {
	pages   []collectors.Page
	stored  collectors.Checkpoint
	crashAt int // 1-based page whose emit fails; 0: never
	emits   int
	onEmit  func(n int)
}

var errCrash = errors.New("simulated crash before the page was acknowledged")

func (r *recorder) emit(_ context.Context, p collectors.Page) error {
	r.emits++
	if r.onEmit != nil {
		r.onEmit(r.emits)
	}
	if r.emits == r.crashAt {
		return errCrash
	}
	r.pages = append(r.pages, p)
	r.stored = p.Checkpoint
	return nil
}

func (r *recorder) mentions() []*mention.Mention {
	var ms []*mention.Mention
	for _, p := range r.pages {
		ms = append(ms, p.Mentions...)
	}
	return ms
}

var searchSource = config.Source{Name: "x-dwp", Platform: "twitter", Kind: "search", Query: "@DWP OR \"universal credit\"", Department: "DWP"}

func collect(t testing.TB, h *harness, src config.Source, from collectors.Checkpoint, rec *recorder) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.c.Collect(ctx, src, from, rec.emit)
}

// rawID is the post's own id, from the item's raw JSON.
func rawID(t testing.TB, m *mention.Mention) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m.Raw, &v); err != nil {
		t.Fatalf("raw of %s: %v", m.ID, err)
	}
	return v.ID
}

// checkExactlyOnce asserts that the mentions cover what the Simulator
// served (as a set of Mention ids) and hold every post once.
func checkExactlyOnce(t *testing.T, h *harness, ms []*mention.Mention) {
	t.Helper()
	posts := map[string]int{}
	ids := map[string]bool{}
	for _, m := range ms {
		posts[rawID(t, m)]++
		ids[m.ID] = true
	}
	for id, n := range posts {
		if n != 1 {
			t.Errorf("post %s collected %d times", id, n)
		}
	}
	served := h.sim.Served()
	got := make([]string, 0, len(ids))
	for id := range ids {
		got = append(got, id)
	}
	slices.SortFunc(got, collectors.CompareIDs)
	if !slices.Equal(got, served) {
		t.Fatalf("collected %d distinct ids, simulator served %d", len(got), len(served))
	}
}

func TestCollectPaginatesInOrderWithCheckpoints(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 1, Start: time.Now().Add(-30 * time.Second)})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.pages) < 6 {
		t.Fatalf("%d pages, want at least 6 for ~600 posts", len(rec.pages))
	}
	newest := ""
	prev := ""
	for i, p := range rec.pages {
		for _, m := range p.Mentions {
			id := rawID(t, m)
			if prev != "" && collectors.CompareIDs(id, prev) >= 0 {
				t.Fatalf("page %d: %s after %s: not newest first", i+1, id, prev)
			}
			prev = id
			if newest == "" {
				newest = id
			}
		}
		cp := p.Checkpoint
		last := i == len(rec.pages)-1
		switch {
		case !last && (cp.Pass == nil || cp.Pass.Token == "" || cp.SinceID != "" || !cp.Since.IsZero()):
			t.Fatalf("page %d checkpoint %+v: want a Pass and no SinceID/Since", i+1, cp)
		case !last && (cp.Pass.NewestID != newest || cp.Pass.Started.IsZero()):
			t.Fatalf("page %d pass %+v: NewestID want %s", i+1, cp.Pass, newest)
		case last && (cp.Pass != nil || cp.SinceID != newest):
			t.Fatalf("last page checkpoint %+v: want SinceID %s and no Pass", cp, newest)
		}
		if p.Calls != 1 {
			t.Errorf("page %d: Calls %d", i+1, p.Calls)
		}
	}
	checkExactlyOnce(t, h, rec.mentions())

	// The first call asks from 7 days ago (less a minute), for 100 posts,
	// with the fields the mapping needs; later calls carry the token.
	reqs := h.requests()
	q := reqs[0].query
	st, err := time.Parse(time.RFC3339, first(q["start_time"]))
	if err != nil || time.Since(st) > 7*24*time.Hour-50*time.Second || time.Since(st) < 7*24*time.Hour-2*time.Minute {
		t.Errorf("start_time %q", first(q["start_time"]))
	}
	for k, want := range map[string]string{"max_results": "100", "sort_order": "recency", "expansions": "author_id", "since_id": "", "next_token": ""} {
		if got := first(q[k]); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, f := range []string{"author_id", "created_at", "conversation_id", "in_reply_to_user_id", "lang", "public_metrics", "referenced_tweets", "entities", "note_tweet", "edit_history_tweet_ids"} {
		if !slices.Contains(strings.Split(first(q["tweet.fields"]), ","), f) {
			t.Errorf("tweet.fields %q lacks %s", first(q["tweet.fields"]), f)
		}
	}
	if first(reqs[1].query["next_token"]) != rec.pages[0].Checkpoint.Pass.Token {
		t.Errorf("second call token %q, want page 1's", first(reqs[1].query["next_token"]))
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func TestCollectResumesAfterCrash(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 2, Start: time.Now().Add(-30 * time.Second)})
	run1 := &recorder{crashAt: 3}
	err := collect(t, h, searchSource, collectors.Checkpoint{}, run1)
	if !errors.Is(err, errCrash) {
		t.Fatalf("want emit's error back, got %v", err)
	}
	if len(run1.pages) != 2 || run1.stored.Pass == nil {
		t.Fatalf("stored after crash: %d pages, %+v", len(run1.pages), run1.stored)
	}
	resumeFrom := run1.stored
	n := len(h.requests())
	run2 := &recorder{}
	time.Sleep(1100 * time.Millisecond) // the default window has moved on by a second
	if err := collect(t, h, searchSource, resumeFrom, run2); err != nil {
		t.Fatal(err)
	}
	resumed := h.requests()[n].query
	if got := first(resumed["next_token"]); got != resumeFrom.Pass.Token {
		t.Fatalf("resumed with token %q, want %q", got, resumeFrom.Pass.Token)
	}
	if a, b := first(h.requests()[0].query["start_time"]), first(resumed["start_time"]); a == "" || a != b || resumeFrom.Pass.State["start_time"] != a {
		t.Fatalf("the resumed pass asked start_time %q, the first page %q (state %v)", b, a, resumeFrom.Pass.State)
	}
	if run2.stored.Pass != nil || run2.stored.SinceID != resumeFrom.Pass.NewestID {
		t.Fatalf("final checkpoint %+v, want SinceID %s (the pass's newest, carried over)", run2.stored, resumeFrom.Pass.NewestID)
	}
	checkExactlyOnce(t, h, append(run1.mentions(), run2.mentions()...))
}

func TestLaterRunReturnsOnlyNewPosts(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 3, Rate: 50, Start: time.Now().Add(-5 * time.Second)})
	run1 := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, run1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	run2 := &recorder{}
	if err := collect(t, h, searchSource, run1.stored, run2); err != nil {
		t.Fatal(err)
	}
	if len(run2.mentions()) == 0 {
		t.Fatal("second run found nothing new")
	}
	for _, m := range run2.mentions() {
		if collectors.CompareIDs(rawID(t, m), run1.stored.SinceID) <= 0 {
			t.Fatalf("post %s is not newer than since_id %s", rawID(t, m), run1.stored.SinceID)
		}
	}
	last := h.requests()[len(h.requests())-1].query
	if first(last["since_id"]) != run1.stored.SinceID || first(last["start_time"]) != "" {
		t.Fatalf("second run asked since_id=%q start_time=%q", first(last["since_id"]), first(last["start_time"]))
	}
	checkExactlyOnce(t, h, append(run1.mentions(), run2.mentions()...))
}

func TestPassWithNothingNewEmitsOneEmptyPage(t *testing.T) {
	// One post in 1000 s: the second run finds nothing.
	h := newHarness(t, SimConfig{Seed: 4, Rate: 0.001, Start: time.Now().Add(-time.Second)})
	run1 := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, run1); err != nil {
		t.Fatal(err)
	}
	if len(run1.mentions()) != 1 {
		t.Fatalf("%d mentions, want 1", len(run1.mentions()))
	}
	run2 := &recorder{}
	if err := collect(t, h, searchSource, run1.stored, run2); err != nil {
		t.Fatal(err)
	}
	if len(run2.pages) != 1 || len(run2.pages[0].Mentions) != 0 {
		t.Fatalf("want one empty page, got %d pages", len(run2.pages))
	}
	if cp := run2.pages[0].Checkpoint; cp.SinceID != run1.stored.SinceID || cp.Pass != nil {
		t.Fatalf("checkpoint moved: %+v", cp)
	}
	// A first run that finds nothing keeps its Since.
	since := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	run3 := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{Since: since}, run3); err != nil {
		t.Fatal(err)
	}
	if len(run3.pages) != 1 || !run3.stored.Since.Equal(since) || run3.stored.SinceID != "" {
		t.Fatalf("empty first run stored %+v", run3.stored)
	}
}

func TestStaleSinceIDFallsBackToWindow(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 5, Start: time.Now().Add(-2 * time.Second)})
	stale := strconv.FormatUint(snowflake(time.Now().Add(-8*24*time.Hour), 0), 10)
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{SinceID: stale}, rec); err != nil {
		t.Fatal(err)
	}
	q := h.requests()[0].query
	if first(q["since_id"]) != "" || first(q["start_time"]) == "" {
		t.Fatalf("a since_id older than 7 days must become start_time: %v", q)
	}
	// An old Since is clamped into the window too.
	rec2 := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{Since: time.Now().Add(-30 * 24 * time.Hour)}, rec2); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestRateLimitWaitsForReset(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 6, Start: time.Now().Add(-3 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultRateLimit, Wait: 2 * time.Second})
	t0 := time.Now()
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	reqs := h.requests()
	if reqs[0].status != http.StatusTooManyRequests || len(reqs) < 2 {
		t.Fatalf("first status %d", reqs[0].status)
	}
	sec, _ := strconv.ParseInt(reqs[0].header.Get("X-Rate-Limit-Reset"), 10, 64)
	reset := time.Unix(sec, 0)
	if reqs[1].at.Before(reset) {
		t.Fatalf("retried at %s, before the reset %s", reqs[1].at.Format(time.StampMilli), reset.Format(time.StampMilli))
	}
	if limit := reset.Sub(t0) + 2500*time.Millisecond; reqs[1].at.Sub(t0) > limit {
		t.Fatalf("retried %s after start; the reset was %s after", reqs[1].at.Sub(t0), reset.Sub(t0))
	}
	if rec.pages[0].Calls != 2 {
		t.Errorf("first page Calls = %d, want 2", rec.pages[0].Calls)
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestServerErrorsAreRetried(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 7, Start: time.Now().Add(-10 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultServerError, Count: 2})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if s := h.requests(); s[0].status != 503 || s[1].status != 500 || s[2].status != 200 {
		t.Fatalf("statuses %d %d %d", s[0].status, s[1].status, s[2].status)
	}
	if rec.pages[0].Calls != 3 {
		t.Errorf("Calls %d, want 3", rec.pages[0].Calls)
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestMalformedResponseIsRetriedNeverEmitted(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 8, Start: time.Now().Add(-10 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultMalformed, Count: 2})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.pages[0].Calls != 3 {
		t.Errorf("Calls %d, want 3", rec.pages[0].Calls)
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestPersistentMalformedFailsWithCheckpointUnmoved(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 9, Start: time.Now().Add(-20 * time.Second)})
	// Page 1 is fine; from then on every response is cut short.
	rec := &recorder{onEmit: func(n int) {
		if n == 1 {
			h.sim.Inject(Fault{Kind: FaultMalformed, Count: 100})
		}
	}}
	err := collect(t, h, searchSource, collectors.Checkpoint{}, rec)
	var me *collectors.MalformedError
	if !errors.As(err, &me) {
		t.Fatalf("want a MalformedError, got %v", err)
	}
	if !strings.Contains(err.Error(), "source x-dwp: page 2") {
		t.Errorf("error lacks its context: %v", err)
	}
	if rec.emits != 1 || rec.stored.Pass == nil || rec.stored.Pass.Token != first(h.requests()[1].query["next_token"]) {
		t.Fatalf("emits %d, stored %+v: the checkpoint must stay before the bad page", rec.emits, rec.stored)
	}
	if n := len(h.requests()); n != 1+h.c.Retry.Attempts {
		t.Errorf("%d requests, want %d", n, 1+h.c.Retry.Attempts)
	}
}

func TestEmptyPageWithNextToken(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 10, Start: time.Now().Add(-10 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultEmpty})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	p := rec.pages[0]
	if len(p.Mentions) != 0 || p.Checkpoint.Pass == nil || p.Checkpoint.Pass.Token == "" || p.Checkpoint.Pass.NewestID != "" {
		t.Fatalf("first page: %d mentions, checkpoint %+v", len(p.Mentions), p.Checkpoint)
	}
	if len(rec.pages) < 2 || len(rec.pages[1].Mentions) == 0 {
		t.Fatal("the pass did not go on after the empty page")
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestTokenRefusedIsErrAuthWithoutTheToken(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 11, Start: time.Now().Add(-5 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultTokenExpired})
	rec := &recorder{}
	err := collect(t, h, searchSource, collectors.Checkpoint{}, rec)
	if !errors.Is(err, collectors.ErrAuth) {
		t.Fatalf("want ErrAuth, got %v", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "secret-bearer") {
		t.Fatalf("the error shows the token: %v", err)
	}
	if rec.emits != 0 || len(h.requests()) != 1 {
		t.Fatalf("ErrAuth must not be retried: %d requests", len(h.requests()))
	}

	// A wrong token from the start.
	wrong := newTestCollector(t, h.srv, "not-the-token")
	err = wrong.Collect(context.Background(), searchSource, collectors.Checkpoint{}, rec.emit)
	if !errors.Is(err, collectors.ErrAuth) || strings.Contains(err.Error(), "not-the-token") {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestRepeatedTokenIsRetried(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 12, Start: time.Now().Add(-20 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultRepeatToken})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.pages[1].Calls != 2 {
		t.Errorf("page 2 Calls %d, want 2 (the repeated token refused once)", rec.pages[1].Calls)
	}
	checkExactlyOnce(t, h, rec.mentions())
}

func TestPersistentRepeatedTokenStops(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 13, Start: time.Now().Add(-20 * time.Second)})
	h.sim.Inject(Fault{Kind: FaultRepeatToken, Count: 1000})
	rec := &recorder{}
	err := collect(t, h, searchSource, collectors.Checkpoint{}, rec)
	var me *collectors.MalformedError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("want a MalformedError about the token, got %v", err)
	}
	if rec.emits != 1 || len(h.requests()) != 1+h.c.Retry.Attempts {
		t.Fatalf("%d emits, %d requests", rec.emits, len(h.requests()))
	}
}

func TestMaxPagesEndsTheRunAndTheNextContinues(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 14, Start: time.Now().Add(-30 * time.Second)})
	src := searchSource
	src.MaxPages = 2
	var all []*mention.Mention
	from := collectors.Checkpoint{}
	runs := 0
	for ; runs < 10; runs++ {
		rec := &recorder{}
		if err := collect(t, h, src, from, rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.pages) > 2 {
			t.Fatalf("run %d: %d pages over the cap", runs+1, len(rec.pages))
		}
		all = append(all, rec.mentions()...)
		from = rec.stored
		if from.Pass == nil {
			break
		}
	}
	if runs < 2 {
		t.Fatalf("finished in %d runs; the cap did not bite", runs+1)
	}
	checkExactlyOnce(t, h, all)
}

func TestDefaultMaxPagesIs50(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 15, Rate: 2000, Start: time.Now().Add(-3 * time.Second)})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.pages) != DefaultMaxPages || rec.stored.Pass == nil {
		t.Fatalf("%d pages, stored %+v", len(rec.pages), rec.stored)
	}
}

func TestOwnPostsAreMarked(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 16, Start: time.Now().Add(-40 * time.Second)})
	src := searchSource
	depts := map[string]bool{}
	for i, d := range SimAccounts() {
		depts[d.ID] = true
		switch i % 3 { // ids, handles with @, handles in another case
		case 0:
			src.Own = append(src.Own, d.ID)
		case 1:
			src.Own = append(src.Own, "@"+d.Username)
		default:
			src.Own = append(src.Own, strings.ToUpper(d.Username))
		}
	}
	rec := &recorder{}
	if err := collect(t, h, src, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, m := range rec.mentions() {
		if m.Own != depts[m.AuthorID] {
			t.Fatalf("%s by %s (@%s): Own %v", m.ID, m.AuthorID, m.AuthorHandle, m.Own)
		}
		if m.Own {
			own++
			if m.Kind != mention.KindReply {
				t.Errorf("own post %s is a %s", m.ID, m.Kind)
			}
		}
	}
	if own == 0 {
		t.Fatal("no own posts in the stream")
	}
}

func TestMentionsTimeline(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 17, Rate: 100, Start: time.Now().Add(-30 * time.Second)})
	dwp := SimAccounts()[0]
	src := config.Source{Name: "x-dwp-mentions", Kind: "mentions", UserID: dwp.ID, Department: "DWP", Own: []string{dwp.Username}}
	rec := &recorder{}
	if err := collect(t, h, src, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	ms := rec.mentions()
	if len(rec.pages) < 2 || len(ms) == 0 {
		t.Fatalf("%d pages, %d mentions", len(rec.pages), len(ms))
	}
	for _, m := range ms {
		var raw struct {
			Entities struct {
				Mentions []struct{ ID string } `json:"mentions"`
			} `json:"entities"`
		}
		_ = json.Unmarshal(m.Raw, &raw)
		if !slices.ContainsFunc(raw.Entities.Mentions, func(e struct{ ID string }) bool { return e.ID == dwp.ID }) {
			t.Fatalf("%s does not mention @%s: %q", m.ID, dwp.Username, m.Text)
		}
	}
	q := h.requests()[1].query
	if first(q["pagination_token"]) == "" || first(q["max_results"]) != "100" {
		t.Fatalf("page 2 query %v", q)
	}
	// The 800 most recent mentions at most.
	if len(ms) > mentionsCap {
		t.Fatalf("%d mentions over the timeline's cap", len(ms))
	}
	checkExactlyOnce(t, h, ms)

	// An unknown user is a permanent error, not an empty success.
	src.UserID = "999"
	err := collect(t, h, src, collectors.Checkpoint{}, &recorder{})
	var pe *collectors.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestBadSourcesArePermanent(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 18})
	for _, src := range []config.Source{
		{Name: "a", Kind: "search"},
		{Name: "b", Kind: "mentions", UserID: "DWP"},
		{Name: "c", Kind: "likes", Query: "x"},
	} {
		err := collect(t, h, src, collectors.Checkpoint{}, &recorder{})
		var pe *collectors.PermanentError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "source "+src.Name) {
			t.Errorf("%+v: %v", src, err)
		}
	}
	// A 400 from the API is permanent too: a query over 512 characters.
	src := searchSource
	src.Query = strings.Repeat("x", 600)
	err := collect(t, h, src, collectors.Checkpoint{}, &recorder{})
	var pe *collectors.PermanentError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "400") || len(h.requests()) != 1 {
		t.Fatalf("400: %v after %d requests", err, len(h.requests()))
	}
}

func TestIDsAndTextSurviveExactly(t *testing.T) {
	h := newHarness(t, SimConfig{Seed: 19, Start: time.Now().Add(-60 * time.Second)})
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	var zwj, amp, long, edited, welsh int
	for _, m := range rec.mentions() {
		n, err := strconv.ParseUint(m.ID, 10, 64)
		if err != nil || n <= 1<<53 || strconv.FormatUint(n, 10) != m.ID {
			t.Fatalf("id %q", m.ID)
		}
		var raw struct {
			ID          string   `json:"id"`
			Text        string   `json:"text"`
			EditHistory []string `json:"edit_history_tweet_ids"`
			Note        *struct {
				Text string `json:"text"`
			} `json:"note_tweet"`
		}
		if err := json.Unmarshal(m.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		want := raw.Text
		if raw.Note != nil {
			want = raw.Note.Text
			long++
		}
		want = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(want)
		if m.Text != want {
			t.Fatalf("%s: text %q, want %q", m.ID, m.Text, want)
		}
		if len(raw.EditHistory) > 1 {
			edited++
			if m.ID != raw.EditHistory[0] || !strings.HasSuffix(m.URL, "/status/"+raw.ID) {
				t.Fatalf("edited %s: ID %s URL %s", raw.ID, m.ID, m.URL)
			}
		}
		if strings.Contains(m.Text, "\u200d") {
			zwj++
		}
		if strings.Contains(m.Text, "&") {
			amp++
		}
		if m.Lang == "cy" {
			welsh++
		}
	}
	if zwj == 0 || amp == 0 || long == 0 || edited == 0 || welsh == 0 {
		t.Fatalf("stream lacks variety: zwj %d, & %d, long %d, edited %d, Welsh %d", zwj, amp, long, edited, welsh)
	}
}

func TestNewNeedsAToken(t *testing.T) {
	cfg := config.Default()
	_, err := New(&cfg, func(string) string { return "" }, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "GOVLISTEN_TWITTER_BEARER_TOKEN") {
		t.Fatalf("want an error naming the variable, got %v", err)
	}
	cfg.Twitter.BaseURL = "ftp://example"
	_, err = New(&cfg, func(string) string { return "t" }, nil, nil)
	if err == nil {
		t.Fatal("an ftp base URL was accepted")
	}
}

func TestRateLimitWaitFallbacks(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	if got := rateLimitWait(nil, h, now); got != defaultRateLimitWait {
		t.Errorf("no headers: %s", got)
	}
	h.Set("Retry-After", "7")
	if got := rateLimitWait(nil, h, now); got != 7*time.Second {
		t.Errorf("Retry-After: %s", got)
	}
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Unix()+90, 10))
	if got := rateLimitWait(nil, h, now); got != 90*time.Second {
		t.Errorf("x-rate-limit-reset: %s", got)
	}
	reset := now.Add(3 * time.Second)
	if got := rateLimitWait(&reset, h, now); got != 3*time.Second {
		t.Errorf("gotwi's reset: %s", got)
	}
	past := now.Add(-time.Minute)
	if got := rateLimitWait(&past, h, now); got != time.Second {
		t.Errorf("a past reset: %s", got)
	}
}

func TestProactiveWaitWhenWindowSpent(t *testing.T) {
	// Two calls per window: the third would be refused, so the collector
	// stops at the window's end rather than spend a call on a 429. The
	// window is 15 minutes, longer than MaxWait: the run ends with its Pass.
	h := newHarness(t, SimConfig{Seed: 20, WindowLimit: 2, Start: time.Now().Add(-30 * time.Second)})
	h.c.Retry.MaxWait = time.Second
	rec := &recorder{}
	err := collect(t, h, searchSource, collectors.Checkpoint{}, rec)
	var rl *collectors.RateLimitError
	if !errors.As(err, &rl) || rl.Wait < 10*time.Minute {
		t.Fatalf("want a RateLimitError for the window, got %v", err)
	}
	if len(h.requests()) != 2 || rec.stored.Pass == nil {
		t.Fatalf("%d requests, stored %+v", len(h.requests()), rec.stored)
	}
}

func BenchmarkCollect(b *testing.B) {
	const backlog = 5000
	h := newHarness(b, SimConfig{Seed: 21, Rate: 1000, Start: time.Now().Add(-backlog * time.Millisecond)})
	h.c.log = slog.New(slog.DiscardHandler)
	src := searchSource
	src.MaxPages = 1000
	total := 0
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		rec := &recorder{}
		if err := h.c.Collect(context.Background(), src, collectors.Checkpoint{}, func(_ context.Context, p collectors.Page) error {
			total += len(p.Mentions)
			return rec.emit(context.Background(), collectors.Page{Checkpoint: p.Checkpoint})
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "mentions/s")
}

// fakeThen answers the first request with status, headers and body, and
// hands the rest to the Simulator.
func fakeThen(t *testing.T, status int, header http.Header, body string) (*harness, func() time.Time) {
	t.Helper()
	h := newHarness(t, SimConfig{Seed: 22, Start: time.Now().Add(-2 * time.Second)})
	var mu sync.Mutex
	var second time.Time
	calls := 0
	h.mu.Lock()
	defer h.mu.Unlock()
	h.front = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		if n == 2 {
			second = time.Now()
		}
		mu.Unlock()
		if n > 1 {
			h.sim.ServeHTTP(w, r)
			return
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return h, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return second
	}
}

func TestRateLimitWithoutContentTypeUsesTheHeader(t *testing.T) {
	// gotwi fills RateLimitInfo only when a 429 has a Content-Type; the
	// collector falls back to the x-rate-limit-reset header it captured.
	reset := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	h, second := fakeThen(t, http.StatusTooManyRequests, http.Header{
		"X-Rate-Limit-Reset": {strconv.FormatInt(reset.Unix(), 10)},
		"Content-Type":       nil,
	}, "")
	rec := &recorder{}
	if err := collect(t, h, searchSource, collectors.Checkpoint{}, rec); err != nil {
		t.Fatal(err)
	}
	if at := second(); at.Before(reset) || at.Sub(reset) > 2500*time.Millisecond {
		t.Fatalf("retried %s after the reset", at.Sub(reset))
	}
}

func TestForbiddenIsErrAuth(t *testing.T) {
	// A 403 for the app's product tier (client-forbidden) needs an operator
	// as much as a refused token does.
	h, _ := fakeThen(t, http.StatusForbidden, http.Header{"Content-Type": {"application/json"}},
		`{"client_id":"123","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","registration_url":"https://developer.twitter.com/en/docs/projects/overview","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}`)
	err := collect(t, h, searchSource, collectors.Checkpoint{}, &recorder{})
	if !errors.Is(err, collectors.ErrAuth) || !strings.Contains(err.Error(), "client-forbidden") {
		t.Fatalf("got %v", err)
	}
}
