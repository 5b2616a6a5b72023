package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
)

// TestBenchAll runs `bench all` at tiny sizes, as `make bench` runs it at
// full ones, and checks that every section reports sane figures in
// all.json and its own file. It uses the shared ClickHouse (--clickhouse,
// the path that reuses a loaded database) and lets bench start NATS in
// its own process.
func TestBenchAll(t *testing.T) {
	ch := sharedClickHouse(t)
	out := t.TempDir()
	db := fmt.Sprintf("bench_queries_test_%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"bench", "all", "--clickhouse", ch.DSN("default"), "--out", out,
		"--collect-backlog", "30s", "--collect-rounds", "1",
		"--tag-time", "200ms", "--tag-rounds", "1",
		"--process-n", "2000", "--process-rounds", "1", "--process-settle", "0s",
		"--latency-duration", "2s", "--latency-floor-duration", "1s", "--latency-drain", "30s",
		"--queries-rows", "20000", "--queries-runs", "1", "--queries-database", db,
		"--queries-doc", "../../docs/queries.md", "--queries-settle", "0s",
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "GOVLISTEN_LOG_LEVEL=warn")
	output, err := cmd.CombinedOutput()
	t.Logf("bench all took %s:\n%s", time.Since(start).Round(time.Millisecond), output)
	if err != nil {
		t.Fatalf("bench all: %v", err)
	}
	t.Cleanup(func() {
		st, err := sink.OpenDSN(context.Background(), ch.DSN(db), db, nil)
		if err == nil {
			_ = st.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
			st.Close()
		}
	})

	var res benchResults
	b, err := os.ReadFile(filepath.Join(out, "all.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Commit == "" || res.CPUs <= 0 || res.GOMAXPROCS <= 0 || res.Time.IsZero() || res.Seconds <= 0 || res.ClickHouse == "" || res.NATS != "in-process" {
		t.Errorf("run facts: %+v", res)
	}
	for _, name := range []string{"collect", "tag", "process", "latency", "queries"} {
		if _, err := os.Stat(filepath.Join(out, name+".json")); err != nil {
			t.Errorf("section file: %v", err)
		}
	}

	if c := res.Collect; c == nil || len(c.Platforms) != 3 {
		t.Errorf("collect: %+v", c)
	} else {
		for _, p := range c.Platforms {
			r := p.Rounds[0]
			if p.Collector <= 0 || p.Raw <= 0 || p.Ratio <= 0 || p.CollectorPerCPU <= 0 || r.Mentions <= 0 || r.Requests <= 0 ||
				r.CollectorBytes <= 0 || r.RawBytes <= 0 {
				t.Errorf("collect %s: %+v", p.Platform, p)
			}
		}
	}

	if g := res.Tag; g == nil {
		t.Error("no tag section")
	} else {
		for _, m := range []tagMeasure{g.Raw, g.Default, g.Generated} {
			if m.PerCore <= 0 || m.PerSecond <= 0 || m.CoresUsed <= 0 || len(m.Rounds) != 1 {
				t.Errorf("tag %s: %+v", m.Name, m)
			}
		}
		if g.Default.Rules < 100 || g.Generated.Rules != 10000 {
			t.Errorf("tag rules: default %d, generated %d", g.Default.Rules, g.Generated.Rules)
		}
	}

	if p := res.Process; p == nil || len(p.Runs) != 2 {
		t.Errorf("process: %+v", p)
	} else {
		if p.Baseline <= 0 || p.Process <= 0 || p.Ratio <= 0 || p.MedianRatio <= 0 || p.PeakRSSMB <= 0 || p.ProcessorCPU <= 0 || p.NATSCPU <= 0 {
			t.Errorf("process: %+v", p)
		}
		// The shared server is a child of this test, on this host: its CPU
		// is measured (-1 would mean its process was not found).
		for _, r := range p.Runs {
			if r.ClickHouseCPU < 0 || r.CPUSecs <= 0 || r.Seconds <= 0 {
				t.Errorf("process run: %+v", r)
			}
		}
	}

	if l := res.Latency; l == nil {
		t.Error("no latency section")
	} else {
		s := l.PublishToRow
		if l.Published != 10000 || s.Measured != l.Published || l.PublishAck.Measured != l.Published || l.DirectInsert.Measured != 5000 ||
			s.P50 <= 0 || s.P99 < s.P50 || s.Max < s.P99 || l.AchievedRate <= 0 || l.ProcessorCPU <= 0 || l.ClickHouseCPU < 0 {
			t.Errorf("latency: %+v", l)
		}
	}

	if q := res.Queries; q == nil {
		t.Error("no queries section")
	} else {
		groups := map[string]int{}
		analystRows := 0
		for _, x := range q.Queries {
			groups[x.Group]++
			if x.P50MS <= 0 || x.WorstMS < x.P50MS {
				t.Errorf("query %s %s: %+v", x.Group, x.Name, x)
			}
			if x.Group == "analyst" {
				analystRows += x.Rows
			}
		}
		if q.Mentions < 20000 || !q.Loaded || q.FloorP50MS <= 0 || analystRows == 0 ||
			groups["floor"] != 1 || groups["analyst"] != 10 || groups["dashboard"] != 48 || groups["page"] != 6 {
			t.Errorf("queries: %d mentions, loaded %v, floor %v ms, %d analyst rows, groups %v", q.Mentions, q.Loaded, q.FloorP50MS, analystRows, groups)
		}
	}
}
