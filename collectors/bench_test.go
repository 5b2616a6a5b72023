package collectors_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/testenv"
)

// BenchmarkCollectAndPublish measures collection as a collector runs it:
// one pass of a source over a backlog served by the platform's simulator on
// loopback, every mention published to JetStream and acknowledged, the
// checkpoint stored after each page. It reports mentions/s and
// mentions per CPU-second of this process, which also runs the simulator
// and the NATS server (so the per-core figure understates the collector).
func BenchmarkCollectAndPublish(b *testing.B) {
	const backlog = 20 * time.Minute
	for _, p := range []struct {
		name string
		sim  func(start time.Time) http.Handler
		src  config.Source
		make func(cfg *config.Config) (collectors.Collector, error)
	}{
		{"twitter", func(s time.Time) http.Handler { return twitter.NewSimulator(twitter.SimConfig{Rate: 10, Start: s}) },
			config.Source{Name: "bench", Platform: "twitter", Kind: "search", Query: "DWP", MaxPages: 1000},
			func(cfg *config.Config) (collectors.Collector, error) {
				return twitter.New(cfg, func(string) string { return "t" }, nil, slog.New(slog.DiscardHandler))
			}},
		{"youtube", func(s time.Time) http.Handler { return youtube.NewSimulator(youtube.SimConfig{Rate: 10, Start: s}) },
			youtube.SimSources()[0],
			func(cfg *config.Config) (collectors.Collector, error) {
				return youtube.New(cfg, func(string) string { return "k" }, nil, nil, slog.New(slog.DiscardHandler))
			}},
		{"facebook", func(s time.Time) http.Handler { return facebook.NewSimulator(facebook.SimConfig{Rate: 10, Start: s}) },
			config.Source{Name: "bench", Platform: "facebook", Kind: "page_posts", PageID: "100000000000001", MaxPages: 1000},
			func(cfg *config.Config) (collectors.Collector, error) {
				return facebook.New(cfg, func(string) string { return "f" }, nil, slog.New(slog.DiscardHandler))
			}},
	} {
		b.Run(p.name, func(b *testing.B) {
			cfg := testenv.Config()
			cfg.NATS.URL = testenv.NATS(b)
			cfg.YouTube.DailyQuotaUnits = 1 << 30
			conn := testenv.Bus(b, cfg)
			var mentions int64
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				srv := httptest.NewServer(p.sim(time.Now().Add(-backlog)))
				cfg.Twitter.BaseURL, cfg.YouTube.BaseURL, cfg.Facebook.BaseURL = srv.URL, srv.URL+"/", srv.URL
				c, err := p.make(cfg)
				if err != nil {
					b.Fatal(err)
				}
				src := p.src
				src.Name = src.Name + "-" + time.Now().Format("150405.000000")
				cfg.Sources = []config.Source{src}
				s, err := collectors.NewScheduler(context.Background(), conn.JS, cfg, map[string]collectors.Collector{src.Platform: c}, nil, slog.New(slog.DiscardHandler))
				if err != nil {
					b.Fatal(err)
				}
				before := cpuTime()
				b.StartTimer()
				runs, err := s.RunOnce(context.Background(), collectors.Options{})
				b.StopTimer()
				cpu += cpuTime() - before
				srv.Close()
				if err != nil {
					b.Fatal(err)
				}
				mentions += runs[0].Published + runs[0].Duplicates
				b.StartTimer()
			}
			b.ReportMetric(float64(mentions)/b.Elapsed().Seconds(), "mentions/s")
			b.ReportMetric(float64(mentions)/cpu.Seconds(), "mentions/cpu-s")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
