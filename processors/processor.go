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
// Batches and blocks. A batch is one ClickHouse INSERT: up to
// process.batch_size mentions, or what arrived within process.batch_timeout
// of its first. The server writes a batch as one part of mentions and one
// of each rollup, and its work is mostly per part (files created, then
// merged), so large batches cost it far less per mention: 100,000-mention
// batches cost the server about half what 10,000-mention ones do. The
// processor does not hold a batch, though: it sends it on to the open
// insert in blocks of process.block_size as they are tagged, and keeps of
// each sent message only its reply subject, to ack it (or nak it) once the
// insert has ended. Its memory follows the block, not the batch.
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

// Inserter opens inserts into mentions: a *sink.Store.
type Inserter interface {
	Begin(ctx context.Context) (*sink.Insertion, error)
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

// RawInserter opens inserts of messages as opaque strings: the baseline
// that `govlisten bench` measures the processor against.
type RawInserter interface {
	BeginRaw(ctx context.Context) (*sink.RawInsertion, error)
}

var _ RawInserter = (*sink.Store)(nil)

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

	failures atomic.Int64 // consecutive failed inserts, for the backoff
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
	blockSize := p.cfg.BlockSize
	if blockSize <= 0 || blockSize > size {
		blockSize = size
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(blockSize), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("pulling from %s: %w", p.cons, err)
	}
	workers := p.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Small hand-off buffers: the iterator already buffers up to a block,
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

	// Each batch is an insertion, owned by its own goroutine once opened:
	// it receives the batch's blocks, writes them to the open insert, and
	// at the end commits and settles every message. The next batch fills
	// while earlier ones commit; at most inserters+1 are open, one filling
	// and the rest finishing, which bounds memory and the messages in
	// flight. After a failed insert its goroutine waits out the backoff
	// before giving its place up, which holds the pipeline back while
	// ClickHouse is down.
	inserters := max(p.cfg.Inserters, 1)
	slots := make(chan struct{}, inserters+1)
	var insertWG sync.WaitGroup
	var (
		cur      *insertion // the batch filling, nil when none
		blk      = make([]result, 0, blockSize)
		timer    = time.NewTimer(time.Hour)
		idleTick = time.NewTicker(100 * time.Millisecond)
	)
	defer timer.Stop()
	defer idleTick.Stop()
	timer.Stop()
	// send hands the block to the batch filling, opening one if none is.
	send := func() {
		if len(blk) == 0 {
			return
		}
		if cur == nil {
			slots <- struct{}{}
			cur = &insertion{blocks: make(chan []result, 1)}
			insertWG.Add(1)
			go func(in *insertion) {
				defer insertWG.Done()
				defer func() { <-slots }()
				p.insert(ctx, in)
			}(cur)
		}
		p.Metrics.Received(len(blk))
		cur.blocks <- blk
		cur.rows += len(blk)
		blk = make([]result, 0, blockSize)
	}
	// commit ends the batch filling.
	commit := func() {
		timer.Stop()
		send()
		if cur != nil {
			close(cur.blocks)
			cur = nil
		}
	}
	for {
		select {
		case r, ok := <-results:
			if !ok {
				commit()
				insertWG.Wait()
				_ = p.conn.NC.Flush()
				return nil
			}
			if len(blk) == 0 && cur == nil {
				timer.Reset(p.cfg.BatchTimeout.D())
			}
			blk = append(blk, r)
			batch := len(blk)
			if cur != nil {
				batch += cur.rows
			}
			switch {
			case batch >= size:
				commit()
			case len(blk) >= blockSize:
				send()
			}
		case <-timer.C:
			commit()
		case <-idleTick.C:
			if once && !stopped && len(blk) == 0 && cur == nil && p.drained(ctx, cons) {
				stopped = true
				stop()
			}
		}
	}
}

// insertion is one batch on its way to ClickHouse: the main loop sends its
// blocks and closes blocks at the end of the batch.
type insertion struct {
	blocks chan []result
	rows   int // sent so far; the main loop's
}

// writer is an open insert of either kind: rows into mentions, or the
// baseline's opaque strings.
type writer interface {
	write(good []result) error
	commit() error
	abort()
}

type rowWriter struct {
	in   *sink.Insertion
	rows []sink.Row
}

func (w *rowWriter) write(good []result) error {
	w.rows = w.rows[:0]
	for _, r := range good {
		w.rows = append(w.rows, r.row)
	}
	err := w.in.Write(w.rows)
	clear(w.rows) // the block's mentions can go once sent
	return err
}
func (w *rowWriter) commit() error { return w.in.Commit() }
func (w *rowWriter) abort()        { w.in.Abort() }

type rawWriter struct {
	in   *sink.RawInsertion
	data [][]byte
}

func (w *rawWriter) write(good []result) error {
	w.data = w.data[:0]
	for _, r := range good {
		w.data = append(w.data, r.msg.Data())
	}
	err := w.in.Write(w.data)
	clear(w.data)
	return err
}
func (w *rawWriter) commit() error { return w.in.Commit() }
func (w *rawWriter) abort()        { w.in.Abort() }

// begin opens an insert of the Processor's kind.
func (p *Processor) begin(ctx context.Context) (writer, error) {
	if p.raw != nil {
		in, err := p.raw.BeginRaw(ctx)
		if err != nil {
			return nil, err
		}
		return &rawWriter{in: in}, nil
	}
	in, err := p.store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &rowWriter{in: in}, nil
}

// JetStream's acknowledgements, as jetstream.Msg's Ack and NakWithDelay
// publish them to a message's reply subject. An insertion keeps its
// messages' reply subjects, not the messages, until its insert has ended,
// so that a batch of 100,000 holds a few megabytes and not every
// message's data.
var ackAck = []byte("+ACK")

func nakWithDelay(d time.Duration) []byte {
	return fmt.Appendf(nil, `-NAK {"delay": %d}`, d.Nanoseconds())
}

// insert writes one batch, block by block, and settles every message in
// it: dead letters as their block arrives, the rest once the insert has
// ended, acked when it succeeded and naked with backoff when it failed.
func (p *Processor) insert(ctx context.Context, in *insertion) {
	// The insert has its own deadline, long enough for the batch to fill,
	// and is not cancelled by shutdown: the open batch is stored before the
	// process exits.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.BatchTimeout.D()+2*time.Minute)
	defer cancel()
	var (
		w         writer
		err       error
		replies   []string
		delivered = uint64(1)
		good      []result
		took      time.Duration
	)
	for blk := range in.blocks {
		good = good[:0]
		for _, r := range blk {
			if r.reason != "" {
				p.deadLetter(ctx, r)
				continue
			}
			if len(replies) == 0 {
				if md, mdErr := r.msg.Metadata(); mdErr == nil {
					delivered = md.NumDelivered
				}
			}
			replies = append(replies, r.msg.Reply())
			good = append(good, r)
		}
		if err != nil || len(good) == 0 {
			continue
		}
		start := time.Now()
		if w == nil {
			w, err = p.begin(ictx)
		}
		if err == nil {
			err = w.write(good)
		}
		took += time.Since(start)
		clear(good)
	}
	if len(replies) == 0 {
		return
	}
	start := time.Now()
	switch {
	case err == nil:
		err = w.commit()
	case w != nil:
		w.abort()
	}
	took += time.Since(start)
	n := len(replies)
	if err != nil {
		p.Metrics.InsertFailed(n, took)
		p.Stats.InsertErrors.Add(1)
		delay := p.backoff(int(delivered))
		p.log.Warn("insert failed; batch will be redelivered", "mentions", n, "consumer", p.cons, "delivered", delivered, "retry_in", delay.Round(time.Millisecond), "err", err)
		nak := nakWithDelay(delay)
		for _, reply := range replies {
			_ = p.conn.NC.Publish(reply, nak)
		}
		p.wait(ctx, p.backoff(int(p.failures.Add(1))))
		return
	}
	p.failures.Store(0)
	for _, reply := range replies {
		_ = p.conn.NC.Publish(reply, ackAck)
	}
	p.Stats.Inserted.Add(int64(n))
	p.Stats.Batches.Add(1)
	p.Metrics.Inserted(n, took)
	p.log.Debug("batch stored", "mentions", n, "took", took.Round(time.Millisecond))
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
