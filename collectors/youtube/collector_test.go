package youtube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

const testKey = "AIzaSyTEST-k3y-Value_0123456789"

// clock is a settable clock shared by the simulator, the budget and the
// collector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testEnv struct {
	sim    *Simulator
	c      *Collector
	clk    *clock // nil: real time
	budget *collectors.DailyBudget
	logs   *syncBuffer
	url    string
}

type envOpts struct {
	sim    SimConfig
	clk    *clock
	units  int    // budget; 0: plenty
	key    string // the collector's key; "": testKey
	policy *collectors.RetryPolicy
}

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, o envOpts) *testEnv {
	t.Helper()
	o.sim.Token = testKey
	if o.clk != nil {
		o.sim.Now = o.clk.Now
	}
	sim := NewSimulator(o.sim)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.YouTube.BaseURL = srv.URL
	cfg.YouTube.APIKeyEnv = "TEST_YT_KEY"
	key := o.key
	if key == "" {
		key = testKey
	}
	getenv := func(k string) string {
		if k == "TEST_YT_KEY" {
			return key
		}
		return ""
	}
	if o.units == 0 {
		o.units = 1 << 30
	}
	budget := &collectors.DailyBudget{Units: o.units, Location: collectors.Pacific}
	if o.clk != nil {
		budget.Now = o.clk.Now
	}
	logs := &syncBuffer{}
	c, err := New(&cfg, getenv, srv.Client(), budget, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = collectors.RetryPolicy{Attempts: 4, Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	if o.policy != nil {
		c.Retry = *o.policy
	}
	return &testEnv{sim: sim, c: c, clk: o.clk, budget: budget, logs: logs, url: srv.URL}
}

// backlog is a simulator world with a minute of comments (about 1,200).
func backlog() envOpts {
	clk := &clock{t: t0}
	return envOpts{sim: SimConfig{Seed: 7, Rate: 20, Start: t0.Add(-time.Minute)}, clk: clk}
}

var errCrash = errors.New("simulated crash")

// recorder is emit: it keeps what was "published" and the checkpoint
// "stored", and can fail (a crash) or act on a given call.
type recorder struct {
	pages  []collectors.Page
	stored collectors.Checkpoint
	calls  int
	failAt int                            // fail the failAt-th call (1-based)
	onCall func(n int, p collectors.Page) // after a successful call n
}

func (r *recorder) emit(_ context.Context, p collectors.Page) error {
	r.calls++
	if r.calls == r.failAt {
		return errCrash
	}
	r.pages = append(r.pages, p)
	r.stored = p.Checkpoint
	if r.onCall != nil {
		r.onCall(r.calls, p)
	}
	return nil
}

func (r *recorder) mentions() []*mention.Mention {
	var out []*mention.Mention
	for _, p := range r.pages {
		out = append(out, p.Mentions...)
	}
	return out
}

func (r *recorder) units() (calls, units int) {
	for _, p := range r.pages {
		calls += p.Calls
		units += p.QuotaUnits
	}
	return calls, units
}

func ids(ms []*mention.Mention) []string {
	set := map[string]bool{}
	for _, m := range ms {
		set[m.ID] = true
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// sameSet fails unless every served id was collected and nothing else.
func sameSet(t *testing.T, served, collected []string) {
	t.Helper()
	if len(served) == 0 {
		t.Fatal("nothing served")
	}
	var missing, extra []string
	for _, id := range served {
		if _, ok := slices.BinarySearch(collected, id); !ok {
			missing = append(missing, id)
		}
	}
	for _, id := range collected {
		if _, ok := slices.BinarySearch(served, id); !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Fatalf("served %d, collected %d: %d missing (%.3q…), %d never served (%.3q…)", len(served), len(collected), len(missing), missing, len(extra), extra)
	}
}

// rawSnippet reads the comment snippet of a mention's Raw (the thread's
// top-level comment for a comment).
func rawSnippet(t testing.TB, m *mention.Mention) (text, updated string, hasText bool) {
	t.Helper()
	type snip struct {
		TextOriginal *string `json:"textOriginal"`
		UpdatedAt    string  `json:"updatedAt"`
	}
	var x struct {
		Snippet struct {
			snip
			TopLevelComment *struct {
				Snippet snip `json:"snippet"`
			} `json:"topLevelComment"`
		} `json:"snippet"`
	}
	if err := json.Unmarshal(m.Raw, &x); err != nil {
		t.Fatalf("%s: Raw: %v", m.ID, err)
	}
	s := x.Snippet.snip
	if x.Snippet.TopLevelComment != nil {
		s = x.Snippet.TopLevelComment.Snippet
	}
	if s.TextOriginal == nil {
		return "", s.UpdatedAt, false
	}
	return *s.TextOriginal, s.UpdatedAt, true
}

func activity(t testing.TB, m *mention.Mention) time.Time {
	_, updated, _ := rawSnippet(t, m)
	u := mustTime(updated)
	if u.After(m.CreatedAt) {
		return u
	}
	return m.CreatedAt
}

// threadsOf groups a page's mentions into threads (a comment and the
// replies that follow it) and returns each thread's latest activity.
func threadsOf(t testing.TB, ms []*mention.Mention) map[string]time.Time {
	out := map[string]time.Time{}
	top := ""
	for _, m := range ms {
		if m.Kind == mention.KindComment {
			top = m.ID
		} else if m.ParentID != top {
			t.Fatalf("reply %s does not follow its comment %s", m.ID, m.ParentID)
		}
		if a := activity(t, m); a.After(out[top]) {
			out[top] = a
		}
	}
	return out
}

var dwp = SimSources()[0]

func TestCollectChannelPages(t *testing.T) {
	e := newEnv(t, backlog())
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit); err != nil {
		t.Fatal(err)
	}
	if len(rec.pages) < 3 {
		t.Fatalf("%d pages, want several", len(rec.pages))
	}
	var newest, lastTop time.Time
	for i, p := range rec.pages {
		cp := p.Checkpoint
		for _, m := range p.Mentions {
			if a := activity(t, m); a.After(newest) {
				newest = a
			}
			if m.Kind == mention.KindComment {
				if !lastTop.IsZero() && m.CreatedAt.After(lastTop) {
					t.Fatalf("page %d: thread %s is newer than the one before it", i, m.ID)
				}
				lastTop = m.CreatedAt
			}
		}
		if i < len(rec.pages)-1 {
			if cp.Pass == nil || cp.Pass.Token == "" || !cp.Since.IsZero() || !cp.Pass.Started.Equal(t0) || !cp.Pass.Newest.Equal(newest) || cp.Pass.State != nil {
				t.Fatalf("page %d checkpoint %+v (pass %+v), want a pass with a token, newest %s", i, cp, cp.Pass, newest)
			}
		} else if cp.Pass != nil || !cp.Since.Equal(newest) {
			t.Fatalf("last page checkpoint %+v, want since %s and no pass", cp, newest)
		}
		if len(p.Mentions) == 0 {
			t.Fatalf("page %d is empty", i)
		}
	}
	ms := rec.mentions()
	sameSet(t, e.sim.Served(), ids(ms))
	if n := e.sim.Calls("/youtube/v3/comments"); n == 0 {
		t.Error("no thread needed comments.list; the world should have threads with more than 5 replies")
	}
	calls, units := rec.units()
	if charged := e.sim.Units(testKey); units != charged["2026-11-02"] || calls != units {
		t.Errorf("pages report %d calls, %d units; the simulator charged %v", calls, units, charged)
	}
	var own, zwj, welsh, fallback int
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		if m.Own != (m.AuthorID == dwp.ChannelID) {
			t.Fatalf("%s by %s: Own %v", m.ID, m.AuthorID, m.Own)
		}
		if m.Own {
			own++
		}
		text, _, ok := rawSnippet(t, m)
		if ok && text != m.Text {
			t.Fatalf("%s: Text %q is not textOriginal %q", m.ID, m.Text, text)
		}
		if !ok {
			fallback++
		}
		if strings.Contains(m.Text, "\u200d") {
			zwj++
		}
		if strings.Contains(m.Text, "Diolch") || strings.Contains(m.Text, "Gymraeg") {
			welsh++
		}
		if m.ThreadID == "" || !strings.HasPrefix(m.URL, "https://www.youtube.com/watch?v="+m.ThreadID+"&lc="+m.ID) {
			t.Fatalf("%s: thread %q url %q", m.ID, m.ThreadID, m.URL)
		}
	}
	if own == 0 || zwj == 0 || welsh == 0 || fallback == 0 {
		t.Errorf("own %d, zwj %d, welsh %d, textDisplay fallbacks %d: the world should have each", own, zwj, welsh, fallback)
	}
}

func TestCollectResumeAfterCrash(t *testing.T) {
	e := newEnv(t, backlog())
	ctx := context.Background()
	first := &recorder{failAt: 3}
	err := e.c.Collect(ctx, dwp, collectors.Checkpoint{}, first.emit)
	if !errors.Is(err, errCrash) {
		t.Fatalf("err %v, want emit's error", err)
	}
	if len(first.pages) != 2 || first.stored.Pass == nil || first.stored.Pass.Token == "" {
		t.Fatalf("%d pages stored, checkpoint %+v", len(first.pages), first.stored)
	}
	e.clk.Add(20 * time.Second) // new comments arrive meanwhile
	second := &recorder{}
	if err := e.c.Collect(ctx, dwp, first.stored, second.emit); err != nil {
		t.Fatal(err)
	}
	if cp := second.stored; cp.Pass != nil || !cp.Since.Equal(first.stored.Pass.Newest) {
		t.Fatalf("resumed pass ended with %+v, want Since = the pass's newest %s", cp, first.stored.Pass.Newest)
	}
	if !second.pages[0].Checkpoint.Since.IsZero() && second.pages[0].Checkpoint.Pass != nil &&
		!second.pages[0].Checkpoint.Pass.Started.Equal(first.stored.Pass.Started) {
		t.Error("resumed pass lost its start time")
	}
	third := &recorder{} // the next pass picks up what arrived meanwhile
	if err := e.c.Collect(ctx, dwp, second.stored, third.emit); err != nil {
		t.Fatal(err)
	}
	all := append(append(first.mentions(), second.mentions()...), third.mentions()...)
	sameSet(t, e.sim.Served(), ids(all))
}

func TestCollectLaterRunOnlyNew(t *testing.T) {
	e := newEnv(t, backlog())
	ctx := context.Background()
	first := &recorder{}
	if err := e.c.Collect(ctx, dwp, collectors.Checkpoint{}, first.emit); err != nil {
		t.Fatal(err)
	}
	since := first.stored.Since
	e.clk.Add(5 * time.Second)
	second := &recorder{}
	if err := e.c.Collect(ctx, dwp, first.stored, second.emit); err != nil {
		t.Fatal(err)
	}
	// The pass re-reads the reply look-back window, emitting only what is
	// new: threads started in those 5 s, and new replies to older threads.
	if len(second.pages) < 1 || len(second.mentions()) >= len(first.mentions()) {
		t.Fatalf("%d pages, %d mentions for 5 s of news (first run: %d)", len(second.pages), len(second.mentions()), len(first.mentions()))
	}
	newThreads := 0
	for id, latest := range threadsOf(t, second.mentions()) {
		if latest.Before(since) {
			t.Errorf("thread %s (latest %s) is older than the checkpoint %s", id, latest, since)
		}
		if !slices.Contains(ids(first.mentions()), id) {
			newThreads++
		}
	}
	if newThreads == 0 {
		t.Error("the later run found no new thread")
	}
	if cp := second.stored; cp.Pass != nil || !cp.Since.After(since) {
		t.Errorf("checkpoint %+v, want Since after %s", cp, since)
	}
	sameSet(t, e.sim.Served(), ids(append(first.mentions(), second.mentions()...)))
}

func TestCollectNothingNew(t *testing.T) {
	e := newEnv(t, backlog())
	// A checkpoint later than every comment: one empty page, Since unchanged.
	since := t0.Add(time.Hour)
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{Since: since}, rec.emit); err != nil {
		t.Fatal(err)
	}
	if len(rec.pages) != 1 || len(rec.pages[0].Mentions) != 0 || rec.stored.Pass != nil || !rec.stored.Since.Equal(since) {
		t.Fatalf("%d pages, checkpoint %+v", len(rec.pages), rec.stored)
	}
	// One thread page, and the replies of its threads with more than 5.
	if p := rec.pages[0]; p.Calls < 1 || p.QuotaUnits != p.Calls || p.Calls != e.sim.Calls("/youtube/v3/commentThreads")+e.sim.Calls("/youtube/v3/comments") {
		t.Errorf("calls %d units %d", p.Calls, p.QuotaUnits)
	}
	// A video nobody has commented on yet: one empty page, no Since.
	e2 := newEnv(t, envOpts{sim: SimConfig{Seed: 1, Start: t0.Add(time.Hour)}, clk: &clock{t: t0}})
	rec2 := &recorder{}
	src := config.Source{Name: "quiet", Kind: KindVideoComments, VideoID: "simNHSapp02"}
	if err := e2.c.Collect(context.Background(), src, collectors.Checkpoint{}, rec2.emit); err != nil {
		t.Fatal(err)
	}
	if len(rec2.pages) != 1 || len(rec2.pages[0].Mentions) != 0 || rec2.stored.Pass != nil || !rec2.stored.Since.IsZero() {
		t.Fatalf("%d pages, checkpoint %+v", len(rec2.pages), rec2.stored)
	}
}

func TestCollectRateLimitWaitsForReset(t *testing.T) {
	for _, tc := range []struct {
		kind FaultKind
		wait time.Duration
	}{{FaultRateLimit, 2 * time.Second}, {FaultRateLimit403, time.Second}} {
		e := newEnv(t, envOpts{sim: SimConfig{Seed: 3, Rate: 50, Start: time.Now().Add(-10 * time.Second)}})
		e.sim.Inject(Fault{Kind: tc.kind, Count: 1, Wait: tc.wait})
		rec := &recorder{}
		start := time.Now()
		if err := e.c.Collect(context.Background(), SimSources()[3], collectors.Checkpoint{}, rec.emit); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		if elapsed < tc.wait || elapsed > tc.wait+2500*time.Millisecond {
			t.Errorf("fault %d: collected in %s, want within [%s, %s]", tc.kind, elapsed, tc.wait, tc.wait+2500*time.Millisecond)
		}
		if !strings.Contains(e.logs.String(), "waiting before the next try") {
			t.Error("the wait was not logged")
		}
		sameSet(t, e.sim.Served(), ids(rec.mentions()))
	}
}

func TestRateLimitWithoutRetryAfter(t *testing.T) {
	// No Retry-After: a minute, which is more than this run accepts.
	policy := collectors.RetryPolicy{MaxWait: 10 * time.Second}
	o := backlog()
	o.policy = &policy
	e := newEnv(t, o)
	e.sim.Inject(Fault{Kind: FaultRateLimit403, Count: 1})
	rec := &recorder{}
	err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit)
	var rl *collectors.RateLimitError
	if !errors.As(err, &rl) || rl.Wait != time.Minute || rec.calls != 0 {
		t.Fatalf("err %v (%+v), %d emits; want a RateLimitError of 1m and nothing emitted", err, rl, rec.calls)
	}
}

func TestCollectServerErrorThenSuccess(t *testing.T) {
	e := newEnv(t, backlog())
	e.sim.Inject(Fault{Kind: FaultServerError, Count: 2})
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit); err != nil {
		t.Fatal(err)
	}
	sameSet(t, e.sim.Served(), ids(rec.mentions()))
	calls, units := rec.units()
	if charged := e.sim.Units(testKey)["2026-11-02"]; units != charged || rec.pages[0].Calls < 3 {
		t.Errorf("pages report %d calls / %d units (first page %d calls); simulator charged %d", calls, units, rec.pages[0].Calls, charged)
	}
}

func TestCollectMalformed(t *testing.T) {
	t.Run("retried", func(t *testing.T) {
		e := newEnv(t, backlog())
		e.sim.Inject(Fault{Kind: FaultMalformed, Count: 2})
		rec := &recorder{}
		if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit); err != nil {
			t.Fatal(err)
		}
		sameSet(t, e.sim.Served(), ids(rec.mentions()))
	})
	t.Run("persists", func(t *testing.T) {
		e := newEnv(t, backlog())
		rec := &recorder{onCall: func(n int, _ collectors.Page) {
			if n == 1 {
				e.sim.Inject(Fault{Kind: FaultMalformed, Count: 100})
			}
		}}
		err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit)
		var me *collectors.MalformedError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "source "+dwp.Name) {
			t.Fatalf("err %v, want a MalformedError naming the source", err)
		}
		if rec.calls != 1 || rec.stored.Pass == nil || rec.stored.Pass.Token != rec.pages[0].Checkpoint.Pass.Token {
			t.Fatalf("%d emits, checkpoint %+v: want only the first page", rec.calls, rec.stored)
		}
	})
}

func TestCollectEmptyPage(t *testing.T) {
	e := newEnv(t, backlog())
	e.sim.Inject(Fault{Kind: FaultEmpty, Count: 1})
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit); err != nil {
		t.Fatal(err)
	}
	for i, p := range rec.pages {
		if len(p.Mentions) == 0 {
			t.Fatalf("page %d emitted empty", i)
		}
	}
	if rec.pages[0].Calls < 2 {
		t.Errorf("first page reports %d calls; the empty page's call belongs to it", rec.pages[0].Calls)
	}
	sameSet(t, e.sim.Served(), ids(rec.mentions()))
}

func TestCollectAuthErrors(t *testing.T) {
	for name, o := range map[string]func() envOpts{
		"expired": backlog,
		"wrong key": func() envOpts {
			o := backlog()
			o.key = "AIzaWRONG-key-9876543210"
			return o
		},
	} {
		t.Run(name, func(t *testing.T) {
			o := o()
			e := newEnv(t, o)
			if name == "expired" {
				e.sim.Inject(Fault{Kind: FaultTokenExpired, Count: 1})
			}
			rec := &recorder{}
			err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit)
			if !errors.Is(err, collectors.ErrAuth) || rec.calls != 0 {
				t.Fatalf("err %v, %d emits; want ErrAuth and nothing", err, rec.calls)
			}
			if n := e.sim.Calls("/youtube/v3/commentThreads"); n != 1 {
				t.Errorf("%d requests; a refused key is not retried", n)
			}
			for _, key := range []string{testKey, o.key} {
				if key != "" && (strings.Contains(err.Error(), key) || strings.Contains(e.logs.String(), key)) {
					t.Fatalf("the key is in the error or the logs: %v", err)
				}
			}
		})
	}
}

func TestCollectRepeatedToken(t *testing.T) {
	for name, inject := range map[string]int{"after the first page": 1, "on the first page": 0} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backlog())
			fault := Fault{Kind: FaultRepeatToken, Count: 1000}
			rec := &recorder{onCall: func(n int, _ collectors.Page) {
				if n == inject {
					e.sim.Inject(fault)
				}
			}}
			if inject == 0 {
				e.sim.Inject(fault)
			}
			if err := e.c.Collect(context.Background(), dwp, collectors.Checkpoint{}, rec.emit); err != nil {
				t.Fatal(err)
			}
			if n := e.sim.Calls("/youtube/v3/commentThreads"); n != 2 {
				t.Errorf("%d thread pages read, want 2", n)
			}
			if rec.stored.Pass != nil || rec.stored.Since.IsZero() {
				t.Errorf("checkpoint %+v, want the pass ended", rec.stored)
			}
			if !strings.Contains(e.logs.String(), "repeated a page token") {
				t.Error("not logged")
			}
		})
	}
}

func TestCollectMaxPages(t *testing.T) {
	e := newEnv(t, backlog())
	src := dwp
	src.MaxPages = 2
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), src, collectors.Checkpoint{}, rec.emit); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Calls("/youtube/v3/commentThreads"); n != 2 || len(rec.pages) != 2 || rec.stored.Pass != nil {
		t.Fatalf("%d requests, %d pages, checkpoint %+v", n, len(rec.pages), rec.stored)
	}
}

func TestCollectInvalidPageToken(t *testing.T) {
	e := newEnv(t, backlog())
	from := collectors.Checkpoint{Pass: &collectors.Pass{Token: "not-a-token", Started: t0}}
	rec := &recorder{}
	if err := e.c.Collect(context.Background(), dwp, from, rec.emit); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "page token refused") {
		t.Error("restart not logged")
	}
	sameSet(t, e.sim.Served(), ids(rec.mentions()))
}

func TestCollectSearch(t *testing.T) {
	e := newEnv(t, backlog())
	src := config.Source{Name: "yt-search", Kind: KindSearch, Query: "tax OR pension OR PIP", Department: "HMRC", Own: []string{"UCsimHMRCgovuk0000000002"}}
	ctx := context.Background()
	first := &recorder{failAt: 3}
	if err := e.c.Collect(ctx, src, collectors.Checkpoint{}, first.emit); !errors.Is(err, errCrash) {
		t.Fatalf("err %v", err)
	}
	st := first.pages[0].Checkpoint.Pass.State
	// Newest first, published in the last week: the PIP video (12 days)
	// is too old; the State Pension video has comments disabled.
	if want := "simHMRCsa01,simDWPoff04,simHMRCmtd2"; st["videos"] != want {
		t.Fatalf("videos %q, want %q", st["videos"], want)
	}
	if n := e.sim.Calls("/youtube/v3/search"); n != 1 || first.pages[0].QuotaUnits < 100 {
		t.Fatalf("%d searches, first page %d units", n, first.pages[0].QuotaUnits)
	}
	second := &recorder{}
	if err := e.c.Collect(ctx, src, first.stored, second.emit); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Calls("/youtube/v3/search"); n != 1 {
		t.Errorf("the resumed pass searched again (%d searches)", n)
	}
	ms := append(first.mentions(), second.mentions()...)
	sameSet(t, e.sim.Served(), ids(ms))
	var mtd, own int
	for _, m := range ms {
		if m.ThreadID == "simHMRCmtd2" {
			mtd++
		}
		if m.Own {
			own++
			if m.AuthorID != "UCsimHMRCgovuk0000000002" {
				t.Fatalf("%s by %s marked Own", m.ID, m.AuthorID)
			}
		}
	}
	if mtd == 0 || own == 0 {
		t.Errorf("%d comments of the video after the disabled one, %d own", mtd, own)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "skipping video") || !strings.Contains(logs, "reason=commentsDisabled") || !strings.Contains(logs, "source=yt-search") {
		t.Errorf("skip not logged with the source:\n%s", logs)
	}
	_, units := first.units()
	_, units2 := second.units()
	searches := e.sim.Calls("/youtube/v3/search")
	others := e.sim.Calls("/youtube/v3/commentThreads") + e.sim.Calls("/youtube/v3/comments")
	if charged := e.sim.Units(testKey)["2026-11-02"]; charged != 100*searches+others {
		t.Errorf("simulator charged %d units for %d searches and %d other calls", charged, searches, others)
	}
	if units+units2 > e.sim.Units(testKey)["2026-11-02"] {
		t.Errorf("pages report %d units, more than charged", units+units2)
	}
	if cp := second.stored; cp.Pass != nil || cp.Since.IsZero() {
		t.Errorf("final checkpoint %+v", cp)
	}
}

func TestCollectVideoCommentsDisabled(t *testing.T) {
	e := newEnv(t, backlog())
	src := config.Source{Name: "statement", Kind: KindVideoComments, VideoID: "simDWPoff04"}
	rec := &recorder{}
	err := e.c.Collect(context.Background(), src, collectors.Checkpoint{}, rec.emit)
	var pe *collectors.PermanentError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "commentsDisabled") || rec.calls != 0 {
		t.Fatalf("err %v, %d emits", err, rec.calls)
	}
	if n := e.sim.Calls("/youtube/v3/commentThreads"); n != 1 {
		t.Errorf("%d requests; a disabled video is not retried", n)
	}
}

// pacificMidnightAfter is the next midnight in Los Angeles.
func pacificMidnightAfter(t time.Time) time.Time {
	l := t.In(collectors.Pacific)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, collectors.Pacific)
}

func TestCollectAPIQuotaExceeded(t *testing.T) {
	// A slow world (the test jumps days ahead) with a day of backlog.
	clk := &clock{t: t0}
	e := newEnv(t, envOpts{sim: SimConfig{Seed: 9, Rate: 0.05, Start: t0.Add(-24 * time.Hour), DailyQuota: 20}, clk: clk})
	days := 0
	ctx := context.Background()
	var all []*mention.Mention
	cp := collectors.Checkpoint{}
	for day := 0; ; day++ {
		if day > 40 {
			t.Fatal("the pass never finished")
		}
		days = day
		rec := &recorder{}
		err := e.c.Collect(ctx, dwp, cp, rec.emit)
		all = append(all, rec.mentions()...)
		cp = rec.storedOr(cp)
		if err == nil {
			break
		}
		var qe *collectors.QuotaError
		if !errors.As(err, &qe) {
			t.Fatal(err)
		}
		if want := pacificMidnightAfter(e.clk.Now()); !qe.Until.Equal(want) || !strings.Contains(err.Error(), want.UTC().Format(time.RFC3339)) {
			t.Fatalf("%v: until %s, want %s", err, qe.Until, want)
		}
		e.clk.Add(qe.Until.Sub(e.clk.Now()) + time.Minute)
	}
	for d, u := range e.sim.Units(testKey) {
		if u > 20 {
			t.Errorf("day %s: %d units charged, over the API's 20", d, u)
		}
	}
	if cp.Pass != nil || days < 2 {
		t.Errorf("final checkpoint %+v after %d days", cp, days)
	}
	// A page cut short by the quota is read again the next day, so what
	// was served and not collected must have been deleted meanwhile.
	collected := ids(all)
	for _, id := range e.sim.Served() {
		if _, ok := slices.BinarySearch(collected, id); !ok && e.sim.exists(id, e.clk.Now()) {
			t.Errorf("%s was served, still exists and was never collected", id)
		}
	}
	if len(collected) == 0 {
		t.Fatal("nothing collected")
	}
}

// exists says whether comment id (and its thread) exists at now.
func (s *Simulator) exists(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.comments {
		if c.id == id {
			return c.visible(now) && (c.parent < 0 || s.comments[c.parent].visible(now))
		}
	}
	return false
}

func (r *recorder) storedOr(cp collectors.Checkpoint) collectors.Checkpoint {
	if r.calls == 0 || len(r.pages) == 0 {
		return cp
	}
	return r.stored
}

// TestQuotaBudgetDay runs sources every 15 minutes through a simulated day
// and a half on a budget of 500 units a day.
func TestQuotaBudgetDay(t *testing.T) {
	start := time.Date(2026, 11, 2, 0, 10, 0, 0, collectors.Pacific)
	clk := &clock{t: start}
	e := newEnv(t, envOpts{sim: SimConfig{Seed: 11, Rate: 0.05, Start: start.Add(-2 * time.Hour)}, clk: clk, units: 500})
	sources := []config.Source{dwp, SimSources()[3], {Name: "yt-search", Kind: KindSearch, Query: "tax OR pension"}}
	cps := map[string]collectors.Checkpoint{}
	blocked := map[string]time.Time{}
	quotaStops, runs := 0, map[string]int{}
	ctx := context.Background()
	for step := 0; step < 36*4; step++ {
		for _, src := range sources {
			if clk.Now().Before(blocked[src.Name]) {
				continue
			}
			rec := &recorder{}
			err := e.c.Collect(ctx, src, cps[src.Name], rec.emit)
			cps[src.Name] = rec.storedOr(cps[src.Name])
			day := clk.Now().In(collectors.Pacific).Format("2006-01-02")
			var qe *collectors.QuotaError
			switch {
			case errors.As(err, &qe):
				quotaStops++
				want := pacificMidnightAfter(clk.Now())
				if !qe.Until.Equal(want) || !strings.Contains(err.Error(), "until "+want.UTC().Format(time.RFC3339)) {
					t.Fatalf("%v: want until %s", err, want)
				}
				blocked[src.Name] = qe.Until
			case err != nil:
				t.Fatal(err)
			default:
				runs[day]++
			}
		}
		clk.Add(15 * time.Minute)
	}
	charged := e.sim.Units(testKey)
	t.Logf("units by day %v, quota stops %d, completed runs by day %v, searches %d", charged, quotaStops, runs, e.sim.Calls("/youtube/v3/search"))
	for d, u := range charged {
		if u > 500 {
			t.Errorf("day %s: the collector asked for %d units, over its budget of 500", d, u)
		}
	}
	if quotaStops == 0 || charged["2026-11-02"] < 400 || charged["2026-11-03"] == 0 || runs["2026-11-03"] == 0 {
		t.Errorf("quota stops %d, units by day %v, runs by day %v: want the budget spent on day 1 and work on day 2", quotaStops, charged, runs)
	}
	if searches := e.sim.Calls("/youtube/v3/search"); searches < 2 {
		t.Errorf("%d searches", searches)
	}
}

func TestNewNeedsKey(t *testing.T) {
	cfg := config.Default()
	_, err := New(&cfg, func(string) string { return "" }, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "GOVLISTEN_YOUTUBE_API_KEY") {
		t.Fatalf("err %v, want one naming the variable", err)
	}
	c, err := New(&cfg, func(k string) string { return map[string]string{"GOVLISTEN_YOUTUBE_API_KEY": "k"}[k] }, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := c.budget.(*collectors.DailyBudget); !ok || b.Units != cfg.YouTube.DailyQuotaUnits || b.Location != collectors.Pacific {
		t.Errorf("default budget %+v", c.budget)
	}
	err = c.Collect(context.Background(), config.Source{Name: "x", Kind: "playlist"}, collectors.Checkpoint{}, nil)
	if err == nil || !strings.Contains(err.Error(), "source x") {
		t.Errorf("unknown kind: %v", err)
	}
}

func BenchmarkCollect(b *testing.B) {
	const items = 5000
	clk := &clock{t: t0}
	e := newEnv(b, envOpts{sim: SimConfig{Seed: 5, Rate: 1000, Start: t0.Add(-items * time.Millisecond)}, clk: clk})
	src := dwp
	src.MaxPages = 1000
	warm := &recorder{} // the simulator generates its world on the first request
	if err := e.c.Collect(context.Background(), src, collectors.Checkpoint{}, warm.emit); err != nil {
		b.Fatal(err)
	}
	total := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rec := &recorder{}
		if err := e.c.Collect(context.Background(), src, collectors.Checkpoint{}, rec.emit); err != nil {
			b.Fatal(err)
		}
		total += len(rec.mentions())
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "mentions/s")
}
