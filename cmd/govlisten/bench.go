package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/sink"
)

// BenchCmd is `govlisten bench`.
type BenchCmd struct {
	Process BenchProcessCmd `cmd:"" default:"withargs" help:"Throughput of process beside a raw baseline (the default)."`
	Raw     BenchRawCmd     `cmd:"" hidden:"" help:"The baseline: move the stream into ClickHouse as opaque strings (run by bench)."`
}

// BenchProcessCmd is `govlisten bench [process]`.
type BenchProcessCmd struct {
	NATSFlag
	ClickHouseFlag
	N          int    `help:"Mentions per run." default:"500000"`
	Rounds     int    `help:"Runs of each of baseline and process, alternating; the best of each is reported." default:"3"`
	BatchSize  int    `help:"process.batch_size for both." default:"10000"`
	JSON       string `help:"Also write the results as JSON to this file." default:"bench-results/process.json" placeholder:"FILE"`
	CPUProfile string `help:"Write a CPU profile of each process run to FILE.ROUND, for go tool pprof." placeholder:"FILE"`
}

// BenchRawCmd is the baseline worker.
type BenchRawCmd struct {
	NATSFlag
	ClickHouseFlag
}

// Help explains the figures.
func (c *BenchProcessCmd) Help() string {
	return "Measures `govlisten process` from a pre-filled stream into ClickHouse, beside a raw baseline measured in the same run: the same messages moved from the stream into ClickHouse as opaque strings through the same consumer, batching and acks, without decoding or tagging. Each run is a separate process (`process --once`), timed from start to exit, with its peak RSS. Without --nats and --clickhouse it starts its own in-process NATS and private ClickHouse in a temporary directory."
}

type benchRun struct {
	Mode      string  `json:"mode"`
	Round     int     `json:"round"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"mentions_per_second"`
	PeakRSSMB float64 `json:"peak_rss_mib"`
	CPUSecs   float64 `json:"cpu_seconds"`
}

type benchResult struct {
	Time          time.Time  `json:"time"`
	N             int        `json:"mentions"`
	MeanBytes     int        `json:"mean_message_bytes"`
	BatchSize     int        `json:"batch_size"`
	CPUs          int        `json:"cpus"`
	Runs          []benchRun `json:"runs"`
	BaselineBest  float64    `json:"baseline_mentions_per_second"`
	ProcessBest   float64    `json:"process_mentions_per_second"`
	Ratio         float64    `json:"ratio"`
	ProcessPeakMB float64    `json:"process_peak_rss_mib"`
	RoundRatios   []float64  `json:"round_ratios"` // process / baseline of each round
	MedianRatio   float64    `json:"median_round_ratio"`
}

// Run benchmarks.
func (c *BenchProcessCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "govlisten-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if cfg.NATS.URL == "" {
		cfg.NATS.Embedded.Listen = "127.0.0.1:0"
		ns, err := bus.StartEmbedded(cfg, filepath.Join(tmp, "nats"))
		if err != nil {
			return err
		}
		defer ns.Shutdown()
		cfg.NATS.URL = ns.URL()
	}
	chBase := cfg.ClickHouse.DSN
	if chBase == "" {
		bin, err := chlocal.FindBinary(cfg.ClickHouse.Server)
		if err != nil {
			return err
		}
		ch, err := chlocal.Start(ctx, bin, filepath.Join(tmp, "clickhouse"), 0)
		if err != nil {
			return err
		}
		defer ch.Stop()
		chBase = "clickhouse://" + ch.Addr()
	} else {
		chBase = chBase[:len(chBase)-len(filepath.Base(chBase))-1]
	}
	conn, err := openBus(ctx, cfg, "bench", 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()

	gen := synth.New(2026)
	msgs := make([][]byte, c.N)
	total := 0
	for i := range msgs {
		msgs[i] = gen.Line()
		total += len(msgs[i])
	}
	res := benchResult{Time: time.Now().UTC(), N: c.N, MeanBytes: total / c.N, BatchSize: c.BatchSize, CPUs: runtimeCPUs()}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("govlisten bench: %d mentions of %d bytes on average, batch %d, %d CPUs, NATS and ClickHouse on this host\n", c.N, res.MeanBytes, c.BatchSize, res.CPUs)
	for round := 1; round <= c.Rounds; round++ {
		for _, mode := range []string{"baseline", "process"} {
			db := fmt.Sprintf("bench_%s_%d_%d", mode, round, time.Now().Unix())
			if err := fillStream(ctx, conn.JS, msgs, fmt.Sprintf("%s-%d-%d", mode, round, time.Now().UnixNano())); err != nil {
				return err
			}
			args := []string{"process", "--once", "--no-migrate"}
			if c.CPUProfile != "" {
				args = append(args, "--cpu-profile", fmt.Sprintf("%s.%d", c.CPUProfile, round))
			}
			store, err := sink.OpenDSN(ctx, chBase+"/"+db, chBase+"/"+db, nil)
			if err != nil {
				return err
			}
			if mode == "baseline" {
				args = []string{"bench", "raw"}
				err = store.CreateRawTable(ctx)
			} else {
				err = store.Migrate(ctx)
			}
			store.Close()
			if err != nil {
				return err
			}
			// Let the servers finish the fill (JetStream writes, ClickHouse
			// merges of the last run) so that neither mode pays for the other.
			time.Sleep(3 * time.Second)
			run, err := timeRun(ctx, self, args, []string{
				"GOVLISTEN_NATS_URL=" + cfg.NATS.URL,
				"GOVLISTEN_CLICKHOUSE_DSN=" + chBase + "/" + db,
				fmt.Sprintf("GOVLISTEN_PROCESS_BATCH_SIZE=%d", c.BatchSize),
				"GOVLISTEN_LOG_LEVEL=warn",
			})
			if err != nil {
				return fmt.Errorf("%s run %d: %w", mode, round, err)
			}
			run.Mode, run.Round = mode, round
			run.PerSecond = float64(c.N) / run.Seconds
			res.Runs = append(res.Runs, run)
			fmt.Printf("  %-8s round %d: %8.0f mentions/s  (%.2fs, %.2f CPU-s, peak RSS %.0f MiB)\n", mode, round, run.PerSecond, run.Seconds, run.CPUSecs, run.PeakRSSMB)
			// Drop the run's data so its background merges do not slow the next run.
			if st, err := sink.OpenDSN(ctx, chBase+"/"+db, chBase+"/"+db, nil); err == nil {
				_ = st.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db)
				st.Close()
			}
		}
		n := len(res.Runs)
		res.RoundRatios = append(res.RoundRatios, res.Runs[n-1].PerSecond/res.Runs[n-2].PerSecond)
	}
	best := map[string]benchRun{}
	for _, r := range res.Runs {
		if r.PerSecond > best[r.Mode].PerSecond {
			best[r.Mode] = r
		}
	}
	var peaks []float64
	for _, r := range res.Runs {
		if r.Mode == "process" {
			peaks = append(peaks, r.PeakRSSMB)
		}
	}
	sort.Float64s(peaks)
	res.BaselineBest, res.ProcessBest = best["baseline"].PerSecond, best["process"].PerSecond
	res.Ratio = res.ProcessBest / res.BaselineBest
	res.ProcessPeakMB = peaks[len(peaks)-1]
	rr := append([]float64(nil), res.RoundRatios...)
	sort.Float64s(rr)
	res.MedianRatio = rr[len(rr)/2]
	fmt.Printf("baseline (raw strings): %.0f mentions/s (best)\nprocess (decode, tag, insert): %.0f mentions/s (best)\nratio of bests: %.2f; median of the rounds' ratios: %.2f (target >= 0.60)\nprocess peak RSS: %.0f MiB\n",
		res.BaselineBest, res.ProcessBest, res.Ratio, res.MedianRatio, res.ProcessPeakMB)
	if c.JSON != "" {
		if err := os.MkdirAll(filepath.Dir(c.JSON), 0o750); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(c.JSON, append(b, '\n'), 0o640); err != nil {
			return err
		}
		log.Info("results written", "file", c.JSON)
	}
	return nil
}

// fillStream publishes msgs onto MENTIONS with ids unique to this run (the
// same mentions are used in every run).
func fillStream(ctx context.Context, js jetstream.JetStream, msgs [][]byte, run string) error {
	pub := collectors.NewPublisher(js, 4096, time.Minute)
	for i, data := range msgs {
		m, err := collectorsMsg(data, run, i)
		if err != nil {
			return err
		}
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
func timeRun(ctx context.Context, self string, args, env []string) (benchRun, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return benchRun{}, err
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
		return benchRun{}, err
	}
	r := benchRun{Seconds: time.Since(start).Seconds(), PeakRSSMB: float64(peakKB) / 1024}
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

func runtimeCPUs() int { return runtime.NumCPU() }

func collectorsMsg(data []byte, run string, i int) (*nats.Msg, error) {
	m := nats.NewMsg("govlisten.mentions.bench.post")
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, run+":"+strconv.Itoa(i))
	return m, nil
}
