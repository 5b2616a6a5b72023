package main

// `govlisten bench` measures the pipeline on this machine, each figure
// beside a baseline measured in the same run, because the machines it runs
// on are shared and noisy: a ratio to a same-run baseline survives a busy
// neighbour better than an absolute figure. Sections:
//
//   - collect (bench_collect.go): collection from the simulators, beside a
//     plain HTTP client fetching the same pages;
//   - tag (bench_tag.go): the processor's tag step per core, default
//     taxonomy and 10,000 generated rules, beside a raw pass over the
//     same texts;
//   - process (bench_process.go): `govlisten process` from a pre-filled
//     stream into ClickHouse, beside the same messages moved raw;
//   - latency (bench_latency.go): publish to row visible at a steady rate,
//     beside the publish-ack round trip and a direct insert;
//   - queries (bench_queries.go): the analyst and dashboard queries over
//     millions of mentions, beside a full count.
//
// `bench all` runs every section against one NATS server and one
// ClickHouse server; every section writes its results as JSON under --out,
// and `all` also writes all.json, one file to compare between commits.
// Services are on loopback, on free ports, and stopped at the end.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/processors/sink"
)

// BenchCmd is `govlisten bench`.
type BenchCmd struct {
	Process BenchProcessCmd `cmd:"" default:"withargs" help:"Throughput of process beside a raw baseline (the default)."`
	Collect BenchCollectCmd `cmd:"" help:"Collection from the API simulators beside a plain HTTP fetch of the same pages."`
	Tag     BenchTagCmd     `cmd:"" help:"The tag step per core (default taxonomy, 10,000 rules) beside a raw pass over the same texts."`
	Latency BenchLatencyCmd `cmd:"" help:"Publish-to-row-visible latency at a steady rate beside the publish-ack round trip and a direct insert."`
	Queries BenchQueriesCmd `cmd:"" help:"Analyst (docs/queries.md) and dashboard queries over millions of mentions beside a full count."`
	All     BenchAllCmd     `cmd:"" help:"Every section, one NATS and one ClickHouse, results in OUT/all.json (what make bench runs)."`
	Raw     BenchRawCmd     `cmd:"" hidden:"" help:"The baseline: move the stream into ClickHouse as opaque strings (run by bench)."`
}

// Help lists the sections.
func (c *BenchCmd) Help() string {
	return "Measures the pipeline on this machine, each figure beside a baseline measured in the same run (the machine is shared and noisy; ratios are what to compare between commits): collect, tag, process (the default), latency and queries, or all of them with `bench all`, which `make bench` runs. Each prints a table and writes OUT/SECTION.json. Without --nats and --clickhouse it starts its own servers; servers given with them must be for benchmarking only: bench purges stream MENTIONS, drains it with the processor's consumer, and creates and drops bench_* databases."
}

// BenchCommon are the flags of every bench command.
type BenchCommon struct {
	NATSFlag
	ClickHouseFlag
	Out string `help:"Directory for the JSON results (SECTION.json; all.json for bench all)." default:"bench-results" placeholder:"DIR"`
}

// BenchAllCmd is `govlisten bench all`.
type BenchAllCmd struct {
	BenchCommon
	Collect BenchCollectOpts `embed:"" prefix:"collect-"`
	Tag     BenchTagOpts     `embed:"" prefix:"tag-"`
	Process BenchProcessOpts `embed:"" prefix:"process-"`
	Latency BenchLatencyOpts `embed:"" prefix:"latency-"`
	Queries BenchQueriesOpts `embed:"" prefix:"queries-"`
}

// Help explains what all runs.
func (c *BenchAllCmd) Help() string {
	return "Runs collect, tag, process, latency and queries in that order against one NATS server (in this process unless --nats) and one ClickHouse server (a private one in a temporary directory unless --clickhouse), prints each section's table, and writes OUT/SECTION.json for each and OUT/all.json with the commit, time and machine. The full sizes take 10 to 15 minutes on 2 cores, a third of it loading 10 million mentions for the queries; --queries-rows and the other size flags make a quick run."
}

// benchResults is the JSON of every bench file: the run's facts and the
// sections it ran (one for bench SECTION, all for bench all).
type benchResults struct {
	Commit     string     `json:"commit"`
	Modified   bool       `json:"modified"` // built from a tree with uncommitted changes
	Time       time.Time  `json:"time"`
	Seconds    float64    `json:"seconds"` // wall time of the whole run
	CPUs       int        `json:"cpus"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	GoVersion  string     `json:"go_version"`
	LoadStart  [3]float64 `json:"load_average_start"` // 1, 5 and 15 minutes
	LoadEnd    [3]float64 `json:"load_average_end"`
	ClickHouse string     `json:"clickhouse_version,omitempty"`
	NATS       string     `json:"nats,omitempty"` // "in-process" or the URL given

	Collect *collectResult `json:"collect,omitempty"`
	Tag     *tagResult     `json:"tag,omitempty"`
	Process *processResult `json:"process,omitempty"`
	Latency *latencyResult `json:"latency,omitempty"`
	Queries *queriesResult `json:"queries,omitempty"`
}

// Run runs every section.
func (c *BenchAllCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "all", func(e *benchEnv, res *benchResults) error {
		sections := []struct {
			name string
			run  func() error
		}{
			{"collect", func() (err error) { res.Collect, err = benchCollect(ctx, e, c.Collect); return err }},
			{"tag", func() (err error) { res.Tag, err = benchTag(e, c.Tag); return err }},
			{"process", func() (err error) { res.Process, err = benchProcess(ctx, e, c.Process); return err }},
			{"latency", func() (err error) { res.Latency, err = benchLatency(ctx, e, c.Latency); return err }},
			{"queries", func() (err error) { res.Queries, err = benchQueries(ctx, e, c.Queries); return err }},
		}
		for _, s := range sections {
			if err := s.run(); err != nil {
				return fmt.Errorf("bench %s: %w", s.name, err)
			}
			// Each section's file as soon as it is done, so a failure later
			// keeps what was measured.
			part := *res
			part.Collect, part.Tag, part.Process, part.Latency, part.Queries = nil, nil, nil, nil, nil
			switch s.name {
			case "collect":
				part.Collect = res.Collect
			case "tag":
				part.Tag = res.Tag
			case "process":
				part.Process = res.Process
			case "latency":
				part.Latency = res.Latency
			case "queries":
				part.Queries = res.Queries
			}
			part.LoadEnd, part.Seconds = loadAverage(), time.Since(e.start).Seconds()
			part.ClickHouse, part.NATS = e.chVersion, e.natsKind
			if err := writeBenchJSON(e.out, s.name, &part, e.log); err != nil {
				return err
			}
		}
		return nil
	})
}

// runBench sets up the environment, runs body, prints where the results
// went and writes OUT/name.json. The environment's servers start only when
// a section asks for them, and stop before runBench returns.
func runBench(ctx context.Context, g *Globals, common BenchCommon, name string, body func(*benchEnv, *benchResults) error) error {
	cfg, log, err := g.loadWith(common.NATSFlag, common.ClickHouseFlag)
	if err != nil {
		return err
	}
	e, err := newBenchEnv(cfg, log, g.Config, common.Out)
	if err != nil {
		return err
	}
	defer e.Close()
	start := e.start
	commit, modified := buildCommit()
	res := &benchResults{
		Commit: commit, Modified: modified, Time: start.UTC().Truncate(time.Second),
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		LoadStart: loadAverage(),
	}
	fmt.Printf("govlisten bench %s: commit %s%s, %d CPUs (GOMAXPROCS %d), load average %.2f %.2f %.2f, %s\n",
		name, shortCommit(commit), map[bool]string{true: " (modified)"}[modified], res.CPUs, res.GOMAXPROCS,
		res.LoadStart[0], res.LoadStart[1], res.LoadStart[2], res.Time.Format(time.RFC3339))
	err = body(e, res)
	res.Seconds = time.Since(start).Seconds()
	res.LoadEnd = loadAverage()
	res.ClickHouse, res.NATS = e.chVersion, e.natsKind
	if err != nil {
		return err
	}
	fmt.Printf("\nbench %s done in %s; load average at the end %.2f %.2f %.2f\n", name, time.Since(start).Round(time.Second), res.LoadEnd[0], res.LoadEnd[1], res.LoadEnd[2])
	return writeBenchJSON(e.out, name, res, log)
}

// writeBenchJSON writes res to dir/name.json.
func writeBenchJSON(dir, name string, res *benchResults, log *slog.Logger) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o640); err != nil {
		return err
	}
	log.Info("results written", "file", path)
	return nil
}

// benchEnv is what the sections share: NATS and ClickHouse, started on
// first use, and the binary to run children from. Not safe for concurrent
// use.
type benchEnv struct {
	cfg     *config.Config
	log     *slog.Logger
	config  string // --config, passed on to children
	out     string
	tmp     string
	start   time.Time
	self    string
	closers []func()

	natsKind string // "in-process" or the URL
	natsPID  int    // the NATS server's process when it is another one on this host; 0 when in-process or unknown
	conn     *bus.Conn

	chBase    *url.URL // the server, without a database
	chPID     int      // the ClickHouse server's process, 0 when not found on this host
	chVersion string
}

func newBenchEnv(cfg *config.Config, log *slog.Logger, configFile, out string) (*benchEnv, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "govlisten-bench")
	if err != nil {
		return nil, err
	}
	e := &benchEnv{cfg: cfg, log: log, config: configFile, out: out, tmp: tmp, self: self, start: time.Now()}
	e.closers = append(e.closers, func() { os.RemoveAll(tmp) })
	return e, nil
}

// Close stops what the environment started, last first.
func (e *benchEnv) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// bus returns a connection to NATS with the streams set up: the configured
// server, or one started in this process on a free loopback port.
func (e *benchEnv) bus(ctx context.Context) (*bus.Conn, error) {
	if e.conn != nil {
		return e.conn, nil
	}
	if e.cfg.NATS.URL == "" {
		e.cfg.NATS.Embedded.Listen = "127.0.0.1:0"
		ns, err := bus.StartEmbedded(e.cfg, filepath.Join(e.tmp, "nats"))
		if err != nil {
			return nil, err
		}
		e.closers = append(e.closers, ns.Shutdown)
		e.cfg.NATS.URL = ns.URL()
		e.natsKind = "in-process"
	} else {
		e.natsKind = e.cfg.ShowNATSURL()
		e.natsPID = listenerPIDOfURL(strings.Split(e.cfg.NATS.URL, ",")[0])
	}
	conn, err := openBus(ctx, e.cfg, "bench", 10*time.Second)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, conn.Close)
	e.conn = conn
	return conn, nil
}

// purge empties stream MENTIONS, so that a run starts with nothing
// pending on the processor's consumer (every message before was acked or
// is not wanted). It deletes the stream and sets it up again rather than
// purging it: a purge keeps the stream's de-duplication entries (one per
// Nats-Msg-Id for nats.stream.duplicate_window), and after a few runs of
// 500,000 mentions their garbage collection in the server slowed every
// later run, baseline and process alike.
func (e *benchEnv) purge(ctx context.Context) error {
	conn, err := e.bus(ctx)
	if err != nil {
		return err
	}
	if err := conn.JS.DeleteStream(ctx, bus.StreamMentions); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("deleting stream %s: %w", bus.StreamMentions, err)
	}
	return bus.Setup(ctx, conn.JS, e.cfg)
}

// consumerInfo is the state of the processor's consumer.
func (e *benchEnv) consumerInfo(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	conn, err := e.bus(ctx)
	if err != nil {
		return nil, err
	}
	cons, err := conn.JS.Consumer(ctx, bus.StreamMentions, e.cfg.NATS.Consumer.Name)
	if err != nil {
		return nil, err
	}
	return cons.Info(ctx)
}

// clickhouse starts or finds the ClickHouse server and returns its address
// without a database; dsn adds one.
func (e *benchEnv) clickhouse(ctx context.Context) error {
	if e.chBase != nil {
		return nil
	}
	if e.cfg.ClickHouse.DSN == "" {
		bin, err := chlocal.FindBinary(e.cfg.ClickHouse.Server)
		if err != nil {
			return err
		}
		ch, err := chlocal.Start(ctx, bin, filepath.Join(e.tmp, "clickhouse"), 0)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, ch.Stop)
		e.cfg.ClickHouse.DSN = "clickhouse://" + ch.Addr()
	}
	u, err := url.Parse(e.cfg.ClickHouse.DSN)
	if err != nil {
		return fmt.Errorf("clickhouse DSN: %w", err)
	}
	u.Path = ""
	e.chBase = u
	e.chPID = listenerPIDOfURL(u.String())
	st, err := e.store(ctx, "default")
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Conn().QueryRow(ctx, "SELECT version()").Scan(&e.chVersion); err != nil {
		return fmt.Errorf("asking ClickHouse its version: %w", err)
	}
	return nil
}

// dsn is the ClickHouse DSN of database db.
func (e *benchEnv) dsn(db string) string {
	u := *e.chBase
	u.Path = "/" + db
	return u.String()
}

// store opens database db (not created or migrated).
func (e *benchEnv) store(ctx context.Context, db string) (*sink.Store, error) {
	if err := e.clickhouse(ctx); err != nil {
		return nil, err
	}
	return sink.OpenDSN(ctx, e.dsn(db), db, func() (string, error) {
		return config.Secret(os.Getenv, e.cfg.ClickHouse.PasswordEnv, e.cfg.ClickHouse.PasswordFile)
	})
}

// dropDatabase drops db, ignoring errors (its data is only the bench's).
func (e *benchEnv) dropDatabase(ctx context.Context, db string) {
	if st, err := e.store(ctx, db); err == nil {
		_ = st.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db)
		st.Close()
	}
}

// childEnv is the environment of a govlisten child working on database db.
func (e *benchEnv) childEnv(db string, extra ...string) []string {
	env := append(os.Environ(),
		"GOVLISTEN_NATS_URL="+e.cfg.NATS.URL,
		"GOVLISTEN_CLICKHOUSE_DSN="+e.dsn(db),
		"GOVLISTEN_LOG_LEVEL=warn",
	)
	if e.config != "" {
		env = append(env, "GOVLISTEN_CONFIG="+e.config)
	}
	return append(env, extra...)
}

// cpuSample is the CPU time, so far, of the bench process (which runs NATS
// when it is in-process), of a NATS server elsewhere on this host and of
// the ClickHouse server.
type cpuSample struct{ self, nats, clickhouse time.Duration }

func (e *benchEnv) cpu() cpuSample {
	s := cpuSample{self: selfCPU()}
	if e.natsPID > 0 {
		s.nats = procCPU(e.natsPID)
	}
	if e.chPID > 0 {
		s.clickhouse = procCPU(e.chPID)
	}
	return s
}

// natsCPU is the NATS server's CPU between two samples: the bench process's
// own when NATS runs in it (which then also counts the bench's little
// work: publishing when it fills the stream, sampling), else the server's
// process's, or -1 when it is not on this host.
func (e *benchEnv) natsCPU(before, after cpuSample) float64 {
	switch {
	case e.natsKind == "in-process":
		return (after.self - before.self).Seconds()
	case e.natsPID > 0:
		return (after.nats - before.nats).Seconds()
	}
	return -1
}

// clickhouseCPU is the ClickHouse server's CPU between two samples, or -1
// when its process was not found on this host.
func (e *benchEnv) clickhouseCPU(before, after cpuSample) float64 {
	if e.chPID <= 0 {
		return -1
	}
	return (after.clickhouse - before.clickhouse).Seconds()
}

// selfCPU is this process's CPU time (user and system, every thread).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU is the CPU time (user and system, every thread) of process pid
// so far, from /proc/PID/stat; 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces; the fields
	// after it start with the state (field 3): utime is field 14.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// listenerPIDOfURL finds the process on this host listening on the port
// of a URL whose host is a loopback or local address; 0 when there is none
// or it cannot be seen.
func listenerPIDOfURL(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback() && !isLocalIP(ip)) {
		return 0
	}
	return listenerPID(port)
}

func isLocalIP(ip net.IP) bool {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// listenerPID finds the process with a TCP socket listening on port: the
// socket's inode from /proc/net/tcp{,6}, then the process holding it among
// /proc/*/fd. 0 when not found (or not visible to this user).
func listenerPID(port int) int {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, p, ok := strings.Cut(fs[1], ":")
			if n, err := strconv.ParseInt(p, 16, 32); ok && err == nil && int(n) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name())); err == nil && inodes[l] {
				return pid
			}
		}
	}
	return 0
}

// loadAverage is the 1, 5 and 15-minute load average; zero when unknown.
func loadAverage() [3]float64 {
	var la [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return la
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		la[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return la
}

// buildCommit is the commit the binary was built from (and whether the
// tree had changes), from the build's VCS stamp, else from git.
func buildCommit() (string, bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			return rev, modified
		}
	}
	// Without a stamp (-buildvcs=false, go test): ask git, read-only
	// (--no-optional-locks: status does not refresh the index).
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown", false
	}
	status, err := exec.Command("git", "--no-optional-locks", "status", "--porcelain").Output()
	return strings.TrimSpace(string(out)), err == nil && len(strings.TrimSpace(string(status))) > 0
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// table prints aligned columns: the first left-aligned, the others
// right-aligned (figures). The first row is the header.
type table struct {
	out  io.Writer
	rows [][]string
}

func newTable(out io.Writer, header ...string) *table {
	return &table{out: out, rows: [][]string{header}}
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) flush() {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(t.out, strings.TrimRight(b.String(), " "))
	}
	t.rows = nil
}

// section prints a section's title.
func section(title string) {
	la := loadAverage()
	fmt.Printf("\n== %s (load average %.2f)\n", title, la[0])
}

// num formats n with thousands separators and no decimals.
func num(n float64) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return "-"
	}
	s := strconv.FormatInt(int64(math.Round(math.Abs(n))), 10)
	var b strings.Builder
	if n < 0 && math.Round(n) != 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// secs formats a CPU or wall time in seconds; "-" for an unknown (negative) one.
func secs(s float64) string {
	if s < 0 {
		return "-"
	}
	return strconv.FormatFloat(s, 'f', 2, 64)
}

// millis formats milliseconds: one decimal below 10, thousands separators
// above.
func millis(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return num(v) + " ms"
}

// ratio formats a/b.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64)
}

// met says whether a target is met.
func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// quantile is the q-quantile of sorted (nearest rank).
func quantile[T int64 | float64 | time.Duration](sorted []T, q float64) T {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// rounds says "1 round", "3 rounds".
func rounds(n int) string {
	if n == 1 {
		return "1 round"
	}
	return strconv.Itoa(n) + " rounds"
}

// median sorts a copy of xs and returns its middle.
func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return quantile(s, 0.5)
}

// sortedDurations returns ds sorted, leaving ds as it is.
func sortedDurations(ds []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}
