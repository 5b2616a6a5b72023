package telemetry

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govlisten/govlisten/bus"
)

// Processor is the processors' metrics. Every label child is resolved when
// it is created, so an update is an atomic add or one histogram
// observation, made once per batch (once per message only for a dead
// letter). A nil *Processor counts nothing.
type Processor struct {
	received, inserted, insertErrors prometheus.Counter
	batchRows                        prometheus.Observer
	insertOK, insertFailed           prometheus.Observer
	// deadLettered[reason][platform], indexes into Reasons and Platforms,
	// the last of each being Other.
	deadLettered [][]prometheus.Counter
}

// batchRowsBuckets cover batches from one mention to several times the
// default batch size (100,000).
var batchRowsBuckets = []float64{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000}

// insertBuckets cover an insert from a few milliseconds to the two-minute
// deadline the processor gives it.
var insertBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

func newProcessor(reg prometheus.Registerer) *Processor {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	p := &Processor{
		received:     counter("processor_received_total", "Messages delivered to the processor from stream MENTIONS (a redelivery counts again)."),
		inserted:     counter("processor_inserted_total", "Mentions stored in ClickHouse and acknowledged."),
		insertErrors: counter("processor_insert_errors_total", "Inserts that failed; their batch is redelivered with backoff."),
	}
	rows := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "processor_batch_rows",
		Help: "Rows per ClickHouse insert.", Buckets: batchRowsBuckets})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "processor_insert_duration_seconds",
		Help: "Time of one ClickHouse insert, by result: ok or error.", Buckets: insertBuckets}, []string{"result"})
	dlq := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "processor_dead_lettered_total",
		Help: "Messages sent to the DLQ, by reason (undecodable, invalid) and the platform of their subject."}, []string{"reason", "platform"})
	reg.MustRegister(rows, dur, dlq)
	p.batchRows = rows
	p.insertOK, p.insertFailed = dur.WithLabelValues("ok"), dur.WithLabelValues("error")
	for _, r := range append(append([]string{}, Reasons...), Other) {
		var row []prometheus.Counter
		for _, pl := range append(append([]string{}, Platforms...), Other) {
			row = append(row, dlq.WithLabelValues(r, pl))
		}
		p.deadLettered = append(p.deadLettered, row)
	}
	return p
}

// Processor returns the processors' metrics. Every call returns the same
// value: processors in one process add to the same counters.
func (t *Telemetry) Processor() *Processor {
	if t == nil {
		return nil
	}
	return t.processor
}

// Received counts n messages handed to a batch.
func (p *Processor) Received(n int) {
	if p != nil {
		p.received.Add(float64(n))
	}
}

// Inserted records a successful insert of rows that took took.
func (p *Processor) Inserted(rows int, took time.Duration) {
	if p == nil {
		return
	}
	p.inserted.Add(float64(rows))
	p.batchRows.Observe(float64(rows))
	p.insertOK.Observe(took.Seconds())
}

// InsertFailed records a failed insert of rows that took took.
func (p *Processor) InsertFailed(rows int, took time.Duration) {
	if p == nil {
		return
	}
	p.insertErrors.Inc()
	p.batchRows.Observe(float64(rows))
	p.insertFailed.Observe(took.Seconds())
}

// DeadLettered counts one message sent to the DLQ. reason and platform
// outside Reasons and Platforms count as Other.
func (p *Processor) DeadLettered(reason, platform string) {
	if p != nil {
		p.deadLettered[indexOf(reason, Reasons)][indexOf(platform, Platforms)].Inc()
	}
}

// WatchBus makes every scrape read the depth of streams MENTIONS and DLQ
// and the lag of the processors' durable consumer from js: a few JetStream
// API requests per scrape, bounded by scrapeTimeout, instead of a ticker
// that would run when nobody looks. When NATS does not answer, the scrape
// leaves these metrics out. A later call replaces js.
func (t *Telemetry) WatchBus(js jetstream.JetStream, consumer string) {
	if t != nil {
		t.bus.src.Store(&busSource{js: js, consumer: consumer})
	}
}

// scrapeTimeout bounds what one scrape reads from NATS.
const scrapeTimeout = 3 * time.Second

type busSource struct {
	js       jetstream.JetStream
	consumer string
}

type busCollector struct {
	log *slog.Logger
	src atomic.Pointer[busSource]
}

var (
	descPending = prometheus.NewDesc(Namespace+"_consumer_pending_messages",
		"Messages on the stream not yet delivered to the durable consumer (num_pending), read on scrape.", []string{"consumer"}, nil)
	descAckPending = prometheus.NewDesc(Namespace+"_consumer_ack_pending_messages",
		"Messages delivered to the consumer and not yet acknowledged (num_ack_pending), read on scrape.", []string{"consumer"}, nil)
	descRedelivered = prometheus.NewDesc(Namespace+"_consumer_redelivered_messages",
		"Unacknowledged messages delivered more than once (num_redelivered), read on scrape.", []string{"consumer"}, nil)
	descStreamMsgs = prometheus.NewDesc(Namespace+"_stream_messages",
		"Messages in the stream (MENTIONS, DLQ), read on scrape.", []string{"stream"}, nil)
	descStreamBytes = prometheus.NewDesc(Namespace+"_stream_bytes",
		"Bytes in the stream (MENTIONS, DLQ), read on scrape.", []string{"stream"}, nil)
	descDLQ = prometheus.NewDesc(Namespace+"_dlq_messages",
		"Messages in stream DLQ by reason (the subject's last token), read on scrape.", []string{"reason"}, nil)
)

func (c *busCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descAckPending, descRedelivered, descStreamMsgs, descStreamBytes, descDLQ} {
		ch <- d
	}
}

func (c *busCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v uint64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), label)
	}
	if cons, err := src.js.Consumer(ctx, bus.StreamMentions, src.consumer); err != nil {
		c.log.Debug("scrape: reading the consumer", "consumer", src.consumer, "err", err)
	} else if info := cons.CachedInfo(); info != nil {
		gauge(descPending, info.NumPending, src.consumer)
		gauge(descAckPending, uint64(info.NumAckPending), src.consumer)
		gauge(descRedelivered, uint64(info.NumRedelivered), src.consumer)
	}
	if s, err := src.js.Stream(ctx, bus.StreamMentions); err != nil {
		c.log.Debug("scrape: reading the stream", "stream", bus.StreamMentions, "err", err)
	} else {
		st := s.CachedInfo().State
		gauge(descStreamMsgs, st.Msgs, bus.StreamMentions)
		gauge(descStreamBytes, st.Bytes, bus.StreamMentions)
	}
	dlq, err := bus.ReadDLQ(ctx, src.js)
	if err != nil {
		c.log.Debug("scrape: reading the DLQ", "err", err)
		return
	}
	gauge(descStreamMsgs, dlq.Messages, bus.StreamDLQ)
	gauge(descStreamBytes, dlq.Bytes, bus.StreamDLQ)
	byReason := map[string]uint64{}
	for _, r := range Reasons {
		byReason[r] = 0
	}
	for reason, n := range dlq.ByReason {
		byReason[oneOf(reason, Reasons)] += n
	}
	for reason, n := range byReason {
		gauge(descDLQ, n, reason)
	}
}
