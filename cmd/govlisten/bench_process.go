package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/sink"
)

// BenchProcessCmd is `govlisten bench [process]`.
type BenchProcessCmd struct {
	BenchCommon
	BenchProcessOpts
}

// BenchProcessOpts size the process section.
type BenchProcessOpts struct {
	N          int           `help:"Mentions per run." default:"500000"`
	Rounds     int           `help:"Runs of each of baseline and process, alternating; the best of each is reported." default:"3"`
	BatchSize  int           `help:"process.batch_size for both." default:"100000"`
	Spread     time.Duration `help:"The mentions' creation times are spread over this span: the backlog of a processor that was stopped that long (the rollups' part of the insert grows with the hours and days a batch spans; 480h is the worst case, a bulk import of history)." default:"24h"`
	Settle     time.Duration `help:"Pause between filling the stream and the timed run, for the servers to finish the fill." default:"3s"`
	CPUProfile string        `help:"Write a CPU profile of each process run to FILE.ROUND, for go tool pprof." placeholder:"FILE"`
}

// BenchRawCmd is the baseline worker.
type BenchRawCmd struct {
	NATSFlag
	ClickHouseFlag
}

// Help explains the figures.
func (c *BenchProcessCmd) Help() string {
	return "Measures `govlisten process` from a pre-filled stream into ClickHouse, beside a raw baseline measured in the same run: the same messages moved from the stream into ClickHouse as opaque strings through the same consumer, batching and acks, without decoding or tagging. Each run is a separate process (`process --once`), timed from start to exit, with its peak RSS and CPU, and the CPU the ClickHouse server and the NATS server used meanwhile. Without --nats and --clickhouse it starts its own in-process NATS and private ClickHouse in a temporary directory."
}

// Run benchmarks.
func (c *BenchProcessCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "process", func(e *benchEnv, res *benchResults) (err error) {
		res.Process, err = benchProcess(ctx, e, c.BenchProcessOpts)
		return err
	})
}

// processRun is one timed run of the worker or the processor.
type processRun struct {
	Mode      string  `json:"mode"` // baseline or process
	Round     int     `json:"round"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"mentions_per_second"`
	PeakRSSMB float64 `json:"peak_rss_mib"`
	// CPUSecs is the child's (processor's or raw worker's) CPU.
	CPUSecs float64 `json:"cpu_seconds"`
	// ClickHouseCPU is the ClickHouse server's CPU during the run (-1 when
	// its process is not on this host), NATSCPU the NATS server's: the
	// bench process's own when NATS runs in it.
	ClickHouseCPU float64 `json:"clickhouse_cpu_seconds"`
	NATSCPU       float64 `json:"nats_cpu_seconds"`
}

type processResult struct {
	N           int          `json:"mentions"`
	MeanBytes   int          `json:"mean_message_bytes"`
	BatchSize   int          `json:"batch_size"`
	Spread      string       `json:"spread"`
	Compression string       `json:"compression"`
	Runs        []processRun `json:"runs"`
	Baseline    float64      `json:"baseline_mentions_per_second"` // best of the rounds
	Process     float64      `json:"process_mentions_per_second"`  // best of the rounds
	Ratio       float64      `json:"ratio"`                        // of the bests
	RoundRatios []float64    `json:"round_ratios"`                 // process / baseline of each round
	MedianRatio float64      `json:"median_round_ratio"`
	PeakRSSMB   float64      `json:"process_peak_rss_mib"` // the highest of the process runs
	// Median CPU seconds of the process runs: the processor's, the
	// ClickHouse server's and the NATS server's (-1: unknown).
	ProcessorCPU  float64 `json:"process_cpu_seconds"`
	ClickHouseCPU float64 `json:"process_clickhouse_cpu_seconds"`
	NATSCPU       float64 `json:"process_nats_cpu_seconds"`
	TargetPerSec  float64 `json:"target_mentions_per_second"`
	TargetRatio   float64 `json:"target_ratio"`
	Met           bool    `json:"targets_met"`
}

// benchProcess fills the stream with o.N synthetic mentions before each
// run and times the raw baseline and the processor, alternating.
func benchProcess(ctx context.Context, e *benchEnv, o BenchProcessOpts) (*processResult, error) {
	if o.N <= 0 || o.Rounds <= 0 {
		return nil, fmt.Errorf("--n and --rounds must be positive")
	}
	conn, err := e.bus(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.clickhouse(ctx); err != nil {
		return nil, err
	}
	gen := synth.New(2026).Spread(o.Spread)
	msgs := make([][]byte, o.N)
	total := 0
	for i := range msgs {
		msgs[i] = gen.Line()
		total += len(msgs[i])
	}
	res := &processResult{N: o.N, MeanBytes: total / o.N, BatchSize: o.BatchSize, Spread: o.Spread.String(), TargetPerSec: 50_000, TargetRatio: 0.6}
	res.Compression = sink.WireCompression(e.cfg.ClickHouse.Compression, e.dsn("govlisten"))
	section(fmt.Sprintf("process: %s mentions of %d bytes on average, posted over %s, from a pre-filled stream into ClickHouse, batch %d, insert compression %s, %s",
		num(float64(o.N)), res.MeanBytes, o.Spread, o.BatchSize, res.Compression, rounds(o.Rounds)))
	fmt.Println("baseline: the same messages moved raw (opaque strings, same consumer, batching and acks, no decode or tag); each run a separate process timed from start to exit")
	fmt.Printf("%-8s %5s %12s %8s %14s %14s %14s %9s\n", "run", "round", "mentions/s", "seconds", "own CPU-s", "ClickHouse", "NATS", "peak RSS")
	for round := 1; round <= o.Rounds; round++ {
		for _, mode := range []string{"baseline", "process"} {
			run, err := processOnce(ctx, e, conn.JS, o, msgs, mode, round)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", mode, round, err)
			}
			res.Runs = append(res.Runs, run)
			fmt.Printf("%-8s %5d %12s %8.2f %14s %14s %14s %5.0f MiB\n", mode, round, num(run.PerSecond), run.Seconds,
				secs(run.CPUSecs), secs(run.ClickHouseCPU), secs(run.NATSCPU), run.PeakRSSMB)
		}
		n := len(res.Runs)
		res.RoundRatios = append(res.RoundRatios, res.Runs[n-1].PerSecond/res.Runs[n-2].PerSecond)
	}
	best := map[string]processRun{}
	var cpu, chCPU, natsCPU []float64
	var baseCPU, baseCH, baseNATS []float64
	for _, r := range res.Runs {
		if r.PerSecond > best[r.Mode].PerSecond {
			best[r.Mode] = r
		}
		if r.Mode == "process" {
			res.PeakRSSMB = max(res.PeakRSSMB, r.PeakRSSMB)
			cpu, chCPU, natsCPU = append(cpu, r.CPUSecs), append(chCPU, r.ClickHouseCPU), append(natsCPU, r.NATSCPU)
		} else {
			baseCPU, baseCH, baseNATS = append(baseCPU, r.CPUSecs), append(baseCH, r.ClickHouseCPU), append(baseNATS, r.NATSCPU)
		}
	}
	res.Baseline, res.Process = best["baseline"].PerSecond, best["process"].PerSecond
	res.Ratio = res.Process / res.Baseline
	res.MedianRatio = median(res.RoundRatios)
	res.ProcessorCPU, res.ClickHouseCPU, res.NATSCPU = median(cpu), median(chCPU), median(natsCPU)
	res.Met = res.Process >= res.TargetPerSec && res.MedianRatio >= res.TargetRatio

	var basePeak float64
	for _, r := range res.Runs {
		if r.Mode == "baseline" {
			basePeak = max(basePeak, r.PeakRSSMB)
		}
	}
	perMention := func(s float64) string {
		if s < 0 {
			return "-"
		}
		return fmt.Sprintf("%s (%.1f µs/mention)", secs(s), s/float64(o.N)*1e6)
	}
	fmt.Println()
	t := newTable(os.Stdout, "", "process", "baseline (raw)", "ratio", "target")
	t.row("mentions/s, best of the rounds", num(res.Process), num(res.Baseline), ratio(res.Process, res.Baseline),
		fmt.Sprintf(">= 50,000: %s", met(res.Process >= res.TargetPerSec)))
	t.row("median of the rounds' ratios", "", "", fmt.Sprintf("%.2f", res.MedianRatio), fmt.Sprintf(">= 0.60: %s", met(res.MedianRatio >= res.TargetRatio)))
	t.row("peak RSS, highest run", fmt.Sprintf("%.0f MiB", res.PeakRSSMB), fmt.Sprintf("%.0f MiB", basePeak), "", "")
	t.row("own CPU-s per run (median)", perMention(res.ProcessorCPU), perMention(median(baseCPU)), ratio(res.ProcessorCPU, median(baseCPU)), "")
	t.row("ClickHouse server CPU-s (median)", perMention(res.ClickHouseCPU), perMention(median(baseCH)), ratio(res.ClickHouseCPU, median(baseCH)), "")
	natsLabel := "NATS server CPU-s (median)"
	if e.natsKind == "in-process" {
		natsLabel = "NATS CPU-s, in the bench process (median)"
	}
	t.row(natsLabel, perMention(res.NATSCPU), perMention(median(baseNATS)), ratio(res.NATSCPU, median(baseNATS)), "")
	t.flush()
	return res, nil
}

// processOnce fills the stream and times one run of mode in database
// bench_<mode>_<round>_<time>, which it drops afterwards.
func processOnce(ctx context.Context, e *benchEnv, js jetstream.JetStream, o BenchProcessOpts, msgs [][]byte, mode string, round int) (processRun, error) {
	db := fmt.Sprintf("bench_%s_%d_%d", mode, round, time.Now().Unix())
	defer e.dropDatabase(ctx, db) // its background merges would slow the next run
	if err := e.purge(ctx); err != nil {
		return processRun{}, err
	}
	if err := fillStream(ctx, js, msgs, fmt.Sprintf("%s-%d-%d", mode, round, time.Now().UnixNano())); err != nil {
		return processRun{}, err
	}
	args := []string{"process", "--once", "--no-migrate"}
	if o.CPUProfile != "" {
		args = append(args, "--cpu-profile", fmt.Sprintf("%s.%d", o.CPUProfile, round))
	}
	store, err := e.store(ctx, db)
	if err != nil {
		return processRun{}, err
	}
	if mode == "baseline" {
		args = []string{"bench", "raw"}
		err = store.CreateRawTable(ctx)
	} else {
		err = store.Migrate(ctx)
	}
	store.Close()
	if err != nil {
		return processRun{}, err
	}
	// Let the servers finish the fill (JetStream writes, ClickHouse
	// merges of the last run) so that neither mode pays for the other.
	time.Sleep(o.Settle)
	before := e.cpu()
	run, err := timeRun(ctx, e.self, args, e.childEnv(db, fmt.Sprintf("GOVLISTEN_PROCESS_BATCH_SIZE=%d", o.BatchSize)))
	after := e.cpu()
	if err != nil {
		return processRun{}, err
	}
	run.Mode, run.Round = mode, round
	run.PerSecond = float64(len(msgs)) / run.Seconds
	run.ClickHouseCPU, run.NATSCPU = e.clickhouseCPU(before, after), e.natsCPU(before, after)
	return run, nil
}

// fillStream publishes msgs onto MENTIONS with ids unique to this run (the
// same mentions are used in every run).
func fillStream(ctx context.Context, js jetstream.JetStream, msgs [][]byte, run string) error {
	pub := collectors.NewPublisher(js, 4096, time.Minute)
	for i, data := range msgs {
		m := nats.NewMsg("govlisten.mentions.bench.post")
		m.Data = data
		m.Header.Set(jetstream.MsgIDHeader, run+":"+strconv.Itoa(i))
		if err := pub.PublishMsg(ctx, m); err != nil {
			return err
		}
	}
	return pub.Wait(ctx)
}

// timeRun runs the binary and returns its wall time, CPU time and peak RSS.
// The peak is VmHWM from /proc, sampled until the process exits: rusage's
// maxrss would count the parent's memory, which a child shares between
// fork and exec.
func timeRun(ctx context.Context, self string, args, env []string) (processRun, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return processRun{}, err
	}
	var peakKB int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			if kb := vmHWM(status); kb > peakKB {
				peakKB = kb
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-sampled
	if err != nil {
		return processRun{}, err
	}
	r := processRun{Seconds: time.Since(start).Seconds(), PeakRSSMB: float64(peakKB) / 1024}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPUSecs = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return r, nil
}

// vmHWM reads the peak resident set size, in KiB, from a /proc status file.
func vmHWM(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb
		}
	}
	return 0
}

// Run is the baseline worker.
func (c *BenchRawCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	conn, err := bus.Connect(ctx, cfg, "bench-raw", os.Getenv, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	return processors.NewRaw(conn, store, cfg, log).Run(ctx, true)
}
