package collectors_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
)

// pagedCollector serves a fixed list of pages; page i carries checkpoint
// SinceID "i". It fails with failAt's error when it reaches that page.
type pagedCollector struct {
	pages  [][]*mention.Mention
	failAt int // 0: never
	calls  atomic.Int32
	block  chan struct{}
}

func (c *pagedCollector) Collect(ctx context.Context, src config.Source, from collectors.Checkpoint, emit func(context.Context, collectors.Page) error) error {
	c.calls.Add(1)
	if c.block != nil {
		<-c.block
	}
	start := 0
	if from.Pass != nil {
		fmt.Sscan(from.Pass.Token, &start)
	}
	for i := start; i < len(c.pages); i++ {
		if c.failAt != 0 && i == c.failAt {
			return errors.New("simulated crash")
		}
		cp := collectors.Checkpoint{Pass: &collectors.Pass{Token: fmt.Sprint(i + 1)}}
		if i == len(c.pages)-1 {
			cp = collectors.Checkpoint{SinceID: fmt.Sprint(i)}
		}
		if err := emit(ctx, collectors.Page{Mentions: c.pages[i], Checkpoint: cp, Calls: 1}); err != nil {
			return err
		}
	}
	return nil
}

func setup(t *testing.T, c collectors.Collector) (*collectors.Scheduler, *bus.Conn) {
	t.Helper()
	cfg := testenv.Config()
	cfg.NATS.URL = testenv.NATS(t)
	cfg.NATS.LeaseTTL = config.Duration(2 * time.Second)
	cfg.Sources = []config.Source{{Name: "dwp-search", Platform: "twitter", Kind: "search", Query: "DWP"}}
	conn := testenv.Bus(t, cfg)
	s, err := collectors.NewScheduler(context.Background(), conn.JS, cfg, map[string]collectors.Collector{"twitter": c}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, conn
}

func pages(n, per int) [][]*mention.Mention {
	g := synth.New(4)
	out := make([][]*mention.Mention, n)
	for i := range out {
		for range per {
			out[i] = append(out[i], g.Next())
		}
	}
	return out
}

func streamCount(t *testing.T, conn *bus.Conn) uint64 {
	t.Helper()
	s, err := conn.JS.Stream(context.Background(), bus.StreamMentions)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// A run that fails mid-pass keeps the checkpoint of the last published
// page; the next run resumes there: nothing skipped, nothing stored twice.
func TestResumeAfterFailure(t *testing.T) {
	c := &pagedCollector{pages: pages(5, 10), failAt: 3}
	s, conn := setup(t, c)
	ctx := context.Background()
	runs, err := s.RunOnce(ctx, collectors.Options{})
	if err == nil || runs[0].Pages != 3 || runs[0].Error == "" || !runs[0].Truncated {
		t.Fatalf("first run: %+v, %v", runs, err)
	}
	cp, _ := s.Checkpoint(ctx, "dwp-search")
	if cp.Pass == nil || cp.Pass.Token != "3" {
		t.Fatalf("checkpoint after failure: %+v", cp)
	}
	c.failAt = 0
	runs, err = s.RunOnce(ctx, collectors.Options{})
	if err != nil || runs[0].Pages != 2 || !runs[0].Complete {
		t.Fatalf("second run: %+v, %v", runs, err)
	}
	cp, _ = s.Checkpoint(ctx, "dwp-search")
	if cp.Pass != nil || cp.SinceID != "4" {
		t.Fatalf("checkpoint after the pass: %+v", cp)
	}
	if n := streamCount(t, conn); n != 50 {
		t.Fatalf("%d mentions on the stream, want 50", n)
	}
	// Collecting the same pages again publishes nothing new.
	if _, err := s.RunSource(ctx, config.Source{Name: "dwp-search", Platform: "twitter"}, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if n := streamCount(t, conn); n != 50 {
		t.Fatalf("%d mentions on the stream after a repeat, want 50", n)
	}
	st, err := s.Status(ctx)
	if err != nil || st["dwp-search"].Published != 0 || st["dwp-search"].Duplicates != 50 {
		t.Fatalf("status %+v, %v", st, err)
	}
}

// Two replicas never collect one source at once.
func TestLeaseExcludesSecondReplica(t *testing.T) {
	c := &pagedCollector{pages: pages(1, 1), block: make(chan struct{})}
	s, _ := setup(t, c)
	ctx := context.Background()
	first := make(chan error)
	go func() {
		_, err := s.RunOnce(ctx, collectors.Options{})
		first <- err
	}()
	for c.calls.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	// Outlive the lease TTL: the holder renews it.
	time.Sleep(3 * time.Second)
	runs, err := s.RunOnce(ctx, collectors.Options{})
	if err != nil || runs[0].Error == "" || c.calls.Load() != 1 {
		t.Fatalf("second replica ran while the lease was held: %+v %v (calls %d)", runs, err, c.calls.Load())
	}
	close(c.block)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunOnce(ctx, collectors.Options{}); err != nil || c.calls.Load() != 2 {
		t.Fatalf("lease not released: %v (calls %d)", err, c.calls.Load())
	}
}

// Replicas drawing on one KV budget never spend more than it holds between
// them, and a spent budget says until when.
func TestKVBudgetSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	kv := quotaBucket(t)
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	var granted atomic.Int64
	done := make(chan struct{})
	for range 4 { // four replicas, each with its own view of the bucket
		b := &collectors.KVBudget{KV: kv, Key: "youtube", Units: 500, Location: collectors.Pacific, Now: now}
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				err := b.Spend(ctx, 7)
				var qe *collectors.QuotaError
				if errors.As(err, &qe) {
					if !qe.Until.After(now()) {
						t.Errorf("quota until %v", qe.Until)
					}
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				granted.Add(7)
			}
		}()
	}
	for range 4 {
		<-done
	}
	if g := granted.Load(); g > 500 || g < 500-7 {
		t.Fatalf("replicas were granted %d units of a 500-unit budget", g)
	}
	b := &collectors.KVBudget{KV: kv, Key: "youtube", Units: 500, Location: collectors.Pacific, Now: now}
	if left, err := b.Left(ctx); err != nil || left != 500-int(granted.Load()) {
		t.Fatalf("left %d, %v", left, err)
	}
}

// A rate-limit wait one replica is told of holds back the others' calls.
func TestGateSharesWaits(t *testing.T) {
	ctx := context.Background()
	kv := quotaBucket(t)
	policy := func() collectors.RetryPolicy {
		return collectors.RetryPolicy{Min: time.Millisecond, Gate: &collectors.KVGate{KV: kv, Key: "twitter"}}
	}
	calls := 0
	start := time.Now()
	err := collectors.Retry(ctx, policy(), func(context.Context) error {
		calls++
		if calls == 1 {
			return &collectors.RateLimitError{Wait: 1500 * time.Millisecond, Reason: "429"}
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("first replica: %v after %d calls", err, calls)
	}
	// A second replica calling right after the 429 would have waited too.
	if err := (&collectors.KVGate{KV: kv, Key: "twitter"}).Hold(ctx, time.Now().Add(time.Second), "429"); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := collectors.Retry(ctx, policy(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(before); waited < 900*time.Millisecond {
		t.Fatalf("second replica called after %s, before the shared reset", waited)
	}
	if time.Since(start) < 1500*time.Millisecond {
		t.Fatal("first replica did not wait for the reset")
	}
	// A hold further away than MaxWait comes back as a RateLimitError.
	_ = (&collectors.KVGate{KV: kv, Key: "twitter"}).Hold(ctx, time.Now().Add(time.Hour), "window spent")
	p := policy()
	p.MaxWait = time.Minute
	var rl *collectors.RateLimitError
	if err := collectors.Retry(ctx, p, func(context.Context) error { return nil }); !errors.As(err, &rl) {
		t.Fatalf("got %v, want a RateLimitError", err)
	}
}

// A paced budget spreads the units over the day: by 06:00 Pacific no more
// than a quarter (plus an eighth to start the day) is spent, and the
// refusal says when the next units accrue.
func TestKVBudgetPacing(t *testing.T) {
	ctx := context.Background()
	kv := quotaBucket(t)
	at := time.Date(2026, 11, 26, 6, 0, 0, 0, collectors.Pacific)
	b := &collectors.KVBudget{KV: kv, Key: "youtube", Units: 800, Location: collectors.Pacific, Pace: true, Now: func() time.Time { return at }}
	spent := 0
	var qe *collectors.QuotaError
	for {
		err := b.Spend(ctx, 1)
		if errors.As(err, &qe) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		spent++
	}
	if spent != 800/4+800/8 {
		t.Fatalf("spent %d units by 06:00, want %d", spent, 800/4+800/8)
	}
	if !qe.Until.After(at) || qe.Until.After(at.Add(5*time.Minute)) {
		t.Fatalf("paced until %v, want within minutes of %v", qe.Until, at)
	}
	at = qe.Until
	if err := b.Spend(ctx, 1); err != nil {
		t.Fatalf("after the units accrued: %v", err)
	}
}

// quotaBucket is bucket govlisten_quota on a fresh in-process NATS.
func quotaBucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	cfg := testenv.Config()
	cfg.NATS.URL = testenv.NATS(t)
	conn := testenv.Bus(t, cfg)
	kv, err := conn.JS.KeyValue(context.Background(), bus.BucketQuota)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}
