package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/internal/testenv"
)

// servingAddr waits for the child's "serving HTTP" log line and returns
// the address it listens on (the children are started with port 0, so no
// port is guessed and none can be taken by someone else first).
func servingAddr(t *testing.T, p *proc, logs *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(logs.String(), "\n") {
			var s struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &s) == nil && s.Msg == "serving HTTP" {
				return s.Addr
			}
		}
		select {
		case <-p.done:
			t.Fatalf("exited before serving HTTP: %v\n%s", p.err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no HTTP server within a minute:\n%s", logs.String())
	return ""
}

// httpGet returns the status and body of GET http://addr/path.
func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads /metrics (Prometheus text format) into a map from
// name{label="value",...}, labels sorted, to value.
func scrape(t *testing.T, addr string) metrics {
	t.Helper()
	code, body := httpGet(t, addr, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	out := metrics{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		name, labels, _ := strings.Cut(line[:i], "{")
		if labels != "" {
			parts := strings.Split(strings.TrimSuffix(labels, "}"), ",")
			sort.Strings(parts)
			name += "{" + strings.Join(parts, ",") + "}"
		}
		out[name] = v
	}
	return out
}

// metrics is one scrape.
type metrics map[string]float64

// sum adds the samples of name whose labels include every one given
// (as label="value").
func (m metrics) sum(name string, labels ...string) float64 {
	total := 0.0
	for k, v := range m {
		n, ls, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(","+strings.TrimSuffix(ls, "}")+",", ","+l+",") {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// `process --http-addr`: the counters on /metrics match what was actually
// processed, during the run and after it; /healthz and /readyz answer, and
// /readyz says 503, naming ClickHouse, once ClickHouse is stopped.
func TestProcessMetricsAndReadiness(t *testing.T) {
	ch, _ := testenv.ClickHouseServer(t) // private: this test stops it
	e := newEnv(t, ch)
	// Counters count deliveries: a message redelivered after ack_wait (a
	// slow, loaded CI machine) would be received and inserted twice. The
	// test wants exact counts, so nothing may be redelivered.
	e.vars = append(e.vars, "GOVLISTEN_NATS_CONSUMER_ACK_WAIT=10m")
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)

	p, logs := e.start("process", "--http-addr", "127.0.0.1:0", "--batch-size", "1000")
	addr := servingAddr(t, p, logs)
	if code, body := httpGet(t, addr, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	waitReady(t, addr, 200, "clickhouse: ok")

	const n = 20_000
	e.importSynth(31, n)
	noID := `{"v":1,"platform":"facebook","kind":"post","text":"no id","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`
	bad := []struct{ subject, data string }{
		{"govlisten.mentions.twitter.post", "not json"},
		{"govlisten.mentions.twitter.reply", `{"v":1,"platform":"twitter","id":"1","kind":"po`},
		{"govlisten.mentions.youtube.comment", "\x00\xff"},
		{"govlisten.mentions.facebook.post", noID},
		{"govlisten.mentions.facebook.comment", noID},
	}
	for _, b := range bad {
		if _, err := conn.JS.Publish(context.Background(), b.subject, []byte(b.data)); err != nil {
			t.Fatal(err)
		}
	}

	// During the run: counters only grow, and never claim more stored than
	// received.
	var last metrics
	deadline := time.Now().Add(3 * time.Minute)
	for {
		m := scrape(t, addr)
		for _, name := range []string{"govlisten_processor_received_total", "govlisten_processor_inserted_total"} {
			if last != nil && m[name] < last[name] {
				t.Fatalf("%s went down from %v to %v", name, last[name], m[name])
			}
		}
		if m["govlisten_processor_inserted_total"] > m["govlisten_processor_received_total"] {
			t.Fatalf("inserted %v > received %v", m["govlisten_processor_inserted_total"], m["govlisten_processor_received_total"])
		}
		last = m
		if m["govlisten_processor_inserted_total"] >= n && m.sum("govlisten_processor_dead_lettered_total") >= float64(len(bad)) &&
			m[`govlisten_consumer_pending_messages{consumer="processor"}`] == 0 && m[`govlisten_consumer_ack_pending_messages{consumer="processor"}`] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the processor did not finish within 3 minutes; last scrape: inserted %v, received %v\n%s",
				m["govlisten_processor_inserted_total"], m["govlisten_processor_received_total"], tail(logs.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// After: exactly what was processed.
	m := scrape(t, addr)
	stored := e.count(finalCount)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"govlisten_processor_received_total", n + float64(len(bad))},
		{"govlisten_processor_inserted_total", n},
		{`govlisten_processor_dead_lettered_total{platform="twitter",reason="undecodable"}`, 2},
		{`govlisten_processor_dead_lettered_total{platform="youtube",reason="undecodable"}`, 1},
		{`govlisten_processor_dead_lettered_total{platform="facebook",reason="invalid"}`, 2},
		{`govlisten_processor_dead_lettered_total{platform="twitter",reason="invalid"}`, 0},
		{"govlisten_processor_insert_errors_total", 0},
		{"govlisten_ready", 1},
		{`govlisten_dependency_ready{dependency="clickhouse"}`, 1},
		{"govlisten_processor_batch_rows_sum", n},
		{`govlisten_consumer_pending_messages{consumer="processor"}`, 0},
		{`govlisten_consumer_ack_pending_messages{consumer="processor"}`, 0},
		{`govlisten_stream_messages{stream="MENTIONS"}`, 0},
		{`govlisten_stream_messages{stream="DLQ"}`, float64(len(bad))},
		{`govlisten_dlq_messages{reason="undecodable"}`, 3},
		{`govlisten_dlq_messages{reason="invalid"}`, 2},
		{"stored in ClickHouse (FINAL)", float64(stored)},
	} {
		got, ok := m[c.name]
		if c.name == "stored in ClickHouse (FINAL)" {
			got, ok, c.want = c.want, true, n
		}
		if !ok || got != c.want {
			t.Errorf("%s = %v (present: %v), want %v", c.name, got, ok, c.want)
		}
	}
	if m["govlisten_processor_batch_rows_count"] < 1 || m[`govlisten_processor_insert_duration_seconds_count{result="ok"}`] != m["govlisten_processor_batch_rows_count"] {
		t.Errorf("batch histogram count %v, insert duration count %v", m["govlisten_processor_batch_rows_count"], m[`govlisten_processor_insert_duration_seconds_count{result="ok"}`])
	}
	if m.sum("govlisten_build_info") != 1 {
		t.Errorf("build_info: %v", m.sum("govlisten_build_info"))
	}

	t.Logf("received %v, inserted %v in %v batches, dead-lettered %v", m["govlisten_processor_received_total"],
		m["govlisten_processor_inserted_total"], m["govlisten_processor_batch_rows_count"], m.sum("govlisten_processor_dead_lettered_total"))

	// The DLQ log lines name the message.
	dl := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		var s struct {
			Msg, Subject, Platform, Reason string
			Seq                            uint64 `json:"stream_seq"`
		}
		if json.Unmarshal([]byte(l), &s) == nil && s.Msg == "dead-lettered" {
			if s.Subject == "" || s.Platform == "" || s.Reason == "" || s.Seq == 0 {
				t.Errorf("dead-letter log line without subject, platform, reason or sequence: %s", l)
			}
			dl++
		}
	}
	if dl != len(bad) {
		t.Errorf("%d dead-letter log lines, want %d", dl, len(bad))
	}

	// ClickHouse stops: not ready, saying which; still alive.
	ch.Stop()
	waitReady(t, addr, 503, "clickhouse: not reachable")
	if _, body := httpGet(t, addr, "/readyz"); !strings.Contains(body, "nats: ok") {
		t.Errorf("/readyz with ClickHouse down: %q", body)
	}
	if code, _ := httpGet(t, addr, "/healthz"); code != 200 {
		t.Errorf("/healthz with ClickHouse down: %d", code)
	}
	if m := scrape(t, addr); m["govlisten_ready"] != 0 || m[`govlisten_dependency_ready{dependency="clickhouse"}`] != 0 || m[`govlisten_dependency_ready{dependency="nats"}`] != 1 {
		t.Errorf("readiness metrics with ClickHouse down: ready %v, clickhouse %v, nats %v", m["govlisten_ready"],
			m[`govlisten_dependency_ready{dependency="clickhouse"}`], m[`govlisten_dependency_ready{dependency="nats"}`])
	}
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("process did not stop cleanly: %v\n%s", err, tail(logs.String(), 2000))
	}
}

// waitReady polls /readyz until it answers code with a body containing
// want.
func waitReady(t *testing.T, addr string, code int, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, body := httpGet(t, addr, "/readyz")
		if got == code && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered %d with %q; last: %d %q", code, want, got, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countingServer serves h on loopback and counts the API requests it
// answers (not the simulators' /_sim/ endpoints).
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sim/") {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// `collect --http-addr`: against the simulators, with a server error, a
// rate limit and a malformed page injected, the API counters on /metrics
// equal the requests the simulators answered, and the published counters
// equal what is on the stream and in each source's last run.
func TestCollectMetrics(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)
	tw := twitter.NewSimulator(twitter.SimConfig{Rate: 50, Seed: 11})
	yt := youtube.NewSimulator(youtube.SimConfig{Rate: 50, Seed: 12})
	fb := facebook.NewSimulator(facebook.SimConfig{Rate: 50, Seed: 13})
	twSrv, twCalls := countingServer(t, tw)
	ytSrv, ytCalls := countingServer(t, yt)
	fbSrv, fbCalls := countingServer(t, fb)
	tw.Inject(twitter.Fault{Kind: twitter.FaultServerError})
	tw.Inject(twitter.Fault{Kind: twitter.FaultRateLimit, Wait: time.Second})
	yt.Inject(youtube.Fault{Kind: youtube.FaultServerError})
	fb.Inject(facebook.Fault{Kind: facebook.FaultMalformed})
	e.vars = append(e.vars, "GOVLISTEN_TWITTER_BASE_URL="+twSrv.URL, "GOVLISTEN_YOUTUBE_BASE_URL="+ytSrv.URL+"/", "GOVLISTEN_FACEBOOK_BASE_URL="+fbSrv.URL)
	cfgPath := e.writeSourcesConfig("1h") // one run each, then quiet

	p, logs := e.start("collect", "--config", cfgPath, "--http-addr", "127.0.0.1:0")
	addr := servingAddr(t, p, logs)
	var m metrics
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m = scrape(t, addr)
		if m.sum("govlisten_collector_runs_total") == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("4 runs did not finish within 2 minutes (%v):\n%s", m.sum("govlisten_collector_runs_total"), tail(logs.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitReady(t, addr, 200, "nats: ok")

	for platform, calls := range map[string]*atomic.Int64{"twitter": twCalls, "youtube": ytCalls, "facebook": fbCalls} {
		if got, want := m[fmt.Sprintf(`govlisten_api_calls_total{platform=%q}`, platform)], float64(calls.Load()); got != want || want == 0 {
			t.Errorf("%s: api_calls_total %v, the simulator answered %v requests", platform, got, want)
		}
	}
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`govlisten_api_errors_total{class="server",platform="twitter"}`, 1},
		{`govlisten_api_errors_total{class="rate_limit",platform="twitter"}`, 1},
		{`govlisten_api_errors_total{class="server",platform="youtube"}`, 1},
		{`govlisten_api_errors_total{class="malformed",platform="facebook"}`, 1},
		{`govlisten_api_errors_total{class="auth",platform="twitter"}`, 0},
	} {
		if got := m[c.series]; got != c.want {
			t.Errorf("%s = %v, want %v", c.series, got, c.want)
		}
	}
	if m.sum("govlisten_api_errors_total") != 4 {
		t.Errorf("%v API errors in all, want the 4 injected", m.sum("govlisten_api_errors_total"))
	}
	if m[`govlisten_api_rate_limit_waits_total{platform="twitter"}`] < 1 || m[`govlisten_api_rate_limit_wait_seconds_total{platform="twitter"}`] < 1 {
		t.Errorf("twitter rate-limit waits %v, %v s", m[`govlisten_api_rate_limit_waits_total{platform="twitter"}`], m[`govlisten_api_rate_limit_wait_seconds_total{platform="twitter"}`])
	}
	if _, ok := m[`govlisten_api_quota_left{platform="youtube",unit="units"}`]; !ok {
		t.Error("no YouTube quota left")
	}

	// Published: the stream holds exactly what was published (nothing
	// consumes it here), and each source's counters match its last run.
	stream, err := conn.JS.Stream(context.Background(), bus.StreamMentions)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.sum("govlisten_collector_mentions_published_total"), float64(stream.CachedInfo().State.Msgs); got != want || want == 0 {
		t.Errorf("published_total %v, stream MENTIONS holds %v", got, want)
	}
	states, err := collectors.ReadSourceStates(context.Background(), conn.JS, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 4 {
		t.Fatalf("%d source states, want 4", len(states))
	}
	for _, st := range states {
		if st.Status == nil {
			t.Fatalf("%s has no status", st.Source)
		}
		src := fmt.Sprintf(`source=%q`, st.Source)
		for name, want := range map[string]float64{
			"govlisten_collector_mentions_published_total": float64(st.Status.Published),
			"govlisten_collector_mentions_duplicate_total": float64(st.Status.Duplicates),
			"govlisten_collector_mentions_collected_total": float64(st.Status.Fetched),
		} {
			if got := m.sum(name, src); got != want {
				t.Errorf("%s{%s} = %v, the run says %v", name, src, got, want)
			}
		}
		if got := m.sum("govlisten_collector_runs_total", src, `result="ok"`); got != 1 {
			t.Errorf("%s: %v ok runs", st.Source, got)
		}
		if got := m.sum("govlisten_source_last_success_timestamp_seconds", src); got != float64(st.Status.LastSuccess.UnixNano())/1e9 {
			t.Errorf("%s: last success %v, status says %v", st.Source, got, st.Status.LastSuccess)
		}
		if _, ok := m[fmt.Sprintf(`govlisten_source_checkpoint_age_seconds{platform=%q,%s}`, st.Platform, src)]; !ok && !st.Checkpoint.Time(st.Platform).IsZero() {
			t.Errorf("%s: no checkpoint age", st.Source)
		}
	}
	t.Logf("API calls: twitter %d, youtube %d, facebook %d; published %v; rate-limit waits %v (%.1fs)",
		twCalls.Load(), ytCalls.Load(), fbCalls.Load(), m.sum("govlisten_collector_mentions_published_total"),
		m.sum("govlisten_api_rate_limit_waits_total"), m.sum("govlisten_api_rate_limit_wait_seconds_total"))
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("collect did not stop cleanly: %v", err)
	}
}

// A taken --http-addr fails the command at start, naming the address.
// The first processor serves HTTP while it waits for a NATS that is not
// there, which is also how /healthz answers before the dependencies do.
func TestHTTPAddrInUse(t *testing.T) {
	e := &env{t: t, vars: append(os.Environ(), "GOVLISTEN_NATS_URL=nats://127.0.0.1:1", "GOVLISTEN_LOG_FORMAT=json")}
	p, logs := e.start("process", "--http-addr", "127.0.0.1:0")
	addr := servingAddr(t, p, logs)
	if code, _ := httpGet(t, addr, "/healthz"); code != 200 {
		t.Fatalf("/healthz while waiting for NATS: %d", code)
	}
	if code, body := httpGet(t, addr, "/readyz"); code != 503 || !strings.Contains(body, "nats: not connected yet") {
		t.Fatalf("/readyz while waiting for NATS: %d %q", code, body)
	}
	_, stderr, code := e.run(nil, "process", "--http-addr", addr)
	if code == 0 || !strings.Contains(stderr, addr) {
		t.Fatalf("second process on %s exited %d: %s", addr, code, stderr)
	}
}
