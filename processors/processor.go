// Package processors turns the mentions on the bus into tagged rows in
// ClickHouse. A Processor is one member of the durable pull consumer that
// any number of processes share: it fetches, decodes and tags in parallel,
// inserts a batch, and acks the batch's messages only after ClickHouse
// accepted it.
//
// Every message ends in exactly one of three ways (DESIGN.md, "Delivery
// guarantees"):
//
//   - stored: inserted, then Ack;
//   - dead-lettered: a message that will never decode or validate is
//     published to govlisten.dlq.<reason> with the reason and its original
//     subject in headers, then Term — never redelivered;
//   - retried: when ClickHouse (or the DLQ publish) fails, NakWithDelay with
//     exponential backoff, for as long as it takes; the consumer's
//     max_deliver is -1 by default, so nothing is dropped after N tries.
//
// Shutdown is ordered: stop pulling, tag and flush what was already
// delivered, ack, return.
package processors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/privacy"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/telemetry"
)

// Inserter stores a batch of rows; nil means every row is stored.
type Inserter interface {
	Insert(ctx context.Context, rows []sink.Row) error
}

var _ Inserter = (*sink.Store)(nil)

// DLQ reasons: the last token of the dead-letter subject.
const (
	ReasonUndecodable = "undecodable" // not JSON, truncated, wrong types
	ReasonInvalid     = "invalid"     // a record with a missing or bad field
)

// Stats counts what a Processor did. Safe for concurrent reads.
type Stats struct {
	Received     atomic.Int64
	Inserted     atomic.Int64
	DeadLettered atomic.Int64
	Batches      atomic.Int64
	InsertErrors atomic.Int64
}

// RawInserter stores messages as opaque strings: the baseline that
// `govlisten bench` measures the processor against.
type RawInserter interface {
	InsertRaw(ctx context.Context, data [][]byte) error
}

// Processor consumes stream MENTIONS. Create with New; Run once.
type Processor struct {
	conn  *bus.Conn
	store Inserter
	raw   RawInserter // when set, messages bypass decode and tag
	tax   *Taxonomy
	cfg   config.Process
	cons  string
	log   *slog.Logger
	Stats Stats
	// Metrics, when set before Run, counts for /metrics what Stats counts,
	// and more: per batch (received, inserted, rows, insert time) and per
	// dead letter, never per stored message. Nil counts nothing.
	Metrics *telemetry.Processor
	// Privacy, when set before Run, pseudonymises every mention's author
	// after tagging (author: rules see the real handle) and before storage.
	Privacy *privacy.Pseudonymiser
}

// NewRaw returns a Processor that moves messages into ClickHouse as opaque
// strings, without decoding or tagging, through the same consumer, batching
// and acking: the baseline of `govlisten bench`.
func NewRaw(conn *bus.Conn, raw RawInserter, cfg *config.Config, log *slog.Logger) *Processor {
	return &Processor{conn: conn, raw: raw, cfg: cfg.Process, cons: cfg.NATS.Consumer.Name, log: log}
}

// New returns a Processor for the consumer named in cfg.
func New(conn *bus.Conn, store Inserter, tax *Taxonomy, cfg *config.Config, log *slog.Logger) *Processor {
	return &Processor{conn: conn, store: store, tax: tax, cfg: cfg.Process, cons: cfg.NATS.Consumer.Name, log: log}
}

// result is one message after decode and tag.
type result struct {
	msg    jetstream.Msg
	row    sink.Row
	reason string // DLQ reason; empty when row is good
	err    error
}

// Run processes until ctx is cancelled, or, with once, until the consumer
// has nothing pending. It returns nil after a clean shutdown; an error means
// it could not consume at all (never a ClickHouse outage, which it waits out).
func (p *Processor) Run(ctx context.Context, once bool) error {
	cons, err := p.conn.JS.Consumer(ctx, bus.StreamMentions, p.cons)
	if err != nil {
		return fmt.Errorf("consumer %s on %s: %w", p.cons, bus.StreamMentions, err)
	}
	size := p.cfg.BatchSize
	it, err := cons.Messages(jetstream.PullMaxMessages(size), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("pulling from %s: %w", p.cons, err)
	}
	workers := p.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Small hand-off buffers: the iterator already buffers up to a batch,
	// and every message held costs memory.
	msgs := make(chan jetstream.Msg, 64*workers)
	results := make(chan result, 64*workers)

	// Owner: the puller stops when the iterator is stopped or drained, and
	// closes msgs; the workers close results when msgs is done.
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					p.log.Error("pulling messages", "stream", bus.StreamMentions, "consumer", p.cons, "err", err)
				}
				return
			}
			msgs <- m
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range msgs {
				results <- p.prepare(m)
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	stop := func() { it.Drain() }
	stopped := false
	go func() {
		<-ctx.Done()
		stop()
	}()

	// Inserters own batches once sent on toInsert: inserts run while the
	// next batch fills, so tagging and ClickHouse work overlap, and several
	// inserts may be in flight (ClickHouse takes them in parallel). At most
	// inserters+1 batches are held, which bounds memory. After a failed
	// insert an inserter waits out the backoff before taking the next
	// batch, which holds the pipeline back while ClickHouse is down.
	inserters := max(p.cfg.Inserters, 1)
	toInsert := make(chan []result)
	var insertWG sync.WaitGroup
	for range inserters {
		insertWG.Add(1)
		go func() {
			defer insertWG.Done()
			failures := 0
			for b := range toInsert {
				if p.flush(ctx, b) {
					failures = 0
				} else {
					failures++
					p.wait(ctx, p.backoff(failures))
				}
			}
		}()
	}
	var (
		batch    = make([]result, 0, size)
		timer    = time.NewTimer(time.Hour)
		idleTick = time.NewTicker(100 * time.Millisecond)
	)
	defer timer.Stop()
	defer idleTick.Stop()
	timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		p.Metrics.Received(len(batch))
		toInsert <- batch
		batch = make([]result, 0, size)
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				flush()
				close(toInsert)
				insertWG.Wait()
				_ = p.conn.NC.Flush()
				return nil
			}
			if len(batch) == 0 {
				timer.Reset(p.cfg.BatchTimeout.D())
			}
			batch = append(batch, r)
			if len(batch) >= size {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-idleTick.C:
			if once && !stopped && len(batch) == 0 && p.drained(ctx, cons) {
				stopped = true
				stop()
			}
		}
	}
}

// drained says whether the consumer has nothing left: no message waiting
// and none delivered but unacknowledged (ours included, so messages buffered
// in this process count until they are stored).
func (p *Processor) drained(ctx context.Context, cons jetstream.Consumer) bool {
	if err := p.conn.NC.Flush(); err != nil { // our acks reach the server first
		return false
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return false
	}
	return info.NumPending == 0 && info.NumAckPending == 0
}

// prepare decodes and tags one message.
func (p *Processor) prepare(m jetstream.Msg) result {
	p.Stats.Received.Add(1)
	if p.raw != nil {
		return result{msg: m}
	}
	rec, err := mention.Decode(m.Data())
	if err != nil {
		reason := ReasonInvalid
		if errors.Is(err, mention.ErrUndecodable) {
			reason = ReasonUndecodable
		}
		return result{msg: m, reason: reason, err: err}
	}
	tg := p.tax.Current()
	tags := tg.Tag(rec)
	p.Privacy.Apply(rec) // a nil Pseudonymiser does nothing
	return result{msg: m, row: sink.Row{M: rec, Tags: tags, Taxonomy: tg.Version}}
}

// flush stores one batch and settles every message in it. It reports
// whether the insert succeeded.
func (p *Processor) flush(ctx context.Context, batch []result) bool {
	rows := make([]sink.Row, 0, len(batch))
	good := make([]jetstream.Msg, 0, len(batch))
	for _, r := range batch {
		if r.reason != "" {
			p.deadLetter(ctx, r)
			continue
		}
		rows = append(rows, r.row)
		good = append(good, r.msg)
	}
	if len(rows) == 0 {
		return true
	}
	// The insert gets its own deadline and is not cancelled by shutdown:
	// the open batch is flushed before the process exits.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	var err error
	start := time.Now()
	if p.raw != nil {
		data := make([][]byte, len(good))
		for i, m := range good {
			data[i] = m.Data()
		}
		err = p.raw.InsertRaw(ictx, data)
	} else {
		err = p.store.Insert(ictx, rows)
	}
	cancel()
	took := time.Since(start)
	if err != nil {
		p.Metrics.InsertFailed(len(rows), took)
		p.Stats.InsertErrors.Add(1)
		delivered := uint64(1)
		if md, mdErr := good[0].Metadata(); mdErr == nil {
			delivered = md.NumDelivered
		}
		delay := p.backoff(int(delivered))
		p.log.Warn("insert failed; batch will be redelivered", "mentions", len(rows), "consumer", p.cons, "delivered", delivered, "retry_in", delay.Round(time.Millisecond), "err", err)
		for _, m := range good {
			_ = m.NakWithDelay(delay)
		}
		return false
	}
	for _, m := range good {
		_ = m.Ack()
	}
	p.Stats.Inserted.Add(int64(len(rows)))
	p.Stats.Batches.Add(1)
	p.Metrics.Inserted(len(rows), took)
	p.log.Debug("batch stored", "mentions", len(rows), "took", took.Round(time.Millisecond))
	return true
}

// deadLetter publishes a message that can never be stored to the DLQ, then
// terminates it. If the DLQ publish fails, the message is retried later.
func (p *Processor) deadLetter(ctx context.Context, r result) {
	subject := r.msg.Subject()
	platform := subjectPlatform(subject)
	out := nats.NewMsg(bus.DLQPrefix + r.reason)
	out.Data = r.msg.Data()
	out.Header.Set(bus.HeaderReason, r.err.Error())
	out.Header.Set(bus.HeaderOriginalSubject, subject)
	out.Header.Set(bus.HeaderFailedAt, time.Now().UTC().Format(time.RFC3339))
	// Each per-message log line names the message: its Nats-Msg-Id (when
	// the publisher set one), subject and stream sequence.
	log := p.log.With("reason", r.reason, "platform", platform, "subject", subject, "msg_id", r.msg.Headers().Get(jetstream.MsgIDHeader))
	msgID := "dlq:" + subject
	if md, err := r.msg.Metadata(); err == nil {
		seq := strconv.FormatUint(md.Sequence.Stream, 10)
		out.Header.Set(bus.HeaderOriginalSeq, seq)
		msgID = "dlq:" + md.Stream + ":" + seq
		log = log.With("stream_seq", md.Sequence.Stream, "delivered", md.NumDelivered)
	}
	out.Header.Set(jetstream.MsgIDHeader, msgID)
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := p.conn.JS.PublishMsg(pctx, out); err != nil {
		log.Warn("dead-letter publish failed; message will be retried", "err", err)
		_ = r.msg.NakWithDelay(p.backoff(2))
		return
	}
	_ = r.msg.Term()
	p.Stats.DeadLettered.Add(1)
	p.Metrics.DeadLettered(r.reason, platform)
	log.Info("dead-lettered", "detail", r.err.Error())
}

// subjectPlatform is the platform token of a subject
// govlisten.mentions.<platform>.<kind>, or "" for any other subject.
func subjectPlatform(subject string) string {
	rest, ok := strings.CutPrefix(subject, "govlisten.mentions.")
	if !ok {
		return ""
	}
	platform, _, _ := strings.Cut(rest, ".")
	return platform
}

// backoff is the delay after the n-th consecutive failure: retry_min
// doubled each time up to retry_max, with ±20% jitter so replicas do not
// retry in step.
func (p *Processor) backoff(n int) time.Duration {
	d := p.cfg.RetryMin.D()
	for i := 1; i < n && d < p.cfg.RetryMax.D(); i++ {
		d *= 2
	}
	d = min(d, p.cfg.RetryMax.D())
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (p *Processor) wait(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
