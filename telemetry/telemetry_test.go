package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// get fetches path from the server and returns the status and body.
func get(t *testing.T, srv *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func serve(t *testing.T, tel *Telemetry) *Server {
	t.Helper()
	srv, err := Serve("127.0.0.1:0", tel.Handler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// /healthz is always 200; /readyz is 503 until every required dependency
// has a passing check, says which failed, never serves an error's text,
// and is 503 again once the process is stopping.
func TestHealthAndReadiness(t *testing.T) {
	tel := New(nil)
	srv := serve(t, tel)
	if code, body := get(t, srv, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	tel.Health.Require("nats", "clickhouse")
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "nats: not connected yet") || !strings.Contains(body, "clickhouse: not connected yet") {
		t.Fatalf("/readyz before connecting: %d %q", code, body)
	}
	tel.Health.Set("nats", func(context.Context) error { return nil })
	chErr := errors.New("ClickHouse clickhouse://govlisten:hunter2@ch1:9000/govlisten: connection refused")
	tel.Health.Set("clickhouse", func(context.Context) error { return chErr })
	code, body := get(t, srv, "/readyz")
	if code != 503 || !strings.Contains(body, "nats: ok") || !strings.Contains(body, "clickhouse: not reachable") {
		t.Fatalf("/readyz with ClickHouse down: %d %q", code, body)
	}
	if strings.Contains(body, "hunter2") || strings.Contains(body, "ch1") || strings.Contains(body, "refused") {
		t.Fatalf("/readyz served an error's text: %q", body)
	}
	chErr = nil
	tel.Health.Set("clickhouse", func(context.Context) error { return chErr })
	if code, body := get(t, srv, "/readyz"); code != 200 || body != "ok\nnats: ok\nclickhouse: ok\n" {
		t.Fatalf("/readyz connected: %d %q", code, body)
	}
	// A check that hangs is cut off by its timeout, not by the client's.
	tel.Health.Set("nats", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "nats: not reachable") {
		t.Fatalf("/readyz with a hanging check: %d %q", code, body)
	}
	tel.Health.Set("nats", func(context.Context) error { return nil })
	tel.Health.Stopping()
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Fatalf("/readyz stopping: %d %q", code, body)
	}
	if code, _ := get(t, srv, "/healthz"); code != 200 {
		t.Fatalf("/healthz stopping: %d", code)
	}
	got := gather(t, tel)
	if got["govlisten_ready"] != 0 || got["govlisten_dependency_ready{dependency=nats}"] != 1 || got["govlisten_dependency_ready{dependency=clickhouse}"] != 1 {
		t.Fatalf("readiness metrics while stopping: %v %v %v", got["govlisten_ready"], got["govlisten_dependency_ready{dependency=nats}"], got["govlisten_dependency_ready{dependency=clickhouse}"])
	}
}

// gather returns the value of every sample of the registry, keyed
// name{label=value,...} with labels in their registry order.
func gather(t *testing.T, tel *Telemetry) map[string]float64 {
	t.Helper()
	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName() + labelString(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[mf.GetName()+"_count"+labelString(m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+labelString(m.GetLabel())] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.GetName() + "=" + l.GetValue()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Every update lands on the series it names, and values outside the fixed
// sets land on "other" (or the catch-all), never on a new series.
func TestCountersAndBoundedLabels(t *testing.T) {
	tel := New(nil)
	p := tel.Processor()
	p.Received(120)
	p.Inserted(100, 30*time.Millisecond)
	p.InsertFailed(100, 2*time.Second)
	p.DeadLettered("undecodable", "twitter")
	p.DeadLettered("invalid", "youtube")
	p.DeadLettered("invalid", "youtube")
	p.DeadLettered("whatever", "govlisten.mentions.s3cret")
	a := tel.API("twitter")
	a.Call("")
	a.Call("rate_limit")
	a.Call("no-such-class")
	a.RateLimited(1500 * time.Millisecond)
	a.QuotaLeft(449)
	tel.API("mastodon").Call("")
	s := tel.Source("youtube", "dhsc-channel")
	s.Page(10, 8, 2)
	s.Page(5, 5, 0)
	s.Run("ok")
	s.Run("weird")
	tel.WatchQuota("youtube", func(context.Context) (float64, error) { return 9000, nil })

	got := gather(t, tel)
	want := map[string]float64{
		"govlisten_processor_received_total":                                                 120,
		"govlisten_processor_inserted_total":                                                 100,
		"govlisten_processor_insert_errors_total":                                            1,
		"govlisten_processor_batch_rows_count":                                               2,
		"govlisten_processor_batch_rows_sum":                                                 200,
		"govlisten_processor_insert_duration_seconds_count{result=ok}":                       1,
		"govlisten_processor_insert_duration_seconds_count{result=error}":                    1,
		"govlisten_processor_dead_lettered_total{platform=twitter,reason=undecodable}":       1,
		"govlisten_processor_dead_lettered_total{platform=youtube,reason=invalid}":           2,
		"govlisten_processor_dead_lettered_total{platform=other,reason=other}":               1,
		"govlisten_processor_dead_lettered_total{platform=facebook,reason=invalid}":          0,
		"govlisten_api_calls_total{platform=twitter}":                                        3,
		"govlisten_api_calls_total{platform=other}":                                          1,
		"govlisten_api_errors_total{class=rate_limit,platform=twitter}":                      1,
		"govlisten_api_errors_total{class=server,platform=twitter}":                          1,
		"govlisten_api_errors_total{class=auth,platform=twitter}":                            0,
		"govlisten_api_rate_limit_waits_total{platform=twitter}":                             1,
		"govlisten_api_rate_limit_wait_seconds_total{platform=twitter}":                      1.5,
		"govlisten_api_quota_left{platform=twitter,unit=requests}":                           449,
		"govlisten_api_quota_left{platform=youtube,unit=units}":                              9000,
		"govlisten_collector_mentions_collected_total{platform=youtube,source=dhsc-channel}": 15,
		"govlisten_collector_mentions_published_total{platform=youtube,source=dhsc-channel}": 13,
		"govlisten_collector_mentions_duplicate_total{platform=youtube,source=dhsc-channel}": 2,
		"govlisten_collector_runs_total{platform=youtube,result=ok,source=dhsc-channel}":     1,
		"govlisten_collector_runs_total{platform=youtube,result=error,source=dhsc-channel}":  1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got["govlisten_api_quota_left{platform=facebook,unit=percent}"]; ok {
		t.Error("a quota never reported is exported")
	}
	for k := range got {
		if strings.Contains(k, "s3cret") || strings.Contains(k, "mastodon") || strings.Contains(k, "weird") || strings.Contains(k, "no-such-class") {
			t.Errorf("unbounded label value exported: %s", k)
		}
	}
	var builds []string
	for k, v := range got {
		if strings.HasPrefix(k, "govlisten_build_info{go_version=go") && v == 1 {
			builds = append(builds, k)
		}
	}
	if len(builds) != 1 {
		t.Errorf("build_info: %v", builds)
	}
}

// The methods of every metric type do nothing on nil, so instrumented code
// runs unchanged without telemetry.
func TestNilIsOff(t *testing.T) {
	var tel *Telemetry
	tel.Processor().Received(1)
	tel.Processor().Inserted(1, time.Second)
	tel.Processor().InsertFailed(1, time.Second)
	tel.Processor().DeadLettered("invalid", "twitter")
	tel.API("twitter").Call("auth")
	tel.API("twitter").RateLimited(time.Second)
	tel.API("twitter").QuotaLeft(1)
	tel.Source("twitter", "s").Page(1, 1, 1)
	tel.Source("twitter", "s").Run("ok")
	tel.WatchBus(nil, "processor")
	tel.WatchQuota("youtube", nil)
	tel.WatchSources(nil)
	var h *Health
	h.Require("nats")
	h.Set("nats", nil)
	h.Stopping()
}

// /metrics serves the text exposition format with the govlisten metrics.
func TestMetricsEndpoint(t *testing.T) {
	tel := New(nil)
	tel.Processor().Received(7)
	srv := serve(t, tel)
	code, body := get(t, srv, "/metrics")
	if code != 200 || !strings.Contains(body, "\ngovlisten_processor_received_total 7\n") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if code, _ := get(t, srv, "/nothing"); code != 404 {
		t.Fatalf("/nothing: %d", code)
	}
}

// A taken address fails at once, naming it.
func TestServeAddressInUse(t *testing.T) {
	tel := New(nil)
	srv := serve(t, tel)
	if _, err := Serve(srv.Addr(), tel.Handler(), nil); err == nil || !strings.Contains(err.Error(), srv.Addr()) {
		t.Fatalf("second Serve on %s: %v", srv.Addr(), err)
	}
}

// What the processor adds per batch (received, inserted, rows, insert
// time), to set against the ~10,000 mentions of a default batch; and per
// dead letter.
func BenchmarkProcessorBatch(b *testing.B) {
	p := New(nil).Processor()
	for b.Loop() {
		p.Received(10000)
		p.Inserted(10000, 40*time.Millisecond)
	}
}

func BenchmarkDeadLettered(b *testing.B) {
	p := New(nil).Processor()
	for b.Loop() {
		p.DeadLettered("invalid", "youtube")
	}
}
