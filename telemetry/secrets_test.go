package telemetry_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
	"github.com/govlisten/govlisten/telemetry"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// No label value of any metric, and nothing /metrics or /readyz serves or
// the instrumented code logs, contains a configured secret — even when the
// secrets are where a careless label would pick them up: in error answers
// the collectors classify, in the platform token of a message's subject,
// in a DLQ subject, in a DSN. And every label value is one of its bounded
// set.
//
// Real code throughout: the three collectors against their simulators on
// loopback (with server errors, malformed pages, rate limits and a refused
// token), the scheduler and publisher on an in-process JetStream, the
// processor dead-lettering, the ClickHouse client's readiness check.
func TestNoSecretInMetricsOrLogs(t *testing.T) {
	secrets := map[string]string{
		"GOVLISTEN_TWITTER_BEARER_TOKEN":  "twSECRETbearer7f3a9c",
		"GOVLISTEN_YOUTUBE_API_KEY":       "ytSECRETkey51d2e8",
		"GOVLISTEN_FACEBOOK_ACCESS_TOKEN": "fbSECRETtoken0c4b6a",
		"GOVLISTEN_CLICKHOUSE_PASSWORD":   "chSECRETpassword93e1",
	}
	getenv := func(k string) string { return secrets[k] }
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tel := telemetry.New(log)

	tw := twitter.NewSimulator(twitter.SimConfig{Rate: 20, Seed: 3, Token: secrets["GOVLISTEN_TWITTER_BEARER_TOKEN"]})
	yt := youtube.NewSimulator(youtube.SimConfig{Rate: 20, Seed: 4, Token: secrets["GOVLISTEN_YOUTUBE_API_KEY"]})
	fb := facebook.NewSimulator(facebook.SimConfig{Rate: 20, Seed: 5, Token: secrets["GOVLISTEN_FACEBOOK_ACCESS_TOKEN"]})
	twSrv, ytSrv, fbSrv := httptest.NewServer(tw), httptest.NewServer(yt), httptest.NewServer(fb)
	t.Cleanup(twSrv.Close)
	t.Cleanup(ytSrv.Close)
	t.Cleanup(fbSrv.Close)

	cfg := testenv.Config()
	cfg.NATS.URL = testenv.NATS(t)
	cfg.Twitter.BaseURL, cfg.YouTube.BaseURL, cfg.Facebook.BaseURL = twSrv.URL, ytSrv.URL+"/", fbSrv.URL
	cfg.YouTube.ReplyLookback = config.Duration(time.Minute)
	ytSrc := youtube.SimSources()[0]
	ytSrc.Name = "yt-channel"
	cfg.Sources = []config.Source{
		{Name: "x-search", Platform: "twitter", Kind: "search", Query: "DWP OR HMRC"},
		ytSrc,
		{Name: "fb-page", Platform: "facebook", Kind: "page_posts", PageID: "100000000000001"},
	}
	cfg.ClickHouse.DSN = "clickhouse://govlisten@127.0.0.1:1/govlisten" // nothing listens there
	conn := testenv.Bus(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Dead letters first, while MENTIONS holds nothing to insert: one on
	// a subject whose platform token is not a platform, one in a DLQ
	// subject that is not a reason. The publisher chose those subjects, so
	// logs may show them; labels must not.
	const planted = "plantedSUBJECTtoken4d7e"
	for _, subject := range []string{"govlisten.mentions.twitter.post", "govlisten.mentions." + planted + ".post"} {
		if _, err := conn.JS.Publish(ctx, subject, []byte("not json")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.JS.Publish(ctx, bus.DLQPrefix+planted, []byte("x")); err != nil {
		t.Fatal(err)
	}
	tax, err := processors.LoadTaxonomy("", processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	p := processors.New(conn, nil, tax, cfg, log) // nothing to insert: every message is bad
	p.Metrics = tel.Processor()
	if err := p.Run(ctx, true); err != nil {
		t.Fatal(err)
	}
	if p.Stats.DeadLettered.Load() != 2 {
		t.Fatalf("%d dead-lettered, want 2", p.Stats.DeadLettered.Load())
	}
	tel.WatchBus(conn.JS, cfg.NATS.Consumer.Name)

	// Readiness with ClickHouse unreachable and its password set.
	store, err := sink.Open(ctx, cfg, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tel.Health.Set("nats", telemetry.NATSReady(conn.NC))
	tel.Health.Set("clickhouse", store.Ping)

	// The collectors, through faults of every class.
	fast := func(p string) collectors.RetryPolicy {
		return collectors.RetryPolicy{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond, Metrics: tel.API(p)}
	}
	tc, err := twitter.New(cfg, getenv, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	tc.Retry = fast("twitter")
	yc, err := youtube.New(cfg, getenv, nil, &collectors.DailyBudget{Units: 1_000_000, Location: collectors.Pacific}, log)
	if err != nil {
		t.Fatal(err)
	}
	yc.Retry = fast("youtube")
	fc, err := facebook.New(cfg, getenv, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	fc.Policy = fast("facebook")
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, map[string]collectors.Collector{"twitter": tc, "youtube": yc, "facebook": fc}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	sched.Instrument(tel)
	tw.Inject(twitter.Fault{Kind: twitter.FaultServerError})
	tw.Inject(twitter.Fault{Kind: twitter.FaultMalformed})
	tw.Inject(twitter.Fault{Kind: twitter.FaultRateLimit, Wait: time.Second})
	yt.Inject(youtube.Fault{Kind: youtube.FaultServerError})
	yt.Inject(youtube.Fault{Kind: youtube.FaultMalformed})
	yt.Inject(youtube.Fault{Kind: youtube.FaultRateLimit403, Wait: time.Second})
	fb.Inject(facebook.Fault{Kind: facebook.FaultServerError})
	fb.Inject(facebook.Fault{Kind: facebook.FaultMalformed})
	fb.Inject(facebook.Fault{Kind: facebook.FaultRateLimit, Wait: 200 * time.Millisecond})
	if _, err := sched.RunOnce(ctx, collectors.Options{}); err != nil {
		t.Fatal(err)
	}
	// Then every token refused: each run fails with an auth error.
	tw.Inject(twitter.Fault{Kind: twitter.FaultTokenExpired})
	yt.Inject(youtube.Fault{Kind: youtube.FaultTokenExpired})
	fb.Inject(facebook.Fault{Kind: facebook.FaultTokenExpired})
	if _, err := sched.RunOnce(ctx, collectors.Options{}); err == nil {
		t.Fatal("runs with refused tokens did not fail")
	}

	srv, err := telemetry.Serve("127.0.0.1:0", tel.Handler(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bodies := map[string]string{}
	for _, path := range []string{"/metrics", "/readyz"} {
		resp, err := http.Get("http://" + srv.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies[path] = string(b)
	}
	if !strings.Contains(bodies["/readyz"], "clickhouse: not reachable") {
		t.Fatalf("/readyz with ClickHouse down:\n%s", bodies["/readyz"])
	}

	// The paths above were taken.
	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			values[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for _, want := range []string{
		"govlisten_processor_dead_lettered_total,platform=twitter,reason=undecodable",
		"govlisten_processor_dead_lettered_total,platform=other,reason=undecodable",
		"govlisten_dlq_messages,reason=other",
		"govlisten_api_errors_total,class=server,platform=twitter",
		"govlisten_api_errors_total,class=malformed,platform=twitter",
		"govlisten_api_errors_total,class=rate_limit,platform=twitter",
		"govlisten_api_errors_total,class=auth,platform=twitter",
		"govlisten_api_errors_total,class=server,platform=youtube",
		"govlisten_api_errors_total,class=malformed,platform=youtube",
		"govlisten_api_errors_total,class=rate_limit,platform=youtube",
		"govlisten_api_errors_total,class=auth,platform=youtube",
		"govlisten_api_errors_total,class=server,platform=facebook",
		"govlisten_api_errors_total,class=malformed,platform=facebook",
		"govlisten_api_errors_total,class=rate_limit,platform=facebook",
		"govlisten_api_errors_total,class=auth,platform=facebook",
		"govlisten_api_rate_limit_waits_total,platform=twitter",
		"govlisten_collector_runs_total,platform=youtube,result=error,source=yt-channel",
		"govlisten_collector_mentions_published_total,platform=facebook,source=fb-page",
		"govlisten_source_last_error_timestamp_seconds,platform=twitter,source=x-search",
	} {
		if values[want] < 1 {
			t.Errorf("%s = %v: the path meant to produce it was not taken", want, values[want])
		}
	}

	// Every label value is from its bounded set.
	allowed := map[string][]string{
		"platform":   append(slices.Clone(telemetry.Platforms), telemetry.Other),
		"reason":     append(slices.Clone(telemetry.Reasons), telemetry.Other),
		"class":      telemetry.ErrorClasses,
		"result":     append(slices.Clone(telemetry.Results), "ok", "error"),
		"source":     {"x-search", "yt-channel", "fb-page"},
		"consumer":   {cfg.NATS.Consumer.Name},
		"stream":     {bus.StreamMentions, bus.StreamDLQ},
		"unit":       {"requests", "units", "percent"},
		"version":    nil, // build_info: checked for secrets only
		"revision":   nil,
		"go_version": nil,
		"le":         nil, // histogram bounds
		"cause":      nil, // promhttp's own: encoding, gathering
		"dependency": {"nats", "clickhouse"},
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				set, known := allowed[l.GetName()]
				if !known {
					t.Errorf("%s: label %s is not in the test's list of bounded labels", mf.GetName(), l.GetName())
				} else if set != nil && !slices.Contains(set, l.GetValue()) {
					t.Errorf("%s: label %s=%q is outside its bounded set", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if strings.Contains(bodies["/metrics"], planted) {
		t.Error("/metrics holds a subject's token")
	}
	// config show of this run's configuration, with passwords also put
	// where a careless operator would: in the NATS URL and the DSN.
	shown := *cfg
	shown.NATS.URL = strings.Replace(cfg.NATS.URL, "nats://", "nats://govlisten:"+secrets["GOVLISTEN_CLICKHOUSE_PASSWORD"]+"@", 1)
	shown.ClickHouse.DSN = "clickhouse://govlisten:" + secrets["GOVLISTEN_CLICKHOUSE_PASSWORD"] + "@127.0.0.1:1/govlisten?password=" + secrets["GOVLISTEN_CLICKHOUSE_PASSWORD"]
	for name, secret := range secrets {
		for what, text := range map[string]string{"/metrics": bodies["/metrics"], "/readyz": bodies["/readyz"], "the logs": logs.String(), "config show": shown.Show()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the secret of %s", what, name)
			}
		}
	}
}
