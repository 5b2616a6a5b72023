package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// BenchLatencyCmd is `govlisten bench latency`.
type BenchLatencyCmd struct {
	BenchCommon
	BenchLatencyOpts
}

// BenchLatencyOpts shape the latency section.
type BenchLatencyOpts struct {
	Rate          int           `help:"Mentions published per second." default:"5000"`
	Duration      time.Duration `help:"How long to publish." default:"60s"`
	Poll          time.Duration `help:"How often to ask ClickHouse which mentions have become visible." default:"50ms"`
	FloorDuration time.Duration `help:"How long the direct-insert floor runs, at the same rate (0: not at all)." default:"15s"`
	Drain         time.Duration `help:"How long after the last publish every mention must have become visible; the run fails otherwise." default:"60s"`
}

// Help explains the figures.
func (c *BenchLatencyCmd) Help() string {
	return "Publishes synthetic mentions at a steady rate for a bounded time, each with its publish time, while `govlisten process` (a child process, default batch settings) stores them, and polls ClickHouse for newly visible ids to stamp the time each became visible (stamped when the poll returns, so up to one poll interval late). Every published mention must become visible. Floors measured in the same run: the JetStream publish-ack round trip of the same publishes, and, in a second phase, mentions inserted straight into ClickHouse every 100 ms at the same rate, stamped from their due time to visible by the same poller."
}

// Run benchmarks latency.
func (c *BenchLatencyCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "latency", func(e *benchEnv, res *benchResults) (err error) {
		res.Latency, err = benchLatency(ctx, e, c.BenchLatencyOpts)
		return err
	})
}

// latencyStats summarise latencies in milliseconds.
type latencyStats struct {
	Measured int     `json:"measured"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Mean     float64 `json:"mean_ms"`
}

func newLatencyStats(ds []time.Duration) latencyStats {
	s := sortedDurations(ds)
	if len(s) == 0 {
		return latencyStats{}
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return latencyStats{Measured: len(s), P50: msOf(quantile(s, 0.5)), P99: msOf(quantile(s, 0.99)), Max: msOf(s[len(s)-1]), Mean: msOf(sum / time.Duration(len(s)))}
}

type latencyResult struct {
	Rate           int          `json:"rate"`
	Seconds        float64      `json:"publish_seconds"`
	Published      int          `json:"published"`
	AchievedRate   float64      `json:"achieved_rate"`
	PollMS         float64      `json:"poll_ms"`
	BatchSize      int          `json:"batch_size"`
	BatchTimeoutMS float64      `json:"batch_timeout_ms"`
	PublishToRow   latencyStats `json:"publish_to_row"`
	PublishAck     latencyStats `json:"publish_ack"`            // floor: JetStream publish-ack round trip
	DirectInsert   latencyStats `json:"direct_insert,omitzero"` // floor: insert every 100 ms, due to visible
	// CPU seconds during the publishing run: the processor's, the
	// ClickHouse server's and the NATS server's (the bench process's when
	// in-process; it also publishes and polls). -1: unknown.
	ProcessorCPU  float64 `json:"processor_cpu_seconds"`
	ClickHouseCPU float64 `json:"clickhouse_cpu_seconds"`
	NATSCPU       float64 `json:"nats_cpu_seconds"`
	TargetP99MS   float64 `json:"target_p99_ms"`
	Met           bool    `json:"targets_met"`
}

// latencyIDPrefix and latencyIDWidth make ids whose string order is their
// publish order, so the poller asks only for ids from the oldest unseen on.
const (
	latencyIDPrefix = "lat"
	latencyIDWidth  = 10
)

func latencyID(i int) string {
	s := strconv.Itoa(i)
	for len(s) < latencyIDWidth {
		s = "0" + s
	}
	return latencyIDPrefix + s
}

func benchLatency(ctx context.Context, e *benchEnv, o BenchLatencyOpts) (*latencyResult, error) {
	n := int(float64(o.Rate) * o.Duration.Seconds())
	if o.Rate <= 0 || n <= 0 || o.Poll <= 0 || o.Drain <= 0 {
		return nil, errors.New("--rate, --duration, --poll and --drain must be positive")
	}
	if _, err := e.bus(ctx); err != nil {
		return nil, err
	}
	if err := e.clickhouse(ctx); err != nil {
		return nil, err
	}
	res := &latencyResult{Rate: o.Rate, Published: n, PollMS: float64(o.Poll) / float64(time.Millisecond),
		BatchSize: e.cfg.Process.BatchSize, BatchTimeoutMS: float64(e.cfg.Process.BatchTimeout.D()) / float64(time.Millisecond), TargetP99MS: 5000}
	section(fmt.Sprintf("latency: %s mentions/s for %s into `govlisten process` (batch %d, timeout %s), ClickHouse polled every %s",
		num(float64(o.Rate)), o.Duration, res.BatchSize, e.cfg.Process.BatchTimeout.D(), o.Poll))
	tmpl := latencyTemplates(64)
	if err := latencyProcess(ctx, e, o, n, tmpl, res); err != nil {
		return nil, err
	}
	if o.FloorDuration > 0 {
		if err := latencyDirect(ctx, e, o, tmpl, res); err != nil {
			return nil, fmt.Errorf("direct-insert floor: %w", err)
		}
	}
	res.Met = res.PublishToRow.P99 < res.TargetP99MS
	t := newTable(os.Stdout, "", "measured", "p50", "p99", "max", "mean", "target")
	row := func(name string, s latencyStats, target string) {
		t.row(name, num(float64(s.Measured)), millis(s.P50), millis(s.P99), millis(s.Max), millis(s.Mean), target)
	}
	row("publish → row visible, through process", res.PublishToRow, fmt.Sprintf("p99 < 5,000 ms: %s", met(res.Met)))
	row("floor: JetStream publish → ack", res.PublishAck, "")
	if res.DirectInsert.Measured > 0 {
		row("floor: direct insert every 100 ms → visible", res.DirectInsert, "")
	}
	t.flush()
	fmt.Printf("published %s at %s/s (asked %s/s); during the run, CPU-s: processor %s, ClickHouse %s, NATS%s %s\n",
		num(float64(n)), num(res.AchievedRate), num(float64(o.Rate)), secs(res.ProcessorCPU), secs(res.ClickHouseCPU),
		map[bool]string{true: " (in the bench process, which also publishes and polls)"}[e.natsKind == "in-process"], secs(res.NATSCPU))
	return res, nil
}

// latencyTemplate is a mention's JSON with a placeholder id, where each
// publish writes its own.
type latencyTemplate struct {
	m    *mention.Mention
	data []byte
	at   int // index of the id in data
}

func latencyTemplates(k int) []latencyTemplate {
	g := synth.New(5000)
	placeholder := latencyIDPrefix + string(bytes.Repeat([]byte{'#'}, latencyIDWidth))
	out := make([]latencyTemplate, k)
	for i := range out {
		m := g.Next()
		m.ID = placeholder
		data, _ := json.Marshal(m)
		out[i] = latencyTemplate{m: m, data: data, at: bytes.Index(data, []byte(`"id":"`+placeholder)) + len(`"id":"`)}
	}
	return out
}

// latencyProcess is the main run: publish at o.Rate for o.Duration while a
// processor child stores, and stamp each mention's publish, ack and
// visible times.
func latencyProcess(ctx context.Context, e *benchEnv, o BenchLatencyOpts, n int, tmpl []latencyTemplate, res *latencyResult) error {
	conn, err := e.bus(ctx)
	if err != nil {
		return err
	}
	db := fmt.Sprintf("bench_latency_%d", time.Now().Unix())
	st, err := e.store(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	defer e.dropDatabase(ctx, db)
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if err := e.purge(ctx); err != nil {
		return err
	}

	// The processor: a real child process with the default batch settings.
	cmd := exec.CommandContext(ctx, e.self, "process", "--no-migrate")
	cmd.Env = e.childEnv(db)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	defer stop()
	// Ready when it has a pull request waiting on the consumer.
	for deadline := time.Now().Add(30 * time.Second); ; {
		info, err := e.consumerInfo(ctx)
		if err == nil && info.NumWaiting > 0 {
			break
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited at start: %v", waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("process did not start pulling within 30s")
		}
	}

	t0 := time.Now()
	vis := newVisibility(st.Conn(), db+".mentions", n, t0)
	stopPoll := vis.start(ctx, o.Poll)
	defer stopPoll()

	// Acks are settled in publish order by one goroutine.
	type pending struct {
		i   int
		fut jetstream.PubAckFuture
	}
	pubAt, ackAt := make([]time.Duration, n), make([]time.Duration, n)
	futs := make(chan pending, 1<<16)
	var ackErr error
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for p := range futs {
			select {
			case <-p.fut.Ok():
				ackAt[p.i] = time.Since(t0)
			case err := <-p.fut.Err():
				if ackErr == nil {
					ackErr = fmt.Errorf("publish %d: %w", p.i, err)
				}
			}
		}
	}()
	before := e.cpu()
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	tick := time.NewTicker(2 * time.Millisecond)
	sent := 0
	var pubErr error
publish:
	for sent < n {
		select {
		case <-ctx.Done():
			pubErr = ctx.Err()
			break publish
		case <-exited:
			pubErr = fmt.Errorf("process exited while publishing: %v", waitErr)
			break publish
		case <-tick.C:
		}
		due := min(n, int(float64(o.Rate)*time.Since(t0).Seconds()))
		for ; sent < due; sent++ {
			tp := tmpl[sent%len(tmpl)]
			msg := nats.NewMsg(tp.m.Subject())
			msg.Data = append([]byte(nil), tp.data...)
			copy(msg.Data[tp.at:], latencyID(sent))
			msg.Header.Set(jetstream.MsgIDHeader, runID+":"+strconv.Itoa(sent))
			pubAt[sent] = time.Since(t0)
			fut, err := conn.JS.PublishMsgAsync(msg)
			if err != nil {
				pubErr = fmt.Errorf("publish %d: %w", sent, err)
				break publish
			}
			futs <- pending{sent, fut}
		}
	}
	tick.Stop()
	res.Seconds = time.Since(t0).Seconds()
	res.AchievedRate = float64(sent) / res.Seconds
	close(futs)
	<-acked
	if pubErr != nil {
		return pubErr
	}
	if ackErr != nil {
		return ackErr
	}
	// Every mention must become visible.
	deadline := time.Now().Add(o.Drain)
	for vis.seenCount() < n {
		select {
		case <-exited:
			return fmt.Errorf("process exited with %d of %d mentions visible: %v", vis.seenCount(), n, waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-vis.done:
			if err := stopPoll(); err != nil {
				return err
			}
		case <-time.After(o.Poll):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d published mentions became visible in ClickHouse within %s of the last publish (first missing: %s)",
				vis.seenCount(), n, o.Drain, latencyID(vis.firstUnseen()))
		}
	}
	after := e.cpu()
	if err := stopPoll(); err != nil {
		return err
	}
	stop()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.ProcessorCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	res.ClickHouseCPU, res.NATSCPU = e.clickhouseCPU(before, after), e.natsCPU(before, after)
	lat, rtt := make([]time.Duration, n), make([]time.Duration, n)
	for i := range n {
		lat[i] = vis.seen[i] - pubAt[i]
		rtt[i] = ackAt[i] - pubAt[i]
	}
	res.PublishToRow, res.PublishAck = newLatencyStats(lat), newLatencyStats(rtt)
	return nil
}

// latencyDirect is the floor: mentions due at o.Rate inserted straight
// into ClickHouse every 100 ms, each stamped from its due time to visible.
func latencyDirect(ctx context.Context, e *benchEnv, o BenchLatencyOpts, tmpl []latencyTemplate, res *latencyResult) error {
	n := int(float64(o.Rate) * o.FloorDuration.Seconds())
	if n <= 0 {
		return nil
	}
	db := fmt.Sprintf("bench_latency_floor_%d", time.Now().Unix())
	st, err := e.store(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	defer e.dropDatabase(ctx, db)
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	vis := newVisibility(st.Conn(), db+".mentions", n, t0)
	stopPoll := vis.start(ctx, o.Poll)
	defer stopPoll()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	tags := tagger.Tags{Lang: "en", Sentiment: tagger.Score{Label: tagger.Neutral}}
	for sent := 0; sent < n; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		due := min(n, int(float64(o.Rate)*time.Since(t0).Seconds()))
		rows := make([]sink.Row, 0, due-sent)
		for ; sent < due; sent++ {
			m := *tmpl[sent%len(tmpl)].m
			m.ID = latencyID(sent)
			rows = append(rows, sink.Row{M: &m, Tags: tags, Taxonomy: "bench"})
		}
		if err := st.Insert(ctx, rows); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(o.Drain)
	for vis.seenCount() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-vis.done:
			if err := stopPoll(); err != nil {
				return err
			}
		case <-time.After(o.Poll):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d inserted mentions became visible within %s", vis.seenCount(), n, o.Drain)
		}
	}
	if err := stopPoll(); err != nil {
		return err
	}
	lat := make([]time.Duration, n)
	for i := range n {
		due := time.Duration(float64(i) / float64(o.Rate) * float64(time.Second))
		lat[i] = vis.seen[i] - due
	}
	res.DirectInsert = newLatencyStats(lat)
	return nil
}

// visibility stamps when each of n mentions, ids latencyID(0..n-1), first
// appears in a table, by polling it. Its methods are safe for concurrent
// use; seen is for reading after the poller stopped.
type visibility struct {
	conn  driver.Conn
	table string
	t0    time.Time
	done  chan struct{} // closed when the poller stops: all seen, an error, or stopped

	mu    sync.Mutex
	seen  []time.Duration // since t0; 0: not yet
	count int
	low   int // every index below is seen
}

func newVisibility(conn driver.Conn, table string, n int, t0 time.Time) *visibility {
	return &visibility{conn: conn, table: table, t0: t0, seen: make([]time.Duration, n), done: make(chan struct{})}
}

// start polls every interval, in a goroutine, until every mention is seen,
// a poll fails or stop is called. stop waits for the poller and returns
// the failure, if any; it may be called more than once.
func (v *visibility) start(ctx context.Context, interval time.Duration) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	var err error
	go func() {
		defer close(v.done)
		err = v.run(ctx, interval)
	}()
	return sync.OnceValue(func() error {
		cancel()
		<-v.done
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
}

func (v *visibility) seenCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.count
}

func (v *visibility) firstUnseen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.low
}

// run polls every interval until ctx ends or every mention is seen.
func (v *visibility) run(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := v.poll(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if v.seenCount() == len(v.seen) {
			return nil
		}
	}
}

// poll reads the ids from the oldest unseen on and stamps the new ones with
// the time the answer arrived.
func (v *visibility) poll(ctx context.Context) error {
	low := latencyID(v.firstUnseen())
	rows, err := v.conn.Query(ctx, "SELECT id FROM "+v.table+" WHERE id >= '"+low+"'")
	if err != nil {
		return fmt.Errorf("polling %s: %w", v.table, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Since(v.t0)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		i, err := strconv.Atoi(id[len(latencyIDPrefix):])
		if err != nil || i < 0 || i >= len(v.seen) {
			continue
		}
		if v.seen[i] == 0 {
			v.seen[i] = now
			v.count++
		}
	}
	for v.low < len(v.seen) && v.seen[v.low] != 0 {
		v.low++
	}
	return nil
}
