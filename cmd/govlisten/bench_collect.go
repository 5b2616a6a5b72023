package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
)

// BenchCollectCmd is `govlisten bench collect`.
type BenchCollectCmd struct {
	BenchCommon
	BenchCollectOpts
}

// BenchCollectOpts size the collect section.
type BenchCollectOpts struct {
	Backlog time.Duration `help:"The backlog each simulator serves, at 10 items a second: one pass collects all of it." default:"20m"`
	Rounds  int           `help:"Passes of each of collector and raw fetch per platform, alternating; the best of each is reported." default:"3"`
}

// Help explains the figures.
func (c *BenchCollectCmd) Help() string {
	return "For each platform, one collector pass over a backlog served by the platform's simulator on loopback (as `collectors` BenchmarkCollectAndPublish runs it): fetch every page, map every item to a mention, publish it to JetStream and wait for the ack, store the checkpoint. The baseline, in the same round: the same requests (recorded during the pass) replayed to a fresh simulator of the same backlog by a plain HTTP client that only reads the bytes. Both run in this process, with the simulator (and NATS, when in-process), so CPU figures are this process's."
}

// Run benchmarks collection.
func (c *BenchCollectCmd) Run(ctx context.Context, g *Globals) error {
	return runBench(ctx, g, c.BenchCommon, "collect", func(e *benchEnv, res *benchResults) (err error) {
		res.Collect, err = benchCollect(ctx, e, c.BenchCollectOpts)
		return err
	})
}

// simRate is the simulators' items per second.
const simRate = 10

type collectRound struct {
	Round    int   `json:"round"`
	Mentions int64 `json:"mentions"` // published by the collector's pass
	Requests int   `json:"requests"`
	// The collector's pass: wall time, this process's CPU (collector,
	// simulator and an in-process NATS), bytes the simulator sent.
	CollectorSeconds float64 `json:"collector_seconds"`
	CollectorCPU     float64 `json:"collector_cpu_seconds"`
	CollectorBytes   int64   `json:"collector_bytes"`
	// The raw fetch of the same requests.
	RawSeconds float64 `json:"raw_seconds"`
	RawCPU     float64 `json:"raw_cpu_seconds"`
	RawBytes   int64   `json:"raw_bytes"`
}

type collectPlatform struct {
	Platform string         `json:"platform"`
	Client   string         `json:"client"`
	Rounds   []collectRound `json:"rounds"`
	// Bests of the rounds: mentions/s of the collector and of the raw
	// fetch (the pass's mentions over the replay's time), mentions per
	// CPU-second of each.
	Collector       float64 `json:"collector_mentions_per_second"`
	Raw             float64 `json:"raw_mentions_per_second"`
	Ratio           float64 `json:"ratio"`
	CollectorPerCPU float64 `json:"collector_mentions_per_cpu_second"`
	RawPerCPU       float64 `json:"raw_mentions_per_cpu_second"`
}

type collectResult struct {
	Backlog   string            `json:"backlog"`
	Rate      float64           `json:"simulator_items_per_second"`
	Platforms []collectPlatform `json:"platforms"`
}

// benchPlatform is one platform's simulator, source and collector, as
// collectors' BenchmarkCollectAndPublish sets them up.
type benchPlatform struct {
	name, client string
	sim          func(start time.Time) http.Handler
	src          config.Source
	make         func(cfg *config.Config) (collectors.Collector, error)
}

func benchPlatforms() []benchPlatform {
	discard := slog.New(slog.DiscardHandler)
	return []benchPlatform{{
		name: "twitter", client: "gotwi",
		sim: func(s time.Time) http.Handler {
			return twitter.NewSimulator(twitter.SimConfig{Rate: simRate, Start: s})
		},
		src: config.Source{Name: "bench", Platform: "twitter", Kind: "search", Query: "DWP", MaxPages: 1000},
		make: func(cfg *config.Config) (collectors.Collector, error) {
			return twitter.New(cfg, func(string) string { return "t" }, nil, discard)
		},
	}, {
		name: "youtube", client: "google.golang.org/api",
		sim: func(s time.Time) http.Handler {
			return youtube.NewSimulator(youtube.SimConfig{Rate: simRate, Start: s})
		},
		src: youtube.SimSources()[0],
		make: func(cfg *config.Config) (collectors.Collector, error) {
			return youtube.New(cfg, func(string) string { return "k" }, nil, nil, discard)
		},
	}, {
		name: "facebook", client: "net/http",
		sim: func(s time.Time) http.Handler {
			return facebook.NewSimulator(facebook.SimConfig{Rate: simRate, Start: s})
		},
		src: config.Source{Name: "bench", Platform: "facebook", Kind: "page_posts", PageID: "100000000000001", MaxPages: 1000},
		make: func(cfg *config.Config) (collectors.Collector, error) {
			return facebook.New(cfg, func(string) string { return "f" }, nil, discard)
		},
	}}
}

func benchCollect(ctx context.Context, e *benchEnv, o BenchCollectOpts) (*collectResult, error) {
	if o.Backlog <= 0 || o.Rounds <= 0 {
		return nil, errors.New("--backlog and --rounds must be positive")
	}
	conn, err := e.bus(ctx)
	if err != nil {
		return nil, err
	}
	res := &collectResult{Backlog: o.Backlog.String(), Rate: simRate}
	section(fmt.Sprintf("collect: one pass over a %s backlog (%d items/s) per platform, %s", o.Backlog, simRate, rounds(o.Rounds)))
	fmt.Println("baseline: the pass's requests replayed to a fresh simulator by a plain HTTP client that only reads the bytes")
	fmt.Printf("%-9s %5s %9s %9s %12s %12s %12s %12s\n", "platform", "round", "mentions", "requests", "collector/s", "raw/s", "coll. CPU-s", "raw CPU-s")
	for _, p := range benchPlatforms() {
		pr := collectPlatform{Platform: p.name, Client: p.client}
		for round := 1; round <= o.Rounds; round++ {
			r, err := collectOnce(ctx, e, conn.JS, p, o.Backlog, round)
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", p.name, round, err)
			}
			pr.Rounds = append(pr.Rounds, r)
			m := float64(r.Mentions)
			fmt.Printf("%-9s %5d %9d %9d %12s %12s %12s %12s\n", p.name, round, r.Mentions, r.Requests,
				num(m/r.CollectorSeconds), num(m/r.RawSeconds), secs(r.CollectorCPU), secs(r.RawCPU))
			pr.Collector = max(pr.Collector, m/r.CollectorSeconds)
			pr.Raw = max(pr.Raw, m/r.RawSeconds)
			pr.CollectorPerCPU = max(pr.CollectorPerCPU, m/max(r.CollectorCPU, 0.001))
			pr.RawPerCPU = max(pr.RawPerCPU, m/max(r.RawCPU, 0.001))
		}
		pr.Ratio = pr.Collector / pr.Raw
		res.Platforms = append(res.Platforms, pr)
	}
	// Collected mentions are not for the next sections' consumer.
	if err := e.purge(ctx); err != nil {
		return nil, err
	}
	fmt.Println()
	t := newTable(os.Stdout, "platform (client)", "collector mentions/s", "raw fetch mentions/s", "ratio", "collector mentions/CPU-s", "raw mentions/CPU-s", "bytes (collector / raw)")
	for _, p := range res.Platforms {
		last := p.Rounds[len(p.Rounds)-1]
		t.row(p.Platform+" ("+p.Client+")", num(p.Collector), num(p.Raw), ratio(p.Collector, p.Raw), num(p.CollectorPerCPU), num(p.RawPerCPU),
			fmt.Sprintf("%s / %s", num(float64(last.CollectorBytes)), num(float64(last.RawBytes))))
	}
	t.flush()
	fmt.Println("best of the rounds; CPU is this process's: collector or client, simulator, and NATS when in-process")
	return res, nil
}

// collectOnce runs one collector pass over a fresh simulator, recording
// its requests, then replays them to another fresh simulator of the same
// backlog with a plain client.
func collectOnce(ctx context.Context, e *benchEnv, js jetstream.JetStream, p benchPlatform, backlog time.Duration, round int) (collectRound, error) {
	start := time.Now().Add(-backlog)
	rec := &recorder{h: p.sim(start), on: true}
	base, stop, err := serveLoopback(rec)
	if err != nil {
		return collectRound{}, err
	}
	cfg := *e.cfg
	cfg.Twitter.BaseURL, cfg.YouTube.BaseURL, cfg.Facebook.BaseURL = base, base+"/", base
	cfg.YouTube.DailyQuotaUnits = 1 << 30
	c, err := p.make(&cfg)
	if err != nil {
		stop()
		return collectRound{}, err
	}
	src := p.src
	src.Name = fmt.Sprintf("bench-%s-%d-%d", p.name, round, time.Now().UnixNano())
	cfg.Sources = []config.Source{src}
	s, err := collectors.NewScheduler(ctx, js, &cfg, map[string]collectors.Collector{src.Platform: c}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		stop()
		return collectRound{}, err
	}
	cpu0, t0 := selfCPU(), time.Now()
	runs, err := s.RunOnce(ctx, collectors.Options{})
	r := collectRound{Round: round, CollectorSeconds: time.Since(t0).Seconds(), CollectorCPU: (selfCPU() - cpu0).Seconds()}
	stop()
	if err != nil {
		return r, err
	}
	if len(runs) != 1 || runs[0].Error != "" {
		return r, fmt.Errorf("collector pass: %+v", runs)
	}
	r.Mentions = runs[0].Published + runs[0].Duplicates
	reqs, sent := rec.result()
	r.Requests, r.CollectorBytes = len(reqs), sent
	if r.Mentions == 0 {
		return r, errors.New("the collector published nothing")
	}

	base, stop, err = serveLoopback(p.sim(start))
	if err != nil {
		return r, err
	}
	defer stop()
	client := &http.Client{Timeout: time.Minute}
	cpu0, t0 = selfCPU(), time.Now()
	for _, q := range reqs {
		n, err := fetch(ctx, client, base+q.uri, q.header)
		if err != nil {
			return r, err
		}
		r.RawBytes += n
	}
	r.RawSeconds, r.RawCPU = time.Since(t0).Seconds(), (selfCPU() - cpu0).Seconds()
	return r, nil
}

// fetch GETs url and reads the body; anything but 200 is an error.
func fetch(ctx context.Context, client *http.Client, url string, header http.Header) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return n, nil
}

// serveLoopback serves h on a free loopback port; stop closes the server.
func serveLoopback(h http.Handler) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// recorder passes requests to h, recording each one's URI and the headers
// a client chose (auth) and counting the bytes of the responses. Safe for
// concurrent use.
type recorder struct {
	h http.Handler

	mu   sync.Mutex
	on   bool
	reqs []recordedRequest
	sent int64
}

type recordedRequest struct {
	uri    string
	header http.Header
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	rc.h.ServeHTTP(cw, r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.on {
		h := http.Header{}
		for _, k := range []string{"Authorization", "X-Goog-Api-Key"} {
			if v := r.Header.Values(k); len(v) > 0 {
				h[k] = v
			}
		}
		rc.reqs = append(rc.reqs, recordedRequest{uri: r.URL.RequestURI(), header: h})
		rc.sent += cw.n
	}
}

// result stops recording and returns what was recorded.
func (rc *recorder) result() ([]recordedRequest, int64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.on = false
	return rc.reqs, rc.sent
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}
