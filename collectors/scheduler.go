package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/robfig/cron/v3"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/telemetry"
)

// Run is what one collection run of one source did: the row the ledger
// (ClickHouse table collection_runs) and `govlisten sources` show.
type Run struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Platform    string    `json:"platform"`
	Kind        string    `json:"kind"`
	Department  string    `json:"department,omitempty"`
	Collector   string    `json:"collector"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	From        time.Time `json:"window_from,omitzero"`
	FromID      string    `json:"window_from_id,omitempty"`
	To          time.Time `json:"window_to,omitzero"`
	ToID        string    `json:"window_to_id,omitempty"`
	Pages       int       `json:"pages"`
	Fetched     int       `json:"items_fetched"`
	Published   int64     `json:"items_published"`
	Duplicates  int64     `json:"items_duplicate"`
	Calls       int       `json:"api_calls"`
	QuotaUnits  int       `json:"quota_units"`
	Error       string    `json:"error,omitempty"`
	Truncated   bool      `json:"truncated"`
	TruncatedBy string    `json:"truncated_by,omitempty"` // quota, error, stopped
	Complete    bool      `json:"complete"`               // the pass reached the newest item
	QuotaUntil  time.Time `json:"quota_until,omitzero"`
}

// RunRecorder stores finished runs (the ClickHouse ledger). It must not
// block collection for long; an error is logged, not fatal.
type RunRecorder interface {
	RecordRun(ctx context.Context, r Run) error
}

// Scheduler runs the configured sources: each on its own interval or cron
// expression, at most one replica per source at a time (a lease in KV
// bucket govlisten_leases), each resuming from its checkpoint in
// govlisten_checkpoints, which moves only after JetStream acknowledged every
// mention of the page it follows.
type Scheduler struct {
	js          jetstream.JetStream
	checkpoints jetstream.KeyValue
	leases      jetstream.KeyValue
	status      jetstream.KeyValue
	collectors  map[string]Collector // by platform
	sources     []config.Source
	recorder    RunRecorder
	leaseTTL    time.Duration
	owner       string
	log         *slog.Logger
	metrics     *telemetry.Telemetry
	// MaxInFlight bounds unacknowledged publishes per run (default 1024).
	MaxInFlight int
	// Concurrency bounds sources collected at once (default 4).
	Concurrency int
}

// BucketStatus holds each source's SourceStatus, for `govlisten sources`,
// `govlisten status` and the source metrics.
const BucketStatus = "govlisten_source_status"

// SourceStatus is what bucket govlisten_source_status holds for a source:
// its last run (Run's fields, flattened, so a reader that decodes a Run
// still works), and when it last succeeded and last failed.
type SourceStatus struct {
	Run
	// LastSuccess is when the last run that was not cut short by an error
	// or a shutdown ended (a run stopped for a spent quota succeeded as
	// far as it could go).
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError and LastErrorAt are the error of the last run that failed,
	// and when it ended.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Instrument counts the scheduler's runs and pages in t, and makes t's
// scrapes read every configured source's checkpoint and last run from KV.
// Call it before Run or RunOnce.
func (s *Scheduler) Instrument(t *telemetry.Telemetry) {
	s.metrics = t
	for _, src := range s.sources {
		t.Source(src.Platform, src.Name) // every source's series exist from the start
	}
	t.WatchSources(func(ctx context.Context) ([]telemetry.SourceSample, error) {
		states, err := readSourceStates(ctx, s.status, s.checkpoints, s.sources, false)
		if err != nil {
			return nil, err
		}
		out := make([]telemetry.SourceSample, 0, len(states))
		for _, st := range states {
			smp := telemetry.SourceSample{Source: st.Source, Platform: st.Platform, Checkpoint: st.Checkpoint.Time(st.Platform)}
			if st.Status != nil {
				smp.LastSuccess, smp.LastError = st.Status.LastSuccess, st.Status.LastErrorAt
			}
			out = append(out, smp)
		}
		return out, nil
	})
}

// NewScheduler opens the buckets (bus.Setup creates the checkpoint and
// lease buckets) and returns a Scheduler for sources. collectors maps a
// platform to its Collector; a source whose platform has none is an error.
func NewScheduler(ctx context.Context, js jetstream.JetStream, cfg *config.Config, collectors map[string]Collector, recorder RunRecorder, log *slog.Logger) (*Scheduler, error) {
	for _, src := range cfg.Sources {
		if collectors[src.Platform] == nil {
			return nil, fmt.Errorf("source %s: no collector for platform %s", src.Name, src.Platform)
		}
	}
	cp, err := js.KeyValue(ctx, bus.BucketCheckpoints)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bus.BucketCheckpoints, err)
	}
	leases, err := js.KeyValue(ctx, bus.BucketLeases)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bus.BucketLeases, err)
	}
	status, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: BucketStatus, Description: "govlisten: each source's last collection run", History: 1,
		Storage: jetstream.FileStorage, Replicas: cfg.NATS.Stream.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", BucketStatus, err)
	}
	host, _ := os.Hostname()
	return &Scheduler{
		js: js, checkpoints: cp, leases: leases, status: status, collectors: collectors,
		sources: cfg.Sources, recorder: recorder, leaseTTL: cfg.NATS.LeaseTTL.D(),
		owner: host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(rand.Uint64()%1e6, 10),
		log:   log, MaxInFlight: 1024, Concurrency: 4,
	}, nil
}

// ErrLeaseHeld means another replica is collecting the source right now.
var ErrLeaseHeld = errors.New("another collector holds the source's lease")

// Options change one pass.
type Options struct {
	// Only restricts the pass to these source names (all when empty).
	Only []string
	// Since, when set, backfills: the run starts from this time instead of
	// the checkpoint (within what the platform keeps).
	Since time.Time
}

// RunOnce collects every selected source once, a few at a time, and
// returns the runs. The error joins the sources that failed; a source whose
// lease is held by another replica is skipped and reported in its Run.
func (s *Scheduler) RunOnce(ctx context.Context, opt Options) ([]Run, error) {
	srcs, err := s.selected(opt.Only)
	if err != nil {
		return nil, err
	}
	// Higher priority first: when a shared quota is short, the sources that
	// matter most have spent theirs before the others start.
	srcs = slices.Clone(srcs)
	slices.SortStableFunc(srcs, func(a, b config.Source) int { return b.Priority - a.Priority })
	runs := make([]Run, len(srcs))
	errs := make([]error, len(srcs))
	sem := make(chan struct{}, max(s.Concurrency, 1))
	var wg sync.WaitGroup
	for i, src := range srcs {
		sem <- struct{}{} // taken in order, so runs start in priority order
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runs[i], errs[i] = s.RunSource(ctx, src, opt.Since)
		}()
	}
	wg.Wait()
	return runs, errors.Join(errs...)
}

func (s *Scheduler) selected(only []string) ([]config.Source, error) {
	if len(only) == 0 {
		return s.sources, nil
	}
	var out []config.Source
	for _, name := range only {
		found := false
		for _, src := range s.sources {
			if src.Name == name {
				out = append(out, src)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--source %s: no such source in the configuration", name)
		}
	}
	return out, nil
}

// Run collects every source on its schedule until ctx ends: at once, then
// every src.Every (default 5m) or at the times of src.Cron, with a little
// jitter so replicas do not poll in step. A source whose quota is spent
// waits until the quota's reset.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(s.Concurrency, 1))
	for _, src := range s.sources {
		next, err := nextFunc(src)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var run Run
				select {
				case sem <- struct{}{}:
					run, _ = s.RunSource(ctx, src, time.Time{})
					<-sem
				case <-ctx.Done():
					return
				}
				at := next(time.Now())
				if run.QuotaUntil.After(at) {
					s.log.Info("quota spent: source paused", "source", src.Name, "platform", src.Platform, "until", run.QuotaUntil)
					at = run.QuotaUntil
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(at)):
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// nextFunc returns when a source runs next after t.
func nextFunc(src config.Source) (func(time.Time) time.Time, error) {
	if src.Cron != "" {
		sched, err := cron.ParseStandard(src.Cron)
		if err != nil {
			return nil, fmt.Errorf("source %s: cron %q: %w", src.Name, src.Cron, err)
		}
		return sched.Next, nil
	}
	every := src.Every.D()
	if every <= 0 {
		every = 5 * time.Minute
	}
	return func(t time.Time) time.Time {
		return t.Add(every + time.Duration(rand.Int64N(int64(every/20)+1)))
	}, nil
}

// RunSource collects one source once, if no other replica holds it.
func (s *Scheduler) RunSource(ctx context.Context, src config.Source, since time.Time) (Run, error) {
	run := Run{ID: strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + s.owner, Source: src.Name, Platform: src.Platform,
		Kind: src.Kind, Department: src.Department, Collector: s.owner, Started: time.Now().UTC()}
	log := s.log.With("source", src.Name, "platform", src.Platform)
	release, err := s.acquire(ctx, src.Name)
	if err != nil {
		run.Error = err.Error()
		if errors.Is(err, ErrLeaseHeld) {
			log.Info("skipped: another collector holds the source")
			return run, nil
		}
		return run, fmt.Errorf("source %s: %w", src.Name, err)
	}
	defer release()

	from, err := s.Checkpoint(ctx, src.Name)
	if err != nil {
		return run, fmt.Errorf("source %s: %w", src.Name, err)
	}
	if !since.IsZero() {
		from = Checkpoint{Since: since.UTC()}
	}
	run.From, run.FromID = from.Since, from.SinceID
	run.To, run.ToID = from.Since, from.SinceID
	pub := NewPublisher(s.js, s.MaxInFlight, 2*time.Minute)
	metrics := s.metrics.Source(src.Platform, src.Name)
	var counted, countedDup int64 // publisher counts already in metrics
	count := func(collected int) {
		p, d := pub.Published.Load(), pub.Duplicates.Load()
		metrics.Page(collected, p-counted, d-countedDup)
		counted, countedDup = p, d
	}
	emit := func(ctx context.Context, p Page) error {
		for _, m := range p.Mentions {
			if err := pub.Publish(ctx, m); err != nil {
				return err
			}
		}
		if err := pub.Wait(ctx); err != nil {
			return fmt.Errorf("publishing page %d: %w", run.Pages+1, err)
		}
		count(len(p.Mentions))
		if err := s.storeCheckpoint(ctx, src.Name, p.Checkpoint); err != nil {
			return err
		}
		run.Pages++
		run.Fetched += len(p.Mentions)
		run.Calls += p.Calls
		run.QuotaUnits += p.QuotaUnits
		run.To, run.ToID = p.Checkpoint.Since, p.Checkpoint.SinceID
		run.Complete = p.Checkpoint.Pass == nil
		return nil
	}
	cerr := s.collectors[src.Platform].Collect(ctx, src, from, emit)
	run.Finished = time.Now().UTC()
	count(0) // publishes acknowledged before a page failed
	run.Published, run.Duplicates = pub.Published.Load(), pub.Duplicates.Load()
	var qe *QuotaError
	switch {
	case cerr == nil:
	case errors.As(cerr, &qe):
		run.Truncated, run.TruncatedBy, run.QuotaUntil = true, "quota", qe.Until
		run.Error = cerr.Error()
		cerr = nil // a spent quota is a pause, not a failure
	case ctx.Err() != nil:
		run.Truncated, run.TruncatedBy, run.Error = true, "stopped", "stopped before the pass finished"
		cerr = nil
	default:
		run.Truncated, run.TruncatedBy, run.Error = true, "error", cerr.Error()
	}
	s.finish(log, run)
	metrics.Run(run.Result())
	if cerr != nil {
		return run, fmt.Errorf("source %s: %w", src.Name, cerr)
	}
	return run, nil
}

// Result is how a finished run ended: ok, quota (stopped for a spent
// quota), error, or stopped (shutdown).
func (r Run) Result() string {
	switch r.TruncatedBy {
	case "":
		return "ok"
	case "quota", "error", "stopped":
		return r.TruncatedBy
	}
	return "error"
}

// finish records a run in the status bucket and the ledger, and logs it.
func (s *Scheduler) finish(log *slog.Logger, run Run) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := SourceStatus{Run: run}
	if e, err := s.status.Get(ctx, run.Source); err == nil {
		var prev SourceStatus
		if json.Unmarshal(e.Value(), &prev) == nil {
			st.LastSuccess, st.LastError, st.LastErrorAt = prev.LastSuccess, prev.LastError, prev.LastErrorAt
		}
	}
	switch run.Result() {
	case "ok", "quota":
		st.LastSuccess = run.Finished
	case "error":
		st.LastError, st.LastErrorAt = run.Error, run.Finished
	}
	if b, err := json.Marshal(st); err == nil {
		if _, err := s.status.Put(ctx, run.Source, b); err != nil {
			log.Warn("storing run status", "err", err)
		}
	}
	if s.recorder != nil {
		if err := s.recorder.RecordRun(ctx, run); err != nil {
			log.Warn("recording run in the ledger", "err", err)
		}
	}
	attrs := []any{"pages", run.Pages, "fetched", run.Fetched, "published", run.Published, "duplicates", run.Duplicates,
		"calls", run.Calls, "quota_units", run.QuotaUnits, "complete", run.Complete, "took", run.Finished.Sub(run.Started).Round(time.Millisecond)}
	switch {
	case run.TruncatedBy == "quota":
		log.Warn("collection stopped for the day: quota spent", append(attrs, "until", run.QuotaUntil)...)
	case run.Error != "":
		log.Error("collection failed", append(attrs, "err", run.Error)...)
	default:
		log.Info("collected", attrs...)
	}
}

// Checkpoint reads a source's checkpoint; a source never collected has
// the zero Checkpoint.
func (s *Scheduler) Checkpoint(ctx context.Context, source string) (Checkpoint, error) {
	var cp Checkpoint
	e, err := s.checkpoints.Get(ctx, source)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return cp, nil
	}
	if err != nil {
		return cp, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		return cp, fmt.Errorf("checkpoint of %s is not valid JSON (%v); delete key %s in bucket %s to start over", source, err, source, bus.BucketCheckpoints)
	}
	return cp, nil
}

func (s *Scheduler) storeCheckpoint(ctx context.Context, source string, cp Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if _, err := s.checkpoints.Put(ctx, source, b); err != nil {
		return fmt.Errorf("storing checkpoint: %w", err)
	}
	return nil
}

// acquire takes the source's lease and keeps renewing it until release.
func (s *Scheduler) acquire(ctx context.Context, source string) (release func(), err error) {
	rev, err := s.leases.Create(ctx, source, []byte(s.owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrLeaseHeld
	}
	if err != nil {
		return nil, fmt.Errorf("taking lease: %w", err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(max(s.leaseTTL/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r, err := s.leases.Update(ctx, source, []byte(s.owner), rev)
				if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
					// The revision moved under us: a NATS server restarted
					// and lost its last writes, or the lease expired. Take
					// the lease back if it is still ours or free.
					r, err = s.retake(ctx, source)
				}
				if err != nil {
					s.log.Warn("renewing lease", "source", source, "platform", s.platform(source), "err", err)
					continue
				}
				rev = r
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.leases.Delete(dctx, source, jetstream.LastRevision(rev))
	}, nil
}

// retake re-establishes a lease whose revision is no longer the one this
// scheduler holds: adopts the current revision when the lease still names
// this scheduler, creates it again when it is gone, and reports another
// holder as an error (that one's pass and this one's then overlap, which
// the stream's de-duplication and idempotent storage make harmless).
func (s *Scheduler) retake(ctx context.Context, source string) (uint64, error) {
	e, err := s.leases.Get(ctx, source)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return s.leases.Create(ctx, source, []byte(s.owner))
	case err != nil:
		return 0, err
	case string(e.Value()) == s.owner:
		return s.leases.Update(ctx, source, []byte(s.owner), e.Revision())
	}
	return 0, fmt.Errorf("lease taken over by %q", e.Value())
}

func (s *Scheduler) platform(source string) string {
	for _, src := range s.sources {
		if src.Name == source {
			return src.Platform
		}
	}
	return ""
}

// SourceState is what the bus holds for a source.
type SourceState struct {
	Source   string
	Platform string
	// Status is the source's last run and last success and failure; nil
	// when it never ran.
	Status *SourceStatus
	// Checkpoint is where its next collection starts (zero: never stored).
	Checkpoint Checkpoint
}

// ReadSourceStates reads the status and checkpoint of the sources from KV
// buckets govlisten_source_status and govlisten_checkpoints; with all, also
// of every other source that has a status (one removed from the
// configuration, or when sources is empty, every one). A bucket that does
// not exist yet reads as empty. Results are sorted by source name.
func ReadSourceStates(ctx context.Context, js jetstream.JetStream, sources []config.Source, all bool) ([]SourceState, error) {
	status, err := js.KeyValue(ctx, BucketStatus)
	if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bucket %s: %w", BucketStatus, err)
	}
	checkpoints, err := js.KeyValue(ctx, bus.BucketCheckpoints)
	if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bucket %s: %w", bus.BucketCheckpoints, err)
	}
	return readSourceStates(ctx, status, checkpoints, sources, all)
}

func readSourceStates(ctx context.Context, status, checkpoints jetstream.KeyValue, sources []config.Source, all bool) ([]SourceState, error) {
	platforms := map[string]string{}
	for _, src := range sources {
		platforms[src.Name] = src.Platform
	}
	if all && status != nil {
		keys, err := status.ListKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing bucket %s: %w", BucketStatus, err)
		}
		for k := range keys.Keys() {
			if _, ok := platforms[k]; !ok {
				platforms[k] = ""
			}
		}
		if err := keys.Stop(); err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	out := make([]SourceState, 0, len(platforms))
	for name, platform := range platforms {
		st := SourceState{Source: name, Platform: platform}
		if status != nil {
			e, err := status.Get(ctx, name)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
			case err != nil:
				return nil, fmt.Errorf("reading the status of %s: %w", name, err)
			default:
				var ss SourceStatus
				if json.Unmarshal(e.Value(), &ss) == nil {
					st.Status = &ss
					if st.Platform == "" {
						st.Platform = ss.Platform
					}
				}
			}
		}
		if checkpoints != nil {
			e, err := checkpoints.Get(ctx, name)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
			case err != nil:
				return nil, fmt.Errorf("reading the checkpoint of %s: %w", name, err)
			default:
				_ = json.Unmarshal(e.Value(), &st.Checkpoint) // an unreadable one reads as none
			}
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b SourceState) int { return strings.Compare(a.Source, b.Source) })
	return out, nil
}

// Status returns each configured source's last run, if any.
func (s *Scheduler) Status(ctx context.Context) (map[string]Run, error) {
	out := map[string]Run{}
	for _, src := range s.sources {
		e, err := s.status.Get(ctx, src.Name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var r Run
		if json.Unmarshal(e.Value(), &r) == nil {
			out[src.Name] = r
		}
	}
	return out, nil
}
